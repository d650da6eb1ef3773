"""The compare page: runs header, metric overlay, parallel coordinates, scatter and the diff table."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import expect

from wayline.client import WaylineClient
from wayline.entities import Metric, Param

T0 = 1_700_000_000_000
PARAMS = (
    {"lr": "0.1", "optimizer": "adam", "batch": "32", "epochs": "5"},
    {"lr": "0.01", "optimizer": "sgd", "batch": "32", "epochs": "5"},
    {"lr": "0.001", "optimizer": "adam", "batch": "32", "epochs": "5"},
)


@dataclass(frozen=True)
class LoggedRun:
    run_id: str
    name: str


def log_runs(client: WaylineClient, unique: str, count: int = 3) -> list[LoggedRun]:
    """``count`` finished runs with params (lr, optimizer differ; batch, epochs equal) and two metrics."""
    experiment_id = client.create_experiment(f"compare-{unique}")
    runs = []
    for i in range(count):
        name = f"cmp-{unique}-{i}"
        run = client.create_run(experiment_id, run_name=name, tags={"team": "vision"})
        run_id = run.info.run_id
        metrics = [
            Metric(key, value, T0 + step * 1000, step)
            for step in range(5)
            for key, value in (("loss", (i + 1) / (step + 1)), ("acc", 0.5 + 0.1 * i + 0.01 * step))
        ]
        params = [Param(k, v) for k, v in PARAMS[i % len(PARAMS)].items()]
        client.log_batch(run_id, metrics=metrics, params=params)
        client.set_terminated(run_id)
        runs.append(LoggedRun(run_id, name))
    return runs


@pytest.fixture
def three_runs(client: WaylineClient, unique: str) -> list[LoggedRun]:
    return log_runs(client, unique)


def open_compare(page: Any, runs: list[LoggedRun], extra: str = "") -> None:
    page.goto(f"/#/compare?runs={','.join(r.run_id for r in runs)}{extra}")
    expect(page.get_by_test_id("compare-page")).to_be_visible()


def test_compare_of_three_runs_lists_every_run_with_a_link(page: Any, three_runs: list[LoggedRun]) -> None:
    open_compare(page, three_runs)
    header = page.get_by_test_id("compare-run")
    expect(header).to_have_count(3)
    for i, run in enumerate(three_runs):
        item = header.nth(i)
        expect(item).to_have_attribute("data-run-id", run.run_id)
        expect(item.get_by_role("link")).to_have_text(run.name)
        expect(item.get_by_role("link")).to_have_attribute("href", f"#/runs/{run.run_id}")


def test_removing_a_run_updates_the_url_and_the_page(page: Any, three_runs: list[LoggedRun]) -> None:
    open_compare(page, three_runs)
    page.get_by_test_id("compare-run").nth(2).get_by_test_id("remove-run").click()
    expect(page.get_by_test_id("compare-run")).to_have_count(2)
    assert three_runs[2].run_id not in page.url
    assert three_runs[0].run_id in page.url
    expect(page.get_by_test_id("pc-line")).to_have_count(2)


def test_diff_table_highlights_exactly_the_differing_params(page: Any, three_runs: list[LoggedRun]) -> None:
    open_compare(page, three_runs)
    params = page.locator("[data-testid=diff-row][data-section=param]")
    expect(params).to_have_count(4)
    highlighted = page.locator("tr.diff[data-section=param]")
    expect(highlighted).to_have_count(2)
    assert sorted(highlighted.evaluate_all("rows => rows.map(r => r.dataset.key)")) == ["lr", "optimizer"]
    same = page.locator("[data-testid=diff-row][data-section=param]:not(.diff)")
    assert sorted(same.evaluate_all("rows => rows.map(r => r.dataset.key)")) == ["batch", "epochs"]
    # Best latest values in bold: the lowest loss (first run), the highest accuracy (third run).
    loss_best = page.locator("[data-section=metric][data-key=loss] td strong")
    expect(loss_best).to_have_count(1)
    expect(page.locator("[data-section=metric][data-key=loss] td").nth(0).locator("strong")).to_have_count(1)
    expect(page.locator("[data-section=metric][data-key=acc] td").nth(2).locator("strong")).to_have_count(1)


def test_only_differences_hides_equal_rows_and_is_kept_in_the_url(
    page: Any, three_runs: list[LoggedRun]
) -> None:
    open_compare(page, three_runs)
    expect(page.locator("[data-testid=diff-row][data-key=batch]")).to_have_count(1)
    page.get_by_test_id("only-differences").check()
    params = page.locator("[data-testid=diff-row][data-section=param]")
    expect(params).to_have_count(2)
    assert sorted(params.evaluate_all("rows => rows.map(r => r.dataset.key)")) == ["lr", "optimizer"]
    expect(page.locator("[data-testid=diff-row][data-section=tag][data-key=team]")).to_have_count(0)
    assert "diff=1" in page.url
    page.reload()
    expect(page.get_by_test_id("only-differences")).to_be_checked()
    expect(page.locator("[data-testid=diff-row][data-key=batch]")).to_have_count(0)


def test_parallel_coordinates_draws_one_line_per_run(page: Any, three_runs: list[LoggedRun]) -> None:
    open_compare(page, three_runs)
    lines = page.get_by_test_id("pc-line")
    expect(lines).to_have_count(3)
    # Default axes: the params that differ, then the metrics.
    axes = page.get_by_test_id("pc-axis")
    assert axes.evaluate_all("gs => gs.map(g => g.dataset.dim)") == [
        "param:lr",
        "param:optimizer",
        "metric:acc",
        "metric:loss",
    ]
    for line in lines.all():
        assert line.get_attribute("d").count("L") == 3  # four axes, every run has every value
    page.get_by_test_id("pc-hit").nth(1).dispatch_event("mousemove")
    expect(page.get_by_test_id("pc-tooltip")).to_contain_text(three_runs[1].name)
    expect(lines.nth(1)).to_have_class(re.compile(r"\bhover\b"))
    # Choosing axes goes to the URL and survives a reload.
    page.get_by_test_id("axes-chooser").get_by_role("button").first.click()
    page.locator("[data-testid=axes-chooser] input[data-key='param:batch']").check()
    expect(axes).to_have_count(5)
    assert re.search(r"axes=[^&]*batch", page.url)
    page.reload()
    expect(page.get_by_test_id("pc-axis")).to_have_count(5)


def test_scatter_draws_one_point_per_run_and_axis_choice_changes_the_url(
    page: Any, three_runs: list[LoggedRun]
) -> None:
    open_compare(page, three_runs)
    points = page.get_by_test_id("scatter-point")
    expect(points).to_have_count(3)
    # Only numeric params are offered (optimizer is text).
    options = page.get_by_test_id("scatter-x").locator("option").evaluate_all("os => os.map(o => o.value)")
    assert "param:lr" in options
    assert "param:optimizer" not in options
    page.get_by_test_id("scatter-x").select_option("metric:acc")
    expect(page.get_by_test_id("scatter-x-title")).to_have_text("acc (metric)")
    assert re.search(r"sx=metric(%3A|:)acc", page.url)
    page.reload()
    expect(page.get_by_test_id("scatter-x")).to_have_value("metric:acc")
    expect(page.get_by_test_id("scatter-point")).to_have_count(3)
    page.get_by_test_id("scatter-point").nth(0).hover()
    expect(page.get_by_test_id("scatter-tooltip")).to_contain_text(three_runs[0].name)


def test_metric_overlay_renders_a_canvas_per_chosen_key(page: Any, three_runs: list[LoggedRun]) -> None:
    open_compare(page, three_runs)
    charts = page.get_by_test_id("overlay-chart")
    expect(charts).to_have_count(2)
    for key in ("acc", "loss"):
        expect(page.locator(f"[data-testid=overlay-chart][data-key={key}] canvas").first).to_be_visible()
    page.get_by_test_id("metric-chooser").get_by_role("button").first.click()
    page.locator("[data-testid=metric-chooser] input[data-key=acc]").uncheck()
    expect(charts).to_have_count(1)
    expect(charts.locator("canvas").first).to_be_visible()
    assert "metrics=loss" in page.url
    page.get_by_test_id("overlay-log-y").check()
    assert "logy=1" in page.url


def test_an_unknown_run_id_is_named_while_the_known_runs_render(
    page: Any, client: WaylineClient, unique: str
) -> None:
    runs = log_runs(client, unique, count=2)
    unknown = "f" * 24 + unique
    page.goto(f"/#/compare?runs={runs[0].run_id},{unknown},{runs[1].run_id}")
    missing = page.get_by_test_id("missing-run")
    expect(missing).to_have_count(1)
    expect(missing).to_contain_text(unknown)
    expect(page.get_by_test_id("compare-run")).to_have_count(2)
    expect(page.get_by_test_id("pc-line")).to_have_count(2)


def test_fewer_than_two_runs_asks_to_pick_runs(page: Any, client: WaylineClient, unique: str) -> None:
    runs = log_runs(client, unique, count=1)
    page.goto(f"/#/compare?runs={runs[0].run_id}")
    expect(page.get_by_test_id("compare-need-runs")).to_contain_text("runs table")
    page.goto("/#/compare")
    expect(page.get_by_test_id("compare-need-runs")).to_be_visible()
    # Two ids of which only one exists: the unknown one is named and the message stays.
    page.goto(f"/#/compare?runs={runs[0].run_id},{'0' * 32}")
    expect(page.get_by_test_id("missing-run")).to_contain_text("0" * 32)
    expect(page.get_by_test_id("compare-need-runs")).to_be_visible()
