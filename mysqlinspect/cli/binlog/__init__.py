"""`mysqlinspect binlog`: list, tail, stats, replay (subcommands load lazily)."""

from __future__ import annotations

import click

from mysqlinspect.cli import Lazy, LazyGroup

BINLOG_COMMANDS = {
    "list": Lazy("mysqlinspect.cli.binlog.list_files:list_binlogs",
                 "Binary log files with sizes, first/last event times, GTIDs, the write position and expiry settings."),
    "tail": Lazy("mysqlinspect.cli.binlog.tail:tail",
                 "Stream binlog events, grouped into transactions, with decoded rows."),
    "stats": Lazy("mysqlinspect.cli.binlog.stats:stats",
                  "Per table/op counts, transaction sizes and durations, largest transactions, DDL timeline, server "
                  "ids."),
    "replay": Lazy("mysqlinspect.cli.binlog.replay:replay",
                   "Replay a binlog range as SQL, or undo it with --flashback."),
}


@click.group(cls=LazyGroup, lazy=BINLOG_COMMANDS)
def binlog() -> None:
    """Binary log: list files, tail events, statistics, replay and flashback."""
