// A registered model's (or one version's) history: the registry's own events, newest first.
import { useState } from "react";
import { Link } from "react-router-dom";
import { modelHistory, type RegistryEvent } from "../../api/registry";
import { ErrorBox, Loading } from "../../components/Status";
import { formatTime } from "../../format";
import { useApi } from "../../hooks/useApi";
import { versionPath } from "./paths";

const SHOWN = 200;

const KINDS: Record<string, string> = {
  model_created: "model created",
  model_renamed: "renamed",
  version_created: "version created",
  version_deleted: "version deleted",
  stage_changed: "stage changed",
  alias_set: "alias set",
  alias_deleted: "alias deleted",
  transition_requested: "transition requested",
  request_approved: "request approved",
  request_rejected: "request rejected",
  request_cancelled: "request cancelled",
  comment_added: "comment added",
};

function change(event: RegistryEvent): string {
  if (event.kind === "comment_added") return "";
  if (event.kind.startsWith("request_") || event.kind === "transition_requested") {
    return `request ${event.from_value ?? ""}${event.to_value ? ` → ${event.to_value}` : ""}`;
  }
  if (event.from_value && event.to_value) return `${event.from_value} → ${event.to_value}`;
  return event.to_value || event.from_value || "";
}

export function History({ name, version, refresh }: { name: string; version?: string; refresh: number }) {
  const history = useApi((signal) => modelHistory(name, version, signal), [name, version, refresh]);
  const [all, setAll] = useState(false);
  if (history.error) return <ErrorBox error={history.error} title="Could not load the history" />;
  if (!history.data) return <Loading />;
  const events = [...history.data].reverse();
  if (!events.length) return <p className="muted">No history yet.</p>;
  const shown = all ? events : events.slice(0, SHOWN);
  return (
    <>
      <ol className="timeline" data-testid="history">
        {shown.map((event) => (
          <li key={event.id} data-testid="history-event">
            <span className="muted nowrap">{formatTime(event.timestamp)}</span>
            <span className="timeline-kind">{KINDS[event.kind] ?? event.kind.replace(/_/g, " ")}</span>
            {event.version && !version && (
              <Link to={versionPath(name, event.version)}>v{event.version}</Link>
            )}
            <span className="mono">{change(event)}</span>
            {event.actor && <span className="muted">by {event.actor}</span>}
            {event.comment && <span className="timeline-comment">“{event.comment}”</span>}
          </li>
        ))}
      </ol>
      {!all && events.length > SHOWN && (
        <button type="button" onClick={() => setAll(true)}>
          Show all {events.length} events
        </button>
      )}
    </>
  );
}
