"""Run the selected rules on one or many servers; the worst status becomes the exit code."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pymysql

from mysqlinspect.checks.inputs import Snapshot, gather_snapshot
from mysqlinspect.checks.model import (
    Finding,
    Limits,
    Status,
    parse_match_threshold,
    parse_numeric_threshold,
    worst_status,
)
from mysqlinspect.checks.rules import MATCH, RULES, Rule, find_rule
from mysqlinspect.connection.connect import open_connection
from mysqlinspect.connection.settings import ConnectionSettings
from mysqlinspect.errors import AuthError, ConnectError, MysqlInspectError, PrivilegeError, UsageError
from mysqlinspect.exit_codes import ExitCode

MAX_WORKERS = 8


def _resolve(names: Iterable[str], option: str) -> list[Rule]:
    rules = []
    for name in names:
        rule = find_rule(name)
        if rule is None:
            known = ", ".join(r.name for r in RULES)
            raise UsageError(f"{option}: unknown rule {name!r} (known: {known})")
        rules.append(rule)
    return rules


def select_rules(only: Iterable[str] = (), skip: Iterable[str] = ()) -> list[Rule]:
    """All rules, or only the named ones, minus the skipped ones (names or ids), in table order."""
    chosen = {r.rule_id for r in _resolve(only, "--only")} if only else {r.rule_id for r in RULES}
    chosen -= {r.rule_id for r in _resolve(skip, "--skip")}
    return [r for r in RULES if r.rule_id in chosen]


def build_limits(rules: Iterable[Rule], warn: dict[str, str], crit: dict[str, str]) -> dict[str, Limits]:
    """Defaults overridden by `warn`/`crit` (keyed by rule name or id); unknown names are usage errors."""
    by_rule: dict[str, dict[str, str]] = {"warn": {}, "crit": {}}
    for level, given in (("warn", warn), ("crit", crit)):
        for rule in _resolve(given, f"--{level}"):
            key = next(k for k in given if find_rule(k) is rule)
            by_rule[level][rule.rule_id] = given[key]
    limits = {}
    for rule in rules:
        parse = parse_match_threshold if rule.kind == MATCH else parse_numeric_threshold
        limits[rule.rule_id] = Limits(
            warn=parse(by_rule["warn"].get(rule.rule_id, rule.warn)),
            crit=parse(by_rule["crit"].get(rule.rule_id, rule.crit)),
        )
    return limits


def evaluate(snapshot: Snapshot, rules: Iterable[Rule], limits: dict[str, Limits]) -> list[Finding]:
    findings = []
    for rule in rules:
        try:
            findings.append(rule.evaluate(rule, snapshot, limits[rule.rule_id]))
        except MysqlInspectError as exc:
            findings.append(_failed(rule, limits[rule.rule_id], str(exc)))
        except Exception as exc:  # a bug in one rule must not hide the other findings from monitoring
            findings.append(_failed(rule, limits[rule.rule_id], f"internal error: {type(exc).__name__}: {exc}"))
    return findings


def _failed(rule: Rule, limits: Limits, reason: str) -> Finding:
    return Finding(rule.rule_id, rule.name, Status.UNKNOWN, None, rule.unit, rule.op, limits.warn.to_json(),
                   limits.crit.to_json(), f"cannot evaluate: {reason}", rule.hint)


@dataclass
class HostReport:
    """The findings for one server (or why it could not be checked)."""

    name: str
    endpoint: str
    findings: list[Finding] = field(default_factory=list)
    server: dict[str, Any] | None = None
    interval_seconds: float = 0.0
    error: str | None = None

    @property
    def status(self) -> Status:
        return worst_status([f.status for f in self.findings])

    @property
    def exit_code(self) -> ExitCode:
        return self.status.exit_code

    def to_dict(self) -> dict[str, Any]:
        return {
            "host": self.name,
            "endpoint": self.endpoint,
            "status": self.status.value,
            "exit_code": int(self.exit_code),
            "server": self.server,
            "interval_seconds": round(self.interval_seconds, 3),
            "error": self.error,
            "findings": [f.to_dict() for f in self.findings],
        }


def connection_finding(status: Status, message: str) -> Finding:
    return Finding("C0", "connection", status, None, "", None, None, None, message,
                   "Check that the server runs and that the account and its password (option file, login path) "
                   "are right.")


@dataclass(frozen=True)
class CheckPlan:
    rules: list[Rule]
    limits: dict[str, Limits]
    interval: float = 0.0
    unreachable: Status = Status.CRITICAL


def check_connection(name: str, conn: pymysql.connections.Connection, plan: CheckPlan,
                     endpoint: str = "") -> HostReport:
    snapshot = gather_snapshot(conn, plan.interval)
    info = snapshot.server
    return HostReport(
        name=name, endpoint=endpoint, findings=evaluate(snapshot, plan.rules, plan.limits),
        server={"flavor": info.flavor, "version": info.version_string}, interval_seconds=snapshot.elapsed_seconds,
    )


def check_host(name: str, settings: ConnectionSettings, plan: CheckPlan) -> HostReport:
    """Connect, gather, evaluate; connection and authentication failures become a `connection` finding."""
    endpoint = settings.endpoint
    try:
        conn = open_connection(settings, read_only=True)
    except UsageError:
        raise  # a bad setting (e.g. an unreadable --ssl-ca) is the caller's mistake, not the server's state
    except (AuthError, PrivilegeError) as exc:
        return HostReport(name, endpoint, [connection_finding(Status.UNKNOWN, str(exc))], error=str(exc))
    except (ConnectError, MysqlInspectError) as exc:
        return HostReport(name, endpoint, [connection_finding(plan.unreachable, str(exc))], error=str(exc))
    try:
        return check_connection(name, conn, plan, endpoint)
    except ConnectError as exc:
        return HostReport(name, endpoint, [connection_finding(plan.unreachable, str(exc))], error=str(exc))
    except MysqlInspectError as exc:
        return HostReport(name, endpoint, [connection_finding(Status.UNKNOWN, f"reading the server failed: {exc}")],
                          error=str(exc))
    finally:
        try:
            conn.close()
        except pymysql.err.Error:
            pass


def check_hosts(targets: list[tuple[str, ConnectionSettings]], plan: CheckPlan,
                checker: Callable[[str, ConnectionSettings, CheckPlan], HostReport] = check_host) -> list[HostReport]:
    """Check every server concurrently (threads), keeping the order of `targets`."""
    if len(targets) == 1:
        return [checker(targets[0][0], targets[0][1], plan)]
    with ThreadPoolExecutor(max_workers=min(MAX_WORKERS, len(targets))) as pool:
        futures = [pool.submit(checker, name, settings, plan) for name, settings in targets]
        return [f.result() for f in futures]


def overall_status(reports: Iterable[HostReport]) -> Status:
    return worst_status([r.status for r in reports])
