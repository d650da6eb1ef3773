// Axis scales for the SVG charts: numeric values linearly, anything else as evenly spaced categories.
import { formatNumber } from "../../format";
import { castNumber } from "../../api/compare";

export interface Tick {
  /** 0 (axis start) to 1 (axis end). */
  at: number;
  label: string;
}

export interface Scale {
  kind: "numeric" | "categorical";
  /** Position 0..1 of a value on the axis, or undefined when the run lacks it. */
  position: (value: string | number | undefined) => number | undefined;
  ticks: Tick[];
  /** Labels of the lowest and highest values. */
  extent: [string, string];
}

/** About `count` round tick values covering [min, max]. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (min === max) return [min];
  const raw = (max - min) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => raw <= s) ?? raw;
  const ticks: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) {
    ticks.push(Number(v.toPrecision(12)));
  }
  return ticks;
}

/** A scale for the values of one dimension across the runs. */
export function buildScale(values: (string | number | undefined)[]): Scale {
  // Non-finite metric values (NaN, ±Infinity) cannot be placed: they count as missing.
  const present = values.filter(
    (v): v is string | number => v !== undefined && !(typeof v === "number" && !Number.isFinite(v)),
  );
  const numbers = present.map(castNumber);
  if (present.length > 0 && numbers.every((n) => n !== undefined)) {
    const nums = numbers as number[];
    const min = Math.min(...nums);
    const max = Math.max(...nums);
    const span = max - min;
    const position = (value: string | number | undefined) => {
      const n = castNumber(value);
      if (n === undefined) return undefined;
      return span === 0 ? 0.5 : (n - min) / span;
    };
    // Round ticks inside the range, plus its two ends (so every value has a reference).
    const inner = niceTicks(min, max).filter((t) => t - min > span * 0.08 && max - t > span * 0.08);
    const ticks = span === 0 ? [min] : [min, ...inner, max];
    return {
      kind: "numeric",
      position,
      ticks: ticks.map((t) => ({ at: position(t) ?? 0.5, label: formatNumber(t) })),
      extent: [formatNumber(min), formatNumber(max)],
    };
  }
  const categories = [...new Set(present.map(String))].sort((a, b) =>
    a.localeCompare(b, undefined, { numeric: true }),
  );
  const index = new Map(categories.map((c, i) => [c, i]));
  const at = (i: number) => (categories.length === 1 ? 0.5 : i / (categories.length - 1));
  return {
    kind: "categorical",
    position: (value) => {
      if (value === undefined || (typeof value === "number" && !Number.isFinite(value))) return undefined;
      const i = index.get(String(value));
      return i === undefined ? undefined : at(i);
    },
    ticks: categories.map((c, i) => ({ at: at(i), label: c })),
    extent: [categories[0] ?? "", categories[categories.length - 1] ?? ""],
  };
}

/** A color from a blue-to-red ramp for t in 0..1 (reads on light and dark backgrounds). */
export function rampColor(t: number): string {
  const clamped = Math.max(0, Math.min(1, t));
  const hue = 230 - clamped * 230;
  return `hsl(${hue.toFixed(0)}, 75%, 52%)`;
}
