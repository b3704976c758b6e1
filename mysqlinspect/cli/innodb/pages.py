"""`mysqlinspect pages verify`: offline page checks of tablespace files or a whole data directory."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from mysqlinspect.cli.context import AppContext, pass_app
from mysqlinspect.cli.options import output_options
from mysqlinspect.cli.verdict import failing_verdict
from mysqlinspect.exit_codes import ExitCode
from mysqlinspect.innodb.pages.verify import Verification, verify_paths

if TYPE_CHECKING:
    from rich.console import RenderableType


@click.group()
def pages() -> None:
    """InnoDB tablespace pages, offline (files of a stopped server or a copy)."""


@pages.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("--jobs", type=click.IntRange(0, 64), default=0, show_default=True,
              help="Worker processes when the files total 256 MiB or more (0: one per CPU; 1: none). "
                   "Large files are split between them, smaller files are checked one per task.")
@output_options("table", "json")
@pass_app
def verify(app: AppContext, paths: tuple[str, ...], jobs: int, output_format: str) -> int:
    """Check every page of tablespace files (PATHS: files or data directories) as the server does on read.

    Checksums (crc32, innodb, none, MariaDB full_crc32, ROW_FORMAT=COMPRESSED), torn writes (header and
    trailer LSN disagree), page number and space id against the position; all-zero pages are counted apart.
    Exit 0 when every page is valid, 65 when some are not, 66 when nothing is found.
    """
    result = verify_paths(list(paths), jobs=jobs)
    app.emit_result(output_format, result, _render)
    if not result.ok:
        raise failing_verdict("pages verify", result.problems)
    return int(ExitCode.OK)


def _render(result: Verification) -> RenderableType:
    """The table view; rich's tables are imported only for it (JSON output starts faster without them)."""
    from mysqlinspect.render.innodb.pages import render_verification

    return render_verification(result)
