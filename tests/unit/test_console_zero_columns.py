"""`COLUMNS=0` (what some containers and CI shells export when they have no terminal size) is no width at all:
rich printed nothing (exit 0, output gone). It counts as unset."""

from __future__ import annotations

import io
import sys

import pytest
from rich.table import Table

from mysqlinspect.render.console import make_consoles


def test_columns_zero_is_treated_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "0")
    buffer = io.StringIO()  # not a terminal
    monkeypatch.setattr(sys, "stdout", buffer)
    out, _err = make_consoles(no_color=True)
    table = Table("file", "start LSN")
    table.add_row("ib_logfile0", "12,288")
    out.print(table)
    out.print("a line of text")
    text = buffer.getvalue()
    assert "ib_logfile0" in text and "12,288" in text and "a line of text" in text
