import { useCallback, useEffect, useState } from "react";
import { useSearchParams } from "react-router-dom";

// Changes made in the current event, not yet in the URL (the router navigates asynchronously).
let pending: URLSearchParams | null = null;

/** The query string of the current hash route with this event's earlier changes, read at call time. */
function liveParams(): URLSearchParams {
  if (pending) return new URLSearchParams(pending);
  const hash = window.location.hash;
  const at = hash.indexOf("?");
  return new URLSearchParams(at < 0 ? "" : hash.slice(at + 1));
}

function remember(params: URLSearchParams): void {
  if (!pending) window.setTimeout(() => (pending = null), 0);
  pending = params;
}

/**
 * A piece of view state kept in the URL's query string, so a link reproduces the view.
 * Setting the default value removes the key; `replace` avoids a history entry per keystroke.
 */
export function useUrlState(key: string, fallback = ""): [string, (value: string, replace?: boolean) => void] {
  const [params, setParams] = useSearchParams();
  const urlValue = params.get(key) ?? fallback;
  // The value just set, shown until the URL has it: the router navigates asynchronously, and a
  // controlled input (a checkbox) must show its new state in the same frame as the click.
  const [shown, setShown] = useState<string | null>(null);
  useEffect(() => setShown(null), [urlValue]);
  const value = shown ?? urlValue;
  const setValue = useCallback(
    (next: string, replace = true) => {
      setShown(next === "" ? fallback : next);
      // Start from the live URL, not the params captured at render: two setters called in one event
      // would otherwise each write their own stale copy and the second would undo the first.
      const updated = liveParams();
      if (next === fallback || next === "") updated.delete(key);
      else updated.set(key, next);
      remember(updated);
      setParams(updated, { replace });
    },
    [key, fallback, setParams],
  );
  return [value, setValue];
}

/** A list in the URL, comma-separated (items are URI-encoded so commas inside survive). */
export function useUrlList(key: string): [string[], (value: string[], replace?: boolean) => void] {
  const [raw, setRaw] = useUrlState(key);
  const list = raw ? raw.split(",").map((item) => decodeURIComponent(item)) : [];
  const setList = useCallback(
    (next: string[], replace = true) => setRaw(next.map((item) => encodeURIComponent(item)).join(","), replace),
    [setRaw],
  );
  return [list, setList];
}
