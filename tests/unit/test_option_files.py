"""Option-file parsing: groups, quoting, escapes, comments, !include/!includedir, errors naming file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from mysqlinspect.connection.option_files import parse_option_text, read_option_file
from mysqlinspect.errors import OptionFileError, UsageError
from mysqlinspect.exit_codes import ExitCode


def test_groups_keys_and_values() -> None:
    parsed = parse_option_text(
        "# comment\n; other comment\n[client]\nhost = db1\nport=3307\nssl_mode = REQUIRED\n"
        "[mysqlinspect]\nuser='ops user'\npassword=\"p#w\"\nnote=value # trailing comment\nflag\n",
        "my.cnf",
    )
    client = parsed.group("client")
    assert client["host"].value == "db1"
    assert client["port"].value == "3307"
    assert client["ssl-mode"].value == "REQUIRED"  # _ and - are the same
    mine = parsed.group("mysqlinspect")
    assert mine["user"].value == "ops user"
    assert mine["password"].value == "p#w"  # quoted: # is part of the value
    assert mine["note"].value == "value"
    assert mine["flag"].value is None
    assert mine["user"].line == 8


def test_quoted_value_with_trailing_comment() -> None:
    """Regression: `password = "p#w"  # comment` kept the quotes (the comment was not stripped before unquoting)."""
    parsed = parse_option_text('[client]\npassword = "p#w"  # the password\nuser=\'bob\' #c\n', "x.cnf")
    assert parsed.group("client")["password"].value == "p#w"
    assert parsed.group("client")["user"].value == "bob"


def test_escapes() -> None:
    parsed = parse_option_text("[client]\npassword=a\\sb\\\\c\\td\n", "x.cnf")
    assert parsed.group("client")["password"].value == "a b\\c\td"


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("host=x\n", 1, "option without preceding group"),
        ("[client]\nhost=x\n[broken\n", 3, "wrong group definition"),
        ("[client]\n!frobnicate x\n", 2, "unknown directive"),
        ("[client]\nbad key = 1\n", 2, "cannot parse option"),
    ],
)
def test_malformed_lines_name_file_and_line(text: str, line: int, reason: str) -> None:
    with pytest.raises(OptionFileError) as info:
        parse_option_text(text, "/etc/x.cnf")
    assert str(info.value).startswith(f"/etc/x.cnf:{line}: {reason}")
    assert info.value.exit_code == ExitCode.USAGE
    assert isinstance(info.value, UsageError)


def test_include_and_includedir(tmp_path: Path) -> None:
    conf_d = tmp_path / "conf.d"
    conf_d.mkdir()
    (conf_d / "a.cnf").write_text("[client]\nuser=from_dir\n")
    (conf_d / "ignored.txt").write_text("[client]\nuser=never\n")
    (tmp_path / "extra.cnf").write_text("[client]\nport=4000\n")
    main = tmp_path / "my.cnf"
    main.write_text(f"[client]\nhost=h\n!include {tmp_path / 'extra.cnf'}\n!includedir {conf_d}\n")
    parsed = read_option_file(main)
    assert parsed is not None
    client = parsed.group("client")
    assert client["host"].value == "h"
    assert client["port"].value == "4000"
    assert client["user"].value == "from_dir"
    assert client["user"].path == str(conf_d / "a.cnf")


def test_missing_files(tmp_path: Path) -> None:
    assert read_option_file(tmp_path / "nope.cnf") is None
    with pytest.raises(OptionFileError, match="file not found"):
        read_option_file(tmp_path / "nope.cnf", required=True)
