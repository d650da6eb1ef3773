// The compare view's data: several runs fetched one by one (runs/get), and the values the view plots.
import { getRun } from "./run";
import { type Run, SYSTEM_TAGS, tagValue } from "./types";

/** A run id the server refused (unknown id, bad id, network failure) and why. */
export interface MissingRun {
  runId: string;
  error: Error;
}

export interface ComparedRuns {
  /** The runs found, in the order of the requested ids. */
  runs: Run[];
  missing: MissingRun[];
}

/** At most this many runs/get calls in flight (the browser queues more anyway). */
const CONCURRENCY = 8;

/**
 * Fetches the runs of `runIds` (duplicates once), at most CONCURRENCY at a time. `cache` holds runs
 * fetched earlier, so removing a run from the comparison fetches nothing.
 */
export async function loadRuns(
  runIds: string[],
  cache: Map<string, Run>,
  signal?: AbortSignal,
): Promise<ComparedRuns> {
  const ids = [...new Set(runIds)];
  const results: (Run | Error)[] = new Array(ids.length);
  let next = 0;
  async function worker(): Promise<void> {
    while (next < ids.length) {
      const index = next++;
      const id = ids[index];
      const cached = cache.get(id);
      if (cached) {
        results[index] = cached;
        continue;
      }
      try {
        const run = await getRun(id, signal);
        cache.set(id, run);
        results[index] = run;
      } catch (error) {
        if ((error as Error).name === "AbortError") throw error;
        results[index] = error as Error;
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, ids.length) }, worker));
  const runs: Run[] = [];
  const missing: MissingRun[] = [];
  results.forEach((result, i) => {
    if (result instanceof Error) missing.push({ runId: ids[i], error: result });
    else runs.push(result);
  });
  return { runs, missing };
}

export function runLabel(run: Run): string {
  return run.info.run_name || tagValue(run.data.tags, SYSTEM_TAGS.runName) || run.info.run_id.slice(0, 8);
}

export function paramMap(run: Run): Map<string, string> {
  return new Map((run.data.params ?? []).map((p) => [p.key, p.value]));
}

/** Latest value of each metric (runs/get returns the latest point per key). */
export function metricMap(run: Run): Map<string, number> {
  return new Map((run.data.metrics ?? []).map((m) => [m.key, typeof m.value === "number" ? m.value : Number(m.value)]));
}

export function tagMap(run: Run, withSystemTags = false): Map<string, string> {
  const tags = (run.data.tags ?? []).filter((t) => withSystemTags || !t.key.startsWith("mlflow."));
  return new Map(tags.map((t) => [t.key, t.value]));
}

/** Sorted union of the keys of several maps. */
export function unionKeys(maps: Map<string, unknown>[]): string[] {
  const keys = new Set<string>();
  maps.forEach((m) => m.forEach((_v, k) => keys.add(k)));
  return [...keys].sort((a, b) => a.localeCompare(b));
}

/** A param value as a number, or undefined when it is not one ("0.1" -> 0.1, "rf" -> undefined). */
export function castNumber(value: string | number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined;
  const text = value.trim();
  if (text === "") return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

/**
 * One value per run to plot: a param ("param:lr") or a metric's latest value ("metric:loss").
 * Dimension ids carry their kind so a param and a metric may share a key.
 */
export interface Dimension {
  id: string;
  kind: "param" | "metric";
  key: string;
}

export function dimensionId(kind: Dimension["kind"], key: string): string {
  return `${kind}:${key}`;
}

export function parseDimension(id: string): Dimension | undefined {
  const colon = id.indexOf(":");
  const kind = id.slice(0, colon);
  if (colon < 0 || (kind !== "param" && kind !== "metric")) return undefined;
  return { id, kind, key: id.slice(colon + 1) };
}

export function dimensionLabel(dim: Dimension): string {
  return dim.kind === "param" ? dim.key : `${dim.key} (metric)`;
}

/** The runs' params, metrics and tags as lookup tables, computed once per set of runs. */
export interface RunValues {
  params: Map<string, string>[];
  metrics: Map<string, number>[];
  tags: Map<string, string>[];
  paramKeys: string[];
  metricKeys: string[];
  tagKeys: string[];
}

export function runValues(runs: Run[]): RunValues {
  const params = runs.map(paramMap);
  const metrics = runs.map(metricMap);
  const tags = runs.map((r) => tagMap(r));
  return {
    params,
    metrics,
    tags,
    paramKeys: unionKeys(params),
    metricKeys: unionKeys(metrics),
    tagKeys: unionKeys(tags),
  };
}

/** The raw value of a dimension for the i-th run (undefined when the run lacks it). */
export function dimensionValue(values: RunValues, dim: Dimension, i: number): string | number | undefined {
  return dim.kind === "param" ? values.params[i].get(dim.key) : values.metrics[i].get(dim.key);
}

/** Params whose values are not the same in every run (a run without the param counts as different). */
export function differingParams(values: RunValues): string[] {
  return values.paramKeys.filter((key) => !allEqual(values.params.map((p) => p.get(key))));
}

export function allEqual(items: (string | number | undefined)[]): boolean {
  return items.every((item) => item === items[0]);
}

/** Whether a param can sit on a numeric axis: every run that has it holds a number, and one has it. */
export function isNumericParam(values: RunValues, key: string): boolean {
  const present = values.params.map((p) => p.get(key)).filter((v) => v !== undefined);
  return present.length > 0 && present.every((v) => castNumber(v) !== undefined);
}

/** Whether lower values of a metric are better, judged by its name ("loss", "rmse": yes; "accuracy": no). */
export function lowerIsBetter(metricKey: string): boolean {
  const higher = /acc|auc|f1|precision|recall|score|r2|map\b|ndcg|iou|bleu|rouge|reward|return|throughput/i;
  return !higher.test(metricKey);
}
