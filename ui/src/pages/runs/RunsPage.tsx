// The runs of one or several experiments (/experiments/1,2): a virtualized table paged from the server,
// chosen param/metric/tag columns, server-side sort and filter, selection for comparison, live refresh of
// running runs, and a grouped view. The view's state is in the URL: ?filter=&order=&cols=&sel=&group=.
import { useCallback, useEffect, useMemo, useRef } from "react";
import { useNavigate, useParams } from "react-router-dom";
import { ApiError } from "../../api/client";
import { getExperiment } from "../../api/experiments";
import type { Experiment } from "../../api/types";
import { ErrorBox, Empty, Loading } from "../../components/Status";
import { useApi } from "../../hooks/useApi";
import { useUrlList, useUrlState } from "../../hooks/useUrlState";
import { ColumnChooser } from "./ColumnChooser";
import {
  defaultColumns,
  formatOrder,
  orderClause,
  parseColumnId,
  parseOrder,
  searchKey,
  seenKeys,
  type KeyColumn,
} from "./columns";
import { FilterBox } from "./FilterBox";
import { GroupView } from "./GroupView";
import { RunsTable } from "./RunsTable";
import { useRunPages } from "./useRunPages";
import "./runs.css";

/** `cols=-` in the URL: the user chose no key columns (no `cols` means the default columns). */
const NO_COLUMNS = "-";

async function loadExperiments(ids: string[], signal: AbortSignal): Promise<Experiment[]> {
  return Promise.all(
    ids.map((id) =>
      getExperiment(id, signal).catch((err: Error) => {
        if (err instanceof ApiError && (err.status === 404 || err.status === 400)) {
          throw new ApiError(err.status, err.code, `No experiment with id "${id}". ${err.message}`);
        }
        throw err;
      }),
    ),
  );
}

function ExperimentHeader({ experiments }: { experiments: Experiment[] | undefined }) {
  return (
    <h1 className="runs-title" data-testid="runs-title">
      {experiments ? experiments.map((e) => e.name).join(", ") : "…"}
      {experiments?.some((e) => e.lifecycle_stage === "deleted") && <span className="badge">deleted</span>}
    </h1>
  );
}

export function RunsPage() {
  const { experimentIds = "" } = useParams();
  const ids = useMemo(() => experimentIds.split(",").map((s) => s.trim()).filter(Boolean), [experimentIds]);
  const navigate = useNavigate();
  const [filter, setFilter] = useUrlState("filter");
  const [order, setOrder] = useUrlState("order");
  const [cols, setCols] = useUrlList("cols");
  const [sel, setSel] = useUrlList("sel");
  // The selection as last set here, until a render shows it: toggles in a row (keys pressed quickly)
  // each start from the previous one's result.
  const latestSel = useRef<string[] | null>(null);
  useEffect(() => {
    if (latestSel.current?.join(",") === sel.join(",")) latestSel.current = null;
  }, [sel]);
  const [group, setGroup] = useUrlState("group");
  const [deleted, setDeleted] = useUrlState("deleted");

  const experiments = useApi((signal) => loadExperiments(ids, signal), [ids.join(",")]);
  const sort = parseOrder(order);
  const clause = orderClause(sort);
  const orderBy = useMemo(() => (clause ? [clause] : []), [clause]);
  const pages = useRunPages(ids, filter, orderBy, deleted === "1" ? "ALL" : "ACTIVE_ONLY");
  const { runs } = pages;

  const seen = useMemo(() => seenKeys(runs), [runs]);
  const chosen = useMemo(
    () => (cols.length ? cols.filter((c) => c !== NO_COLUMNS) : defaultColumns(seen)),
    [cols, seen],
  );
  const keyColumns = useMemo(
    () => chosen.map(parseColumnId).filter((c): c is KeyColumn => c !== undefined),
    [chosen],
  );
  const updateSel = useCallback(
    (change: (current: string[]) => string[]) => {
      const next = change(latestSel.current ?? sel);
      latestSel.current = next;
      setSel(next);
    },
    [sel, setSel],
  );
  const selected = useMemo(() => new Set(sel), [sel]);
  const experimentNames = useMemo(
    () => new Map((experiments.data ?? []).map((e) => [e.experiment_id, e.name])),
    [experiments.data],
  );

  const onSort = useCallback(
    (column: string) => {
      const next = sort?.column === column ? { column, desc: !sort.desc } : { column, desc: true };
      setOrder(formatOrder(next), false);
    },
    [sort, setOrder],
  );
  const onToggle = useCallback(
    (runId: string) =>
      updateSel((current) => (current.includes(runId) ? current.filter((s) => s !== runId) : [...current, runId])),
    [updateSel],
  );
  const onToggleAll = useCallback(() => {
    const loaded = runs.map((r) => r.info.run_id);
    updateSel((current) => {
      const all = loaded.every((id) => current.includes(id));
      return all ? current.filter((id) => !loaded.includes(id)) : [...new Set([...current, ...loaded])];
    });
  }, [runs, updateSel]);

  if (!ids.length) return <ErrorBox error="No experiment id in the address." />;
  if (experiments.error) return <ErrorBox error={experiments.error} title="Cannot show these runs" />;

  const filterError =
    pages.error instanceof ApiError && pages.error.code === "INVALID_PARAMETER_VALUE" && filter
      ? pages.error.message
      : undefined;
  const groupKeys = [
    ...seen.params.map((k) => searchKey("params", k)),
    ...seen.tags.map((k) => searchKey("tags", k)),
  ];
  if (group && !groupKeys.includes(group)) groupKeys.unshift(group);
  const metricKeys = keyColumns.filter((c) => c.kind === "metrics").map((c) => c.key);

  const pickGroup = (value: string | undefined) => {
    const term = value === undefined ? `${group} IS NULL` : `${group} = '${value.replace(/'/g, "''")}'`;
    setFilter(filter ? `${filter} and ${term}` : term, false);
    setGroup("", false);
  };

  return (
    <section className="runs-page">
      <ExperimentHeader experiments={experiments.data} />
      <div className="toolbar runs-toolbar">
        <FilterBox value={filter} onApply={(text) => setFilter(text, false)} error={filterError} />
        <label className="group-by">
          Group by{" "}
          <select value={group} onChange={(event) => setGroup(event.target.value, false)} data-testid="group-by">
            <option value="">(none)</option>
            {groupKeys.map((k) => (
              <option key={k} value={k}>
                {k}
              </option>
            ))}
          </select>
        </label>
        <label className="show-deleted">
          <input
            type="checkbox"
            checked={deleted === "1"}
            onChange={(event) => setDeleted(event.target.checked ? "1" : "", false)}
            data-testid="show-deleted-runs"
          />{" "}
          Show deleted
        </label>
        <ColumnChooser seen={seen} chosen={chosen} onChange={(next) => setCols(next.length ? next : [NO_COLUMNS])} />
        <button
          type="button"
          className="primary"
          disabled={sel.length < 2}
          onClick={() => navigate(`/compare?runs=${sel.map(encodeURIComponent).join(",")}`)}
          data-testid="compare"
        >
          Compare ({sel.length})
        </button>
      </div>
      {pages.error && !filterError && <ErrorBox error={pages.error} title="Could not load runs" />}
      {group ? (
        <GroupView experimentIds={ids} filter={filter} groupBy={group} metrics={metricKeys} onPick={pickGroup} />
      ) : (
        <>
          <div className="runs-status muted" data-testid="run-count">
            {pages.loading ? "Loading…" : `${runs.length}${pages.hasMore ? "+" : ""} runs`}
            {sel.length > 0 && ` · ${sel.length} selected`}
          </div>
          {pages.loading && runs.length === 0 && !pages.error ? (
            <Loading />
          ) : !pages.loading && runs.length === 0 && !pages.error ? (
            <Empty>{filter ? "No runs match the filter." : "No runs in this experiment yet."}</Empty>
          ) : (
            runs.length > 0 && (
              <RunsTable
                runs={runs}
                keyColumns={keyColumns}
                showExperiment={ids.length > 1}
                experimentNames={experimentNames}
                sort={sort}
                onSort={onSort}
                selected={selected}
                onToggle={onToggle}
                onToggleAll={onToggleAll}
                hasMore={pages.hasMore}
                loadingMore={pages.loadingMore}
                onLoadMore={pages.loadMore}
              />
            )
          )}
        </>
      )}
    </section>
  );
}
