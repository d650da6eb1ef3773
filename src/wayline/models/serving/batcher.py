"""Adaptive micro-batching: concurrent requests scored by one call to the model.

Requests whose inputs are DataFrames with the same columns and dtypes, the same params and the same
loaded model share a *batch key*. When a prediction thread is free, the oldest waiting request is
taken with every waiting request of its key, up to ``max_batch_rows`` rows. The batch is sent at once
unless other requests are *arriving* (accepted, body being read or decoded, not yet queued): then it
waits for them, at most ``max_wait_s``, while it is not full. A lone request never waits.

The batch's frames are concatenated, scored once in a worker thread, and the output (DataFrame,
Series, ndarray, list, or dict of columns) is split back by row counts. When the merged call fails, or
its output cannot be split, each request is scored alone, so one bad request fails only itself.
Inputs without a key (tensors, dicts of arrays) are scored alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Hashable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd

from wayline.errors import TemporarilyUnavailable
from wayline.models.serving.payload import ParsedInput

logger = logging.getLogger(__name__)


class Predictor(Protocol):
    def predict(self, data: Any, params: Mapping[str, Any] | None = None) -> Any: ...


@dataclass
class BatchStats:
    """Counters of one batcher (per worker process)."""

    requests: int = 0  # requests scored (successfully or not)
    batches: int = 0  # calls to the model that scored merged or lone requests
    merged_batches: int = 0  # batches of more than one request
    largest_batch: int = 0  # most requests in one batch
    waits: int = 0  # batches held back for arriving requests
    retries: int = 0  # merged batches that failed and were scored request by request

    def to_dict(self) -> dict[str, int]:
        return dict(vars(self))


@dataclass
class _Job:
    model: Predictor
    parsed: ParsedInput
    key: Hashable | None
    future: asyncio.Future[Any]


_Outcome = tuple[bool, Any]  # (succeeded, prediction or exception)


def split_output(output: Any, sizes: Sequence[int]) -> list[Any] | None:
    """``output`` of a merged batch cut into one part per request, or None when it has no row axis."""
    total = sum(sizes)
    bounds: list[tuple[int, int]] = []
    start = 0
    for size in sizes:
        bounds.append((start, start + size))
        start += size
    if isinstance(output, (pd.DataFrame, pd.Series)):
        if len(output) != total:
            return None
        return [output.iloc[a:b] for a, b in bounds]
    if isinstance(output, np.ndarray):
        if output.ndim == 0 or output.shape[0] != total:
            return None
        return [output[a:b] for a, b in bounds]
    if isinstance(output, list):
        return [output[a:b] for a, b in bounds] if len(output) == total else None
    if isinstance(output, dict) and output:
        columns = list(output.values())
        if not all(isinstance(c, (np.ndarray, list, pd.Series)) and len(c) == total for c in columns):
            return None
        return [{name: _cut(column, a, b) for name, column in output.items()} for a, b in bounds]
    return None


def _cut(column: Any, start: int, stop: int) -> Any:
    return column.iloc[start:stop] if isinstance(column, pd.Series) else column[start:stop]


def _score(model: Predictor, data: Any, params: dict[str, Any] | None) -> _Outcome:
    try:
        return True, model.predict(data, params)
    except Exception as exc:  # a model's failure goes back to its request
        return False, exc


def _score_batch(model: Predictor, inputs: list[ParsedInput]) -> tuple[list[_Outcome], bool]:
    """Score ``inputs`` (runs in a worker thread); also says whether a merged call had to be retried."""
    if len(inputs) == 1:
        return [_score(model, inputs[0].data, inputs[0].params)], False
    try:
        merged = pd.concat([item.data for item in inputs], ignore_index=True)
        parts = split_output(model.predict(merged, inputs[0].params), [item.rows for item in inputs])
    except Exception as exc:
        logger.info("A merged batch of %d requests failed (%s); scoring them one by one", len(inputs), exc)
        parts = None
    if parts is not None:
        return [(True, part) for part in parts], False
    return [_score(model, item.data, item.params) for item in inputs], True


class MicroBatcher:
    """Queues requests of one event loop and scores them in ``threads`` worker threads."""

    def __init__(self, *, max_batch_rows: int, max_wait_s: float, threads: int = 1) -> None:
        if max_batch_rows < 1 or max_wait_s < 0 or threads < 1:
            raise ValueError("max_batch_rows and threads must be positive, max_wait_s not negative")
        self.max_batch_rows = max_batch_rows
        self.max_wait_s = max_wait_s
        self.threads = threads
        self.stats = BatchStats()
        self._pending: list[_Job] = []
        self._arriving = 0
        self._executor: ThreadPoolExecutor | None = None
        self._changed: asyncio.Event | None = None
        self._slots: asyncio.Semaphore | None = None
        self._dispatcher: asyncio.Task[None] | None = None
        self._running: set[asyncio.Task[None]] = set()
        self._closed = False

    # --- the request side ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def arriving(self) -> Iterator[None]:
        """Mark a request as on its way (body being read and decoded) for as long as the block runs."""
        self._arriving += 1
        try:
            yield
        finally:
            self._arriving -= 1
            if self._changed is not None:
                self._changed.set()

    async def predict(self, model: Predictor, parsed: ParsedInput) -> Any:
        """Score ``parsed`` with ``model``, batched with compatible concurrent requests."""
        if self._closed:
            raise TemporarilyUnavailable("The scoring server is shutting down")
        self._start()
        assert self._changed is not None
        loop = asyncio.get_running_loop()
        key = None if parsed.batch_key is None else (id(model), parsed.batch_key)
        job = _Job(model, parsed, key, loop.create_future())
        self._pending.append(job)
        self._changed.set()
        return await job.future

    # --- the dispatcher -----------------------------------------------------------------------------

    def _start(self) -> None:
        if self._dispatcher is not None:
            return
        self._changed = asyncio.Event()
        self._slots = asyncio.Semaphore(self.threads)
        self._executor = ThreadPoolExecutor(self.threads, thread_name_prefix="wayline-predict")
        self._dispatcher = asyncio.get_running_loop().create_task(self._dispatch(), name="wayline-batcher")

    async def _dispatch(self) -> None:
        assert self._changed is not None
        assert self._slots is not None
        loop = asyncio.get_running_loop()
        while True:
            while not self._pending:
                self._changed.clear()
                await self._changed.wait()
            await self._slots.acquire()
            jobs = self._take()
            if not jobs:
                self._slots.release()
                continue
            key = jobs[0].key
            rows = sum(job.parsed.rows for job in jobs)
            if key is not None and rows < self.max_batch_rows and self._arriving > 0 and self.max_wait_s > 0:
                self.stats.waits += 1
                deadline = loop.time() + self.max_wait_s
                while rows < self.max_batch_rows and self._arriving > 0:
                    remaining = deadline - loop.time()
                    if remaining <= 0:
                        break
                    self._changed.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._changed.wait(), remaining)
                    more = self._take_compatible(key, self.max_batch_rows - rows)
                    jobs += more
                    rows += sum(job.parsed.rows for job in more)
            task = loop.create_task(self._run(jobs))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    def _take(self) -> list[_Job]:
        """The oldest live job with the waiting jobs it can be batched with."""
        while self._pending:
            head = self._pending.pop(0)
            if head.future.done():  # the client went away
                continue
            if head.key is None or head.parsed.rows >= self.max_batch_rows:
                return [head]
            return [head, *self._take_compatible(head.key, self.max_batch_rows - head.parsed.rows)]
        return []

    def _take_compatible(self, key: Hashable, room: int) -> list[_Job]:
        taken: list[_Job] = []
        kept: list[_Job] = []
        for job in self._pending:
            if job.future.done():
                continue
            if job.key == key and job.parsed.rows <= room:
                taken.append(job)
                room -= job.parsed.rows
            else:
                kept.append(job)
        self._pending = kept
        return taken

    async def _run(self, jobs: list[_Job]) -> None:
        assert self._slots is not None
        assert self._executor is not None
        try:
            loop = asyncio.get_running_loop()
            inputs = [job.parsed for job in jobs]
            outcomes, retried = await loop.run_in_executor(
                self._executor, _score_batch, jobs[0].model, inputs
            )
        except BaseException as exc:  # the executor is gone (shutdown) or the task was cancelled
            for job in jobs:
                if not job.future.done():
                    job.future.set_exception(
                        TemporarilyUnavailable(f"The prediction was interrupted: {exc!r}")
                    )
            raise
        finally:
            self._slots.release()
        stats = self.stats
        stats.requests += len(jobs)
        stats.batches += 1 if not retried else len(jobs)
        stats.retries += int(retried)
        if len(jobs) > 1:
            stats.merged_batches += 1
        stats.largest_batch = max(stats.largest_batch, len(jobs))
        for job, (ok, value) in zip(jobs, outcomes, strict=True):
            if job.future.done():
                continue
            if ok:
                job.future.set_result(value)
            else:
                job.future.set_exception(value)

    async def close(self) -> None:
        """Stop taking requests, let running batches finish, fail the queued ones."""
        self._closed = True
        if self._dispatcher is not None:
            self._dispatcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._dispatcher
        for job in self._pending:
            if not job.future.done():
                job.future.set_exception(TemporarilyUnavailable("The scoring server is shutting down"))
        self._pending = []
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)
        if self._executor is not None:
            self._executor.shutdown(wait=False)


__all__ = ["BatchStats", "MicroBatcher", "Predictor", "split_output"]
