// The experiments list (/experiments): search by name, create, rename, delete and restore, and open one
// or several experiments' runs. Search text and "show deleted" are in the URL (?q=...&deleted=1).
import { useState } from "react";
import { Link, useNavigate } from "react-router-dom";
import {
  createExperiment,
  deleteExperiment,
  nameFilter,
  renameExperiment,
  restoreExperiment,
  searchExperiments,
} from "../../api/experiments";
import type { Experiment } from "../../api/types";
import { Empty, ErrorBox, Loading } from "../../components/Status";
import { formatTime } from "../../format";
import { usePagedList } from "../../hooks/usePagedList";
import { useUrlState } from "../../hooks/useUrlState";
import { NameDialog } from "./NameDialog";
import "./experiments.css";

/** The listing for a search, with "load more" paging; `reload` refetches the first page. */
function useExperiments(query: string, showDeleted: boolean) {
  const filter = nameFilter(query);
  const viewType = showDeleted ? "ALL" : "ACTIVE_ONLY";
  const list = usePagedList<Experiment>(
    (pageToken, signal) =>
      searchExperiments({ filter, viewType, pageToken }, signal).then((page) => ({
        items: page.experiments ?? [],
        nextPageToken: page.next_page_token,
      })),
    [filter, viewType],
  );
  return list;
}

type Dialog = { kind: "create" } | { kind: "rename"; experiment: Experiment } | undefined;

export function ExperimentsPage() {
  const [query, setQuery] = useUrlState("q");
  const [deleted, setDeleted] = useUrlState("deleted");
  const showDeleted = deleted === "1";
  const { items: listing, error, loading, hasMore, loadMore, reload } = useExperiments(query, showDeleted);
  const [dialog, setDialog] = useState<Dialog>(undefined);
  const [selected, setSelected] = useState<string[]>([]);
  const [actionError, setActionError] = useState<Error | undefined>(undefined);
  const navigate = useNavigate();

  const act = (work: Promise<unknown>) =>
    work.then(() => {
      setActionError(undefined);
      reload();
    }, setActionError);

  const toggle = (id: string) =>
    setSelected((prev) => (prev.includes(id) ? prev.filter((x) => x !== id) : [...prev, id]));

  const experiments = listing ?? [];
  return (
    <section className="experiments-page">
      <div className="toolbar">
        <h1>Experiments</h1>
        <span className="grow" />
        <input
          type="search"
          className="experiment-search"
          placeholder="Search by name"
          aria-label="Search experiments by name"
          value={query}
          onChange={(event) => setQuery(event.target.value)}
          data-testid="experiment-search"
        />
        <label className="check">
          <input
            type="checkbox"
            checked={showDeleted}
            onChange={(event) => setDeleted(event.target.checked ? "1" : "")}
            data-testid="show-deleted"
          />
          Show deleted
        </label>
        <button
          type="button"
          disabled={selected.length === 0}
          onClick={() => navigate(`/experiments/${selected.join(",")}`)}
          data-testid="open-selected"
        >
          Open runs ({selected.length})
        </button>
        <button
          type="button"
          className="primary"
          onClick={() => setDialog({ kind: "create" })}
          data-testid="create-experiment"
        >
          New experiment
        </button>
      </div>
      {actionError && <ErrorBox error={actionError} />}
      {error && <ErrorBox error={error} title="Could not list experiments" />}
      {loading && !listing && <Loading />}
      {listing && experiments.length === 0 && (
        <Empty>{query ? `No experiment matches "${query}".` : "No experiments yet."}</Empty>
      )}
      {experiments.length > 0 && (
        <table className="grid experiments-table" data-testid="experiments-table">
          <thead>
            <tr>
              <th className="select-col" aria-label="Select" />
              <th>Name</th>
              <th>ID</th>
              <th>Created</th>
              <th>Last update</th>
              <th aria-label="Actions" />
            </tr>
          </thead>
          <tbody>
            {experiments.map((experiment) => {
              const id = experiment.experiment_id;
              const isDeleted = experiment.lifecycle_stage === "deleted";
              return (
                <tr
                  key={id}
                  data-testid="experiment-row"
                  data-experiment-id={id}
                  className={isDeleted ? "deleted" : undefined}
                >
                  <td className="select-col">
                    <input
                      type="checkbox"
                      aria-label={`Select ${experiment.name}`}
                      checked={selected.includes(id)}
                      onChange={() => toggle(id)}
                      data-testid="experiment-select"
                    />
                  </td>
                  <td>
                    <Link to={`/experiments/${id}`} data-testid="experiment-name">
                      {experiment.name}
                    </Link>
                    {isDeleted && (
                      <span className="badge" data-testid="deleted-badge">
                        deleted
                      </span>
                    )}
                  </td>
                  <td className="num">{id}</td>
                  <td>{formatTime(experiment.creation_time)}</td>
                  <td>{formatTime(experiment.last_update_time)}</td>
                  <td className="row-actions">
                    {isDeleted ? (
                      <button type="button" onClick={() => act(restoreExperiment(id))} data-testid="restore">
                        Restore
                      </button>
                    ) : (
                      <>
                        <button
                          type="button"
                          onClick={() => setDialog({ kind: "rename", experiment })}
                          data-testid="rename"
                        >
                          Rename
                        </button>
                        <button
                          type="button"
                          className="danger"
                          onClick={() => act(deleteExperiment(id))}
                          data-testid="delete"
                        >
                          Delete
                        </button>
                      </>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {hasMore && (
        <button type="button" className="load-more" onClick={loadMore} data-testid="load-more">
          Load more
        </button>
      )}
      {dialog?.kind === "create" && (
        <NameDialog
          title="New experiment"
          action="Create"
          onSubmit={(name) => createExperiment(name).then(reload)}
          onClose={() => setDialog(undefined)}
        />
      )}
      {dialog?.kind === "rename" && (
        <NameDialog
          title={`Rename ${dialog.experiment.name}`}
          action="Rename"
          initial={dialog.experiment.name}
          onSubmit={(name) => renameExperiment(dialog.experiment.experiment_id, name).then(reload)}
          onClose={() => setDialog(undefined)}
        />
      )}
    </section>
  );
}
