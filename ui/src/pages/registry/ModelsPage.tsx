import { useEffect, useState } from "react";
import { Link, useSearchParams } from "react-router-dom";
import { nameFilter, searchModels } from "../../api/registry";
import { Empty, ErrorBox, Loading } from "../../components/Status";
import { formatTime } from "../../format";
import { useApi } from "../../hooks/useApi";
import { excerpt, modelPath, versionPath } from "./paths";
import "./registry.css";

const ORDERS: Record<string, string> = {
  name: "name ASC",
  updated: "last_updated_timestamp DESC",
};

/** The registered models, searched by name on the server, a page at a time (state in the URL). */
export function ModelsPage() {
  const [params, setParams] = useSearchParams();
  const query = params.get("q") ?? "";
  const order = params.get("order") ?? "name";
  // The page tokens that led to the current page (the first page has none): back and forth in the URL.
  const tokens = (params.get("pages") ?? "").split(",").filter(Boolean).map(decodeURIComponent);
  /** Several keys at once (one history entry); "" removes a key. */
  const update = (changes: Record<string, string>, replace = false) =>
    setParams(
      (current) => {
        const next = new URLSearchParams(current);
        for (const [key, value] of Object.entries(changes)) {
          if (value) next.set(key, value);
          else next.delete(key);
        }
        return next;
      },
      { replace },
    );
  const setTokens = (list: string[]) => update({ pages: list.map(encodeURIComponent).join(",") });
  const [draft, setDraft] = useState(query);
  useEffect(() => setDraft(query), [query]);

  const token = tokens.length ? tokens[tokens.length - 1] : undefined;
  const { data, error, loading } = useApi(
    (signal) => searchModels({ filter: nameFilter(query), orderBy: ORDERS[order] ?? ORDERS.name, pageToken: token }, signal),
    [query, order, token ?? ""],
  );

  const submit = (event: React.FormEvent) => {
    event.preventDefault();
    update({ q: draft.trim(), pages: "" });
  };

  return (
    <div className="registry">
      <h1>Registered models</h1>
      <form className="toolbar" onSubmit={submit} role="search">
        <input
          className="grow"
          type="search"
          placeholder="Search models by name"
          aria-label="Search models by name"
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
          data-testid="model-search"
        />
        <button type="submit">Search</button>
        <label className="muted">
          Order{" "}
          <select
            value={order}
            onChange={(e) => update({ order: e.target.value === "name" ? "" : e.target.value, pages: "" })}
            data-testid="model-order"
          >
            <option value="name">name</option>
            <option value="updated">last updated</option>
          </select>
        </label>
      </form>
      {error ? (
        <ErrorBox error={error} title="Could not list the models" />
      ) : loading && !data ? (
        <Loading />
      ) : data && data.items.length === 0 ? (
        <Empty>
          {query ? (
            <>No registered model's name contains “{query}”.</>
          ) : (
            <>No registered models yet. Register one with the client: <code>client.create_model_version(...)</code>.</>
          )}
        </Empty>
      ) : data ? (
        <>
          <table className="grid models-table" data-testid="models-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Latest versions</th>
                <th>Aliases</th>
                <th>Last updated</th>
                <th>Description</th>
                <th>Tags</th>
              </tr>
            </thead>
            <tbody>
              {data.items.map((model) => (
                <tr key={model.name} data-testid="model-row">
                  <td>
                    <Link to={modelPath(model.name)}>{model.name}</Link>
                  </td>
                  <td>
                    {(model.latest_versions ?? []).map((v) => (
                      <Link key={v.version} to={versionPath(model.name, v.version)} className="chip">
                        v{v.version}
                        {v.current_stage && v.current_stage !== "None" ? ` · ${v.current_stage}` : ""}
                      </Link>
                    ))}
                  </td>
                  <td>
                    {(model.aliases ?? []).map((a) => (
                      <Link key={a.alias} to={versionPath(model.name, a.version)} className="chip alias">
                        @{a.alias} → v{a.version}
                      </Link>
                    ))}
                  </td>
                  <td className="nowrap">{formatTime(model.last_updated_timestamp)}</td>
                  <td className="muted">{excerpt(model.description)}</td>
                  <td>
                    {(model.tags ?? []).map((t) => (
                      <span key={t.key} className="chip tag">
                        {t.key}
                        {t.value ? `=${t.value}` : ""}
                      </span>
                    ))}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <div className="toolbar pager">
            <button type="button" disabled={!tokens.length} onClick={() => setTokens(tokens.slice(0, -1))}>
              ← Previous
            </button>
            <span className="muted">Page {tokens.length + 1}</span>
            <button
              type="button"
              disabled={!data.nextPageToken}
              onClick={() => data.nextPageToken && setTokens([...tokens, data.nextPageToken])}
              data-testid="next-page"
            >
              Next →
            </button>
            {loading && <span className="muted">Loading…</span>}
          </div>
        </>
      ) : null}
    </div>
  );
}
