// Exponential moving average, TensorBoard style: debiased so the first points are not pulled to zero.

/**
 * The smoothed values of `values` with weight `weight` in [0, 1). Non-finite values (null, NaN,
 * infinities) stay null and do not enter the average.
 */
export function emaSmooth(values: (number | null)[], weight: number): (number | null)[] {
  if (weight <= 0) return values;
  const w = Math.min(weight, 0.999);
  let last = 0;
  let count = 0;
  return values.map((value) => {
    if (value === null || !Number.isFinite(value)) return null;
    last = last * w + (1 - w) * value;
    count += 1;
    return last / (1 - Math.pow(w, count));
  });
}
