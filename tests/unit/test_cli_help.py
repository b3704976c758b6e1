"""`mysqlinspect --help` lists the commands from the registry without importing the engines (issue 13, item 10)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import click
import pytest

from mysqlinspect.cli import COMMANDS, LazyGroup, cli
from tests.servers import repo_root

ENGINE_PREFIXES = ("pymysql", "pymysqlreplication", "rich", "mysqlinspect.binlog", "mysqlinspect.redo",
                   "mysqlinspect.collectors", "mysqlinspect.checks", "mysqlinspect.connection", "mysqlinspect.sandbox",
                   "mysqlinspect.render")

PROBE = """
import json, sys
sys.argv = ["mysqlinspect", *json.loads(sys.argv[1])]
from mysqlinspect.cli import main
try:
    main()
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def modules_loaded_by(*args: str) -> tuple[str, list[str]]:
    proc = subprocess.run([sys.executable, "-c", PROBE, json.dumps(list(args))], capture_output=True, text=True,
                          cwd=repo_root(), check=True)
    return proc.stdout, json.loads(proc.stderr.strip().splitlines()[-1])


def test_help_imports_no_engine() -> None:
    stdout, modules = modules_loaded_by("--help")
    assert "Commands:" in stdout
    assert [m for m in modules if m.startswith(ENGINE_PREFIXES)] == []
    assert [m for m in modules if m.startswith("mysqlinspect.cli.") and not _is_package(m)] == []


def _is_package(name: str) -> bool:
    """The sub-packages of cli/ (docstring-only __init__) are found, not run, when --help checks a command exists."""
    spec = importlib.util.find_spec(name)
    return (spec is not None and spec.submodule_search_locations is not None and spec.origin is not None
            and Path(spec.origin).stat().st_size < 200)


@pytest.mark.parametrize("group", ["redo", "binlog"])
def test_group_help_imports_none_of_its_subcommands(group: str) -> None:
    """The top-level callback builds the app context (consoles, connection settings), but no subcommand loads."""
    stdout, modules = modules_loaded_by(group, "--help")
    assert "Commands:" in stdout
    heavy = ("pymysqlreplication", "mysqlinspect.binlog", "mysqlinspect.redo", "mysqlinspect.collectors",
             "mysqlinspect.checks", f"mysqlinspect.cli.{group}_")
    assert [m for m in modules if m.startswith(heavy)] == []


def test_help_lists_every_registered_command() -> None:
    stdout, _ = modules_loaded_by("--help")
    listed = [line.split()[0] for line in stdout.split("Commands:")[1].splitlines() if line.strip()]
    assert listed == sorted(COMMANDS)


def _lazy_groups() -> list[tuple[str, LazyGroup]]:
    ctx = click.Context(cli)
    groups: list[tuple[str, LazyGroup]] = [("", cli)]
    for name in COMMANDS:
        command = cli.get_command(ctx, name)
        if isinstance(command, LazyGroup):
            groups.append((name, command))
    return groups


def test_registry_short_help_is_the_commands_own() -> None:
    """The table's text must not drift from the docstrings a command's own --help shows."""
    for path, group in _lazy_groups():
        ctx = click.Context(group)
        for name, entry in group.lazy.items():
            command = group.get_command(ctx, name)
            assert command is not None, f"{path} {name}"
            assert entry.short_help == command.get_short_help_str(limit=10**6), f"{path} {name}"


def test_python_dash_m_and_subcommand_help_still_work() -> None:
    proc = subprocess.run([sys.executable, "-m", "mysqlinspect", "binlog", "stats", "--help"], capture_output=True,
                          text=True, cwd=repo_root())
    assert proc.returncode == 0 and "Usage: mysqlinspect binlog stats" in proc.stdout
