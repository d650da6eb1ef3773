"""MetricBatcher: ordering, when it flushes, backpressure, threads, and how store failures surface."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from client.helpers import FlakyStore, unique
from wayline.client.batcher import MetricBatcher, MetricLoggingError
from wayline.client.client import WaylineClient
from wayline.errors import InvalidParameterValue, InvalidState
from wayline.services.tracking import TrackingService
from wayline.store.resolve import open_tracking_store


@pytest.fixture
def service(tracking_uri: str) -> Iterator[TrackingService]:
    store = open_tracking_store(tracking_uri)
    yield TrackingService(store)
    store.close()


def _new_run(service: TrackingService) -> str:
    return service.create_run(service.create_experiment(unique())).info.run_id


def _steps(service: TrackingService, run_id: str, key: str = "m") -> list[int]:
    points: list[int] = []
    token = None
    while True:
        page = service.get_metric_history(run_id, key, page_token=token)
        points.extend(m.step for m in page)
        token = page.next_page_token
        if not token:
            return points


def _wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_points_are_stored_in_order(service: TrackingService) -> None:
    run_id = _new_run(service)
    with MetricBatcher(service, batch_size=100, flush_interval=60) as batcher:
        for i in range(2_550):
            batcher.log_metric(run_id, "m", float(i), step=0, timestamp=10_000 + i)
        batcher.flush()
        assert batcher.pending == 0
    points = service.get_metric_history(run_id, "m", max_results=5_000).items
    assert [p.value for p in points] == [float(i) for i in range(2_550)]
    assert [p.timestamp for p in points] == [10_000 + i for i in range(2_550)]
    assert service.get_run(run_id).data.metric_values["m"] == 2_549.0


def test_flush_by_size(service: TrackingService) -> None:
    run_id = _new_run(service)
    with MetricBatcher(service, batch_size=50, flush_interval=60) as batcher:
        for i in range(49):
            batcher.log_metric(run_id, "m", 1.0, step=i)
        time.sleep(0.3)
        assert _steps(service, run_id) == []  # under the batch size and long before the interval
        batcher.log_metric(run_id, "m", 1.0, step=49)
        _wait_for(lambda: len(_steps(service, run_id)) == 50)


def test_flush_by_interval(service: TrackingService) -> None:
    run_id = _new_run(service)
    with MetricBatcher(service, flush_interval=0.05) as batcher:
        for i in range(7):
            batcher.log_metric(run_id, "m", 1.0, step=i)
        _wait_for(lambda: _steps(service, run_id) == list(range(7)))
        assert batcher.pending == 0


def test_flush_interval_from_environment(service: TrackingService, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAYLINE_ASYNC_FLUSH_INTERVAL", "0.05")
    run_id = _new_run(service)
    with MetricBatcher(service) as batcher:
        batcher.log_metric(run_id, "m", 1.0)
        _wait_for(lambda: _steps(service, run_id) == [0])
    monkeypatch.setenv("WAYLINE_ASYNC_FLUSH_INTERVAL", "soon")
    with pytest.raises(InvalidParameterValue, match="WAYLINE_ASYNC_FLUSH_INTERVAL"):
        MetricBatcher(service)


def test_points_of_several_runs_are_grouped(service: TrackingService) -> None:
    runs = [_new_run(service) for _ in range(3)]
    with MetricBatcher(service, flush_interval=60) as batcher:
        for i in range(300):
            batcher.log_metric(runs[i % 3], "m", float(i), step=i)
    for n, run_id in enumerate(runs):
        assert _steps(service, run_id) == list(range(n, 300, 3))


def test_many_threads(service: TrackingService) -> None:
    run_id = _new_run(service)
    with MetricBatcher(service, batch_size=200, flush_interval=0.01) as batcher:

        def work(key: str) -> None:
            for i in range(2_000):
                batcher.log_metric(run_id, key, float(i), step=i)

        threads = [threading.Thread(target=work, args=(f"k{n}",)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        batcher.flush()
    for n in range(4):
        assert _steps(service, run_id, f"k{n}") == list(range(2_000))


def test_backpressure_bounds_the_queue(service: TrackingService) -> None:
    run_id = _new_run(service)
    with MetricBatcher(service, batch_size=10, flush_interval=60, max_queue=40) as batcher:
        highest = 0
        for i in range(1_000):
            batcher.log_metric(run_id, "m", 1.0, step=i)
            highest = max(highest, batcher.pending)
        assert highest <= 41
    assert _steps(service, run_id) == list(range(1_000))


def test_a_failed_flush_is_raised_at_the_next_log_call(
    flaky_service: tuple[TrackingService, FlakyStore],
) -> None:
    service, store = flaky_service
    run_id = _new_run(service)
    store.fail_on = {1}
    with MetricBatcher(service, flush_interval=0.02) as batcher:
        for i in range(3):
            batcher.log_metric(run_id, "m", 1.0, step=i)
        _wait_for(lambda: store.calls >= 1)

        def log_until_it_raises() -> None:
            for i in range(3, 1_000):  # the error arrives at the first call after the flush failed
                batcher.log_metric(run_id, "m", 1.0, step=i)
                time.sleep(0.005)

        with pytest.raises(MetricLoggingError, match="3 metric points were not logged") as caught:
            log_until_it_raises()
        assert caught.value.count == 3
        assert "injected failure" in str(caught.value)
        assert [(r, m.step) for r, m in caught.value.failed] == [(run_id, 0), (run_id, 1), (run_id, 2)]
        assert caught.value.error_code.value == "TEMPORARILY_UNAVAILABLE"
        stored_before = len(_steps(service, run_id))
        # the batcher keeps working, and the error is reported once
        batcher.log_metric(run_id, "m", 1.0, step=5_000)
        batcher.flush()
    steps = _steps(service, run_id)
    assert 0 not in steps
    assert steps[-1] == 5_000
    assert len(steps) == len(set(steps)) >= stored_before + 1


def test_a_failed_flush_is_raised_by_flush_and_close(
    flaky_service: tuple[TrackingService, FlakyStore],
) -> None:
    service, store = flaky_service
    run_id = _new_run(service)
    batcher = MetricBatcher(service, flush_interval=60)
    store.fail_on = {1, 3}
    batcher.log_metric(run_id, "m", 1.0, step=0)
    with pytest.raises(MetricLoggingError, match="1 metric points"):
        batcher.flush()
    batcher.log_metric(run_id, "m", 1.0, step=1)
    batcher.flush()  # call 2 succeeds, nothing to report
    batcher.log_metric(run_id, "m", 1.0, step=2)
    with pytest.raises(MetricLoggingError, match="1 metric points"):
        batcher.close()
    batcher.close()  # idempotent, and the failure was reported once
    assert _steps(service, run_id) == [1]
    with pytest.raises(InvalidState, match="closed"):
        batcher.log_metric(run_id, "m", 1.0)


def test_crash_in_the_middle_of_a_flush(flaky_service: tuple[TrackingService, FlakyStore]) -> None:
    """Five runs in one batch: five log_batch calls; the third raises. The rest are stored exactly once."""
    service, store = flaky_service
    runs = [_new_run(service) for _ in range(5)]
    store.fail_on = {3}
    batcher = MetricBatcher(service, flush_interval=60)
    for run_id in runs:
        for i in range(200):
            batcher.log_metric(run_id, "m", float(i), step=i)
    with pytest.raises(MetricLoggingError, match="200 metric points were not logged") as caught:
        batcher.close()
    assert store.calls == 5
    assert {r for r, _ in caught.value.failed} == {runs[2]}
    for n, run_id in enumerate(runs):
        assert _steps(service, run_id) == ([] if n == 2 else list(range(200)))


def test_crash_mid_flush_of_one_long_series(flaky_service: tuple[TrackingService, FlakyStore]) -> None:
    """5,000 points, the third log_batch call fails: every point is either stored once or reported."""
    service, store = flaky_service
    run_id = _new_run(service)
    store.fail_on = {3}
    batcher = MetricBatcher(service, flush_interval=60)
    for i in range(5_000):
        batcher.log_metric(run_id, "m", float(i), step=i)
    with pytest.raises(MetricLoggingError) as caught:
        batcher.close()
    stored = _steps(service, run_id)
    failed = [m.step for _, m in caught.value.failed]
    assert len(stored) == len(set(stored))
    assert set(stored).isdisjoint(failed)
    assert sorted(stored + failed) == list(range(5_000))
    assert caught.value.count == len(failed) == store.sizes[2]


def test_cheap_checks_still_name_the_field(service: TrackingService) -> None:
    run_id = _new_run(service)
    with MetricBatcher(service, flush_interval=60) as batcher:
        cases: list[tuple[dict[str, object], str]] = [
            ({"run_id": "../x"}, "run_id"),
            ({"key": ""}, "key"),
            ({"key": "a/../b"}, "key"),
            ({"key": 3}, "key"),
            ({"value": "1.0"}, "value"),
            ({"value": True}, "value"),
            ({"value": 10**400}, "value"),
            ({"step": 1.5}, "step"),
            ({"step": 2**63}, "step"),
            ({"timestamp": "now"}, "timestamp"),
        ]
        for override, field in cases:
            args: dict[str, object] = {"run_id": run_id, "key": "m", "value": 1.0, **override}
            with pytest.raises(InvalidParameterValue, match=f"'{field}'"):
                batcher.log_metric(**args)  # type: ignore[arg-type]
        assert batcher.pending == 0
        import numpy as np

        batcher.log_metric(run_id, "m", np.float32(0.5), step=np.int64(3))  # type: ignore[arg-type]
        batcher.log_metric(run_id, "m", 2, step=4)
    assert [m.value for m in service.get_metric_history(run_id, "m").items] == [0.5, 2.0]


def test_constructor_checks(service: TrackingService) -> None:
    with pytest.raises(InvalidParameterValue, match="batch_size"):
        MetricBatcher(service, batch_size=1_001)
    with pytest.raises(InvalidParameterValue, match="flush_interval"):
        MetricBatcher(service, flush_interval=0)
    with pytest.raises(InvalidParameterValue, match="max_queue"):
        MetricBatcher(service, batch_size=100, max_queue=10)


def test_metrics_are_flushed_at_interpreter_exit(tracking_uri: str, tmp_path: Path) -> None:
    """A script logs 5,000 points with the fluent API and exits without ending its run or flushing."""
    script = tmp_path / "train.py"
    script.write_text(
        textwrap.dedent(
            """
            import wayline
            run = wayline.start_run()
            for step in range(5000):
                wayline.log_metric("loss", 1.0 / (step + 1), step=step)
            print(run.run_id)
            """
        )
    )
    env = dict(os.environ, WAYLINE_TRACKING_URI=tracking_uri, WAYLINE_ASYNC_FLUSH_INTERVAL="600")
    done = subprocess.run(
        [sys.executable, "-W", "error", str(script)],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    run_id = done.stdout.strip()
    with WaylineClient(tracking_uri) as client:
        history = client.get_metric_history(run_id, "loss")
        assert [m.step for m in history] == list(range(5_000))
        run = client.get_run(run_id)
        assert run.info.status.value == "FINISHED"
        assert run.data.metric_values["loss"] == 1.0 / 5_000
