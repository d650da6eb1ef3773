// The run's tags; system tags (mlflow.*, wayline.*) behind a toggle.
import { useState } from "react";
import type { Run } from "../../api/types";
import { KeyValueTable } from "./KeyValueTable";

function isSystem(key: string): boolean {
  return key.startsWith("mlflow.") || key.startsWith("wayline.");
}

export function TagsTable({ run }: { run: Run }) {
  const [showSystem, setShowSystem] = useState(false);
  const all = [...(run.data.tags ?? [])].sort((a, b) => a.key.localeCompare(b.key));
  const rows = showSystem ? all : all.filter((t) => !isSystem(t.key));
  return (
    <div>
      <label className="toggle">
        <input
          type="checkbox"
          checked={showSystem}
          onChange={(e) => setShowSystem(e.target.checked)}
          data-testid="show-system-tags"
        />{" "}
        Show system tags ({all.length - all.filter((t) => !isSystem(t.key)).length})
      </label>
      <KeyValueTable rows={rows} testId="tags-table" emptyText="No tags." />
    </div>
  );
}
