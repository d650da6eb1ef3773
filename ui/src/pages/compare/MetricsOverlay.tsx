// The chosen metrics of all compared runs, one MetricChart per key with every run overlaid.
import { useMemo } from "react";
import { ChartControls, useChartSettings } from "../../components/metric-chart/ChartControls";
import { MetricChart } from "../../components/metric-chart/MetricChart";
import { useUrlList } from "../../hooks/useUrlState";
import type { Compared } from "./compared";
import { KeyChooser } from "./KeyChooser";

/** Charts shown when the URL names none. */
const DEFAULT_CHARTS = 4;
/** Stands in the URL for "none chosen" (an absent key means the defaults). */
export const NONE = "-";

export function MetricsOverlay({ compared }: { compared: Compared }) {
  const { runs, labels, colors, values } = compared;
  const [chosenRaw, setChosen] = useUrlList("metrics");
  const chart = useChartSettings();

  const keys = values.metricKeys;
  const chosen = chosenRaw.length ? chosenRaw.filter((k) => keys.includes(k)) : keys.slice(0, DEFAULT_CHARTS);
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
        <ChartControls settings={chart} testIdPrefix="overlay" />
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
                xAxis={chart.xAxis}
                logY={chart.logY}
                smoothing={chart.smoothing}
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
