"""Render `tablespaces`: totals per kind, every tablespace, undo settings, temporary space, reclaimable space."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from mysqlinspect.collectors.tablespace_model import Tablespace, TablespaceReport
from mysqlinspect.render.console import human_bytes, show
from mysqlinspect.render.server.live_common import notes_block, short_source, source_table, sources_getter, spaced

TABLE_NAMES_SHOWN = 8


def _table(title: str, columns: tuple[str, ...], right: tuple[str, ...] = ()) -> Table:
    t = Table(title=title, title_justify="left", box=None, header_style="bold dim")
    for col in columns:
        t.add_column(col, justify="right" if col in right else "left", overflow="fold")
    return t


def totals_table(report: TablespaceReport) -> Table:
    t = _table("Tablespaces per kind", ("kind", "count", "size", "allocated", "free"),
               ("count", "size", "allocated", "free"))
    for total in report.totals:
        t.add_row(total.kind, show(total.count), human_bytes(total.size_bytes), human_bytes(total.allocated_bytes),
                  human_bytes(total.free_bytes))
    return t


def _growth(ts: Tablespace) -> str:
    if ts.autoextend is None:
        return "-"
    if not ts.autoextend:
        return "fixed size"
    step = f" by {human_bytes(ts.autoextend_size_bytes)}" if ts.autoextend_size_bytes else ""
    limit = f", max {human_bytes(ts.max_size_bytes)}" if ts.max_size_bytes else ""
    return f"autoextend{step}{limit}"


def _format(ts: Tablespace) -> str:
    parts = [p for p in (ts.row_format, ts.compression) if p]
    if ts.page_size:
        parts.append(f"page {ts.page_size // 1024}K")
    return ", ".join(parts) or "-"


def _tables(ts: Tablespace) -> str:
    if ts.tables:
        shown = ", ".join(ts.tables[:TABLE_NAMES_SHOWN])
        more = len(ts.tables) - TABLE_NAMES_SHOWN
        return shown + (f" (+{more} more)" if more > 0 else "")
    return show(ts.table_count)


def tablespaces_table(report: TablespaceReport) -> Table:
    t = _table("Tablespaces", ("name", "kind", "size", "used", "free", "growth", "format", "encrypted", "state"),
               ("size", "used", "free"))
    for ts in report.tablespaces:
        used = human_bytes(ts.used_bytes)
        if ts.used_pct_of_max is not None:
            used += f" ({ts.used_pct_of_max:g}% of max)"
        t.add_row(Text(ts.name), ts.kind, human_bytes(ts.size_bytes), used, human_bytes(ts.free_bytes), _growth(ts),
                  _format(ts), show(ts.encrypted), ts.state or "-")
    return t


def files_table(report: TablespaceReport) -> Table:
    t = _table("Files and tables", ("name", "files", "tables"))
    for ts in report.tablespaces:
        t.add_row(Text(ts.name), Text(", ".join(ts.files) or "-"), Text(_tables(ts)))
    return t


def undo_table(report: TablespaceReport) -> Table:
    t = source_table("Undo truncation")
    src = sources_getter(report.sources)
    undo = report.undo
    if undo is not None:
        t.add_row("innodb_undo_log_truncate", show(undo.truncate), src("undo.truncate"))
        t.add_row("innodb_max_undo_log_size", human_bytes(undo.max_undo_log_size), src("undo.max_undo_log_size"))
        t.add_row("innodb_purge_rseg_truncate_frequency", show(undo.purge_rseg_truncate_frequency),
                  src("undo.purge_rseg_truncate_frequency"))
        t.add_row("innodb_undo_directory", undo.directory or "-", src("undo.directory"))
    return t


def temporary_tables(report: TablespaceReport) -> list[RenderableType]:
    parts: list[RenderableType] = []
    if report.session_temporary:
        t = _table("Session temporary tablespaces", ("space", "session", "path", "size", "state", "purpose"),
                   ("size",))
        for s in report.session_temporary:
            t.add_row(str(s.space_id), str(s.session_id), s.path, human_bytes(s.size_bytes), s.state, s.purpose)
        parts.append(t)
    if report.temporary_tables:
        t = _table("InnoDB temporary tables", ("table id", "name", "space", "columns"))
        for tt in report.temporary_tables:
            t.add_row(str(tt.table_id), tt.name, str(tt.space_id), show(tt.columns))
        parts.append(t)
    return parts


def reclaimable_table(report: TablespaceReport) -> Table:
    title = f"Reclaimable by OPTIMIZE TABLE (total {human_bytes(report.reclaimable_total_bytes)})"
    t = _table(title, ("table", "free", "file size", "share", "source"), ("free", "file size", "share"))
    for r in report.reclaimable:
        t.add_row(Text(r.table), human_bytes(r.free_bytes), human_bytes(r.size_bytes),
                  "-" if r.share_pct is None else f"{r.share_pct:g}%", short_source(r.source))
    return t


def render_tablespaces(report: TablespaceReport) -> RenderableType:
    parts: list[RenderableType] = [totals_table(report), tablespaces_table(report), files_table(report),
                                   undo_table(report)]
    parts.extend(temporary_tables(report))
    if report.reclaimable:
        parts.append(reclaimable_table(report))
    parts.extend(notes_block(report.notes))
    return Group(*spaced(parts))
