import type { ReactNode } from "react";
import { ApiError } from "../api/client";

/** An error shown in place of the content it replaces, with the server's code when there is one. */
export function ErrorBox({ error, title }: { error: Error | string; title?: string }) {
  const message = typeof error === "string" ? error : error.message;
  const code = error instanceof ApiError ? error.code : undefined;
  return (
    <div className="error-box" role="alert" data-testid="error">
      {title && <strong>{title}: </strong>}
      {message}
      {code && <span className="error-code"> ({code})</span>}
    </div>
  );
}

export function Loading({ label = "Loading…" }: { label?: string }) {
  return (
    <div className="loading" role="status" aria-live="polite" data-testid="loading">
      <span className="spinner" aria-hidden="true" />
      {label}
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="empty">{children}</div>;
}
