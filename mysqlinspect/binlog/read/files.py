"""Transactions from local binlog files, with no server: file source -> own decoder -> transactions -> filters.

Position ranges apply per file (--start-file/--start-pos: files before it are not read, transactions starting
before it in it are skipped; --stop-file/--stop-pos: transactions starting at or after it end the read),
datetimes by transaction timestamp, GTIDs (--gtid: from that transaction on; --include-gtids/--exclude-gtids,
either flavor) through the server path's RangeGate. `resume_from()` (a checkpoint's position) starts after what a
previous run read; `skipped` is told of every transaction the gate or the filters drop (a checkpoint moves past
them). --follow still needs a server.
A transaction left open at the end of a file (uncommitted, or the file was cut) is never yielded: the source
already ends each file at its last complete transaction and `ends` says where and why.
`header_only` reads events as the stats header scan does (no values decoded; rows counted with `count_rows`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

from mysqlinspect.binlog.decode.events import EventDecoder
from mysqlinspect.binlog.model import EventRecord, Transaction
from mysqlinspect.binlog.position import FIRST_EVENT_POS, BinlogPosition
from mysqlinspect.binlog.read.fastscan import RawRecordAdapter
from mysqlinspect.binlog.read.file_gtids import first_file_for
from mysqlinspect.binlog.read.filters import EventFilter
from mysqlinspect.binlog.read.gtid import GtidSet
from mysqlinspect.binlog.read.range import RangeGate, RangeSpec
from mysqlinspect.binlog.read.transactions import TransactionAssembler
from mysqlinspect.binlog.source.local import FileEnd, LocalBinlogSource
from mysqlinspect.binlog.source.rawdump import RawEvent
from mysqlinspect.errors import UsageError


def check_file_range(spec: RangeSpec) -> None:
    """Refuse what cannot be done from files yet (instead of silently reading everything)."""
    if spec.follow:
        raise UsageError("--follow needs a server; local files are read to their end")
    spec.validate()


def file_gate(spec: RangeSpec) -> RangeGate:
    """The GTID part of a range (the flavor is guessed from the notation: uuid[:tag]:n or d-s-n)."""
    return RangeGate(start_gtid=spec.start.gtid,
                     include=GtidSet.parse(spec.include_gtids) if spec.include_gtids else None,
                     exclude=GtidSet.parse(spec.exclude_gtids) if spec.exclude_gtids else None)


class FileTransactions:
    """Iterate the filtered, complete transactions of local binlog/relay-log files (see module doc)."""

    def __init__(self, paths: Sequence[str | Path], spec: RangeSpec | None = None,
                 event_filter: EventFilter | None = None, verify_checksum: bool = True,
                 warn: Callable[[str], None] = lambda message: None, *, header_only: bool = False,
                 count_rows: bool = False) -> None:
        self.source = LocalBinlogSource(paths, verify_checksum=verify_checksum)
        self.spec = spec or RangeSpec()
        self.filter = event_filter or EventFilter()
        self.decoder = EventDecoder(warn=warn)
        self.gate = file_gate(self.spec)
        self.skipped: Callable[[Transaction], None] = lambda txn: None
        self.resume: BinlogPosition | None = None
        self._records = self._record_reader(header_only, count_rows)
        self.all_files = list(self.source.files)
        self.order = {p.name: i for i, p in enumerate(self.source.files)}
        for name in (self.spec.start.file, self.spec.stop.file):
            self._check_known(name)
        self._skip_files_before(self.spec.start.file)
        if self.spec.start.file is None and self.spec.uses_gtids:
            self.source.files = self.all_files[first_file_for(self.all_files, self.gate):]

    def resume_from(self, position: BinlogPosition) -> None:
        """Start after `position` (a checkpoint's: the end of the last transaction a previous run read)."""
        self._check_known(position.file)
        self.resume = position
        self.gate.started = True  # a --gtid start was passed before the checkpoint was written
        self._skip_files_before(position.file)

    def _check_known(self, name: str | None) -> None:
        if name is not None and self._index(name) < 0:
            raise UsageError(f"{name} is not among the files read ({', '.join(self.order)})")

    def _skip_files_before(self, name: str | None) -> None:
        if name is not None:  # transactions never span files: the files before are not read at all
            self.source.files = self.all_files[self._index(name):]

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
        for raw in self.source:
            for record in self._records(raw):
                for item in assembler.feed(record):
                    if not isinstance(item, Transaction) or not item.complete:
                        continue
                    if self._past_stop(item):
                        return
                    if self._before_start(item):
                        continue
                    kept = self.filter.filter_transaction(item) if self.gate.admit(item) else None
                    if kept is not None:
                        yield kept
                    else:
                        self.skipped(item)

    def unmet_start(self) -> str | None:
        """After the read: why nothing was yielded when a --gtid start never came."""
        if self.gate.start_gtid is None or self.gate.started:
            return None
        return f"--gtid {self.gate.start_gtid} is not in the files read: nothing to show"

    def _index(self, name: str | None) -> int:
        return next((i for p, i in self.order.items() if name in (p, _strip(p))), -1)

    def _before_start(self, txn: Transaction) -> bool:
        start = self.spec.start
        if start.datetime is not None and txn.timestamp < int(start.datetime.timestamp()):
            return True
        if self.resume is not None:
            return self._before(txn, self.resume.file, self.resume.pos)
        if start.file is None:
            return False
        return self._before(txn, start.file, start.pos or FIRST_EVENT_POS)

    def _before(self, txn: Transaction, file: str, pos: int) -> bool:
        here, first = self._index(txn.file), self._index(file)
        return here < first or (here == first and txn.start_pos < pos)

    def _past_stop(self, txn: Transaction) -> bool:
        stop = self.spec.stop
        if stop.datetime is not None and txn.timestamp >= int(stop.datetime.timestamp()):
            return True
        if stop.file is None:
            return False
        here, last = self._index(txn.file), self._index(stop.file)
        return here > last or (here == last and stop.pos is not None and txn.start_pos >= stop.pos)


def _strip(name: str) -> str:
    for suffix in (".gz", ".zst"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name
