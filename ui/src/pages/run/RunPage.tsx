// The run page (/runs/:runId?tab=...): overview, params, metrics, tags, artifacts. A RUNNING run is
// re-read every 1.5 s (status, latest values) and its charts refresh live.
import { useEffect, useState } from "react";
import { Link, useParams } from "react-router-dom";
import { getRun } from "../../api/run";
import { ErrorBox, Loading } from "../../components/Status";
import { formatDuration } from "../../format";
import { useApi } from "../../hooks/useApi";
import { useUrlState } from "../../hooks/useUrlState";
import { ArtifactBrowser } from "./ArtifactBrowser";
import { MetricsTab } from "./MetricsTab";
import { Overview } from "./Overview";
import { ParamsTable } from "./ParamsTable";
import { TagsTable } from "./TagsTable";
import "./run.css";

const TABS = [
  ["overview", "Overview"],
  ["metrics", "Metrics"],
  ["params", "Params"],
  ["tags", "Tags"],
  ["artifacts", "Artifacts"],
] as const;
const LIVE_MS = 1500;

export function RunPage() {
  const { runId = "" } = useParams();
  const [tab, setTab] = useUrlState("tab", "overview");
  // One request per load; while the run is RUNNING the same request repeats every LIVE_MS.
  const [polling, setPolling] = useState(false);
  const state = useApi((signal) => getRun(runId, signal), [runId], polling ? LIVE_MS : undefined);
  const run = state.data;
  const running = run?.info.status === "RUNNING";
  useEffect(() => setPolling(running), [running]);

  if (state.error && !run) {
    const missing = (state.error as { status?: number }).status === 404;
    return (
      <div className="run-page" data-testid="run-page">
        <ErrorBox error={state.error} title={missing ? `No run with id ${runId}` : "Could not load the run"} />
        <p>
          <Link to="/experiments">Back to the experiments</Link>
        </p>
      </div>
    );
  }
  if (!run || run.info.run_id !== runId) return <Loading label="Loading the run…" />;
  const { info } = run;
  const current = TABS.some(([id]) => id === tab) ? tab : "overview";
  return (
    <div className="run-page" data-testid="run-page">
      <div className="run-header">
        <div className="muted run-breadcrumb">
          <Link to={`/experiments/${info.experiment_id}`}>Experiment {info.experiment_id}</Link> / run
        </div>
        <h1 data-testid="run-name">
          {info.run_name || info.run_id}{" "}
          <span className={`badge status-${info.status}`} data-testid="run-status-badge">
            {info.status}
          </span>
        </h1>
        <div className="muted">
          {formatDuration(info.start_time, info.end_time)}
          {running && " · live"}
          {info.lifecycle_stage === "deleted" && " · deleted"}
        </div>
      </div>
      <div className="tabs" role="tablist">
        {TABS.map(([id, label]) => (
          <button
            key={id}
            type="button"
            role="tab"
            aria-selected={current === id}
            className={current === id ? "active" : ""}
            data-testid={`tab-${id}`}
            onClick={() => setTab(id, false)}
          >
            {label}
            {id === "params" && ` (${run.data.params?.length ?? 0})`}
            {id === "metrics" && ` (${run.data.metrics?.length ?? 0})`}
          </button>
        ))}
      </div>
      {current === "overview" && <Overview run={run} />}
      {current === "metrics" && <MetricsTab run={run} live={running} />}
      {current === "params" && <ParamsTable run={run} />}
      {current === "tags" && <TagsTable run={run} />}
      {current === "artifacts" && <ArtifactBrowser runId={runId} />}
    </div>
  );
}
