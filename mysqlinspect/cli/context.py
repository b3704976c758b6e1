"""The application context on ctx.obj: consoles, flags, settings and connections closed on exit.

Heavy modules are imported when first needed, not with the CLI: the rich consoles on the first print, PyMySQL
and the connection modules on the first connection, so offline commands (`pages verify --format json`, ...)
start without them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import click

from mysqlinspect.render.jsonout import dumps

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

    from mysqlinspect.connection.settings import CommandLineOptions, ConnectionSettings


@dataclass
class AppContext:
    debug: bool = False
    no_color: bool = False
    verbose: int = 0
    _consoles: tuple[Console, Console] | None = field(default=None, init=False, repr=False)
    _connections: list[Any] = field(default_factory=list)

    def _make_consoles(self) -> tuple[Console, Console]:
        if self._consoles is None:
            from mysqlinspect.render.console import make_consoles

            self._consoles = make_consoles(self.no_color)
        return self._consoles

    @property
    def out(self) -> Console:
        """The rich console for data (stdout), built on first use."""
        return self._make_consoles()[0]

    @property
    def err(self) -> Console:
        """The rich console for messages (stderr), built on first use."""
        return self._make_consoles()[1]

    def settings(self, conn_opts: CommandLineOptions) -> ConnectionSettings:
        from mysqlinspect.connection.settings import resolve_settings

        return resolve_settings(conn_opts)

    def connect(self, conn_opts: CommandLineOptions | ConnectionSettings, read_only: bool = True) -> Any:
        """Open a connection that is closed when the command ends."""
        from mysqlinspect.connection.connect import open_connection
        from mysqlinspect.connection.settings import ConnectionSettings

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
