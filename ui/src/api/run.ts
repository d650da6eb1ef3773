// One run and its child runs, for the run page.
import { MLFLOW, get, post } from "./client";
import type { Metric, Run } from "./types";

export const RUN_PATH = `${MLFLOW}/runs/get`;

export async function getRun(runId: string, signal?: AbortSignal): Promise<Run> {
  const body = await get<{ run: Run }>(RUN_PATH, { run_id: runId }, signal);
  return body.run;
}

/** Charts drawn at once on the run page's metrics tab, before scrolling reveals the others. */
export const EAGER_CHARTS = 6;

/** The run's metrics in the order the metrics tab shows them (by key). */
export function sortedMetrics(run: Run): Metric[] {
  return [...(run.data.metrics ?? [])].sort((a, b) => a.key.localeCompare(b.key));
}

/** Runs whose `mlflow.parentRunId` tag names `runId` (first 200). */
export async function childRuns(runId: string, experimentId: string): Promise<Run[]> {
  const body = await post<{ runs?: Run[] }>(`${MLFLOW}/runs/search`, {
    experiment_ids: [experimentId],
    filter: `tags.mlflow.parentRunId = '${runId.replace(/'/g, "")}'`,
    max_results: 200,
  });
  return body.runs ?? [];
}
