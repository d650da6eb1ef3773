// Turns the server's per-run series into uPlot's aligned columns (one shared x array, a null where a
// run has no point at that x), with an optional smoothed line per run drawn over the faded raw one.
import type uPlot from "uplot";
import { type MetricSeries, toNumber } from "../../api/metrics";
import { emaSmooth } from "./smoothing";

export type XAxis = "step" | "time" | "relative";

export interface ChartColumns {
  data: uPlot.AlignedData;
  /** Per run (in `runIds` order): its points' x values and steps, to map a zoomed x range to steps. */
  xs: Float64Array[];
  steps: number[][];
  pointCount: number;
}

function xOf(axis: XAxis, step: number, timestamp: number, origin: number): number {
  if (axis === "step") return step;
  if (axis === "time") return timestamp / 1000;
  return (timestamp - origin) / 1000;
}

function yOf(value: number | string, logY: boolean): number | null {
  const n = toNumber(value);
  if (!Number.isFinite(n)) return null;
  if (logY && n <= 0) return null;
  return n;
}

/** Sorted distinct values of all the arrays. */
function union(arrays: Float64Array[]): Float64Array {
  if (arrays.length === 1) {
    const only = arrays[0];
    let sorted = true;
    for (let i = 1; i < only.length; i++) if (only[i] <= only[i - 1]) sorted = false;
    if (sorted) return only;
  }
  const total = arrays.reduce((n, a) => n + a.length, 0);
  const all = new Float64Array(total);
  let offset = 0;
  for (const a of arrays) {
    all.set(a, offset);
    offset += a.length;
  }
  all.sort();
  let n = 0;
  for (let i = 0; i < all.length; i++) if (i === 0 || all[i] !== all[n - 1]) all[n++] = all[i];
  return all.slice(0, n);
}

/**
 * Columns for `runIds` (a run missing from `series` gets an empty column). With smoothing, each run
 * has two y columns: raw then smoothed.
 */
export function buildColumns(
  series: MetricSeries[],
  runIds: string[],
  axis: XAxis,
  logY: boolean,
  smoothing: number,
): ChartColumns {
  const byRun = new Map(series.map((s) => [s.run_id, s]));
  const xs: Float64Array[] = [];
  const ys: (number | null)[][] = [];
  const steps: number[][] = [];
  let pointCount = 0;
  for (const runId of runIds) {
    const s = byRun.get(runId);
    const n = s ? s.steps.length : 0;
    const x = new Float64Array(n);
    const y: (number | null)[] = new Array(n);
    const origin = s?.start_time ?? (s ? s.timestamps.reduce((a, b) => Math.min(a, b), Infinity) : 0);
    for (let i = 0; i < n; i++) {
      x[i] = xOf(axis, s!.steps[i], s!.timestamps[i], origin);
      y[i] = yOf(s!.values[i], logY);
    }
    if (axis !== "step") {
      // Wall time need not follow step order: sort this run's points by x.
      const order = Array.from(x.keys()).sort((a, b) => x[a] - x[b]);
      xs.push(Float64Array.from(order, (i) => x[i]));
      ys.push(order.map((i) => y[i]));
      steps.push(order.map((i) => s!.steps[i]));
    } else {
      xs.push(x);
      ys.push(y);
      steps.push(s ? s.steps : []);
    }
    pointCount += n;
  }
  const xAll = union(xs);
  const columns: (number | null)[][] = [];
  const index = new Map<number, number>();
  if (xs.length > 1 || xAll !== xs[0]) xAll.forEach((v, i) => index.set(v, i));
  xs.forEach((x, r) => {
    const raw: (number | null)[] = xAll === x ? ys[r] : new Array(xAll.length).fill(null);
    if (xAll !== x) for (let i = 0; i < x.length; i++) raw[index.get(x[i])!] = ys[r][i];
    columns.push(raw);
    if (smoothing > 0) {
      // Smooth over the run's own points, then place them on the shared x.
      const smooth = emaSmooth(ys[r], smoothing);
      if (xAll === x) columns.push(smooth);
      else {
        const placed: (number | null)[] = new Array(xAll.length).fill(null);
        for (let i = 0; i < x.length; i++) placed[index.get(x[i])!] = smooth[i];
        columns.push(placed);
      }
    }
  });
  return { data: [xAll, ...columns] as uPlot.AlignedData, xs, steps, pointCount };
}

/** The step range covering the points whose x lies in [min, max] (undefined when none does). */
export function stepRange(columns: ChartColumns, axis: XAxis, min: number, max: number): [number, number] | undefined {
  if (axis === "step") return [Math.floor(min), Math.ceil(max)];
  let lo = Infinity;
  let hi = -Infinity;
  columns.xs.forEach((x, r) => {
    for (let i = 0; i < x.length; i++) {
      if (x[i] >= min && x[i] <= max) {
        lo = Math.min(lo, columns.steps[r][i]);
        hi = Math.max(hi, columns.steps[r][i]);
      }
    }
  });
  return lo <= hi ? [lo, hi] : undefined;
}
