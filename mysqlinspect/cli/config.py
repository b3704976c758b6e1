"""`mysqlinspect config show`: the resolved connection settings and where each came from."""

from __future__ import annotations

import click
from rich.table import Table
from rich.text import Text

from mysqlinspect.cli.context import AppContext, pass_app
from mysqlinspect.cli.options import connection_options, output_options
from mysqlinspect.connection.settings import CommandLineOptions, describe_sources


@click.group()
def config() -> None:
    """Connection settings."""


@config.command("show")
@connection_options
@output_options("table", "json")
@click.option("--sources", is_flag=True, help="Show where each value came from.")
@pass_app
def show(app: AppContext, conn_opts: CommandLineOptions, output_format: str, sources: bool) -> None:
    """Show the resolved connection settings (the password is always redacted)."""
    settings = app.settings(conn_opts)
    rows = describe_sources(settings)
    if output_format == "json":
        if sources:
            app.emit_json({name: {"value": value, "source": src} for name, value, src in rows})
        else:
            app.emit_json({name: value for name, value, _ in rows})
        return
    table = Table(title="Connection settings", title_justify="left")
    table.add_column("setting", style="bold")
    table.add_column("value")
    if sources:
        table.add_column("source")
    for name, value, src in rows:
        cells = [name, "-" if value is None else str(value)] + ([src] if sources else [])
        table.add_row(*(Text(cell) for cell in cells))  # Text: "[client]" in a source is not rich markup
    app.emit(table)
