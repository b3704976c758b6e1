"""The events mode's raw transactions from local binlog / relay-log files (no server): the same RawTransactions
the server's dump gives (raw_assembly), with the same range rules as the decoded reader of files
(read/local/transactions.py), so both apply modes replay the same transactions.

Files are read in the order given (a directory in its .index order), from the range's start file, each up to
where its valid data ends (the first walk: CRC32 checks, a cut or uncommitted tail left out and reported in
`ends`). Positions are offsets in the files (a relay log's event headers hold the source's positions instead).
Transactions starting before the start position are followed for their boundaries only; the read ends at the
first transaction at or past the stop (file order, then position) or stamped at or after --stop-datetime. Every
Format_description is kept with the transactions after it (a relay log holds its own and its source's).

A transaction that is not just row events is decoded here, from the bytes already read (our own decoder, column
names from the schema server for tables logged without them), so the SQL path does not read the files again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from mysqlinspect.binlog.decode.events import EventDecoder
from mysqlinspect.binlog.decode.schema_fallback import SchemaFallback, SchemaLookup
from mysqlinspect.binlog.model import Transaction
from mysqlinspect.binlog.read.filters import EventFilter
from mysqlinspect.binlog.read.range import ResolvedRange
from mysqlinspect.binlog.read.transactions import TransactionAssembler
from mysqlinspect.binlog.replay.raw_assembly import RawAssembler, RawTransaction
from mysqlinspect.binlog.source.fde import CHECKSUM_LEN, FormatDescription, is_checksum_aware, server_version
from mysqlinspect.binlog.source.files import display_name, head_bytes
from mysqlinspect.binlog.source.local import HEADER, Buffer, FileEnd, LocalBinlogSource, PageRelease, events_until
from mysqlinspect.binlog.source.rawdump import RawEvent
from mysqlinspect.errors import DataError

FORMAT_DESCRIPTION, ROTATE, HEADER_LEN = 15, 4, 19


class FileRawTransactions:
    """Iterate the RawTransactions of a ResolvedRange over local files (see module doc). `check` sees every
    decoded transaction (the replay's refusals); `gtid_started`: a --gtid start was passed before a resume."""

    def __init__(self, paths: Sequence[str | Path], rng: ResolvedRange, event_filter: EventFilter,
                 verify_checksum: bool = True, rename: Callable[[str], str] = str, gtid_started: bool = False,
                 lookup: SchemaLookup | None = None, warn: Callable[[str], None] = lambda message: None,
                 check: Callable[[Transaction], None] = lambda txn: None) -> None:
        self.source = LocalBinlogSource(paths, verify_checksum=verify_checksum)
        self.order = {display_name(p): i for i, p in enumerate(self.source.files)}
        self.rng = rng
        self.filter = event_filter
        gate = rng.gate() if rng.uses_gate else None
        if gate is not None:
            gate.started = gtid_started
        self.assembler = RawAssembler(event_filter, rename, gate, stop=self._past_stop, before_start=self._before)
        self.decoder = EventDecoder(warn=warn, schema=SchemaFallback(lookup, warn) if lookup is not None else None)
        self.check = check

    @property
    def ends(self) -> list[FileEnd]:
        return self.source.ends

    def __iter__(self) -> Iterator[RawTransaction]:
        first = self.order.get(self.rng.start.file, 0)
        for path in self.source.files[first:]:
            with self.source.opened(path) as (name, data, valid_end):
                yield from self._file(name, data, valid_end)
            if self.assembler.stopped:
                return

    def _file(self, name: str, data: Buffer, end: int) -> Iterator[RawTransaction]:
        assembler, unpack = self.assembler, HEADER.unpack_from
        pos = 4
        release = PageRelease(data, pos)  # the walk touches every page of a large file: given back as passed
        while pos < end:
            if pos >= release.next:
                release.passed(pos)
            timestamp, code, server_id, size, _, flags = unpack(data, pos)
            next_pos = pos + size
            if code == FORMAT_DESCRIPTION:
                self._format_description(name, pos, bytes(data[pos:next_pos]))
            elif code != ROTATE:
                txn = assembler.feed(name, pos, next_pos, timestamp, code, server_id, flags, bytes(data[pos:next_pos]))
                if assembler.stopped:
                    return
                if txn is not None:
                    if not txn.simple:
                        txn.decoded = self._decode(data, name, txn)
                    yield txn
            pos = next_pos

    def _format_description(self, name: str, pos: int, event: bytes) -> None:
        body = event[HEADER_LEN:]
        with_crc = is_checksum_aware(server_version(body))
        fde = FormatDescription.from_body(body[:-CHECKSUM_LEN] if with_crc else body)
        self.assembler.format_description(event, fde.checksum_len)
        timestamp, code, server_id, size, _, flags = HEADER.unpack_from(event, 0)
        self.decoder.decode(RawEvent(name, pos, pos + size, timestamp, code, server_id, size, flags,
                                     body[:-CHECKSUM_LEN] if with_crc else body))

    def _decode(self, data: Buffer, name: str, raw: RawTransaction) -> list[Transaction]:
        """The decoded path's transaction(s) for the bytes of `raw` (its filter applied; the gate was)."""
        assembler = TransactionAssembler(next_number=raw.model.number)
        out: list[Transaction] = []
        for event in events_until(data, name, raw.model.end_pos, raw.model.start_pos, raw.checksum_len):
            for record in self.decoder.decode(event):
                for item in assembler.feed(record):
                    if isinstance(item, Transaction) and item.complete:
                        kept = self.filter.filter_transaction(item)
                        if kept is not None:
                            self.check(kept)
                            out.append(kept)
        if assembler.current is not None:
            raise DataError(f"{name}:{raw.model.start_pos}: the transaction ending at {raw.model.end_pos} does not "
                            "end there when decoded")
        return out

    def _key(self, file: str, pos: int) -> tuple[int, int]:
        """Files compare in the order read (a directory's .index order), positions within a file."""
        return self.order.get(file, -1), pos

    def _before(self, file: str, pos: int) -> bool:
        return self._key(file, pos) < self._key(self.rng.start.file, self.rng.start.pos)

    def _past_stop(self, txn: Transaction) -> bool:
        stop = self.rng.stop
        if stop.timestamp is not None and txn.timestamp >= stop.timestamp:
            return True
        return stop.position is not None and self._key(txn.file, txn.start_pos) >= self._key(
            stop.position.file, stop.position.pos)


def first_format_description(path: Path) -> bytes:
    """The Format_description event at the start of a file (read without decompressing the rest of a copy)."""
    head = head_bytes(path, 4 + HEADER_LEN)
    if len(head) < 4 + HEADER_LEN:
        raise DataError(f"{display_name(path)}: no Format_description event")
    size = HEADER.unpack_from(head, 4)[3]
    event = head_bytes(path, 4 + size)[4:]
    if event[4] != FORMAT_DESCRIPTION or len(event) != size:
        raise DataError(f"{display_name(path)}: the first event at position 4 is not a Format_description event")
    return event
