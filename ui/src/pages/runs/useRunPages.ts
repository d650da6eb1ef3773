// The runs of a query, page by page (runs/search with page_token), for infinite scrolling; while a loaded
// run is RUNNING, the loaded running runs are fetched again every LIVE_MS and replaced in place (order,
// scroll position and selection are kept). In the default order (newest first), runs started after the
// table loaded are looked for every NEW_RUNS_MS and put on top.
import { useCallback, useEffect, useRef, useState } from "react";
import { type RunQuery, runsById, searchRuns } from "../../api/runs";
import type { Run } from "../../api/types";

export const LIVE_MS = 2000;
const LIVE_MAX = 200;
export const NEW_RUNS_MS = 4000;

export interface RunPages {
  runs: Run[];
  /** True while the query's first page is loading. */
  loading: boolean;
  loadingMore: boolean;
  hasMore: boolean;
  /** The last failure (the query's or a later page's); the runs loaded before stay. */
  error: Error | undefined;
  loadMore: () => void;
}

export function useRunPages(
  experimentIds: string[],
  filter: string,
  orderBy: string[],
  viewType: RunQuery["viewType"] = "ACTIVE_ONLY",
): RunPages {
  const [runs, setRuns] = useState<Run[]>([]);
  const [nextToken, setNextToken] = useState<string | undefined>(undefined);
  const [loading, setLoading] = useState(true);
  const [loadingMore, setLoadingMore] = useState(false);
  const [error, setError] = useState<Error | undefined>(undefined);
  // Each query is a generation: answers to an older one are dropped.
  const generation = useRef(0);
  const moreBusy = useRef(false);
  const ids = experimentIds.join(",");
  const order = orderBy.join("\n");

  useEffect(() => {
    const current = ++generation.current;
    const controller = new AbortController();
    moreBusy.current = false;
    setLoading(true);
    setLoadingMore(false);
    searchRuns(
      { experimentIds: ids.split(","), filter, orderBy: order ? order.split("\n") : [], viewType },
      controller.signal,
    )
      .then((page) => {
        if (current !== generation.current) return;
        setRuns(page.runs ?? []);
        setNextToken(page.next_page_token);
        setError(undefined);
        setLoading(false);
      })
      .catch((err: Error) => {
        if (err.name === "AbortError" || current !== generation.current) return;
        setError(err);
        setLoading(false);
      });
    return () => controller.abort();
  }, [ids, filter, order, viewType]);

  const loadMore = useCallback(() => {
    if (!nextToken || moreBusy.current) return;
    const current = generation.current;
    moreBusy.current = true;
    setLoadingMore(true);
    searchRuns({
      experimentIds: ids.split(","),
      filter,
      orderBy: order ? order.split("\n") : [],
      pageToken: nextToken,
      viewType,
    })
      .then((page) => {
        if (current !== generation.current) return;
        setRuns((prev) => [...prev, ...(page.runs ?? [])]);
        setNextToken(page.next_page_token);
      })
      .catch((err: Error) => current === generation.current && setError(err))
      .finally(() => {
        if (current !== generation.current) return;
        moreBusy.current = false;
        setLoadingMore(false);
      });
  }, [ids, filter, order, nextToken, viewType]);

  // New runs: in the default order they come first, so the first page shows any started since loading.
  const loaded = runs.length > 0;
  useEffect(() => {
    if (order || !loaded) return undefined;
    const controller = new AbortController();
    const timer = window.setInterval(() => {
      const current = generation.current;
      searchRuns({ experimentIds: ids.split(","), filter, viewType, maxResults: 50 }, controller.signal)
        .then((page) => {
          if (current !== generation.current) return;
          setRuns((prev) => {
            const known = new Set(prev.map((run) => run.info.run_id));
            const fresh = page.runs ?? [];
            const firstKnown = fresh.findIndex((run) => known.has(run.info.run_id));
            const added = (firstKnown < 0 ? [] : fresh.slice(0, firstKnown)).filter(
              (run) => !known.has(run.info.run_id),
            );
            return added.length ? [...added, ...prev] : prev;
          });
        })
        .catch(() => undefined); // retried on the next tick
    }, NEW_RUNS_MS);
    return () => {
      window.clearInterval(timer);
      controller.abort();
    };
  }, [ids, filter, order, viewType, loaded]);

  const running = runs.filter((run) => run.info.status === "RUNNING").map((run) => run.info.run_id);
  const runningKey = running.slice(0, LIVE_MAX).join(",");
  useEffect(() => {
    if (!runningKey) return undefined;
    const controller = new AbortController();
    const timer = window.setInterval(() => {
      const current = generation.current;
      runsById(ids.split(","), runningKey.split(","), controller.signal)
        .then((page) => {
          if (current !== generation.current) return;
          const fresh = new Map((page.runs ?? []).map((run) => [run.info.run_id, run]));
          if (fresh.size) setRuns((prev) => prev.map((run) => fresh.get(run.info.run_id) ?? run));
        })
        .catch(() => undefined); // a missed refresh is retried on the next tick
    }, LIVE_MS);
    return () => {
      window.clearInterval(timer);
      controller.abort();
    };
  }, [ids, runningKey]);

  return { runs, loading, loadingMore, hasMore: Boolean(nextToken), error, loadMore };
}
