"""Render `doublewrite`: mode and what it protects, files, settings, pages written and writes."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table

from mysqlinspect.collectors.doublewrite import DoublewriteStatus
from mysqlinspect.render.console import human_bytes, show
from mysqlinspect.render.server.live_common import (
    notes_block,
    short_source,
    source_table,
    sources_getter,
    spaced,
    styled,
)


def render_doublewrite(st: DoublewriteStatus) -> RenderableType:
    t = source_table("Doublewrite buffer")
    src = sources_getter(st.sources)
    state = "safe" if st.repairs_torn_pages else ("loss" if st.repairs_torn_pages is False else "unknown")
    t.add_row("mode", styled(state, show(st.mode)), src("mode"))
    t.add_row("meaning", st.meaning or "-", "")
    if st.atomic_writes is not None:
        t.add_row("innodb_use_atomic_writes", show(st.atomic_writes), src("atomic_writes"))
    t.add_row("location", st.location or "-", "")
    t.add_row("directory", st.directory or "-", src("directory"))
    if st.files_setting is not None:
        t.add_row("innodb_doublewrite_files", show(st.files_setting), src("files_setting"))
    if st.pages_setting is not None:
        t.add_row("innodb_doublewrite_pages", show(st.pages_setting), src("pages_setting"))
    if st.batch_size is not None:
        t.add_row("innodb_doublewrite_batch_size", show(st.batch_size), src("batch_size"))
    t.add_row("pages written", show(st.pages_written), src("pages_written"))
    t.add_row("writes", show(st.writes), src("writes"))
    t.add_row("pages per write", show(st.pages_per_write), src("pages_per_write"))
    parts: list[RenderableType] = [t]
    if st.files:
        files = Table(title="Doublewrite files", title_justify="left", box=None, header_style="bold dim")
        for col in ("name", "path", "size", "source"):
            files.add_column(col, overflow="fold", justify="right" if col == "size" else "left")
        for f in st.files:
            files.add_row(f.name, f.path, human_bytes(f.size_bytes), short_source(f.source))
        parts.append(files)
    parts.extend(notes_block(st.notes))
    return Group(*spaced(parts))
