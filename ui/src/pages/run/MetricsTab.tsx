// Latest metric values, and one chart card per metric key (rendered only once scrolled into view: a run
// may have hundreds of metrics). Chart settings (x axis, log scale, smoothing) are in the URL.
import { useEffect, useMemo, useRef, useState } from "react";
import { EAGER_CHARTS, sortedMetrics } from "../../api/run";
import type { Run } from "../../api/types";
import { ChartControls, useChartSettings } from "../../components/metric-chart/ChartControls";
import { MetricChart } from "../../components/metric-chart/MetricChart";
import { formatNumber, formatTime } from "../../format";

function LazyCard({
  children,
  height,
  testId,
  eager,
}: {
  children: React.ReactNode;
  height: number;
  testId: string;
  eager: boolean;
}) {
  const box = useRef<HTMLDivElement>(null);
  const [visible, setVisible] = useState(eager);
  useEffect(() => {
    const el = box.current;
    if (!el || visible) return undefined;
    const observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting)) setVisible(true);
      },
      { rootMargin: "200px" },
    );
    observer.observe(el);
    return () => observer.disconnect();
  }, [visible]);
  return (
    <div ref={box} className="card metric-card" data-testid={testId} style={{ minHeight: height + 60 }}>
      {visible ? children : null}
    </div>
  );
}

export function MetricsTab({ run, live }: { run: Run; live: boolean }) {
  const chart = useChartSettings();
  const [filter, setFilter] = useState("");
  const metrics = useMemo(() => sortedMetrics(run), [run]);
  const shown = filter ? metrics.filter((m) => m.key.toLowerCase().includes(filter.toLowerCase())) : metrics;
  const runId = run.info.run_id;
  const chartRuns = useMemo(
    () => new Map(metrics.map((m) => [m.key, [{ runId, label: m.key }]])),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [runId, metrics.map((m) => m.key).join("\u0000")],
  );
  if (!metrics.length) return <div className="empty">No metrics logged.</div>;
  return (
    <div className="run-metrics">
      <table className="grid latest-metrics" data-testid="latest-metrics">
        <thead>
          <tr>
            <th>Metric</th>
            <th className="num">Latest value</th>
            <th className="num">Step</th>
            <th>Time</th>
          </tr>
        </thead>
        <tbody>
          {metrics.map((m) => (
            <tr key={m.key} data-testid="latest-metric" data-key={m.key}>
              <td className="mono">{m.key}</td>
              <td className="num" data-testid="latest-value">
                {formatNumber(m.value)}
              </td>
              <td className="num">{m.step}</td>
              <td>{formatTime(m.timestamp)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="toolbar chart-controls">
        <ChartControls settings={chart} testIdPrefix="chart" />
        <span className="grow" />
        <input
          type="search"
          placeholder="Filter charts"
          value={filter}
          onChange={(e) => setFilter(e.target.value)}
          data-testid="chart-filter"
        />
      </div>
      <div className="cards metric-cards">
        {shown.map((m, index) => (
          <LazyCard key={m.key} height={220} testId="metric-card" eager={index < EAGER_CHARTS}>
            <h3 className="mono">{m.key}</h3>
            <MetricChart
              metricKey={m.key}
              runs={chartRuns.get(m.key) ?? []}
              xAxis={chart.xAxis}
              logY={chart.logY}
              smoothing={chart.smoothing}
              live={live}
              height={220}
              testId={`chart-${m.key}`}
            />
          </LazyCard>
        ))}
      </div>
    </div>
  );
}
