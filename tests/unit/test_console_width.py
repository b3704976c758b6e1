"""`--format table` off a terminal: COLUMNS when set, else as wide as the table needs (issue 13, item 9)."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest
from rich.table import Table

from mysqlinspect.render.console import make_consoles
from tests.servers import repo_root

LONG_NAME = "a_table_name_that_is_much_longer_than_eighty_columns_of_a_pipe_" + "x" * 40
NUMBER = "123,456,789,012"


def _printed(monkeypatch: pytest.MonkeyPatch) -> str:
    buffer = io.StringIO()  # not a terminal
    monkeypatch.setattr(sys, "stdout", buffer)
    out, _err = make_consoles(no_color=True)
    table = Table("table", "rows", "message")
    table.add_row(LONG_NAME, NUMBER, "a message of several words " * 4)
    out.print(table)
    return buffer.getvalue()


def test_without_columns_nothing_folds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    text = _printed(monkeypatch)
    assert LONG_NAME in text and NUMBER in text
    assert len({len(line) for line in text.splitlines()}) == 1  # every line of the table, none wrapped


def test_columns_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    text = _printed(monkeypatch)
    assert max(len(line) for line in text.splitlines()) == 60


def test_a_piped_command_keeps_names_whole() -> None:
    """The real process, stdout a pipe, no COLUMNS: a long help line is not wrapped at 80 by rich."""
    code = ("import sys; from mysqlinspect.render.console import make_consoles; "
            "out, _ = make_consoles(); out.print('x' * 150)")
    env = {"PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=repo_root(), env=env,
                          check=True)
    assert proc.stdout == "x" * 150 + "\n"
