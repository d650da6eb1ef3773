import { useState } from "react";
import { Link, useParams } from "react-router-dom";
import { ApiError } from "../../api/client";
import {
  deleteAlias,
  deleteModelTag,
  getModel,
  searchVersions,
  setAlias,
  setModelTag,
  updateModel,
  type Model,
  type Version,
} from "../../api/registry";
import { ErrorBox, Loading } from "../../components/Status";
import { formatTime } from "../../format";
import { useApi } from "../../hooks/useApi";
import { usePagedList } from "../../hooks/usePagedList";
import { useUrlState } from "../../hooks/useUrlState";
import { History } from "./History";
import { DescriptionEditor, StageBadge, TagEditor, useAction } from "./parts";
import { runPath, versionPath } from "./paths";
import "./registry.css";

/** A registered model: description, owner, tags, aliases, stages, versions and history. */
export function ModelPage() {
  const name = useParams().name ?? "";
  const [tab, setTab] = useUrlState("tab", "versions");
  const model = useApi((signal) => getModel(name, signal), [name]);
  // Bumped after a change that alters the versions (an alias set or deleted), to reload them.
  const [changes, setChanges] = useState(0);
  const changed = () => {
    model.reload();
    setChanges((n) => n + 1);
  };

  if (model.error && !model.data) {
    const missing = model.error instanceof ApiError && model.error.status === 404;
    return (
      <div className="registry">
        <p className="crumbs">
          <Link to="/models">Models</Link> /
        </p>
        <ErrorBox
          error={missing ? `No registered model is named “${name}”.` : model.error}
          title={missing ? "Unknown model" : "Could not load the model"}
        />
      </div>
    );
  }
  if (!model.data) return <Loading />;
  const m = model.data;
  return (
    <div className="registry" data-testid="model-page">
      <p className="crumbs">
        <Link to="/models">Models</Link> /
      </p>
      <h1 data-testid="model-name">
        {m.name} {m.protected && <span className="badge" title="Only approvers change stages and aliases">protected</span>}
      </h1>
      <dl className="kv reg-facts">
        <dt>Owner</dt>
        <dd data-testid="model-owner">{m.owner || <span className="muted">none</span>}</dd>
        <dt>Created</dt>
        <dd>{formatTime(m.creation_timestamp)}</dd>
        <dt>Last updated</dt>
        <dd>{formatTime(m.last_updated_timestamp)}</dd>
        <dt>Stages</dt>
        <dd>
          <Stages model={m} />
        </dd>
      </dl>
      {model.error && <ErrorBox error={model.error} title="Could not refresh the model" />}
      <DescriptionEditor
        text={m.description}
        save={async (description) => {
          await updateModel(m.name, { description });
          model.reload();
        }}
      />
      <div className="reg-columns">
        <TagEditor
          tags={m.tags}
          set={async (key, value) => {
            await setModelTag(m.name, key, value);
            model.reload();
          }}
          remove={async (key) => {
            await deleteModelTag(m.name, key);
            model.reload();
          }}
        />
        <Aliases model={m} changed={changed} />
      </div>
      <div className="tabs" role="tablist">
        {(["versions", "history"] as const).map((t) => (
          <button
            key={t}
            type="button"
            role="tab"
            aria-selected={tab === t}
            className={tab === t ? "active" : ""}
            onClick={() => setTab(t)}
            data-testid={`tab-${t}`}
          >
            {t === "versions" ? "Versions" : "History"}
          </button>
        ))}
      </div>
      {tab === "history" ? (
        <History name={m.name} refresh={changes + (m.last_updated_timestamp ?? 0)} />
      ) : (
        <VersionsTable name={m.name} refresh={changes} />
      )}
    </div>
  );
}

/** The newest version in each stage (MLflow's `latest_versions`). */
function Stages({ model }: { model: Model }) {
  const latest = (model.latest_versions ?? []).filter((v) => v.current_stage && v.current_stage !== "None");
  if (!latest.length) return <span className="muted">no version in Staging, Production or Archived</span>;
  return (
    <span className="chips" data-testid="model-stages">
      {latest.map((v) => (
        <Link key={v.version} to={versionPath(model.name, v.version)} className="chip">
          {v.current_stage}: v{v.version}
        </Link>
      ))}
    </span>
  );
}

function Aliases({ model, changed }: { model: Model; changed: () => void }) {
  const [alias, setAliasName] = useState("");
  const [version, setVersion] = useState("");
  const action = useAction();
  const aliases = model.aliases ?? [];
  return (
    <section className="reg-section" data-testid="aliases">
      <h2>Aliases</h2>
      {aliases.length ? (
        <table className="grid compact">
          <tbody>
            {aliases.map((a) => (
              <tr key={a.alias} data-testid="alias-row">
                <td className="mono">@{a.alias}</td>
                <td>
                  <Link to={versionPath(model.name, a.version)}>Version {a.version}</Link>
                </td>
                <td className="num">
                  <button
                    type="button"
                    className="danger small"
                    disabled={action.busy}
                    aria-label={`Delete alias ${a.alias}`}
                    onClick={async () => {
                      if (await action.run(() => deleteAlias(model.name, a.alias))) changed();
                    }}
                  >
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p className="muted">No aliases.</p>
      )}
      <form
        className="toolbar"
        onSubmit={async (event) => {
          event.preventDefault();
          if (await action.run(() => setAlias(model.name, alias.trim(), version.trim()))) {
            setAliasName("");
            setVersion("");
            changed();
          }
        }}
      >
        <input
          placeholder="alias (e.g. champion)"
          aria-label="Alias"
          value={alias}
          onChange={(e) => setAliasName(e.target.value)}
          data-testid="alias-name"
        />
        <input
          placeholder="version"
          aria-label="Version"
          className="narrow"
          value={version}
          onChange={(e) => setVersion(e.target.value)}
          data-testid="alias-version"
        />
        <button type="submit" disabled={action.busy || !alias.trim() || !version.trim()} data-testid="alias-set">
          Set alias
        </button>
      </form>
      {action.error && <ErrorBox error={action.error} title="Could not change the alias" />}
    </section>
  );
}

/** The model's versions, newest first, a page of 100 at a time. */
function VersionsTable({ name, refresh }: { name: string; refresh: number }) {
  const list = usePagedList<Version>((token, signal) => searchVersions(name, token, signal), [name, refresh]);
  const { error, loading } = list;
  const next = list.hasMore;
  const more = list.loadMore;

  const versions = list.items ?? [];
  if (error && !versions.length) return <ErrorBox error={error} title="Could not list the versions" />;
  if (loading && !versions.length) return <Loading />;
  if (!versions.length) return <p className="muted">No versions yet.</p>;
  return (
    <>
      <table className="grid" data-testid="versions-table">
        <thead>
          <tr>
            <th>Version</th>
            <th>Stage</th>
            <th>Aliases</th>
            <th>Created</th>
            <th>User</th>
            <th>Source run</th>
            <th>Status</th>
            <th>Description</th>
          </tr>
        </thead>
        <tbody>
          {versions.map((v) => (
            <tr key={v.version} data-testid="version-row">
              <td>
                <Link to={versionPath(name, v.version)}>Version {v.version}</Link>
              </td>
              <td>
                <StageBadge stage={v.current_stage} />
              </td>
              <td>
                {(v.aliases ?? []).map((a) => (
                  <span key={a} className="chip alias">
                    @{a}
                  </span>
                ))}
              </td>
              <td className="nowrap">{formatTime(v.creation_timestamp)}</td>
              <td>{v.user_id}</td>
              <td className="mono">{v.run_id ? <Link to={runPath(v.run_id)}>{v.run_id.slice(0, 8)}</Link> : ""}</td>
              <td>{v.status}</td>
              <td className="muted">{v.description}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {error && <ErrorBox error={error} title="Could not load more versions" />}
      {next && (
        <div className="toolbar pager">
          <button type="button" onClick={more} disabled={loading} data-testid="versions-more">
            Load more versions
          </button>
        </div>
      )}
    </>
  );
}
