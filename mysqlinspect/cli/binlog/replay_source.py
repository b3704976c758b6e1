"""Where `binlog replay` reads its transactions: a source server (COM_BINLOG_DUMP, definitions from the source), or
local binlog files (our own decoder; definitions and missing column names from a schema server, if any).

Both give the replay the same things: the range's transactions (as a context manager, so the parallel path can
open them in its decoding process), its raw transactions for the events mode with the Format_description to probe
the target with, a raw pass over the range (RangeContents), a connection holding the source's table definitions
(None when there is none: what needs them is reported as unchecked), and a description for the summary and the
checkpoint fingerprint.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol

from mysqlinspect.binlog.decode.statement_text import keywords
from mysqlinspect.binlog.model import EventRecord, Transaction
from mysqlinspect.binlog.read.filters import EventFilter
from mysqlinspect.binlog.read.local.transactions import FileTransactions
from mysqlinspect.binlog.read.range import ResolvedRange
from mysqlinspect.binlog.read.reader import RangeReader
from mysqlinspect.binlog.read.server.stream import StreamOptions
from mysqlinspect.binlog.replay.apply import flavor_family, server_identity, target_flavor
from mysqlinspect.binlog.replay.passthrough import RawTransactions, read_fde
from mysqlinspect.binlog.replay.range_contents import RangeContents, read_file_range_contents, read_range_contents
from mysqlinspect.binlog.replay.raw_assembly import RawTransaction
from mysqlinspect.binlog.replay.raw_files import FileRawTransactions, first_format_description
from mysqlinspect.binlog.replay.schema_lookup import InformationSchemaLookup
from mysqlinspect.binlog.source.files import display_name, resolve_inputs
from mysqlinspect.binlog.source.local import FilesOrigin, LocalBinlogSource
from mysqlinspect.connection.server import ServerInfo
from mysqlinspect.connection.settings import ConnectionSettings
from mysqlinspect.errors import DataError, UsageError


class Transactions(Protocol):
    """A source's transactions over a range, as a context manager."""

    def __enter__(self) -> Iterator[Transaction]: ...

    def __exit__(self, *exc: object) -> None: ...

    def chunk_reader(self) -> FileTransactions | None:
        """The file reader, when the transactions may be decoded in chunks by several processes."""

    def warn_ends(self) -> None:
        """After a chunked read: what the files' ends say (cut transactions)."""


class ServerSource:
    """The live source server the binlog is read from."""

    def __init__(self, settings: ConnectionSettings, conn: Any, info: ServerInfo, options: StreamOptions,
                 warn: Callable[[str], None]) -> None:
        self.settings, self.conn, self.info, self.options, self.warn = settings, conn, info, options, warn
        self.flavor, self.version = info.flavor, info.version
        self.description = {"flavor": info.flavor, "version": info.version_string, "endpoint": settings.endpoint,
                            "hostname": info.hostname, "server_id": info.server_id,
                            "identity": server_identity(conn)}

    @property
    def names(self) -> ConnectionSettings | None:
        """The server that turns the source's session numbers (sql_mode, collation ids) into names."""
        return self.settings

    def definitions(self) -> Any:
        return self.conn

    def transactions(self, rng: ResolvedRange, event_filter: EventFilter, gtid_started: bool = False
                     ) -> Transactions:
        return _ServerTransactions(self.settings, rng, event_filter, self.options, self.warn, gtid_started)

    def raw_transactions(self, rng: ResolvedRange, event_filter: EventFilter, rename: Callable[[str], str],
                         gtid_started: bool) -> Iterable[RawTransaction]:
        return RawTransactions(self.settings, rng, event_filter, self.options.server_id, rename, gtid_started)

    def first_fde(self, rng: ResolvedRange) -> bytes:
        return read_fde(self.settings, rng.start, self.options.server_id)

    def contents(self, rng: ResolvedRange, event_filter: EventFilter) -> RangeContents:
        return read_range_contents(self.settings, rng, event_filter, self.options.server_id)

    def check_names(self, contents: RangeContents) -> None:
        """Names of tables logged without them come from the source's own current definitions."""


class FileSource:
    """Local binlog files; `schema` is the --schema-from server (with --execute, the target by default)."""

    def __init__(self, paths: tuple[str, ...], origin: FilesOrigin, verify_checksum: bool,
                 schema: ConnectionSettings | None, connect: Callable[[ConnectionSettings], Any],
                 warn: Callable[[str], None]) -> None:
        self.paths, self.origin, self.verify, self.schema, self.warn = paths, origin, verify_checksum, schema, warn
        self.flavor, self.version = origin.flavor, origin.version_tuple
        self._connect = connect
        self._conn: Any = None
        names = [display_name(p) for p in LocalBinlogSource(paths).files]
        self.description = {"flavor": origin.flavor, "version": origin.version, "server_id": origin.server_id,
                            "endpoint": f"binlog files {names[0]}..{names[-1]}" if len(names) > 1 else
                            f"binlog file {names[0]}",
                            "files": names, "schema_from": schema.endpoint if schema else None,
                            "identity": f"files:{origin.flavor}:{origin.server_id}"}

    @property
    def names(self) -> ConnectionSettings | None:
        """The schema server names session numbers only when it is of the files' flavor (same numbering)."""
        conn = self.definitions()
        if conn is None or target_flavor(conn) != flavor_family(self.flavor):
            return None
        return self.schema

    def definitions(self) -> Any:
        if self.schema is not None and self._conn is None:
            self._conn = self._connect(self.schema)
        return self._conn

    def transactions(self, rng: ResolvedRange, event_filter: EventFilter, gtid_started: bool = False
                     ) -> Transactions:
        return _FileTransactions(self, rng, event_filter, gtid_started)

    def raw_transactions(self, rng: ResolvedRange, event_filter: EventFilter, rename: Callable[[str], str],
                         gtid_started: bool) -> Iterable[RawTransaction]:
        return _FileRawTransactions(self, rng, event_filter, rename, gtid_started)

    def first_fde(self, rng: ResolvedRange) -> bytes:
        """The Format_description at the start of the range's first file (the probe; a relay log's source
        Format_description, if any, is sent when its events come)."""
        files = resolve_inputs(list(self.paths))
        return first_format_description(next((p for p in files if display_name(p) == rng.start.file), files[0]))

    def contents(self, rng: ResolvedRange, event_filter: EventFilter) -> RangeContents:
        return read_file_range_contents(self.paths, rng, event_filter, self.verify)

    def check_names(self, contents: RangeContents) -> None:
        """SQL needs column names: tables logged without them (binlog_row_metadata not FULL) need a schema server."""
        if contents.unnamed and self.schema is None:
            tables = sorted(f"{s}.{t}" for s, t in contents.unnamed)
            shown = ", ".join(tables[:3]) + (f" and {len(tables) - 3} more" if len(tables) > 3 else "")
            raise UsageError(f"{shown}: logged without column names (binlog_row_metadata was not FULL), which SQL "
                             "needs; pass --schema-from DSN, a server with the same schema")


def refuse_unreplayable(txn: Transaction) -> None:
    """What the replay cannot reproduce, whichever the source: statement-logged DML, partial JSON updates. A large
    transaction (its events on disk) is read back only when its totals say it may hold either."""
    if txn.stored:
        totals = txn.totals
        if not totals.logged_statement and LIBRARY_PARTIAL_UPDATE not in totals.types:
            return
    for event in txn.events:
        _refuse_statement_dml(event)
        _refuse_partial_json(event)


class _ServerTransactions:
    """RangeReader as a context manager yielding its (complete, filtered) transactions."""

    def __init__(self, settings: ConnectionSettings, rng: ResolvedRange, event_filter: EventFilter,
                 options: StreamOptions, warn: Callable[[str], None], gtid_started: bool = False) -> None:
        self.lookup = InformationSchemaLookup(settings)
        self.reader = RangeReader(settings, rng, event_filter, options=options, lookup=self.lookup, warn=warn)
        if gtid_started:
            self.reader.gate.started = True

    def __enter__(self) -> Iterator[Transaction]:
        return self._transactions()

    def _transactions(self) -> Iterator[Transaction]:
        for txn in self.reader.transactions():
            refuse_unreplayable(txn)
            yield txn

    def __exit__(self, *exc: object) -> None:
        self.reader.close()
        self.lookup.close()

    def chunk_reader(self) -> None:
        """A server's stream is read in order, by this process."""
        return None

    def warn_ends(self) -> None:
        """A server's range has no file ends."""


class _FileTransactions:
    """FileTransactions over the (possibly resumed) range as a context manager; names from the schema server."""

    def __init__(self, source: FileSource, rng: ResolvedRange, event_filter: EventFilter,
                 gtid_started: bool) -> None:
        self.lookup = InformationSchemaLookup(source.schema) if source.schema is not None else None
        self.reader = FileTransactions([Path(p) for p in source.paths], event_filter=event_filter,
                                       verify_checksum=source.verify, warn=source.warn, rng=rng,
                                       lookup=self.lookup, gtid_started=gtid_started)
        self.warn = source.warn

    def __enter__(self) -> Iterator[Transaction]:
        return self._transactions()

    def _transactions(self) -> Iterator[Transaction]:
        for txn in self.reader:
            refuse_unreplayable(txn)
            yield txn
        self.warn_ends()

    def warn_ends(self) -> None:
        for end in self.reader.ends:
            if not end.complete:
                self.warn(end.describe())

    def chunk_reader(self) -> FileTransactions | None:
        """The reader, when its transactions may be decoded in chunks by several processes."""
        return self.reader if self.reader.parallel_safe else None

    def __exit__(self, *exc: object) -> None:
        if self.lookup is not None:
            self.lookup.close()


class _FileRawTransactions:
    """FileRawTransactions over the range with the replay's refusals and names from the schema server; the warnings
    about files whose valid data ends early come after the read, as on the decoded path."""

    def __init__(self, source: FileSource, rng: ResolvedRange, event_filter: EventFilter,
                 rename: Callable[[str], str], gtid_started: bool) -> None:
        self.source = source
        self.rng, self.filter, self.rename, self.gtid_started = rng, event_filter, rename, gtid_started

    def __iter__(self) -> Iterator[RawTransaction]:
        source = self.source
        lookup = InformationSchemaLookup(source.schema) if source.schema is not None else None
        reader = FileRawTransactions(source.paths, self.rng, self.filter, source.verify, self.rename,
                                     self.gtid_started, lookup, source.warn, refuse_unreplayable)
        try:
            yield from reader
            for end in reader.ends:
                if not end.complete:
                    source.warn(end.describe())
        finally:
            if lookup is not None:
                lookup.close()


STATEMENT_DML = ("INSERT", "UPDATE", "DELETE", "REPLACE", "LOAD")
LIBRARY_PARTIAL_UPDATE = "PartialUpdateRowsEvent"  # the only events holding partial JSON values (our decoder
# applies the diffs; mysql-replication keeps them)


def _refuse_partial_json(event: EventRecord) -> None:
    """A partial JSON update (binlog_row_value_options=PARTIAL_JSON, set per session too) decoded by the library
    holds a diff object, and only the first diff of each document: its row cannot be written as SQL, checked or
    undone. Stop there, naming it, rather than write a wrong value or fail with an internal error."""
    if event.op == "update":  # partial JSON is an update's after image only
        for row in event.rows:
            partial = [name for name, value in (row.after or {}).items()
                       if type(value).__name__ in ("JsonDiff", "PartialJson")]
            if partial:
                raise DataError(f"{event.file}:{event.start_pos}: a partial JSON update of {row.schema}.{row.table} "
                                f"({', '.join(partial)}; binlog_row_value_options=PARTIAL_JSON) cannot be replayed "
                                "or undone by mysqlinspect (mysqlbinlog | mysql applies it forward)")


def _refuse_statement_dml(event: EventRecord) -> None:
    """Statement-logged DML has no row images. Other statements (FLUSH, SAVEPOINT ...) change no rows: ignored."""
    if event.event_type == "QueryEvent" and event.op == "other":
        words = keywords((event.query or "").lstrip("( "), 1)
        if words and words[0] in STATEMENT_DML:
            text = " ".join((event.query or "").split())[:100]
            raise DataError(f"statement-logged change at {event.file}:{event.start_pos} ({text}): it has no row "
                            "images, so replay cannot reproduce it exactly (binlog_format was not ROW)")
