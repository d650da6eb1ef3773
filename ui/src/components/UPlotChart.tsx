import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

/**
 * A uPlot canvas that follows its container's width. `options` without width/height; a new `options`
 * object rebuilds the chart, new `data` only re-draws it (cheap), so pass memoized options.
 */
export function UPlotChart({
  options,
  data,
  height = 260,
  onCreate,
  testId,
}: {
  options: Omit<uPlot.Options, "width" | "height">;
  data: uPlot.AlignedData;
  height?: number;
  onCreate?: (chart: uPlot) => void;
  testId?: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | null>(null);
  const dataRef = useRef(data);
  dataRef.current = data;

  useEffect(() => {
    const el = box.current;
    if (!el) return undefined;
    const plot = new uPlot({ ...options, width: Math.max(200, el.clientWidth), height }, dataRef.current, el);
    chart.current = plot;
    onCreate?.(plot);
    const observer = new ResizeObserver(() => plot.setSize({ width: Math.max(200, el.clientWidth), height }));
    observer.observe(el);
    return () => {
      observer.disconnect();
      plot.destroy();
      chart.current = null;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [options, height]);

  useEffect(() => {
    chart.current?.setData(data, true);
  }, [data]);

  return <div ref={box} className="uplot-box" data-testid={testId} />;
}
