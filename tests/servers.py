"""Real servers for tests: Wayline's uvicorn server in a subprocess, and moto's S3 server in a thread."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_URL = re.compile(r"listening on (http://\S+)")


@dataclass
class ServerProcess:
    """``wayline server`` on a free loopback port; ``url`` has no trailing slash."""

    url: str
    process: subprocess.Popen[str]
    data_dir: Path
    env: dict[str, str] = field(default_factory=dict)
    output: list[str] = field(default_factory=list)
    reader: threading.Thread | None = None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if self.reader is not None:
            self.reader.join(timeout=5)
        if self.process.stdout is not None:
            self.process.stdout.close()

    def log(self) -> str:
        return "".join(self.output)

    def post_ok(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """POST ``body`` as JSON to ``path``; the answer must be 200, and its JSON is returned."""
        import requests

        response = requests.post(self.url + path, json=body, timeout=30)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result


def start_server(
    data_dir: Path,
    *,
    args: tuple[str, ...] = (),
    env: Mapping[str, str] | None = None,
    workers: int = 1,
    timeout: float = 60.0,
) -> ServerProcess:
    """Start ``python -m wayline server --port 0`` in ``data_dir`` and wait until ``/health`` answers."""
    data_dir.mkdir(parents=True, exist_ok=True)
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("WAYLINE_", "MLFLOW_"))}
    full_env.update(env or {})
    full_env["PYTHONUNBUFFERED"] = "1"
    cmd = [sys.executable, "-m", "wayline", "server", "--port", "0", "--workers", str(workers), *args]
    process = subprocess.Popen(
        cmd,
        cwd=data_dir,
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    found: list[str] = []
    ready = threading.Event()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            match = _URL.search(line)
            if match and not found:
                found.append(match.group(1))
                ready.set()
        ready.set()

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    deadline = time.monotonic() + timeout
    ready.wait(timeout)
    if not found:
        process.kill()
        process.wait(timeout=5)
        reader.join(timeout=5)
        if process.stdout is not None:
            process.stdout.close()
        raise RuntimeError("wayline server did not start:\n" + "".join(output))
    server = ServerProcess(found[0], process, data_dir, dict(full_env), output, reader)
    while time.monotonic() < deadline:
        if process.poll() is not None:
            server.stop()
            raise RuntimeError("wayline server exited:\n" + "".join(output))
        try:
            with urllib.request.urlopen(server.url + "/health", timeout=2) as response:
                if response.status == 200:
                    return server
        except OSError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError("wayline server never became healthy:\n" + "".join(output))


@dataclass
class S3Server:
    """moto's S3 on a loopback port, with one bucket; boto3 reaches it through ``endpoint_url``."""

    endpoint_url: str
    bucket: str
    env: dict[str, str]

    def client(self):  # type: ignore[no-untyped-def]
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name="us-east-1",
        )


S3_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}
