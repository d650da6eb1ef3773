"""Running the shared, server-agnostic REST harness (``rest_bench.py``) against one server.

The harness runs with this interpreter (it needs only ``requests``), writes its figures to a JSON file and
prints one ``[rest_bench] HH:MM:SS scenario NAME ...`` line on stderr as each scenario starts, which drives
the progress bar. Everything it prints goes to a log file beside the JSON. The load generator
(``loadgen.py``) is run the same way (``run_script``).
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
_SCENARIO_LINE = re.compile(r"\[(?:rest_bench|loadgen)\] \S+ scenario (\w+)")


class HarnessError(RuntimeError):
    """The harness exited badly or wrote no results."""


def run_script(
    command: list[str],
    *,
    label: str,
    out: Path,
    log: Path,
    timeout_s: float,
    on_scenario: Callable[[str], None],
) -> dict[str, Any]:
    """Run a benchmark client script that writes its JSON to ``out`` and announces each scenario on stderr
    (``[name] HH:MM:SS scenario NAME``); everything it prints goes to ``log``. Returns the JSON document."""
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
        code = follow_lines(proc, proc.stderr, timeout_s, on_line)
    if code != 0 or not out.is_file():
        why = f"killed after {timeout_s:.0f} s" if code < 0 else f"exit code {code}"
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
        raise HarnessError(f"{Path(command[1]).name} failed against {label} ({why}); log {log}:\n{tail}")
    doc: dict[str, Any] = json.loads(out.read_text())
    return doc


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
        return run_script(
            command, label=label, out=out, log=log, timeout_s=self.timeout_s, on_scenario=on_scenario
        )


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


#: The load generator with one process per client (``loadgen.py``).
LOADGEN = Path(__file__).resolve().parent / "loadgen.py"
#: The load generator's scenarios that run a harness scenario's figures again.
LOADGEN_OF = {
    "metric_ingest": ("ingest_single", "ingest"),
    "concurrency": ("concurrency",),
    "search_runs": ("search",),
    "metric_history": ("history",),
}
#: The load generator's scenarios that need a store: not run against the null server.
LOADGEN_STORED = ("search", "history")


@dataclass(frozen=True)
class LoadGenerator:
    """``loadgen.py``: the harness's ingest (1 and 8 clients), 16-client small requests, filtered search
    and full metric history, one process per client."""

    scenarios: tuple[str, ...]
    timeout_s: float
    #: Its size flags: ``--points``, ``--seconds`` and ``--history-steps`` as the harness's,
    #: ``--search-reps``.
    size_args: tuple[str, ...] = ()

    @classmethod
    def sized(
        cls,
        scenarios: list[str],
        *,
        points: int | None,
        seconds: float | None,
        history_steps: int | None,
        search_reps: int | None,
        timeout_s: float,
    ) -> LoadGenerator:
        """``scenarios`` (of ``loadgen.py``'s ``SCENARIOS``), sized as the harness is (its ``--points``,
        ``--conc-seconds`` and ``--history-steps``; None: the same defaults), with ``search_reps`` timed
        searches (None: 200)."""
        args: list[str] = []
        for flag, given in (
            ("--points", points),
            ("--seconds", seconds),
            ("--history-steps", history_steps),
            ("--search-reps", search_reps),
        ):
            if given is not None:
                args += [flag, str(given)]
        return cls(tuple(scenarios), timeout_s, tuple(args))

    def without_store(self) -> LoadGenerator | None:
        """Its scenarios that a server keeping nothing can answer (None: none)."""
        kept = tuple(name for name in self.scenarios if name not in LOADGEN_STORED)
        return LoadGenerator(kept, self.timeout_s, self.size_args) if kept else None

    def run(
        self,
        *,
        url: str,
        label: str,
        out: Path,
        log: Path,
        verify: bool,
        on_scenario: Callable[[str], None],
        search_experiment: str | None = None,
    ) -> dict[str, Any]:
        """Its scenarios against ``url``; ``verify=False`` for a server that keeps nothing; the search reads
        ``search_experiment`` (the harness's ``create_runs`` experiment)."""
        command = [
            sys.executable,
            str(LOADGEN),
            "--url",
            url,
            "--out",
            str(out),
            "--scenarios",
            ",".join(self.scenarios),
            *self.size_args,
        ]
        if search_experiment is not None:
            command += ["--search-experiment", search_experiment]
        if not verify:
            command.append("--no-verify")
        return run_script(
            command, label=label, out=out, log=log, timeout_s=self.timeout_s, on_scenario=on_scenario
        )
