// Experiments: search (with paging), create, rename, delete, restore, get.
import { MLFLOW, get, post } from "./client";
import type { Experiment } from "./types";

export type ExperimentViewType = "ACTIVE_ONLY" | "DELETED_ONLY" | "ALL";

export interface ExperimentPage {
  experiments?: Experiment[];
  next_page_token?: string;
}

/** A search-language string literal holding `text`. */
export function quoted(text: string): string {
  return `'${text.replace(/\\/g, "\\\\").replace(/'/g, "''")}'`;
}

/** `name ILIKE '%text%'` with the LIKE wildcards in `text` taken literally; undefined for blank text. */
export function nameFilter(text: string): string | undefined {
  const trimmed = text.trim();
  if (!trimmed) return undefined;
  const literal = trimmed.replace(/[\\%_]/g, (ch) => `\\${ch}`);
  return `name ILIKE ${quoted(`%${literal}%`)}`;
}

export function searchExperiments(
  options: { filter?: string; viewType?: ExperimentViewType; pageToken?: string; maxResults?: number },
  signal?: AbortSignal,
): Promise<ExperimentPage> {
  return get<ExperimentPage>(
    `${MLFLOW}/experiments/search`,
    {
      max_results: options.maxResults ?? 100,
      filter: options.filter,
      view_type: options.viewType ?? "ACTIVE_ONLY",
      page_token: options.pageToken,
      order_by: ["creation_time DESC"],
    },
    signal,
  );
}

export async function getExperiment(experimentId: string, signal?: AbortSignal): Promise<Experiment> {
  const body = await get<{ experiment: Experiment }>(
    `${MLFLOW}/experiments/get`,
    { experiment_id: experimentId },
    signal,
  );
  return body.experiment;
}

export async function createExperiment(name: string): Promise<string> {
  const body = await post<{ experiment_id: string }>(`${MLFLOW}/experiments/create`, { name });
  return body.experiment_id;
}

export const renameExperiment = (experimentId: string, newName: string) =>
  post(`${MLFLOW}/experiments/update`, { experiment_id: experimentId, new_name: newName });

export const deleteExperiment = (experimentId: string) =>
  post(`${MLFLOW}/experiments/delete`, { experiment_id: experimentId });

export const restoreExperiment = (experimentId: string) =>
  post(`${MLFLOW}/experiments/restore`, { experiment_id: experimentId });
