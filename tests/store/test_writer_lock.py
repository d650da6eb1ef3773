"""Writers to one SQLite file queue on a lock shared by threads and processes."""

from __future__ import annotations

import multiprocessing
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from wayline.entities import Metric
from wayline.store.sql import SqlTrackingStore
from wayline.store.sql.writer_lock import LOCK_SUFFIX, WriterLock

fcntl = pytest.importorskip("fcntl")


def _append(log: str, line: str) -> None:
    with Path(log).open("a") as handle:
        handle.write(line + "\n")


def _hold_in_child(database: str, log: str, entered: Any) -> None:
    lock = WriterLock(Path(database))
    with lock.hold():
        _append(log, "child-in")
        entered.set()
        time.sleep(0.5)  # the parent asks for the lock meanwhile and must wait
        _append(log, "child-out")
    lock.close()


def test_a_second_process_waits_for_the_holder(tmp_path: Path) -> None:
    database = tmp_path / "wayline.db"
    log = tmp_path / "log.txt"
    context = multiprocessing.get_context("spawn")
    entered = context.Event()
    child = context.Process(target=_hold_in_child, args=(str(database), str(log), entered))
    child.start()
    try:
        assert entered.wait(30)
        lock = WriterLock(database)
        with lock.hold():
            _append(str(log), "parent-in")
        lock.close()
    finally:
        child.join(30)
    assert log.read_text().splitlines() == ["child-in", "child-out", "parent-in"]
    assert (tmp_path / ("wayline.db" + LOCK_SUFFIX)).is_file()


def test_threads_of_one_process_take_turns(tmp_path: Path) -> None:
    lock = WriterLock(tmp_path / "wayline.db")
    inside = 0
    most = 0
    guard = threading.Lock()

    def write() -> None:
        nonlocal inside, most
        for _ in range(50):
            with lock.hold():
                with guard:
                    inside += 1
                    most = max(most, inside)
                time.sleep(0.0005)
                with guard:
                    inside -= 1

    threads = [threading.Thread(target=write) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lock.close()
    assert most == 1


def test_concurrent_writers_through_the_store_lose_nothing(tmp_path: Path) -> None:
    store = SqlTrackingStore(f"sqlite:///{tmp_path / 'wayline.db'}", str(tmp_path / "artifacts"))
    run_id = store.create_run("0", user_id="u", start_time=1).info.run_id

    def write(offset: int) -> None:
        for step in range(offset, offset + 40):
            store.log_batch(run_id, metrics=[Metric("m", float(step), 1, step)])

    threads = [threading.Thread(target=write, args=(i * 1000,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    history = store.get_metric_history(run_id, "m")
    assert len(history) == 320
    assert store.get_run(run_id).data.metric_values["m"] == 7039.0
    store.close()
