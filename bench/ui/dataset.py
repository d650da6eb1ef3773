"""The UI benchmark's data set, the same for both products (standard library only).

* one experiment (``ui-bench-runs``) of ``runs`` runs, named ``run-000000`` .. , each with 10 params
  ``p0..p9`` and 10 metrics ``m0..m9`` (one point each, uniform in [0, 1)), seeded; run ``i`` starts at
  ``BASE_MS + i`` seconds, so the newest run (the last) is the first row of both UIs' default order
  (start time, newest first);
* one experiment (``ui-bench-history``) with one run (``history-1m``) whose metric ``loss`` has ``points``
  points (steps 0.., a noisy decay).

Run ids are seeded too, so both stores hold the same ids. :func:`expected_first` gives the run each measured
view must show first.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass

#: Bump when the generated data changes: the cached stores are keyed by it.
DATA_VERSION = 1
BASE_MS = 1_750_000_000_000
PARAMS = tuple(f"p{i}" for i in range(10))
METRICS = tuple(f"m{i}" for i in range(10))
P1_VALUES = ("x", "y", "z", "w")
RUNS_EXPERIMENT = "ui-bench-runs"
HISTORY_EXPERIMENT = "ui-bench-history"
HISTORY_RUN = "history-1m"
HISTORY_METRIC = "loss"
USER = "bench"


@dataclass(frozen=True)
class BenchRun:
    index: int
    run_id: str
    name: str
    start_time: int
    params: dict[str, str]
    metrics: dict[str, float]


@dataclass(frozen=True)
class Dataset:
    runs: int
    points: int
    seed: int

    @property
    def key(self) -> str:
        """Names the cached stores: a change of version, size or seed builds new ones."""
        return f"v{DATA_VERSION}-runs{self.runs}-points{self.points}-seed{self.seed}"

    def iter_runs(self) -> Iterator[BenchRun]:
        rng = random.Random(self.seed)
        for i in range(self.runs):
            run_id = f"{rng.getrandbits(128):032x}"
            params = {
                "p0": f"{rng.choice((0.1, 0.03, 0.01, 0.003, 0.001))}",
                "p1": rng.choice(P1_VALUES),
                **{p: str(rng.randrange(1000)) for p in PARAMS[2:]},
            }
            metrics = {m: rng.random() for m in METRICS}
            yield BenchRun(i, run_id, f"run-{i:06d}", BASE_MS + i * 1000, params, metrics)

    def history_start_ms(self) -> int:
        return BASE_MS + (self.runs + 1) * 1000

    def iter_history(self) -> Iterator[tuple[int, int, float]]:
        """``(step, timestamp_ms, value)`` of the 1M-point metric, in step order."""
        rng = random.Random(self.seed + 2)
        start = self.history_start_ms()
        scale = max(self.points, 1) / 5
        for step in range(self.points):
            value = math.exp(-step / scale) + 0.05 * rng.random()
            yield step, start + step * 10, value


@dataclass(frozen=True)
class Expected:
    """The first row each measured runs view must show (by run name)."""

    default_first: str
    sort_desc_first: str
    sort_asc_first: str
    filter_first: str
    filter_matches: int


SORT_METRIC = "m0"
FILTER = "metrics.m0 > 0.99"
FILTER_METRIC, FILTER_THRESHOLD = "m0", 0.99


def expected_first(data: Dataset) -> Expected:
    """Computed in Python over the same seeded runs: the default order is start time, newest first; the sort
    is ``SORT_METRIC`` descending (or ascending); the filter keeps the default order."""
    best: tuple[float, str] = (-1.0, "")
    least: tuple[float, str] = (2.0, "")
    newest_match = ""
    matches = 0
    last = ""
    for run in data.iter_runs():
        last = run.name
        value = run.metrics[SORT_METRIC]
        if value > best[0]:
            best = (value, run.name)
        if value < least[0]:
            least = (value, run.name)
        if run.metrics[FILTER_METRIC] > FILTER_THRESHOLD:
            newest_match = run.name
            matches += 1
    return Expected(last, best[1], least[1], newest_match, matches)
