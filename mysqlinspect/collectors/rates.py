"""`watch` samples: a few redo, doublewrite and undo figures per sample, and per-second rates between samples."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

from mysqlinspect.collectors.doublewrite import collect_doublewrite_status
from mysqlinspect.collectors.redo import collect_redo_status
from mysqlinspect.collectors.sources import PROCESS, LiveSources
from mysqlinspect.collectors.undo import UndoStatus, read_history_list_length


@dataclass(frozen=True)
class Rates:
    """Per-second changes between two samples (None for the first sample or a missing value)."""

    redo_bytes_per_second: float | None = None
    os_log_written_per_second: float | None = None
    checkpoint_age_change_per_second: float | None = None
    log_waits_per_second: float | None = None
    dblwr_pages_per_second: float | None = None
    dblwr_writes_per_second: float | None = None
    history_list_length_change_per_second: float | None = None


@dataclass(frozen=True)
class WatchSample:
    sample: int
    timestamp: float
    interval_seconds: float | None
    current_lsn: int | None
    checkpoint_lsn: int | None
    checkpoint_age_bytes: int | None
    checkpoint_age_pct: float | None
    capacity_bytes: int | None
    async_flush_point_bytes: int | None
    sync_flush_point_bytes: int | None
    os_log_written: int | None
    log_waits: int | None
    dblwr_pages_written: int | None
    dblwr_writes: int | None
    history_list_length: int | None
    oldest_transaction_age_seconds: int | None
    dirty_pages_pct: float | None
    rates: Rates = field(default_factory=Rates)
    notes: list[str] = field(default_factory=list)


def oldest_transaction_age(src: LiveSources) -> int | None:
    """Seconds since the oldest open InnoDB transaction started (0 when none; None without PROCESS)."""
    rows = src.rows("SELECT COALESCE(MAX(GREATEST(0, TIMESTAMPDIFF(SECOND, trx_started, NOW()))), 0) AS age "
                    "FROM information_schema.INNODB_TRX WHERE trx_mysql_thread_id <> CONNECTION_ID()",
                    "INFORMATION_SCHEMA.INNODB_TRX", PROCESS)
    return None if not rows else int(rows[0]["age"] or 0)


def read_sample(src: LiveSources, number: int = 1) -> WatchSample:
    """One sample; refreshes the cached sources first."""
    src.refresh()
    now = time.time()
    redo = collect_redo_status(src.conn, src.info, src)
    dblwr = collect_doublewrite_status(src.conn, src.info, src)
    undo = UndoStatus()
    read_history_list_length(src, undo)
    dirty = next((t.value for t in redo.flush_triggers if t.unit == "%"), None)
    return WatchSample(
        sample=number, timestamp=round(now, 3), interval_seconds=None,
        current_lsn=redo.current_lsn, checkpoint_lsn=redo.checkpoint_lsn,
        checkpoint_age_bytes=redo.checkpoint_age_bytes, checkpoint_age_pct=redo.checkpoint_age_pct,
        capacity_bytes=redo.capacity_bytes, async_flush_point_bytes=redo.async_flush_point_bytes,
        sync_flush_point_bytes=redo.sync_flush_point_bytes, os_log_written=redo.bytes_written,
        log_waits=redo.log_waits, dblwr_pages_written=dblwr.pages_written, dblwr_writes=dblwr.writes,
        history_list_length=undo.history_list_length, oldest_transaction_age_seconds=oldest_transaction_age(src),
        dirty_pages_pct=dirty,
        notes=list(src.notes),
    )


def _per_second(old: float | None, new: float | None, seconds: float) -> float | None:
    if old is None or new is None or seconds <= 0:
        return None
    return round((new - old) / seconds, 2)


def compute_rates(prev: WatchSample | None, cur: WatchSample) -> WatchSample:
    """`cur` with interval and rates filled in from `prev` (unchanged when there is no previous sample)."""
    if prev is None:
        return cur
    seconds = cur.timestamp - prev.timestamp
    rates = Rates(
        redo_bytes_per_second=_per_second(prev.current_lsn, cur.current_lsn, seconds),
        os_log_written_per_second=_per_second(prev.os_log_written, cur.os_log_written, seconds),
        checkpoint_age_change_per_second=_per_second(prev.checkpoint_age_bytes, cur.checkpoint_age_bytes, seconds),
        log_waits_per_second=_per_second(prev.log_waits, cur.log_waits, seconds),
        dblwr_pages_per_second=_per_second(prev.dblwr_pages_written, cur.dblwr_pages_written, seconds),
        dblwr_writes_per_second=_per_second(prev.dblwr_writes, cur.dblwr_writes, seconds),
        history_list_length_change_per_second=_per_second(prev.history_list_length, cur.history_list_length, seconds),
    )
    return replace(cur, interval_seconds=round(seconds, 3), rates=rates)


def seconds_to_sync_point(sample: WatchSample) -> float | None:
    """At the current trend, seconds until checkpoint age reaches the sync flush point (None if not growing)."""
    trend = sample.rates.checkpoint_age_change_per_second
    if not trend or trend <= 0 or sample.sync_flush_point_bytes is None or sample.checkpoint_age_bytes is None:
        return None
    return round(max(0, sample.sync_flush_point_bytes - sample.checkpoint_age_bytes) / trend, 1)
