import { useCallback, useEffect, useRef, useState } from "react";
import type { Page } from "../api/client";

export interface PagedList<T> {
  /** Every item loaded so far; undefined until the first page arrives. */
  items: T[] | undefined;
  error: Error | undefined;
  loading: boolean;
  /** Whether the server has more pages. */
  hasMore: boolean;
  /** Appends the next page. */
  loadMore: () => void;
  /** Starts again from the first page. */
  reload: () => void;
}

/**
 * A list read page by page with the server's page tokens ("load more"): the first page loads when `deps`
 * change (aborting the previous request), `loadMore` appends the next.
 */
export function usePagedList<T>(
  loadPage: (pageToken: string | undefined, signal?: AbortSignal) => Promise<Page<T>>,
  deps: unknown[],
): PagedList<T> {
  const [items, setItems] = useState<T[] | undefined>(undefined);
  const [next, setNext] = useState<string | undefined>(undefined);
  const [error, setError] = useState<Error | undefined>(undefined);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const loadRef = useRef(loadPage);
  loadRef.current = loadPage;

  useEffect(() => {
    const controller = new AbortController();
    setLoading(true);
    loadRef
      .current(undefined, controller.signal)
      .then((page) => {
        setItems(page.items);
        setNext(page.nextPageToken);
        setError(undefined);
        setLoading(false);
      })
      .catch((err: Error) => {
        if (err.name === "AbortError") return;
        setError(err);
        setLoading(false);
      });
    return () => controller.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);

  const loadMore = useCallback(() => {
    if (!next) return;
    setLoading(true);
    loadRef
      .current(next)
      .then((page) => {
        setItems((current) => [...(current ?? []), ...page.items]);
        setNext(page.nextPageToken);
      })
      .catch((err: Error) => setError(err))
      .finally(() => setLoading(false));
  }, [next]);

  const reload = useCallback(() => setTick((n) => n + 1), []);
  return { items, error, loading, hasMore: Boolean(next), loadMore, reload };
}
