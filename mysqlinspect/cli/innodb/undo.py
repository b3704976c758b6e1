"""`mysqlinspect undo`: live undo tablespaces, purge settings and lag, history list length, oldest transactions;
offline (with PATH) the rollback segments and undo logs of a data directory's files."""

from __future__ import annotations

import click

from mysqlinspect.cli.context import AppContext, pass_app
from mysqlinspect.cli.options import connection_options, output_options
from mysqlinspect.cli.server.live_common import open_sources, require
from mysqlinspect.collectors.undo import OLDEST_LIMIT, collect_undo_status
from mysqlinspect.connection.settings import CommandLineOptions
from mysqlinspect.exit_codes import ExitCode
from mysqlinspect.render.innodb.undo import render_undo


@click.command()
@click.argument("path", required=False, type=click.Path(path_type=str))
@connection_options
@output_options("table", "json")
@click.option("--limit", type=click.IntRange(1, 1000), default=OLDEST_LIMIT, show_default=True,
              help="How many of the oldest active transactions to list.")
@pass_app
def undo(app: AppContext, path: str | None, conn_opts: CommandLineOptions, output_format: str,
         limit: int) -> int | None:
    """Undo tablespaces, truncation and purge settings, history list length, purge lag and the oldest active
    transactions (age, thread, rows modified, undo records, statement).

    With PATH (a data directory, an undo tablespace or ibdata1) it reads the undo logs offline instead: rollback
    segments, undo segments (state, insert/update, transaction id and number, XID), and the transactions the
    server would resurrect at startup: active ones to roll back with their row operations and tables,
    prepared ones, and the "N transaction(s) ... M row operations to undo" line it would print. Exit 65 when an
    undo log cannot be read. The files are only read; pages changed after the last page flush are only in the
    redo log (see `recovery`).
    """
    if path is not None:
        return _offline(app, path, output_format)
    src = open_sources(app, conn_opts)
    status = collect_undo_status(src.conn, src.info, src, limit=limit)
    require(status.history_list_length, "history list length", status.missing_grants)
    app.emit_result(output_format, status, render_undo)
    return None


def _offline(app: AppContext, path: str, output_format: str) -> int:
    from mysqlinspect.innodb.undo.segments import read_undo
    from mysqlinspect.render.innodb.undo_offline import render_undo_files

    report = read_undo(path)
    app.emit_result(output_format, report, render_undo_files)
    return int(ExitCode.OK if report.ok else ExitCode.DATA_ERROR)
