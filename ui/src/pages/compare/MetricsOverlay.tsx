// The chosen metrics of all compared runs, one MetricChart per key with every run overlaid.
import { useMemo } from "react";
import { MetricChart, type XAxis } from "../../components/metric-chart/MetricChart";
import { useUrlList, useUrlState } from "../../hooks/useUrlState";
import type { Compared } from "./compared";
import { KeyChooser } from "./KeyChooser";

/** Charts shown when the URL names none. */
const DEFAULT_CHARTS = 4;
/** Stands in the URL for "none chosen" (an absent key means the defaults). */
export const NONE = "-";
const X_AXES: { value: XAxis; label: string }[] = [
  { value: "step", label: "Step" },
  { value: "time", label: "Wall time" },
  { value: "relative", label: "Relative time" },
];

export function MetricsOverlay({ compared }: { compared: Compared }) {
  const { runs, labels, colors, values } = compared;
  const [chosenRaw, setChosen] = useUrlList("metrics");
  const [xRaw, setX] = useUrlState("x", "step");
  const [logY, setLogY] = useUrlState("logy", "0");
  const [smoothRaw, setSmooth] = useUrlState("smooth", "0");

  const keys = values.metricKeys;
  const chosen = chosenRaw.length ? chosenRaw.filter((k) => keys.includes(k)) : keys.slice(0, DEFAULT_CHARTS);
  const xAxis: XAxis = X_AXES.some((a) => a.value === xRaw) ? (xRaw as XAxis) : "step";
  const smoothing = Math.max(0, Math.min(0.99, Number(smoothRaw) || 0));
  const live = runs.some((r) => r.info.status === "RUNNING");

  const chartRuns = useMemo(
    () => runs.map((run, i) => ({ runId: run.info.run_id, label: labels[i], color: colors[i] })),
    [runs, labels, colors],
  );
  const options = useMemo(() => keys.map((k) => ({ id: k, label: k })), [keys]);

  if (keys.length === 0) return <div className="empty">None of these runs has logged a metric.</div>;
  return (
    <div data-testid="metrics-overlay">
      <div className="toolbar">
        <KeyChooser
          label="Metrics"
          options={options}
          chosen={chosen}
          onChange={(next) => setChosen(next.length ? next : [NONE])}
          testId="metric-chooser"
        />
        <label>
          X axis{" "}
          <select value={xAxis} onChange={(e) => setX(e.target.value)} data-testid="overlay-x-axis">
            {X_AXES.map((a) => (
              <option key={a.value} value={a.value}>
                {a.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          <input
            type="checkbox"
            checked={logY === "1"}
            onChange={(e) => setLogY(e.target.checked ? "1" : "0")}
            data-testid="overlay-log-y"
          />{" "}
          Log scale
        </label>
        <label className="smoothing">
          Smoothing{" "}
          <input
            type="range"
            min={0}
            max={0.99}
            step={0.01}
            value={smoothing}
            onChange={(e) => setSmooth(String(Number(e.target.value)))}
            data-testid="overlay-smoothing"
          />{" "}
          <span className="mono">{smoothing.toFixed(2)}</span>
        </label>
        {live && <span className="badge status-RUNNING">live</span>}
      </div>
      {chosen.length === 0 ? (
        <div className="empty">Choose metrics to chart.</div>
      ) : (
        <div className="cards">
          {chosen.map((key) => (
            <div className="card" key={key} data-testid="overlay-chart" data-key={key}>
              <h3 className="chart-title">{key}</h3>
              <MetricChart
                metricKey={key}
                runs={chartRuns}
                xAxis={xAxis}
                logY={logY === "1"}
                smoothing={smoothing}
                live={live}
                height={220}
              />
            </div>
          ))}
        </div>
      )}
    </div>
  );
}
