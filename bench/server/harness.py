"""Running the shared, server-agnostic REST harness (``rest_bench.py``) against one server.

The harness runs with this interpreter (it needs only ``requests``), writes its figures to a JSON file and
prints one ``[rest_bench] HH:MM:SS scenario NAME ...`` line on stderr as each scenario starts, which drives
the progress bar. Everything it prints goes to a log file beside the JSON.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench_common import follow_lines

REPO = Path(__file__).resolve().parents[2]
DEFAULT_HARNESS = REPO.parent / "shared" / "bench" / "rest_bench.py"
SCENARIOS = ("create_runs", "metric_ingest", "metric_history", "search_runs", "artifacts", "concurrency")
#: Size flags passed through unchanged (attribute name of the parsed arguments -> the harness's flag).
SIZE_FLAGS = {
    "runs": "--runs",
    "points": "--points",
    "history_steps": "--history-steps",
    "search_reps": "--search-reps",
    "artifact_mib": "--artifact-mib",
    "conc_seconds": "--conc-seconds",
    "scenarios": "--scenarios",
}
_SCENARIO_LINE = re.compile(r"\[rest_bench\] \S+ scenario (\w+)")


class HarnessError(RuntimeError):
    """The harness exited badly or wrote no results."""


@dataclass(frozen=True)
class Harness:
    path: Path
    size_args: tuple[str, ...]
    timeout_s: float

    def run(
        self,
        *,
        url: str,
        server_pid: int,
        label: str,
        out: Path,
        log: Path,
        on_scenario: Callable[[str], None],
    ) -> dict[str, Any]:
        """Run every selected scenario against ``url``; returns the harness's JSON document."""
        command = [
            sys.executable,
            str(self.path),
            "--url",
            url,
            "--server-pid",
            str(server_pid),
            "--label",
            label,
            "--out",
            str(out),
            *self.size_args,
        ]
        out.unlink(missing_ok=True)
        with log.open("ab") as stdout, log.open("a") as stderr_copy:
            proc = subprocess.Popen(
                command, stdout=stdout, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True
            )

            def on_line(line: str) -> None:
                stderr_copy.write(line)
                stderr_copy.flush()
                if match := _SCENARIO_LINE.search(line):
                    on_scenario(match.group(1))

            assert proc.stderr is not None
            code = follow_lines(proc, proc.stderr, self.timeout_s, on_line)
        if code != 0 or not out.is_file():
            why = f"killed after {self.timeout_s:.0f} s" if code < 0 else f"exit code {code}"
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
            raise HarnessError(f"harness failed against {label} ({why}); log {log}:\n{tail}")
        doc: dict[str, Any] = json.loads(out.read_text())
        return doc


def check_harness(path: Path) -> None:
    if not path.is_file():
        raise HarnessError(
            f"REST harness not found at {path}: pass --harness PATH to the shared rest_bench.py "
            "(by default it is looked up beside the repository, as ../shared/bench/rest_bench.py)"
        )


def size_args(values: dict[str, object]) -> tuple[str, ...]:
    """The harness flags for the size options that were given (None: the harness's own default)."""
    args: list[str] = []
    for name, flag in SIZE_FLAGS.items():
        value = values.get(name)
        if value is not None:
            args += [flag, str(value)]
    return tuple(args)
