"""`mysqlinspect redo`: live redo status and offline redo files (subcommands load lazily)."""

from __future__ import annotations

import click

from mysqlinspect.cli import Lazy, LazyGroup

REDO_COMMANDS = {
    "status": Lazy("mysqlinspect.cli.redo.status:status",
                   "Redo capacity, current/flushed/checkpoint LSN, checkpoint age against the async and sync flush "
                   "points, redo files, log buffer waits and writes, flush policy and the other flush triggers, each "
                   "with its source."),
    "files": Lazy("mysqlinspect.cli.redo.files:files",
                  "Headers and checkpoints of redo log files (PATHS: files, #innodb_redo or data directories)."),
    "recovery": Lazy("mysqlinspect.cli.redo.files:recovery",
                     "Crash-recovery preview: checkpoint, end of the valid log, bytes to apply, clean shutdown."),
}


@click.group(cls=LazyGroup, lazy=REDO_COMMANDS)
def redo() -> None:
    """InnoDB redo log: live status, offline files, crash-recovery preview."""
