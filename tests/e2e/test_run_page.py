"""The run page: overview, params, tags, latest metrics, metric charts (controls in the URL, live updates of
a running run) and an unknown run id."""

from __future__ import annotations

import time
from typing import Any

from playwright.sync_api import expect

from wayline.client import WaylineClient
from wayline.entities import Dataset, DatasetInput, InputTag, Metric, Param, RunTag


def _run(client: WaylineClient, unique: str, name: str, **tags: str) -> str:
    experiment_id = client.create_experiment(f"run-page-{name}-{unique}")
    return client.create_run(experiment_id, run_name=f"{name}-{unique}", tags=tags).info.run_id


def test_run_page_shows_overview_params_tags_and_latest_metrics(
    page: Any, client: WaylineClient, unique: str
) -> None:
    parent = _run(client, unique, "parent")
    run_id = _run(
        client,
        unique,
        "child",
        **{
            "mlflow.source.name": "train.py",
            "mlflow.source.type": "LOCAL",
            "mlflow.source.git.commit": "0123abc",
            "mlflow.note.content": "A run <b>not bold</b>",
        },
    )
    experiment_id = client.get_run(run_id).info.experiment_id
    child = client.create_run(
        experiment_id, run_name=f"grandchild-{unique}", tags={"mlflow.parentRunId": run_id}
    )
    client.set_tag(run_id, "mlflow.parentRunId", parent)
    client.log_batch(
        run_id,
        metrics=[Metric("loss", 1.0 / (s + 1), 1000 + s, s) for s in range(20)],
        params=[Param("lr", "0.01"), Param("optimizer", "adam")],
        tags=[RunTag("team", "vision")],
    )
    dataset = Dataset(f"digits-{unique}", "abc123", "local", '{"uri": "/data"}')
    client.log_inputs(run_id, [DatasetInput(dataset, (InputTag("mlflow.data.context", "training"),))])
    client.set_terminated(run_id)

    page.goto(f"/#/runs/{run_id}")
    expect(page.get_by_test_id("run-name")).to_contain_text(f"child-{unique}")
    expect(page.get_by_test_id("run-status")).to_have_text("FINISHED")
    expect(page.get_by_test_id("run-source")).to_contain_text("train.py")
    expect(page.get_by_test_id("run-git-commit")).to_have_text("0123abc")
    expect(page.get_by_test_id("run-datasets")).to_contain_text(f"digits-{unique}")
    expect(page.get_by_test_id("run-description")).to_have_text("A run <b>not bold</b>")
    expect(page.get_by_test_id("parent-run")).to_have_text(parent)
    expect(page.get_by_test_id("child-runs")).to_contain_text(f"grandchild-{unique}")
    assert child.info.run_id

    page.get_by_test_id("tab-params").click()
    assert "tab=params" in page.url
    table = page.get_by_test_id("params-table")
    expect(table).to_contain_text("optimizer")
    page.get_by_test_id("params-table-search").fill("lr")
    expect(table.locator("tbody tr")).to_have_count(1)

    page.get_by_test_id("tab-tags").click()
    tags = page.get_by_test_id("tags-table")
    expect(tags).to_contain_text("team")
    expect(tags).not_to_contain_text("mlflow.source.name")
    page.get_by_test_id("show-system-tags").check()
    expect(tags).to_contain_text("mlflow.source.name")

    page.get_by_test_id("tab-metrics").click()
    row = page.locator('[data-testid="latest-metric"][data-key="loss"]')
    expect(row.get_by_test_id("latest-value")).to_have_text("0.05")


def test_metric_chart_draws_and_controls_change_the_url(
    page: Any, client: WaylineClient, unique: str
) -> None:
    run_id = _run(client, unique, "chart")
    client.log_batch(run_id, metrics=[Metric("accuracy", s / 100, 1000 + 10 * s, s) for s in range(100)])
    client.set_terminated(run_id)
    page.goto(f"/#/runs/{run_id}?tab=metrics")
    chart = page.get_by_test_id("chart-accuracy")
    expect(chart.locator("canvas")).to_have_count(1)
    expect(chart).to_have_attribute("data-total-count", "100")
    expect(chart.locator(".u-legend")).to_contain_text("accuracy")

    page.get_by_test_id("chart-x-axis").select_option("relative")
    page.wait_for_url("**x=relative**")
    page.get_by_test_id("chart-log-y").check()
    page.wait_for_url("**logy=1**")
    page.get_by_test_id("chart-smoothing").fill("0.6")
    page.wait_for_url("**smooth=0.6**")
    # Raw and smoothed lines: the legend lists the smoothed one (the raw one is hidden).
    expect(chart.locator("canvas")).to_have_count(1)
    expect(chart.locator(".u-legend .raw-series")).to_have_count(1)
    page.reload()
    expect(page.get_by_test_id("chart-x-axis")).to_have_value("relative")
    expect(page.get_by_test_id("chart-log-y")).to_be_checked()


def test_charts_of_a_running_run_update_without_reload(page: Any, client: WaylineClient, unique: str) -> None:
    run_id = _run(client, unique, "live")
    now = int(time.time() * 1000)
    client.log_batch(run_id, metrics=[Metric("loss", 10.0 - s, now + s, s) for s in range(5)])
    page.goto(f"/#/runs/{run_id}?tab=metrics")
    chart = page.get_by_test_id("chart-loss")
    expect(chart).to_have_attribute("data-total-count", "5")
    expect(page.locator('[data-key="loss"]').get_by_test_id("latest-value")).to_have_text("6")
    client.log_batch(run_id, metrics=[Metric("loss", 0.5, now + 100 + s, 5 + s) for s in range(3)])
    expect(chart).to_have_attribute("data-total-count", "8", timeout=5000)
    expect(page.locator('[data-key="loss"]').get_by_test_id("latest-value")).to_have_text("0.5", timeout=5000)
    client.set_terminated(run_id)
    expect(page.get_by_test_id("run-status-badge")).to_have_text("FINISHED", timeout=5000)


def test_unknown_run_id_shows_a_message(page: Any) -> None:
    page.goto("/#/runs/0123456789abcdef0123456789abcdef")
    error = page.get_by_test_id("error")
    expect(error).to_contain_text("No run with id 0123456789abcdef0123456789abcdef")


def test_a_linked_metrics_tab_asks_once_for_the_run_and_each_first_chart(
    page: Any, client: WaylineClient, unique: str
) -> None:
    """The first view's requests start before the app renders (ui/src/boot.ts); the views then use those
    answers instead of asking again."""
    run_id = _run(client, unique, "prefetch")
    keys = [f"m{i:02d}" for i in range(10)]
    client.log_batch(run_id, metrics=[Metric(k, float(s), 1000 + s, s) for k in keys for s in range(30)])
    client.set_terminated(run_id)
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))

    page.goto(f"/#/runs/{run_id}?tab=metrics")
    for key in keys[:6]:
        expect(page.get_by_test_id(f"chart-{key}")).to_have_attribute("data-points", "30")

    assert sum("/runs/get?" in url for url in requests) == 1
    asked = [url.split("key=")[1].split("&")[0] for url in requests if "/metrics/series?" in url]
    assert all(asked.count(key) == 1 for key in keys[:6]), asked
