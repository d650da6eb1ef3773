// The runs table: a virtualized grid (only the visible rows are in the DOM) that asks for the next page
// when the user scrolls near the end. Header clicks sort (first click descending). Keyboard: arrow keys
// move the focused row, space or x toggles its selection, Enter opens the run.
import { useVirtualizer } from "@tanstack/react-virtual";
import { useEffect, useMemo, useRef, useState, type KeyboardEvent } from "react";
import { Link, useNavigate } from "react-router-dom";
import type { Run } from "../../api/types";
import {
  ATTRIBUTE_COLUMNS,
  KEY_WIDTH,
  SELECT_WIDTH,
  attributeText,
  keyText,
  type AttributeColumn,
  type KeyColumn,
  type SortState,
} from "./columns";

const ROW_HEIGHT = 32;
const PREFETCH_ROWS = 40;

interface Props {
  runs: Run[];
  keyColumns: KeyColumn[];
  showExperiment: boolean;
  experimentNames: Map<string, string>;
  sort: SortState | undefined;
  onSort: (column: string) => void;
  selected: Set<string>;
  onToggle: (runId: string) => void;
  onToggleAll: () => void;
  hasMore: boolean;
  loadingMore: boolean;
  onLoadMore: () => void;
}

function SortHeader({
  id,
  label,
  sort,
  onSort,
  title,
}: {
  id: string;
  label: string;
  sort: SortState | undefined;
  onSort?: (column: string) => void;
  title?: string;
}) {
  const active = sort?.column === id;
  const arrow = active ? (sort.desc ? " ↓" : " ↑") : "";
  if (!onSort) {
    return (
      <div className="cell head" role="columnheader" title={title ?? label}>
        {label}
      </div>
    );
  }
  return (
    <div
      className={`cell head sortable${active ? " sorted" : ""}`}
      role="columnheader"
      aria-sort={active ? (sort.desc ? "descending" : "ascending") : "none"}
      title={title ?? label}
    >
      <button type="button" onClick={() => onSort(id)} data-testid={`sort-${id}`}>
        {label}
        {arrow}
      </button>
    </div>
  );
}

export function RunsTable(props: Props) {
  const { runs, keyColumns, sort, onSort, selected, onToggle, hasMore, loadingMore, onLoadMore } = props;
  const scrollRef = useRef<HTMLDivElement>(null);
  const [focused, setFocused] = useState(-1);
  const navigate = useNavigate();

  const attributes: AttributeColumn[] = useMemo(
    () => ATTRIBUTE_COLUMNS.filter((c) => c.id !== "experiment" || props.showExperiment),
    [props.showExperiment],
  );
  const template = useMemo(
    () =>
      [SELECT_WIDTH, ...attributes.map((c) => c.width), ...keyColumns.map(() => KEY_WIDTH)]
        .map((w) => `${w}px`)
        .join(" "),
    [attributes, keyColumns],
  );
  const width = useMemo(
    () => SELECT_WIDTH + attributes.reduce((n, c) => n + c.width, 0) + keyColumns.length * KEY_WIDTH,
    [attributes, keyColumns],
  );

  const virtualizer = useVirtualizer({
    count: runs.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
  });
  const items = virtualizer.getVirtualItems();
  const lastIndex = items.length ? items[items.length - 1].index : -1;

  useEffect(() => {
    if (hasMore && !loadingMore && lastIndex >= runs.length - PREFETCH_ROWS) onLoadMore();
  }, [lastIndex, runs.length, hasMore, loadingMore, onLoadMore]);

  useEffect(() => {
    if (focused >= runs.length) setFocused(runs.length - 1);
  }, [focused, runs.length]);

  const moveFocus = (index: number) => {
    const next = Math.max(0, Math.min(runs.length - 1, index));
    setFocused(next);
    virtualizer.scrollToIndex(next, { align: "auto" });
  };

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    if ((event.target as HTMLElement).tagName === "INPUT" && event.key !== "ArrowDown" && event.key !== "ArrowUp")
      return;
    const run = runs[focused];
    switch (event.key) {
      case "ArrowDown":
        moveFocus(focused + 1);
        break;
      case "ArrowUp":
        moveFocus(focused - 1);
        break;
      case "Home":
        moveFocus(0);
        break;
      case "End":
        moveFocus(runs.length - 1);
        break;
      case " ":
      case "x":
        if (run) onToggle(run.info.run_id);
        break;
      case "Enter":
        if (run) navigate(`/runs/${run.info.run_id}`);
        break;
      default:
        return;
    }
    event.preventDefault();
  };

  const allSelected = runs.length > 0 && runs.every((r) => selected.has(r.info.run_id));
  return (
    <div
      className="runs-scroll"
      ref={scrollRef}
      tabIndex={0}
      role="grid"
      aria-rowcount={runs.length}
      aria-label="Runs"
      onKeyDown={onKeyDown}
      onFocus={() => focused < 0 && runs.length > 0 && setFocused(0)}
      data-testid="runs-table"
    >
      <div className="runs-row runs-head" role="row" style={{ gridTemplateColumns: template, width }}>
        <div className="cell select" role="columnheader">
          <input
            type="checkbox"
            aria-label="Select all loaded runs"
            checked={allSelected}
            onChange={props.onToggleAll}
            data-testid="select-all"
          />
        </div>
        {attributes.map((c) => (
          <SortHeader key={c.id} id={c.id} label={c.label} sort={sort} onSort={c.orderKey ? onSort : undefined} />
        ))}
        {keyColumns.map((c) => (
          <SortHeader
            key={c.id}
            id={c.id}
            label={c.key}
            title={c.id}
            sort={sort}
            onSort={onSort}
          />
        ))}
      </div>
      <div className="runs-body" style={{ height: virtualizer.getTotalSize(), width }}>
        {items.map((item) => {
          const run = runs[item.index];
          const id = run.info.run_id;
          const isSelected = selected.has(id);
          const classes = ["runs-row"];
          if (isSelected) classes.push("selected");
          if (item.index === focused) classes.push("focused");
          return (
            <div
              key={id}
              className={classes.join(" ")}
              role="row"
              aria-selected={isSelected}
              data-testid="run-row"
              data-run-id={id}
              data-focused={item.index === focused ? "true" : undefined}
              style={{ gridTemplateColumns: template, transform: `translateY(${item.start}px)`, height: ROW_HEIGHT }}
              onClick={() => setFocused(item.index)}
            >
              <div className="cell select" role="gridcell">
                <input
                  type="checkbox"
                  tabIndex={-1}
                  aria-label={`Select run ${attributeText(run, "name", props.experimentNames)}`}
                  checked={isSelected}
                  onChange={() => onToggle(id)}
                  data-testid="run-select"
                />
              </div>
              {attributes.map((c) =>
                c.id === "name" ? (
                  <div key={c.id} className="cell" role="gridcell">
                    <Link to={`/runs/${id}`} tabIndex={-1} data-testid="run-name">
                      {attributeText(run, "name", props.experimentNames)}
                    </Link>
                  </div>
                ) : c.id === "status" ? (
                  <div key={c.id} className="cell" role="gridcell">
                    <span className={`badge status-${run.info.status}`} data-testid="run-status">
                      {run.info.lifecycle_stage === "deleted" ? `${run.info.status} · deleted` : run.info.status}
                    </span>
                  </div>
                ) : (
                  <div key={c.id} className="cell" role="gridcell" data-col={c.id}>
                    {attributeText(run, c.id, props.experimentNames)}
                  </div>
                ),
              )}
              {keyColumns.map((c) => (
                <div
                  key={c.id}
                  className={`cell${c.kind === "metrics" ? " num" : ""}`}
                  role="gridcell"
                  data-col={c.id}
                >
                  {keyText(run, c)}
                </div>
              ))}
            </div>
          );
        })}
      </div>
      {loadingMore && <div className="runs-more muted">Loading more runs…</div>}
    </div>
  );
}
