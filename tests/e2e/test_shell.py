"""The app shell: served at /, hash routes, themes, the API docs link, and what happens without a bundle."""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any

import pytest


def test_index_is_served_with_a_strict_content_security_policy(base_url: str) -> None:
    with urllib.request.urlopen(base_url + "/") as response:
        body = response.read().decode()
        csp = response.headers["Content-Security-Policy"]
        assert response.headers["X-Frame-Options"] == "DENY"
    assert '<div id="root">' in body
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp


@pytest.mark.parametrize("name", ["..%2Findex.html", "%2e%2e%2f%2e%2e%2fpyproject.toml", ".source-hash"])
def test_asset_names_outside_the_bundle_are_refused(base_url: str, name: str) -> None:
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(f"{base_url}/assets/{name}")
    caught.value.close()
    assert caught.value.code == 404


def test_root_redirects_to_experiments_and_theme_toggles(page: Any) -> None:
    page.goto("/")
    page.wait_for_url("**/#/experiments")
    html = page.locator("html")
    before = html.get_attribute("data-theme")
    page.get_by_test_id("theme-toggle").click()
    after = html.get_attribute("data-theme")
    assert {before, after} == {"light", "dark"}
    page.reload()
    assert html.get_attribute("data-theme") == after


def test_unknown_page_shows_a_message(page: Any) -> None:
    page.goto("/#/no/such/page")
    assert "No such page" in page.get_by_test_id("error").inner_text()
