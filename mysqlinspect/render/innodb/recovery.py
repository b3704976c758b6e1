"""Render `recovery DATADIR`: one summary in the server's order, then transactions and prepared ones' fates."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.table import Table

from mysqlinspect.recovery.coordinator import PreparedFate
from mysqlinspect.recovery.preview import CrashRecoveryPreview
from mysqlinspect.render.console import kv_table, show
from mysqlinspect.render.innodb.undo_offline import ACTION_STYLE, transactions_table

OUTCOME = {"clean": "[green]clean shutdown: nothing to recover[/green]",
           "recovers": "[green]recovery would succeed[/green]", "fails": "[bold red]recovery would fail[/bold red]"}


def render_recovery(p: CrashRecoveryPreview) -> RenderableType:
    head = kv_table(f"Crash recovery preview: {escape(str(p.root))}")
    head.add_row("outcome", OUTCOME[p.outcome])
    if p.doublewrite is not None:
        dw = p.doublewrite
        head.add_row("1. doublewrite", f"{len(dw.restored):,} page(s) restored, {len(dw.unrecoverable):,}"
                                       f" unrecoverable ({dw.layout}, {dw.slots:,} slots)")
    if p.redo is not None:
        r = p.redo
        head.add_row("2. redo", f"checkpoint {show(r.checkpoint.lsn if r.checkpoint else None)} -> end"
                                f" {show(r.end_lsn)}: {show(r.bytes_to_apply)} bytes to apply ({r.status})")
        head.add_row("   files", escape(", ".join(f.name for f in r.file_set.files)))
    if p.undo is not None:
        u = p.undo
        head.add_row("3. undo", f"{len(u.to_roll_back):,} to roll back ({u.row_operations:,} row operations),"
                                f" {len(u.prepared):,} prepared")
        head.add_row("   server prints", escape(u.server_message() or "-"))
    if p.binlog is not None:
        b = p.binlog
        last = b.last
        head.add_row("4. binlog", f"{', '.join(s.path.name for s in b.scanned)}: {len(b.xids):,} XIDs"
                                  + ("" if b.recovers else " (not read by the server: no binlog recovery)"))
        if last is not None:
            cut = ""
            if last.partial_bytes and b.recovers:
                cut = (f", trimmed to it ({last.partial_bytes:,} bytes cut)" if b.truncate_to is not None
                       else f", {last.partial_bytes:,} bytes after it stay (ignored)")
            head.add_row("   last complete trx", f"{last.path.name} ends at {last.last_complete_end:,}{cut}")
    if p.coordinator is not None and (p.prepared or p.coordinator_messages):
        head.add_row("5. coordinator", f"{escape(p.coordinator)} rules: {_fates(p.prepared)}")
        for line in p.coordinator_messages:
            head.add_row("   server prints", escape(line))
    parts: list[RenderableType] = [head]
    if p.undo is not None and p.undo.to_roll_back:
        parts.append(transactions_table(p.undo.to_roll_back, title="Transactions rolled back"))
    if p.prepared:
        parts.append(_prepared(p.prepared))
    for line in p.settings.story if p.settings else []:
        parts.append(f"[dim]settings:[/dim] {escape(line)}")
    for note in p.notes:
        parts.append(f"[yellow]note:[/yellow] {escape(note)}")
    for failure in p.failures:
        parts.append(f"[bold red]fails:[/bold red] {escape(failure)}")
    return Group(*parts)


def _fates(fates: list[PreparedFate]) -> str:
    counts: dict[str, int] = {}
    for f in fates:
        counts[f.fate] = counts.get(f.fate, 0) + 1
    return ", ".join(f"{n:,} {fate}" for fate, n in counts.items()) or "no prepared transaction"


def _prepared(fates: list[PreparedFate]) -> Table:
    table = Table(title="Prepared transactions", title_justify="left")
    for column in ("trx id", "XID", "row ops", "fate", "why"):
        table.add_column(column, justify="right" if column in ("trx id", "row ops") else "left")
    for f in fates:
        xid = f.trx.xid
        style = ACTION_STYLE.get(f.fate, "")
        table.add_row(str(f.trx.trx_id), escape(xid.text()) if xid else "-", show(f.trx.row_operations),
                      f"[{style}]{f.fate}[/{style}]", escape(f.reason))
    return table
