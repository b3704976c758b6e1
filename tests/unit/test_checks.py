"""Pure tests of the check model, rules, configuration, hosts files and renderers (no server)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mysqlinspect.checks.config import load_config, parse_assignments, parse_config
from mysqlinspect.checks.hosts import load_hosts, parse_host_line
from mysqlinspect.checks.inputs import (
    DeprecatedSetting,
    NotApplicable,
    OldestTransaction,
    Snapshot,
    Sourced,
    Unavailable,
    UndoFacts,
)
from mysqlinspect.checks.model import (
    Finding,
    Limits,
    Status,
    parse_match_threshold,
    parse_numeric_threshold,
    worst_status,
)
from mysqlinspect.checks.rules import RULES, find_rule
from mysqlinspect.checks.runner import HostReport, build_limits, evaluate, select_rules
from mysqlinspect.collectors.redo import RedoStatus
from mysqlinspect.collectors.tablespace_model import Tablespace, TablespaceReport
from mysqlinspect.connection.server import ServerInfo
from mysqlinspect.errors import InputNotFoundError, UsageError
from mysqlinspect.exit_codes import ExitCode
from mysqlinspect.render.server.check import check_json, nagios_line, perfdata, prometheus_text


def server(flavor: str = "mysql", **variables: str) -> ServerInfo:
    base = {"log_bin": "ON", "binlog_format": "ROW", "binlog_row_image": "FULL", "sync_binlog": "1",
            "innodb_flush_log_at_trx_commit": "1", "innodb_doublewrite": "ON", "binlog_checksum": "CRC32",
            "binlog_expire_logs_seconds": "2592000", "gtid_mode": "ON", "innodb_log_checksums": "ON"}
    if flavor == "mariadb":
        base.pop("gtid_mode")
        base.pop("innodb_log_checksums")
    base.update(variables)
    return ServerInfo(flavor=flavor, version=(9, 7, 0), version_string="9.7.0", version_comment="", server_id=1,
                      uptime_seconds=100, hostname="h", datadir="/d", variables=base)


def snapshot(info: ServerInfo | None = None, start: dict[str, str] | None = None,
             end: dict[str, str] | None = None, elapsed: float = 0.0, **overrides: Any) -> Snapshot:
    status = {"uptime": "100", "innodb_os_log_written": "1000", "innodb_log_waits": "0", "binlog_cache_use": "10",
              "binlog_cache_disk_use": "0"}
    values: dict[str, Any] = {
        "server": info or server(), "status_start": start or status, "status_end": end or start or status,
        "elapsed_seconds": elapsed, "redo": RedoStatus(capacity_bytes=100 << 20, checkpoint_age_bytes=10 << 20,
                                                       checkpoint_age_pct=10.0, checkpoint_age_pct_of_sync=12.5,
                                                       sync_flush_point_bytes=80 << 20),
        "history_list_length": Sourced(5, "test"), "oldest_transaction": None, "undo": UndoFacts(2, "test"),
        "redo_stalls": {}, "deprecated": [],
        "tablespaces": TablespaceReport(tablespaces=[Tablespace("innodb_system", "system", size_bytes=12 << 20,
                                                                free_bytes=6 << 20)]),
    }
    values.update(overrides)
    return Snapshot(**values)


def run(snap: Snapshot, key: str, warn: dict[str, str] | None = None, crit: dict[str, str] | None = None) -> Finding:
    rule = find_rule(key)
    assert rule is not None
    limits = build_limits([rule], warn or {}, crit or {})
    return evaluate(snap, [rule], limits)[0]


# ---- model -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "number"), [("75", 75.0), ("75%", 75.0), ("0.5", 0.5), ("64M", 64 * 2**20),
                                               ("1g", 2**30), ("never", None), ("", None), ("none", None)])
def test_numeric_thresholds(text: str, number: float | None) -> None:
    assert parse_numeric_threshold(text).number == number


def test_match_thresholds() -> None:
    anything_but_on = parse_match_threshold("!on")
    assert anything_but_on.fires_match("OFF") and not anything_but_on.fires_match("ON")
    listed = parse_match_threshold("0,2")
    assert listed.fires_match("2") and not listed.fires_match("1")
    assert parse_match_threshold("NONE").fires_match("none")  # NONE is a value (binlog_checksum), not "disabled"
    assert parse_match_threshold("never").disabled and parse_match_threshold("-").disabled


@pytest.mark.parametrize("text", ["abc", "7x"])
def test_bad_numeric_threshold_is_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError):
        parse_numeric_threshold(text)


def test_limits_classify_critical_before_warning() -> None:
    limits = Limits(parse_numeric_threshold("75"), parse_numeric_threshold("85"))
    assert limits.classify_numeric(80, ">=") is Status.WARNING
    assert limits.classify_numeric(85, ">=") is Status.CRITICAL
    assert limits.classify_numeric(10, ">=") is Status.OK
    lower = Limits(parse_numeric_threshold("60"), parse_numeric_threshold("15"))
    assert lower.classify_numeric(10, "<") is Status.CRITICAL and lower.classify_numeric(30, "<") is Status.WARNING


def test_worst_status_follows_the_nagios_order_and_maps_to_exit_codes() -> None:
    assert worst_status([Status.OK, Status.UNKNOWN]) is Status.UNKNOWN
    assert worst_status([Status.UNKNOWN, Status.WARNING]) is Status.WARNING
    assert worst_status([Status.WARNING, Status.CRITICAL, Status.UNKNOWN]) is Status.CRITICAL
    assert worst_status([]) is Status.OK
    assert [s.exit_code for s in Status] == [ExitCode.OK, ExitCode.WARNING, ExitCode.CRITICAL, ExitCode.UNKNOWN]


# ---- selection and overrides ---------------------------------------------------------------------------------
def test_rules_are_unique_and_found_by_name_or_id() -> None:
    assert len({r.name for r in RULES}) == len({r.rule_id for r in RULES}) == len(RULES)
    assert find_rule("R1") is find_rule("checkpoint-age") is find_rule("CHECKPOINT_AGE")
    assert [r.rule_id for r in select_rules(["R9", "binlog"])] == ["R9", "R10"]
    assert "R9" not in [r.rule_id for r in select_rules(skip=["doublewrite"])]
    with pytest.raises(UsageError, match="unknown rule"):
        select_rules(["nope"])


def test_overrides_by_name_or_id() -> None:
    rules = select_rules(["R1", "R7"])
    limits = build_limits(rules, {"R1": "70"}, {"flush_log_at_trx_commit": "0,2"})
    assert limits["R1"].warn.number == 70 and limits["R1"].crit.number == 85
    assert limits["R7"].crit.values == frozenset({"0", "2"})
    with pytest.raises(UsageError):
        build_limits(rules, {"bogus": "1"}, {})


def test_assignments_need_name_equals_value() -> None:
    assert parse_assignments(["a=1", "b="], "--warn") == {"a": "1", "b": ""}
    with pytest.raises(UsageError):
        parse_assignments(["a"], "--warn")


def test_toml_config(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('interval = 2\nskip = ["gtid"]\n[rules.checkpoint_age]\nwarn = 70\ncrit = "90%"\n'
                    '[rules.R18]\nenabled = false\n')
    config = load_config(str(path))
    assert config.interval == 2 and config.warn == {"checkpoint_age": "70"} and config.crit == {"checkpoint_age": "90%"}
    assert config.skip == ["gtid", "R18"]
    with pytest.raises(UsageError, match="unknown key"):
        parse_config({"thresholds": {}}, "x")
    with pytest.raises(UsageError):
        parse_config({"rules": {"checkpoint_age": {"warn": True}}}, "x")
    with pytest.raises(InputNotFoundError):
        load_config(str(tmp_path / "missing.toml"))


# ---- hosts files -----------------------------------------------------------------------------------------------
def test_plain_host_lines() -> None:
    assert parse_host_line("db1", "f").options == {"host": "db1"}
    assert parse_host_line("mon@db2:3307", "f").options == {"host": "db2", "port": 3307, "user": "mon"}
    assert parse_host_line("[2001:db8::5]:3306", "f").options == {"host": "2001:db8::5", "port": 3306}
    assert parse_host_line("/run/mysqld/mysqld.sock", "f").options == {"socket": "/run/mysqld/mysqld.sock",
                                                                       "host": "localhost"}
    with pytest.raises(UsageError):
        parse_host_line("db1:port", "f")


def test_hosts_files(tmp_path: Path) -> None:
    plain = tmp_path / "hosts"
    plain.write_text("# comment\n\ndb1:3306  # first\ndb2\n")
    assert [h.name for h in load_hosts(str(plain))] == ["db1:3306", "db2"]
    toml = tmp_path / "hosts.toml"
    toml.write_text('[[hosts]]\nname = "a"\nhost = "db1"\nlogin_path = "a"\nssl_mode = "required"\n'
                    '[[hosts]]\nsocket = "/s.sock"\n')
    hosts = load_hosts(str(toml))
    assert hosts[0].options == {"host": "db1", "login_path": "a", "ssl_mode": "REQUIRED"}
    assert hosts[1].name == "/s.sock"
    toml.write_text('[[hosts]]\nhost = "db1"\nport = "x"\n')
    with pytest.raises(UsageError, match="port must be"):
        load_hosts(str(toml))
    plain.write_text("db1\ndb1\n")
    with pytest.raises(UsageError, match="duplicate"):
        load_hosts(str(plain))


# ---- rules on synthetic snapshots --------------------------------------------------------------------------------
def test_healthy_server_is_ok_everywhere() -> None:
    findings = evaluate(snapshot(), RULES, build_limits(RULES, {}, {}))
    assert {f.name: f.status for f in findings if f.status is not Status.OK} == {}


def test_checkpoint_age_and_unknown_when_lsns_are_missing() -> None:
    redo = RedoStatus(capacity_bytes=100, checkpoint_age_bytes=80, checkpoint_age_pct=80.0)
    assert run(snapshot(redo=redo), "R1").status is Status.WARNING
    missing = RedoStatus(capacity_bytes=100, missing_grants=["PROCESS"])
    finding = run(snapshot(redo=missing), "R1")
    assert finding.status is Status.UNKNOWN and finding.grant == "PROCESS privilege"
    assert "PROCESS privilege" in finding.message


def test_redo_capacity_minutes_uses_two_samples() -> None:
    start = {"uptime": "100", "innodb_os_log_written": "0"}
    end = {"uptime": "110", "innodb_os_log_written": str(10 << 20)}  # 1 MiB/s for 10 s
    snap = snapshot(start=start, end=end, elapsed=10.0, redo=RedoStatus(capacity_bytes=600 << 20))
    finding = run(snap, "redo_capacity_minutes")
    assert finding.value == 10.0 and finding.status is Status.CRITICAL
    assert "two samples" in (finding.source or "")
    since_start = {"uptime": "7200", "innodb_os_log_written": str(720 << 20)}  # 0.1 MiB/s for two hours
    lifetime = run(snapshot(start=since_start, redo=RedoStatus(capacity_bytes=600 << 20)), "R2")
    assert lifetime.value == pytest.approx(100.0) and "start-up" in (lifetime.source or "")


def test_redo_capacity_minutes_does_not_judge_a_short_average_since_start_up() -> None:
    """Regression (issue 13): right after `make demo` (up 10 s, 3 s of load) R2 was CRITICAL at 3.9 min."""
    fresh = {"uptime": "10", "innodb_os_log_written": str(10 << 20)}
    finding = run(snapshot(start=fresh, redo=RedoStatus(capacity_bytes=100 << 20)), "R2")
    assert finding.status is Status.OK and finding.value is None and "--interval" in finding.message
    sampled = run(snapshot(start=fresh, end={"uptime": "12", "innodb_os_log_written": str(30 << 20)}, elapsed=2.0,
                           redo=RedoStatus(capacity_bytes=100 << 20)), "R2")
    assert sampled.status is Status.CRITICAL and sampled.value == 0.2


def test_deprecated_settings_message_says_setting_them_is_deprecated() -> None:
    deprecated = [DeprecatedSetting("binlog_format", "'--binlog-format' is deprecated")]
    finding = run(snapshot(deprecated=deprecated), "R19")
    assert finding.status is Status.WARNING
    assert "binlog_format (setting them is deprecated, whatever the value" in finding.message


def test_binlog_rules() -> None:
    off = snapshot(server(log_bin="OFF"))
    assert run(off, "binlog").status is Status.WARNING
    for key in ("sync_binlog", "binlog_format", "binlog_retention", "binlog_cache_spills", "binlog_checksum"):
        finding = run(off, key)
        assert finding.status is Status.OK and not finding.applicable
    assert run(snapshot(server(binlog_expire_logs_seconds="0")), "R12").status is Status.OK
    assert run(snapshot(server(binlog_expire_logs_seconds="0", expire_logs_days="3")), "R12").value == 3 * 86400
    assert run(snapshot(server(binlog_checksum="NONE")), "R13a").status is Status.WARNING
    spills = {"uptime": "1", "binlog_cache_use": "100", "binlog_cache_disk_use": "7"}
    assert run(snapshot(start=spills), "R14").status is Status.WARNING
    none_used = {"uptime": "1", "binlog_cache_use": "0", "binlog_cache_disk_use": "0"}
    assert run(snapshot(start=none_used), "R14").value is None


def test_doublewrite_and_flush_policy() -> None:
    assert run(snapshot(server(innodb_doublewrite="DETECT_ONLY")), "R9").status is Status.WARNING
    assert run(snapshot(server(innodb_doublewrite="0")), "R9").status is Status.CRITICAL
    assert run(snapshot(server(innodb_doublewrite="OFF")), "R9", crit={"R9": "never"}).status is Status.OK
    assert run(snapshot(server(innodb_flush_log_at_trx_commit="2")), "R7").status is Status.WARNING
    assert run(snapshot(server(innodb_flush_log_at_trx_commit="2")), "R7",
               crit={"R7": "0,2"}).status is Status.CRITICAL
    assert run(snapshot(server("mariadb", innodb_flush_log_at_trx_commit="3")), "R7").status is Status.OK


def test_undo_transactions_gtid_and_deprecated() -> None:
    trx = OldestTransaction("42", 7, 120, 3, "RUNNING")
    assert run(snapshot(oldest_transaction=trx), "R16").status is Status.WARNING
    unavailable = Unavailable("INNODB_TRX: access denied", grant="PROCESS privilege")
    finding = run(snapshot(oldest_transaction=unavailable), "R16")
    assert finding.status is Status.UNKNOWN and "grant PROCESS privilege" in finding.message
    assert run(snapshot(undo=UndoFacts(0, "v")), "R17").status is Status.WARNING
    assert not run(snapshot(undo=NotApplicable("none")), "R17").applicable
    assert run(snapshot(server(gtid_mode="OFF_PERMISSIVE")), "R18").status is Status.WARNING
    assert not run(snapshot(server("mariadb")), "R18").applicable
    assert run(snapshot(history_list_length=Sourced(2_000_000, "s")), "R15").status is Status.CRITICAL


# ---- renderers -------------------------------------------------------------------------------------------------
def _report(name: str = "db1", **variables: str) -> HostReport:
    findings = evaluate(snapshot(server(**variables)), select_rules(["R1", "R9"]),
                        build_limits(RULES, {}, {}))
    return HostReport(name, "db1:3306", findings, {"flavor": "mysql", "version": "9.7.0"})


def test_nagios_line() -> None:
    line = nagios_line([_report(innodb_doublewrite="OFF")])
    assert line == ("MYSQLINSPECT CRITICAL - 1 critical: doublewrite CRITICAL: doublewrite OFF: a torn page write "
                    "after a crash cannot be repaired | 'checkpoint_age'=10%;@75:;@85:;0;100")
    assert nagios_line([_report()]).startswith("MYSQLINSPECT OK - 2 rules OK |")
    multi = nagios_line([_report("a"), _report("b", innodb_doublewrite="OFF")])
    assert "b:doublewrite CRITICAL" in multi and "'a:checkpoint_age'=10%" in multi


def test_perfdata_quotes_labels() -> None:
    finding = _report().findings[0]
    assert perfdata(finding, "it's:") == "'it''s:checkpoint_age'=10%;@75:;@85:;0;100"


def test_prometheus_text_escapes_labels_and_ends_with_newline() -> None:
    text = prometheus_text([_report('we"ird')])
    assert text.endswith("\n")
    assert 'mysqlinspect_check_status{host="we\\"ird",rule="doublewrite",id="R9"} 0' in text
    assert 'mysqlinspect_check_value{host="we\\"ird",rule="checkpoint_age",id="R1",unit="%"} 10.0' in text


def test_check_json_shapes() -> None:
    one = check_json([_report()])
    assert one["status"] == "OK" and one["findings"][0]["thresholds"] == {"op": ">=", "warn": 75, "crit": 85}
    many = check_json([_report("a"), _report("b", innodb_doublewrite="OFF")])
    assert many["status"] == "CRITICAL" and many["exit_code"] == 2 and len(many["hosts"]) == 2


def test_a_failing_rule_is_unknown_and_the_others_still_run() -> None:
    def broken(rule: Any, snap: Snapshot, limits: Limits) -> Finding:
        raise ZeroDivisionError("boom")

    good = find_rule("R9")
    assert good is not None
    bad = type(good)("X1", "broken", "t", "numeric", "", ">", "1", "2", "h", broken)
    findings = evaluate(snapshot(), [bad, good], build_limits([good], {}, {}) | {"X1": Limits(
        parse_numeric_threshold("1"), parse_numeric_threshold("2"))})
    assert findings[0].status is Status.UNKNOWN and "ZeroDivisionError" in findings[0].message
    assert findings[1].status is Status.OK


def test_rates_right_after_start_up_do_not_divide_by_zero() -> None:
    fresh = {"uptime": "0", "innodb_os_log_written": "4096", "innodb_log_waits": "0"}
    assert run(snapshot(start=fresh, redo=RedoStatus(capacity_bytes=1 << 30)), "R2").status is Status.OK
    assert run(snapshot(start=fresh), "R3").status is Status.OK


def test_table_rendering_for_several_servers() -> None:
    from rich.console import Console

    from mysqlinspect.render.server.check import render_check_table

    console = Console(record=True, width=160, no_color=True)
    console.print(render_check_table([_report("a"), _report("b", innodb_doublewrite="OFF")]))
    text = console.export_text()
    assert "a (mysql 9.7.0): OK" in text and "b (mysql 9.7.0): CRITICAL" in text
    assert "overall: CRITICAL" in text and "hints:" in text and "doublewrite" in text
