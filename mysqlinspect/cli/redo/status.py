"""`mysqlinspect redo status`: live redo capacity, LSNs, checkpoint age against the flush points, files, triggers."""

from __future__ import annotations

import click

from mysqlinspect.cli.context import AppContext, pass_app
from mysqlinspect.cli.options import connection_options, output_options
from mysqlinspect.cli.server.live_common import open_sources, require
from mysqlinspect.collectors.redo import collect_redo_status
from mysqlinspect.connection.settings import CommandLineOptions
from mysqlinspect.render.redo.status import render_redo_status


@click.command()
@connection_options
@output_options("table", "json")
@pass_app
def status(app: AppContext, conn_opts: CommandLineOptions, output_format: str) -> None:
    """Redo capacity, current/flushed/checkpoint LSN, checkpoint age against the async and sync flush points,
    redo files, log buffer waits and writes, flush policy and the other flush triggers, each with its source."""
    src = open_sources(app, conn_opts)
    redo = collect_redo_status(src.conn, src.info, src)
    require(redo.checkpoint_age_bytes, "checkpoint age (current and checkpoint LSN)", redo.missing_grants)
    app.emit_result(output_format, redo, render_redo_status)
