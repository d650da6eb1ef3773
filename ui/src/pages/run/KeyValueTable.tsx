// A searchable two-column table (params, tags).
import { useState } from "react";

export function KeyValueTable({
  rows,
  testId,
  emptyText,
}: {
  rows: { key: string; value: string }[];
  testId: string;
  emptyText: string;
}) {
  const [query, setQuery] = useState("");
  const q = query.trim().toLowerCase();
  const shown = q ? rows.filter((r) => r.key.toLowerCase().includes(q) || r.value.toLowerCase().includes(q)) : rows;
  return (
    <div>
      <div className="toolbar">
        <input
          type="search"
          placeholder="Search keys and values"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          data-testid={`${testId}-search`}
        />
        <span className="muted">
          {shown.length} of {rows.length}
        </span>
      </div>
      {rows.length === 0 ? (
        <div className="empty">{emptyText}</div>
      ) : (
        <table className="grid kv-table" data-testid={testId}>
          <thead>
            <tr>
              <th>Key</th>
              <th>Value</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((r) => (
              <tr key={r.key}>
                <td className="mono">{r.key}</td>
                <td className="mono kv-value">{r.value}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
