// One metric of one or several runs, overlaid: downsampled by the server for the visible step range,
// zoom by dragging over x (fetches detail), double-click to reset, optional smoothing and live refresh.
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import type uPlot from "uplot";
import { chartPoints, getMetricSeries } from "../../api/metrics";
import { formatNumber, seriesColor } from "../../format";
import { useApi } from "../../hooks/useApi";
import { cssVar } from "../../hooks/useTheme";
import { ErrorBox, Loading } from "../Status";
import { UPlotChart } from "../UPlotChart";
import { type ChartColumns, type XAxis, buildColumns, stepRange } from "./series";
import { useThemeName } from "./useThemeName";
import "./chart.css";

export type { XAxis } from "./series";

export interface ChartRun {
  runId: string;
  label: string;
  color?: string;
}

export interface MetricChartProps {
  metricKey: string;
  runs: ChartRun[];
  xAxis?: XAxis;
  logY?: boolean;
  /** Exponential moving average weight, 0 (off) to 0.99. */
  smoothing?: number;
  /** Re-fetch every 1.5 s (for running runs). */
  live?: boolean;
  height?: number;
  testId?: string;
}

const LIVE_MS = 1500;

/** "1 h 2 min", "3.5 s": the relative-time axis's labels (seconds since the run's first point). */
function formatSeconds(seconds: number): string {
  const s = Math.abs(seconds);
  const sign = seconds < 0 ? "-" : "";
  if (s < 60) return `${sign}${Number(s.toPrecision(3))} s`;
  if (s < 3600) return `${sign}${Number((s / 60).toPrecision(3))} min`;
  return `${sign}${Number((s / 3600).toPrecision(3))} h`;
}

export function MetricChart({
  metricKey,
  runs,
  xAxis = "step",
  logY = false,
  smoothing = 0,
  live = false,
  height = 240,
  testId,
}: MetricChartProps) {
  const theme = useThemeName();
  const runIds = useMemo(() => runs.map((r) => r.runId), [runs]);
  const runKey = runIds.join(",");
  const [range, setRange] = useState<[number, number] | null>(null);
  useEffect(() => setRange(null), [runKey, metricKey]);

  const points = chartPoints(runIds.length);
  const series = useApi(
    (signal) =>
      runIds.length
        ? getMetricSeries(
            { runIds, key: metricKey, points, startStep: range?.[0], endStep: range?.[1] },
            signal,
          )
        : Promise.resolve([]),
    [runKey, metricKey, points, range?.[0], range?.[1]],
    live ? LIVE_MS : undefined,
  );

  const smooth = Math.max(0, Math.min(0.99, smoothing || 0));
  const columns = useMemo<ChartColumns | undefined>(
    () => (series.data ? buildColumns(series.data, runIds, xAxis, logY, smooth) : undefined),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [series.data, runKey, xAxis, logY, smooth],
  );
  const columnsRef = useRef(columns);
  columnsRef.current = columns;

  const zoomTo = useCallback(
    (min: number, max: number) => {
      const cols = columnsRef.current;
      const steps = cols && stepRange(cols, xAxis, min, max);
      if (steps) setRange(steps);
    },
    [xAxis],
  );

  const labels = runs.map((r, i) => `${r.label}\u0000${r.color ?? seriesColor(i)}`).join("\u0001");
  const options = useMemo<Omit<uPlot.Options, "width" | "height">>(() => {
    const fg = cssVar("--fg-soft") || "#888";
    const grid = cssVar("--grid") || "#ddd";
    const axis = { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    const lines: uPlot.Series[] = runs.flatMap((run, i) => {
      const color = run.color ?? seriesColor(i);
      const main: uPlot.Series = {
        label: run.label,
        stroke: color,
        width: 1.5,
        spanGaps: true,
        value: (_u, v) => (v === null || v === undefined ? "" : formatNumber(v)),
      };
      if (smooth <= 0) return [main];
      return [{ label: `${run.label} (raw)`, stroke: color, width: 1, alpha: 0.3, spanGaps: true, class: "raw-series" }, main];
    });
    const xSeries: uPlot.Series =
      xAxis === "relative"
        ? { label: "relative time", value: (_u, v) => (v === null ? "" : formatSeconds(v)) }
        : xAxis === "time"
          ? { label: "time" }
          : { label: "step", value: (_u, v) => (v === null ? "" : String(Math.round(v))) };
    return {
      series: [xSeries, ...lines],
      scales: { x: { time: xAxis === "time" }, y: logY ? { distr: 3 } : {} },
      axes: [
        {
          ...axis,
          values:
            xAxis === "relative"
              ? (_u: uPlot, splits: number[]) => splits.map(formatSeconds)
              : xAxis === "step"
                ? (_u: uPlot, splits: number[]) => splits.map((v) => formatNumber(v))
                : undefined,
        },
        { ...axis, size: 64, values: (_u: uPlot, splits: number[]) => splits.map((v) => formatNumber(v)) },
      ],
      legend: { live: true },
      cursor: { drag: { x: true, y: false, setScale: false } },
      hooks: {
        setSelect: [
          (u: uPlot) => {
            if (u.select.width < 4) return;
            const min = u.posToVal(u.select.left, "x");
            const max = u.posToVal(u.select.left + u.select.width, "x");
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
            u.setScale("x", { min, max });
            zoomTo(min, max);
          },
        ],
        ready: [(u: uPlot) => u.over.addEventListener("dblclick", () => setRange(null))],
      },
    };
    // `labels` stands for the runs' labels and colors; `theme` re-reads the CSS colors.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [labels, xAxis, logY, smooth > 0, theme, zoomTo]);

  const total = series.data?.reduce((n, s) => n + s.total_count, 0) ?? 0;
  const sampled = series.data?.some((s) => s.sampled) ?? false;
  return (
    <div
      className="metric-chart"
      data-testid={testId}
      data-total-count={series.data ? total : undefined}
      data-points={columns?.pointCount}
    >
      {series.error && <ErrorBox error={series.error} title={`Metric ${metricKey}`} />}
      {!columns && !series.error && <Loading label={`Loading ${metricKey}…`} />}
      {columns && columns.pointCount === 0 && (
        <div className="chart-empty" style={{ height }}>
          No points{range ? " in this step range" : ""} for {metricKey}
        </div>
      )}
      {columns && columns.pointCount > 0 && (
        <UPlotChart options={options} data={columns.data} height={height} />
      )}
      <div className="chart-status" data-testid="chart-status">
        {columns && sampled && <span>{formatNumber(total)} points, downsampled</span>}
        {range && (
          <>
            <span>
              steps {formatNumber(range[0])}–{formatNumber(range[1])}
            </span>
            <button type="button" onClick={() => setRange(null)} title="Or double-click the chart">
              Reset zoom
            </button>
          </>
        )}
      </div>
    </div>
  );
}
