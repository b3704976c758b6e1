"""`mysqlinspect status`: a one-screen overview of a live server."""

from __future__ import annotations

import click

from mysqlinspect.cli.context import AppContext, pass_app
from mysqlinspect.cli.options import connection_options, output_options
from mysqlinspect.collectors.overview import collect_overview
from mysqlinspect.connection.settings import CommandLineOptions
from mysqlinspect.render.server.status import render_overview


@click.command()
@connection_options
@output_options("table", "json")
@pass_app
def status(app: AppContext, conn_opts: CommandLineOptions, output_format: str) -> None:
    """Server, binlog position, redo checkpoint age, doublewrite, undo and durability settings."""
    overview = collect_overview(app.connect(conn_opts))
    app.emit_result(output_format, overview, render_overview)
