"""Render offline `undo PATH`: rollback segments in use, the transactions startup resurrects, the server's line."""

from __future__ import annotations

from collections import Counter

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.table import Table

from mysqlinspect.innodb.undo.segments import RecoveredTransaction, UndoReport
from mysqlinspect.render.console import kv_table, show

ACTION_STYLE = {"roll back": "yellow", "commit": "green", "stays prepared": "cyan", "clean up": "dim",
                "undecided": "bold red"}


def render_undo_files(report: UndoReport) -> RenderableType:
    head = kv_table("Undo logs (offline)")
    head.add_row("files", escape(", ".join(report.files)) or "-")
    head.add_row("server", report.server)
    head.add_row("rollback segments", show(len(report.rollback_segments)))
    states = Counter(s.state_name for s in report.segments)
    head.add_row("undo segments", ", ".join(f"{n:,} {s}" for s, n in sorted(states.items())) or "none")
    head.add_row("history (pages)", show(sum(r.history_size for r in report.rollback_segments)))
    head.add_row("to roll back", f"{len(report.to_roll_back):,} transaction(s), {report.row_operations:,} row"
                                 f" operations")
    head.add_row("prepared (XA)", show(len(report.prepared)))
    head.add_row("server will print", escape(report.server_message() or "nothing (no transaction to resurrect)"))
    parts: list[RenderableType] = [head]
    if report.transactions:
        parts.append(transactions_table(report.transactions))
    for problem in report.problems:
        parts.append(f"[bold red]problem:[/bold red] {escape(problem)}")
    for note in report.notes:
        parts.append(f"[yellow]note:[/yellow] {escape(note)}")
    return Group(*parts)


def transactions_table(transactions: list[RecoveredTransaction], fates: dict[int, str] | None = None,
                       title: str = "Transactions in the undo logs") -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("trx id", "state", "action", "row ops", "undo records", "tables", "XID"):
        table.add_column(column, justify="right" if column in ("trx id", "row ops", "undo records") else "left")
    for t in transactions:
        action = (fates or {}).get(t.trx_id, t.action)
        style = ACTION_STYLE.get(action, "")
        xid = escape(t.xid.text() + (" (external)" if t.xid.external else f" (xid {t.xid.my_xid})")) if t.xid else "-"
        table.add_row(str(t.trx_id), t.state, f"[{style}]{action}[/{style}]" if style else action,
                      show(t.row_operations), show(t.undo_records), _tables(t), xid)
    return table


def _tables(t: RecoveredTransaction) -> str:
    """Names where the dictionary gives them (MySQL), else the table ids the undo records carry."""
    return escape(", ".join(t.tables or [f"id {i}" for i in t.table_ids])) or "-"
