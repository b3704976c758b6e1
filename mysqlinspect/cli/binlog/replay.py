"""`mysqlinspect binlog replay`: a binlog range as SQL (dry run), or applied to a target; `--flashback` undoes it."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Iterator
from typing import Any, TextIO

import click

from mysqlinspect.binlog.model import Transaction
from mysqlinspect.binlog.position import BinlogPosition
from mysqlinspect.binlog.read import spill
from mysqlinspect.binlog.read.filters import EventFilter
from mysqlinspect.binlog.read.local.transactions import check_file_range, resolve_file_range
from mysqlinspect.binlog.read.preflight import PreflightIssue, preflight_issues
from mysqlinspect.binlog.read.range import RangeSpec, ResolvedRange, resolve_range
from mysqlinspect.binlog.read.server.stream import Decoder, StopBound, StreamOptions
from mysqlinspect.binlog.replay.apply import (
    Applier,
    ApplyOptions,
    TargetCheckpoint,
    flavor_family,
    open_target,
    server_identity,
    source_logs_cascades,
    target_flavor,
    target_settings,
)
from mysqlinspect.binlog.replay.cascades import cascading_keys, refusing_unlogged_cascades
from mysqlinspect.binlog.replay.chunked_sql import SqlChunkRender, write_sql_chunked
from mysqlinspect.binlog.replay.events_replay import execute_events, execute_events_flashback
from mysqlinspect.binlog.replay.generated import GeneratedColumns, OnUpdateColumns, UniqueKeyColumns
from mysqlinspect.binlog.replay.parallel import execute_parallel
from mysqlinspect.binlog.replay.passthrough import APPLY_MODES, events_mode_blockers, start_events_session
from mysqlinspect.binlog.replay.range_contents import (
    MARIADB_ONLY_TYPES,
    VECTOR_TYPE,
    RangeContents,
    columns_of_data_types,
    missing_collations,
    system_versioned,
    triggers_on,
)
from mysqlinspect.binlog.replay.replay import (
    LocalCheckpoint,
    ReplayMode,
    ReplaySummary,
    check_flashback,
    execute,
    write_sql,
    write_sql_file,
)
from mysqlinspect.binlog.replay.session_vars import SessionNames, TargetSessionNames
from mysqlinspect.binlog.replay.sqlgen import SqlOptions
from mysqlinspect.binlog.replay.sqlliteral import cross_flavor_dialect
from mysqlinspect.binlog.source.files import resolve_inputs
from mysqlinspect.binlog.source.local import files_origin
from mysqlinspect.cli.binlog.options import (
    binlog_decoder_option,
    binlog_file_arguments,
    binlog_filter_options,
    binlog_jobs_options,
    binlog_range_options,
    binlog_stream_options,
    refuse_taken_server_id,
)
from mysqlinspect.cli.binlog.replay_source import FileSource, ServerSource, Transactions, refuse_unreplayable
from mysqlinspect.cli.context import AppContext, pass_app
from mysqlinspect.cli.options import connection_options, output_options
from mysqlinspect.connection.server import detect_server
from mysqlinspect.connection.settings import CommandLineOptions, ConnectionSettings
from mysqlinspect.errors import PrivilegeError, UnsupportedServerError, UsageError
from mysqlinspect.render.binlog.replay import render_summary, summary_text

# Settings under which replay cannot reproduce the changes exactly (warnings only: binlog_checksum, compression).
REFUSED_SETTINGS = frozenset({"binlog_format", "binlog_row_image", "binlog_row_metadata", "binlog_row_value_options",
                              "log_bin_compress"})


def refuse_unreproducible(app: AppContext, issues: list[PreflightIssue]) -> None:
    """Refuse settings that make exact SQL impossible, naming them; the rest are warnings."""
    refused = [i for i in issues if i.name in REFUSED_SETTINGS and i.blocking]
    for issue in issues:
        if issue not in refused:
            app.warn(issue.message)
    if refused:
        detail = "; ".join(i.message for i in refused)
        raise UnsupportedServerError(f"replay cannot reproduce this binlog exactly: {detail}")


def parse_rewrite(values: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    pairs = []
    for value in values:
        old, sep, new = value.partition("=")
        if not sep:
            old, sep, new = value.partition("->")
        if not sep or not old.strip() or not new.strip():
            raise click.BadParameter(f"{value!r}: use FROM=TO", param_hint="--rewrite-db")
        pairs.append((old.strip(), new.strip()))
    return tuple(pairs)


@click.command()
@binlog_file_arguments
@connection_options
@binlog_range_options(follow=False)
@binlog_filter_options
@binlog_stream_options
@binlog_decoder_option
@click.option("--flashback", is_flag=True, help="Undo the range: inverse statements, newest transaction first.")
@click.option("--skip-ddl", is_flag=True, help="Leave DDL out (a flashback stops at DDL without this).")
@click.option("--full-columns", is_flag=True, help="UPDATE SET every column, not only the changed ones.")
@click.option("--rewrite-db", multiple=True, metavar="FROM=TO", help="Write changes of database FROM into TO.")
@click.option("--batch-rows", type=click.IntRange(1, 10000), default=None,
              help="Rows per statement for consecutive inserts (and, by integer key, updates and deletes) of one "
                   "table (default 1; 100 with --execute).")
@click.option("--output", "-o", "output_file", type=click.Path(dir_okay=False), metavar="FILE",
              help="Write the SQL to FILE (renamed into place when complete, with a summary header).")
@click.option("--execute", is_flag=True, help="Apply to the --target server instead of writing SQL.")
@click.option("--target", metavar="DSN",
              help="Target of --execute: mysql://user:pw@host:port, h=..,P=..,u=..,p=..,S=.. or host[:port]; "
                   "unnamed parts are the source's.")
@click.option("--sql-log-bin", type=click.Choice(["0", "1"]), default="1", show_default=True,
              help="0: the applied changes are not written to the target's binary log (needs SUPER or "
                   "SYSTEM_VARIABLES_ADMIN).")
@click.option("--rate", type=click.FloatRange(min=0, min_open=True), metavar="ROWS/S",
              help="Apply at most this many row changes per second.")
@click.option("--checkpoint", type=click.Path(dir_okay=False), metavar="FILE",
              help="Resumable --execute: progress is kept on the target in the same transactions as the changes; "
                   "FILE names the job. Run again with the same options to continue.")
@click.option("--verify-current/--no-verify-current", default=None,
              help="Before changing a row, require the target row to equal the expected current image "
                   "(default: on for --flashback --execute).")
@click.option("--allow-triggers", is_flag=True,
              help="Write or apply SQL although triggers exist on tables the range changes (they fire again, so the "
                   "result differs from the source); by default such a replay is refused unless it is applied "
                   "through row events.")
@click.option("--allow-same-server", is_flag=True, help="Allow --execute against the server the binlog comes from.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation before --execute.")
@click.option("--spill-dir", type=click.Path(file_okay=False, exists=True, writable=True),
              help="Directory of the flashback spill file and of the events of large transactions (default: the "
                   "temporary directory).")
@click.option("--parallel/--no-parallel", default=True, show_default=True,
              help="--execute of a forward replay: decode in a second process while this one applies.")
@click.option("--apply-mode", type=click.Choice(APPLY_MODES), default="auto", show_default=True,
              help="--execute: events sends the source's row events as BINLOG statements (like mysqlbinlog | mysql; "
                   "with --flashback inverted, like mariadb-binlog --flashback; needs SUPER/BINLOG_ADMIN or BINLOG "
                   "REPLAY on the target; no trigger fires), sql applies generated SQL, auto uses events when it "
                   "reproduces the same result and falls back to sql otherwise (always sql for a target of the "
                   "other flavor).")
@click.option("--schema-from", metavar="DSN",
              help="FILE|DIR: the server whose table definitions stand in for the source's (generated and ON UPDATE "
                   "columns, triggers, keys; column names of tables logged without binlog_row_metadata=FULL). "
                   "Default with --execute: the target; without it a dry run checks none of them.")
@binlog_jobs_options("Dry-run SQL of a forward replay from local files (without --schema-from)")
@output_options("table", "json")
@pass_app
def replay(app: AppContext, files: tuple[str, ...], conn_opts: CommandLineOptions, range_spec: RangeSpec,
           event_filter: EventFilter, replica_server_id: int | None, decoder: Decoder, flashback: bool,
           skip_ddl: bool, full_columns: bool, rewrite_db: tuple[str, ...], batch_rows: int | None,
           output_file: str | None, execute: bool, target: str | None, sql_log_bin: str, rate: float | None,
           checkpoint: str | None,
           verify_current: bool | None, allow_triggers: bool, allow_same_server: bool, yes: bool,
           spill_dir: str | None, parallel: bool, apply_mode: str, schema_from: str | None,
           verify_checksum: bool, output_format: str, jobs: int, chunk_bytes: int | None) -> None:
    """Replay a binlog range as SQL, or undo it with --flashback.

    Dry run by default: SQL on standard output (or --output FILE). With --execute --target, each source
    transaction is applied as one target transaction, every statement checked to match exactly its rows.
    With FILE or DIR arguments the range is read from local binlog files (a directory in its .index order;
    .gz/.zst copies too), with no source server: point-in-time recovery from copied binlogs.
    """
    _check_combinations(execute, target, output_file, checkpoint, rate, sql_log_bin)
    if schema_from and not files:
        raise click.UsageError("--schema-from is for FILE|DIR arguments (a server source has its own definitions)")
    if files and decoder == "library":
        raise click.UsageError("--decoder library reads from a server; local files are read by our own decoder")
    settings = app.settings(conn_opts)
    stream_options = StreamOptions(server_id=replica_server_id, blocking=False, decoder=decoder,
                                   verify_checksum=verify_checksum)
    source: ServerSource | FileSource
    if files:
        source, rng = _file_source(app, files, settings, range_spec, schema_from or (target if execute else None),
                                   verify_checksum)
    else:
        conn = app.connect(settings)
        info = detect_server(conn)
        refuse_taken_server_id(conn, replica_server_id)
        refuse_unreproducible(app, preflight_issues(info, decoder=decoder))
        rng = resolve_range(conn, settings, range_spec, info.flavor, warn=app.warn)
        if not range_spec.start.given and not range_spec.uses_gtids:
            app.warn("no --start-file/--start-datetime/--gtid/--include-gtids: the range starts at the current end "
                     "of the binary log, so there is nothing to replay")
        source = ServerSource(settings, conn, info, stream_options, app.warn)
    mode = ReplayMode(flashback=flashback, skip_ddl=skip_ddl, spill_dir=spill_dir)
    spill.set_directory(spill_dir)  # large transactions' events, too
    sql_options = SqlOptions(flavor=source.flavor, full_columns=full_columns, rewrite_db=parse_rewrite(rewrite_db),
                             verify_current=bool(verify_current if verify_current is not None else
                                                 (flashback and execute)),
                             batch_rows=batch_rows or (100 if execute else 1))
    definitions = target_settings(target, settings) if execute and target else _definitions_of(source)
    sql_options = _with_definitions(sql_options, source.names, definitions, execute)
    summary = ReplaySummary(mode=mode.name, executed=execute, source=source.description, range=rng.to_dict())
    cascades_logged = source_logs_cascades(source.flavor, source.version)
    if flashback and not cascades_logged:
        target_conn = open_target(target_settings(target, settings)) if execute and target else None
        try:
            refuse_unlogged_cascades(app, source, rng, event_filter, target_conn, sql_options)
        finally:
            if target_conn is not None:
                target_conn.close()
    if execute:
        assert target is not None
        _execute(app, source, rng, event_filter, mode, sql_options, summary, target_settings(target, settings),
                 ApplyOptions(sql_log_bin=sql_log_bin == "1", rate=rate, cascades_logged=cascades_logged,
                              allow_triggers=allow_triggers),
                 checkpoint, allow_same_server, yes, range_spec, parallel, apply_mode)
        _emit_summary(app, summary, output_format)
        return
    contents = source.contents(rng, event_filter)
    source.check_names(contents)
    schema_conn = source.definitions()
    if schema_conn is None:
        app.warn("no --schema-from: generated and ON UPDATE columns, triggers and system-versioned tables of the "
                 "range cannot be checked; the SQL assigns every logged column")
    else:
        refuse_versioned_as_sql(system_versioned(schema_conn, list(contents.tables)))
        refuse_refiring_triggers(app, triggers_on(schema_conn, list(contents.tables)), contents, allow_triggers,
                                 "a server loading this SQL")
    chunks = (jobs, chunk_bytes) if not flashback and schema_conn is None else None
    reading = source.transactions(rng, event_filter)
    if output_file:
        with reading as transactions:
            write_sql_file(output_file, lambda out: _write(reading, transactions, sql_options, mode, out, summary,
                                                           cascades_logged, chunks), summary)
    else:
        with reading as transactions:
            _write(reading, transactions, sql_options, mode, sys.stdout, summary, cascades_logged, chunks)
            sys.stdout.flush()
        app.err.print(summary_text(summary), markup=False, highlight=False, soft_wrap=True)
        for warning in summary.warnings:
            app.warn(warning)
        return
    _emit_summary(app, summary, output_format)


def _file_source(app: AppContext, files: tuple[str, ...], settings: ConnectionSettings, range_spec: RangeSpec,
                 schema_from: str | None, verify_checksum: bool) -> tuple[FileSource, ResolvedRange]:
    """Local files as the source, and the range resolved over them."""
    check_file_range(range_spec)
    origin = files_origin(files)
    schema = target_settings(schema_from, settings) if schema_from else None
    source = FileSource(files, origin, verify_checksum, schema, app.connect, app.warn)
    return source, resolve_file_range(resolve_inputs(list(files)), range_spec, origin.flavor)


def _definitions_of(source: ServerSource | FileSource) -> ConnectionSettings | None:
    return source.settings if isinstance(source, ServerSource) else source.schema


def _with_definitions(options: SqlOptions, names_from: ConnectionSettings | None,
                      definitions: ConnectionSettings | None, execute: bool) -> SqlOptions:
    """Column roles from the target's tables (the source's for SQL output; none known without a server), the
    source's names for session numbers; every cached definition is dropped after DDL."""
    if definitions is None:
        return options
    rename = options.target_schema if execute else str
    generated = GeneratedColumns(definitions, rename=rename)
    unique_columns = UniqueKeyColumns(definitions, rename=rename)
    on_update = OnUpdateColumns(definitions, rename=rename)
    names = SessionNames(names_from) if names_from is not None else None
    for closer in (generated.close, unique_columns.close, on_update.close, names.close if names else None):
        if closer is not None:
            click.get_current_context().call_on_close(closer)

    def forget() -> None:
        for lookup in (generated, unique_columns, on_update):
            lookup.forget()

    return dataclasses.replace(options, generated=generated, unique_columns=unique_columns, on_update=on_update,
                               session_names=names, definitions_changed=forget)


def _check_combinations(execute: bool, target: str | None, output_file: str | None, checkpoint: str | None,
                        rate: float | None, sql_log_bin: str) -> None:
    if execute and not target:
        raise click.UsageError("--execute needs --target")
    if target and not execute:
        raise click.UsageError("--target is only used with --execute (the default is a dry run)")
    if execute and output_file:
        raise click.UsageError("--output writes SQL for a dry run; it cannot be combined with --execute")
    for given, name in ((checkpoint, "--checkpoint"), (rate, "--rate"), (sql_log_bin == "0" or None, "--sql-log-bin")):
        if given and not execute:
            raise click.UsageError(f"{name} needs --execute")


def _write(reading: Transactions, transactions: Iterator[Transaction], options: SqlOptions, mode: ReplayMode,
           out: TextIO, summary: ReplaySummary, cascades_logged: bool, chunks: tuple[int, int | None] | None) -> None:
    """write_sql; `chunks` (jobs, chunk bytes): a forward replay of local files without a schema server is
    decoded and written in chunks by `jobs` processes (with --jobs 1 too when a chunk size is forced), with the
    same output."""
    reader = reading.chunk_reader() if chunks is not None and (chunks[0] > 1 or chunks[1]) else None
    if reader is None or chunks is None:
        write_sql(transactions, options, mode, out, summary, cascades_logged)
        return
    render = SqlChunkRender(options, mode, cascades_logged, refuse_unreplayable)
    write_sql_chunked(reader, render, chunks[0], out, summary, chunks[1])
    reading.warn_ends()


def _emit_summary(app: AppContext, summary: ReplaySummary, output_format: str) -> None:
    app.emit_result(output_format, summary, render_summary)


def _fingerprint(range_spec: RangeSpec, event_filter: EventFilter, mode: ReplayMode, options: SqlOptions,
                 source_identity: str, target_identity: str) -> dict[str, Any]:
    return {
        "mode": mode.name, "source": source_identity, "target": target_identity,
        "range": repr(dataclasses.asdict(range_spec)), "filter": repr(dataclasses.asdict(event_filter)),
        "rewrite_db": [list(p) for p in options.rewrite_db], "full_columns": options.full_columns,
        "skip_ddl": mode.skip_ddl, "verify_current": options.verify_current,
    }


def _execute(app: AppContext, source: ServerSource | FileSource, rng: ResolvedRange, event_filter: EventFilter,
             mode: ReplayMode, sql_options: SqlOptions, summary: ReplaySummary, target: ConnectionSettings,
             apply_options: ApplyOptions, checkpoint_path: str | None, allow_same_server: bool, yes: bool,
             range_spec: RangeSpec, parallel: bool, apply_mode: str) -> None:
    target_conn = open_target(target)
    try:
        _execute_on(app, target_conn, source, rng, event_filter, mode, sql_options, summary, target, apply_options,
                    checkpoint_path, allow_same_server, yes, range_spec, parallel, apply_mode)
    finally:
        target_conn.close()


def _execute_on(app: AppContext, target_conn: Any, source: ServerSource | FileSource, rng: ResolvedRange,
                event_filter: EventFilter, mode: ReplayMode, sql_options: SqlOptions, summary: ReplaySummary,
                target: ConnectionSettings, apply_options: ApplyOptions, checkpoint_path: str | None,
                allow_same_server: bool, yes: bool, range_spec: RangeSpec, parallel: bool, apply_mode: str) -> None:
    target_identity = server_identity(target_conn)
    if target_identity == summary.source["identity"] and not allow_same_server:
        raise UsageError(f"the target {target.endpoint} is the server the binlog comes from; "
                         "pass --allow-same-server to apply to it anyway")
    source_family, target_family = flavor_family(source.flavor), target_flavor(target_conn)
    if target_family != source_family:
        sql_options = dataclasses.replace(sql_options, flavor=cross_flavor_dialect(source_family, target_family))
        if sql_options.session_names is not None:  # sql_mode and collations the target accepts
            names = TargetSessionNames(sql_options.session_names, target, target_family)
            click.get_current_context().call_on_close(names.close)
            sql_options = dataclasses.replace(sql_options, session_names=names)
    applier = Applier(target_conn, apply_options, source.flavor, target_schema=sql_options.target_schema)
    fde = _events_session(app, apply_mode, source, rng, event_filter, mode, sql_options, summary, applier,
                          target_family)
    if fde is None:  # row changes applied as SQL: refuse up front what SQL cannot reproduce
        contents = source.contents(rng, event_filter)
        source.check_names(contents)
        schema_conn = source.definitions()
        refuse_uncrossable(contents, source_family, target_family, target_conn, schema_conn)
        renamed = [(sql_options.target_schema(s), t) for s, t in contents.tables]
        refuse_versioned_as_sql((system_versioned(schema_conn, list(contents.tables)) if schema_conn else [])
                                + system_versioned(target_conn, renamed))
        refuse_refiring_triggers(app, triggers_on(target_conn, renamed), contents, apply_options.allow_triggers,
                                 "the target")
    local = None
    resume = None
    tcp = None
    if checkpoint_path:
        local = LocalCheckpoint.open(checkpoint_path, _fingerprint(range_spec, event_filter, mode, sql_options,
                                                                   summary.source["identity"], target_identity))
        _fix_range(local, rng)
        summary.range = rng.to_dict()
    _confirm(app, summary, target, mode, yes)  # before anything is written to the target (checkpoint schema)
    if local is not None:
        tcp = TargetCheckpoint(target_conn, local.job)
        tcp.ensure()
        resume = tcp.load()
        if resume is not None:
            app.warn(f"resuming job {local.job}: {resume.transactions} transactions already applied, the last at "
                     f"{resume.file}:{resume.pos}")
            summary.checkpoint = resume.to_dict()
        local.save()
    applier.checkpoint = tcp
    gtid_started = False
    if resume is not None and not mode.flashback:
        after = BinlogPosition(resume.end_file, resume.end_pos)
        if after > rng.start:
            rng.start = after
            gtid_started = rng.start_gtid is not None
    if fde is not None:

        def decode(start: BinlogPosition, stop: BinlogPosition) -> list[Transaction]:
            """One transaction the raw reader admitted, decoded again for its positions (no gate: it was)."""
            part = dataclasses.replace(rng, start=start, stop=StopBound(position=stop), start_timestamp=None,
                                       start_gtid=None, include=None, exclude=None)
            with source.transactions(part, event_filter) as transactions:
                return list(transactions)

        def before_sql(tables: set[tuple[str, str]]) -> None:
            renamed = [(sql_options.target_schema(schema), table) for schema, table in tables]
            refuse_refiring_triggers(app, triggers_on(target_conn, renamed), RangeContents(),
                                     apply_options.allow_triggers, "the target")

        raw = source.raw_transactions(rng, event_filter, sql_options.target_schema, gtid_started)
        if not mode.flashback:
            execute_events(raw, decode, sql_options, mode, applier, summary, resume_from=resume, local=local,
                           session_fde=fde, before_sql=before_sql)
            return
        with source.transactions(rng, event_filter) as transactions:
            summary.prechecked_keys = check_flashback(transactions, sql_options, mode, target_conn, resume)

        execute_events_flashback(raw, decode, sql_options, mode, applier, summary, resume_from=resume, local=local,
                                 session_fde=fde, before_sql=before_sql)
        return
    if mode.flashback or not parallel:
        with source.transactions(rng, event_filter, gtid_started) as transactions:
            execute(transactions, sql_options, mode, applier, summary, resume_from=resume, local=local)
        return
    execute_parallel(lambda: source.transactions(rng, event_filter, gtid_started),
                     sql_options, mode, applier, summary, resume_from=resume, local=local)


def _events_session(app: AppContext, apply_mode: str, source: ServerSource | FileSource, rng: ResolvedRange,
                    event_filter: EventFilter, mode: ReplayMode, sql_options: SqlOptions, summary: ReplaySummary,
                    applier: Applier, target_family: str) -> bytes | None:
    """Events mode when asked for or (auto) when it gives the same result: the Format_description sent to the
    target session, or None for the SQL path (summary.apply_mode says which, and why)."""
    summary.apply_mode = "sql"
    if apply_mode == "sql":
        return None
    if target_family != flavor_family(applier.flavor):
        why = (f"the source is {flavor_family(applier.flavor)} and the target {target_family}: a server applies "
               "only row events of its own flavor")
        if apply_mode == "events":
            raise UsageError(f"--apply-mode events: {why}; use --apply-mode sql (or auto)")
        summary.apply_mode_note = f"binlog events not used: {why}"
        app.warn(f"{summary.apply_mode_note}; applying as SQL")
        return None
    blockers = events_mode_blockers(mode.flashback, sql_options.verify_current, event_filter, rng)
    if blockers:
        if apply_mode == "events":
            raise UsageError("--apply-mode events cannot reproduce this replay exactly with "
                             f"{', '.join(blockers)}: use --apply-mode sql (or auto)")
        summary.apply_mode_note = "binlog events not used with " + ", ".join(blockers)
        return None
    if rng.uses_gate and apply_mode == "auto":  # auto's choice as before events mode took these ranges
        summary.apply_mode_note = ("binlog events not used with a GTID or --start-datetime range by auto "
                                   "(--apply-mode events applies it through row events)")
        return None
    fde = source.first_fde(rng)
    try:
        start_events_session(applier, fde)
    except PrivilegeError as exc:
        if apply_mode == "events":
            raise
        summary.apply_mode_note = f"binlog events not used: {exc}"
        app.warn(f"{summary.apply_mode_note}; applying as SQL")
        return None
    summary.apply_mode = "binlog-events"
    return fde


def refuse_uncrossable(contents: RangeContents, source_family: str, target_family: str, target_conn: Any,
                       schema_conn: Any) -> None:
    """Types and collations of the range that a target of the other flavor does not have stop the replay before
    it starts (the collations named in the range's DDL, which would fail at that statement; MariaDB's own types,
    logged as binary strings, found in the source's definitions when there are some)."""
    if source_family == target_family:
        return
    missing = missing_collations(target_conn, contents.collations)
    if missing:
        raise UnsupportedServerError(f"the range's DDL names collations the {target_family} target does not have "
                                     f"({', '.join(missing)}); nothing was applied")
    vectors = contents.columns_of_type(VECTOR_TYPE)
    if vectors and target_family == "mariadb":
        raise UnsupportedServerError(f"the range changes VECTOR columns ({', '.join(vectors)}), a type the MariaDB "
                                     "target does not have; nothing was applied")
    own_types = (columns_of_data_types(schema_conn, contents.tables, MARIADB_ONLY_TYPES)
                 if source_family == "mariadb" and schema_conn is not None else [])
    if own_types:
        raise UnsupportedServerError(f"the range changes columns of MariaDB types the {target_family} target does "
                                     f"not have ({', '.join(own_types)}); nothing was applied")


def refuse_unlogged_cascades(app: AppContext, source: ServerSource | FileSource, rng: ResolvedRange,
                             event_filter: EventFilter, target_conn: Any, sql_options: SqlOptions) -> None:
    """A flashback of a source that does not log cascaded rows (MariaDB): the range's deletes and key updates of
    parents of cascading foreign keys (on the source, and on the target when executing) stop it before anything is
    written (DataError, exit 65), naming the constraint."""
    contents = source.contents(rng, event_filter)
    conn = source.definitions()
    if conn is None:
        app.warn("no --schema-from: the source's cascading foreign keys cannot be checked (MariaDB does not log "
                 "cascaded rows)")
    keys = cascading_keys(conn, contents.tables) if conn is not None else []
    if target_conn is not None:
        known = {key.constraint for key in keys}
        keys += [key for key in cascading_keys(target_conn, contents.tables, sql_options.target_schema)
                 if key.constraint not in known]
    if not keys:
        return
    with source.transactions(rng, event_filter) as transactions:
        for _ in refusing_unlogged_cascades(transactions, keys):
            pass


def refuse_versioned_as_sql(tables: list[str]) -> None:
    """System-versioned tables (MariaDB) are reproduced by row events only: refused before anything is written."""
    if tables:
        raise UsageError(f"the range changes system-versioned tables ({', '.join(dict.fromkeys(tables))}), which SQL "
                         "cannot reproduce (row_start/row_end are set by the server, history rows would be made "
                         "twice). Apply with --execute through row events (--apply-mode auto/events)")


def refuse_refiring_triggers(app: AppContext, triggers: list[str], contents: RangeContents, allow: bool,
                             where: str) -> None:
    """Applied as SQL, the rows the binlog holds fire these triggers again (the source's triggers already did
    their work, and it is in the binlog): refused unless --allow-triggers, then a warning naming them."""
    named = triggers + [f"{name} (created in the range)" for name in contents.refiring_created_triggers()]
    if not named:
        return
    text = f"triggers on tables the range changes would fire again when its rows are applied as SQL on {where}: " \
           + "; ".join(named)
    if not allow:
        raise UsageError(f"{text}. Apply with --execute through row events (--apply-mode auto/events; they fire "
                         "no triggers), or pass --allow-triggers to apply as SQL anyway")
    app.warn(f"{text} (--allow-triggers: the result will differ from the source)")


def _fix_range(local: LocalCheckpoint, rng: ResolvedRange) -> None:
    """The first run fixes the range's start and stop in the checkpoint file; later runs reuse them, so changes
    written since (the replay's own, on the same server) never enter the range."""
    if not local.resolved:
        local.resolved = {"start": rng.start.to_dict(),
                          "stop": rng.stop.position.to_dict() if rng.stop.position else None}
        return
    start = local.resolved.get("start")
    stop = local.resolved.get("stop")
    if start:
        rng.start = BinlogPosition(str(start["file"]), int(start["pos"]))
    if stop:
        rng.stop.position = BinlogPosition(str(stop["file"]), int(stop["pos"]))


def _confirm(app: AppContext, summary: ReplaySummary, target: ConnectionSettings, mode: ReplayMode,
             yes: bool) -> None:
    if yes:
        return
    if not sys.stdin.isatty():
        raise UsageError("--execute changes the target: confirm with --yes when not running on a terminal")
    rng = summary.range
    question = (f"{mode.name} of {summary.source.get('endpoint')} from {rng.get('start')} to "
                f"{rng.get('stop_position')} will be APPLIED to {target.endpoint}. Continue?")
    if not click.confirm(question, default=False, err=True):
        raise UsageError("not confirmed: nothing was applied")
