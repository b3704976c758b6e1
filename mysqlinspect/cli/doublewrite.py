"""`mysqlinspect doublewrite`: doublewrite mode, files, settings, pages written and writes."""

from __future__ import annotations

import click

from mysqlinspect.cli.context import AppContext, pass_app
from mysqlinspect.cli.live_common import open_sources
from mysqlinspect.cli.options import connection_options, output_options
from mysqlinspect.collectors.doublewrite import collect_doublewrite_status
from mysqlinspect.connection.settings import CommandLineOptions
from mysqlinspect.render.doublewrite import render_doublewrite


@click.command()
@connection_options
@output_options("table", "json")
@pass_app
def doublewrite(app: AppContext, conn_opts: CommandLineOptions, output_format: str) -> None:
    """Doublewrite mode (ON/OFF/DETECT_ONLY/DETECT_AND_RECOVER, MariaDB atomic writes), files, pages and batch
    size, pages written, writes and pages per write."""
    src = open_sources(app, conn_opts)
    status = collect_doublewrite_status(src.conn, src.info, src)
    app.emit_result(output_format, status, render_doublewrite)
