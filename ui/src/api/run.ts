// One run and its child runs, for the run page.
import { MLFLOW, get, post } from "./client";
import type { Run } from "./types";

export async function getRun(runId: string, signal?: AbortSignal): Promise<Run> {
  const body = await get<{ run: Run }>(`${MLFLOW}/runs/get`, { run_id: runId }, signal);
  return body.run;
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
