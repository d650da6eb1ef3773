// Compare runs (/compare?runs=id1,id2,...): their metrics overlaid, parallel coordinates, a scatter of
// any two values, and a table of params, metrics and tags with the differences highlighted.
import { useMemo, useRef } from "react";
import { Link } from "react-router-dom";
import {
  type Dimension,
  differingParams,
  dimensionId,
  dimensionLabel,
  isNumericParam,
  loadRuns,
  parseDimension,
  runLabel,
  runValues,
} from "../../api/compare";
import type { Run } from "../../api/types";
import { ErrorBox, Loading } from "../../components/Status";
import { seriesColor } from "../../format";
import { useApi } from "../../hooks/useApi";
import { useUrlList, useUrlState } from "../../hooks/useUrlState";
import type { Compared } from "./compared";
import { DiffTable } from "./DiffTable";
import { KeyChooser } from "./KeyChooser";
import { MetricsOverlay, NONE } from "./MetricsOverlay";
import { ParallelCoordinates } from "./ParallelCoordinates";
import { ScatterPlot } from "./ScatterPlot";
import "./compare.css";

function NeedTwoRuns() {
  return (
    <div className="empty" data-testid="compare-need-runs">
      Pick at least two runs to compare: select them in a <Link to="/experiments">runs table</Link> and press
      Compare.
    </div>
  );
}

function RunHeader({ compared, onRemove }: { compared: Compared; onRemove: (runId: string) => void }) {
  const experimentIds = [...new Set(compared.runs.map((r) => r.info.experiment_id))];
  return (
    <div className="compare-header">
      <div className="toolbar">
        <h1>Comparing {compared.runs.length} runs</h1>
        <span className="grow" />
        <Link to={`/experiments/${experimentIds.join(",")}`}>
          Runs of {experimentIds.length === 1 ? "the experiment" : `${experimentIds.length} experiments`}
        </Link>
      </div>
      <ul className="compare-runs" data-testid="compare-runs">
        {compared.runs.map((run, i) => (
          <li key={run.info.run_id} data-testid="compare-run" data-run-id={run.info.run_id}>
            <span className="swatch" style={{ background: compared.colors[i] }} aria-hidden="true" />
            <Link to={`/runs/${run.info.run_id}`} title={run.info.run_id}>
              {compared.labels[i]}
            </Link>
            <button
              type="button"
              className="remove-run"
              onClick={() => onRemove(run.info.run_id)}
              aria-label={`Remove ${compared.labels[i]} from the comparison`}
              title="Remove from the comparison"
              data-testid="remove-run"
            >
              ×
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}

/** Dimensions named in the URL that exist for these runs; the defaults when the URL names none. */
function chosenDimensions(raw: string[], options: Dimension[], defaults: Dimension[]): Dimension[] {
  if (raw.length === 0) return defaults;
  const known = new Map(options.map((d) => [d.id, d]));
  return raw.map((id) => known.get(id)).filter((d): d is Dimension => d !== undefined);
}

function ParallelSection({ compared }: { compared: Compared }) {
  const { values } = compared;
  const [axesRaw, setAxes] = useUrlList("axes");
  const [colorRaw, setColor] = useUrlState("color", "run");
  const options = useMemo<Dimension[]>(
    () => [
      ...values.paramKeys.map((k) => ({ id: dimensionId("param", k), kind: "param" as const, key: k })),
      ...values.metricKeys.map((k) => ({ id: dimensionId("metric", k), kind: "metric" as const, key: k })),
    ],
    [values],
  );
  const defaults = useMemo(() => {
    const differing = new Set(differingParams(values));
    return options.filter((d) => d.kind === "metric" || differing.has(d.key));
  }, [options, values]);
  const axes = chosenDimensions(axesRaw, options, defaults);
  const metricDims = options.filter((d) => d.kind === "metric");
  const colorBy = colorRaw === "run" ? undefined : metricDims.find((d) => d.id === colorRaw);
  const choices = useMemo(
    () => options.map((d) => ({ id: d.id, label: d.key, group: d.kind === "param" ? "Params" : "Metrics" })),
    [options],
  );

  return (
    <section className="compare-section">
      <h2>Parallel coordinates</h2>
      <div className="toolbar">
        <KeyChooser
          label="Axes"
          options={choices}
          chosen={axes.map((d) => d.id)}
          onChange={(next) => setAxes(next.length ? next : [NONE])}
          testId="axes-chooser"
        />
        <label>
          Color by{" "}
          <select value={colorBy ? colorBy.id : "run"} onChange={(e) => setColor(e.target.value)} data-testid="pc-color">
            <option value="run">run</option>
            {metricDims.map((d) => (
              <option key={d.id} value={d.id}>
                {dimensionLabel(d)}
              </option>
            ))}
          </select>
        </label>
      </div>
      <ParallelCoordinates compared={compared} dims={axes} colorBy={colorBy} />
    </section>
  );
}

function ScatterSection({ compared }: { compared: Compared }) {
  const { values } = compared;
  const options = useMemo<Dimension[]>(
    () => [
      ...values.paramKeys
        .filter((k) => isNumericParam(values, k))
        .map((k) => ({ id: dimensionId("param", k), kind: "param" as const, key: k })),
      ...values.metricKeys.map((k) => ({ id: dimensionId("metric", k), kind: "metric" as const, key: k })),
    ],
    [values],
  );
  // Defaults: a numeric param that differs (else the first option) against the first metric.
  const differing = new Set(differingParams(values));
  const defaultX = options.find((d) => d.kind === "param" && differing.has(d.key)) ?? options[0];
  const defaultY = options.find((d) => d.kind === "metric" && d.id !== defaultX?.id) ?? options[1] ?? options[0];
  const [xRaw, setX] = useUrlState("sx", "");
  const [yRaw, setY] = useUrlState("sy", "");
  const pick = (raw: string, fallback: Dimension | undefined) =>
    (raw ? options.find((d) => d.id === raw && parseDimension(raw)) : undefined) ?? fallback;
  const x = pick(xRaw, defaultX);
  const y = pick(yRaw, defaultY);

  const select = (value: Dimension | undefined, onChange: (id: string) => void, testId: string) => (
    <select value={value?.id ?? ""} onChange={(e) => onChange(e.target.value)} data-testid={testId}>
      {options.map((d) => (
        <option key={d.id} value={d.id}>
          {dimensionLabel(d)}
        </option>
      ))}
    </select>
  );
  return (
    <section className="compare-section">
      <h2>Scatter</h2>
      {options.length === 0 ? (
        <div className="empty">These runs have no numeric params or metrics to plot.</div>
      ) : (
        <>
          <div className="toolbar">
            <label>X {select(x, (id) => setX(id), "scatter-x")}</label>
            <label>Y {select(y, (id) => setY(id), "scatter-y")}</label>
          </div>
          <ScatterPlot compared={compared} x={x} y={y} />
        </>
      )}
    </section>
  );
}

export function ComparePage() {
  const [ids, setIds] = useUrlList("runs");
  const [onlyDiff, setOnlyDiff] = useUrlState("diff", "0");
  const cache = useRef(new Map<string, Run>());
  const idsKey = ids.join(",");
  const state = useApi(
    (signal) => (ids.length >= 2 ? loadRuns(ids, cache.current, signal) : Promise.resolve(undefined)),
    [idsKey],
  );

  const compared = useMemo<Compared | undefined>(() => {
    const runs = state.data?.runs;
    if (!runs) return undefined;
    return {
      runs,
      labels: runs.map(runLabel),
      colors: runs.map((_r, i) => seriesColor(i)),
      values: runValues(runs),
    };
  }, [state.data]);

  if (ids.length < 2) return <NeedTwoRuns />;
  if (state.error) return <ErrorBox error={state.error} title="Loading the runs" />;
  if (!state.data || !compared) {
    return <Loading label={`Loading ${ids.length} runs…`} />;
  }

  const remove = (runId: string) => setIds(ids.filter((id) => id !== runId), false);
  return (
    <div className="compare-page" data-testid="compare-page">
      {state.data.missing.map(({ runId, error }) => (
        <div key={runId} data-testid="missing-run" data-run-id={runId}>
          <ErrorBox error={error} title={`Run ${runId}`} />
        </div>
      ))}
      {compared.runs.length < 2 ? (
        <NeedTwoRuns />
      ) : (
        <>
          <RunHeader compared={compared} onRemove={remove} />
          <section className="compare-section">
            <h2>Metrics</h2>
            <MetricsOverlay compared={compared} />
          </section>
          <ParallelSection compared={compared} />
          <ScatterSection compared={compared} />
          <section className="compare-section">
            <h2>Params, metrics and tags</h2>
            <DiffTable compared={compared} onlyDiff={onlyDiff === "1"} onOnlyDiff={(v) => setOnlyDiff(v ? "1" : "0")} />
          </section>
        </>
      )}
    </div>
  );
}
