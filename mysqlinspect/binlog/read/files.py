"""Transactions from local binlog files, with no server: file source -> own decoder -> transactions -> filters.

Position ranges apply per file (--start-file/--start-pos: transactions starting before it are skipped, though
still decoded for their Table_maps; --stop-file/--stop-pos: transactions starting at or after it end the read),
datetimes by transaction timestamp. GTID ranges, --follow and checkpoints still need the server path.
A transaction left open at the end of a file (uncommitted, or the file was cut) is never yielded: the source
already ends each file at its last complete transaction and `ends` says where and why.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from mysqlinspect.binlog.decode.events import EventDecoder
from mysqlinspect.binlog.model import EventRecord, Transaction
from mysqlinspect.binlog.read.filters import EventFilter
from mysqlinspect.binlog.read.range import RangeSpec
from mysqlinspect.binlog.read.transactions import TransactionAssembler
from mysqlinspect.binlog.source.local import FileEnd, LocalBinlogSource
from mysqlinspect.errors import UsageError


def check_file_range(spec: RangeSpec) -> None:
    """Refuse what cannot be done from files yet (instead of silently reading everything)."""
    if spec.follow:
        raise UsageError("--follow needs a server; local files are read to their end")
    if spec.uses_gtids:
        raise UsageError("--gtid, --include-gtids and --exclude-gtids are not supported on local files yet")
    spec.validate()


class FileTransactions:
    """Iterate the filtered, complete transactions of local binlog/relay-log files (see module doc)."""

    def __init__(self, paths: Sequence[str | Path], spec: RangeSpec | None = None,
                 event_filter: EventFilter | None = None, verify_checksum: bool = True,
                 warn: Callable[[str], None] = lambda message: None) -> None:
        self.source = LocalBinlogSource(paths, verify_checksum=verify_checksum)
        self.spec = spec or RangeSpec()
        self.filter = event_filter or EventFilter()
        self.decoder = EventDecoder(warn=warn)
        self.warn = warn
        self.order = {p.name: i for i, p in enumerate(self.source.files)}
        for name in (self.spec.start.file, self.spec.stop.file):
            if name is not None and self._index(name) < 0:
                raise UsageError(f"{name} is not among the files read ({', '.join(self.order)})")

    @property
    def ends(self) -> list[FileEnd]:
        return self.source.ends

    def __iter__(self) -> Iterator[Transaction]:
        assembler = TransactionAssembler()
        for raw in self.source:
            for record in self.decoder.decode(raw):
                for item in assembler.feed(record):
                    stop, txn = self.select(item)
                    if stop:
                        return
                    if txn is not None:
                        yield txn

    def rendered(self, render: Callable[[Transaction], bytes], jobs: int = 1, chunk_bytes: int | None = None
                 ) -> Iterator[bytes]:
        """render(txn) of each transaction, in order; with jobs > 1 decoded in that many processes (read.chunks),
        several transactions' bytes at a time."""
        if jobs <= 1:
            for txn in self:
                yield render(txn)
            return
        from mysqlinspect.binlog.read.chunks import ordered_outputs

        yield from ordered_outputs(self, render, jobs, chunk_bytes)

    def select(self, item: Transaction | EventRecord) -> tuple[bool, Transaction | None]:
        """(the read stops here, the transaction to yield or None) for what the assembler returned."""
        if not isinstance(item, Transaction) or not item.complete:
            return False, None
        if self._past_stop(item):
            return True, None
        if self._before_start(item):
            return False, None
        return False, self.filter.filter_transaction(item)

    def _index(self, name: str | None) -> int:
        return next((i for p, i in self.order.items() if name in (p, _strip(p))), -1)

    def _before_start(self, txn: Transaction) -> bool:
        start = self.spec.start
        if start.datetime is not None and txn.timestamp < int(start.datetime.timestamp()):
            return True
        if start.file is None:
            return False
        here, first = self._index(txn.file), self._index(start.file)
        return here < first or (here == first and txn.start_pos < (start.pos or 4))

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
