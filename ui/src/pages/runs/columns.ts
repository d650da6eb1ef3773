// The runs table's columns: fixed attribute columns plus chosen param/metric/tag columns, their ids as kept
// in the URL ("params.lr", "metrics.acc", "tags.team"), their cell text and their server-side sort keys.
import type { Run } from "../../api/types";
import { SYSTEM_TAGS, tagValue } from "../../api/types";
import { formatDuration, formatNumber, formatTime } from "../../format";

export type KeyKind = "params" | "metrics" | "tags";

export interface KeyColumn {
  id: string;
  kind: KeyKind;
  key: string;
}

export interface AttributeColumn {
  id: string;
  label: string;
  width: number;
  /** The runs/search order key, when the server can sort by it. */
  orderKey?: string;
}

export const ATTRIBUTE_COLUMNS: AttributeColumn[] = [
  { id: "name", label: "Run name", width: 220, orderKey: "attributes.run_name" },
  { id: "status", label: "Status", width: 100, orderKey: "attributes.status" },
  { id: "start", label: "Started", width: 160, orderKey: "attributes.start_time" },
  { id: "duration", label: "Duration", width: 100 },
  { id: "user", label: "User", width: 110, orderKey: "attributes.user_id" },
  { id: "source", label: "Source", width: 160, orderKey: "tags.`mlflow.source.name`" },
  { id: "experiment", label: "Experiment", width: 140, orderKey: "attributes.experiment_id" },
];

export const SELECT_WIDTH = 34;
export const KEY_WIDTH = 130;
const KINDS: KeyKind[] = ["params", "metrics", "tags"];

export function keyColumnId(kind: KeyKind, key: string): string {
  return `${kind}.${key}`;
}

export function parseColumnId(id: string): KeyColumn | undefined {
  const dot = id.indexOf(".");
  const kind = id.slice(0, dot) as KeyKind;
  if (dot < 0 || !KINDS.includes(kind) || dot === id.length - 1) return undefined;
  return { id, kind, key: id.slice(dot + 1) };
}

/** A key as the search language writes it: `kind.\`key\`` (backquotes doubled inside). */
export function searchKey(kind: KeyKind, key: string): string {
  return `${kind}.\`${key.replace(/`/g, "``")}\``;
}

export interface SortState {
  column: string;
  desc: boolean;
}

/** "metrics.acc DESC" (the URL's `order`) as a column id and direction. */
export function parseOrder(text: string): SortState | undefined {
  const match = /^(.*\S)\s+(ASC|DESC)$/i.exec(text.trim());
  if (!match) return text.trim() ? { column: text.trim(), desc: false } : undefined;
  return { column: match[1], desc: match[2].toUpperCase() === "DESC" };
}

export function formatOrder(sort: SortState): string {
  return `${sort.column} ${sort.desc ? "DESC" : "ASC"}`;
}

/** The runs/search `order_by` clause of a sort, or undefined when the column cannot be sorted. */
export function orderClause(sort: SortState | undefined): string | undefined {
  if (!sort) return undefined;
  const attribute = ATTRIBUTE_COLUMNS.find((c) => c.id === sort.column);
  const key = attribute ? attribute.orderKey : keyOrder(sort.column);
  return key ? `${key} ${sort.desc ? "DESC" : "ASC"}` : undefined;
}

function keyOrder(id: string): string | undefined {
  const column = parseColumnId(id);
  return column ? searchKey(column.kind, column.key) : undefined;
}

export interface SeenKeys {
  params: string[];
  metrics: string[];
  tags: string[];
}

/** The param, metric and tag keys of the loaded runs, sorted. */
export function seenKeys(runs: Run[]): SeenKeys {
  const params = new Set<string>();
  const metrics = new Set<string>();
  const tags = new Set<string>();
  for (const run of runs) {
    run.data.params?.forEach((p) => params.add(p.key));
    run.data.metrics?.forEach((m) => metrics.add(m.key));
    run.data.tags?.forEach((t) => tags.add(t.key));
  }
  const sorted = (set: Set<string>) => [...set].sort((a, b) => a.localeCompare(b));
  return { params: sorted(params), metrics: sorted(metrics), tags: sorted(tags) };
}

/** The columns shown until the user picks some: the first metrics and params seen. */
export function defaultColumns(seen: SeenKeys): string[] {
  return [
    ...seen.metrics.slice(0, 10).map((k) => keyColumnId("metrics", k)),
    ...seen.params.slice(0, 10).map((k) => keyColumnId("params", k)),
  ];
}

export function runName(run: Run): string {
  return run.info.run_name || tagValue(run.data.tags, SYSTEM_TAGS.runName) || run.info.run_id;
}

function sourceName(run: Run): string {
  const source = tagValue(run.data.tags, SYSTEM_TAGS.sourceName) ?? "";
  return source.split(/[\\/]/).pop() ?? source;
}

/** The text of an attribute cell. */
export function attributeText(run: Run, id: string, experimentNames: Map<string, string>): string {
  const info = run.info;
  switch (id) {
    case "name":
      return runName(run);
    case "status":
      return info.status;
    case "start":
      return formatTime(info.start_time);
    case "duration":
      return formatDuration(info.start_time, info.status === "RUNNING" ? undefined : info.end_time);
    case "user":
      return info.user_id || tagValue(run.data.tags, SYSTEM_TAGS.user) || "";
    case "source":
      return sourceName(run);
    case "experiment":
      return experimentNames.get(info.experiment_id) ?? info.experiment_id;
    default:
      return "";
  }
}

/** The text of a param, metric (its latest value) or tag cell. */
export function keyText(run: Run, column: KeyColumn): string {
  if (column.kind === "metrics") {
    return formatNumber(run.data.metrics?.find((m) => m.key === column.key)?.value);
  }
  const list = column.kind === "params" ? run.data.params : run.data.tags;
  return list?.find((item) => item.key === column.key)?.value ?? "";
}
