"""MySQL 8.0.30+ log: walk the mini-transactions from the checkpoint to the end of the valid log, as recovery does.

recv_scan_log_recs() starts parsing at the first block, from the one holding the checkpoint LSN, whose
first_rec_group is set; records that start before the checkpoint LSN are parsed but not applied (the server's
bytes_to_ignore_before_checkpoint). A record with MLOG_SINGLE_REC_FLAG (or MLOG_DUMMY_RECORD) is a mini-transaction
by itself; otherwise records run up to MLOG_MULTI_REC_END. Only whole mini-transactions count: the walk ends
where the next one is not complete (recv_single_rec() / recv_multi_rec()). Each mini-transaction end that falls
in a later block than its start must be that block's first_rec_group: a mismatch means the record lengths were
misread, and the walk stops there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mysqlinspect.redo import layout as L
from mysqlinspect.redo.mysql.index import UnsupportedIndexLog
from mysqlinspect.redo.mysql.mach import Incomplete
from mysqlinspect.redo.mysql.records import (
    MLOG_DUMMY_RECORD,
    MLOG_MULTI_REC_END,
    MLOG_SINGLE_REC_FLAG,
    CorruptRecord,
    MysqlRecord,
    UnsupportedRecord,
    parse_record,
)
from mysqlinspect.redo.mysql.stream import BlockSource, LogStream

# (the bytes the record's positions index, record, LSN of its first byte, LSN after its mini-transaction)
RecordVisitor = Callable[[bytes, MysqlRecord, int, int], None]


@dataclass
class MysqlWalkResult:
    parse_start_lsn: int | None
    recovered_lsn: int  # end of the last complete mini-transaction
    mtrs: int = 0
    records: int = 0
    stop: str = "end_of_log"  # end_of_log, incomplete_mtr, unsupported, corrupt, lost_sync
    note: str | None = None

    @property
    def complete(self) -> bool:
        return self.stop in ("end_of_log", "incomplete_mtr")


def parse_start(stream: LogStream) -> int | None:
    """LSN of the first mini-transaction start recovery finds: the first block with first_rec_group set."""
    for n, group in enumerate(stream.first_rec_groups):
        if group > 0:
            return stream.first_block_lsn + n * L.BLOCK_SIZE + group
    return None


def _read_mtr(data: bytes, pos: int, end: int) -> list[MysqlRecord]:
    first = data[pos]
    if first == MLOG_DUMMY_RECORD or first & MLOG_SINGLE_REC_FLAG:
        return [parse_record(data, pos, end)]
    records = []
    while True:
        rec = parse_record(data, pos, end)
        if rec.single:
            raise CorruptRecord("a record with MLOG_SINGLE_REC_FLAG inside a multi-record mini-transaction")
        records.append(rec)
        if rec.type == MLOG_MULTI_REC_END:
            return records
        pos = rec.end


def walk_mysql_mtrs(stream: LogStream, checkpoint_lsn: int, visit: RecordVisitor,
                    source: BlockSource | None = None) -> MysqlWalkResult:
    """Parse every whole mini-transaction; `visit` every record at or after the checkpoint. With `source`, the
    stream is a window that slides over the blocks `source` reads next."""

    def more(keep_from: int) -> bool:
        if source is None or source.exhausted:
            return False
        data, groups = source.next_chunk()
        stream.slide(keep_from, data, groups)
        return True

    start = parse_start(stream)
    while start is None and more(stream.end):
        start = parse_start(stream)
    if start is None or (stream.pos(start) >= stream.end and not more(stream.pos(start))):
        return MysqlWalkResult(start, checkpoint_lsn)
    result = MysqlWalkResult(start, start)
    to_ignore = max(checkpoint_lsn - start, 0)
    pos = stream.pos(start)
    while pos < stream.end or more(pos):
        base = stream.base
        try:
            records = _read_mtr(stream.data, pos - base, len(stream.data))
        except Incomplete:
            if more(pos):
                continue
            result.stop = "incomplete_mtr"
            return result
        except (UnsupportedRecord, UnsupportedIndexLog) as exc:
            return _stopped(result, "unsupported", f"{exc} at LSN {stream.lsn(pos)} is not read here")
        except CorruptRecord as exc:
            return _stopped(result, "corrupt", f"corrupt record at LSN {stream.lsn(pos)}: {exc}")
        mtr_end = stream.lsn(base + records[-1].end)
        if not _matches_first_rec_group(stream, stream.lsn(pos), mtr_end):
            return _stopped(result, "lost_sync", f"the mini-transaction at LSN {stream.lsn(pos)} ends at {mtr_end},"
                                                 " not where its log block says the next one starts")
        for rec in records:
            length = rec.end - rec.start
            if to_ignore:
                to_ignore = max(to_ignore - length, 0)
            else:
                visit(stream.data, rec, stream.lsn(base + rec.start), mtr_end)
        result.mtrs += 1
        result.records += len(records)
        result.recovered_lsn = mtr_end
        pos = base + records[-1].end
    return result


def _matches_first_rec_group(stream: LogStream, start_lsn: int, end_lsn: int) -> bool:
    block = (end_lsn - stream.first_block_lsn) // L.BLOCK_SIZE
    if start_lsn // L.BLOCK_SIZE == end_lsn // L.BLOCK_SIZE or block >= len(stream.first_rec_groups):
        return True
    return stream.first_rec_groups[block] == end_lsn % L.BLOCK_SIZE


def _stopped(result: MysqlWalkResult, stop: str, note: str) -> MysqlWalkResult:
    result.stop, result.note = stop, note
    return result
