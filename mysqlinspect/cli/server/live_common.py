"""Shared plumbing of the live status commands: connect, detect the server, and refuse when core data is missing."""

from __future__ import annotations

from mysqlinspect.cli.context import AppContext
from mysqlinspect.collectors.sources import LiveSources
from mysqlinspect.connection.server import detect_server
from mysqlinspect.connection.settings import CommandLineOptions
from mysqlinspect.errors import PrivilegeError


def open_sources(app: AppContext, conn_opts: CommandLineOptions) -> LiveSources:
    conn = app.connect(conn_opts)
    return LiveSources(conn, detect_server(conn))


def require(value: object, what: str, missing_grants: list[str]) -> None:
    """Exit 77 naming the grant when a command's core value could not be read for lack of a privilege."""
    if value is None and missing_grants:
        grants = " or ".join(missing_grants)
        raise PrivilegeError(f"{what} unavailable: the account needs {grants}", grant=missing_grants[0])
