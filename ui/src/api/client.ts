// One fetch wrapper for every call the UI makes. Errors carry the server's MLflow envelope
// ({"error_code": ..., "message": ...}) so views can show the message in place.

export const MLFLOW = "/ajax-api/2.0/mlflow";
export const WAYLINE = "/api/2.0/wayline";

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

/** One page of a listing and the token of the next (absent on the last page). */
export interface Page<T> {
  items: T[];
  nextPageToken?: string;
}

export type Query = Record<string, string | number | boolean | undefined | null | (string | number)[]>;

export function queryString(query: Query | undefined): string {
  if (!query) return "";
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === "") continue;
    if (Array.isArray(value)) value.forEach((v) => params.append(key, String(v)));
    else params.append(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

async function decode<T>(response: Response): Promise<T> {
  const text = await response.text();
  let body: unknown = undefined;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
  }
  if (!response.ok) {
    const envelope = (body ?? {}) as { error_code?: string; message?: string };
    throw new ApiError(
      response.status,
      envelope.error_code ?? `HTTP_${response.status}`,
      envelope.message ?? (text.slice(0, 300) || response.statusText),
    );
  }
  return (body ?? {}) as T;
}

// GET responses requested ahead of the view that needs them (see boot.ts), each used once by `get`.
const early = new Map<string, Promise<Response>>();

/** Starts a GET now, so that the `get` of the same path and query, made later, finds it under way. */
export function prefetch(path: string, query?: Query): Promise<unknown> {
  const url = path + queryString(query);
  let pending = early.get(url);
  if (!pending) {
    pending = fetch(url, { headers: { Accept: "application/json" } });
    pending.catch(() => early.delete(url));
    early.set(url, pending);
  }
  return pending.then((response) => response.clone().json());
}

export async function get<T>(path: string, query?: Query, signal?: AbortSignal): Promise<T> {
  let response: Response;
  const url = path + queryString(query);
  const ahead = early.get(url);
  early.delete(url);
  try {
    response = await (ahead ?? fetch(url, { signal, headers: { Accept: "application/json" } }));
  } catch (error) {
    if ((error as Error).name === "AbortError") throw error;
    throw new ApiError(0, "NETWORK_ERROR", `The server did not answer: ${(error as Error).message}`);
  }
  return decode<T>(response);
}

export async function send<T>(method: "POST" | "PATCH" | "DELETE", path: string, body?: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new ApiError(0, "NETWORK_ERROR", `The server did not answer: ${(error as Error).message}`);
  }
  return decode<T>(response);
}

export const post = <T>(path: string, body?: unknown) => send<T>("POST", path, body ?? {});

/** The URL of a run's artifact file, served by the tracking server (`/get-artifact`). */
export function artifactUrl(runId: string, path: string): string {
  return `/get-artifact${queryString({ run_id: runId, path })}`;
}
