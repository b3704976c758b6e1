"""Nagios perfdata thresholds read with the monitoring-plugins range semantics (issue 13, item 7).

The evaluator follows the plugin development guidelines, "Threshold and ranges": `10` alerts outside 0..10,
`10:` below 10, `~:10` above 10, `10:20` outside 10..20, `@10:20` inside 10..20 (ends inclusive).
"""

from __future__ import annotations

import math

import pytest

from mysqlinspect.checks.model import Status
from mysqlinspect.checks.rules import NUMERIC, RULES
from mysqlinspect.checks.runner import build_limits
from mysqlinspect.render.server.check import perfdata
from tests.unit.test_checks import run, snapshot


def range_alerts(spec: str, value: float) -> bool:
    """True when `value` raises an alert for the range `spec` (an empty spec never alerts)."""
    if spec == "":
        return False
    inside = spec.startswith("@")
    spec = spec.removeprefix("@")
    if ":" in spec:
        low_text, high_text = spec.split(":", 1)
        low = -math.inf if low_text == "~" else float(low_text or 0)
        high = math.inf if high_text == "" else float(high_text)
    else:
        low, high = 0.0, float(spec)
    within = low <= value <= high
    return within if inside else not within


@pytest.mark.parametrize(("spec", "alerting", "quiet"), [
    ("10", [-1, 11], [0, 10]),
    ("10:", [9.9, -5], [10, 1e9]),
    ("~:10", [10.1], [-1e9, 10]),
    ("10:20", [9, 21], [10, 20]),
    ("@10:20", [10, 20], [9, 21]),
])
def test_the_evaluator_follows_the_guidelines(spec: str, alerting: list[float], quiet: list[float]) -> None:
    assert all(range_alerts(spec, v) for v in alerting)
    assert not any(range_alerts(spec, v) for v in quiet)


def _perf_fields(line: str) -> tuple[float, str, str]:
    value_text, warn, crit, _min, _max = line.split("=", 1)[1].split(";")
    return float(value_text.rstrip("%s")), warn, crit


NUMERIC_RULES = [rule for rule in RULES if rule.kind == NUMERIC]


@pytest.mark.parametrize("rule", NUMERIC_RULES, ids=lambda r: r.name)
def test_perfdata_ranges_alert_exactly_where_the_rule_fires(rule) -> None:  # type: ignore[no-untyped-def]
    limits = build_limits([rule], {}, {})[rule.rule_id]
    finding = run(snapshot(), rule.rule_id)
    finding.value = 1  # any number: the ranges do not depend on it
    _value, warn, crit = _perf_fields(perfdata(finding) or "")
    for threshold, spec in ((limits.warn, warn), (limits.crit, crit)):
        if threshold.number is None:
            assert spec == ""
            continue
        limit = threshold.number
        samples = [0.0, limit / 2, limit * 2 + 1, limit - 0.5, limit + 0.5, limit - 1, limit + 1, limit]
        for value in samples:
            if value < 0:
                continue
            assert range_alerts(spec, value) == threshold.fires_numeric(value, rule.op or ""), (rule.name, spec, value)


def test_low_is_bad_rules_use_lower_bound_ranges() -> None:
    """Regression: `'redo_capacity_minutes'=133.8;60;15;0;` meant "alert above 60"."""
    finding = run(snapshot(), "R2", warn={"R2": "60"}, crit={"R2": "15"})
    finding.value, finding.status = 133.8, Status.OK
    assert perfdata(finding) == "'redo_capacity_minutes'=133.8;60:;15:;0;"


def test_inclusive_limits_alert_at_the_limit() -> None:
    """Regression: `>=` rules wrote `75;85` (alert above 85), so a tablespace at exactly 90% of its maximum, or a
    checkpoint age at exactly the sync flush point, was CRITICAL for `check` and OK for the perfdata ranges."""
    finding = run(snapshot(), "R1b")
    finding.value = 100.0
    line = perfdata(finding) or ""
    _value, warn, crit = _perf_fields(line)
    assert (warn, crit) == ("@80:", "@100:")
    assert range_alerts(crit, 100.0) and not range_alerts(crit, 99.99)
    lows = {rule.name for rule in NUMERIC_RULES if rule.op in ("<", "<=")}
    assert {"redo_capacity_minutes", "binlog_retention", "undo_tablespaces"} <= lows
