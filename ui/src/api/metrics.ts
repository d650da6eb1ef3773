// Wayline's downsampled metric series (GET /api/2.0/wayline/metrics/series), for charts.
import { WAYLINE, get, type Query } from "./client";

/** One run's points of one metric: all of them, or per step bucket the min and max points. */
export interface MetricSeries {
  run_id: string;
  key: string;
  /** Points of the series in the requested step range (before downsampling). */
  total_count: number;
  /** Step range of the whole series (absent when it has no points). */
  min_step?: number;
  max_step?: number;
  /** Earliest wall time of the whole series (ms), the origin of the relative-time axis. */
  start_time?: number;
  /** True when the points are bucketed min/max points rather than every point. */
  sampled: boolean;
  steps: number[];
  /** Numbers, or "NaN" / "Infinity" / "-Infinity". */
  values: (number | string)[];
  timestamps: number[];
}

export interface SeriesRequest {
  runIds: string[];
  key: string;
  points?: number;
  startStep?: number;
  endStep?: number;
}

export const SERIES_PATH = `${WAYLINE}/metrics/series`;

/** The query of a series request (one function, so a prefetch and the chart ask for the same URL). */
export function seriesQuery(request: SeriesRequest): Query {
  return {
    run_ids: request.runIds,
    key: request.key,
    points: request.points,
    start_step: request.startStep,
    end_step: request.endStep,
  };
}

/** Server points per run for a chart of `runCount` runs: fewer per run when many runs share it. */
export function chartPoints(runCount: number): number {
  return Math.max(200, Math.min(1000, Math.floor(50000 / Math.max(1, runCount))));
}

export async function getMetricSeries(request: SeriesRequest, signal?: AbortSignal): Promise<MetricSeries[]> {
  const body = await get<{ series?: MetricSeries[] }>(SERIES_PATH, seriesQuery(request), signal);
  return body.series ?? [];
}

/** A wire value as a number (the non-finite spellings become NaN / ±Infinity). */
export function toNumber(value: number | string): number {
  return typeof value === "number" ? value : Number(value);
}
