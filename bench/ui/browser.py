"""The timed browser measurements, each in a new browser context (empty cache, cookies and local storage:
MLflow keeps a view's sort in local storage, which would carry over).

Every time is taken inside the page, in one clock (``performance.now()``, milliseconds since the navigation
started):

* a page load ends at the first animation frame in which the awaited state holds (the predicate is polled
  on every frame, ``polling="raf"``), measured from the navigation's start;
* an action (a click, the Enter key) starts at its input event's ``timeStamp`` (a capture listener on the
  window records the first ``pointerdown`` or Enter ``keydown`` after it is armed) and ends at that frame.

So Playwright's own round trips are in no figure. "First row" is the visible run-name element nearest the top
of the page: a view counts as loaded, sorted or filtered when that element's text is the expected run's name.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from ui import dataset as ds
from ui.profiles import Profile
from ui.stores import BuiltStore

VIEWPORT = {"width": 1400, "height": 900}

FIRST_ROW_IS = """
([selector, name]) => {
  let best = null, bestTop = Infinity;
  for (const el of document.querySelectorAll(selector)) {
    const rect = el.getBoundingClientRect();
    if (rect.height === 0 || rect.width === 0) continue;
    if (rect.top < bestTop) { best = el; bestTop = rect.top; }
  }
  return best !== null && best.textContent.trim() === name ? performance.now() : false;
}
"""

FIRST_ROW_TEXT = """
(selector) => {
  let best = null, bestTop = Infinity;
  for (const el of document.querySelectorAll(selector)) {
    const rect = el.getBoundingClientRect();
    if (rect.height === 0 || rect.width === 0) continue;
    if (rect.top < bestTop) { best = el; bestTop = rect.top; }
  }
  return best === null ? null : best.textContent.trim();
}
"""

ARM = """
() => {
  window.__benchT0 = null;
  if (window.__benchArmed) return;
  window.__benchArmed = true;
  const mark = (e) => { if (window.__benchT0 === null) window.__benchT0 = e.timeStamp; };
  window.addEventListener('pointerdown', mark, true);
  window.addEventListener('keydown', (e) => { if (e.key === 'Enter') mark(e); }, true);
}
"""


@dataclass
class Attempt:
    """One timed attempt: its milliseconds, or why there are none."""

    ms: float | None
    error: str | None = None
    #: On failure, the first row's run name then (or None): tells a slow view from a wrong expectation.
    first_row: str | None = None


@dataclass
class Figure:
    """All attempts at one figure for one product (the first is a warm-up and is not counted)."""

    name: str
    method: str
    timeout_ms: float
    attempts: list[Attempt] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)


class Bench:
    """One product's measurements against its running server."""

    def __init__(
        self,
        browser: Browser,
        base_url: str,
        profile: Profile,
        store: BuiltStore,
        expected: ds.Expected,
        *,
        timeout_s: float,
        shots: Path,
    ) -> None:
        self.browser = browser
        self.base_url = base_url.rstrip("/")
        self.profile = profile
        self.store = store
        self.expected = expected
        self.timeout_ms = timeout_s * 1000
        self.shots = shots
        self.page_errors: list[str] = []

    # -- one attempt of each figure ---------------------------------------------------------------------
    def runs_page(self, page: Page) -> float:
        page.goto(self._url(self.profile.runs_path), wait_until="commit")
        return self._wait_first_row(page, self.expected.default_first)

    def sort(self, page: Page) -> float:
        self._loaded_runs_page(page)
        p = self.profile
        first = self.expected.sort_desc_first if p.sort_descending else self.expected.sort_asc_first
        if p.sort_click is not None:
            for step in p.sort_steps:
                page.click(self._fmt(step), timeout=self.timeout_ms)
            target = page.locator(self._fmt(p.sort_click)).first
            target.wait_for(state="visible", timeout=self.timeout_ms)
            page.evaluate(ARM)
            target.click(timeout=self.timeout_ms)
            t0 = page.evaluate("() => window.__benchT0")
        elif p.sort_url is not None:
            hash_part = self._fmt(p.sort_url)
            t0 = page.evaluate(
                "(h) => { const t = performance.now(); location.hash = h; return t; }", hash_part
            )
        else:
            raise RuntimeError(f"{p.product}: no way to sort configured")
        if t0 is None:
            raise RuntimeError("the click reached the page without a pointerdown event")
        return self._wait_first_row(page, first) - float(t0)

    def filter(self, page: Page) -> float:
        self._loaded_runs_page(page)
        box = page.locator(self.profile.filter_input).first
        box.click(timeout=self.timeout_ms)
        box.fill(ds.FILTER)
        for key in self.profile.filter_keys_before:
            box.press(key)
        page.evaluate(ARM)
        box.press("Enter")
        t0 = page.evaluate("() => window.__benchT0")
        if t0 is None:
            raise RuntimeError("Enter reached the page without a keydown event")
        return self._wait_first_row(page, self.expected.filter_first) - float(t0)

    def chart(self, page: Page) -> float:
        page.goto(self._url(self.profile.chart_path), wait_until="commit")
        handle = page.wait_for_function(
            "() => (" + self._fmt(self.profile.chart_ready) + ")() ? performance.now() : false",
            polling="raf",
            timeout=self.timeout_ms,
        )
        return float(handle.json_value())

    # -- running attempts ---------------------------------------------------------------------------------
    def measure(self, name: str, method: str, reps: int, budget_s: float) -> Figure:
        """A warm-up attempt, then ``reps`` timed ones; stops early after ``budget_s`` (at least 3 counted),
        and after the warm-up when it timed out (each attempt would)."""
        action = {"runs_page": self.runs_page, "sort": self.sort, "filter": self.filter, "chart": self.chart}[
            name
        ]
        figure = Figure(name, method, self.timeout_ms)
        started = time.monotonic()
        for i in range(reps + 1):
            last = i == reps
            attempt = self._attempt(
                action, shot=f"{self.profile.product}-{name}" if (last or i == 0) else None
            )
            figure.attempts.append(attempt)
            if attempt.error == "timeout" and i == 0:
                break
            if i >= 3 and time.monotonic() - started > budget_s:
                break
        figure.page_errors = self.page_errors
        self.page_errors = []
        return figure

    def _attempt(self, action: Any, shot: str | None) -> Attempt:
        context = self.browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
        page = context.new_page()
        page.on("pageerror", lambda exc: self.page_errors.append(str(exc)[:300]))
        try:
            return Attempt(float(action(page)))
        except PlaywrightTimeout:
            return Attempt(None, "timeout", self._first_row(page))
        except Exception as exc:  # a broken selector or page: reported in the table, not a crash
            return Attempt(
                None, f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}", self._first_row(page)
            )
        finally:
            if shot:
                with contextlib.suppress(Exception):
                    page.screenshot(path=str(self.shots / f"{shot}.png"))
            context.close()

    # -- helpers ------------------------------------------------------------------------------------------
    def _fmt(self, template: str) -> str:
        return self.profile.fill(template, self.store)

    def _url(self, path: str) -> str:
        return self.base_url + self._fmt(path)

    def _wait_first_row(self, page: Page, name: str) -> float:
        handle = page.wait_for_function(
            FIRST_ROW_IS, arg=[self.profile.name_cell, name], polling="raf", timeout=self.timeout_ms
        )
        return float(handle.json_value())

    def _first_row(self, page: Page) -> str | None:
        try:
            value = page.evaluate(FIRST_ROW_TEXT, self.profile.name_cell)
        except Exception:
            return None
        return None if value is None else str(value)

    def _loaded_runs_page(self, page: Page) -> None:
        """The runs page in its default order, with its background requests done (untimed)."""
        page.goto(self._url(self.profile.runs_path), wait_until="commit")
        self._wait_first_row(page, self.expected.default_first)
        with contextlib.suppress(PlaywrightTimeout):
            page.wait_for_load_state("networkidle", timeout=5000)
        page.wait_for_timeout(300)
