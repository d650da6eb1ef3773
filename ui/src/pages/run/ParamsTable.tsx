import type { Run } from "../../api/types";
import { KeyValueTable } from "./KeyValueTable";

export function ParamsTable({ run }: { run: Run }) {
  const rows = [...(run.data.params ?? [])].sort((a, b) => a.key.localeCompare(b.key));
  return <KeyValueTable rows={rows} testId="params-table" emptyText="No params." />;
}
