"""Request threads: calls run off the event loop, several at once, in a copy of the caller's context, and a
forked process gets a pool of its own."""

from __future__ import annotations

import asyncio
import contextvars
import multiprocessing
import threading

import pytest

from wayline.server.threads import MAX_THREADS, in_thread

_USER: contextvars.ContextVar[str] = contextvars.ContextVar("user", default="nobody")


def test_a_call_runs_off_the_event_loop_and_returns_its_result() -> None:
    async def main() -> tuple[int, int, int]:
        loop_thread = threading.get_ident()
        result, call_thread = await in_thread(lambda a, b: (a + b, threading.get_ident()), 2, 3)
        return result, call_thread, loop_thread

    result, call_thread, loop_thread = asyncio.run(main())
    assert result == 5
    assert call_thread != loop_thread


def test_an_error_reaches_the_caller() -> None:
    def fail() -> None:
        raise ValueError("bad value")

    with pytest.raises(ValueError, match="bad value"):
        asyncio.run(in_thread(fail))


def test_calls_run_at_once_while_the_loop_stays_free() -> None:
    """Four calls that each wait for all four to start: they can only finish if they run together."""
    barrier = threading.Barrier(4, timeout=10)

    async def main() -> list[int]:
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.001)

        ticker = asyncio.create_task(tick())
        results = await asyncio.gather(*(in_thread(lambda i: (barrier.wait(), i)[1], i) for i in range(4)))
        ticker.cancel()
        assert ticks > 0  # the loop ran while the calls blocked
        return list(results)

    assert asyncio.run(main()) == [0, 1, 2, 3]
    assert MAX_THREADS >= 4


def test_a_call_sees_the_callers_context_and_cannot_change_it() -> None:
    def read_then_set() -> str:
        seen = _USER.get()
        _USER.set("changed in the thread")
        return seen

    async def main() -> tuple[str, str]:
        _USER.set("alice")
        seen = await in_thread(read_then_set)
        return seen, _USER.get()

    assert asyncio.run(main()) == ("alice", "alice")


def _call_in_child(results: multiprocessing.Queue[str]) -> None:
    results.put(asyncio.run(in_thread(lambda: "answered in the child")))


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_forked_process_gets_a_pool_of_its_own() -> None:
    """The parent's pool has an idle thread; a forked child inherits the pool but not its threads, and would
    wait forever on a pool whose threads are gone."""
    assert asyncio.run(in_thread(lambda: "parent")) == "parent"
    context = multiprocessing.get_context("fork")
    results: multiprocessing.Queue[str] = context.Queue()
    child = context.Process(target=_call_in_child, args=(results,))
    child.start()
    child.join(20)
    if child.is_alive():
        child.kill()
        pytest.fail("the forked child's call never ran")
    assert child.exitcode == 0
    assert results.get(timeout=5) == "answered in the child"
