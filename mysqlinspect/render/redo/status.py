"""Render `redo status`: capacity and LSNs, checkpoint age against the flush points, files, counters, triggers."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from mysqlinspect.collectors.redo import RedoStatus
from mysqlinspect.render.console import exact_pct, human_bytes, share, show
from mysqlinspect.render.server.live_common import (
    notes_block,
    short_source,
    source_table,
    sources_getter,
    spaced,
    styled,
)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}%"


def _share_or(part: int | None, whole: int | None, rounded: float | None) -> str:
    """The percentage from the bytes shown next to it (the stored one is rounded to 2 digits: 83.05 -> 83.0)."""
    return share(part, whole) if part is not None and whole else _pct(rounded)


def _bytes_and_raw(value: int | None) -> str:
    return "-" if value is None else f"{human_bytes(value)} ({value:,})"


def age_bar(age_pct: float | None, async_pct: float | None, sync_pct: float | None, width: int = 30) -> Text:
    """A one-line gauge of checkpoint age with the async (a) and sync (s) flush points marked."""
    if age_pct is None:
        return Text("-")
    cells = ["·"] * width
    filled = min(width, round(age_pct / 100 * width))
    for i in range(filled):
        cells[i] = "█"
    for mark, at in (("a", async_pct), ("s", sync_pct)):
        if at is not None:
            cells[min(width - 1, round(at / 100 * width))] = mark
    colour = "green"
    if sync_pct is not None and age_pct >= sync_pct:
        colour = "bold red"
    elif async_pct is not None and age_pct >= async_pct:
        colour = "yellow"
    return Text.assemble(("[", "dim"), ("".join(cells), colour), ("]", "dim"), f" {age_pct:.1f}% of capacity")


def lsn_table(st: RedoStatus) -> Table:
    t = source_table("Redo log: capacity and LSNs")
    src = sources_getter(st.sources)
    t.add_row("capacity", _bytes_and_raw(st.capacity_bytes), src("capacity_bytes", "-"))
    if st.configured_capacity_bytes is not None:
        t.add_row("innodb_redo_log_capacity", _bytes_and_raw(st.configured_capacity_bytes),
                  src("configured_capacity_bytes", "-"))
    if st.log_file_size is not None:
        files = f" x {st.log_files_in_group} files" if st.log_files_in_group else ""
        t.add_row("innodb_log_file_size", f"{human_bytes(st.log_file_size)}{files}", src("log_file_size", "-"))
    t.add_row("current LSN", show(st.current_lsn), src("current_lsn", "unavailable"))
    t.add_row("flushed to disk LSN", show(st.flushed_lsn), src("flushed_lsn", "unavailable"))
    t.add_row("checkpoint LSN", show(st.checkpoint_lsn), src("checkpoint_lsn", "unavailable"))
    t.add_row("checkpoint age", f"{_bytes_and_raw(st.checkpoint_age_bytes)}  "
              f"{_share_or(st.checkpoint_age_bytes, st.capacity_bytes, st.checkpoint_age_pct)}",
              src("checkpoint_age_bytes", "-"))
    if st.logical_size_bytes is not None:
        t.add_row("logical size (in use)", _bytes_and_raw(st.logical_size_bytes), src("logical_size_bytes", "-"))
    if st.physical_size_bytes is not None:
        t.add_row("physical size", _bytes_and_raw(st.physical_size_bytes), src("physical_size_bytes", "-"))
    return t


def flush_points_table(st: RedoStatus) -> Table:
    t = source_table("Checkpoint age against the flush points")
    src = sources_getter(st.sources)
    gauge = age_bar(exact_pct(st.checkpoint_age_bytes, st.capacity_bytes, st.checkpoint_age_pct),
                    exact_pct(st.async_flush_point_bytes, st.capacity_bytes, st.async_flush_point_pct),
                    exact_pct(st.sync_flush_point_bytes, st.capacity_bytes, st.sync_flush_point_pct))
    t.add_row("gauge", gauge, "")
    t.add_row("async (adaptive) flushing from",
              f"{_bytes_and_raw(st.async_flush_point_bytes)}  "
              f"{_share_or(st.async_flush_point_bytes, st.capacity_bytes, st.async_flush_point_pct)} of capacity; "
              f"age is at {_pct(st.checkpoint_age_pct_of_async)} of it", src("async_flush_point_bytes", "-"))
    t.add_row("sync flushing (stall) from",
              f"{_bytes_and_raw(st.sync_flush_point_bytes)}  "
              f"{_share_or(st.sync_flush_point_bytes, st.capacity_bytes, st.sync_flush_point_pct)} of capacity; "
              f"age is at {_pct(st.checkpoint_age_pct_of_sync)} of it", src("sync_flush_point_bytes", "-"))
    return t


def counters_table(st: RedoStatus) -> Table:
    t = source_table("Log buffer and writes")
    src = sources_getter(st.sources)
    t.add_row("log buffer size", human_bytes(st.log_buffer_size), src("log_buffer_size", "-"))
    t.add_row("log waits", show(st.log_waits), src("log_waits", "-"))
    t.add_row("write requests / writes", f"{show(st.log_write_requests)} / {show(st.log_writes)}",
              src("log_writes", "-"))
    t.add_row("fsyncs (pending)", f"{show(st.os_log_fsyncs)} ({show(st.os_log_pending_fsyncs)})",
              src("os_log_fsyncs", "-"))
    rate = st.avg_bytes_written_per_second
    t.add_row("bytes written", f"{_bytes_and_raw(st.bytes_written)}; average {human_bytes(rate)}/s"
              if rate is not None else _bytes_and_raw(st.bytes_written), src("bytes_written", "-"))
    t.add_row("redo enabled", show(st.redo_enabled), src("redo_enabled", "not on this server"))
    t.add_row("resize status", show(st.resize_status), src("resize_status", "not on this server"))
    t.add_row("redo checksums", show(st.log_checksums), src("log_checksums", "not on this server"))
    return t


def flush_policy_table(st: RedoStatus) -> Table:
    t = source_table("innodb_flush_log_at_trx_commit")
    policy = st.flush_policy
    if policy is None:
        return t
    t.add_row("setting", f"{show(policy.value)}: {policy.summary}",
              short_source(st.sources.get("flush_log_at_trx_commit")))
    t.add_row("a mysqld crash loses", policy.mysqld_crash_loss, "")
    t.add_row("an OS crash loses", policy.os_crash_loss, "")
    return t


def files_table(st: RedoStatus) -> Table:
    t = Table(title="Redo files (performance_schema.innodb_redo_log_files)", title_justify="left", box=None,
              header_style="bold dim")
    for col in ("id", "name", "start LSN", "end LSN", "size", "full", "consumer level"):
        t.add_column(col, justify="right" if col not in ("name", "full") else "left")
    for f in st.files:
        t.add_row(str(f.file_id), f.name, show(f.start_lsn), show(f.end_lsn), human_bytes(f.size_bytes),
                  show(f.is_full), str(f.consumer_level))
    return t


def triggers_table(st: RedoStatus) -> Table:
    t = Table(title="Flush triggers (which one is about to make the server stall)", title_justify="left", box=None,
              header_style="bold dim")
    for col in ("trigger", "state", "detail", "source"):
        t.add_column(col, overflow="fold", style="dim" if col == "source" else None)
    for trig in st.flush_triggers:
        t.add_row(trig.name, styled(trig.state), trig.detail, short_source(trig.source))
    return t


def render_redo_status(st: RedoStatus) -> RenderableType:
    parts: list[RenderableType] = [lsn_table(st), flush_points_table(st), counters_table(st), flush_policy_table(st)]
    if st.files:
        parts.append(files_table(st))
    parts.append(triggers_table(st))
    parts.extend(notes_block(st.notes))
    return Group(*spaced(parts))
