"""`mysqlinspect sandbox`: start, load, show and stop a local throw-away server (writes: it owns its directory)."""

from __future__ import annotations

from pathlib import Path

import click
from click.core import ParameterSource

from mysqlinspect.cli.context import AppContext, pass_app
from mysqlinspect.errors import UsageError
from mysqlinspect.sandbox.load import run_write_load
from mysqlinspect.sandbox.server import STATE_FILE, SandboxServer

DEFAULT_DIR = ".sandbox"


def _dir_option(fn):  # type: ignore[no-untyped-def]
    return click.option("--dir", "directory", type=click.Path(file_okay=False), default=None,
                        help=f"Sandbox directory (default {DEFAULT_DIR}/FLAVOR).")(fn)


def _flavor_option(fn):  # type: ignore[no-untyped-def]
    return click.option("--flavor", type=click.Choice(["mysql", "mariadb"]), default="mysql", show_default=True,
                        help="mysql: Oracle MySQL 9.7 (downloaded once); mariadb: the system's MariaDB.")(fn)


def _short_path(path: Path) -> str:
    """Relative to the working directory when below it (`.sandbox/mysql/client`), else absolute."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _base(directory: str | None, flavor: str) -> Path:
    return Path(directory or f"{DEFAULT_DIR}/{flavor}").resolve()


@click.group()
def sandbox() -> None:
    """A local sandbox server with binary logging on (for trying the tool)."""


@sandbox.command()
@_flavor_option
@_dir_option
@click.option("--port", type=int, default=0, help="TCP port on 127.0.0.1 (default: a free one).")
@click.option("--load", "load_seconds", type=float, default=0.0, help="Seconds of write load after start.")
@pass_app
def start(app: AppContext, flavor: str, directory: str | None, port: int, load_seconds: float) -> None:
    """Provision (first time) and start the sandbox; print how to connect."""
    base = _base(directory, flavor)
    if (base / STATE_FILE).exists():
        server = SandboxServer.load(base)
        explicit = click.get_current_context().get_parameter_source("flavor") is ParameterSource.COMMANDLINE
        if explicit and server.flavor != flavor:
            raise UsageError(f"the sandbox in {base} is {server.flavor}, not {flavor}: use another --dir")
    else:
        base.mkdir(parents=True, exist_ok=True)
        server = SandboxServer(flavor=flavor, base=base, port=port)
    app.err.print(f"starting {server.flavor} sandbox in {base} ...", markup=False)
    server.start()
    if load_seconds > 0:
        committed = run_write_load(server.settings(), load_seconds)
        app.err.print(f"write load: {committed} transactions committed", markup=False)
    click.echo(f"sandbox {server.flavor} {server.distribution.version} running on 127.0.0.1:{server.port}")
    click.echo(f"  mysqlinspect:  mysqlinspect status -h 127.0.0.1 -P {server.port} -u root")
    click.echo(f"  client:        {_short_path(server.write_client_script())}   "
               f"(the {'mariadb' if server.flavor == 'mariadb' else 'mysql'} client, connected)")
    click.echo(f"  stop:          mysqlinspect sandbox stop --dir {base}")


@sandbox.command()
@_flavor_option
@_dir_option
@click.option("--seconds", type=float, default=3.0, show_default=True)
@pass_app
def load(app: AppContext, flavor: str, directory: str | None, seconds: float) -> None:
    """Put a little write load on a running sandbox."""
    server = SandboxServer.load(_base(directory, flavor))
    committed = run_write_load(server.settings(), seconds)
    click.echo(f"{committed} transactions committed")


@sandbox.command()
@_flavor_option
@_dir_option
@pass_app
def stop(app: AppContext, flavor: str, directory: str | None) -> None:
    """Stop the sandbox cleanly (its data directory is kept)."""
    server = SandboxServer.load(_base(directory, flavor))
    server.stop()
    click.echo(f"sandbox in {server.base} stopped")
