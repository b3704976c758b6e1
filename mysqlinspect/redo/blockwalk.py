"""Walk 512-byte log blocks from the checkpoint to the end of the valid log (MySQL formats, MariaDB <= 10.7).

Same rules as recv_scan_log_recs(): starting at the block that holds the checkpoint LSN, a block continues the
log when its number matches its LSN and its checksum is valid; a block with data length < 512 is the last one
and the log ends at block LSN + data length; an invalid block ends the log at its own LSN.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from mysqlinspect.redo import layout as L
from mysqlinspect.redo.checksum import BlockChecker, block_data_len
from mysqlinspect.redo.files import RedoFileReport

CHUNK_BYTES = 8 << 20
ProgressCallback = Callable[[int, int], None]


@dataclass
class BlockWalkResult:
    start_lsn: int  # the block-aligned LSN the scan starts at
    end_lsn: int
    stop_reason: str  # partial_block, block_number, checksum_mismatch, end_of_files
    stop_file: str | None
    stop_offset: int | None
    blocks_scanned: int
    message: str | None = None


@dataclass(frozen=True)
class Segment:
    """A stretch of blocks that is contiguous both in LSN and in one file."""

    report: RedoFileReport
    offset: int
    length: int


class BlockLayout:
    """Maps a block LSN to (file, offset, bytes until the end of that file's data)."""

    def segment(self, lsn: int) -> Segment | None:
        raise NotImplementedError

    def capacity(self) -> int:
        raise NotImplementedError


class FileSetLayout(BlockLayout):
    """MySQL 8.0.30+: #ib_redoN files, each covering [start_lsn, start_lsn + size - 2048)."""

    def __init__(self, files: list[RedoFileReport]) -> None:
        self.files = sorted((f for f in files if _readable_data(f) and f.end_lsn is not None),
                            key=lambda f: f.file_id or 0)

    def segment(self, lsn: int) -> Segment | None:
        for report in self.files:
            end = report.end_lsn
            assert report.header is not None and end is not None
            if report.header.start_lsn <= lsn < end:
                return Segment(report, L.FILE_HDR_SIZE + lsn - report.header.start_lsn, end - lsn)
        return None

    def capacity(self) -> int:
        return sum((f.size or 0) - L.FILE_HDR_SIZE for f in self.files)


class RingLayout(BlockLayout):
    """ib_logfile0..N-1 (and MariaDB <= 10.7's single ib_logfile0): one ring over the files' data areas."""

    def __init__(self, files: list[RedoFileReport], checkpoint_lsn: int, group_offset: int | None) -> None:
        self.files = files
        self.file_size = files[0].size or 0
        self.per_file = self.file_size - L.FILE_HDR_SIZE
        first = files[0]
        assert first.header is not None
        ring_pos = self._ring_pos_from_group_offset(group_offset, checkpoint_lsn)
        if ring_pos is None:
            ring_pos = checkpoint_lsn - _align(first.header.start_lsn)
        self.anchor_lsn, self.anchor_pos = checkpoint_lsn, ring_pos

    def _ring_pos_from_group_offset(self, group_offset: int | None, lsn: int) -> int | None:
        if group_offset is None or self.file_size <= L.FILE_HDR_SIZE:
            return None
        index, in_file = divmod(group_offset, self.file_size)
        if index >= len(self.files) or in_file < L.FILE_HDR_SIZE or in_file % L.BLOCK_SIZE != lsn % L.BLOCK_SIZE:
            return None
        return index * self.per_file + in_file - L.FILE_HDR_SIZE

    def capacity(self) -> int:
        return self.per_file * len(self.files)

    def segment(self, lsn: int) -> Segment | None:
        cap = self.capacity()
        if cap <= 0:
            return None
        pos = (self.anchor_pos + lsn - self.anchor_lsn) % cap
        index, in_file = divmod(pos, self.per_file)
        report = self.files[index]
        if not _readable_data(report):
            return None
        return Segment(report, L.FILE_HDR_SIZE + in_file, self.per_file - in_file)


def _readable_data(report: RedoFileReport) -> bool:
    """A file whose data area the server would read: a valid header (a bad checkpoint slot does not matter)."""
    if report.status == "never_written":
        return True
    return report.header is not None and report.header.header_checksum != "mismatch" and report.status not in (
        "truncated", "invalid_header")


def _align(lsn: int) -> int:
    return lsn - lsn % L.BLOCK_SIZE


class _Reader:
    def __init__(self) -> None:
        self.handles: dict[str, int] = {}

    def read_into(self, segment: Segment, target: memoryview) -> int:
        key = str(segment.report.path)
        if key not in self.handles:
            self.handles[key] = os.open(segment.report.path, os.O_RDONLY)
        return os.preadv(self.handles[key], [target], segment.offset)

    def close(self) -> None:
        for fd in self.handles.values():
            os.close(fd)


def walk_blocks(block_layout: BlockLayout, checkpoint_lsn: int, legacy: bool = False,
                progress: ProgressCallback | None = None) -> BlockWalkResult:
    """Scan from the block holding `checkpoint_lsn` to the end of the valid log."""
    start = lsn = _align(checkpoint_lsn)
    total = max(block_layout.capacity(), 1)
    reader = _Reader()
    checker = BlockChecker(CHUNK_BYTES)
    blocks = 0
    try:
        while True:
            segment = block_layout.segment(lsn)
            if segment is None:
                return BlockWalkResult(start, lsn, "end_of_files", None, None, blocks,
                                       f"no redo file holds LSN {lsn}")
            want = min(checker.capacity, segment.length, max(total - (lsn - start), L.BLOCK_SIZE))
            try:
                got = reader.read_into(segment, checker.view[:want - want % L.BLOCK_SIZE])
            except OSError as exc:
                return BlockWalkResult(start, lsn, "unreadable", segment.report.name, segment.offset, blocks,
                                       f"{segment.report.name}: {exc.strerror or exc}")
            if got < L.BLOCK_SIZE:
                return BlockWalkResult(start, lsn, "end_of_files", segment.report.name, segment.offset, blocks,
                                       f"{segment.report.name} ends at offset {segment.offset + got}")
            view = checker.view[:got - got % L.BLOCK_SIZE]
            index, reason = checker.first_invalid(len(view), lsn, legacy)
            blocks += index
            if reason is None:
                lsn += index * L.BLOCK_SIZE
                if progress is not None:
                    progress(min(lsn - start, total), total)
                if lsn - start >= total:
                    return BlockWalkResult(start, lsn, "end_of_files", segment.report.name, None, blocks,
                                           "the whole capacity was scanned")
                continue
            block_lsn = lsn + index * L.BLOCK_SIZE
            offset = segment.offset + index * L.BLOCK_SIZE
            if reason == "partial":
                block = view[index * L.BLOCK_SIZE:(index + 1) * L.BLOCK_SIZE]
                end = block_lsn + block_data_len(block)
                return BlockWalkResult(start, end, "partial_block", segment.report.name, offset, blocks + 1)
            return BlockWalkResult(start, block_lsn, reason, segment.report.name, offset, blocks,
                                   _stop_message(reason, segment.report.name, offset, block_lsn))
    finally:
        reader.close()


def _stop_message(reason: str, name: str, offset: int, lsn: int) -> str:
    if reason == "checksum_mismatch":
        return f"block at {name} offset {offset} (LSN {lsn}) has the right number but a bad checksum"
    return f"block at {name} offset {offset} (LSN {lsn}) carries another block number (old or never-written data)"
