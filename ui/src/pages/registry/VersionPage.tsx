import { useState } from "react";
import { Link, useParams } from "react-router-dom";
import { ApiError } from "../../api/client";
import {
  STAGES,
  actingUser,
  deleteVersionTag,
  getVersion,
  setVersionTag,
  transitionStage,
  updateVersion,
  versionArtifactUrl,
  type Version,
} from "../../api/registry";
import { ErrorBox, Loading } from "../../components/Status";
import { formatTime } from "../../format";
import { useApi } from "../../hooks/useApi";
import { Comments } from "./Comments";
import { History } from "./History";
import { DescriptionEditor, StageBadge, TagEditor, useAction } from "./parts";
import { modelPath, runPath } from "./paths";
import { Requests } from "./Requests";
import { Signature } from "./Signature";
import "./registry.css";

/** One model version: where it comes from, its signature, stage, comments and transition requests. */
export function VersionPage() {
  const params = useParams();
  const name = params.name ?? "";
  const number = params.version ?? "";
  const version = useApi((signal) => getVersion(name, number, signal), [name, number]);
  const user = useApi((signal) => actingUser(signal), []);
  const [changes, setChanges] = useState(0);
  const changed = () => {
    version.reload();
    setChanges((n) => n + 1);
  };

  const crumbs = (
    <p className="crumbs">
      <Link to="/models">Models</Link> / <Link to={modelPath(name)}>{name}</Link> /
    </p>
  );
  if (version.error && !version.data) {
    const missing = version.error instanceof ApiError && version.error.status === 404;
    return (
      <div className="registry">
        {crumbs}
        <ErrorBox
          error={missing ? `${version.error.message}` : version.error}
          title={missing ? `No version ${number} of model “${name}”` : "Could not load the version"}
        />
      </div>
    );
  }
  if (!version.data) return <Loading />;
  const v = version.data;
  return (
    <div className="registry" data-testid="version-page">
      {crumbs}
      <h1>
        {v.name} <span className="muted">version</span> {v.version} <StageBadge stage={v.current_stage} />
      </h1>
      {version.error && <ErrorBox error={version.error} title="Could not refresh the version" />}
      {user.error && <ErrorBox error={user.error} title="Could not tell who you act as" />}
      <Facts version={v} />
      <div className="reg-columns">
        <DescriptionEditor
          text={v.description}
          save={async (description) => {
            await updateVersion(v.name, v.version, description);
            version.reload();
          }}
        />
        <TagEditor
          tags={v.tags}
          set={async (key, value) => {
            await setVersionTag(v.name, v.version, key, value);
            version.reload();
          }}
          remove={async (key) => {
            await deleteVersionTag(v.name, v.version, key);
            version.reload();
          }}
        />
      </div>
      <Signature name={v.name} version={v.version} />
      <StageTransition version={v} changed={changed} />
      <Requests name={v.name} version={v.version} user={user.data} changed={changed} />
      <Comments name={v.name} version={v.version} user={user.data} />
      <section className="reg-section">
        <h2>History</h2>
        <History name={v.name} version={v.version} refresh={changes} />
      </section>
    </div>
  );
}

function Facts({ version: v }: { version: Version }) {
  return (
    <dl className="kv reg-facts" data-testid="version-facts">
      <dt>Source run</dt>
      <dd>
        {v.run_id ? (
          <Link to={runPath(v.run_id)} className="mono" data-testid="source-run">
            {v.run_id}
          </Link>
        ) : (
          <span className="muted">none</span>
        )}
      </dd>
      <dt>Source</dt>
      <dd className="mono" data-testid="source-uri">
        {v.source}
      </dd>
      <dt>Status</dt>
      <dd data-testid="version-status">
        {v.status}
        {v.status_message ? <span className="muted"> — {v.status_message}</span> : null}
      </dd>
      <dt>Stage</dt>
      <dd data-testid="version-stage">{v.current_stage || "None"}</dd>
      <dt>Aliases</dt>
      <dd data-testid="version-aliases">
        {v.aliases?.length ? v.aliases.map((a) => <span key={a} className="chip alias">@{a}</span>) : <span className="muted">none</span>}
      </dd>
      <dt>Created</dt>
      <dd>
        {formatTime(v.creation_timestamp)}
        {v.user_id ? ` by ${v.user_id}` : ""}
      </dd>
      <dt>Last updated</dt>
      <dd>{formatTime(v.last_updated_timestamp)}</dd>
      {v.model_id && (
        <>
          <dt>Logged model</dt>
          <dd className="mono">{v.model_id}</dd>
        </>
      )}
      <dt>Files</dt>
      <dd>
        <a href={versionArtifactUrl(v.name, v.version, "MLmodel")}>MLmodel</a>
      </dd>
    </dl>
  );
}

/** A direct stage change (approvers only on a protected model: the server's refusal shows here). */
function StageTransition({ version, changed }: { version: Version; changed: () => void }) {
  const [stage, setStage] = useState(version.current_stage === "Staging" ? "Production" : "Staging");
  const [archive, setArchive] = useState(false);
  const action = useAction();
  const archivable = stage === "Staging" || stage === "Production";
  return (
    <section className="reg-section" data-testid="stage-transition">
      <h2>Stage</h2>
      <form
        className="toolbar"
        onSubmit={async (event) => {
          event.preventDefault();
          if (await action.run(() => transitionStage(version.name, version.version, stage, archivable && archive))) {
            changed();
          }
        }}
      >
        <span>
          Now <StageBadge stage={version.current_stage} />. Move to
        </span>
        <select value={stage} onChange={(e) => setStage(e.target.value)} aria-label="New stage" data-testid="transition-stage">
          {STAGES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
        {archivable && (
          <label>
            <input type="checkbox" checked={archive} onChange={(e) => setArchive(e.target.checked)} /> archive other
            versions in {stage}
          </label>
        )}
        <button type="submit" disabled={action.busy || stage === version.current_stage} data-testid="transition-submit">
          Move now
        </button>
        <span className="muted">or ask an approver below.</span>
      </form>
      {action.error && <ErrorBox error={action.error} title="The server refused the stage change" />}
    </section>
  );
}
