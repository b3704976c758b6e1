"""The application context on ctx.obj: consoles, flags, settings and connections closed on exit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import click
import pymysql
from rich.console import Console, RenderableType

from mysqlinspect.connection.connect import open_connection
from mysqlinspect.connection.settings import CommandLineOptions, ConnectionSettings, resolve_settings
from mysqlinspect.render.console import make_consoles
from mysqlinspect.render.jsonout import dumps


@dataclass
class AppContext:
    debug: bool = False
    no_color: bool = False
    verbose: int = 0
    out: Console = field(init=False)
    err: Console = field(init=False)
    _connections: list[pymysql.connections.Connection] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.out, self.err = make_consoles(self.no_color)

    def settings(self, conn_opts: CommandLineOptions) -> ConnectionSettings:
        return resolve_settings(conn_opts)

    def connect(self, conn_opts: CommandLineOptions | ConnectionSettings, read_only: bool = True) -> Any:
        """Open a connection that is closed when the command ends."""
        settings = conn_opts if isinstance(conn_opts, ConnectionSettings) else self.settings(conn_opts)
        conn = open_connection(settings, read_only=read_only)
        self._connections.append(conn)
        return conn

    def close(self) -> None:
        for conn in self._connections:
            try:
                conn.close()
            except Exception:
                pass
        self._connections.clear()

    def emit_json(self, payload: Any) -> None:
        click.echo(dumps(payload))

    def emit(self, renderable: RenderableType) -> None:
        self.out.print(renderable)

    def emit_result(self, output_format: str, result: Any, render: Callable[[Any], RenderableType]) -> None:
        """`result` as JSON (its to_dict() where it has one), or as the table `render` builds from it."""
        if output_format == "json":
            self.emit_json(result)
        else:
            self.emit(render(result))

    def warn(self, message: str) -> None:
        self.err.print(f"mysqlinspect: warning: {message}", markup=False, highlight=False)


pass_app = click.make_pass_decorator(AppContext)
