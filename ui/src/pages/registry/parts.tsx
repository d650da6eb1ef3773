// Pieces shared by the model and version pages: an editable description, a tag editor, and a hook that
// runs one action at a time and keeps its error to show in place.
import { useCallback, useState } from "react";
import type { Tag } from "../../api/types";
import { ErrorBox } from "../../components/Status";

/** Runs an async action, exposing whether it is running and its error (cleared on the next run). */
export function useAction(): {
  busy: boolean;
  error: Error | undefined;
  run: (action: () => Promise<unknown>) => Promise<boolean>;
  clear: () => void;
} {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | undefined>(undefined);
  const run = useCallback(async (action: () => Promise<unknown>) => {
    setBusy(true);
    setError(undefined);
    try {
      await action();
      return true;
    } catch (err) {
      setError(err as Error);
      return false;
    } finally {
      setBusy(false);
    }
  }, []);
  const clear = useCallback(() => setError(undefined), []);
  return { busy, error, run, clear };
}

/** A description shown as text, edited in a textarea; `save` persists it on the server. */
export function DescriptionEditor({
  text,
  save,
  testId = "description",
}: {
  text: string | undefined;
  save: (value: string) => Promise<unknown>;
  testId?: string;
}) {
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState("");
  const action = useAction();
  return (
    <section className="reg-section" data-testid={testId}>
      <div className="reg-section-head">
        <h2>Description</h2>
        {!editing && (
          <button
            type="button"
            onClick={() => {
              setDraft(text ?? "");
              setEditing(true);
              action.clear();
            }}
            data-testid={`${testId}-edit`}
          >
            Edit
          </button>
        )}
      </div>
      {editing ? (
        <form
          onSubmit={async (event) => {
            event.preventDefault();
            if (await action.run(() => save(draft))) setEditing(false);
          }}
        >
          <textarea
            className="reg-textarea"
            value={draft}
            onChange={(e) => setDraft(e.target.value)}
            aria-label="Description"
            data-testid={`${testId}-input`}
            rows={5}
          />
          <div className="toolbar">
            <button type="submit" className="primary" disabled={action.busy} data-testid={`${testId}-save`}>
              Save
            </button>
            <button type="button" onClick={() => setEditing(false)}>
              Cancel
            </button>
          </div>
        </form>
      ) : text ? (
        <p className="reg-description" data-testid={`${testId}-text`}>
          {text}
        </p>
      ) : (
        <p className="muted" data-testid={`${testId}-text`}>
          No description.
        </p>
      )}
      {action.error && <ErrorBox error={action.error} title="Could not save the description" />}
    </section>
  );
}

/** Tags as removable chips, with a form to set one (an existing key is overwritten). */
export function TagEditor({
  tags,
  set,
  remove,
}: {
  tags: Tag[] | undefined;
  set: (key: string, value: string) => Promise<unknown>;
  remove: (key: string) => Promise<unknown>;
}) {
  const [key, setKey] = useState("");
  const [value, setValue] = useState("");
  const action = useAction();
  const sorted = [...(tags ?? [])].sort((a, b) => a.key.localeCompare(b.key));
  return (
    <section className="reg-section" data-testid="tags">
      <h2>Tags</h2>
      {sorted.length ? (
        <div className="chips">
          {sorted.map((tag) => (
            <span key={tag.key} className="chip tag" data-testid="tag">
              <span className="mono">{tag.key}</span>
              {tag.value ? <>= {tag.value}</> : null}
              <button
                type="button"
                className="chip-remove"
                aria-label={`Remove tag ${tag.key}`}
                disabled={action.busy}
                onClick={() => action.run(() => remove(tag.key))}
              >
                ×
              </button>
            </span>
          ))}
        </div>
      ) : (
        <p className="muted">No tags.</p>
      )}
      <form
        className="toolbar"
        onSubmit={async (event) => {
          event.preventDefault();
          if (await action.run(() => set(key.trim(), value))) {
            setKey("");
            setValue("");
          }
        }}
      >
        <input placeholder="key" aria-label="Tag key" value={key} onChange={(e) => setKey(e.target.value)} data-testid="tag-key" />
        <input
          placeholder="value"
          aria-label="Tag value"
          value={value}
          onChange={(e) => setValue(e.target.value)}
          data-testid="tag-value"
        />
        <button type="submit" disabled={action.busy || !key.trim()} data-testid="tag-add">
          Set tag
        </button>
      </form>
      {action.error && <ErrorBox error={action.error} title="Could not change the tags" />}
    </section>
  );
}

/** A stage as a badge (None shown muted). */
export function StageBadge({ stage }: { stage: string | undefined }) {
  const value = stage || "None";
  return <span className={`badge stage stage-${value}`}>{value}</span>;
}
