"""Render the `status` overview as one screen of rich tables."""

from __future__ import annotations

from rich.console import Group, RenderableType

from mysqlinspect.collectors.overview import StatusOverview
from mysqlinspect.render.console import human_bytes, human_seconds, kv_table, share, show

FLUSH_POLICY = {
    0: "0: log written and flushed about once a second",
    1: "1: flushed at every commit (durable)",
    2: "2: written at commit, flushed about once a second",
}


def version_comment(comment: str | None) -> str:
    """` (Debian)` whether the server's comment is `Debian` or already `(Debian)`; nothing when empty."""
    text = (comment or "").strip()
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1].strip()
    return f" ({text})" if text else ""


def render_overview(ov: StatusOverview) -> RenderableType:
    srv = ov.server
    server = kv_table("Server")
    server.add_row("flavor / version", f"{srv.flavor} {srv.version_string}{version_comment(srv.version_comment)}")
    server.add_row("uptime", human_seconds(srv.uptime_seconds))
    server.add_row("server id", "-" if srv.server_id is None else str(srv.server_id))
    server.add_row("datadir", srv.datadir or "-")

    binlog = kv_table("Binary log")
    binlog.add_row("enabled", show(ov.binlog_enabled))
    if ov.binlog_enabled:
        binlog.add_row("format", show(ov.binlog_format))
        pos = ov.binlog_position
        binlog.add_row("position", f"{pos.file}:{pos.position}" if pos else "-")
        if pos and pos.gtid_executed:
            binlog.add_row("gtid executed", pos.gtid_executed.replace("\n", ""))

    redo = kv_table("Redo log")
    redo.add_row("capacity", human_bytes(ov.redo_capacity_bytes))
    redo.add_row("current LSN", show(ov.current_lsn))
    redo.add_row("checkpoint LSN", show(ov.checkpoint_lsn))
    age = ov.checkpoint_age_bytes
    pct = f" ({share(age, ov.redo_capacity_bytes)} of capacity)" if age is not None and ov.redo_capacity_bytes else ""
    redo.add_row("checkpoint age", f"{human_bytes(age)}{pct}" if age is not None else "-")

    other = kv_table("Crash safety")
    other.add_row("doublewrite", show(ov.doublewrite_mode))
    other.add_row("undo tablespaces", show(ov.undo_tablespace_count))
    flush = ov.flush_log_at_trx_commit
    other.add_row("innodb_flush_log_at_trx_commit", FLUSH_POLICY.get(flush, show(flush)) if flush is not None else "-")
    sync = ov.sync_binlog
    sync_text = "-" if sync is None else ("0: the OS decides when to flush" if sync == 0 else
                                          f"{sync}: fsync every {sync} commit group(s)")
    other.add_row("sync_binlog", sync_text)

    parts: list[RenderableType] = [server, binlog, redo, other]
    for note in ov.notes:
        parts.append(f"[yellow]note:[/yellow] {note}")
    return Group(*parts)
