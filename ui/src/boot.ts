// Evaluated before any other module of the app: starts the requests its first view will make, so that they travel while
// React and the router start. A run page asks for the run, and on its metrics tab for the series of the
// charts drawn first (the same URLs the views request; `get` then finds them under way).
import { prefetch } from "./api/client";
import { SERIES_PATH, chartPoints, seriesQuery } from "./api/metrics";
import { EAGER_CHARTS, RUN_PATH, sortedMetrics } from "./api/run";
import type { Run } from "./api/types";

const RUN_ROUTE = /^#\/runs\/([^/?#]+)(?:\?(.*))?$/;

export function prefetchFirstView(hash: string): void {
  const match = RUN_ROUTE.exec(hash);
  if (!match) return;
  let runId: string;
  try {
    runId = decodeURIComponent(match[1]);
  } catch {
    return;
  }
  const run = prefetch(RUN_PATH, { run_id: runId });
  if (new URLSearchParams(match[2] ?? "").get("tab") !== "metrics") return;
  run
    .then((body) => {
      const found = (body as { run?: Run }).run;
      if (!found) return;
      for (const metric of sortedMetrics(found).slice(0, EAGER_CHARTS)) {
        prefetch(SERIES_PATH, seriesQuery({ runIds: [runId], key: metric.key, points: chartPoints(1) }));
      }
    })
    .catch(() => undefined);
}

prefetchFirstView(window.location.hash);
