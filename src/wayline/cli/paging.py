"""Walking paged search results up to a limit, with a progress bar once more than one page is needed."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from wayline.entities import Page

T = TypeVar("T")

#: Items asked for per request.
PAGE_SIZE = 1000


def walk_pages(
    fetch: Callable[[int, str | None], Page[T]],
    max_results: int,
    *,
    console: Console,
    what: str,
    page_size: int = PAGE_SIZE,
) -> list[T]:
    """Call ``fetch(page_size, page_token)`` until ``max_results`` items or the last page.

    A progress bar (on ``console``, shown only on a terminal and removed when done) appears once a second
    page is needed.
    """
    items: list[T] = []
    token: str | None = None
    progress: Progress | None = None
    task = None
    try:
        while len(items) < max_results:
            page = fetch(min(page_size, max_results - len(items)), token)
            items.extend(page.items)
            token = page.next_page_token
            if not token or not page.items or len(items) >= max_results:
                break
            if progress is None:
                progress = Progress(
                    TextColumn("{task.description}"),
                    BarColumn(),
                    MofNCompleteColumn(),
                    TimeElapsedColumn(),
                    console=console,
                    transient=True,
                    disable=not console.is_terminal,
                )
                progress.start()
                task = progress.add_task(f"Fetching {what}", total=max_results)
            if task is not None:
                progress.update(task, completed=len(items))
    finally:
        if progress is not None:
            progress.stop()
    return items[:max_results]
