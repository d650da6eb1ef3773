// The settings every metric chart view shares (x axis, log scale, smoothing), kept in the URL as
// `x`, `logy` and `smooth`, and the toolbar controls that change them.
import type { ReactNode } from "react";
import { useUrlState } from "../../hooks/useUrlState";
import type { XAxis } from "./MetricChart";

const X_AXES: { value: XAxis; label: string }[] = [
  { value: "step", label: "Step" },
  { value: "time", label: "Wall time" },
  { value: "relative", label: "Relative time" },
];

export interface ChartSettings {
  xAxis: XAxis;
  logY: boolean;
  smoothing: number;
  setX: (value: XAxis) => void;
  setLogY: (value: boolean) => void;
  setSmoothing: (value: number) => void;
}

export function useChartSettings(): ChartSettings {
  const [x, setX] = useUrlState("x", "step");
  const [log, setLog] = useUrlState("logy", "");
  const [smooth, setSmooth] = useUrlState("smooth", "0");
  return {
    xAxis: X_AXES.some((a) => a.value === x) ? (x as XAxis) : "step",
    logY: log === "1",
    smoothing: Math.max(0, Math.min(0.99, Number(smooth) || 0)),
    setX: (value) => setX(value),
    setLogY: (value) => setLog(value ? "1" : ""),
    setSmoothing: (value) => setSmooth(String(value)),
  };
}

/** X axis, log scale and smoothing controls; `testIdPrefix` names them (`<prefix>-x-axis`, ...). */
export function ChartControls({
  settings,
  testIdPrefix,
  children,
}: {
  settings: ChartSettings;
  testIdPrefix: string;
  children?: ReactNode;
}) {
  return (
    <>
      <label>
        X axis{" "}
        <select
          value={settings.xAxis}
          onChange={(e) => settings.setX(e.target.value as XAxis)}
          data-testid={`${testIdPrefix}-x-axis`}
        >
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
          checked={settings.logY}
          onChange={(e) => settings.setLogY(e.target.checked)}
          data-testid={`${testIdPrefix}-log-y`}
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
          value={settings.smoothing}
          onChange={(e) => settings.setSmoothing(Number(e.target.value))}
          data-testid={`${testIdPrefix}-smoothing`}
        />{" "}
        <span className="mono">{settings.smoothing.toFixed(2)}</span>
      </label>
      {children}
    </>
  );
}
