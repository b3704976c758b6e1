"""Render `undo`: history list length, undo tablespaces, purge settings and lag, oldest active transactions."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from mysqlinspect.collectors.undo import UndoStatus
from mysqlinspect.render.console import clip, human_bytes, human_seconds, show
from mysqlinspect.render.server.live_common import notes_block, short_source, source_table, sources_getter, spaced


def summary_table(st: UndoStatus) -> Table:
    t = source_table("Undo and purge")
    src = sources_getter(st.sources)
    t.add_row("history list length", show(st.history_list_length), src("history_list_length", "unavailable"))
    if st.purge_lag_trx_ids is not None:
        t.add_row("purge lag", f"{show(st.purge_lag_trx_ids)} transaction ids not yet purged "
                  f"(counter {show(st.trx_id_counter)}, purged below {show(st.purged_up_to_trx_id)}); "
                  f"purge {st.purge_state or '-'}", src("purge_lag_trx_ids"))
    if st.purge_dml_delay_usec is not None:
        t.add_row("DML delay from purge lag", f"{show(st.purge_dml_delay_usec)} µs", src("purge_dml_delay_usec"))
    t.add_row("innodb_max_purge_lag / _delay", f"{show(st.max_purge_lag)} / {show(st.max_purge_lag_delay)}",
              src("max_purge_lag"))
    t.add_row("purge threads / batch size", f"{show(st.purge_threads)} / {show(st.purge_batch_size)}",
              src("purge_threads"))
    t.add_row("innodb_undo_log_truncate", show(st.undo_log_truncate), src("undo_log_truncate"))
    t.add_row("innodb_max_undo_log_size", human_bytes(st.max_undo_log_size), src("max_undo_log_size"))
    t.add_row("innodb_purge_rseg_truncate_frequency", show(st.purge_rseg_truncate_frequency),
              src("purge_rseg_truncate_frequency"))
    t.add_row("rollback segments", show(st.rollback_segments), src("rollback_segments"))
    if st.available_undo_logs is not None:
        t.add_row("available undo logs", show(st.available_undo_logs), src("available_undo_logs"))
    if st.undo_tablespaces_active is not None:
        t.add_row("undo tablespaces active / total",
                  f"{show(st.undo_tablespaces_active)} / {show(st.undo_tablespaces_total)}",
                  src("undo_tablespaces_active"))
    if st.undo_tablespaces_setting is not None:
        t.add_row("innodb_undo_tablespaces", show(st.undo_tablespaces_setting), src("undo_tablespaces_setting"))
    return t


def tablespaces_table(st: UndoStatus) -> Table:
    t = Table(title="Undo tablespaces", title_justify="left", box=None, header_style="bold dim")
    for col in ("name", "file", "state", "size", "source"):
        t.add_column(col, justify="right" if col == "size" else "left", overflow="fold")
    for ts in st.tablespaces:
        t.add_row(ts.name, ts.file or "-", ts.state or "-", human_bytes(ts.size_bytes), short_source(ts.source))
    return t


def transactions_table(st: UndoStatus) -> Table:
    count = st.active_transaction_count
    title = f"Oldest active transactions ({show(count)} open)" if count is not None else "Oldest active transactions"
    t = Table(title=title, title_justify="left", box=None, header_style="bold dim")
    for col in ("trx id", "age", "thread", "user@host", "rows modified", "undo records", "state", "statement"):
        t.add_column(col, overflow="fold", justify="right" if col in ("age", "rows modified", "undo records")
                     else "left")
    for trx in st.oldest_transactions:
        who = f"{trx.user or '-'}@{trx.host or '-'}"
        # Text, not markup: user@host, state and the statement are the server's data ("[/x]" must not crash).
        thread = "-" if trx.thread_id is None else str(trx.thread_id)  # an identifier: no thousands separator
        t.add_row(trx.trx_id, human_seconds(trx.age_seconds), thread, Text(who), show(trx.rows_modified),
                  show(trx.undo_records), Text(str(trx.state)), Text(clip(trx.statement or "-")))
    return t


def render_undo(st: UndoStatus) -> RenderableType:
    parts: list[RenderableType] = [summary_table(st)]
    if st.tablespaces:
        parts.append(tablespaces_table(st))
    if st.active_transaction_count is not None:
        parts.append(transactions_table(st))
    parts.extend(notes_block(st.notes))
    return Group(*spaced(parts))
