"""`check` command-line surface that needs no server: the rule list, usage errors, missing files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from mysqlinspect.checks.rules import RULES


def test_list_rules_json(run_cli: Callable[..., Any]) -> None:
    result = run_cli("check", "--list-rules", "--format", "json")
    assert result.exit_code == 0
    rules = result.json()
    assert [r["id"] for r in rules] == [r.rule_id for r in RULES]
    assert rules[0] == {"id": "R1", "name": "checkpoint_age", "title": "checkpoint age % of redo capacity",
                        "kind": "numeric", "unit": "%", "op": ">=", "warn": "75", "crit": "85",
                        "hint": RULES[0].hint}


def test_list_rules_table(run_cli: Callable[..., Any]) -> None:
    result = run_cli("check", "--list-rules", "--format", "table")
    assert result.exit_code == 0 and "history_list_length" in result.stdout


def test_missing_config_file_is_no_input(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    result = run_cli("check", "--config", str(tmp_path / "nope.toml"))
    assert result.exit_code == 66 and "does not exist" in result.stderr


def test_bad_threshold_and_bad_toml_are_usage_errors(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    assert run_cli("check", "--warn", "checkpoint_age=lots").exit_code == 64
    bad = tmp_path / "bad.toml"
    bad.write_text("[rules.checkpoint_age\nwarn = 1\n")
    result = run_cli("check", "--config", str(bad))
    assert result.exit_code == 64 and "not valid TOML" in result.stderr
    assert run_cli("check", "--interval", "-1", "--no-defaults").exit_code == 64


def test_missing_hosts_file_is_no_input(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    result = run_cli("check", "--hosts", str(tmp_path / "hosts.txt"))
    assert result.exit_code == 66


def test_config_and_hosts_files_that_are_not_utf8_are_usage_errors(run_cli: Callable[..., Any],
                                                                   tmp_path: Path) -> None:
    """Regression: a non-UTF-8 --config or --hosts file ended as an internal error (exit 70)."""
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    for option in ("--config", "--hosts"):
        result = run_cli("check", option, str(binary))
        assert result.exit_code == 64, (option, result.stderr)
        assert "is not UTF-8 text" in result.stderr and "Traceback" not in result.stderr
