// A version's comments: anyone adds one; its author edits or deletes it (the server checks).
import { useState } from "react";
import {
  addComment,
  deleteComment,
  editComment,
  listComments,
  type ActingUser,
  type ModelComment,
} from "../../api/registry";
import { ErrorBox, Loading } from "../../components/Status";
import { formatTime } from "../../format";
import { useApi } from "../../hooks/useApi";
import { useAction } from "./parts";

function CommentItem({
  comment,
  own,
  changed,
}: {
  comment: ModelComment;
  own: boolean;
  changed: () => void;
}) {
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(comment.comment);
  const action = useAction();
  const edited = comment.last_updated_timestamp > comment.creation_timestamp;
  return (
    <li className="comment" data-testid="comment">
      <div className="comment-head">
        <strong>{comment.author || "(default user)"}</strong>
        <span className="muted">
          {formatTime(comment.creation_timestamp)}
          {edited ? ` · edited ${formatTime(comment.last_updated_timestamp)}` : ""}
        </span>
        <span className="grow" />
        {own && !editing && (
          <>
            <button type="button" className="small" onClick={() => setEditing(true)} data-testid="comment-edit">
              Edit
            </button>
            <button
              type="button"
              className="small danger"
              disabled={action.busy}
              onClick={async () => {
                if (await action.run(() => deleteComment(comment.id))) changed();
              }}
              data-testid="comment-delete"
            >
              Delete
            </button>
          </>
        )}
      </div>
      {editing ? (
        <form
          onSubmit={async (event) => {
            event.preventDefault();
            if (await action.run(() => editComment(comment.id, draft))) {
              setEditing(false);
              changed();
            }
          }}
        >
          <textarea className="reg-textarea" rows={3} value={draft} onChange={(e) => setDraft(e.target.value)} aria-label="Comment" />
          <div className="toolbar">
            <button type="submit" className="primary" disabled={action.busy || !draft.trim()}>
              Save
            </button>
            <button type="button" onClick={() => setEditing(false)}>
              Cancel
            </button>
          </div>
        </form>
      ) : (
        <p className="comment-text" data-testid="comment-text">
          {comment.comment}
        </p>
      )}
      {action.error && <ErrorBox error={action.error} title="The server refused" />}
    </li>
  );
}

export function Comments({ name, version, user }: { name: string; version: string; user: ActingUser | undefined }) {
  const comments = useApi((signal) => listComments(name, version, signal), [name, version]);
  const [draft, setDraft] = useState("");
  const action = useAction();
  return (
    <section className="reg-section" data-testid="comments">
      <h2>Comments</h2>
      {comments.error ? (
        <ErrorBox error={comments.error} title="Could not load the comments" />
      ) : !comments.data ? (
        <Loading />
      ) : comments.data.length ? (
        <ul className="comments">
          {comments.data.map((c) => (
            <CommentItem key={c.id} comment={c} own={!!user && c.author === user.user} changed={comments.reload} />
          ))}
        </ul>
      ) : (
        <p className="muted">No comments yet.</p>
      )}
      <form
        onSubmit={async (event) => {
          event.preventDefault();
          if (await action.run(() => addComment(name, version, draft))) {
            setDraft("");
            comments.reload();
          }
        }}
      >
        <textarea
          className="reg-textarea"
          rows={3}
          placeholder="Add a comment"
          aria-label="New comment"
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
          data-testid="comment-input"
        />
        <div className="toolbar">
          <button type="submit" className="primary" disabled={action.busy || !draft.trim()} data-testid="comment-add">
            Comment
          </button>
        </div>
      </form>
      {action.error && <ErrorBox error={action.error} title="Could not add the comment" />}
    </section>
  );
}
