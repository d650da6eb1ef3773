"""docs/cli.md documents every command, argument and option of the CLI (and nothing that does not exist)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from wayline.cli.main import cli

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"
_HEADING = re.compile(r"^(#{1,6}) (.+?)\s*$")


def _commands(
    group: click.Group, path: tuple[str, ...] = ("wayline",)
) -> Iterator[tuple[str, click.Command]]:
    yield " ".join(path), group
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from _commands(command, (*path, name))
        else:
            yield " ".join((*path, name)), command


def _sections() -> dict[str, str]:
    """Heading text (without backquotes) -> the text up to the next heading of the same or a higher level."""
    lines = DOC.read_text(encoding="utf-8").splitlines()
    heads = [
        (i, len(m.group(1)), m.group(2).strip("`"))
        for i, line in enumerate(lines)
        if (m := _HEADING.match(line))
    ]
    sections: dict[str, str] = {}
    for n, (start, level, title) in enumerate(heads):
        end = next((i for i, lvl, _ in heads[n + 1 :] if lvl <= level), len(lines))
        sections[title] = "\n".join(lines[start + 1 : end])
    return sections


COMMANDS = dict(_commands(cli))


def test_the_walk_finds_every_command() -> None:
    assert {"wayline experiments list", "wayline runs describe", "wayline db upgrade"} <= set(COMMANDS)
    assert len(COMMANDS) >= 15  # the root, 3 groups and 11 commands


@pytest.mark.parametrize("path", sorted(COMMANDS))
def test_command_is_documented(path: str) -> None:
    sections = _sections()
    assert path in sections, f"docs/cli.md has no section '{path}'"
    text = sections[path]
    command = COMMANDS[path]
    rows = text.splitlines()
    if not isinstance(command, click.Group):
        assert f"{path} " in text or f"{path}\n" in text, f"no usage line for '{path}'"
    for param in command.params:
        if isinstance(param, click.Option):
            for flag in (*param.opts, *param.secondary_opts):
                if flag in ("-h", "--help"):
                    continue
                assert any(line.startswith("|") and f"`{flag}" in line for line in rows), (
                    f"option {flag} of '{path}' has no row in its options table"
                )
        else:
            metavar = param.make_metavar(click.Context(command)).strip("[].")
            assert metavar in text, f"argument {metavar} of '{path}' is not documented"


def test_documented_commands_exist() -> None:
    documented = {title for title in _sections() if title.startswith("wayline")}
    assert documented == set(COMMANDS)


def test_every_command_is_in_the_overview_table() -> None:
    overview = DOC.read_text(encoding="utf-8").split("## `wayline`", 1)[0]
    for path, command in COMMANDS.items():
        if not isinstance(command, click.Group):
            assert f"[`{path}`]" in overview, path
