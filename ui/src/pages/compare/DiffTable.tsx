// Params, tags and latest metrics side by side, one column per run. Rows whose values differ are
// highlighted (class `diff`); "only differences" hides the others; each metric's best value is bold.
import type { ReactNode } from "react";
import { Link } from "react-router-dom";
import { allEqual, lowerIsBetter } from "../../api/compare";
import { formatDuration, formatNumber } from "../../format";
import type { Compared } from "./compared";

interface Row {
  key: string;
  cells: (string | number | undefined)[];
}

function Section({
  title,
  section,
  rows,
  runCount,
  onlyDiff,
  render,
}: {
  title: string;
  section: string;
  rows: Row[];
  runCount: number;
  onlyDiff: boolean;
  render?: (row: Row) => ReactNode[];
}) {
  const shown = rows
    .map((row) => ({ row, differs: !allEqual(row.cells) }))
    .filter(({ differs }) => differs || !onlyDiff);
  return (
    <tbody data-section={section}>
      <tr className="diff-section">
        <th colSpan={runCount + 1}>
          {title} <span className="muted">({shown.length === rows.length ? rows.length : `${shown.length} of ${rows.length}`})</span>
        </th>
      </tr>
      {shown.map(({ row, differs }) => (
        <tr
          key={row.key}
          className={differs ? "diff" : undefined}
          data-testid="diff-row"
          data-section={section}
          data-key={row.key}
          data-differs={differs ? "true" : "false"}
        >
          <th scope="row" title={row.key}>
            {row.key}
          </th>
          {render
            ? render(row)
            : row.cells.map((cell, i) => (
                <td key={i} className={typeof cell === "number" ? "num" : undefined}>
                  {cell === undefined ? <span className="muted">—</span> : String(cell)}
                </td>
              ))}
        </tr>
      ))}
    </tbody>
  );
}

/** The metric cells, with the best finite value(s) in bold when the values differ. */
function metricCells(row: Row): ReactNode[] {
  const finite = row.cells.filter((c): c is number => typeof c === "number" && Number.isFinite(c));
  const lower = lowerIsBetter(row.key);
  const best = finite.length >= 2 && !allEqual(finite) ? (lower ? Math.min(...finite) : Math.max(...finite)) : undefined;
  return row.cells.map((cell, i) => {
    if (cell === undefined) {
      return (
        <td key={i} className="num">
          <span className="muted">—</span>
        </td>
      );
    }
    const isBest = best !== undefined && cell === best;
    return (
      <td key={i} className="num" data-best={isBest ? "true" : undefined}>
        {isBest ? (
          <strong title={lower ? "lowest: best" : "highest: best"}>{formatNumber(cell)}</strong>
        ) : (
          formatNumber(cell)
        )}
      </td>
    );
  });
}

export function DiffTable({
  compared,
  onlyDiff,
  onOnlyDiff,
}: {
  compared: Compared;
  onlyDiff: boolean;
  onOnlyDiff: (value: boolean) => void;
}) {
  const { runs, values, labels, colors } = compared;
  const attributes: Row[] = [
    { key: "Status", cells: runs.map((r) => r.info.status) },
    { key: "Duration", cells: runs.map((r) => formatDuration(r.info.start_time, r.info.end_time)) },
    { key: "User", cells: runs.map((r) => r.info.user_id) },
  ];
  const params = values.paramKeys.map((key) => ({ key, cells: values.params.map((p) => p.get(key)) }));
  const metrics = values.metricKeys.map((key) => ({ key, cells: values.metrics.map((m) => m.get(key)) }));
  const tags = values.tagKeys.map((key) => ({ key, cells: values.tags.map((t) => t.get(key)) }));
  const common = { runCount: runs.length, onlyDiff };

  return (
    <div data-testid="diff-table-section">
      <div className="toolbar">
        <label>
          <input
            type="checkbox"
            checked={onlyDiff}
            onChange={(e) => onOnlyDiff(e.target.checked)}
            data-testid="only-differences"
          />{" "}
          Only differences
        </label>
        <span className="muted">Highlighted rows differ between runs; system tags (mlflow.*) are not shown.</span>
      </div>
      <div className="diff-scroll">
        <table className="grid diff-table" data-testid="diff-table">
          <thead>
            <tr>
              <th className="diff-corner">Run</th>
              {runs.map((run, i) => (
                <th key={run.info.run_id} title={run.info.run_id}>
                  <span className="swatch" style={{ background: colors[i] }} />
                  <Link to={`/runs/${run.info.run_id}`}>{labels[i]}</Link>
                </th>
              ))}
            </tr>
          </thead>
          <Section title="Attributes" section="attribute" rows={attributes} {...common} />
          <Section title="Params" section="param" rows={params} {...common} />
          <Section title="Metrics (latest)" section="metric" rows={metrics} render={metricCells} {...common} />
          <Section title="Tags" section="tag" rows={tags} {...common} />
        </table>
      </div>
    </div>
  );
}
