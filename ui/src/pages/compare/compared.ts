import type { RunValues } from "../../api/compare";
import type { Run } from "../../api/types";

/** The runs being compared, with what every section draws them with. */
export interface Compared {
  runs: Run[];
  /** Display name of each run. */
  labels: string[];
  /** Color of each run: seriesColor(i), also its swatch in the header. */
  colors: string[];
  values: RunValues;
}
