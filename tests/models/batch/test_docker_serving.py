"""The image's entry point works: from a build context, a fresh virtual environment gets the model's own
requirements, the serving requirements and the Wayline wheel (as the Dockerfile installs them), then the
Dockerfile's ENTRYPOINT serves the model and answers /ping and /invocations.

Slow (a virtual environment and a pip install, quick with pip's cache): marked ``slow``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from models.batch.batch_data import expected, features
from wayline.models.container import MODEL_DIR_IN_IMAGE, build_docker_context

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _entrypoint(dockerfile: str) -> list[str]:
    (line,) = [line for line in dockerfile.splitlines() if line.startswith("ENTRYPOINT ")]
    command: list[str] = json.loads(line.removeprefix("ENTRYPOINT "))
    return command


def _get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.read()


@pytest.fixture
def server(regressor_dir: Path, tmp_path: Path) -> Iterator[str]:
    context = build_docker_context(str(regressor_dir), tmp_path / "context", "churn")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=60)
    python = venv / "bin" / "python"
    install = [str(python), "-m", "pip", "install", "--quiet", "--no-compile", "--disable-pip-version-check"]
    install += ["-r", str(context.model_dir / "requirements.txt")]
    install += ["-r", str(context.path / "requirements-serving.txt"), str(context.wheel)]
    done = subprocess.run(install, capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    # The image's entry point, with the model where the context has it and a loopback port.
    port = _free_port()
    command = _entrypoint(context.dockerfile.read_text())
    command = [str(context.model_dir) if part == MODEL_DIR_IN_IMAGE else part for part in command]
    command[command.index("--host") + 1] = "127.0.0.1"
    command[command.index("--port") + 1] = str(port)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WAYLINE_", "MLFLOW_", "VIRTUAL_ENV"))}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(f"the server exited: {(tmp_path / 'server.log').read_text()[-3000:]}")
            try:
                if _get(f"{base}/ping")[0] == 200:
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"no /ping in 60 s: {(tmp_path / 'server.log').read_text()[-3000:]}")
                time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def test_the_entrypoint_serves_the_model_from_a_fresh_environment(server: str) -> None:
    frame = features(4)
    split = frame.to_dict(orient="split")
    body = json.dumps({"dataframe_split": {"columns": split["columns"], "data": split["data"]}}).encode()
    request = urllib.request.Request(
        f"{server}/invocations", data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
        answer = json.loads(response.read())
    assert answer["predictions"] == pytest.approx(expected(frame))
