// A modal asking for an experiment name (create, rename); the server's refusal is shown in place.
import { useState, type FormEvent } from "react";

export function NameDialog({
  title,
  initial = "",
  action,
  onSubmit,
  onClose,
}: {
  title: string;
  initial?: string;
  action: string;
  onSubmit: (name: string) => Promise<unknown>;
  onClose: () => void;
}) {
  const [name, setName] = useState(initial);
  const [error, setError] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!name.trim()) {
      setError("A name is required.");
      return;
    }
    setBusy(true);
    onSubmit(name.trim())
      .then(onClose)
      .catch((err: Error) => {
        setError(err.message);
        setBusy(false);
      });
  };

  return (
    <div className="modal-backdrop" onMouseDown={onClose}>
      <form
        className="modal"
        role="dialog"
        aria-label={title}
        data-testid="name-dialog"
        onSubmit={submit}
        onMouseDown={(event) => event.stopPropagation()}
        onKeyDown={(event) => event.key === "Escape" && onClose()}
      >
        <h2>{title}</h2>
        <label className="field">
          Name
          <input
            autoFocus
            value={name}
            onChange={(event) => {
              setName(event.target.value);
              setError(undefined);
            }}
            aria-invalid={error ? true : undefined}
            className={error ? "invalid" : undefined}
            data-testid="name-input"
          />
        </label>
        {error && (
          <div className="field-error" role="alert" data-testid="name-error">
            {error}
          </div>
        )}
        <div className="toolbar dialog-actions">
          <span className="grow" />
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={busy} data-testid="name-submit">
            {action}
          </button>
        </div>
      </form>
    </div>
  );
}
