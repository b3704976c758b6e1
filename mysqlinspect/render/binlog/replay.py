"""Rich rendering of a replay/flashback summary."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from mysqlinspect.binlog.replay.replay import OPS, ReplaySummary


def render_summary(summary: ReplaySummary) -> RenderableType:
    verb = "applied" if summary.executed else "written"
    head = Text.assemble(
        (f"{summary.mode} ", "bold"),
        f"{summary.transactions} transactions, {summary.row_changes} row changes, {summary.ddl} DDL {verb}",
        f" in {summary.elapsed_seconds:.2f}s ({summary.rows_per_second:,.0f} rows/s)",
    )
    parts: list[RenderableType] = [head]
    if summary.apply_mode:
        note = f" ({summary.apply_mode_note})" if summary.apply_mode_note else ""
        parts.append(Text(f"apply mode: {summary.apply_mode}{note}"))
    if summary.skipped_applied:
        parts.append(Text(f"{summary.skipped_applied} transactions skipped: already applied (checkpoint)"))
    if summary.skipped_ddl:
        parts.append(Text(f"{summary.skipped_ddl} DDL statements skipped (--skip-ddl)"))
    if summary.counts:
        table = Table(box=None, show_edge=False, pad_edge=False)
        table.add_column("table")
        for op in OPS:
            table.add_column(op, justify="right")
        for name, counts in sorted(summary.counts.items()):
            table.add_row(name, *(f"{counts.get(op, 0):,}" for op in OPS))
        parts.append(table)
    if summary.output:
        parts.append(Text(f"output: {summary.output}  sha256: {summary.sha256}"))
    if summary.checkpoint:
        cp = summary.checkpoint
        parts.append(Text(f"last applied: {cp['file']}:{cp['pos']}" + (f" gtid {cp['gtid']}" if cp["gtid"] else "")))
    for warning in summary.warnings:
        parts.append(Text(f"warning: {warning}", style="yellow"))
    return Group(*parts)


def summary_text(summary: ReplaySummary) -> str:
    """One line for stderr when the SQL itself goes to stdout."""
    tables = ", ".join(f"{t} " + "/".join(str(c.get(op, 0)) for op in OPS) for t, c in sorted(summary.counts.items()))
    return (f"{summary.mode}: {summary.transactions} transactions, {summary.row_changes} row changes, "
            f"{summary.ddl} DDL; sha256 {summary.sha256}" + (f"; per table insert/update/delete: {tables}"
                                                             if tables else ""))
