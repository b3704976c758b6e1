"""`mysqlinspect tablespaces`: every InnoDB tablespace with kind, files, sizes, free space, limits and tables."""

from __future__ import annotations

import click

from mysqlinspect.cli.context import AppContext, pass_app
from mysqlinspect.cli.options import connection_options, output_options
from mysqlinspect.cli.server.live_common import open_sources, require
from mysqlinspect.collectors.tablespaces import collect_tablespaces
from mysqlinspect.connection.settings import CommandLineOptions
from mysqlinspect.render.innodb.tablespaces import render_tablespaces


@click.command()
@connection_options
@output_options("table", "json")
@pass_app
def tablespaces(app: AppContext, conn_opts: CommandLineOptions, output_format: str) -> None:
    """Every InnoDB tablespace: kind (system, dictionary, file-per-table, general, undo, temporary), files, size,
    used and free space, autoextend and maximum size, page size, row format, compression, encryption, the tables
    of shared tablespaces; undo states and truncation settings; session temporary tablespaces and temporary
    tables; totals per kind and the largest space OPTIMIZE TABLE would give back. Needs PROCESS."""
    src = open_sources(app, conn_opts)
    report = collect_tablespaces(src.conn, src.info, src)
    require(report.tablespaces or None, "tablespaces", report.missing_grants)
    app.emit_result(output_format, report, render_tablespaces)
