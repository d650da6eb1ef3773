"""The examples in docs/signatures.md run and print what the page says they print."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[3] / "docs" / "signatures.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


def test_the_page_has_examples() -> None:
    assert len(BLOCKS) >= 5


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_example_runs_and_prints_what_it_claims(index: int) -> None:
    block = BLOCKS[index]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(block, f"signatures.md block {index}", "exec"), {})
    printed = out.getvalue().splitlines()
    # Each "print(...)  # expected" comment is checked against the printed lines: the part before
    # any ";" or "   (" (the rest is an explanation) must start one of them.
    claims = [line.split("# ", 1)[1] for line in block.splitlines() if "print(" in line and "# " in line]
    for claim in claims:
        expected = re.split(r";|   \(", claim)[0].rstrip(" .")
        assert any(line.startswith(expected) for line in printed), (expected, printed)
