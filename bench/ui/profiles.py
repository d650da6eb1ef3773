"""Where each product's pages are and how the benchmark finds things on them: URLs, selectors, steps.

Everything product-specific lives here, so a change of either UI is a change of this file only.

* ``name_cell``: the element holding a run's name in a row of the runs table; the *first row* is the visible
  one nearest the top, and a view counts as showing a run when that element's text is the run's name.
* ``sort_steps``: untimed clicks that open whatever holds the sort control, then ``sort_click``: the timed
  click that sorts by ``metrics.m0`` (descending, or ascending when ``sort_descending`` is false: whichever
  the first click gives; ``sort_url``: the same view by its URL, used when the UI
  offers no click for it; the output says which).
* ``filter_input``: the filter box; the benchmark fills it, presses ``filter_keys_before`` (untimed), then
  Enter (timed).
* ``chart_ready``: a JavaScript predicate that is true once the metric chart has been drawn with data.
"""

from __future__ import annotations

from dataclasses import dataclass

from ui import dataset as ds
from ui.stores import BuiltStore


@dataclass(frozen=True)
class Profile:
    product: str
    runs_path: str
    chart_path: str
    name_cell: str
    sort_steps: tuple[str, ...]
    sort_click: str | None
    sort_url: str | None
    sort_descending: bool
    filter_input: str
    filter_keys_before: tuple[str, ...]
    chart_ready: str
    notes: str

    def fill(self, template: str, store: BuiltStore) -> str:
        """``template`` with its ``{runs_exp}``, ``{history_exp}``, ``{history_run}``, ``{metric}`` and
        ``{chart_metric}`` filled in (by replacement: JavaScript braces stay as they are)."""
        values = {
            "runs_exp": store.runs_experiment_id,
            "history_exp": store.history_experiment_id,
            "history_run": store.history_run_id,
            "metric": ds.SORT_METRIC,
            "chart_metric": ds.HISTORY_METRIC,
        }
        for name, value in values.items():
            template = template.replace("{" + name + "}", value)
        return template


#: MLflow 3.17's UI opens experiments in its GenAI mode (traces); ``workflowType=machine_learning`` selects
#: "Model training", whose experiment page is the runs table (ag-grid). Its sort control is the "Sort"
#: dropdown (a metric column header is only there after choosing columns and scrolling right); its filter box
#: opens an autocomplete list that takes Enter for itself, so Escape closes the list first. Its run page's
#: "Model metrics" tab draws each metric with Plotly (SVG) from ``get-history-bulk-interval`` (320 points).
MLFLOW = Profile(
    product="mlflow",
    runs_path="/#/experiments/{runs_exp}?workflowType=machine_learning",
    chart_path="/#/experiments/{history_exp}/runs/{history_run}/model-metrics?workflowType=machine_learning",
    name_cell=".ag-row a[href*='/runs/']",
    sort_steps=("[data-testid='sort-select-dropdown']",),
    sort_click="[data-testid='sort-select-{metric}']",
    sort_url=None,
    sort_descending=True,
    filter_input="[data-testid='search-box'] input, input[data-testid='search-box']",
    filter_keys_before=("Escape",),
    chart_ready=(
        "() => { const p = document.querySelector('.js-plotly-plot .scatterlayer path.js-line');"
        " return !!p && (p.getAttribute('d') || '').length > 100; }"
    ),
    notes="sort: the Sort dropdown's m0 item (descending is its default direction)",
)

#: Wayline's web UI (``ui/src/pages/runs``, ``ui/src/pages/run``). The runs table shows the params' and
#: metrics' columns by default; a column header's sort button sorts descending on its first click. The run
#: page's metric chart (``components/metric-chart/MetricChart.tsx``) sets ``data-points`` once the server's
#: downsampled series is in, and uPlot draws its canvas (``.uplot canvas``) as the chart is created.
WAYLINE = Profile(
    product="wayline",
    runs_path="/#/experiments/{runs_exp}",
    chart_path="/#/runs/{history_run}?tab=metrics",
    name_cell="[data-testid='run-row'] [data-testid='run-name']",
    sort_steps=(),
    sort_click="[data-testid='sort-metrics.{metric}']",
    sort_url=None,
    sort_descending=True,
    filter_input="[data-testid='run-filter']",
    filter_keys_before=(),
    chart_ready=(
        "() => { const chart = document.querySelector('[data-testid=\"chart-{chart_metric}\"][data-points]');"
        " return !!chart && chart.getAttribute('data-points') !== '0'"
        " && !!chart.querySelector('.uplot canvas'); }"
    ),
    notes="sort: the m0 column header (descending on the first click)",
)

PROFILES = {"mlflow": MLFLOW, "wayline": WAYLINE}
