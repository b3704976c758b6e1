"""`mysqlinspect binlog`: list, tail, stats, replay (subcommands load lazily)."""

from __future__ import annotations

import click

from mysqlinspect.cli import LazyGroup

BINLOG_COMMANDS = {
    "list": "mysqlinspect.cli.binlog_list:list_binlogs",
    "tail": "mysqlinspect.cli.binlog_tail:tail",
    "stats": "mysqlinspect.cli.binlog_stats:stats",
    "replay": "mysqlinspect.cli.binlog_replay:replay",
}


@click.group(cls=LazyGroup, lazy=BINLOG_COMMANDS)
def binlog() -> None:
    """Binary log: list files, tail events, statistics, replay and flashback."""
