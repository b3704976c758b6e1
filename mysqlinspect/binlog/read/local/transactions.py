"""Transactions from local binlog files, with no server: file source -> own decoder -> transactions -> filters.

A RangeSpec is resolved against the files (`resolve_file_range`) into the same ResolvedRange a server range gives,
so `replay` handles both alike. Positions apply per file in the files' order (--start-file/--start-pos:
transactions starting before it are skipped, though still decoded for their Table_maps; --stop-file/--stop-pos:
transactions starting at or after it end the read; a --stop-file without --stop-pos reads that file whole),
--stop-datetime ends the read at the first transaction stamped at or after it, and --start-datetime, --gtid,
--include-gtids/--exclude-gtids go through the range's gate per transaction, as on a server.
Files before the start file (or, for a --gtid/--include-gtids range, before the first file that can hold those
GTIDs) are not read at all: transactions never span files. `resume_from()` (a checkpoint's position) starts after
what a previous run read; `skipped` is told of every transaction the gate or the filters drop (a checkpoint moves
past them). `header_only` reads events as the stats header scan does (no values decoded; rows counted with
`count_rows`).
A transaction left open at the end of a file (uncommitted, or the file was cut) is never yielded: the source
already ends each file at its last complete transaction and `ends` says where and why.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from mysqlinspect.binlog.decode.events import EventDecoder
from mysqlinspect.binlog.decode.schema_fallback import SchemaFallback, SchemaLookup
from mysqlinspect.binlog.model import EventRecord, Transaction
from mysqlinspect.binlog.position import FIRST_EVENT_POS, BinlogPosition
from mysqlinspect.binlog.read.fastscan import RawRecordAdapter
from mysqlinspect.binlog.read.filters import EventFilter
from mysqlinspect.binlog.read.gtid import GtidSet
from mysqlinspect.binlog.read.local.gtids import first_file_for
from mysqlinspect.binlog.read.range import END_OF_FILE, RangeSpec, ResolvedRange
from mysqlinspect.binlog.read.server.stream import StopBound
from mysqlinspect.binlog.read.transactions import TransactionAssembler
from mysqlinspect.binlog.source.files import display_name
from mysqlinspect.binlog.source.local import FileEnd, LocalBinlogSource, files_origin
from mysqlinspect.binlog.source.rawdump import RawEvent
from mysqlinspect.errors import UsageError

if TYPE_CHECKING:
    from mysqlinspect.binlog.read.local.chunks import ChunkRender, Cuts


def check_file_range(spec: RangeSpec) -> None:
    """Refuse what cannot be done from files (instead of silently reading everything)."""
    if spec.follow:
        raise UsageError("--follow needs a server; local files are read to their end")
    spec.validate()


def resolve_file_range(files: Sequence[Path], spec: RangeSpec, flavor: str) -> ResolvedRange:
    """The ResolvedRange of `spec` over local files (in their reading order); it stops at the end of the last
    file at the latest."""
    names = [display_name(p) for p in files]
    for name in (spec.start.file, spec.stop.file):
        if name is not None and name not in names:
            raise UsageError(f"{name} is not among the files read ({', '.join(names)})")
    last = BinlogPosition(names[-1], END_OF_FILE)
    rng = ResolvedRange(flavor=flavor, start=BinlogPosition(names[0], FIRST_EVENT_POS), stop=StopBound(),
                        follow=False, end_at_start=last, files=[], gtid_executed=None)
    rng.include = GtidSet.parse(spec.include_gtids, flavor) if spec.include_gtids else None
    rng.exclude = GtidSet.parse(spec.exclude_gtids, flavor) if spec.exclude_gtids else None
    start, stop = spec.start, spec.stop
    if start.file is not None:
        rng.start = BinlogPosition(start.file, start.pos if start.pos is not None else FIRST_EVENT_POS)
    if start.datetime is not None:
        rng.start_timestamp = start.datetime.timestamp()
    rng.start_gtid = start.gtid
    if stop.file is not None:
        rng.stop.position = BinlogPosition(stop.file, stop.pos if stop.pos is not None else END_OF_FILE)
        if names.index(stop.file) < names.index(rng.start.file) or rng.stop.position <= rng.start:
            given = stop.file + (f":{stop.pos}" if stop.pos is not None else "")
            raise UsageError(f"the stop ({given}) is not after the start ({rng.start}): nothing to read")
    if stop.datetime is not None:
        rng.stop.timestamp = int(stop.datetime.timestamp())
    if rng.stop.position is None:
        rng.stop.position = last
    return rng


class FileTransactions:
    """Iterate the filtered, complete transactions of local binlog/relay-log files (see module doc).

    `rng` (resolve_file_range's, possibly moved by a resume) wins over `spec`; `lookup` names the columns of
    tables logged without FULL row metadata; `gtid_started`: a --gtid start was passed before a resume point."""

    chunk_schema: SchemaFallback | None = None  # chunks decoded in children name nothing from a server (parallel_safe)

    def __init__(self, paths: Sequence[str | Path], spec: RangeSpec | None = None,
                 event_filter: EventFilter | None = None, verify_checksum: bool = True,
                 warn: Callable[[str], None] = lambda message: None, *, rng: ResolvedRange | None = None,
                 lookup: SchemaLookup | None = None, gtid_started: bool = False, header_only: bool = False,
                 count_rows: bool = False) -> None:
        self.source = LocalBinlogSource(paths, verify_checksum=verify_checksum)
        self.filter = event_filter or EventFilter()
        self.decoder = EventDecoder(warn=warn, schema=SchemaFallback(lookup, warn) if lookup is not None else None)
        self.warn = warn
        self.all_files = list(self.source.files)
        self.order = {display_name(p): i for i, p in enumerate(self.all_files)}
        if rng is None:
            rng = resolve_file_range(self.all_files, spec or RangeSpec(), files_origin(paths).flavor)
        self.range = rng
        self.gate = rng.gate()
        self.gate.started = gtid_started
        self.skipped: Callable[[Transaction], None] = lambda txn: None
        self._records = self._record_reader(header_only, count_rows)
        self._skip_files_before(rng.start.file)
        if (spec is not None and spec.start.file is None and spec.uses_gtids and not gtid_started
                and (self.gate.start_gtid is not None or self.gate.include is not None)):
            self.source.files = self.all_files[first_file_for(self.all_files, self.gate):]

    def resume_from(self, position: BinlogPosition) -> None:
        """Start after `position` (a checkpoint's: the end of the last transaction a previous run read)."""
        if position.file not in self.order:
            raise UsageError(f"{position.file} is not among the files read ({', '.join(self.order)})")
        self.range.start = position
        self.gate.started = True  # a --gtid start was passed before the checkpoint was written
        self._skip_files_before(position.file)

    def _skip_files_before(self, name: str) -> None:
        """Transactions never span files: the files before the start are not read at all."""
        self.source.files = self.all_files[self.order.get(name, 0):]

    def _record_reader(self, header_only: bool, count_rows: bool) -> Callable[[RawEvent], Iterable[EventRecord]]:
        if not header_only:
            return self.decoder.decode
        adapter = RawRecordAdapter(checksum_len=0, count_rows=count_rows, body_offset=0)
        return lambda raw: adapter.records((raw.file, raw.start_pos, raw.end_pos, raw.timestamp, raw.type_code,
                                            raw.server_id, raw.size, raw.flags, raw.body))

    @property
    def ends(self) -> list[FileEnd]:
        return self.source.ends

    def __iter__(self) -> Iterator[Transaction]:
        assembler = TransactionAssembler()
        opened: Transaction | None = None
        for raw in self.source:
            for record in self._records(raw):
                for item in assembler.feed(record):
                    stop, txn = self.select(item)
                    if stop:
                        return
                    if txn is not None:
                        yield txn
                if assembler.current is not opened:
                    opened = assembler.current
                    if opened is not None and self.past_stop(opened):  # not read: it may be large
                        return

    def select(self, item: Transaction | EventRecord) -> tuple[bool, Transaction | None]:
        """(the read stops here, the transaction to yield or None) for what the assembler returned."""
        if not isinstance(item, Transaction) or not item.complete:
            return False, None
        if self.past_stop(item):
            return True, None
        if self._key(BinlogPosition(item.file, item.start_pos)) < self._key(self.range.start):
            return False, None
        kept = self.filter.filter_transaction(item) if self.gate.admit(item) else None
        if kept is None:
            self.skipped(item)
        return False, kept

    @property
    def parallel_safe(self) -> bool:
        """Whether transactions may be selected in several processes: no --gtid start still to pass in order, and
        no schema server to ask for names (its connection is this process's)."""
        return (self.gate.start_gtid is None or self.gate.started) and self.decoder.schema is None

    def rendered(self, render: Callable[[Transaction], Iterable[bytes]], jobs: int = 1,
                 chunk_bytes: int | None = None) -> Iterator[bytes]:
        """render(txn) of each transaction, in order (blocks of bytes); with jobs > 1 decoded in that many processes
        (read.chunks), several transactions' bytes at a time."""
        if jobs <= 1 or not self.parallel_safe:
            for txn in self:
                yield from render(txn)
            return
        from mysqlinspect.binlog.read.local.chunks import ordered_outputs

        yield from ordered_outputs(self, render, jobs, chunk_bytes)

    def rendered_in_chunks(self, render: ChunkRender, cuts: Cuts, jobs: int, chunk_bytes: int | None = None
                           ) -> Iterator[bytes]:
        """Every file cut into chunks of whole transactions, decoded and rendered by up to `jobs` processes (one:
        this one), each chunk's output cut where `cuts` says from its state (see chunks.ChunkRender)."""
        from mysqlinspect.binlog.read.local.chunks import ordered_outputs

        yield from ordered_outputs(self, render, max(jobs, 1), chunk_bytes, cuts)

    def unmet_start(self) -> str | None:
        """After the read: why nothing was yielded when a --gtid start never came."""
        if self.gate.start_gtid is None or self.gate.started:
            return None
        return f"--gtid {self.gate.start_gtid} is not in the files read: nothing to show"

    def _key(self, position: BinlogPosition) -> tuple[int, int]:
        """Files compare in the order read (a directory's .index order), positions within a file."""
        return self.order.get(position.file, -1), position.pos

    def past_stop(self, txn: Transaction) -> bool:
        """The transaction starts at or after the range's stop (known from its first event)."""
        stop = self.range.stop
        if stop.timestamp is not None and txn.timestamp >= stop.timestamp:
            return True
        return stop.position is not None and self._key(BinlogPosition(txn.file, txn.start_pos)) >= \
            self._key(stop.position)
