"""`mysqlinspect datadir PATH`: offline map of a data directory."""

from __future__ import annotations

import click

from mysqlinspect.cli.context import AppContext, pass_app
from mysqlinspect.cli.options import output_options
from mysqlinspect.innodb.files.datadir import map_datadir
from mysqlinspect.render.innodb.datadir import render_datadir


@click.command()
@click.argument("path", type=click.Path(path_type=str))
@output_options("table", "json")
@pass_app
def datadir(app: AppContext, path: str, output_format: str) -> None:
    """Map a data directory (a copy, a backup, or a stopped server's): every file classified, each tablespace's
    page 0 decoded (space id, flags, size, free limit, version), redo and binary logs summarised. Read-only.

    Exit 66 when PATH is not a directory.
    """
    app.emit_result(output_format, map_datadir(path), render_datadir)
