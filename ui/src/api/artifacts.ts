// A run's artifacts: folder listings, and the first bytes of a file for previews.
import { ApiError, MLFLOW, artifactUrl, get } from "./client";
import type { FileInfo } from "./types";

export async function listArtifacts(runId: string, path: string, signal?: AbortSignal): Promise<FileInfo[]> {
  const body = await get<{ files?: FileInfo[] }>(
    `${MLFLOW}/artifacts/list`,
    { run_id: runId, path: path || undefined },
    signal,
  );
  return body.files ?? [];
}

export interface ArtifactHead {
  bytes: Uint8Array;
  /** True when the file is longer than what was read. */
  truncated: boolean;
}

/** Up to `limit` bytes of an artifact, read from the stream (the rest is not downloaded). */
export async function readArtifactHead(
  runId: string,
  path: string,
  limit: number,
  signal?: AbortSignal,
): Promise<ArtifactHead> {
  const response = await fetch(artifactUrl(runId, path), { signal });
  if (!response.ok) {
    let message = response.statusText;
    let code = `HTTP_${response.status}`;
    try {
      const body = (await response.json()) as { error_code?: string; message?: string };
      message = body.message ?? message;
      code = body.error_code ?? code;
    } catch {
      // not JSON
    }
    throw new ApiError(response.status, code, message);
  }
  const reader = response.body?.getReader();
  if (!reader) return { bytes: new Uint8Array(await response.arrayBuffer()).slice(0, limit), truncated: false };
  const chunks: Uint8Array[] = [];
  let size = 0;
  let truncated = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.length;
    if (size > limit) {
      truncated = true;
      await reader.cancel();
      break;
    }
  }
  const bytes = new Uint8Array(Math.min(size, limit));
  let offset = 0;
  for (const chunk of chunks) {
    const part = chunk.subarray(0, Math.min(chunk.length, bytes.length - offset));
    bytes.set(part, offset);
    offset += part.length;
    if (offset >= bytes.length) break;
  }
  return { bytes, truncated };
}
