"""Non-blocking metric logging for training loops.

:meth:`MetricBatcher.log_metric` only checks its arguments cheaply (a type check, and a full check of each
key and run id the first time it is seen) and appends one tuple to a queue; it never waits for I/O. A daemon
thread sends the queue to :meth:`TrackingService.log_batch`, at most :data:`MAX_BATCH` points per call and one
call per run of each batch:

- when the queue reaches ``batch_size`` points, and at least every ``flush_interval`` seconds (default 1 s,
  ``WAYLINE_ASYNC_FLUSH_INTERVAL``);
- on :meth:`flush` and :meth:`close` (the fluent ``end_run`` and ``flush`` call them), in the calling thread;
- at interpreter exit (atexit), so nothing logged is lost on a normal exit.

Backpressure: the queue holds at most ``max_queue`` points (default 1,000,000, ``WAYLINE_ASYNC_MAX_QUEUE``).
A ``log_metric`` that finds it full sends points itself, blocking until the queue is back to half of that.

Errors: when the store refuses a batch, its points are not retried and not silently dropped. The batcher keeps
the failure and the next :meth:`log_metric`, :meth:`flush` or :meth:`close` raises :class:`MetricLoggingError`
saying how many points were not logged and why; the error carries the points (``failed``) so they can be
logged again. The batcher keeps working afterwards; batches that were stored stay stored exactly once.
"""

from __future__ import annotations

import atexit
import logging
import numbers
import os
import threading
import time
from collections import deque
from collections.abc import Sequence

from wayline.entities import Metric
from wayline.errors import ErrorCode, InvalidParameterValue, InvalidState, WaylineError
from wayline.services import limits
from wayline.services import validation as v
from wayline.services.tracking import TrackingService

log = logging.getLogger(__name__)

FLUSH_INTERVAL_ENV = "WAYLINE_ASYNC_FLUSH_INTERVAL"
MAX_QUEUE_ENV = "WAYLINE_ASYNC_MAX_QUEUE"
DEFAULT_FLUSH_INTERVAL = 1.0
DEFAULT_MAX_QUEUE = 1_000_000
MAX_BATCH = limits.MAX_METRICS_PER_BATCH
#: How many refused points a :class:`MetricLoggingError` keeps (the count is always exact).
MAX_KEPT_FAILURES = 100_000
_CACHE_LIMIT = 10_000
_INT64_MIN = limits.INT64_MIN
_INT64_MAX = limits.INT64_MAX

#: A queued point: run id, key, value, timestamp (ms), step.
Point = tuple[str, str, float, int, int]


class MetricLoggingError(WaylineError):
    """Metric points that a flush could not store.

    ``count`` is how many; ``failed`` holds them (up to :data:`MAX_KEPT_FAILURES`) as ``(run_id, Metric)``.
    """

    def __init__(
        self,
        message: str,
        *,
        error_code: ErrorCode | None = None,
        count: int = 0,
        failed: Sequence[tuple[str, Metric]] = (),
    ) -> None:
        super().__init__(message, error_code=error_code)
        self.count = count
        self.failed = list(failed)


class _Failure:
    """Failed flushes accumulated since the error was last raised."""

    def __init__(self) -> None:
        self.count = 0
        self.flushes = 0
        self.reason = ""
        self.code: ErrorCode | None = None
        self.points: list[tuple[str, Metric]] = []

    def add(self, run_id: str, metrics: list[Metric], exc: BaseException) -> None:
        if not self.flushes:
            self.reason = f"{type(exc).__name__}: {exc}"
            self.code = exc.error_code if isinstance(exc, WaylineError) else ErrorCode.INTERNAL_ERROR
        self.flushes += 1
        self.count += len(metrics)
        room = MAX_KEPT_FAILURES - len(self.points)
        self.points.extend((run_id, m) for m in metrics[:room])

    def to_error(self) -> MetricLoggingError:
        more = f" ({self.flushes} failed batches; the first failure shown)" if self.flushes > 1 else ""
        return MetricLoggingError(
            f"{self.count} metric points were not logged: {self.reason}{more}",
            error_code=self.code,
            count=self.count,
            failed=self.points,
        )


def _env_number(name: str, default: float, *, integer: bool) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        value = -1
    if not value > 0:
        kind = "a positive integer" if integer else "a positive number of seconds"
        raise InvalidParameterValue(
            f"Invalid value {raw!r} for environment variable '{name}': must be {kind}"
        )
    return value


def _check_int(value: object, field: str) -> int:
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return v.validate_int64(int(value), field=field)
    raise InvalidParameterValue(f"Invalid value {value!r} for parameter '{field}': must be an integer")


def metric_value(value: object, field: str = "value") -> float:
    """A metric value as a float: real numbers (numpy scalars included), NaN and infinities; no bools."""
    return v.validate_metric_value(value, field=field)


class MetricBatcher:
    """Queue metric points and store them from a background thread; see the module docstring."""

    def __init__(
        self,
        service: TrackingService,
        *,
        batch_size: int = MAX_BATCH,
        flush_interval: float | None = None,
        max_queue: int | None = None,
    ) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or not 0 < batch_size <= MAX_BATCH:
            raise InvalidParameterValue(
                f"Invalid value {batch_size!r} for parameter 'batch_size': must be between 1 and {MAX_BATCH}"
            )
        if flush_interval is None:
            flush_interval = _env_number(FLUSH_INTERVAL_ENV, DEFAULT_FLUSH_INTERVAL, integer=False)
        elif isinstance(flush_interval, bool) or not isinstance(flush_interval, (int, float)):
            raise InvalidParameterValue(
                f"Invalid value {flush_interval!r} for parameter 'flush_interval': must be a number"
            )
        if not flush_interval > 0:
            raise InvalidParameterValue(
                f"Invalid value {flush_interval!r} for parameter 'flush_interval': must be positive"
            )
        if max_queue is None:
            max_queue = int(_env_number(MAX_QUEUE_ENV, DEFAULT_MAX_QUEUE, integer=True))
        if isinstance(max_queue, bool) or not isinstance(max_queue, int) or max_queue < batch_size:
            raise InvalidParameterValue(
                f"Invalid value {max_queue!r} for parameter 'max_queue': must be an integer >= batch_size"
            )
        self._service = service
        self._batch_size = batch_size
        self._interval = float(flush_interval)
        self._max_queue = max_queue
        self._queue: deque[Point] = deque()
        self._keys: set[str] = set()
        self._run_ids: set[str] = set()
        self._flush_lock = threading.Lock()  # one sender at a time keeps the queue's order
        self._state_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failure: _Failure | None = None
        self._closed = False
        atexit.register(self._at_exit)

    # -- the hot path --------------------------------------------------------------------------------------
    def log_metric(
        self, run_id: str, key: str, value: float, step: int | None = None, timestamp: int | None = None
    ) -> None:
        """Queue one point; returns without waiting for I/O (unless the queue is full: backpressure)."""
        if self._failure is not None:
            self._raise_failure()
        if self._thread is None:
            self._start()
        if type(run_id) is not str or run_id not in self._run_ids:
            self._check_run_id(run_id)
        if type(key) is not str or key not in self._keys:
            self._check_key(key)
        if type(value) is not float:
            value = metric_value(value)
        if step is None:
            step = 0
        elif type(step) is not int or not _INT64_MIN <= step <= _INT64_MAX:
            step = _check_int(step, "step")
        if timestamp is None:
            timestamp = time.time_ns() // 1_000_000
        elif type(timestamp) is not int or not _INT64_MIN <= timestamp <= _INT64_MAX:
            timestamp = _check_int(timestamp, "timestamp")
        queue = self._queue
        if len(queue) >= self._max_queue:
            self._make_room()
        queue.append((run_id, key, value, timestamp, step))
        if len(queue) % self._batch_size == 0:
            self._wake.set()

    def _check_run_id(self, run_id: object) -> None:
        checked = v.validate_run_id(run_id)
        if len(self._run_ids) >= _CACHE_LIMIT:
            self._run_ids.clear()
        self._run_ids.add(checked)

    def _check_key(self, key: object) -> None:
        checked = v.validate_key(key, field="key")
        if checked != key:  # not in normal form: checked (and normalized by the service) on every call
            return
        if len(self._keys) >= _CACHE_LIMIT:
            self._keys.clear()
        self._keys.add(checked)

    # -- flushing ------------------------------------------------------------------------------------------
    @property
    def pending(self) -> int:
        """Points queued and not yet sent."""
        return len(self._queue)

    def flush(self) -> None:
        """Send every point queued before this call, then raise any failure not yet reported."""
        self._drain(None)
        if self._failure is not None:
            self._raise_failure()

    def close(self) -> None:
        """Flush, stop the background thread and refuse further points. Idempotent."""
        with self._state_lock:
            already = self._closed
            self._closed = True
        if not already:
            atexit.unregister(self._at_exit)
            self._stop.set()
            self._wake.set()
            thread, self._thread = self._thread, None  # log_metric now goes to _start and is refused
            if thread is not None and thread is not threading.current_thread():
                thread.join(timeout=60)
        self._drain(None)
        if self._failure is not None:
            self._raise_failure()

    def __enter__(self) -> MetricBatcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _start(self) -> None:
        with self._state_lock:
            if self._closed:
                raise InvalidState("The metric batcher is closed; metrics can no longer be queued")
            if self._thread is None:
                thread = threading.Thread(target=self._run, name="wayline-metric-flusher", daemon=True)
                thread.start()
                self._thread = thread

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self._interval)
            self._wake.clear()
            if self._stop.is_set():
                break
            try:
                self._drain(None)
            except Exception:  # _send records store failures; anything else must not kill the thread
                log.exception("Unexpected error in the metric flusher")

    def _make_room(self) -> None:
        self._wake.set()
        with self._flush_lock:
            excess = len(self._queue) - self._max_queue // 2
            if excess > 0:
                self._drain_locked(excess)

    def _drain(self, limit: int | None) -> None:
        with self._flush_lock:
            self._drain_locked(len(self._queue) if limit is None else limit)

    def _drain_locked(self, limit: int) -> None:
        queue = self._queue
        while limit > 0:
            size = min(self._batch_size, limit)
            points: list[Point] = []
            try:
                for _ in range(size):
                    points.append(queue.popleft())
            except IndexError:
                pass
            if not points:
                return
            limit -= len(points)
            self._send(points)

    def _send(self, points: list[Point]) -> None:
        by_run: dict[str, list[Metric]] = {}
        for run_id, key, value, timestamp, step in points:
            metrics = by_run.get(run_id)
            if metrics is None:
                metrics = by_run[run_id] = []
            metrics.append(Metric(key, value, timestamp, step))
        for run_id, metrics in by_run.items():
            try:
                self._service.log_batch(run_id, metrics=metrics)
            except Exception as exc:
                log.warning("%d metric points of run %s were not logged: %s", len(metrics), run_id, exc)
                with self._state_lock:
                    if self._failure is None:
                        self._failure = _Failure()
                    self._failure.add(run_id, metrics, exc)

    def _raise_failure(self) -> None:
        with self._state_lock:
            failure, self._failure = self._failure, None
        if failure is not None:
            raise failure.to_error()

    def _at_exit(self) -> None:
        try:
            self.close()
        except WaylineError as exc:
            log.error("At exit: %s", exc)


__all__ = ["MetricBatcher", "MetricLoggingError", "metric_value"]
