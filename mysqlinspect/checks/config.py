"""Threshold overrides: `--warn NAME=VALUE` / `--crit NAME=VALUE` and a TOML file (`--config FILE`).

TOML layout (every key optional):

    interval = 5                 # seconds between the two samples of the rate rules
    only = ["checkpoint_age"]    # rule names or ids
    skip = ["gtid"]

    [rules.checkpoint_age]       # a rule name or id
    warn = 70                    # numbers, or strings such as "75%", "64M", "0,2", "!ON", "none"
    crit = 90
    enabled = false              # same as listing it in skip
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mysqlinspect.errors import InputNotFoundError, UsageError


@dataclass
class CheckConfig:
    """Settings from a TOML file; command-line values are merged over them by the CLI."""

    warn: dict[str, str] = field(default_factory=dict)
    crit: dict[str, str] = field(default_factory=dict)
    only: list[str] = field(default_factory=list)
    skip: list[str] = field(default_factory=list)
    interval: float | None = None


def parse_assignments(items: tuple[str, ...] | list[str], option: str) -> dict[str, str]:
    """`NAME=VALUE` pairs (the value may be empty or `none` to disable a level)."""
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"{option} expects NAME=VALUE (e.g. {option} checkpoint_age=70), got {item!r}")
        out[name.strip()] = value.strip()
    return out


def _text(value: Any, where: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise UsageError(f"{where}: expected a number or a string, got {value!r}")
    return str(value)


def _names(value: Any, where: str) -> list[str]:
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise UsageError(f"{where}: expected a list of rule names")


def parse_config(data: dict[str, Any], origin: str) -> CheckConfig:
    config = CheckConfig()
    unknown = set(data) - {"interval", "only", "skip", "rules"}
    if unknown:
        raise UsageError(f"{origin}: unknown key(s) {', '.join(sorted(unknown))} (known: interval, only, skip, rules)")
    if "interval" in data:
        try:
            config.interval = float(data["interval"])
        except (TypeError, ValueError):
            raise UsageError(f"{origin}: interval must be a number of seconds") from None
    config.only = _names(data.get("only", []), f"{origin}: only")
    config.skip = _names(data.get("skip", []), f"{origin}: skip")
    rules = data.get("rules", {})
    if not isinstance(rules, dict):
        raise UsageError(f"{origin}: [rules] must be a table of [rules.NAME] tables")
    for name, table in rules.items():
        where = f"{origin}: [rules.{name}]"
        if not isinstance(table, dict) or set(table) - {"warn", "crit", "enabled"}:
            raise UsageError(f"{where} may hold only warn, crit and enabled")
        if "warn" in table:
            config.warn[name] = _text(table["warn"], f"{where} warn")
        if "crit" in table:
            config.crit[name] = _text(table["crit"], f"{where} crit")
        if table.get("enabled") is False:
            config.skip.append(name)
    return config


def load_config(path: str) -> CheckConfig:
    file = Path(path)
    if not file.is_file():
        raise InputNotFoundError(f"threshold file {path} does not exist")
    try:
        data = tomllib.loads(read_text_file(file, "threshold file"))
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: not valid TOML: {exc}") from None
    return parse_config(data, path)


def read_text_file(file: Path, what: str) -> str:
    """A user-named UTF-8 text file: unreadable is exit 66, not UTF-8 is a usage error (64), never a traceback."""
    try:
        return file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{what} {file} is not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise InputNotFoundError(f"{what} {file} cannot be read: {exc.strerror or exc}") from None
