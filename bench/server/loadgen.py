"""A load generator with one process per client, for the concurrent figures of the server benchmark.

The shared harness (``rest_bench.py``) runs its 8 or 16 concurrent clients as threads of one Python process,
and each of them builds its request with ``requests`` (and, for ingest, builds and JSON-encodes a 1,000-point
batch, ~2 ms) under the one GIL. Against a fast server the client is the bottleneck: the null server, which
stores nothing, scores no better than Wayline's with it (``null_server.py``). This generator sends the same
requests as the harness's ``metric_ingest`` (1 client, ``ingest_single``, and 8 clients, ``ingest``) and
``concurrency`` (16 clients) scenarios, with the client's own work made small, so that the figure is the
server's:

- one process per client (forked before the clock starts), so the clients do not share a GIL;
- each holds one keep-alive HTTP/1.1 connection on a plain socket with TCP_NODELAY (as ``requests`` sets it)
  and writes each request in one ``send``; the answer is read by its ``Content-Length`` (or chunks);
- ingest batches are built and encoded before the clock starts: the same 1,000-point ``runs/log-batch``
  bodies as the harness's (two keys, ``loss`` and ``acc``, 500 steps a batch, each client into its own run);
- a small request is the harness's single-point ``runs/log-metric`` (each client on its own run, steps
  0, 1, 2, ...), its body formatted as bytes.

It also sends the harness's filtered search (``search``: ``metrics.rmse < 0.5 and params.p1 = 'x'`` ordered by
``metrics.rmse``, 100 a page, over the experiment that the harness's ``create_runs`` made, given as
``--search-experiment``) ``--search-reps`` times from one client, each timed until the answer's last byte has
arrived. The harness times 20 and decodes each answer's JSON inside the clock (a page of 100 runs is ~93 kB:
1-2 ms of the client's own work, a quarter of a fast server's figure); here the answers are decoded after the
clock stops, to check them.

And it reads a metric's full history (``history``) as the harness's ``metric_history`` does: a fresh run
holding ``loss`` and ``acc`` at ``--history-steps`` steps (100,000, as the harness's 1-client ingest
leaves its run), ``loss`` read ``--history-reps`` times with ``metrics/get-history`` 25,000 a page and as
often in one call, each read timed until the last page's last byte. The harness decodes every page inside
its clock (~90 ms for 100,000 points, most of a fast server's figure); here only each page's
``next_page_token`` is picked out inside the clock, and the pages are decoded and checked after it.

Afterwards, untimed, every client's run is read back: ingest's ``loss`` history must hold every step, and the
small requests' ``m`` must have its latest step equal to the last one sent, and every search answer must hold
the same page of runs, each with ``rmse`` < 0.5 and ``p1`` = ``x``, in ``rmse`` order, and every history
read must hold each step once, with its logged value (``--no-verify`` for the null server, which keeps
nothing). Standard library only; run with any Python 3.10+:

    python bench/server/loadgen.py --url http://127.0.0.1:5000 --out result.json

The JSON result has ``results.ingest_single``, ``results.ingest``, ``results.concurrency``,
``results.search`` and ``results.history`` (figures, latency percentiles, errors, the clients' CPU) and
``meta`` (the options). One ``[loadgen] HH:MM:SS scenario NAME`` line goes to stderr as each scenario starts.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import socket
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

API = "/api/2.0/mlflow"
SCENARIOS = ("ingest_single", "ingest", "concurrency", "search", "history")
INGEST_KEYS = ("loss", "acc")
TIMEOUT_S = 120.0
#: Answers larger than this are refused (a runaway or a wrong route), chunked or not.
MAX_BODY = 64 * 1024 * 1024
#: The harness's filtered search (``rest_bench.py``, ``search_runs``), over ``--search-experiment``.
SEARCH_FILTER = "metrics.rmse < 0.5 and params.p1 = 'x'"
SEARCH_PAGE = 100
#: Untimed searches before the clock starts (the connection and the server's statements warm).
SEARCH_WARMUP = 5
#: The harness's history page (``rest_bench.py``, ``--history-page-size``).
HISTORY_PAGE = 25_000
_TOKEN_FIELD = b'"next_page_token"'


class LoadError(RuntimeError):
    """A request failed: no connection, a status other than 200, or an answer that cannot be read."""


class Connection:
    """One keep-alive HTTP/1.1 connection: ``request`` writes a request in one send and reads its answer."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._sock: socket.socket | None = None
        self._buffer = b""
        self._host_header = f"{host}:{port}".encode()

    def _connect(self) -> socket.socket:
        sock = socket.create_connection((self.host, self.port), timeout=TIMEOUT_S)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock, self._buffer = sock, b""
        return sock

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
        self._sock, self._buffer = None, b""

    def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        """Send one request and read its answer. A kept-alive connection that the server closed while it was
        idle (before any of the answer came) is opened again and the request sent once more."""
        message = (
            b"%s %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
            % (method.encode(), path.encode(), self._host_header, len(body))
        ) + body
        reused = self._sock is not None
        try:
            try:
                sock = self._sock or self._connect()
                sock.sendall(message)
                return self._answer(sock)
            except (ConnectionError, BrokenPipeError):
                if not reused or self._buffer:
                    raise
                self.close()
                sock = self._connect()
                sock.sendall(message)
                return self._answer(sock)
        except (OSError, ValueError) as exc:
            self.close()
            raise LoadError(f"{method} {path}: {type(exc).__name__}: {exc}") from None

    def _fill(self, sock: socket.socket) -> None:
        data = sock.recv(1 << 20)
        if not data:
            raise ConnectionError("the server closed the connection")
        self._buffer += data

    def _take(self, sock: socket.socket, n: int) -> bytes:
        while len(self._buffer) < n:
            self._fill(sock)
        out, self._buffer = self._buffer[:n], self._buffer[n:]
        return out

    def _line(self, sock: socket.socket) -> bytes:
        while (end := self._buffer.find(b"\r\n")) < 0:
            if len(self._buffer) > 65536:
                raise ValueError("header line too long")
            self._fill(sock)
        return self._take(sock, end + 2)[:-2]

    def _answer(self, sock: socket.socket) -> tuple[int, bytes]:
        while (end := self._buffer.find(b"\r\n\r\n")) < 0:
            if len(self._buffer) > 65536:
                raise ValueError("response head too long")
            self._fill(sock)
        head = self._take(sock, end + 4)[:-4].decode("latin-1").split("\r\n")
        status = int(head[0].split(" ", 2)[1])
        headers = {}
        for line in head[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = self._chunks(sock)
        else:
            length = int(headers.get("content-length", "0"))
            if length > MAX_BODY:
                raise ValueError(f"answer of {length} bytes")
            body = self._take(sock, length)
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, body

    def _chunks(self, sock: socket.socket) -> bytes:
        parts: list[bytes] = []
        size = 0
        while (n := int(self._line(sock).split(b";")[0], 16)) > 0:
            size += n
            if size > MAX_BODY:
                raise ValueError(f"chunked answer over {MAX_BODY} bytes")
            parts.append(self._take(sock, n))
            self._take(sock, 2)
        while self._line(sock):  # trailers, then the empty line
            pass
        return b"".join(parts)


def call(conn: Connection, method: str, route: str, body: bytes = b"") -> bytes:
    """The answer's body of a 200, else :class:`LoadError` naming the route and the status."""
    status, answer = conn.request(method, API + route, body)
    if status != 200:
        raise LoadError(f"{method} {route}: HTTP {status}: {answer[:300]!r}")
    return answer


def call_json(conn: Connection, method: str, route: str, payload: dict[str, Any] | None = None) -> Any:
    return json.loads(call(conn, method, route, b"" if payload is None else json.dumps(payload).encode()))


def now_ms() -> int:
    return int(time.time() * 1000)


def percentile(sorted_ms: Sequence[float], p: float) -> float:
    """Nearest-rank percentile, as the harness computes it."""
    k = max(0, min(len(sorted_ms) - 1, round(p / 100.0 * len(sorted_ms) + 0.5) - 1))
    return sorted_ms[k]


def summarize_ms(latencies_s: list[float]) -> dict[str, float | int]:
    """Latencies in seconds as the harness summarizes them (``n``, ``mean_ms``, ``p50_ms`` ... ``max_ms``)."""
    if not latencies_s:
        return {"n": 0}
    ms = sorted(x * 1000.0 for x in latencies_s)
    return {
        "n": len(ms),
        "mean_ms": round(sum(ms) / len(ms), 3),
        "p50_ms": round(percentile(ms, 50), 3),
        "p95_ms": round(percentile(ms, 95), 3),
        "p99_ms": round(percentile(ms, 99), 3),
        "max_ms": round(ms[-1], 3),
        "min_ms": round(ms[0], 3),
    }


def ingest_bodies(run_id: str, points: int, batch_points: int) -> list[bytes]:
    """The harness's ``log-batch`` bodies for ``points`` points of one run: both keys per step."""
    keys = len(INGEST_KEYS)
    steps, per_batch = points // keys, max(1, batch_points // keys)
    ts = now_ms()
    bodies = []
    for first in range(0, steps, per_batch):
        metrics = [
            {"key": key, "value": (step * 0.001 + k) % 7.0, "timestamp": ts + step, "step": step}
            for step in range(first, min(steps, first + per_batch))
            for k, key in enumerate(INGEST_KEYS)
        ]
        bodies.append(json.dumps({"run_id": run_id, "metrics": metrics}).encode())
    return bodies


Result = dict[str, Any]


@dataclass
class Tally:
    """One client's requests: the latency of each that succeeded, the failures and the first three errors."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    samples: list[str] = field(default_factory=list)

    def post(self, conn: Connection, route: str, body: bytes, started: float) -> bytes | None:
        """The answer's body (None: the request failed, and is counted)."""
        try:
            answer = call(conn, "POST", route, body)
            self.latencies.append(time.perf_counter() - started)
            return answer
        except LoadError as exc:
            self.errors += 1
            if len(self.samples) < 3:
                self.samples.append(str(exc))
            return None

    def result(self, **extra: Any) -> Result:
        return {"latencies": self.latencies, "errors": self.errors, "error_samples": self.samples, **extra}


def _ingest_client(conn: Connection, run_id: str, job: dict[str, Any]) -> Callable[[], Result]:
    bodies = ingest_bodies(run_id, job["points"], job["batch_points"])

    def go() -> Result:
        tally = Tally()
        for body in bodies:
            tally.post(conn, "/runs/log-batch", body, time.perf_counter())
        return tally.result()

    return go


def _small_client(conn: Connection, run_id: str, job: dict[str, Any]) -> Callable[[], Result]:
    rid = run_id.encode()

    def go() -> Result:
        tally = Tally()
        end = time.perf_counter() + job["seconds"]
        step = 0
        while (started := time.perf_counter()) < end:
            body = b'{"run_id": "%s", "key": "m", "value": %d.0, "timestamp": %d, "step": %d}' % (
                rid,
                step,
                now_ms(),
                step,
            )
            tally.post(conn, "/runs/log-metric", body, started)
            step += 1
        return tally.result(last_step=step - 1)

    return go


CLIENTS: dict[str, Callable[[Connection, str, dict[str, Any]], Callable[[], Result]]] = {
    "ingest": _ingest_client,
    "concurrency": _small_client,
}


@dataclass(frozen=True)
class ClientSpec:
    scenario: str
    host: str
    port: int
    run_id: str
    job: dict[str, Any]


def _client_process(spec: ClientSpec, start: Any, out: Any) -> None:
    """One client: prepare, open the connection, wait for the start, run, report (never raises). The CPU
    it spends between the start and its end is reported as ``cpu_s``."""
    run_id = spec.run_id
    try:
        conn = Connection(spec.host, spec.port)
        go = CLIENTS[spec.scenario](conn, run_id, spec.job)
        call(conn, "GET", "/experiments/search?max_results=1")  # connected and warm before the clock
    except Exception as exc:  # reported; the start barrier still counts this client
        start.wait()
        out.put({"run_id": run_id, "failed": f"{type(exc).__name__}: {exc}", "ended": time.perf_counter()})
        return
    start.wait()
    cpu = time.process_time()
    result = go()
    result["ended"] = time.perf_counter()
    result["cpu_s"] = time.process_time() - cpu
    result["run_id"] = run_id
    conn.close()
    out.put(result)


def run_clients(
    scenario: str, url: str, run_ids: list[str], job: dict[str, Any]
) -> tuple[list[Result], float]:
    """Fork one process per run, start them together; returns their results and the wall time from the start
    to the last one's end."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    ctx = mp.get_context("fork")
    start, out = ctx.Barrier(len(run_ids) + 1), ctx.Queue()
    procs = [
        ctx.Process(
            target=_client_process, args=(ClientSpec(scenario, host, port, rid, job), start, out), daemon=True
        )
        for rid in run_ids
    ]
    for proc in procs:
        proc.start()
    start.wait(timeout=TIMEOUT_S)
    began = time.perf_counter()
    results = [out.get(timeout=job.get("seconds", 0) + TIMEOUT_S * 10) for _ in procs]
    for proc in procs:
        proc.join(timeout=TIMEOUT_S)
    return results, max(r["ended"] for r in results) - began


def _new_runs(conn: Connection, tag: str, clients: int) -> list[str]:
    experiment = call_json(conn, "POST", "/experiments/create", {"name": f"loadgen-{tag}-{uuid.uuid4().hex}"})
    return [
        call_json(
            conn,
            "POST",
            "/runs/create",
            {"experiment_id": experiment["experiment_id"], "start_time": now_ms(), "run_name": f"{tag}-{i}"},
        )["run"]["info"]["run_id"]
        for i in range(clients)
    ]


def _combine(results: list[Result], wall_s: float) -> Result:
    cpu_s = sum(r.get("cpu_s", 0.0) for r in results)
    latencies = [x for r in results for x in r.get("latencies", [])]
    samples = [r["failed"] for r in results if "failed" in r] + [
        s for r in results for s in r.get("error_samples", [])
    ]
    errors = sum(r.get("errors", 0) for r in results) + sum("failed" in r for r in results)
    return {
        "clients": len(results),
        "requests": len(latencies),
        "seconds": round(wall_s, 3),
        "errors": errors,
        "error_samples": samples[:3],
        "latency_per_request": summarize_ms(latencies),
        "client_cpu_cores": round(cpu_s / wall_s, 3) if wall_s > 0 else None,
    }


def _history_steps(conn: Connection, run_id: str) -> set[int]:
    """The steps of ``loss`` stored for ``run_id``, read 25,000 a page."""
    pages, _ = _read_history(conn, run_id, HISTORY_PAGE)
    return {int(m["step"]) for page in pages for m in json.loads(page).get("metrics", [])}


def ingest(conn: Connection, url: str, args: argparse.Namespace, clients: int) -> Result:
    """``--repeats`` rounds, each of ``--points`` points over ``clients`` fresh runs; the median round's
    rate."""
    per_client = args.points // clients
    steps = per_client // len(INGEST_KEYS)
    job = {"points": per_client, "batch_points": args.batch_points}
    rounds: list[Result] = []
    for _ in range(args.repeats):
        run_ids = _new_runs(conn, "ingest", clients)
        conn.close()  # not held open (and timed out by the server) while the clients run
        results, wall = run_clients("ingest", url, run_ids, job)
        out = _combine(results, wall)
        sent = steps * len(INGEST_KEYS) * len(run_ids) if not out["errors"] else None
        out |= {"points": sent, "points_per_s": round(sent / wall, 1) if sent and wall > 0 else None}
        if args.verify and sent:
            missing = [rid for rid in run_ids if _history_steps(conn, rid) != set(range(steps))]
            out["verified"] = not missing
            if missing:
                out["error_samples"].append(
                    f"run {missing[0]}: stored 'loss' history is not steps 0..{steps - 1}"
                )
        rounds.append(out)
    rates = sorted(r["points_per_s"] or 0.0 for r in rounds)
    median = next(r for r in rounds if (r["points_per_s"] or 0.0) == rates[len(rates) // 2])
    return median | {
        "batch_points": args.batch_points,
        "repeats": len(rounds),
        "errors": sum(r["errors"] for r in rounds),
        "error_samples": [s for r in rounds for s in r["error_samples"]][:3],
        "verified": all(r.get("verified", False) for r in rounds) if args.verify else None,
        "rounds_points_per_s": [r["points_per_s"] for r in rounds],
    }


def concurrency(conn: Connection, url: str, args: argparse.Namespace) -> Result:
    run_ids = _new_runs(conn, "small", args.small_clients)
    conn.close()
    results, wall = run_clients("concurrency", url, run_ids, {"seconds": args.seconds})
    out = _combine(results, wall)
    out["req_per_s"] = round(out["requests"] / wall, 1) if wall > 0 else None
    if args.verify and not out["errors"]:
        wrong = []
        for result in results:
            run = call_json(conn, "GET", "/runs/get?" + urlencode({"run_id": result["run_id"]}))["run"]
            latest = {m["key"]: m for m in run.get("data", {}).get("metrics", [])}
            if result["last_step"] >= 0 and int(latest.get("m", {}).get("step", -1)) != result["last_step"]:
                wrong.append(result["run_id"])
        out["verified"] = not wrong
        if wrong:
            out["error_samples"].append(f"run {wrong[0]}: latest 'm' is not the last step sent")
    return out


def search_body(experiment_id: str) -> bytes:
    """The harness's filtered search over ``experiment_id``."""
    return json.dumps(
        {
            "experiment_ids": [experiment_id],
            "filter": SEARCH_FILTER,
            "order_by": ["metrics.rmse ASC"],
            "max_results": SEARCH_PAGE,
        }
    ).encode()


def search_problem(answers: Sequence[bytes]) -> str | None:
    """What is wrong with the search's answers (None: nothing): each must be the same page of 1 to
    ``SEARCH_PAGE`` runs that pass the filter, in ``rmse`` order (then run id)."""
    pages = [json.loads(answer).get("runs", []) for answer in answers]
    if not 0 < len(pages[0]) <= SEARCH_PAGE:
        return f"the first answer holds {len(pages[0])} runs, not 1 to {SEARCH_PAGE}"
    order = []
    for run in pages[0]:
        data, run_id = run.get("data", {}), run["info"]["run_id"]
        rmse = next((float(m["value"]) for m in data.get("metrics", []) if m["key"] == "rmse"), None)
        p1 = next((p["value"] for p in data.get("params", []) if p["key"] == "p1"), None)
        if rmse is None or not rmse < 0.5 or p1 != "x":
            return f"run {run_id} does not pass the filter (rmse {rmse}, p1 {p1!r})"
        order.append((rmse, run_id))
    if order != sorted(order):
        return "the runs are not in rmse order"
    ids = [[run["info"]["run_id"] for run in page] for page in pages]
    if any(page != ids[0] for page in ids):
        return "the answers do not all hold the same runs"
    return None


def search(conn: Connection, url: str, args: argparse.Namespace) -> Result:
    """The harness's filtered search ``--search-reps`` times from this process, each timed until its
    answer's last byte; the answers are decoded and checked after the clock stops."""
    if not args.search_experiment:
        raise LoadError("the search needs --search-experiment (the harness's create_runs experiment)")
    body = search_body(args.search_experiment)
    for _ in range(SEARCH_WARMUP):
        call(conn, "POST", "/runs/search", body)
    tally = Tally()
    answers: list[bytes] = []
    cpu = time.process_time()
    began = time.perf_counter()
    for _ in range(args.search_reps):
        answer = tally.post(conn, "/runs/search", body, time.perf_counter())
        if answer is not None:
            answers.append(answer)
    wall, cpu_s = time.perf_counter() - began, time.process_time() - cpu
    out = _combine([tally.result(cpu_s=cpu_s)], wall)
    out |= {"answer_bytes": len(answers[0]) if answers else None, "filter": SEARCH_FILTER}
    if args.verify and answers:
        problem = search_problem(answers)
        out["verified"] = problem is None
        if problem:
            out["error_samples"].append(problem)
    return out


def next_token(answer: bytes) -> str:
    """A history page's ``next_page_token`` ('' on the last page), found without decoding the page: the
    client's own work inside the clock stays small (decoding a 25,000-point page takes ~20 ms here). The
    token followed is checked against the decoded page after the clock."""
    at = answer.rfind(_TOKEN_FIELD)
    if at < 0:
        return ""
    rest = answer[at + len(_TOKEN_FIELD) :].lstrip()
    if not rest.startswith(b":"):
        raise ValueError("next_page_token is not a field")
    token, _ = json.JSONDecoder().raw_decode(rest[1:].lstrip().decode())
    if token is None:
        return ""
    if not isinstance(token, str):
        raise ValueError(f"next_page_token is a {type(token).__name__}")
    return token


def history_value(step: int) -> float:
    """The value the harness's ingest logs for ``loss`` at ``step``."""
    return (step * 0.001) % 7.0


def history_problem(pages: Sequence[bytes], tokens: Sequence[str], steps: int) -> str | None:
    """What is wrong with one full read of the history (None: nothing): its pages must hold ``loss`` at every
    step 0 .. ``steps`` - 1 once, with the logged value, and each token followed must be the page's own."""
    seen: set[int] = set()
    for number, (page, followed) in enumerate(zip(pages, tokens, strict=True)):
        answer = json.loads(page)
        if answer.get("next_page_token", "") != followed:
            says = answer.get("next_page_token")
            return f"page {number + 1}: followed token {followed!r}, the page says {says!r}"
        for metric in answer.get("metrics", []):
            step = int(metric["step"])
            if metric["key"] != "loss" or step in seen or not 0 <= step < steps:
                return f"page {number + 1}: unexpected or repeated point {metric['key']!r} step {step}"
            if abs(float(metric["value"]) - history_value(step)) > 1e-9:
                return f"step {step}: value {metric['value']}, logged {history_value(step)}"
            seen.add(step)
    if len(seen) != steps:
        return f"{len(seen)} of {steps} steps read"
    return None


def _read_history(conn: Connection, run_id: str, page: int | None) -> tuple[list[bytes], list[str]]:
    """Every page of ``loss``'s history (``page`` None: one call without ``max_results``), and the token
    found on each ('' on the last)."""
    pages: list[bytes] = []
    tokens: list[str] = []
    query: dict[str, Any] = {"run_id": run_id, "metric_key": "loss"}
    if page is not None:
        query["max_results"] = page
    while True:
        if tokens:
            query["page_token"] = tokens[-1]
        pages.append(call(conn, "GET", "/metrics/get-history?" + urlencode(query)))
        tokens.append(next_token(pages[-1]) if page is not None else "")
        if not tokens[-1]:
            return pages, tokens
        if len(pages) > 10_000:
            raise LoadError("the history's pages do not end")


def history(conn: Connection, url: str, args: argparse.Namespace) -> Result:
    """The harness's ``metric_history``: a run holding ``loss`` and ``acc`` at ``--history-steps`` steps (as
    the harness's 1-client ingest leaves its run), then ``loss``'s full history read ``--history-reps`` times
    paged (25,000 a page) and as often in one call, each read timed until the last page's last byte. Each read
    is decoded and checked after its clock stops."""
    steps = args.history_steps
    run_id = _new_runs(conn, "history", 1)[0]
    began = time.perf_counter()
    for body in ingest_bodies(run_id, steps * len(INGEST_KEYS), args.batch_points):
        call(conn, "POST", "/runs/log-batch", body)
    out: Result = {"steps": steps, "setup_s": round(time.perf_counter() - began, 2), "run_id": run_id}
    _read_history(conn, run_id, HISTORY_PAGE)  # warm: the connection and the server's statements
    problem = None
    for mode, page in (("paged", HISTORY_PAGE), ("one_call", None)):
        times, cpu_s, sizes = [], 0.0, []
        for _ in range(args.history_reps):
            cpu = time.process_time()
            started = time.perf_counter()
            pages, tokens = _read_history(conn, run_id, page)
            times.append(time.perf_counter() - started)
            cpu_s += time.process_time() - cpu
            sizes.append((len(pages), sum(len(p) for p in pages)))
            if args.verify and problem is None:
                problem = history_problem(pages, tokens, steps)
                if problem:
                    problem = f"{mode}: {problem}"
        out[mode] = {
            "page_size": page,
            "pages": sizes[-1][0],
            "answer_bytes": sizes[-1][1],
            "seconds_median": round(statistics.median(times), 4),
            "seconds_all": [round(t, 4) for t in times],
            "client_cpu_s_per_read": round(cpu_s / len(times), 4),
        }
    if args.verify:
        out["verified"] = problem is None
        out["error_samples"] = [problem] if problem else []
    return out


MEASURE: dict[str, Callable[[Connection, str, argparse.Namespace], Result]] = {
    "ingest_single": lambda conn, url, args: ingest(conn, url, args, 1),
    "ingest": lambda conn, url, args: ingest(conn, url, args, args.ingest_clients),
    "concurrency": concurrency,
    "search": search,
    "history": history,
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--url", required=True, help="the server, http://host:port")
    add("--scenarios", default=",".join(SCENARIOS), help=f"comma-separated subset of {', '.join(SCENARIOS)}")
    add("--points", type=int, default=200_000, help="ingest: points in all, split over the clients")
    add("--batch-points", type=int, default=1000, help="ingest: points per log-batch request")
    add("--ingest-clients", type=int, default=8, help="ingest: client processes")
    add("--repeats", type=int, default=3, help="ingest: rounds (fresh runs each); the median is reported")
    add("--small-clients", type=int, default=16, help="concurrency: client processes")
    add("--seconds", type=float, default=10.0, help="concurrency: how long the clients send")
    add("--search-experiment", help="search: the experiment to search (the harness's create_runs experiment)")
    add("--search-reps", type=int, default=200, help="search: timed searches (after 5 untimed)")
    add("--history-steps", type=int, default=100_000, help="history: steps of the read metric")
    add("--history-reps", type=int, default=5, help="history: timed reads, paged and in one call each")
    add("--no-verify", dest="verify", action="store_false", help="skip reading the runs back (null server)")
    add("--out", required=True, help="write the JSON result here")
    args = parser.parse_args(argv)
    args.scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    for name in args.scenarios:
        if name not in SCENARIOS:
            parser.error(f"unknown scenario {name!r}; expected {', '.join(SCENARIOS)}")
    for flag in (
        "points",
        "batch_points",
        "ingest_clients",
        "repeats",
        "small_clients",
        "search_reps",
        "history_steps",
        "history_reps",
    ):
        if getattr(args, flag) < 1:
            parser.error(f"--{flag.replace('_', '-')} must be at least 1")
    if args.seconds <= 0:
        parser.error("--seconds must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    parts = urlsplit(args.url)
    if parts.scheme != "http" or not parts.hostname:
        print(f"--url must be http://host:port, not {args.url!r}", file=sys.stderr)
        return 2
    conn = Connection(parts.hostname, parts.port or 80)
    results: dict[str, Result] = {}
    for name in args.scenarios:
        print(f"[loadgen] {time.strftime('%H:%M:%S')} scenario {name}", file=sys.stderr, flush=True)
        try:
            results[name] = MEASURE[name](conn, args.url, args)
        except (LoadError, OSError, ValueError, KeyError) as exc:
            results[name] = {"error": f"{type(exc).__name__}: {exc}"}
    meta = {k: v for k, v in vars(args).items() if k != "out"}
    with open(args.out, "w") as f:
        json.dump({"meta": meta, "results": results}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
