"""Shared click options for binlog commands: range selection and event filters (tail, stats, replay).

    @binlog_range_options(follow=True)   -> the command receives `range_spec: RangeSpec`
    @binlog_filter_options               -> the command receives `event_filter: EventFilter`
    @binlog_stream_options               -> the command receives `replica_server_id: int | None`
    @binlog_decoder_option               -> the command receives `decoder: "own" | "library"`
    @binlog_file_arguments               -> the command receives `files: tuple[str, ...]`, `verify_checksum: bool`
    @binlog_jobs_options(what)           -> the command receives `jobs: int`, `chunk_bytes: int | None`
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any, TypeVar

import click

from mysqlinspect.binlog.read.filters import EventFilter
from mysqlinspect.binlog.read.preflight import taken_server_id
from mysqlinspect.binlog.read.range import RangeSpec, StartSpec, StopSpec, parse_datetime
from mysqlinspect.binlog.read.server.stream import DECODERS
from mysqlinspect.errors import UsageError

F = TypeVar("F", bound=Callable[..., Any])

_RANGE_NAMES = ("start_file", "start_pos", "start_datetime", "gtid", "include_gtids", "exclude_gtids",
                "stop_file", "stop_pos", "stop_datetime", "follow")
_FILTER_NAMES = ("table", "exclude_table", "op", "event_type", "min_rows", "server_id")


def _range_decorators(follow: bool) -> list[Callable[[F], F]]:
    decorators: list[Callable[[F], F]] = [
        click.option("--start-file", metavar="FILE", help="Start in this binlog file (at --start-pos, default 4)."),
        click.option("--start-pos", type=int, metavar="POS", help="Start at this event position (needs --start-file)."),
        click.option("--start-datetime", metavar="TIME",
                     help="Start at the first transaction stamped at/after TIME ('YYYY-MM-DD HH:MM:SS', local time "
                          "unless an offset such as +00:00 is given)."),
        click.option("--gtid", metavar="GTID", help="Start at the transaction with this GTID (uuid[:tag]:n or d-s-n)."),
        click.option("--include-gtids", metavar="SET", help="Only transactions in this GTID set."),
        click.option("--exclude-gtids", metavar="SET", help="Skip transactions in this GTID set."),
        click.option("--stop-file", metavar="FILE", help="Stop after this file (or at --stop-pos in it)."),
        click.option("--stop-pos", type=int, metavar="POS",
                     help="Stop before the first transaction starting at/after POS in --stop-file."),
        click.option("--stop-datetime", metavar="TIME",
                     help="Stop before the first transaction stamped at/after TIME."),
    ]
    if follow:
        decorators.append(click.option("--follow", "-f", is_flag=True,
                                       help="Keep reading new events past the end of the log (like --stop-never)."))
    return decorators


def binlog_range_options(follow: bool = True) -> Callable[[F], F]:
    """Range options; the command receives `range_spec`."""

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            values = {name: kwargs.pop(name, None) for name in _RANGE_NAMES}
            kwargs["range_spec"] = range_spec_from(values)
            return fn(*args, **kwargs)

        for decorator in reversed(_range_decorators(follow)):
            wrapper = decorator(wrapper)
        return wrapper  # type: ignore[return-value]

    return decorate


def range_spec_from(values: dict[str, Any]) -> RangeSpec:
    spec = RangeSpec(
        start=StartSpec(file=values.get("start_file"), pos=values.get("start_pos"),
                        datetime=_when(values.get("start_datetime")), gtid=values.get("gtid")),
        stop=StopSpec(file=values.get("stop_file"), pos=values.get("stop_pos"),
                      datetime=_when(values.get("stop_datetime"))),
        include_gtids=values.get("include_gtids"),
        exclude_gtids=values.get("exclude_gtids"),
        follow=bool(values.get("follow")),
    )
    try:
        spec.validate()
    except UsageError as exc:
        raise click.UsageError(str(exc)) from exc
    return spec


def _when(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return parse_datetime(text)
    except UsageError as exc:
        raise click.UsageError(str(exc)) from exc


_FILTER_DECORATORS: tuple[Callable[[Any], Any], ...] = (
    click.option("--table", "-t", "table", multiple=True, metavar="DB.TBL",
                 help="Only these tables (glob, schema-qualified: shop.order*, *.audit). Repeatable."),
    click.option("--exclude-table", multiple=True, metavar="DB.TBL", help="Skip these tables (glob). Repeatable."),
    click.option("--op", metavar="OPS", help="Only these operations: insert,update,delete,ddl,other."),
    click.option("--event-type", multiple=True, metavar="TYPE",
                 help="Only these event types (WriteRows, UpdateRows, DeleteRows, Query, Gtid, Xid, TableMap ...)."),
    click.option("--min-rows", type=click.IntRange(min=0), default=0,
                 help="Only transactions with at least this many (matching) rows."),
    click.option("--server-id", type=int, multiple=True, metavar="ID",
                 help="Only events written by this originating server id. Repeatable."),
)


def binlog_filter_options(fn: F) -> F:
    """Filter options; the command receives `event_filter`."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        values = {name: kwargs.pop(name, None) for name in _FILTER_NAMES}
        try:
            kwargs["event_filter"] = EventFilter.build(
                tables=values["table"] or (), exclude_tables=values["exclude_table"] or (), ops=values["op"],
                event_types=values["event_type"] or (), min_rows=values["min_rows"] or 0,
                server_ids=values["server_id"] or ())
        except UsageError as exc:
            raise click.UsageError(str(exc)) from exc
        return fn(*args, **kwargs)

    for decorator in reversed(_FILTER_DECORATORS):
        wrapper = decorator(wrapper)
    return wrapper  # type: ignore[return-value]


def binlog_stream_options(fn: F) -> F:
    """`--replica-server-id`; the command receives `replica_server_id` (None: a random unique id)."""
    option = click.option("--replica-server-id", type=click.IntRange(1, 2**32 - 1), default=None,
                          help="Server id this reader registers with (default: random, unique).")
    return option(fn)


def binlog_decoder_option(fn: F) -> F:
    """`--decoder own|library` for commands that decode rows from a server; the command receives `decoder`."""
    option = click.option("--decoder", type=click.Choice(DECODERS), default="own", show_default=True,
                          help="Row decoder for a server's binlog: own (fast) or library (mysql-replication, the "
                               "previous engine).")
    return option(fn)


def binlog_jobs_options(what: str) -> Callable[[F], F]:
    """`--jobs N` (0: one per CPU) and the hidden `--chunk-bytes` for commands decoding local files in several
    processes; the command receives `jobs` (the count, 0 resolved) and `chunk_bytes`. `what`: when it applies."""
    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            kwargs["jobs"] = kwargs["jobs"] or os.cpu_count() or 1
            return fn(*args, **kwargs)

        jobs = click.option("--jobs", type=click.IntRange(0, 64), default=0, show_default=True,
                            help=f"{what}: decode in this many processes (0: one per CPU; 1: this one only). The "
                                 "output is the same, in the same order.")
        chunk = click.option("--chunk-bytes", type=click.IntRange(min=1), hidden=True,
                             help="--jobs: bytes of binlog per chunk (tests: force small chunks).")
        return jobs(chunk(wrapper))  # type: ignore[return-value]
    return decorate


def refuse_taken_server_id(conn: Any, replica_server_id: int | None) -> None:
    """--replica-server-id must be neither the source's own id nor a connected replica's (exit 64)."""
    reason = taken_server_id(conn, replica_server_id)
    if reason:
        raise UsageError(reason)


def binlog_file_arguments(fn: F) -> F:
    """`[FILE|DIR]...` (local binlog/relay-log files, read with no server) and `--no-verify-checksum`; the command
    receives `files` and `verify_checksum`."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        kwargs["verify_checksum"] = not kwargs.pop("no_verify_checksum", False)
        return fn(*args, **kwargs)

    option = click.option("--no-verify-checksum", is_flag=True,
                          help="Read on past events whose CRC32 does not match (default: exit 65).")
    argument = click.argument("files", nargs=-1, type=click.Path(), metavar="[FILE|DIR]...")
    return argument(option(wrapper))  # type: ignore[return-value]
