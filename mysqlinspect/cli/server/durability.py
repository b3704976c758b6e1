"""`mysqlinspect durability`: what a mysqld crash, an OS crash and a torn page can lose, and which setting decides."""

from __future__ import annotations

import click

from mysqlinspect.cli.context import AppContext, pass_app
from mysqlinspect.cli.options import connection_options, output_options
from mysqlinspect.cli.server.live_common import open_sources
from mysqlinspect.collectors.durability import collect_durability_report
from mysqlinspect.connection.settings import CommandLineOptions
from mysqlinspect.render.server.durability import render_durability


@click.command()
@connection_options
@output_options("table", "json")
@pass_app
def durability(app: AppContext, conn_opts: CommandLineOptions, output_format: str) -> None:
    """One report of the crash-safety settings (binlog, sync_binlog, innodb_flush_log_at_trx_commit, doublewrite,
    checksums, GTID, two-phase commit) and, for a mysqld crash, an OS crash or power loss and a torn page write,
    what can be lost or broken and the setting responsible."""
    src = open_sources(app, conn_opts)
    report = collect_durability_report(src.conn, src.info, src)
    app.emit_result(output_format, report, render_durability)
