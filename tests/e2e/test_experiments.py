"""The experiments list: search by name, create (with the refusal shown in place), rename, delete and
restore, the URL holding the view, and opening several experiments' runs together."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from wayline.client import WaylineClient


def _row(page: Any, name: str) -> Any:
    return page.get_by_test_id("experiment-row").filter(
        has=page.get_by_test_id("experiment-name").get_by_text(name, exact=True)
    )


def test_search_lists_matching_experiments_and_keeps_the_text_in_the_url(
    page: Any, client: WaylineClient, unique: str
) -> None:
    client.create_experiment(f"alpha-{unique}")
    client.create_experiment(f"beta-{unique}")
    page.goto("/#/experiments")
    page.get_by_test_id("experiment-search").fill(unique)
    expect(page.get_by_test_id("experiment-row")).to_have_count(2)
    page.get_by_test_id("experiment-search").fill(f"alpha-{unique}")
    expect(page.get_by_test_id("experiment-row")).to_have_count(1)
    expect(page.get_by_test_id("experiment-name")).to_have_text(f"alpha-{unique}")
    page.reload()
    expect(page.get_by_test_id("experiment-search")).to_have_value(f"alpha-{unique}")
    expect(page.get_by_test_id("experiment-row")).to_have_count(1)


def test_create_shows_a_refusal_in_place_then_creates(page: Any, client: WaylineClient, unique: str) -> None:
    client.create_experiment(f"taken-{unique}")
    page.goto(f"/#/experiments?q={unique}")
    expect(page.get_by_test_id("experiment-row")).to_have_count(1)
    page.get_by_test_id("create-experiment").click()
    page.get_by_test_id("name-input").fill(f"taken-{unique}")
    page.get_by_test_id("name-submit").click()
    expect(page.get_by_test_id("name-error")).to_contain_text("already exists")
    expect(page.get_by_test_id("name-input")).to_have_attribute("aria-invalid", "true")
    page.get_by_test_id("name-input").fill(f"fresh-{unique}")
    page.get_by_test_id("name-submit").click()
    expect(page.get_by_test_id("name-dialog")).to_have_count(0)
    expect(_row(page, f"fresh-{unique}")).to_have_count(1)
    assert client.get_experiment_by_name(f"fresh-{unique}") is not None


def test_rename_delete_and_restore(page: Any, client: WaylineClient, unique: str) -> None:
    experiment_id = client.create_experiment(f"old-{unique}")
    page.goto(f"/#/experiments?q={unique}")
    _row(page, f"old-{unique}").get_by_test_id("rename").click()
    page.get_by_test_id("name-input").fill(f"new-{unique}")
    page.get_by_test_id("name-input").press("Enter")
    expect(_row(page, f"new-{unique}")).to_have_count(1)
    assert client.get_experiment(experiment_id).name == f"new-{unique}"

    _row(page, f"new-{unique}").get_by_test_id("delete").click()
    expect(page.get_by_test_id("experiment-row")).to_have_count(0)
    assert client.get_experiment(experiment_id).lifecycle_stage.value == "deleted"

    page.get_by_test_id("show-deleted").check()
    expect(page).to_have_url(f"/#/experiments?q={unique}&deleted=1")
    row = _row(page, f"new-{unique}")
    expect(row.get_by_test_id("deleted-badge")).to_be_visible()
    row.get_by_test_id("restore").click()
    expect(row.get_by_test_id("deleted-badge")).to_have_count(0)
    assert client.get_experiment(experiment_id).lifecycle_stage.value == "active"


def test_checked_experiments_open_together_and_a_name_opens_one(
    page: Any, client: WaylineClient, unique: str
) -> None:
    first = client.create_experiment(f"one-{unique}")
    second = client.create_experiment(f"two-{unique}")
    page.goto(f"/#/experiments?q={unique}")
    _row(page, f"one-{unique}").get_by_test_id("experiment-select").check()
    _row(page, f"two-{unique}").get_by_test_id("experiment-select").check()
    expect(page.get_by_test_id("open-selected")).to_have_text("Open runs (2)")
    page.get_by_test_id("open-selected").click()
    expect(page.get_by_test_id("runs-title")).to_contain_text(f"one-{unique}")
    expect(page.get_by_test_id("runs-title")).to_contain_text(f"two-{unique}")
    assert set(page.url.split("/#/experiments/")[1].split(",")) == {first, second}

    page.goto(f"/#/experiments?q=one-{unique}")
    page.get_by_test_id("experiment-name").click()
    expect(page).to_have_url(f"/#/experiments/{first}")
    expect(page.get_by_test_id("runs-title")).to_have_text(f"one-{unique}")
