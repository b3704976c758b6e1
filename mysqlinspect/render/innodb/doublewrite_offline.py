"""Render offline `doublewrite PATH`: the copies held, then restored / unrecoverable pages and stale copies."""

from __future__ import annotations

from collections import Counter

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.table import Table

from mysqlinspect.innodb.files.doublewrite import DamagedPage, DoublewriteReport
from mysqlinspect.render.console import kv_table, show


def render_doublewrite_files(report: DoublewriteReport) -> RenderableType:
    head = kv_table("Doublewrite buffer (offline)")
    head.add_row("sources", escape(", ".join(report.sources)))
    head.add_row("layout", report.layout)
    head.add_row("slots", f"{report.slots:,} of {report.page_size // 1024}K, {len(report.copies):,} holding a page")
    if report.reduced_entries:
        head.add_row("DETECT_ONLY entries", f"{report.reduced_entries:,} page ids with LSNs (.bdblwr), no copies")
    head.add_row("checkpoint LSN", show(report.checkpoint_lsn))
    verdicts = Counter(c.verdict for c in report.copies)
    head.add_row("copies", ", ".join(f"{n:,} {v}" for v, n in sorted(verdicts.items())) or "-")
    head.add_row("restored at recovery", show(len(report.restored)))
    head.add_row("unrecoverable", (f"[bold red]{len(report.unrecoverable):,}[/bold red]" if report.unrecoverable
                                   else "0"))
    head.add_row("stale copies", show(len(report.stale)))
    parts: list[RenderableType] = [head]
    if report.damaged:
        parts.append(_damaged(report.damaged))
    for note in report.notes:
        parts.append(f"[yellow]note:[/yellow] {escape(note)}")
    return Group(*parts)


def _damaged(pages: list[DamagedPage]) -> Table:
    table = Table(title="Damaged pages", title_justify="left")
    for column in ("space", "page", "file", "status", "page LSN", "outcome", "copy", "copy LSN", "why"):
        table.add_column(column, justify="right" if column in ("space", "page", "page LSN", "copy LSN") else "left")
    for d in pages:
        outcome = "[green]restored[/green]" if d.outcome == "restored" else "[bold red]unrecoverable[/bold red]"
        copy = f"{d.copy_source}#{d.copy_slot}" if d.copy_source is not None else "-"
        table.add_row(str(d.space_id), show(d.page_no), escape(d.path), d.status, show(d.lsn), outcome,
                      escape(copy), show(d.copy_lsn), escape(d.reason))
    return table
