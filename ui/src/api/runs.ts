// Runs of experiments: pages of runs/search, and Wayline's grouped runs (runs/group).
import { MLFLOW, WAYLINE, post } from "./client";
import type { Run } from "./types";

export interface RunPage {
  runs?: Run[];
  next_page_token?: string;
}

export interface RunQuery {
  experimentIds: string[];
  filter?: string;
  orderBy?: string[];
  pageToken?: string;
  maxResults?: number;
  /** `ACTIVE_ONLY` (the default), `DELETED_ONLY` or `ALL`. */
  viewType?: "ACTIVE_ONLY" | "DELETED_ONLY" | "ALL";
}

/** The page size of the runs table. */
export const PAGE_SIZE = 200;

export function searchRuns(query: RunQuery, signal?: AbortSignal): Promise<RunPage> {
  return postWithSignal<RunPage>(
    `${MLFLOW}/runs/search`,
    {
      experiment_ids: query.experimentIds,
      filter: query.filter || undefined,
      order_by: query.orderBy ?? [],
      page_token: query.pageToken,
      max_results: query.maxResults ?? PAGE_SIZE,
      run_view_type: query.viewType ?? "ACTIVE_ONLY",
    },
    signal,
  );
}

/** The runs with these ids (at most a page), fresh from the server. */
export function runsById(experimentIds: string[], runIds: string[], signal?: AbortSignal): Promise<RunPage> {
  const ids = runIds.map((id) => `'${id.replace(/'/g, "''")}'`).join(", ");
  return searchRuns({ experimentIds, filter: `attributes.run_id IN (${ids})`, maxResults: runIds.length }, signal);
}

export interface MetricSummary {
  key: string;
  count: number;
  mean?: number | string;
  min?: number | string;
  max?: number | string;
}

export interface RunGroup {
  value?: string;
  count: number;
  metrics: MetricSummary[];
}

export interface RunGroups {
  groups: RunGroup[];
  truncated: boolean;
}

export function groupRuns(
  query: { experimentIds: string[]; filter?: string; groupBy: string; metrics: string[] },
  signal?: AbortSignal,
): Promise<RunGroups> {
  return postWithSignal<RunGroups>(
    `${WAYLINE}/runs/group`,
    {
      experiment_ids: query.experimentIds,
      filter: query.filter || undefined,
      group_by: query.groupBy,
      metrics: query.metrics,
    },
    signal,
  );
}

/** `post` that can be aborted (a newer query replaces an older one). */
async function postWithSignal<T>(path: string, body: unknown, signal?: AbortSignal): Promise<T> {
  if (!signal) return post<T>(path, body);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new DOMException("aborted", "AbortError"));
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    post<T>(path, body).then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
