// A version's transition requests: ask for a stage or an alias; approvers approve or reject a pending
// request, its requester cancels it. Buttons follow the acting user's rights; the server still decides,
// and its refusal is shown beside the request.
import { useState } from "react";
import {
  STAGES,
  approveRequest,
  cancelRequest,
  createRequest,
  listRequests,
  mayCancel,
  mayDecide,
  rejectRequest,
  type ActingUser,
  type TransitionRequest,
} from "../../api/registry";
import { ErrorBox, Loading } from "../../components/Status";
import { formatTime } from "../../format";
import { useApi } from "../../hooks/useApi";
import { useAction } from "./parts";

const who = (user: string | undefined) => user || "(default user)";

function target(request: TransitionRequest): string {
  return request.kind === "ALIAS" ? `alias @${request.alias}` : `stage ${request.stage}`;
}

function RequestItem({
  request,
  user,
  changed,
}: {
  request: TransitionRequest;
  user: ActingUser | undefined;
  changed: () => void;
}) {
  const [comment, setComment] = useState("");
  const [result, setResult] = useState("");
  const action = useAction();
  const decide = mayDecide(user, request);
  const cancel = mayCancel(user, request);
  const act = async (what: () => Promise<unknown>, done: string) => {
    setResult("");
    if (await action.run(what)) {
      setResult(done);
      setComment("");
      changed();
    }
  };
  return (
    <li className={`request request-${request.status}`} data-testid="request" data-request-id={request.id}>
      <div className="request-head">
        <span className={`badge request-status status-${request.status}`} data-testid="request-status">
          {request.status}
        </span>
        <strong>{target(request)}</strong>
        {request.archive_existing_versions && <span className="muted">(archive other versions)</span>}
        <span className="muted">
          asked by {who(request.requested_by)} · {formatTime(request.creation_timestamp)}
        </span>
      </div>
      {request.comment && <p className="request-comment">“{request.comment}”</p>}
      {request.status !== "PENDING" && request.decided_by !== undefined && request.decision_timestamp ? (
        <p className="muted">
          {request.status.toLowerCase()} by {who(request.decided_by)} · {formatTime(request.decision_timestamp)}
          {request.decision_comment ? ` — “${request.decision_comment}”` : ""}
        </p>
      ) : null}
      {request.status === "PENDING" && (decide || cancel) && (
        <div className="toolbar">
          {decide && (
            <>
              <input
                className="grow"
                placeholder="Decision comment (optional)"
                aria-label="Decision comment"
                value={comment}
                onChange={(e) => setComment(e.target.value)}
                data-testid="decision-comment"
              />
              <button
                type="button"
                className="primary"
                disabled={action.busy}
                onClick={() => act(() => approveRequest(request.id, comment), `Approved: ${target(request)} applied.`)}
                data-testid="request-approve"
              >
                Approve
              </button>
              <button
                type="button"
                className="danger"
                disabled={action.busy}
                onClick={() => act(() => rejectRequest(request.id, comment), "Rejected.")}
                data-testid="request-reject"
              >
                Reject
              </button>
            </>
          )}
          {cancel && (
            <button
              type="button"
              disabled={action.busy}
              onClick={() => act(() => cancelRequest(request.id), "Cancelled.")}
              data-testid="request-cancel"
            >
              Cancel request
            </button>
          )}
        </div>
      )}
      {request.status === "PENDING" && !decide && user && (
        <p className="muted" data-testid="request-no-rights">
          {!user.approver
            ? `Only approvers decide this request; ${who(user.user)} is not one.`
            : "You asked for this request: another approver decides it."}
        </p>
      )}
      {result && (
        <p className="ok-text" role="status" data-testid="request-result">
          {result}
        </p>
      )}
      {action.error && <ErrorBox error={action.error} title="The server refused" />}
    </li>
  );
}

function NewRequest({ name, version, created }: { name: string; version: string; created: () => void }) {
  const [kind, setKind] = useState<"stage" | "alias">("stage");
  const [stage, setStage] = useState("Staging");
  const [alias, setAlias] = useState("");
  const [archive, setArchive] = useState(false);
  const [comment, setComment] = useState("");
  const action = useAction();
  const archivable = kind === "stage" && (stage === "Staging" || stage === "Production");
  return (
    <form
      className="new-request"
      onSubmit={async (event) => {
        event.preventDefault();
        const goal = kind === "stage" ? { stage } : { alias: alias.trim() };
        if (await action.run(() => createRequest(name, version, goal, comment, archivable && archive))) {
          setComment("");
          setAlias("");
          created();
        }
      }}
      data-testid="new-request"
    >
      <div className="toolbar">
        <select value={kind} onChange={(e) => setKind(e.target.value as "stage" | "alias")} aria-label="Request kind">
          <option value="stage">Move to stage</option>
          <option value="alias">Point alias</option>
        </select>
        {kind === "stage" ? (
          <select value={stage} onChange={(e) => setStage(e.target.value)} aria-label="Stage" data-testid="request-stage">
            {STAGES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        ) : (
          <input placeholder="alias" aria-label="Alias" value={alias} onChange={(e) => setAlias(e.target.value)} />
        )}
        {archivable && (
          <label>
            <input type="checkbox" checked={archive} onChange={(e) => setArchive(e.target.checked)} /> archive other
            versions in {stage}
          </label>
        )}
        <input
          className="grow"
          placeholder="Why? (comment)"
          aria-label="Request comment"
          value={comment}
          onChange={(e) => setComment(e.target.value)}
          data-testid="request-comment"
        />
        <button type="submit" className="primary" disabled={action.busy || (kind === "alias" && !alias.trim())} data-testid="request-create">
          Request
        </button>
      </div>
      {action.error && <ErrorBox error={action.error} title="Could not create the request" />}
    </form>
  );
}

export function Requests({
  name,
  version,
  user,
  changed,
}: {
  name: string;
  version: string;
  user: ActingUser | undefined;
  changed: () => void;
}) {
  const requests = useApi((signal) => listRequests(name, version, signal), [name, version]);
  const reload = () => {
    requests.reload();
    changed();
  };
  const list = [...(requests.data ?? [])].reverse();
  return (
    <section className="reg-section" data-testid="requests">
      <h2>Transition requests</h2>
      {requests.error ? (
        <ErrorBox error={requests.error} title="Could not load the transition requests" />
      ) : !requests.data ? (
        <Loading />
      ) : list.length ? (
        <ul className="requests">
          {list.map((r) => (
            <RequestItem key={r.id} request={r} user={user} changed={reload} />
          ))}
        </ul>
      ) : (
        <p className="muted">No transition requests.</p>
      )}
      <NewRequest name={name} version={version} created={requests.reload} />
    </section>
  );
}
