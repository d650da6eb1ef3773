"""``wayline models serve`` as a real process on a free loopback port, with two workers, answering the
request body MLflow itself builds for a model's input example."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from models.serving.serving_support import expected, features

#: Runs the real root group; attaches the command to ``wayline models`` when the CLI does not have it yet.
LAUNCHER = (
    "import sys\n"
    "from wayline.cli.main import cli\n"
    "from wayline.cli.models import models_group\n"
    "from wayline.cli.model_serve import serve_command\n"
    "if 'serve' not in models_group.commands:\n"
    "    models_group.add_command(serve_command)\n"
    "cli.main(sys.argv[1:], prog_name='wayline')\n"
)
_URL = re.compile(r"listening on (http://\S+)")


def _start(args: list[str], cwd: Path) -> tuple[subprocess.Popen[str], list[str], str | None]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WAYLINE_", "MLFLOW_"))}
    env["PYTHONUNBUFFERED"] = "1"
    env["WAYLINE_TRACKING_URI"] = str(cwd / "wayline-data")
    process = subprocess.Popen(
        [sys.executable, "-c", LAUNCHER, "models", "serve", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    found: list[str] = []
    ready = threading.Event()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            match = _URL.search(line)
            if match and not found:
                found.append(match.group(1))
                ready.set()
        ready.set()

    threading.Thread(target=pump, daemon=True).start()
    ready.wait(90)
    return process, lines, found[0] if found else None


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
    if process.stdout is not None:
        process.stdout.close()


def _post(url: str, body: bytes, content_type: str = "application/json") -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": content_type}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture
def server(regressor_dir: Path, tmp_path: Path) -> Iterator[str]:
    args = ["-m", str(regressor_dir), "--port", "0", "--workers", "2", "--max-body-mib", "1"]
    process, lines, url = _start(args, tmp_path)
    try:
        assert url is not None, "".join(lines)
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, "".join(lines)
            try:
                with urllib.request.urlopen(url + "/ping", timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                assert time.monotonic() < deadline, "".join(lines)
                time.sleep(0.2)
        yield url
    finally:
        _stop(process)


def test_the_cli_serves_mlflow_scoring_requests(server: str) -> None:
    frame = features(6)
    with warnings.catch_warnings():  # mlflow's own pandas deprecation warnings
        warnings.simplefilter("ignore")
        from mlflow.models import convert_input_example_to_serving_input

        payload = convert_input_example_to_serving_input(frame)
    assert payload is not None
    for _ in range(4):  # both workers answer
        status, answer = _post(server + "/invocations", payload.encode())
        assert status == 200, answer
        assert answer["predictions"] == pytest.approx(expected(frame))
    status, answer = _post(server + "/invocations", frame.to_csv(index=False).encode(), "text/csv")
    assert status == 200
    assert answer["predictions"] == pytest.approx(expected(frame))

    status, error = _post(server + "/invocations", b'{"dataframe_records": [{"x1": 1}]}')
    assert status == 400
    assert "x2" in str(error["message"])
    status, error = _post(server + "/invocations", b"x" * (2 * 1024 * 1024))
    assert status == 413
    assert error["error_code"] == "REQUEST_LIMIT_EXCEEDED"
    status, answer = _post(server + "/invocations", payload.encode())
    assert status == 200


def test_a_model_that_does_not_load_fails_the_command(tmp_path: Path) -> None:
    process, lines, url = _start(["-m", str(tmp_path / "nothing-here"), "--port", "0"], tmp_path)
    try:
        assert process.wait(timeout=60) == 1
    finally:
        _stop(process)
    assert url is None
    assert "Error: No model at" in "".join(lines)
