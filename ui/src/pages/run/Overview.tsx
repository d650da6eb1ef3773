// The run's facts: status, times, user, source, git commit, experiment, parent and child runs, datasets,
// description.
import { Link } from "react-router-dom";
import { childRuns } from "../../api/run";
import { type Run, SYSTEM_TAGS, tagValue } from "../../api/types";
import { ErrorBox } from "../../components/Status";
import { formatDuration, formatTime } from "../../format";
import { useApi } from "../../hooks/useApi";

function Row({ label, children, testId }: { label: string; children: React.ReactNode; testId?: string }) {
  return (
    <>
      <dt>{label}</dt>
      <dd data-testid={testId}>{children || <span className="muted">—</span>}</dd>
    </>
  );
}

function ChildRuns({ run }: { run: Run }) {
  const children = useApi(() => childRuns(run.info.run_id, run.info.experiment_id), [run.info.run_id]);
  if (children.error) return <ErrorBox error={children.error} title="Child runs" />;
  if (!children.data) return <span className="muted">…</span>;
  if (!children.data.length) return <span className="muted">none</span>;
  return (
    <ul className="plain-list" data-testid="child-runs">
      {children.data.map((child) => (
        <li key={child.info.run_id}>
          <Link to={`/runs/${child.info.run_id}`}>{child.info.run_name || child.info.run_id}</Link>{" "}
          <span className={`badge status-${child.info.status}`}>{child.info.status}</span>
        </li>
      ))}
    </ul>
  );
}

export function Overview({ run }: { run: Run }) {
  const { info, data } = run;
  const tags = data.tags;
  const parent = tagValue(tags, SYSTEM_TAGS.parentRunId);
  const note = tagValue(tags, SYSTEM_TAGS.note);
  const datasets = run.inputs?.dataset_inputs ?? [];
  return (
    <div className="run-overview" data-testid="run-overview">
      <dl className="kv">
        <Row label="Run id" testId="run-id">
          <code>{info.run_id}</code>
        </Row>
        <Row label="Status" testId="run-status">
          <span className={`badge status-${info.status}`}>{info.status}</span>
        </Row>
        <Row label="Started">{formatTime(info.start_time)}</Row>
        <Row label="Ended">{info.end_time ? formatTime(info.end_time) : ""}</Row>
        <Row label="Duration" testId="run-duration">
          {formatDuration(info.start_time, info.end_time)}
        </Row>
        <Row label="User" testId="run-user">
          {info.user_id || tagValue(tags, SYSTEM_TAGS.user)}
        </Row>
        <Row label="Source" testId="run-source">
          {tagValue(tags, SYSTEM_TAGS.sourceName)}
          {tagValue(tags, SYSTEM_TAGS.sourceType) && (
            <span className="muted"> ({tagValue(tags, SYSTEM_TAGS.sourceType)})</span>
          )}
        </Row>
        <Row label="Git commit" testId="run-git-commit">
          {tagValue(tags, SYSTEM_TAGS.gitCommit) && <code>{tagValue(tags, SYSTEM_TAGS.gitCommit)}</code>}
        </Row>
        <Row label="Experiment">
          <Link to={`/experiments/${info.experiment_id}`} data-testid="experiment-link">
            {info.experiment_id}
          </Link>
        </Row>
        <Row label="Artifact URI">{info.artifact_uri && <code>{info.artifact_uri}</code>}</Row>
        <Row label="Parent run">
          {parent && (
            <Link to={`/runs/${parent}`} data-testid="parent-run">
              {parent}
            </Link>
          )}
        </Row>
        <Row label="Child runs">
          <ChildRuns run={run} />
        </Row>
        <Row label="Datasets" testId="run-datasets">
          {datasets.length > 0 && (
            <ul className="plain-list">
              {datasets.map((d, i) => (
                <li key={`${d.dataset.name}-${d.dataset.digest}-${i}`}>
                  <strong>{d.dataset.name}</strong> <code className="muted">{d.dataset.digest}</code>
                  {d.dataset.source_type && <span className="muted"> · {d.dataset.source_type}</span>}
                  {d.tags?.map((t) => (
                    <span key={t.key} className="badge">
                      {t.key}={t.value}
                    </span>
                  ))}
                </li>
              ))}
            </ul>
          )}
        </Row>
      </dl>
      <h3>Description</h3>
      {note ? (
        <pre className="run-note" data-testid="run-description">
          {note}
        </pre>
      ) : (
        <p className="muted">No description.</p>
      )}
    </div>
  );
}
