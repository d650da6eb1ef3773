// The MLflow REST API's JSON, as the tracking server sends it (fields omitted when empty).

export interface Tag {
  key: string;
  value: string;
}

export interface Experiment {
  experiment_id: string;
  name: string;
  artifact_location?: string;
  lifecycle_stage: "active" | "deleted";
  last_update_time?: number;
  creation_time?: number;
  tags?: Tag[];
}

export interface Metric {
  key: string;
  value: number | string;
  timestamp: number;
  step: number;
}

export interface Param {
  key: string;
  value: string;
}

export interface RunInfo {
  run_id: string;
  run_uuid?: string;
  run_name?: string;
  experiment_id: string;
  user_id?: string;
  status: "RUNNING" | "SCHEDULED" | "FINISHED" | "FAILED" | "KILLED";
  start_time?: number;
  end_time?: number;
  artifact_uri?: string;
  lifecycle_stage: "active" | "deleted";
}

export interface DatasetInput {
  dataset: {
    name: string;
    digest: string;
    source_type?: string;
    source?: string;
    schema?: string;
    profile?: string;
  };
  tags?: Tag[];
}

export interface Run {
  info: RunInfo;
  data: { metrics?: Metric[]; params?: Param[]; tags?: Tag[] };
  inputs?: { dataset_inputs?: DatasetInput[] };
}

export interface FileInfo {
  path: string;
  is_dir?: boolean;
  file_size?: number | string;
}

export interface RegisteredModel {
  name: string;
  creation_timestamp?: number;
  last_updated_timestamp?: number;
  description?: string;
  latest_versions?: ModelVersion[];
  tags?: Tag[];
  aliases?: { alias: string; version: string }[];
}

export interface ModelVersion {
  name: string;
  version: string;
  creation_timestamp?: number;
  last_updated_timestamp?: number;
  user_id?: string;
  current_stage?: string;
  description?: string;
  source?: string;
  run_id?: string;
  status?: string;
  status_message?: string;
  tags?: Tag[];
  aliases?: string[];
  run_link?: string;
}

/** Tags the MLflow client sets on runs. */
export const SYSTEM_TAGS = {
  runName: "mlflow.runName",
  user: "mlflow.user",
  sourceName: "mlflow.source.name",
  sourceType: "mlflow.source.type",
  gitCommit: "mlflow.source.git.commit",
  parentRunId: "mlflow.parentRunId",
  note: "mlflow.note.content",
} as const;

export function tagValue(tags: Tag[] | undefined, key: string): string | undefined {
  return tags?.find((t) => t.key === key)?.value;
}
