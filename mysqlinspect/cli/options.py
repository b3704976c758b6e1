"""Shared option decorators: connection options (mysql client letters) and output format."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])
PROMPT = "\0prompt"


def _connection_option_decorators() -> tuple[Callable[[F], F], ...]:
    """Built when a command that connects is defined (offline commands do not import the connection modules)."""
    from mysqlinspect.connection.settings import SSL_MODES

    return (
        click.option("-h", "--host", help="Server host; `localhost` means the Unix socket."),
        click.option("-P", "--port", type=int, help="TCP port (default 3306)."),
        click.option("-u", "--user", help="Account name (default: your login name)."),
        click.option(
            "-p", "--password", is_flag=False, flag_value=PROMPT, default=None,
            help="Password; give -p without a value to be prompted.",
        ),
        click.option("-S", "--socket", help="Unix socket path."),
        click.option("--protocol", type=click.Choice(["TCP", "SOCKET"], case_sensitive=False),
                     help="Force TCP or socket."),
        click.option("--defaults-file", type=click.Path(dir_okay=False), help="Read only this option file."),
        click.option("--defaults-extra-file", type=click.Path(dir_okay=False), help="Read this option file too."),
        click.option("--no-defaults", is_flag=True, default=False,
                     help="Read no option files (~/.mylogin.cnf still is)."),
        click.option("--login-path", help="Login path in ~/.mylogin.cnf (or MYSQL_TEST_LOGIN_FILE)."),
        click.option("--ssl-mode", type=click.Choice(SSL_MODES, case_sensitive=False), help="TLS mode."),
        click.option("--ssl-ca", type=click.Path(dir_okay=False), help="CA certificate file."),
        click.option("--ssl-cert", type=click.Path(dir_okay=False), help="Client certificate file."),
        click.option("--ssl-key", type=click.Path(dir_okay=False), help="Client key file."),
        click.option("--connect-timeout", type=int, help="Seconds to wait for the connection (default 10)."),
    )


_CONNECTION_NAMES = (
    "host", "port", "user", "password", "socket", "protocol", "defaults_file", "defaults_extra_file", "no_defaults",
    "login_path", "ssl_mode", "ssl_ca", "ssl_cert", "ssl_key", "connect_timeout",
)


def connection_options(fn: F) -> F:
    """Add the mysql-client connection options; the command receives them as `conn_opts`."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        values = {name: kwargs.pop(name, None) for name in _CONNECTION_NAMES}
        if values["password"] == PROMPT:
            values["password"] = prompt_password()
        values["no_defaults"] = bool(values["no_defaults"])
        for key in ("ssl_mode", "protocol"):
            if values[key]:
                values[key] = str(values[key]).upper()
        from mysqlinspect.connection.settings import CommandLineOptions

        kwargs["conn_opts"] = CommandLineOptions(**values)
        return fn(*args, **kwargs)

    for decorator in reversed(_connection_option_decorators()):
        wrapper = decorator(wrapper)
    return wrapper  # type: ignore[return-value]


def prompt_password() -> str:
    if not sys.stdin.isatty():
        line = sys.stdin.readline()
        if not line:
            raise click.UsageError("-p given without a value and no password on standard input")
        return line.rstrip("\n")
    return str(click.prompt("Enter password", hide_input=True, default="", show_default=False, err=True))


def output_options(*formats: str, default: str = "auto") -> Callable[[F], F]:
    """`--format` with the given choices; `auto` means table on a terminal and json otherwise."""
    choices = formats or ("table", "json")

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            fmt = kwargs.pop("output_format")
            if fmt == "auto":
                fmt = "table" if sys.stdout.isatty() else ("json" if "json" in choices else choices[0])
            kwargs["output_format"] = fmt
            return fn(*args, **kwargs)

        option = click.option(
            "--format", "output_format", type=click.Choice(("auto", *choices)), default=default, show_default=True,
            help=f"Output format (auto: table on a terminal, else {'json' if 'json' in choices else choices[0]}).",
        )
        return option(wrapper)  # type: ignore[return-value]

    return decorate
