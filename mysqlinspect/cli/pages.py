"""`mysqlinspect pages verify`: offline page checks of tablespace files or a whole data directory."""

from __future__ import annotations

import click

from mysqlinspect.cli.context import AppContext, pass_app
from mysqlinspect.cli.options import output_options
from mysqlinspect.exit_codes import ExitCode
from mysqlinspect.innodb.verify import verify_paths
from mysqlinspect.render.pages import render_verification


@click.group()
def pages() -> None:
    """InnoDB tablespace pages, offline (files of a stopped server or a copy)."""


@pages.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("--jobs", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Processes per large file (files of 256 MiB and more are split between them).")
@output_options("table", "json")
@pass_app
def verify(app: AppContext, paths: tuple[str, ...], jobs: int, output_format: str) -> int:
    """Check every page of tablespace files (PATHS: files or data directories) as the server does on read.

    Checksums (crc32, innodb, none, MariaDB full_crc32, ROW_FORMAT=COMPRESSED), torn writes (header and
    trailer LSN disagree), page number and space id against the position; all-zero pages are counted apart.
    Exit 0 when every page is valid, 65 when some are not, 66 when nothing is found.
    """
    result = verify_paths(list(paths), jobs=jobs)
    app.emit_result(output_format, result, render_verification)
    return int(ExitCode.OK if result.ok else ExitCode.DATA_ERROR)
