"""The server benchmark's load generator (``bench/server/loadgen.py``) against a real server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from servers import ServerProcess

LOADGEN = Path(__file__).resolve().parents[2] / "bench" / "server" / "loadgen.py"


def _loadgen(url: str, out: Path, *extra: str) -> dict[str, dict[str, object]]:
    command = [sys.executable, str(LOADGEN), "--url", url, "--out", str(out), *extra]
    subprocess.run(command, check=True, timeout=120, capture_output=True)
    results: dict[str, dict[str, object]] = json.loads(out.read_text())["results"]
    return results


def test_both_scenarios_send_store_and_verify(sqlite_server: ServerProcess, tmp_path: Path) -> None:
    results = _loadgen(
        sqlite_server.url,
        tmp_path / "out.json",
        *("--points", "4000", "--ingest-clients", "2", "--repeats", "2"),
        *("--small-clients", "3", "--seconds", "0.5"),
    )
    assert results["ingest_single"]["verified"] is True
    assert results["ingest_single"]["clients"] == 1
    ingest, small = results["ingest"], results["concurrency"]
    assert ingest["errors"] == 0
    assert ingest["verified"] is True  # every client's 'loss' history read back, step by step
    assert ingest["points"] == 4000
    assert ingest["requests"] == 4  # 2 clients x 2,000 points in batches of 1,000
    rounds = ingest["rounds_points_per_s"]
    assert isinstance(rounds, list)
    assert len(rounds) == 2
    assert small["errors"] == 0
    assert small["verified"] is True  # each run's latest 'm' is the last step its client sent
    assert small["clients"] == 3
    assert isinstance(small["requests"], int)
    assert small["requests"] > 3


def test_failed_requests_are_counted_not_hidden(sqlite_server: ServerProcess, tmp_path: Path) -> None:
    """Ingest batches over the server's limits are refused (400): the errors are reported, with samples."""
    results = _loadgen(
        sqlite_server.url,
        tmp_path / "out.json",
        *("--scenarios", "ingest", "--points", "40000", "--batch-points", "20000", "--ingest-clients", "1"),
        "--repeats",
        "1",
    )
    ingest = results["ingest"]
    assert ingest["errors"] == 2
    assert ingest["points_per_s"] is None
    assert "HTTP 400" in str(ingest["error_samples"])
