"""`mysqlinspect watch`: refreshing redo/doublewrite/undo figures with per-second rates (JSON lines off a terminal)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator

import click
from rich.live import Live

from mysqlinspect.cli.context import AppContext, pass_app
from mysqlinspect.cli.options import connection_options, output_options
from mysqlinspect.cli.server.live_common import open_sources
from mysqlinspect.collectors.rates import WatchSample, compute_rates, read_sample
from mysqlinspect.collectors.sources import LiveSources
from mysqlinspect.connection.settings import CommandLineOptions
from mysqlinspect.exit_codes import ExitCode
from mysqlinspect.render.jsonout import dumps
from mysqlinspect.render.server.watch import render_watch_sample


def samples(src: LiveSources, interval: float, count: int, sleep: Callable[[float], None] = time.sleep,
            ) -> Iterator[WatchSample]:
    """Samples `interval` seconds apart (count 0 = until interrupted), each with rates from the previous one."""
    prev: WatchSample | None = None
    number = 0
    while count == 0 or number < count:
        number += 1
        started = time.monotonic()
        cur = compute_rates(prev, read_sample(src, number))
        yield cur
        prev = cur
        if count and number >= count:
            return
        sleep(max(0.0, interval - (time.monotonic() - started)))


def emit_json_lines(src: LiveSources, interval: float, count: int) -> None:
    for sample in samples(src, interval, count):
        click.echo(dumps(sample, indent=None))
        sys.stdout.flush()


def emit_live(app: AppContext, src: LiveSources, interval: float, count: int) -> None:
    label = f"{src.info.flavor} {src.info.version_string}"
    if not app.out.is_terminal:
        for sample in samples(src, interval, count):
            app.emit(render_watch_sample(sample, label))
        return
    with Live(console=app.out, auto_refresh=False, transient=False) as live:
        for sample in samples(src, interval, count):
            live.update(render_watch_sample(sample, label), refresh=True)


@click.command()
@connection_options
@output_options("table", "json")
@click.option("--interval", type=click.FloatRange(min=0.1), default=1.0, show_default=True,
              help="Seconds between samples.")
@click.option("--count", type=click.IntRange(min=0), default=0, show_default=True,
              help="Number of samples, 0 = until Ctrl-C.")
@pass_app
def watch(app: AppContext, conn_opts: CommandLineOptions, output_format: str, interval: float, count: int) -> int:
    """Refreshing view of redo bytes/s, checkpoint age and its trend, log waits/s, doublewrite pages/s and the
    history list length trend. On a terminal a live table; otherwise (or with --format json) one JSON object per
    sample, one per line. Ctrl-C stops it (exit 130)."""
    src = open_sources(app, conn_opts)
    try:
        if output_format == "json":
            emit_json_lines(src, interval, count)
        else:
            emit_live(app, src, interval, count)
    except KeyboardInterrupt:
        return int(ExitCode.INTERRUPTED)
    return int(ExitCode.OK)
