"""``GET /api/2.0/wayline/registry/acting-user``: who a request acts as, and whether they approve."""

from __future__ import annotations

import base64
from pathlib import Path

from starlette.testclient import TestClient

from wayline.server.app import create_app
from wayline.server.settings import ServerSettings

ROUTE = "/api/2.0/wayline/registry/acting-user"


def _basic(user: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:secret".encode()).decode()}


def test_without_credentials_the_default_user_acts(tmp_path: Path) -> None:
    settings = ServerSettings(
        backend_store_uri=str(tmp_path), default_user="ui-user", registry_approvers="carol"
    )
    with TestClient(create_app(settings)) as client:
        body = client.get(ROUTE).json()
    assert body == {"user": "ui-user", "approver": False, "allow_self_approval": False}


def test_a_basic_user_named_in_the_approvers_approves(tmp_path: Path) -> None:
    settings = ServerSettings(
        backend_store_uri=str(tmp_path), registry_approvers="carol, dave", allow_self_approval=True
    )
    with TestClient(create_app(settings)) as client:
        carol = client.get(ROUTE, headers=_basic("carol")).json()
        erin = client.get(ROUTE, headers=_basic("erin")).json()
    assert carol == {"user": "carol", "approver": True, "allow_self_approval": True}
    assert erin["approver"] is False


def test_everyone_approves_when_no_approvers_are_configured(tmp_path: Path) -> None:
    with TestClient(create_app(ServerSettings(backend_store_uri=str(tmp_path)))) as client:
        body = client.get(ROUTE).json()
    assert body["approver"] is True
