"""`mysqlinspect recovery DATADIR`: the whole crash-recovery preview (doublewrite, redo, undo, binlog 2PC)."""

from __future__ import annotations

import click

from mysqlinspect.cli.context import AppContext, pass_app
from mysqlinspect.cli.options import output_options
from mysqlinspect.exit_codes import ExitCode


@click.command()
@click.argument("datadir", type=click.Path(path_type=str))
@click.option("--defaults-file", "defaults_file", type=click.Path(dir_okay=False, path_type=str),
              help="The server's my.cnf, for innodb_flush_log_at_trx_commit and sync_binlog.")
@output_options("table", "json")
@pass_app
def recovery(app: AppContext, datadir: str, defaults_file: str | None, output_format: str) -> int:
    """What InnoDB and the server would do if started on DATADIR after a crash, from the files alone: torn
    pages restored from the doublewrite buffer, redo to apply (checkpoint, end of log, bytes, files),
    transactions to roll back (id, row operations, tables), prepared transactions and their fate from the
    binary log (commit / roll back / stays prepared), the binlog truncation point, and what the durability
    settings may have lost. Read-only.

    Exit 0 when recovery would succeed, 65 when it would fail (missing or corrupt redo, a damaged page without
    a doublewrite copy, a corrupt undo log), 66 when DATADIR is not a directory.
    """
    from mysqlinspect.recovery.preview import preview_crash_recovery
    from mysqlinspect.render.innodb.recovery import render_recovery

    preview = preview_crash_recovery(datadir, defaults_file)
    app.emit_result(output_format, preview, render_recovery)
    return int(ExitCode.OK if preview.ok else ExitCode.DATA_ERROR)
