"""Layering and CLI surface: the engine imports no click/rich; every command has help and is documented."""

from __future__ import annotations

import ast
import pkgutil
import re
import subprocess
import sys

import click
import pytest

import mysqlinspect
from mysqlinspect.cli import cli
from mysqlinspect.exit_codes import ExitCode
from tests.servers import repo_root

ENGINE_PACKAGES = ("connection", "collectors", "redo", "binlog", "checks", "sandbox", "innodb", "recovery")


def engine_modules() -> list[str]:
    names = ["mysqlinspect.exit_codes", "mysqlinspect.errors"]
    for info in pkgutil.walk_packages(mysqlinspect.__path__, "mysqlinspect."):
        if info.name.split(".")[1] in ENGINE_PACKAGES:
            names.append(info.name)
    return names


def test_engine_never_imports_click_or_rich() -> None:
    code = (
        "import sys, importlib\n"
        "sys.modules['click'] = None\nsys.modules['rich'] = None\n"
        f"for name in {engine_modules()!r}:\n"
        "    importlib.import_module(name)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=repo_root())
    assert proc.returncode == 0, proc.stderr


BINLOG_LAYERS = ("source", "decode", "read", "replay")  # the flow: each layer imports only from those before it


def binlog_layer(module: str) -> int:
    """-1 for the shared top-level modules (model, position), else the index of the module's sub-package."""
    part = module.split(".")[2]
    return BINLOG_LAYERS.index(part) if part in BINLOG_LAYERS else -1


def binlog_imports() -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    root = repo_root() / "mysqlinspect" / "binlog"
    for path in sorted(root.rglob("*.py")):
        module = ".".join(path.relative_to(repo_root()).with_suffix("").parts)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("mysqlinspect.binlog."):
                pairs.append((module, node.module))
    return pairs


def test_binlog_subpackages_import_only_earlier_steps() -> None:
    assert len(binlog_imports()) > 100
    for module, imported in binlog_imports():
        if module.endswith("__init__"):
            continue
        assert binlog_layer(imported) <= binlog_layer(module), f"{module} imports {imported} (a later step)"


def test_binlog_top_level_holds_only_shared_types() -> None:
    top = {path.stem for path in (repo_root() / "mysqlinspect" / "binlog").glob("*.py")}
    assert top == {"__init__", "model", "position"}
    assert set(BINLOG_LAYERS) <= {path.name for path in (repo_root() / "mysqlinspect" / "binlog").iterdir()}


def all_commands() -> list[tuple[str, click.Command]]:
    out: list[tuple[str, click.Command]] = []

    def walk(group: click.Group, prefix: str) -> None:
        ctx = click.Context(group)
        for name in group.list_commands(ctx):
            cmd = group.get_command(ctx, name)
            assert cmd is not None, name
            path = f"{prefix} {name}".strip()
            out.append((path, cmd))
            if isinstance(cmd, click.Group):
                walk(cmd, path)

    walk(cli, "")
    return out


@pytest.mark.parametrize(("path", "command"), all_commands(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_command_has_help_and_is_documented(path: str, command: click.Command) -> None:
    assert command.help, f"{path} has no help text"
    readme = (repo_root() / "README.md").read_text()
    assert f"mysqlinspect {path}" in readme, f"`mysqlinspect {path}` is not in the README"


@pytest.mark.parametrize(("path", "command"), all_commands(), ids=lambda v: v if isinstance(v, str) else "")
def test_no_duplicate_flags(path: str, command: click.Command) -> None:
    seen: set[str] = set()
    for param in command.params:
        for opt in [*param.opts, *param.secondary_opts]:
            assert opt not in seen, f"{path}: {opt} defined twice"
            seen.add(opt)


def test_leaf_commands_take_format() -> None:
    for path, command in all_commands():
        if isinstance(command, click.Group) or path.startswith("sandbox"):
            continue
        names = {p.name for p in command.params}
        assert "output_format" in names, f"{path} has no --format"


def test_readme_exit_code_table_matches_enum() -> None:
    readme = (repo_root() / "README.md").read_text()
    table = dict(re.findall(r"^\|\s*(\d+)\s*\|\s*`?([A-Z_]+)`?\s*\|", readme, flags=re.M))
    assert {int(k): v for k, v in table.items()} == {code.value: code.name for code in ExitCode}


def test_readme_module_map_is_current() -> None:
    readme = (repo_root() / "README.md").read_text()
    for path in sorted((repo_root() / "mysqlinspect").rglob("*.py")):
        rel = path.relative_to(repo_root()).as_posix()
        if path.name == "__init__.py" and path.stat().st_size < 200:
            continue
        assert rel in readme, f"{rel} is missing from the README module map"
