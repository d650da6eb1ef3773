// The model registry's calls: MLflow's registered-models/* and model-versions/* routes, and Wayline's
// history, comments, transition requests and acting-user routes (under /api/2.0/wayline).

import { MLFLOW, WAYLINE, get, post, queryString, send, type Page } from "./client";
import type { ModelVersion, RegisteredModel } from "./types";

/** A registered model as Wayline sends it: MLflow's fields plus `owner` and `protected`. */
export interface Model extends RegisteredModel {
  owner?: string;
  protected?: boolean;
}

export interface Version extends ModelVersion {
  model_id?: string;
}

export interface RegistryEvent {
  id: number;
  name: string;
  version?: string;
  kind: string;
  actor?: string;
  timestamp: number;
  from_value?: string;
  to_value?: string;
  comment?: string;
}

export interface ModelComment {
  id: string;
  name: string;
  version: string;
  author: string;
  comment: string;
  creation_timestamp: number;
  last_updated_timestamp: number;
}

export type RequestStatus = "PENDING" | "APPROVED" | "REJECTED" | "CANCELLED";

export interface TransitionRequest {
  id: string;
  name: string;
  version: string;
  kind: "STAGE" | "ALIAS";
  stage?: string;
  alias?: string;
  archive_existing_versions?: boolean;
  requested_by: string;
  comment?: string;
  status: RequestStatus;
  creation_timestamp: number;
  decided_by?: string;
  decision_comment?: string;
  decision_timestamp?: number;
}

/** Who the browser acts as (the server's default user unless credentials are sent). */
export interface ActingUser {
  user: string;
  approver: boolean;
  allow_self_approval: boolean;
}

export const STAGES = ["None", "Staging", "Production", "Archived"] as const;

export type { Page };

/** A filter on model names containing `text` (case-insensitive), quotes doubled as the language wants. */
export function nameFilter(text: string): string | undefined {
  const trimmed = text.trim();
  if (!trimmed) return undefined;
  return `name ILIKE '%${trimmed.replace(/'/g, "''")}%'`;
}

// -- registered models ------------------------------------------------------------------------------------
export async function searchModels(
  options: { filter?: string; orderBy?: string; pageToken?: string; maxResults?: number },
  signal?: AbortSignal,
): Promise<Page<Model>> {
  const answer = await get<{ registered_models?: Model[]; next_page_token?: string }>(
    `${MLFLOW}/registered-models/search`,
    {
      filter: options.filter,
      order_by: options.orderBy ? [options.orderBy] : undefined,
      page_token: options.pageToken,
      max_results: options.maxResults ?? 50,
    },
    signal,
  );
  return { items: answer.registered_models ?? [], nextPageToken: answer.next_page_token || undefined };
}

export async function getModel(name: string, signal?: AbortSignal): Promise<Model> {
  const answer = await get<{ registered_model: Model }>(`${MLFLOW}/registered-models/get`, { name }, signal);
  return answer.registered_model;
}

/** Wayline's update: only the given fields change (MLflow's clears an absent description). */
export async function updateModel(
  name: string,
  fields: { description?: string; owner?: string },
): Promise<Model> {
  const answer = await send<{ registered_model: Model }>("PATCH", `${WAYLINE}/registered-models/update`, {
    name,
    ...fields,
  });
  return answer.registered_model;
}

export const setModelTag = (name: string, key: string, value: string) =>
  post(`${MLFLOW}/registered-models/set-tag`, { name, key, value });

export const deleteModelTag = (name: string, key: string) =>
  send("DELETE", `${MLFLOW}/registered-models/delete-tag`, { name, key });

export const setAlias = (name: string, alias: string, version: string) =>
  post(`${MLFLOW}/registered-models/alias`, { name, alias, version });

export const deleteAlias = (name: string, alias: string) =>
  send("DELETE", `${MLFLOW}/registered-models/alias`, { name, alias });

export async function modelHistory(name: string, version?: string, signal?: AbortSignal): Promise<RegistryEvent[]> {
  const answer = await get<{ events?: RegistryEvent[] }>(
    `${WAYLINE}/registered-models/history`,
    { name, version },
    signal,
  );
  return answer.events ?? [];
}

// -- model versions ---------------------------------------------------------------------------------------
export async function searchVersions(
  name: string,
  pageToken: string | undefined,
  signal?: AbortSignal,
): Promise<Page<Version>> {
  const answer = await get<{ model_versions?: Version[]; next_page_token?: string }>(
    `${MLFLOW}/model-versions/search`,
    {
      filter: `name = '${name.replace(/'/g, "''")}'`,
      order_by: ["version_number DESC"],
      max_results: 100,
      page_token: pageToken,
    },
    signal,
  );
  return { items: answer.model_versions ?? [], nextPageToken: answer.next_page_token || undefined };
}

export async function getVersion(name: string, version: string, signal?: AbortSignal): Promise<Version> {
  const answer = await get<{ model_version: Version }>(`${MLFLOW}/model-versions/get`, { name, version }, signal);
  return answer.model_version;
}

export async function updateVersion(name: string, version: string, description: string): Promise<Version> {
  const answer = await send<{ model_version: Version }>("PATCH", `${MLFLOW}/model-versions/update`, {
    name,
    version,
    description,
  });
  return answer.model_version;
}

export const setVersionTag = (name: string, version: string, key: string, value: string) =>
  post(`${MLFLOW}/model-versions/set-tag`, { name, version, key, value });

export const deleteVersionTag = (name: string, version: string, key: string) =>
  send("DELETE", `${MLFLOW}/model-versions/delete-tag`, { name, version, key });

export const transitionStage = (name: string, version: string, stage: string, archiveExisting: boolean) =>
  post<{ model_version: Version }>(`${MLFLOW}/model-versions/transition-stage`, {
    name,
    version,
    stage,
    archive_existing_versions: archiveExisting,
  });

/** The URL of one file of a version's model directory (`MLmodel`, say), served by the registry. */
export function versionArtifactUrl(name: string, version: string, path: string): string {
  return `/model-versions/get-artifact${queryString({ name, version, path })}`;
}

/** One text file of a version's model directory; undefined when it has no such file. */
export async function versionText(
  name: string,
  version: string,
  path: string,
  signal?: AbortSignal,
): Promise<string | undefined> {
  const response = await fetch(versionArtifactUrl(name, version, path), { signal });
  if (response.status === 404) return undefined;
  if (!response.ok) {
    let message = `HTTP ${response.status}`;
    try {
      const body = (await response.json()) as { message?: string };
      if (body.message) message = body.message;
    } catch {
      // not JSON: keep the status
    }
    throw new Error(message);
  }
  return response.text();
}

// -- governance -------------------------------------------------------------------------------------------
export async function actingUser(signal?: AbortSignal): Promise<ActingUser> {
  return get<ActingUser>(`${WAYLINE}/registry/acting-user`, undefined, signal);
}

export async function listComments(name: string, version: string, signal?: AbortSignal): Promise<ModelComment[]> {
  const answer = await get<{ comments?: ModelComment[] }>(
    `${WAYLINE}/model-versions/comments`,
    { name, version },
    signal,
  );
  return answer.comments ?? [];
}

export const addComment = (name: string, version: string, comment: string) =>
  post<{ comment: ModelComment }>(`${WAYLINE}/model-versions/comments`, { name, version, comment });

export const editComment = (id: string, comment: string) =>
  send<{ comment: ModelComment }>("PATCH", `${WAYLINE}/model-versions/comments`, { id, comment });

export const deleteComment = (id: string) => send("DELETE", `${WAYLINE}/model-versions/comments`, { id });

export async function listRequests(
  name: string,
  version?: string,
  signal?: AbortSignal,
): Promise<TransitionRequest[]> {
  const answer = await get<{ requests?: TransitionRequest[] }>(
    `${WAYLINE}/transition-requests`,
    { name, version },
    signal,
  );
  return answer.requests ?? [];
}

export const createRequest = (
  name: string,
  version: string,
  target: { stage?: string; alias?: string },
  comment: string,
  archiveExisting: boolean,
) =>
  post<{ request: TransitionRequest }>(`${WAYLINE}/transition-requests`, {
    name,
    version,
    ...target,
    comment,
    archive_existing_versions: archiveExisting,
  });

export const approveRequest = (id: string, comment: string) =>
  post<{ request: TransitionRequest; model_version: Version }>(`${WAYLINE}/transition-requests/approve`, {
    id,
    comment,
  });

export const rejectRequest = (id: string, comment: string) =>
  post<{ request: TransitionRequest }>(`${WAYLINE}/transition-requests/reject`, { id, comment });

export const cancelRequest = (id: string) =>
  post<{ request: TransitionRequest }>(`${WAYLINE}/transition-requests/cancel`, { id });

/** What the acting user may do with a request (a hint: the server decides and may refuse). */
export function mayDecide(user: ActingUser | undefined, request: TransitionRequest): boolean {
  if (!user || request.status !== "PENDING" || !user.approver) return false;
  return user.allow_self_approval || request.requested_by !== user.user;
}

export function mayCancel(user: ActingUser | undefined, request: TransitionRequest): boolean {
  return !!user && request.status === "PENDING" && request.requested_by === user.user;
}
