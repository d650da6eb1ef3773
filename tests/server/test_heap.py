"""Settling a worker's heap: start-up objects frozen, the youngest generation collected less often, and
cyclic garbage made while serving still collected. Run in a child process: the collector is process-wide."""

from __future__ import annotations

import subprocess
import sys
import textwrap

_CHILD = textwrap.dedent(
    """
    import gc, weakref
    from wayline.server.heap import YOUNG_THRESHOLD, settle_heap

    default_young, middle, oldest = gc.get_threshold()
    before = gc.get_freeze_count()
    settle_heap()
    assert gc.get_freeze_count() > before, "start-up objects are frozen"
    assert gc.get_threshold() == (YOUNG_THRESHOLD, middle, oldest), gc.get_threshold()
    assert YOUNG_THRESHOLD > default_young

    class Node:
        pass

    # A cycle made while serving is garbage that only the collector frees.
    a, b = Node(), Node()
    a.other, b.other = b, a
    gone = weakref.ref(a)
    del a, b
    kept = [[] for _ in range(YOUNG_THRESHOLD // 2)]  # fewer new containers than the threshold
    assert gone() is not None, "collected before the threshold"
    kept += [[] for _ in range(YOUNG_THRESHOLD)]  # past it: the youngest generation is collected
    assert gone() is None, "a cycle made while serving is never collected"
    print("ok")
    """
)


def test_settled_heap_collects_the_young_generation_later_but_still_collects_cycles() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD], check=False, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
