"""`mysqlinspect redo files` and `mysqlinspect redo recovery`: offline redo log files."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

from mysqlinspect.cli.context import AppContext, pass_app
from mysqlinspect.cli.options import output_options
from mysqlinspect.cli.verdict import failing_verdict
from mysqlinspect.exit_codes import ExitCode
from mysqlinspect.redo.recovery import preview_recovery
from mysqlinspect.redo.redoset import inspect_redo_files
from mysqlinspect.render.redo.files import render_file_set, render_recovery

PATH_HELP = "a redo file, an #innodb_redo directory or a data directory"


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@output_options("table", "json")
@pass_app
def files(app: AppContext, paths: tuple[str, ...], output_format: str) -> int:
    """Headers and checkpoints of redo log files (PATHS: files, #innodb_redo or data directories).

    Every file gets a status; exit 65 when any file is damaged, 66 when nothing is found.
    """
    file_set = inspect_redo_files(list(paths))
    app.emit_result(output_format, file_set, render_file_set)
    if not file_set.ok:
        raise failing_verdict("redo files", file_set.problems)
    return int(ExitCode.OK)


@click.command()
@click.argument("path", type=click.Path(path_type=str))
@click.option("--progress/--no-progress", "show_progress", default=False,
              help="Show a progress bar on stderr while scanning (only on a terminal).")
@output_options("table", "json")
@pass_app
def recovery(app: AppContext, path: str, show_progress: bool, output_format: str) -> int:
    """Crash-recovery preview: checkpoint, end of the valid log, bytes to apply, clean shutdown.

    PATH is a redo file, an #innodb_redo directory or a data directory. The numbers are the ones the server
    prints when it starts on these files. Exit 65 when the files are damaged, 66 when nothing is found.
    """
    with _progress_bar(app, show_progress) as callback:
        preview = preview_recovery(path, progress=callback)
    app.emit_result(output_format, preview, render_recovery)
    if not preview.ok:
        raise failing_verdict(f"redo recovery: {preview.status.replace('_', ' ')}", preview.problems)
    return int(ExitCode.OK)


@contextmanager
def _progress_bar(app: AppContext, wanted: bool) -> Iterator[Callable[[int, int], None] | None]:
    if not wanted or not app.err.is_terminal:
        yield None
        return
    columns = (TextColumn("scanning redo"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
               TimeRemainingColumn())
    with Progress(*columns, console=app.err, transient=True) as bar:
        task = bar.add_task("scan", total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update
