"""The `mysqlinspect` click group and `main()`: the one place where errors become messages and exit codes."""

from __future__ import annotations

import importlib
import sys
import traceback
from collections.abc import Sequence
from typing import Any

import click

from mysqlinspect import __version__
from mysqlinspect.cli.context import AppContext
from mysqlinspect.errors import MysqlInspectError
from mysqlinspect.exit_codes import ExitCode

# command name -> "module:attribute", imported only when the command runs (keeps --help fast).
LAZY_COMMANDS: dict[str, str] = {
    "status": "mysqlinspect.cli.status:status",
    "config": "mysqlinspect.cli.config:config",
    "sandbox": "mysqlinspect.cli.sandbox:sandbox",
    "redo": "mysqlinspect.cli.redo:redo",
    "binlog": "mysqlinspect.cli.binlog:binlog",
    "check": "mysqlinspect.cli.check:check",
    "undo": "mysqlinspect.cli.undo:undo",
    "doublewrite": "mysqlinspect.cli.doublewrite:doublewrite",
    "durability": "mysqlinspect.cli.durability:durability",
    "watch": "mysqlinspect.cli.watch:watch",
    "datadir": "mysqlinspect.cli.datadir:datadir",
    "pages": "mysqlinspect.cli.pages:pages",
    "recovery": "mysqlinspect.cli.recovery:recovery",
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported only when used: `lazy` maps name -> "module:attribute"."""

    def __init__(self, *args: Any, lazy: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy if lazy is not None else {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        names = sorted({*super().list_commands(ctx), *self.lazy})
        return [name for name in names if self.get_command(ctx, name) is not None]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            module_name, attr = self.lazy[cmd_name].split(":")
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError as exc:
                if exc.name == module_name:
                    return None  # a command whose module is not part of this build
                raise
            command: click.Command = getattr(module, attr)
            return command
        return super().get_command(ctx, cmd_name)


class InspectGroup(LazyGroup):
    """The top-level group; `main` maps every failure to an ExitCode with a one-line message."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True, **extra: Any) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        code = run(self, argv, prog_name or "mysqlinspect", **extra)
        if standalone_mode:
            sys.exit(int(code))
        return int(code)


def _error(message: str, code: ExitCode) -> ExitCode:
    click.echo(f"mysqlinspect: error: {message}", err=True)
    return code


def run(group: click.Group, argv: list[str], prog_name: str, **extra: Any) -> ExitCode:
    debug = "--debug" in argv
    try:
        result = click.Group.main(group, argv, prog_name=prog_name, standalone_mode=False, **extra)
        if isinstance(result, int):
            return ExitCode(result) if result in ExitCode._value2member_map_ else ExitCode.SOFTWARE
        return ExitCode.OK
    except click.exceptions.Exit as exc:
        return ExitCode.OK if exc.exit_code == 0 else ExitCode.USAGE
    except click.UsageError as exc:
        hint = f" (try '{prog_name} {exc.ctx.command_path.split(' ', 1)[-1] if exc.ctx else ''} --help')"
        return _error(exc.format_message() + (hint if exc.ctx else ""), ExitCode.USAGE)
    except click.Abort:
        return _error("interrupted", ExitCode.INTERRUPTED)
    except KeyboardInterrupt:
        return _error("interrupted", ExitCode.INTERRUPTED)
    except MysqlInspectError as exc:
        if debug:
            traceback.print_exc()
        return _error(_one_line(str(exc)), exc.exit_code)
    except click.ClickException as exc:
        return _error(_one_line(exc.format_message()), ExitCode.USAGE)
    except BrokenPipeError:
        _silence_stdout()
        return ExitCode.OK
    except Exception as exc:
        if debug:
            traceback.print_exc()
            return ExitCode.SOFTWARE
        return _error(f"internal error: {type(exc).__name__}: {_one_line(str(exc))} (run with --debug for details)",
                      ExitCode.SOFTWARE)


def _one_line(message: str) -> str:
    return " ".join(message.split())


def _silence_stdout() -> None:
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


@click.group(cls=InspectGroup, lazy=LAZY_COMMANDS,
             context_settings={"help_option_names": ["--help"], "max_content_width": 120})
@click.version_option(__version__, "--version", prog_name="mysqlinspect")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.option("--no-color", is_flag=True, envvar="NO_COLOR", help="Plain output without colours.")
@click.option("-v", "--verbose", count=True, help="More detail on stderr.")
@click.pass_context
def cli(ctx: click.Context, debug: bool, no_color: bool, verbose: int) -> None:
    """Inspect MySQL/MariaDB redo, undo, doublewrite and binary logs, and crash safety."""
    app = AppContext(debug=debug, no_color=no_color, verbose=verbose)
    ctx.obj = app
    ctx.call_on_close(app.close)


def main(argv: Sequence[str] | None = None) -> int:
    """Console-script entry point."""
    return int(cli.main(args=argv, standalone_mode=False))
