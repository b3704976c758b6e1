"""The usage-error hint names the command path once (`mysqlinspect --help`, not `mysqlinspect mysqlinspect`)."""

from __future__ import annotations

import pytest

from mysqlinspect.cli import cli, run
from mysqlinspect.exit_codes import ExitCode


@pytest.mark.parametrize(("argv", "hint"), [
    (["nosuch"], "(try 'mysqlinspect --help')"),
    (["--nosuch"], "(try 'mysqlinspect --help')"),
    (["binlog", "nosuch"], "(try 'mysqlinspect binlog --help')"),
    (["redo", "files", "--nosuch"], "(try 'mysqlinspect redo files --help')"),
])
def test_usage_hint_names_the_command_once(argv: list[str], hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(cli, argv, "mysqlinspect") == ExitCode.USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.rstrip().endswith(hint), err
