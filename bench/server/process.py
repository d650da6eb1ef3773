"""A server under test: launched in its own session, found by ``/health``, measured, then stopped.

Only the processes this module starts are ever signalled: the root by its pid (its session and process group
share that id) and the descendants psutil lists under it.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psutil
import requests

MIB = 2**20


class ServerStartError(RuntimeError):
    """The server exited, or did not answer ``/health``, within the start timeout."""


@dataclass(frozen=True)
class Memory:
    """Resident memory of a whole process tree; RSS counts shared pages once per process, PSS splits them."""

    rss_mib: float
    pss_mib: float
    processes: int

    def as_dict(self) -> dict[str, float | int]:
        return {
            "rss_mib": round(self.rss_mib, 1),
            "pss_mib": round(self.pss_mib, 1),
            "processes": self.processes,
        }


def free_port() -> int:
    """A loopback port that was free a moment ago (for servers that cannot be told ``--port 0``)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tree(pid: int) -> list[psutil.Process]:
    """The process and all its descendants that are still alive."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def memory(pid: int) -> Memory:
    rss = pss = 0
    count = 0
    for proc in tree(pid):
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            info = proc.memory_full_info()
            rss += info.rss
            pss += getattr(info, "pss", info.rss)
            count += 1
    return Memory(rss / MIB, pss / MIB, count)


def log_tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


@dataclass
class ServerProcess:
    """A running server: its root process, URL, log file and the seconds from launch to ``/health`` 200."""

    name: str
    command: list[str]
    proc: subprocess.Popen[bytes]
    log_path: Path
    url: str = ""
    startup_s: float = 0.0

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, grace_s: float = 20.0) -> None:
        """SIGTERM to the server's process group, then SIGKILL to whatever of its tree is left."""
        if not self.alive():
            return
        members = tree(self.pid)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGTERM)
        _, left = psutil.wait_procs(members, timeout=grace_s)
        for proc in left:
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.kill()
        psutil.wait_procs(left, timeout=5)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)


def launch(name: str, command: list[str], *, cwd: Path, env: dict[str, str], log_path: Path) -> ServerProcess:
    """Start ``command`` in a new session with stdout and stderr to ``log_path``."""
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return ServerProcess(name, command, proc, log_path)


def _poll(server: ServerProcess, deadline: float, probe: Callable[[], str | None], what: str) -> str:
    """Call ``probe`` every 0.2 s until it returns a value; fail if the server exits or time runs out."""
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        if not server.alive():
            raise ServerStartError(
                f"{server.name} exited with code {server.proc.returncode} before {what}:\n"
                + log_tail(server.log_path)
            )
        time.sleep(0.2)
    raise ServerStartError(f"{server.name}: no {what} after the start timeout:\n" + log_tail(server.log_path))


def wait_for_url(server: ServerProcess, pattern: str, *, deadline: float) -> str:
    """The first match of ``pattern`` (one group: the URL) in the server's log."""
    regex = re.compile(pattern)

    def probe() -> str | None:
        try:
            match = regex.search(server.log_path.read_text(errors="replace"))
        except OSError:
            return None
        return match.group(1) if match else None

    return _poll(server, deadline, probe, "URL in its output")


def wait_for_health(server: ServerProcess, *, deadline: float) -> None:
    session = requests.Session()

    def probe() -> str | None:
        try:
            response = session.get(f"{server.url}/health", timeout=2)
        except requests.RequestException:
            return None
        return "ok" if response.status_code == 200 else None

    _poll(server, deadline, probe, "/health 200")
