"""Every command is documented: it has a help text, `--help` works, and the README shows it in use
(after sqlite-utils' test that every command is documented)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from mipsniff.cli import app

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()
COMMANDS = sorted(get_command(app).commands)  # type: ignore[attr-defined]


def test_the_cli_has_the_commands_users_are_told_about() -> None:
    assert {"show", "report", "live", "lab", "synth", "plot"} <= set(COMMANDS)


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_help(name: str) -> None:
    result = CliRunner().invoke(app, [name, "--help"])
    assert result.exit_code == 0, result.output
    command = get_command(app).commands[name]  # type: ignore[attr-defined]
    assert command.help and len(command.help.strip()) > 20, f"{name} has no real help text"


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_is_in_the_readme(name: str) -> None:
    assert re.search(rf"mipsniff {name}\b", README), f"README never shows `mipsniff {name}`"


def test_readme_names_the_two_commands_first() -> None:
    first_block = README.split("```")[1]
    assert "make demo" in first_block and "make test" in first_block
