"""The `mysqlinspect` click group and `main()`: the one place where errors become messages and exit codes."""

from __future__ import annotations

import atexit
import gc
import importlib
import importlib.util
import sys
from collections.abc import Sequence
from typing import Any, NamedTuple

import click

from mysqlinspect import __version__
from mysqlinspect.errors import MysqlInspectError
from mysqlinspect.exit_codes import ExitCode


class Lazy(NamedTuple):
    """A subcommand imported only when it runs: "module:attribute", and its short help for the group's --help."""

    target: str
    short_help: str


# The command registry: one line per command. `--help` lists them from here without importing any engine.
COMMANDS: dict[str, Lazy] = {
    "binlog": Lazy("mysqlinspect.cli.binlog:binlog",
                   "Binary log: list files, tail events, statistics, replay and flashback."),
    "check": Lazy("mysqlinspect.cli.server.check:check",
                  "Judge redo, undo, doublewrite and binlog health; exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN."),
    "config": Lazy("mysqlinspect.cli.config:config", "Connection settings."),
    "doublewrite": Lazy("mysqlinspect.cli.innodb.doublewrite:doublewrite",
                        "Doublewrite mode (ON/OFF/DETECT_ONLY/DETECT_AND_RECOVER, MariaDB atomic writes), files, "
                        "pages and batch size, pages written, writes and pages per write."),
    "datadir": Lazy("mysqlinspect.cli.innodb.datadir:datadir",
                    "Map a data directory (a copy, a backup, or a stopped server's): every file classified, each "
                    "tablespace's page 0 decoded (space id, flags, size, free limit, version), redo and binary logs "
                    "summarised."),
    "durability": Lazy("mysqlinspect.cli.server.durability:durability",
                       "One report of the crash-safety settings (binlog, sync_binlog, innodb_flush_log_at_trx_commit, "
                       "doublewrite, checksums, GTID, two-phase commit) and, for a mysqld crash, an OS crash or power "
                       "loss and a torn page write, what can be lost or broken and the setting responsible."),
    "pages": Lazy("mysqlinspect.cli.innodb.pages:pages",
                  "InnoDB tablespace pages, offline (files of a stopped server or a copy)."),
    "recovery": Lazy("mysqlinspect.cli.innodb.recovery:recovery",
                     "What InnoDB and the server would do if started on DATADIR after a crash, from the files alone: "
                     "torn pages restored from the doublewrite buffer, redo to apply (checkpoint, end of log, bytes, "
                     "files), transactions to roll back (id, row operations, tables), prepared transactions and "
                     "their fate from the binary log (commit / roll back / stays prepared), the binlog truncation "
                     "point, and what the durability settings may have lost."),
    "redo": Lazy("mysqlinspect.cli.redo:redo", "InnoDB redo log: live status, offline files, crash-recovery preview."),
    "sandbox": Lazy("mysqlinspect.cli.sandbox:sandbox",
                    "A local sandbox server with binary logging on (for trying the tool)."),
    "status": Lazy("mysqlinspect.cli.server.status:status",
                   "Server, binlog position, redo checkpoint age, doublewrite, undo and durability settings."),
    "tablespaces": Lazy("mysqlinspect.cli.innodb.tablespaces:tablespaces",
                        "Every InnoDB tablespace: kind (system, dictionary, file-per-table, general, undo, temporary), "
                        "files, size, used and free space, autoextend and maximum size, page size, row format, "
                        "compression, encryption, the tables of shared tablespaces; undo states and truncation "
                        "settings; session temporary tablespaces and temporary tables; totals per kind and the largest "
                        "space OPTIMIZE TABLE would give back."),
    "undo": Lazy("mysqlinspect.cli.innodb.undo:undo",
                 "Undo tablespaces, truncation and purge settings, history list length, purge lag and the oldest "
                 "active transactions (age, thread, rows modified, undo records, statement)."),
    "watch": Lazy("mysqlinspect.cli.server.watch:watch",
                  "Refreshing view of redo bytes/s, checkpoint age and its trend, log waits/s, doublewrite pages/s "
                  "and the history list length trend."),
}


def _module_exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


class LazyGroup(click.Group):
    """A group whose subcommands are imported only when used: `lazy` maps name -> Lazy (or "module:attribute").

    Listing and the short help come from the table, so `--help` imports no subcommand module.
    """

    def __init__(self, *args: Any, lazy: dict[str, Lazy] | dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy: dict[str, Lazy] = {
            name: entry if isinstance(entry, Lazy) else Lazy(entry, "") for name, entry in (lazy or {}).items()
        }

    def list_commands(self, ctx: click.Context) -> list[str]:
        names = sorted({*super().list_commands(ctx), *self.lazy})
        return [name for name in names if name not in self.lazy
                or _module_exists(self.lazy[name].target.split(":")[0])]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            module_name, attr = self.lazy[cmd_name].target.split(":")
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError as exc:
                if exc.name == module_name:
                    return None  # a command whose module is not part of this build
                raise
            command: click.Command = getattr(module, attr)
            return command
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            entry = self.lazy.get(name)
            if entry is not None and entry.short_help:
                rows.append((name, click.Command(name, help=entry.short_help).get_short_help_str(limit)))
                continue
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


class InspectGroup(LazyGroup):
    """The top-level group; `main` maps every failure to an ExitCode with a one-line message."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True, **extra: Any) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        if args is None and any(a.startswith("--password") or (a[:1] == "-" and a[1:2] != "-" and "p" in a)
                                for a in argv):
            # the real process (not a test runner): keep a -p password out of `ps`
            from mysqlinspect.cli.proctitle import hide_password_from_ps

            hide_password_from_ps(argv)
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
        words = exc.ctx.command_path.split(" ")[1:] if exc.ctx else []  # the group's own name comes from prog_name
        hint = f" (try '{' '.join([prog_name, *words, '--help'])}')"
        return _error(exc.format_message() + (hint if exc.ctx else ""), ExitCode.USAGE)
    except click.Abort:
        return _error("interrupted", ExitCode.INTERRUPTED)
    except KeyboardInterrupt:
        return _error("interrupted", ExitCode.INTERRUPTED)
    except MysqlInspectError as exc:
        if debug:
            _print_traceback()
        return _error(_one_line(str(exc)), exc.exit_code)
    except click.ClickException as exc:
        return _error(_one_line(exc.format_message()), ExitCode.USAGE)
    except BrokenPipeError:
        _silence_stdout()
        return ExitCode.OK
    except Exception as exc:
        if debug:
            _print_traceback()
            return ExitCode.SOFTWARE
        return _error(f"internal error: {type(exc).__name__}: {_one_line(str(exc))} (run with --debug for details)",
                      ExitCode.SOFTWARE)


def _print_traceback() -> None:
    import traceback  # only with --debug: not imported at start-up

    traceback.print_exc()


def _one_line(message: str) -> str:
    return " ".join(message.split())


def _silence_stdout() -> None:
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


@click.group(cls=InspectGroup, lazy=COMMANDS,
             context_settings={"help_option_names": ["--help"], "max_content_width": 120})
@click.version_option(__version__, "--version", prog_name="mysqlinspect")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.option("--no-color", is_flag=True, envvar="NO_COLOR", help="Plain output without colours.")
@click.option("-v", "--verbose", count=True, help="More detail on stderr.")
@click.pass_context
def cli(ctx: click.Context, debug: bool, no_color: bool, verbose: int) -> None:
    """Inspect MySQL/MariaDB redo, undo, doublewrite and binary logs, and crash safety."""
    from mysqlinspect.cli.context import AppContext  # not at module level: --help stays free of engine imports

    app = AppContext(debug=debug, no_color=no_color, verbose=verbose)
    ctx.obj = app
    ctx.call_on_close(app.close)


def main(argv: Sequence[str] | None = None) -> int:
    """Console-script entry point."""
    _skip_collection_at_exit()
    _collect_less_often()
    return int(cli.main(args=argv, standalone_mode=False))


YOUNG_COLLECTION_AT = 20_000  # container objects allocated and not yet freed (Python's default: 700)


def _collect_less_often() -> None:
    """The binlog readers allocate a few dicts and records per row that live until their transaction is written:
    at Python's default threshold the young generation is collected thousands of times per million rows (7-8% of
    a replay's time); at this one a few times. Garbage cycles are still collected, a few MB later at most."""
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_AT, middle, old)


def _skip_collection_at_exit() -> None:
    """At interpreter exit, freeze the objects instead of letting the final garbage collections walk all that the
    imports created: 15-20 ms, a tenth of `pages verify` on a 1 GiB file. atexit handlers run before those
    collections; objects are still freed by reference counting, only cycles left unreachable at exit are not
    (Python does not promise their finalizers run at exit either). Registered once, however often main() runs."""
    atexit.unregister(gc.freeze)
    atexit.register(gc.freeze)
