// A scatter plot in SVG of two chosen dimensions (numeric params, metrics' latest values): a point per run.
import { useMemo, useRef, useState } from "react";
import { useNavigate } from "react-router-dom";
import { type Dimension, dimensionLabel, dimensionValue } from "../../api/compare";
import { formatNumber } from "../../format";
import type { Compared } from "./compared";
import { buildScale } from "./scale";
import { useWidth } from "./useWidth";

const HEIGHT = 380;
const MARGIN = { top: 16, bottom: 48, left: 72, right: 24 };
/** Above this many runs, points carry no text label (the tooltip still names them). */
const MAX_LABELS = 20;

function show(value: string | number | undefined): string {
  if (value === undefined) return "—";
  return typeof value === "number" ? formatNumber(value) : value;
}

export function ScatterPlot({ compared, x, y }: { compared: Compared; x?: Dimension; y?: Dimension }) {
  const box = useRef<HTMLDivElement>(null);
  const width = useWidth(box);
  const navigate = useNavigate();
  const [hovered, setHovered] = useState<number | null>(null);
  const { runs, values, labels, colors } = compared;

  const xScale = useMemo(
    () => (x ? buildScale(runs.map((_r, i) => dimensionValue(values, x, i))) : undefined),
    [x, runs, values],
  );
  const yScale = useMemo(
    () => (y ? buildScale(runs.map((_r, i) => dimensionValue(values, y, i))) : undefined),
    [y, runs, values],
  );
  if (!x || !y || !xScale || !yScale) {
    return (
      <div className="scatter-box" ref={box} data-testid="scatter">
        <div className="empty">Choose a value for each axis.</div>
      </div>
    );
  }

  const plotWidth = Math.max(100, width - MARGIN.left - MARGIN.right);
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  // Inset the data a little so points on the extremes are not cut by the frame.
  const px = (t: number) => MARGIN.left + 10 + t * (plotWidth - 20);
  const py = (t: number) => MARGIN.top + 10 + (1 - t) * (plotHeight - 20);

  const points = runs.map((run, i) => {
    const tx = xScale.position(dimensionValue(values, x, i));
    const ty = yScale.position(dimensionValue(values, y, i));
    return tx === undefined || ty === undefined ? undefined : { i, run, cx: px(tx), cy: py(ty) };
  });
  const drawn = points.filter((p) => p !== undefined);
  const lacking = runs.length - drawn.length;
  const hover = hovered !== null ? points[hovered] : undefined;

  return (
    <div className="scatter-box" ref={box} data-testid="scatter">
      <svg width={width} height={HEIGHT} className="scatter-svg" role="img" aria-label="Scatter plot of the runs">
        <rect
          x={MARGIN.left}
          y={MARGIN.top}
          width={plotWidth}
          height={plotHeight}
          className="scatter-frame"
        />
        {xScale.ticks.map((tick) => (
          <g key={`x-${tick.label}-${tick.at}`} className="scatter-tick">
            <line x1={px(tick.at)} x2={px(tick.at)} y1={MARGIN.top} y2={MARGIN.top + plotHeight} />
            <text x={px(tick.at)} y={MARGIN.top + plotHeight + 16} textAnchor="middle">
              {tick.label.length > 14 ? `${tick.label.slice(0, 13)}…` : tick.label}
            </text>
          </g>
        ))}
        {yScale.ticks.map((tick) => (
          <g key={`y-${tick.label}-${tick.at}`} className="scatter-tick">
            <line x1={MARGIN.left} x2={MARGIN.left + plotWidth} y1={py(tick.at)} y2={py(tick.at)} />
            <text x={MARGIN.left - 6} y={py(tick.at) + 4} textAnchor="end">
              {tick.label.length > 10 ? `${tick.label.slice(0, 9)}…` : tick.label}
            </text>
          </g>
        ))}
        <text
          x={MARGIN.left + plotWidth / 2}
          y={HEIGHT - 8}
          textAnchor="middle"
          className="scatter-axis-title"
          data-testid="scatter-x-title"
        >
          {dimensionLabel(x)}
        </text>
        <text
          transform={`translate(14 ${MARGIN.top + plotHeight / 2}) rotate(-90)`}
          textAnchor="middle"
          className="scatter-axis-title"
          data-testid="scatter-y-title"
        >
          {dimensionLabel(y)}
        </text>
        {drawn.map((p) => (
          <g key={p.run.info.run_id}>
            <circle
              cx={p.cx}
              cy={p.cy}
              r={hovered === p.i ? 8 : 6}
              fill={colors[p.i]}
              className="scatter-point"
              data-testid="scatter-point"
              data-run-id={p.run.info.run_id}
              onMouseEnter={() => setHovered(p.i)}
              onMouseLeave={() => setHovered(null)}
              onClick={() => navigate(`/runs/${p.run.info.run_id}`)}
            >
              <title>{labels[p.i]}</title>
            </circle>
            {drawn.length <= MAX_LABELS && (
              <text
                x={p.cx > width * 0.75 ? p.cx - 9 : p.cx + 9}
                y={p.cy - 7}
                textAnchor={p.cx > width * 0.75 ? "end" : "start"}
                className="scatter-label"
              >
                {labels[p.i]}
              </text>
            )}
          </g>
        ))}
      </svg>
      {hover && (
        <div
          className="chart-tooltip"
          style={
            hover.cx > width * 0.6
              ? { right: width - hover.cx + 14, top: hover.cy + 14 }
              : { left: hover.cx + 14, top: hover.cy + 14 }
          }
          data-testid="scatter-tooltip"
        >
          <strong>{labels[hover.i]}</strong>
          <div className="muted">
            {dimensionLabel(x)}: {show(dimensionValue(values, x, hover.i))}
          </div>
          <div className="muted">
            {dimensionLabel(y)}: {show(dimensionValue(values, y, hover.i))}
          </div>
        </div>
      )}
      {lacking > 0 && (
        <div className="muted" data-testid="scatter-lacking">
          {lacking} run{lacking === 1 ? "" : "s"} without a value for one of the axes not drawn.
        </div>
      )}
    </div>
  );
}
