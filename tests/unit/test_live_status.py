"""Pure parts of the live status commands: flush-point formulas, durability conclusions, rates, SEIS parsing."""

from __future__ import annotations

import itertools

import pytest
from rich.console import Console

from mysqlinspect.collectors import redo_limits
from mysqlinspect.collectors.durability_rules import DurabilityInputs, assess, overall_verdict
from mysqlinspect.collectors.rates import WatchSample, compute_rates, seconds_to_sync_point
from mysqlinspect.collectors.redo import RedoStatus, explain_flush_policy
from mysqlinspect.collectors.undo import parse_purge_progress, parse_undo_entries
from mysqlinspect.render.redo.status import age_bar, render_redo_status
from mysqlinspect.render.server.watch import render_watch_sample

MIB = 1024 * 1024


def test_mysql_8030_flush_points_match_the_server() -> None:
    # INNODB_METRICS log_max_modified_age_async/_sync read from MySQL 9.7 with the default 100 MiB capacity.
    points = redo_limits.mysql_8030_points(100 * MIB)
    assert (points.async_bytes, points.sync_bytes) == (81281024, 87086592)
    assert points.async_bytes < points.sync_bytes < points.hard_limit_bytes < 100 * MIB  # type: ignore[operator]


def test_mariadb_flush_points_match_the_server() -> None:
    # MariaDB 10.11, innodb_log_file_size=48M: Innodb_checkpoint_max_age=40050893, async metric 35044532.
    max_age = redo_limits.mariadb_max_checkpoint_age(48 * MIB)
    assert max_age == 40050893
    points = redo_limits.mariadb_points(max_age)
    assert (points.async_bytes, points.sync_bytes) == (35044532, 40050893)


@pytest.mark.parametrize("fn", [redo_limits.mysql_80_points, redo_limits.mysql_57_points])
def test_older_formulas_keep_async_below_sync(fn: object) -> None:
    points = fn(48 * MIB, 2)  # type: ignore[operator]
    assert 0.7 < points.async_bytes / (96 * MIB) < points.sync_bytes / (96 * MIB) < 0.9


def inputs(**kw: object) -> DurabilityInputs:
    base: dict[str, object] = {"binlog_enabled": True, "sync_binlog": 1, "flush_log_at_trx_commit": 1}
    base.update(kw)
    return DurabilityInputs(**base)  # type: ignore[arg-type]


def verdicts(i: DurabilityInputs) -> dict[str, str]:
    return {s.name: s.verdict for s in assess(i)}


def test_fully_durable_settings_are_safe() -> None:
    scenarios = assess(inputs(gtid_mode="ON"))
    assert {s.name: s.verdict for s in scenarios} == {"mysqld_crash": "safe", "os_crash": "safe", "torn_page": "safe"}
    assert overall_verdict(scenarios) == "safe"


@pytest.mark.parametrize(("flush", "sync", "mysqld", "os_crash"), [
    (1, 1, "safe", "safe"),
    (2, 1, "safe", "loss"),
    (0, 1, "loss", "loss"),
    (1, 0, "safe", "loss"),
    (1, 100, "safe", "loss"),
    (3, 1, "safe", "safe"),
])
def test_flush_and_sync_binlog_decide_crash_losses(flush: int, sync: int, mysqld: str, os_crash: str) -> None:
    v = verdicts(inputs(flush_log_at_trx_commit=flush, sync_binlog=sync, gtid_mode="ON"))
    assert (v["mysqld_crash"], v["os_crash"]) == (mysqld, os_crash)


def test_divergence_direction_is_named() -> None:
    engine_ahead = assess(inputs(sync_binlog=0))[1]
    assert any("engine keeps committed transactions that the binary log lost" in c.what
               for c in engine_ahead.consequences)
    binlog_ahead = assess(inputs(flush_log_at_trx_commit=2))[1]
    assert any("binary log keeps transactions the engine lost" in c.what and c.setting ==
               "innodb_flush_log_at_trx_commit=2" for c in binlog_ahead.consequences)


def test_without_binlog_no_binlog_conclusions() -> None:
    scenarios = assess(inputs(binlog_enabled=False, sync_binlog=0, binlog_checksum="NONE"))
    texts = [c.what for s in scenarios for c in s.consequences]
    assert not any("binary log can lose" in t for t in texts)
    assert any(c.setting == "log_bin=OFF" and c.severity == "info" for c in scenarios[0].consequences)


@pytest.mark.parametrize(("mode", "atomic", "verdict"), [
    ("ON", None, "safe"), ("DETECT_AND_RECOVER", None, "safe"), ("FAST", None, "safe"),
    ("DETECT_ONLY", None, "loss"), ("OFF", None, "loss"), ("OFF", True, "risk"),
])
def test_torn_page_follows_doublewrite(mode: str, atomic: bool | None, verdict: str) -> None:
    assert verdicts(inputs(doublewrite_mode=mode, atomic_writes=atomic))["torn_page"] == verdict


def test_every_combination_names_a_setting_for_each_loss() -> None:
    for flush, sync, mode in itertools.product((0, 1, 2), (0, 1, 7), ("ON", "OFF", "DETECT_ONLY")):
        for scenario in assess(inputs(flush_log_at_trx_commit=flush, sync_binlog=sync, doublewrite_mode=mode)):
            for c in scenario.consequences:
                if c.severity in ("loss", "risk"):
                    assert c.setting, (flush, sync, mode, c)


def test_flush_policy_explanations() -> None:
    assert explain_flush_policy(1, 1).os_crash_loss.startswith("nothing")
    two = explain_flush_policy(2, 3)
    assert two.mysqld_crash_loss.startswith("nothing") and "~3s" in two.os_crash_loss
    assert "~1s" in explain_flush_policy(0, 1).mysqld_crash_loss
    assert explain_flush_policy(None, None).summary == "unknown setting"


def sample(n: int, ts: float, lsn: int, age: int, hll: int, waits: int = 0) -> WatchSample:
    return WatchSample(sample=n, timestamp=ts, interval_seconds=None, current_lsn=lsn, checkpoint_lsn=lsn - age,
                       checkpoint_age_bytes=age, checkpoint_age_pct=100 * age / (100 * MIB), capacity_bytes=100 * MIB,
                       async_flush_point_bytes=81281024, sync_flush_point_bytes=87086592, os_log_written=lsn,
                       log_waits=waits, dblwr_pages_written=10 * n, dblwr_writes=n, history_list_length=hll,
                       oldest_transaction_age_seconds=3, dirty_pages_pct=1.0)


def test_rates_between_samples() -> None:
    first = compute_rates(None, sample(1, 100.0, 1000, 500, 10))
    assert first.rates.redo_bytes_per_second is None and first.interval_seconds is None
    second = compute_rates(first, sample(2, 102.0, 5000, 1500, 30, waits=4))
    r = second.rates
    assert second.interval_seconds == 2.0
    assert (r.redo_bytes_per_second, r.checkpoint_age_change_per_second) == (2000.0, 500.0)
    assert (r.log_waits_per_second, r.dblwr_pages_per_second, r.history_list_length_change_per_second) == (
        2.0, 5.0, 10.0)
    assert seconds_to_sync_point(second) == round((87086592 - 1500) / 500.0, 1)
    shrinking = compute_rates(second, sample(3, 103.0, 6000, 100, 5))
    assert seconds_to_sync_point(shrinking) is None


SEIS_TRANSACTIONS = """
------------
TRANSACTIONS
------------
Trx id counter 3120
Purge done for trx's n:o < 3100 undo n:o < 0 state: running but idle
History list length 42
LIST OF TRANSACTIONS FOR EACH SESSION:
---TRANSACTION 421, not started
0 lock struct(s), heap size 1128, 0 row lock(s)
---TRANSACTION 3105, ACTIVE 12 sec
2 lock struct(s), heap size 1128, 1 row lock(s), undo log entries 7
MySQL thread id 31, OS thread handle 1400, query id 88 localhost root
---TRANSACTION (0x7f00ab), ACTIVE 3 sec
1 lock struct(s), heap size 1128, 0 row lock(s), undo log entries 1
MariaDB thread id 9, OS thread handle 1401, query id 12 localhost root
--------
FILE I/O
--------
"""


def test_parse_transactions_section() -> None:
    assert parse_undo_entries(SEIS_TRANSACTIONS) == {31: 7, 9: 1}
    assert parse_purge_progress(SEIS_TRANSACTIONS) == (3120, 3100, "running but idle")
    assert parse_purge_progress("") == (None, None, None)


def render_text(renderable: object) -> str:
    console = Console(record=True, width=160, no_color=True)
    console.print(renderable)
    return console.export_text()


def test_age_bar_marks_flush_points() -> None:
    text = age_bar(50.0, 77.5, 83.0, width=20).plain
    assert text.count("█") == 10 and "a" in text and "s" in text and "50.0%" in text
    assert age_bar(None, None, None).plain == "-"


def test_renderers_show_missing_values_as_dashes() -> None:
    text = render_text(render_redo_status(RedoStatus(notes=["engine status unavailable: needs PROCESS"])))
    assert "checkpoint age" in text and "needs PROCESS" in text
    watch_text = render_text(render_watch_sample(sample(1, 100.0, 1000, 500, 10), "mysql 9.7"))
    assert "history list length" in watch_text and "sample 1" in watch_text


@pytest.mark.parametrize(("raw", "mode"), [("1", "ON"), ("0", "OFF"), ("detect_only", "DETECT_ONLY"), ("fast", "FAST"),
                                           (None, None)])
def test_doublewrite_modes_normalised(raw: str | None, mode: str | None) -> None:
    from mysqlinspect.collectors.doublewrite import normalise_mode

    assert normalise_mode(raw) == mode


def test_short_source_labels() -> None:
    from mysqlinspect.render.server.live_common import short_source

    assert short_source("SHOW GLOBAL STATUS Innodb_lsn_current") == "status Innodb_lsn_current"
    label = "INFORMATION_SCHEMA.INNODB_METRICS trx_rseg_history_len"
    assert short_source(label) == "I_S.INNODB_METRICS trx_rseg_history_len"
    assert short_source(None) == "-"


def test_doublewrite_file_sizes_only_for_a_server_on_this_host() -> None:
    """Regression: a remote server's dblwr paths were stat()ed here, reporting this machine's files' sizes."""
    import socket

    from mysqlinspect.collectors.doublewrite import runs_on_this_host

    assert runs_on_this_host(socket.gethostname())
    assert runs_on_this_host(socket.gethostname().upper() + ".example.com")
    assert not runs_on_this_host("db-elsewhere-7f3a")
    assert not runs_on_this_host("")
