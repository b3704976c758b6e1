"""`mysqlinspect doublewrite`: live mode, files, settings and counters; offline (with PATH) the buffer's copies."""

from __future__ import annotations

import click

from mysqlinspect.cli.context import AppContext, pass_app
from mysqlinspect.cli.options import connection_options, output_options
from mysqlinspect.cli.server.live_common import open_sources
from mysqlinspect.cli.verdict import failing_verdict
from mysqlinspect.collectors.doublewrite import collect_doublewrite_status
from mysqlinspect.connection.settings import CommandLineOptions
from mysqlinspect.exit_codes import ExitCode
from mysqlinspect.render.innodb.doublewrite import render_doublewrite


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@click.option("--datadir", "datadir_path", type=click.Path(file_okay=False, path_type=str),
              help="Offline: where the tablespaces are when PATHS are .dblwr files elsewhere.")
@connection_options
@output_options("table", "json")
@pass_app
def doublewrite(app: AppContext, paths: tuple[str, ...], datadir_path: str | None, conn_opts: CommandLineOptions,
                output_format: str) -> int | None:
    """Doublewrite mode (ON/OFF/DETECT_ONLY/DETECT_AND_RECOVER, MariaDB atomic writes), files, pages and batch
    size, pages written, writes and pages per write.

    With PATHS (a data directory or #ib_*.dblwr files) it reads the buffer offline instead: each page copy held
    (space id, page number, LSN, checksum) and, against the tablespace files, which damaged pages crash recovery
    would restore, which it could not (exit 65), and which copies are stale.
    """
    if paths:
        return _offline(app, list(paths), datadir_path, output_format)
    src = open_sources(app, conn_opts)
    status = collect_doublewrite_status(src.conn, src.info, src)
    app.emit_result(output_format, status, render_doublewrite)
    return None


def _offline(app: AppContext, paths: list[str], datadir_path: str | None, output_format: str) -> int:
    from mysqlinspect.innodb.files.doublewrite import analyse_doublewrite
    from mysqlinspect.render.innodb.doublewrite_offline import render_doublewrite_files

    report = analyse_doublewrite(list(paths), datadir_path)
    app.emit_result(output_format, report, render_doublewrite_files)
    if not report.ok:
        raise failing_verdict("doublewrite", report.problems)
    return int(ExitCode.OK)
