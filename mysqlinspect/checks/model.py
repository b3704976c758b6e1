"""The check model: statuses, thresholds (numbers or value sets) and findings. No I/O, no click, no rich."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from mysqlinspect.errors import UsageError
from mysqlinspect.exit_codes import ExitCode


class Status(StrEnum):
    """A finding's state; the exit code of `check` is the worst one (Nagios convention)."""

    OK = "OK"
    WARNING = "WARNING"
    CRITICAL = "CRITICAL"
    UNKNOWN = "UNKNOWN"

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode[self.value]

    @property
    def severity(self) -> int:
        """Ordering for "worst": CRITICAL > WARNING > UNKNOWN > OK (monitoring-plugins convention)."""
        return _SEVERITY[self]


_SEVERITY = {Status.OK: 0, Status.UNKNOWN: 1, Status.WARNING: 2, Status.CRITICAL: 3}


def worst_status(statuses: list[Status]) -> Status:
    return max(statuses, key=lambda s: s.severity, default=Status.OK)


NUMERIC_OPS = (">", ">=", "<", "<=")


@dataclass(frozen=True)
class Threshold:
    """One level of a rule: a number compared with `op`, or a set of values (`!` in front negates the set).

    `raw` is what the user (or the default table) wrote; an empty threshold never fires.
    """

    raw: str
    number: float | None = None
    values: frozenset[str] = frozenset()
    negate: bool = False

    @property
    def disabled(self) -> bool:
        return self.number is None and not self.values

    def fires_numeric(self, value: float, op: str) -> bool:
        if self.number is None:
            return False
        limit = self.number
        return {">": value > limit, ">=": value >= limit, "<": value < limit, "<=": value <= limit}[op]

    def fires_match(self, value: str) -> bool:
        if not self.values:
            return False
        inside = value.strip().upper() in self.values
        return not inside if self.negate else inside

    def to_json(self) -> Any:
        if self.disabled:
            return None
        if self.number is not None:
            return int(self.number) if self.number.is_integer() else self.number
        return self.raw


def parse_numeric_threshold(text: str) -> Threshold:
    """`75`, `75%`, `1.5`, `64M`/`1G` (binary suffixes), or `never` (also empty, `-`, `none`) to disable."""
    raw = text.strip()
    if raw.lower() in DISABLED or raw.lower() == "none":
        return Threshold(raw="")
    body = raw.rstrip("%").strip()
    multiplier = 1
    suffix = body[-1:].upper()
    if suffix in _SIZE_SUFFIX:
        multiplier, body = _SIZE_SUFFIX[suffix], body[:-1]
    try:
        number = float(body) * multiplier
    except ValueError:
        raise UsageError(f"threshold {text!r} is not a number (examples: 75, 75%, 64M, none)") from None
    return Threshold(raw=raw, number=number)


DISABLED = ("", "-", "never")
_SIZE_SUFFIX = {"K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}


def parse_match_threshold(text: str) -> Threshold:
    """`OFF`, `0,2`, `!ON` (anything but ON), or `never` (also empty or `-`) to disable. Case-insensitive."""
    raw = text.strip()
    if raw.lower() in DISABLED:
        return Threshold(raw="")
    negate = raw.startswith("!")
    body = raw[1:] if negate else raw
    values = frozenset(v.strip().upper() for v in body.split(",") if v.strip())
    if not values:
        raise UsageError(f"threshold {text!r} names no value (examples: OFF, 0,2, !ON, none)")
    return Threshold(raw=raw, values=values, negate=negate)


@dataclass(frozen=True)
class Limits:
    """The effective warning and critical thresholds of one rule."""

    warn: Threshold
    crit: Threshold

    def classify_numeric(self, value: float, op: str) -> Status:
        if self.crit.fires_numeric(value, op):
            return Status.CRITICAL
        if self.warn.fires_numeric(value, op):
            return Status.WARNING
        return Status.OK

    def classify_match(self, value: str) -> Status:
        if self.crit.fires_match(value):
            return Status.CRITICAL
        if self.warn.fires_match(value):
            return Status.WARNING
        return Status.OK


@dataclass
class Finding:
    """The outcome of one rule on one server."""

    rule_id: str
    name: str
    status: Status
    value: Any
    unit: str
    op: str | None
    warn: Any
    crit: Any
    message: str
    hint: str = ""
    applicable: bool = True
    grant: str | None = None
    source: str | None = None
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.rule_id,
            "name": self.name,
            "status": self.status.value,
            "value": self.value,
            "unit": self.unit,
            "thresholds": {"op": self.op, "warn": self.warn, "crit": self.crit},
            "message": self.message,
            "hint": self.hint,
            "applicable": self.applicable,
            "missing_grant": self.grant,
            "source": self.source,
            "evidence": self.evidence,
        }
