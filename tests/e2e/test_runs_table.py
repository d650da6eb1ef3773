"""The runs table: columns, server-side sort and filter (errors in place), selection for comparison,
grouping, the URL holding the view, keyboard navigation, infinite scrolling and live refresh."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import expect

from wayline.client import WaylineClient
from wayline.entities import Metric, Param

T0 = 1_700_000_000_000
#: (lr, acc) of the runs, in creation order; the newest run is listed first.
RUNS = (("0.1", 0.50), ("0.1", 0.70), ("0.01", 0.90), ("0.01", 0.60), ("0.001", 0.80))


@dataclass(frozen=True)
class Logged:
    experiment_id: str
    names: list[str]
    run_ids: list[str]


@pytest.fixture
def logged(client: WaylineClient, unique: str) -> Logged:
    experiment_id = client.create_experiment(f"runs-{unique}")
    names, run_ids = [], []
    for i, (lr, acc) in enumerate(RUNS):
        name = f"r{i}-{unique}"
        run = client.create_run(experiment_id, start_time=T0 + i * 1000, run_name=name)
        metrics = [Metric("acc", acc, T0, 0), Metric("loss", 1 - acc, T0, 0)]
        client.log_batch(run.info.run_id, metrics=metrics, params=[Param("lr", lr), Param("depth", str(i))])
        client.set_terminated(run.info.run_id, end_time=T0 + i * 1000 + 500)
        names.append(name)
        run_ids.append(run.info.run_id)
    return Logged(experiment_id, names, run_ids)


def _names(page: Any) -> list[str]:
    names: list[str] = page.get_by_test_id("run-name").all_inner_texts()
    return names


def _expect_names(page: Any, names: list[str]) -> None:
    expect(page.get_by_test_id("run-name")).to_have_text(names)


def _by_acc(logged: Logged, descending: bool) -> list[str]:
    order = sorted(range(len(RUNS)), key=lambda i: RUNS[i][1], reverse=descending)
    return [logged.names[i] for i in order]


def test_the_table_shows_the_runs_with_param_and_metric_columns(page: Any, logged: Logged) -> None:
    page.goto(f"/#/experiments/{logged.experiment_id}")
    expect(page.get_by_test_id("runs-title")).to_have_text(re.compile("^runs-"))
    _expect_names(page, list(reversed(logged.names)))
    newest = page.get_by_test_id("run-row").first
    expect(newest.locator("[data-col='metrics.acc']")).to_have_text("0.8")
    expect(newest.locator("[data-col='params.lr']")).to_have_text("0.001")
    expect(newest.get_by_test_id("run-status")).to_have_text("FINISHED")
    expect(newest.locator("[data-col='duration']")).to_have_text("500 ms")
    expect(page.get_by_test_id("run-count")).to_have_text("5 runs")


def test_a_header_click_sorts_on_the_server_and_the_url_keeps_the_view(page: Any, logged: Logged) -> None:
    page.goto(f"/#/experiments/{logged.experiment_id}")
    page.get_by_test_id("sort-metrics.acc").click()
    _expect_names(page, _by_acc(logged, descending=True))
    page.get_by_test_id("sort-metrics.acc").click()
    _expect_names(page, _by_acc(logged, descending=False))
    expect(page).to_have_url(re.compile(r"order=metrics\.acc(\+|%20)ASC"))

    page.get_by_test_id("column-chooser").click()
    page.get_by_test_id("column-search").fill("dep")
    expect(page.get_by_test_id("column-option-metrics.acc")).to_have_count(0)
    page.get_by_test_id("column-option-params.depth").uncheck()
    page.get_by_test_id("run-filter").fill("metrics.acc >= 0.6")
    page.get_by_test_id("run-filter").press("Enter")
    expected = [n for n in _by_acc(logged, descending=False) if n != logged.names[0]]
    _expect_names(page, expected)

    page.reload()
    expect(page.get_by_test_id("run-filter")).to_have_value("metrics.acc >= 0.6")
    _expect_names(page, expected)
    expect(page.locator(".runs-head [data-testid='sort-params.depth']")).to_have_count(0)
    expect(page.get_by_test_id("sort-params.lr")).to_have_count(1)


def test_a_filter_narrows_the_rows(page: Any, logged: Logged) -> None:
    page.goto(f"/#/experiments/{logged.experiment_id}")
    _expect_names(page, list(reversed(logged.names)))
    page.get_by_test_id("run-filter").fill("params.lr = '0.1' and metrics.acc > 0.6")
    page.get_by_test_id("run-filter").press("Enter")
    _expect_names(page, [logged.names[1]])
    expect(page.get_by_test_id("run-count")).to_have_text("1 runs")


def test_a_malformed_filter_is_refused_in_place_and_the_table_stays(page: Any, logged: Logged) -> None:
    page.goto(f"/#/experiments/{logged.experiment_id}")
    _expect_names(page, list(reversed(logged.names)))
    page.get_by_test_id("run-filter").fill("metrics.acc >> 1")
    page.get_by_test_id("run-filter").press("Enter")
    expect(page.get_by_test_id("filter-error")).to_contain_text("filter")
    expect(page.get_by_test_id("run-filter")).to_have_attribute("aria-invalid", "true")
    _expect_names(page, list(reversed(logged.names)))
    page.get_by_test_id("run-filter").fill("metrics.acc > 0.85")
    page.get_by_test_id("run-filter").press("Enter")
    expect(page.get_by_test_id("filter-error")).to_have_count(0)
    _expect_names(page, [logged.names[2]])


def test_an_unknown_experiment_shows_a_message(page: Any) -> None:
    page.goto("/#/experiments/987654321")
    expect(page.get_by_test_id("error")).to_contain_text('No experiment with id "987654321"')
    expect(page.get_by_test_id("runs-table")).to_have_count(0)


def test_two_selected_runs_open_the_compare_page(page: Any, logged: Logged) -> None:
    page.goto(f"/#/experiments/{logged.experiment_id}")
    rows = page.get_by_test_id("run-row")
    expect(rows).to_have_count(5)
    expect(page.get_by_test_id("compare")).to_be_disabled()
    rows.nth(0).get_by_test_id("run-select").check()
    rows.nth(2).get_by_test_id("run-select").check()
    expect(page.get_by_test_id("compare")).to_have_text("Compare (2)")
    page.get_by_test_id("compare").click()
    expect(page).to_have_url(f"/#/compare?runs={logged.run_ids[4]},{logged.run_ids[2]}")


def test_grouping_by_a_param_shows_counts_and_means_over_all_runs(page: Any, logged: Logged) -> None:
    page.goto(f"/#/experiments/{logged.experiment_id}?cols=metrics.acc")
    _expect_names(page, list(reversed(logged.names)))
    page.get_by_test_id("group-by").select_option("params.`lr`")
    groups = page.get_by_test_id("group-row")
    expect(groups).to_have_count(3)
    group = page.locator("[data-testid='group-row'][data-group-value='0.01']")
    expect(group.get_by_test_id("group-count")).to_have_text("2")
    expect(group.get_by_test_id("group-mean-acc")).to_have_text("0.75")
    expect(group.get_by_test_id("group-max-acc")).to_have_text("0.9")
    page.reload()
    expect(page.get_by_test_id("group-row")).to_have_count(3)
    group.get_by_role("button").click()
    expect(page.get_by_test_id("run-filter")).to_have_value("params.`lr` = '0.01'")
    _expect_names(page, [logged.names[3], logged.names[2]])


def test_the_keyboard_moves_selects_and_opens_runs(page: Any, logged: Logged) -> None:
    page.goto(f"/#/experiments/{logged.experiment_id}")
    expect(page.get_by_test_id("run-row")).to_have_count(5)
    page.get_by_test_id("runs-table").focus()
    focused = page.locator("[data-testid='run-row'][data-focused='true'] [data-testid='run-name']")
    expect(focused).to_have_text(logged.names[4])
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(focused).to_have_text(logged.names[2])
    page.keyboard.press("x")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Space")
    expect(page.get_by_test_id("compare")).to_have_text("Compare (2)")
    expect(page).to_have_url(re.compile(f"sel={logged.run_ids[2]}(%2C|,){logged.run_ids[3]}"))
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"/#/runs/{logged.run_ids[3]}")


def test_scrolling_to_the_end_loads_the_next_page(page: Any, client: WaylineClient, unique: str) -> None:
    experiment_id = client.create_experiment(f"many-{unique}")
    for i in range(230):
        client.create_run(experiment_id, start_time=T0 + i, run_name=f"m{i:03d}-{unique}")
    page.goto(f"/#/experiments/{experiment_id}")
    expect(page.get_by_test_id("run-count")).to_have_text("200+ runs")
    assert page.get_by_test_id("run-row").count() < 100  # virtualized
    page.get_by_test_id("runs-table").evaluate("el => { el.scrollTop = el.scrollHeight; }")
    expect(page.get_by_test_id("run-count")).to_have_text("230 runs")
    page.get_by_test_id("runs-table").evaluate("el => { el.scrollTop = el.scrollHeight; }")
    expect(page.get_by_test_id("run-name").last).to_have_text(f"m000-{unique}")


def test_running_runs_refresh_in_place(page: Any, client: WaylineClient, unique: str) -> None:
    experiment_id = client.create_experiment(f"live-{unique}")
    run_id = client.create_run(experiment_id, run_name=f"live-{unique}").info.run_id
    client.log_metric(run_id, "loss", 1.0, step=0)
    page.goto(f"/#/experiments/{experiment_id}")
    row = page.get_by_test_id("run-row").first
    expect(row.locator("[data-col='metrics.loss']")).to_have_text("1")
    row.get_by_test_id("run-select").check()
    client.log_metric(run_id, "loss", 0.25, step=1)
    expect(row.locator("[data-col='metrics.loss']")).to_have_text("0.25")
    client.set_terminated(run_id)
    expect(row.get_by_test_id("run-status")).to_have_text("FINISHED")
    expect(row.get_by_test_id("run-select")).to_be_checked()


def test_runs_started_after_loading_appear_on_top(page: Any, client: WaylineClient, unique: str) -> None:
    experiment_id = client.create_experiment(f"new-runs-{unique}")
    client.create_run(experiment_id, start_time=T0, run_name=f"old-{unique}")
    page.goto(f"/#/experiments/{experiment_id}")
    _expect_names(page, [f"old-{unique}"])
    page.get_by_test_id("run-select").first.check()
    client.create_run(experiment_id, start_time=T0 + 5000, run_name=f"new-{unique}")
    expect(page.get_by_test_id("run-name")).to_have_text([f"new-{unique}", f"old-{unique}"], timeout=12_000)
    assert page.get_by_test_id("run-select").nth(1).is_checked()  # the selection follows its run


def test_deleted_runs_show_only_when_asked(page: Any, client: WaylineClient, logged: Logged) -> None:
    client.delete_run(logged.run_ids[0])
    page.goto(f"/#/experiments/{logged.experiment_id}")
    _expect_names(page, list(reversed(logged.names[1:])))
    page.get_by_test_id("show-deleted-runs").check()
    _expect_names(page, list(reversed(logged.names)))
    assert "deleted=1" in page.url
    expect(page.get_by_test_id("run-status").last).to_contain_text("deleted")
