"""The server benchmark's load generator (``bench/server/loadgen.py``) against a real server."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

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


def _searched_experiment(server: ServerProcess) -> str:
    """An experiment as the harness's ``create_runs`` leaves it for its search: 110 runs that pass
    ``metrics.rmse < 0.5 and params.p1 = 'x'`` and 20 that do not (10 with ``p1`` = ``y``, 10 with a high
    ``rmse``)."""
    api = "/api/2.0/mlflow"
    experiment = server.post_ok(f"{api}/experiments/create", {"name": f"loadgen-search-{uuid.uuid4().hex}"})
    for i in range(130):
        run = server.post_ok(f"{api}/runs/create", {"experiment_id": experiment["experiment_id"]})
        p1 = "y" if 110 <= i < 120 else "x"
        rmse = 0.9 if i >= 120 else (i * 7919 % 110) / 250
        server.post_ok(
            f"{api}/runs/log-batch",
            {
                "run_id": run["run"]["info"]["run_id"],
                "params": [{"key": "p1", "value": p1}],
                "metrics": [{"key": "rmse", "value": rmse, "timestamp": 0, "step": 0}],
            },
        )
    return str(experiment["experiment_id"])


def test_search_times_the_harness_search_and_checks_every_answer(
    sqlite_server: ServerProcess, tmp_path: Path
) -> None:
    experiment = _searched_experiment(sqlite_server)
    results = _loadgen(
        sqlite_server.url,
        tmp_path / "out.json",
        *("--scenarios", "search", "--search-experiment", experiment, "--search-reps", "12"),
    )
    search = results["search"]
    assert search["errors"] == 0
    assert search["requests"] == 12
    assert search["verified"] is True
    latency = search["latency_per_request"]
    assert isinstance(latency, dict)
    assert latency["n"] == 12
    assert 0 < latency["min_ms"] <= latency["p50_ms"] <= latency["p95_ms"]
    assert isinstance(search["answer_bytes"], int)
    assert search["answer_bytes"] > 100 * 100  # a page of 100 runs


def test_search_without_its_experiment_is_an_error(sqlite_server: ServerProcess, tmp_path: Path) -> None:
    results = _loadgen(sqlite_server.url, tmp_path / "out.json", "--scenarios", "search")
    assert "--search-experiment" in str(results["search"]["error"])


def _answer(*runs: tuple[str, float, str]) -> bytes:
    return json.dumps(
        {
            "runs": [
                {
                    "info": {"run_id": run_id},
                    "data": {
                        "metrics": [{"key": "rmse", "value": rmse, "timestamp": 0, "step": 0}],
                        "params": [{"key": "p1", "value": p1}],
                    },
                }
                for run_id, rmse, p1 in runs
            ]
        }
    ).encode()


def _page(p1_of_last: str = "x", *, reverse: bool = False) -> list[tuple[str, float, str]]:
    runs = [(f"r{i:03}", i / 1000, "x") for i in range(100)]
    runs[-1] = (runs[-1][0], runs[-1][1], p1_of_last)
    return runs[::-1] if reverse else runs


def test_search_answers_are_refused_when_wrong() -> None:
    check = _load_loadgen().search_problem
    good = _answer(*_page())
    assert check([good, good]) is None
    assert "does not pass the filter" in check([_answer(*_page("y"))])
    assert "not in rmse order" in check([_answer(*_page(reverse=True))])
    assert check([_answer(*_page()[:99])]) is None  # fewer matches than a page
    assert "holds 0 runs" in check([_answer()])
    assert "holds 101 runs" in check([_answer(*_page(), ("r100", 0.2, "x"))])
    other = _page()
    other[5] = ("someone-else", other[5][1], "x")
    assert "same runs" in check([good, _answer(*other)])


def test_history_reads_every_page_and_checks_each_read(sqlite_server: ServerProcess, tmp_path: Path) -> None:
    """Paged 25,000 a page, 60,000 steps take 3 pages; each read's points are checked after its clock."""
    results = _loadgen(
        sqlite_server.url,
        tmp_path / "out.json",
        *("--scenarios", "history", "--history-steps", "60000", "--history-reps", "2"),
    )
    history = results["history"]
    assert "error" not in history
    assert history["verified"] is True
    assert history["error_samples"] == []
    assert history["steps"] == 60000
    paged, one_call = history["paged"], history["one_call"]
    assert isinstance(paged, dict)
    assert isinstance(one_call, dict)
    assert paged["pages"] == 3
    assert one_call["pages"] == 1
    for read in (paged, one_call):
        assert len(read["seconds_all"]) == 2
        assert 0 < min(read["seconds_all"]) <= read["seconds_median"] <= max(read["seconds_all"])
        assert read["answer_bytes"] > 60000 * 40  # each point is at least its key, value, timestamp and step


def _history_page(steps: range, token: str = "", *, key: str = "loss", shift: float = 0.0) -> bytes:
    loadgen = _load_loadgen()
    metrics = [
        {"key": key, "value": loadgen.history_value(step) + shift, "timestamp": 0, "step": step}
        for step in steps
    ]
    return json.dumps({"metrics": metrics, **({"next_page_token": token} if token else {})}).encode()


def test_history_reads_are_refused_when_wrong() -> None:
    check = _load_loadgen().history_problem
    first, last = _history_page(range(0, 5), "t1"), _history_page(range(5, 9))
    assert check([first, last], ["t1", ""], 9) is None
    assert "8 of 9 steps" in check([first, _history_page(range(5, 8))], ["t1", ""], 9)
    assert "repeated" in check([first, _history_page(range(4, 9))], ["t1", ""], 9)
    assert "unexpected" in check([first, _history_page(range(5, 10))], ["t1", ""], 9)
    assert "unexpected" in check([first, _history_page(range(5, 9), key="acc")], ["t1", ""], 9)
    assert "value" in check([first, _history_page(range(5, 9), shift=0.5)], ["t1", ""], 9)
    assert "followed token 't2'" in check([first, last], ["t2", ""], 9)
    assert "followed token ''" in check([_history_page(range(0, 9), "more")], [""], 9)  # a capped one call


def test_the_token_is_picked_out_of_the_page_without_decoding_it() -> None:
    token = _load_loadgen().next_token
    assert token(b'{"metrics": [], "next_page_token": "abc=="}') == "abc=="
    assert token(b'{"next_page_token":"x\\"y", "metrics": [{"key": "a"}]}') == 'x"y'
    assert token(b'{\n  "metrics": [],\n  "next_page_token" : "eyJvIjogMn0="\n}') == "eyJvIjogMn0="
    assert token(b'{"metrics": []}') == ""
    assert token(b'{"metrics": [], "next_page_token": null}') == ""
    for bad in (b'{"next_page_token": 3}', b'["next_page_token"]'):
        try:
            token(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} gave a token")


def _load_loadgen() -> Any:
    """``loadgen.py`` as a module (it is a script, not in a package; its dataclasses need it registered)."""
    name = "bench_server_loadgen"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, LOADGEN)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]
