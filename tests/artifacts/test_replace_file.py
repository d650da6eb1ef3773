"""``replace_file``: an atomic move over an existing file, whose old content is deleted in the background."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from wayline.artifacts.transfer import BACKGROUND_UNLINK_BYTES, TEMP_PREFIX, replace_file, reserve_temp


def _wait_for_unlinks() -> None:
    for thread in threading.enumerate():
        if thread.name == "wayline-unlink":
            thread.join(timeout=30)


def _write_temp(directory: Path, content: bytes) -> Path:
    temp = reserve_temp(directory)
    temp.write_bytes(content)
    return temp


def test_moves_to_a_new_name(tmp_path: Path) -> None:
    temp = _write_temp(tmp_path, b"new")
    replace_file(temp, tmp_path / "target")
    assert (tmp_path / "target").read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["target"]


def test_a_small_old_file_is_gone_when_the_call_returns(tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.write_bytes(b"old")
    replace_file(_write_temp(tmp_path, b"new"), target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["target"]
    assert target.read_bytes() == b"new"


def test_replaces_a_large_file_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.write_bytes(b"o" * BACKGROUND_UNLINK_BYTES)
    kept = os.open(target, os.O_RDONLY)  # a reader holding the old file keeps reading the old content
    try:
        for round_ in range(3):
            replace_file(_write_temp(tmp_path, f"new {round_}".encode()), target)
            assert target.read_bytes() == f"new {round_}".encode()
        assert os.read(kept, 3) == b"ooo"
    finally:
        os.close(kept)
    _wait_for_unlinks()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["target"]


def test_the_target_never_disappears_while_it_is_replaced(tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.write_bytes(b"0")
    stop = threading.Event()
    missing: list[int] = []

    def watch() -> None:
        while not stop.is_set():
            try:
                content = target.read_bytes()
            except FileNotFoundError:
                missing.append(1)
                continue
            assert content.isdigit(), content  # never a partial or foreign file

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        for round_ in range(300):
            replace_file(_write_temp(tmp_path, str(round_).encode()), target)
    finally:
        stop.set()
        watcher.join()
    assert missing == []
    assert target.read_bytes() == b"299"
    _wait_for_unlinks()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(TEMP_PREFIX)]
