"""The model registry views: models list, model page, version page, comments and transition requests.

Data is logged through the client on the worker's server: a run whose artifacts hold a model directory (an
``MLmodel`` with a signature) is the source of each version. The browser sends no credentials, so it acts
as the server's default user; requests are made by other users through clients with HTTP Basic names in
their URL. One module-scoped server names an approver, so the browser's user is not one there.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from playwright.sync_api import expect

from wayline.client import WaylineClient

_INPUTS = [
    {"type": "double", "name": "sepal_length", "required": True},
    {"type": "long", "name": "petal_count", "required": True},
]
_OUTPUTS = [{"type": "double", "name": "prediction", "required": True}]
MLMODEL = f"""\
artifact_path: model
flavors:
  python_function:
    loader_module: wayline.models.pyfunc
    python_version: 3.11.7
signature:
  inputs: '{json.dumps(_INPUTS)}'
  outputs: '{json.dumps(_OUTPUTS)}'
"""


def _as_user(url: str, user: str) -> str:
    """The server URL with an HTTP Basic user name in it (the server takes the name as given)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{user}:x@{parts.netloc}"))


def _model_run(client: WaylineClient, unique: str) -> str:
    """A finished run whose artifacts hold ``model/MLmodel``; returns its id."""
    experiment_id = client.create_experiment(f"registry-{unique}")
    run = client.create_run(experiment_id, run_name=f"train-{unique}")
    run_id: str = run.info.run_id
    client.log_text(run_id, MLMODEL, "model/MLmodel")
    client.set_terminated(run_id)
    return run_id


def _register(client: WaylineClient, name: str, run_id: str, versions: int = 1, **kwargs: Any) -> None:
    client.create_registered_model(name, **kwargs)
    for _ in range(versions):
        client.create_model_version(name, f"runs:/{run_id}/model", run_id=run_id)


@pytest.fixture(scope="module")
def approver_server(tmp_path_factory: pytest.TempPathFactory, ui_bundle: Path) -> Iterator[Any]:
    """A server where only 'carol' approves (the browser acts as the default user, who does not)."""
    from servers import start_server

    server = start_server(
        tmp_path_factory.mktemp("registry-approvers"), env={"WAYLINE_REGISTRY_APPROVERS": "carol"}
    )
    yield server
    server.stop()


def test_models_list_shows_models_and_search_narrows(page: Any, client: WaylineClient, unique: str) -> None:
    run_id = _model_run(client, unique)
    _register(
        client, f"churn-{unique}", run_id, description="Predicts churn\nsecond line", tags={"team": "ml"}
    )
    _register(client, f"fraud-{unique}", run_id, versions=2)
    client.set_registered_model_alias(f"fraud-{unique}", "champion", 2)

    page.goto(f"/#/models?q={unique}")
    rows = page.get_by_test_id("model-row")
    expect(rows).to_have_count(2)
    churn = rows.filter(has_text=f"churn-{unique}")
    expect(churn).to_contain_text("Predicts churn")
    expect(churn).not_to_contain_text("second line")
    expect(churn).to_contain_text("team=ml")
    expect(rows.filter(has_text=f"fraud-{unique}")).to_contain_text("@champion → v2")

    page.get_by_test_id("model-order").select_option("updated")
    expect(rows.first).to_contain_text(f"fraud-{unique}")  # updated last (its alias)
    assert "order=updated" in page.url

    page.get_by_test_id("model-search").fill(f"FRAUD-{unique}")
    page.get_by_test_id("model-search").press("Enter")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text(f"fraud-{unique}")
    assert f"q=FRAUD-{unique}" in page.url

    page.get_by_test_id("model-search").fill(f"nothing-{unique}")
    page.get_by_test_id("model-search").press("Enter")
    expect(rows).to_have_count(0)
    expect(page.locator(".empty")).to_contain_text(f"nothing-{unique}")

    page.goto(f"/#/models?q={unique}")
    page.get_by_role("link", name=f"churn-{unique}", exact=True).click()
    expect(page.get_by_test_id("model-name")).to_contain_text(f"churn-{unique}")


def test_models_list_pages_with_tokens(page: Any, client: WaylineClient, unique: str) -> None:
    for i in range(52):
        client.create_registered_model(f"paged-{unique}-{i:02d}")
    page.goto(f"/#/models?q=paged-{unique}")
    rows = page.get_by_test_id("model-row")
    expect(rows).to_have_count(50)
    page.get_by_test_id("next-page").click()
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text(f"paged-{unique}-50")
    expect(page.get_by_test_id("next-page")).to_be_disabled()
    page.go_back()
    expect(rows).to_have_count(50)


def test_model_page_shows_versions_aliases_and_edits_persist(
    page: Any, client: WaylineClient, unique: str
) -> None:
    name = f"model-{unique}"
    run_id = _model_run(client, unique)
    _register(client, name, run_id, versions=2, description="first words")
    client.set_registered_model_alias(name, "champion", 1)
    client.transition_model_version_stage(name, 2, "Staging")

    page.goto(f"/#/models/{name}")
    versions = page.get_by_test_id("version-row")
    expect(versions).to_have_count(2)
    expect(versions.first).to_contain_text("Version 2")
    expect(versions.first).to_contain_text("Staging")
    expect(versions.nth(1)).to_contain_text("@champion")
    expect(versions.first.get_by_role("link", name=run_id[:8])).to_have_attribute("href", f"#/runs/{run_id}")
    expect(page.get_by_test_id("alias-row")).to_contain_text("@champion")
    expect(page.get_by_test_id("model-stages")).to_contain_text("Staging: v2")
    expect(page.get_by_test_id("description-text")).to_have_text("first words")

    page.get_by_test_id("description-edit").click()
    page.get_by_test_id("description-input").fill("Scores churn risk weekly.")
    page.get_by_test_id("description-save").click()
    expect(page.get_by_test_id("description-text")).to_have_text("Scores churn risk weekly.")

    page.get_by_test_id("tag-key").fill("owner-team")
    page.get_by_test_id("tag-value").fill("growth")
    page.get_by_test_id("tag-add").click()
    expect(page.get_by_test_id("tag")).to_contain_text("growth")

    page.get_by_test_id("alias-name").fill("challenger")
    page.get_by_test_id("alias-version").fill("2")
    page.get_by_test_id("alias-set").click()
    expect(page.get_by_test_id("alias-row")).to_have_count(2)
    expect(versions.first).to_contain_text("@challenger")

    page.reload()
    expect(page.get_by_test_id("description-text")).to_have_text("Scores churn risk weekly.")
    model = client.get_registered_model(name)
    assert model.description == "Scores churn risk weekly."
    assert {a.alias: a.version for a in model.aliases} == {"champion": 1, "challenger": 2}

    page.get_by_test_id("tab-history").click()
    history = page.get_by_test_id("history")
    expect(history).to_contain_text("alias set")
    expect(history).to_contain_text("stage changed")
    expect(history).to_contain_text("model created")
    assert "tab=history" in page.url


def test_version_page_shows_source_signature_and_a_comment_persists(
    page: Any, client: WaylineClient, unique: str
) -> None:
    name = f"signed-{unique}"
    run_id = _model_run(client, unique)
    _register(client, name, run_id)

    page.goto(f"/#/models/{name}/versions/1")
    source = page.get_by_test_id("source-run")
    expect(source).to_have_text(run_id)
    expect(source).to_have_attribute("href", f"#/runs/{run_id}")
    expect(page.get_by_test_id("source-uri")).to_have_text(f"runs:/{run_id}/model")
    inputs = page.get_by_test_id("signature-inputs")
    expect(inputs.locator("tbody tr")).to_have_count(2)
    expect(inputs).to_contain_text("sepal_length")
    expect(inputs).to_contain_text("long")
    expect(page.get_by_test_id("signature-outputs")).to_contain_text("prediction")

    page.get_by_test_id("comment-input").fill(f"Looks good {unique}")
    page.get_by_test_id("comment-add").click()
    expect(page.get_by_test_id("comment-text")).to_have_text(f"Looks good {unique}")
    page.reload()
    expect(page.get_by_test_id("comment-text")).to_have_text(f"Looks good {unique}")
    assert [c.text for c in client.list_comments(name, 1)] == [f"Looks good {unique}"]

    # The browser wrote it, so the browser may edit and delete it.
    page.get_by_test_id("comment-edit").click()
    page.get_by_test_id("comments").locator("textarea").first.fill("Edited")
    page.get_by_test_id("comments").get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("comment-text")).to_have_text("Edited")

    page.get_by_test_id("source-run").click()
    page.wait_for_url(f"**/#/runs/{run_id}")


def test_version_without_mlmodel_says_no_signature(page: Any, client: WaylineClient, unique: str) -> None:
    name = f"bare-{unique}"
    experiment_id = client.create_experiment(f"bare-{unique}")
    run_id = client.create_run(experiment_id).info.run_id
    client.log_text(run_id, "weights", "model/weights.txt")
    _register(client, name, run_id)
    page.goto(f"/#/models/{name}/versions/1")
    expect(page.get_by_test_id("signature")).to_contain_text("no signature")


def test_transition_request_is_approved_in_the_ui(
    page: Any, client: WaylineClient, base_url: str, unique: str
) -> None:
    name = f"promote-{unique}"
    run_id = _model_run(client, unique)
    _register(client, name, run_id)
    with WaylineClient(_as_user(base_url, "alice")) as alice:
        request = alice.request_transition(name, 1, stage="Production", comment="AUC +2%")

    page.goto(f"/#/models/{name}/versions/1")
    expect(page.get_by_test_id("version-stage")).to_have_text("None")
    item = page.get_by_test_id("request")
    expect(item).to_contain_text("stage Production")
    expect(item).to_contain_text("asked by alice")
    expect(item.get_by_test_id("request-status")).to_have_text("PENDING")
    item.get_by_test_id("decision-comment").fill("ship it")
    item.get_by_test_id("request-approve").click()

    expect(item.get_by_test_id("request-result")).to_contain_text("Approved")
    expect(item.get_by_test_id("request-status")).to_have_text("APPROVED")
    expect(page.get_by_test_id("version-stage")).to_have_text("Production")
    assert client.get_model_version(name, 1).current_stage.value == "Production"
    decided = client.get_request(request.id)
    assert decided.status.value == "APPROVED"
    assert decided.decision_comment == "ship it"
    page.get_by_test_id("theme-toggle").click()  # the screenshot shows the other theme


def test_own_request_can_be_cancelled_but_not_approved(page: Any, client: WaylineClient, unique: str) -> None:
    name = f"selfish-{unique}"
    run_id = _model_run(client, unique)
    _register(client, name, run_id)

    page.goto(f"/#/models/{name}/versions/1")
    page.get_by_test_id("request-stage").select_option("Staging")
    page.get_by_test_id("request-comment").fill("try it")
    page.get_by_test_id("request-create").click()
    item = page.get_by_test_id("request")
    expect(item.get_by_test_id("request-status")).to_have_text("PENDING")
    # Self-approval is off: the requester gets no approve button, only cancel.
    expect(item.get_by_test_id("request-approve")).to_have_count(0)
    expect(item.get_by_test_id("request-no-rights")).to_contain_text("another approver")
    item.get_by_test_id("request-cancel").click()
    expect(item.get_by_test_id("request-status")).to_have_text("CANCELLED")
    assert [r.status.value for r in client.list_requests(name=name)] == ["CANCELLED"]


def test_non_approver_gets_no_approve_button_and_sees_the_refusal(
    page: Any, approver_server: Any, unique: str
) -> None:
    name = f"guarded-{unique}"
    with WaylineClient(_as_user(approver_server.url, "carol")) as carol:
        run_id = _model_run(carol, unique)
        _register(carol, name, run_id)
        carol.update_registered_model(name, protected=True)
    with WaylineClient(_as_user(approver_server.url, "alice")) as alice:
        alice.request_transition(name, 1, stage="Production", comment="please")

    page.goto(f"{approver_server.url}/#/models/{name}/versions/1")
    item = page.get_by_test_id("request")
    expect(item.get_by_test_id("request-status")).to_have_text("PENDING")
    expect(item.get_by_test_id("request-no-rights")).to_contain_text("Only approvers")
    expect(item.get_by_test_id("request-approve")).to_have_count(0)
    expect(item.get_by_test_id("request-reject")).to_have_count(0)

    # A direct move on the protected model: the server refuses, and the refusal shows in place.
    page.get_by_test_id("transition-stage").select_option("Production")
    page.get_by_test_id("transition-submit").click()
    refusal = page.get_by_test_id("stage-transition").get_by_test_id("error")
    expect(refusal).to_contain_text("PERMISSION_DENIED")
    expect(page.get_by_test_id("version-stage")).to_have_text("None")


def test_unknown_model_and_version_show_a_message(page: Any, client: WaylineClient, unique: str) -> None:
    page.goto(f"/#/models/missing-{unique}")
    expect(page.get_by_test_id("error")).to_contain_text(f"No registered model is named “missing-{unique}”")

    name = f"known-{unique}"
    _register(client, name, _model_run(client, unique))
    page.goto(f"/#/models/{name}/versions/7")
    expect(page.get_by_test_id("error")).to_contain_text("No version 7")
    page.goto(f"/#/models/{name}/versions/abc")
    expect(page.get_by_test_id("error")).to_be_visible()
