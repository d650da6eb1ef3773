// Parallel coordinates in SVG: one vertical axis per chosen param or metric, one polyline per run.
// Numeric axes are linear, others evenly spaced categories; lines are colored by run or by a metric.
import { useMemo, useRef, useState } from "react";
import { type Dimension, dimensionLabel, dimensionValue } from "../../api/compare";
import { formatNumber } from "../../format";
import type { Compared } from "./compared";
import { type Scale, buildScale, rampColor } from "./scale";
import { useWidth } from "./useWidth";

const HEIGHT = 380;
const MARGIN = { top: 44, bottom: 24, left: 70, right: 90 };

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, Math.max(1, max - 1))}…` : text;
}

export function ParallelCoordinates({
  compared,
  dims,
  colorBy,
}: {
  compared: Compared;
  dims: Dimension[];
  /** undefined: each run its own color; else a metric dimension whose value picks the color. */
  colorBy?: Dimension;
}) {
  const box = useRef<HTMLDivElement>(null);
  const width = useWidth(box);
  const [hovered, setHovered] = useState<{ index: number; x: number; y: number } | null>(null);
  const { runs, values, labels } = compared;

  const scales = useMemo<Scale[]>(
    () => dims.map((dim) => buildScale(runs.map((_r, i) => dimensionValue(values, dim, i)))),
    [dims, runs, values],
  );

  const colorScale = useMemo(
    () => (colorBy ? buildScale(runs.map((_r, i) => dimensionValue(values, colorBy, i))) : undefined),
    [colorBy, runs, values],
  );
  const colors = runs.map((_r, i) => {
    if (!colorScale || !colorBy) return compared.colors[i];
    const t = colorScale.position(dimensionValue(values, colorBy, i));
    return t === undefined ? "var(--fg-soft)" : rampColor(t);
  });

  const plotWidth = Math.max(100, width - MARGIN.left - MARGIN.right);
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const axisX = (d: number) => MARGIN.left + (dims.length === 1 ? plotWidth / 2 : (d * plotWidth) / (dims.length - 1));
  const axisY = (t: number) => MARGIN.top + (1 - t) * plotHeight;
  const spacing = dims.length > 1 ? plotWidth / (dims.length - 1) : plotWidth;
  const labelChars = Math.max(4, Math.floor(spacing / 7));

  const paths = runs.map((_r, i) => {
    let d = "";
    let pen = false;
    dims.forEach((dim, k) => {
      const t = scales[k].position(dimensionValue(values, dim, i));
      if (t === undefined) {
        pen = false;
        return;
      }
      d += `${pen ? "L" : "M"}${axisX(k).toFixed(1)},${axisY(t).toFixed(1)}`;
      pen = true;
    });
    return d;
  });

  const hoveredIndex = hovered?.index;
  return (
    <div className="pc-box" ref={box} data-testid="parallel-coordinates">
      {dims.length === 0 ? (
        <div className="empty">Choose params or metrics as axes.</div>
      ) : (
        <svg
          width={width}
          height={HEIGHT}
          className={`pc-svg${hoveredIndex !== undefined ? " has-hover" : ""}`}
          role="img"
          aria-label="Parallel coordinates of the runs"
        >
          {paths.map((d, i) => (
            <path
              key={runs[i].info.run_id}
              d={d}
              stroke={colors[i]}
              className={`pc-line${hoveredIndex === i ? " hover" : ""}`}
              data-testid="pc-line"
              data-run-id={runs[i].info.run_id}
            />
          ))}
          {dims.map((dim, k) => (
            <g key={dim.id} className="pc-axis" data-testid="pc-axis" data-dim={dim.id}>
              <line x1={axisX(k)} x2={axisX(k)} y1={axisY(0)} y2={axisY(1)} />
              <text x={axisX(k)} y={MARGIN.top - 24} textAnchor="middle" className="pc-axis-title">
                <title>{dimensionLabel(dim)}</title>
                {truncate(dim.key, labelChars)}
              </text>
              <text x={axisX(k)} y={MARGIN.top - 10} textAnchor="middle" className="pc-axis-kind">
                {dim.kind}
              </text>
              {scales[k].ticks.map((tick) => (
                <g key={`${tick.label}-${tick.at}`}>
                  <line x1={axisX(k) - 4} x2={axisX(k)} y1={axisY(tick.at)} y2={axisY(tick.at)} />
                  <text x={axisX(k) - 7} y={axisY(tick.at) + 4} textAnchor="end" className="pc-tick">
                    <title>{tick.label}</title>
                    {truncate(tick.label, 12)}
                  </text>
                </g>
              ))}
            </g>
          ))}
          {/* Wide transparent copies of the lines on top catch the pointer. */}
          {paths.map((d, i) => (
            <path
              key={`hit-${runs[i].info.run_id}`}
              d={d}
              className="pc-hit"
              onMouseMove={(e) => {
                const rect = box.current?.getBoundingClientRect();
                if (rect) setHovered({ index: i, x: e.clientX - rect.left, y: e.clientY - rect.top });
              }}
              onMouseLeave={() => setHovered(null)}
              data-testid="pc-hit"
            />
          ))}
        </svg>
      )}
      {hovered && runs[hovered.index] && (
        <div
          className="chart-tooltip"
          style={
            hovered.x > width * 0.6
              ? { right: width - hovered.x + 12, top: hovered.y + 12 }
              : { left: hovered.x + 12, top: hovered.y + 12 }
          }
          data-testid="pc-tooltip"
        >
          <strong>{labels[hovered.index]}</strong>
          {dims.map((dim) => {
            const value = dimensionValue(values, dim, hovered.index);
            return (
              <div key={dim.id} className="muted">
                {dimensionLabel(dim)}: {value === undefined ? "—" : typeof value === "number" ? formatNumber(value) : value}
              </div>
            );
          })}
        </div>
      )}
      {colorBy && colorScale && (
        <div className="pc-legend">
          <span>{colorBy.key}:</span>
          <span>{colorScale.extent[0]}</span>
          <span className="pc-ramp" />
          <span>{colorScale.extent[1]}</span>
        </div>
      )}
    </div>
  );
}
