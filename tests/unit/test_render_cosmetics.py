"""First-use cosmetics of the table views (issue 13, item 13): each case is what a new user saw."""

from __future__ import annotations

import io

from rich.console import Console, RenderableType

from mysqlinspect.binlog.model import EventRecord, Transaction
from mysqlinspect.binlog.read.stats import BinlogStats, DdlEntry
from mysqlinspect.collectors.durability import DurabilityReport
from mysqlinspect.collectors.rates import Rates, WatchSample
from mysqlinspect.render.binlog.stats import render_binlog_stats
from mysqlinspect.render.binlog.tail import render_transaction
from mysqlinspect.render.console import clip, human_bytes, plural, share
from mysqlinspect.render.server.durability import render_durability
from mysqlinspect.render.server.status import version_comment
from mysqlinspect.render.server.watch import render_watch_sample


def text_of(renderable: RenderableType) -> str:
    buffer = io.StringIO()
    Console(file=buffer, width=250, no_color=True, highlight=False).print(renderable)
    return buffer.getvalue()


def test_version_comment_is_not_double_parenthesised() -> None:
    assert version_comment("(Debian)") == " (Debian)"
    assert version_comment("MySQL Community Server - GPL") == " (MySQL Community Server - GPL)"
    assert version_comment("") == ""


def test_sizes_switch_unit_before_four_digits_and_counts_agree() -> None:
    assert human_bytes(1_039_667) == "1.0 MiB"  # was 1015.3 KiB
    assert human_bytes(999) == "999 B" and human_bytes(1023) == "1.0 KiB" and human_bytes(1536) == "1.5 KiB"
    assert human_bytes(999 * 1024) == "999.0 KiB"
    assert plural(1, "file") == "1 file" and plural(2, "file") == "2 files"


def test_percentage_and_size_round_the_same_way() -> None:
    """83.1 MiB of a 100 MiB capacity was printed as 83.0% (the stored percentage was rounded twice)."""
    capacity = 100 * 1024 * 1024
    sync_point = int(83.0512 * 1024 * 1024)
    assert human_bytes(sync_point) == "83.1 MiB" and share(sync_point, capacity) == "83.1%"
    assert f"{round(100.0 * sync_point / capacity, 2):.1f}%" == "83.0%"  # the old path


def test_redo_status_gauge_and_rows_agree_with_the_sizes() -> None:
    from mysqlinspect.collectors.redo import RedoStatus
    from mysqlinspect.render.redo.status import flush_points_table, lsn_table

    capacity, sync_point, age = 100 << 20, int(83.0512 * (1 << 20)), int(1.0512 * (1 << 20))
    st = RedoStatus(capacity_bytes=capacity, sync_flush_point_bytes=sync_point, sync_flush_point_pct=83.05,
                    checkpoint_age_bytes=age, checkpoint_age_pct=1.05)
    text = text_of(flush_points_table(st)) + text_of(lsn_table(st))
    assert "83.1 MiB" in text and "83.1% of capacity" in text and "83.0%" not in text
    assert "1.1% of capacity" in text and "1.0%" not in text  # the gauge, too


def test_watch_shows_the_checkpoint_age_trend_in_bytes_like_the_other_rates() -> None:
    sample = WatchSample(sample=2, timestamp=0.0, interval_seconds=1.0, current_lsn=1, checkpoint_lsn=1,
                         checkpoint_age_bytes=4 << 20, checkpoint_age_pct=4.0, capacity_bytes=100 << 20,
                         async_flush_point_bytes=None, sync_flush_point_bytes=None, os_log_written=1 << 20,
                         log_waits=0, dblwr_pages_written=0, dblwr_writes=0, history_list_length=1,
                         oldest_transaction_age_seconds=0, dirty_pages_pct=1.0,
                         rates=Rates(redo_bytes_per_second=20480.0, checkpoint_age_change_per_second=12543.7))
    text = text_of(render_watch_sample(sample))
    assert "▲ +12.2 KiB/s" in text and "12,543.7" not in text and "20.0 KiB/s" in text


def _durability(messages: list[str]) -> DurabilityReport:
    return DurabilityReport(settings=[], binlog_enabled=True, binlog_format="ROW", sync_binlog=1,
                            flush_log_at_trx_commit=1, doublewrite_mode="ON", log_checksums=True,
                            binlog_checksum="CRC32", gtid_mode="ON",
                            two_phase_commit="on: each InnoDB transaction is prepared in the redo log",
                            prepared_xa_transactions=0, startup_recovery_messages=messages, scenarios=[],
                            verdict="safe")


def test_durability_two_phase_commit_row_has_a_value_and_normal_start_up_is_not_crash_recovery() -> None:
    every_start = [f"2026-12-02 15:14:24.763257 MY-013911 Crash recovery finished in {engine} engine. No attempts "
                   "to commit, rollback or prepare any transactions." for engine in ("binlog", "InnoDB")]
    normal = text_of(render_durability(_durability(every_start)))
    row = next(line for line in normal.splitlines() if "two-phase commit" in line)
    assert row.split()[2] == "on" and "prepared in the redo log" in row
    assert "Crash-recovery messages" not in normal and "a normal start" in normal
    crashed = text_of(render_durability(_durability([*every_start,
                                                     "2026-12-02 10:00:00 MY-013086 Starting crash recovery..."])))
    assert "Crash-recovery messages since startup" in crashed


def test_tail_view_names_the_ddl_schema_the_json_knows() -> None:
    ddl = EventRecord("binlog.000001", 100, 200, 0, 1, "QueryEvent", schema=None, op="ddl",
                      query="ALTER TABLE shop.orders ADD COLUMN note TEXT")
    txn = Transaction(1, "binlog.000001", 100, 200, "binlog.000001", 0, 1, None, None, events=[ddl])
    text = text_of(render_transaction(txn))
    assert "DDL [shop] ALTER TABLE shop.orders" in text and "[-]" not in text


def test_ddl_timeline_marks_a_cut_statement() -> None:
    query = "CREATE TABLE t (" + ", ".join(f"c{i} INT" for i in range(60)) + ")"
    stats = BinlogStats(fast_path=True, range={}, ddl=[DdlEntry("binlog.000001", 4, 0, None, "db", "t", query)])
    text = text_of(render_binlog_stats(stats))
    line = next(line for line in text.splitlines() if "CREATE TABLE t" in line)
    assert line.rstrip(" │").endswith("…") and clip(query).endswith("…") and len(clip(query)) == 120


def test_thread_ids_are_identifiers_not_counts() -> None:
    """A thread id of 1564 must read 1564 (a DBA copies it into KILL), not 1,564."""
    from mysqlinspect.collectors.undo import ActiveTransaction, UndoStatus
    from mysqlinspect.render.innodb.undo import transactions_table

    trx = ActiveTransaction(trx_id="421", state="RUNNING", started="", age_seconds=3, thread_id=1564, user="root",
                            host="localhost", rows_modified=1, rows_locked=1, undo_records=1, isolation_level=None,
                            statement=None)
    out = text_of(transactions_table(UndoStatus(oldest_transactions=[trx])))
    assert "1564" in out and "1,564" not in out
