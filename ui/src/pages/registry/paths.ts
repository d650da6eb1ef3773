// Links and small display helpers of the registry views.

export const modelPath = (name: string) => `/models/${encodeURIComponent(name)}`;

export const versionPath = (name: string, version: string | number) =>
  `${modelPath(name)}/versions/${encodeURIComponent(String(version))}`;

export const runPath = (runId: string) => `/runs/${encodeURIComponent(runId)}`;

/** The first line of a description, cut to `max` characters. */
export function excerpt(text: string | undefined, max = 120): string {
  if (!text) return "";
  const line = text.trim().split(/\r?\n/)[0];
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
