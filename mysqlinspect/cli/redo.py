"""`mysqlinspect redo`: live redo status and offline redo files (subcommands load lazily)."""

from __future__ import annotations

import click

from mysqlinspect.cli import LazyGroup

REDO_COMMANDS = {
    "status": "mysqlinspect.cli.redo_status:status",
    "files": "mysqlinspect.cli.redo_files:files",
    "recovery": "mysqlinspect.cli.redo_files:recovery",
}


@click.group(cls=LazyGroup, lazy=REDO_COMMANDS)
def redo() -> None:
    """InnoDB redo log: live status, offline files, crash-recovery preview."""
