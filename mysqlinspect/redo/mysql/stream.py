"""MySQL block-format redo as one byte stream: the record bytes of the 512-byte blocks, headers and trailers cut.

MySQL counts LSNs over whole blocks; the records only fill bytes 12..507 of each block. The stream holds the record
bytes from the start of the block that holds the checkpoint LSN to the end of the valid log (as `redo recovery`
computes it), a window of them at a time (`BlockSource` reads the next blocks, `LogStream.slide()` drops what the
walk has consumed), and maps stream positions back to LSNs the way `recv_calc_lsn_on_data_add()` does. The
`first_rec_group` field of each block is kept: recovery starts parsing at the first block where it is set.
"""

from __future__ import annotations

import os
from array import array
from dataclasses import dataclass, field

from mysqlinspect.redo import layout as L
from mysqlinspect.redo.blockwalk import BlockLayout

CHUNK_BYTES = 8 << 20


class StreamReadError(Exception):
    """A block between the checkpoint and the end of the log could not be read."""


@dataclass
class LogStream:
    data: bytes  # record bytes from stream position `base` on
    first_block_lsn: int  # LSN of the first block (a multiple of 512)
    first_rec_groups: array[int] = field(default_factory=lambda: array("H"))  # of every block read, in order
    base: int = 0

    def lsn(self, pos: int) -> int:
        """The LSN of stream position `pos` (a position at a block's data end is the next block's first byte)."""
        block, offset = divmod(pos, L.BLOCK_DATA_SIZE)
        return self.first_block_lsn + block * L.BLOCK_SIZE + L.BLOCK_HDR_SIZE + offset

    def pos(self, lsn: int) -> int:
        """The stream position of `lsn` (an LSN inside a header or trailer maps to the next data byte)."""
        block, offset = divmod(lsn - self.first_block_lsn, L.BLOCK_SIZE)
        offset = min(max(offset - L.BLOCK_HDR_SIZE, 0), L.BLOCK_DATA_SIZE)
        return block * L.BLOCK_DATA_SIZE + offset

    @property
    def end(self) -> int:
        """Stream position after the last byte read."""
        return self.base + len(self.data)

    def slide(self, keep_from: int, more: bytes, groups: array[int]) -> None:
        """Drop the bytes before `keep_from` (at most all of them) and append the next blocks' record bytes."""
        keep_from = min(keep_from, self.end)
        self.data = self.data[keep_from - self.base:] + more
        self.base = keep_from
        self.first_rec_groups.extend(groups)


class BlockSource:
    """Reads the blocks from the one holding `start_lsn` up to `end_lsn`, a chunk at a time."""

    def __init__(self, layout: BlockLayout, start_lsn: int, end_lsn: int, chunk_bytes: int = CHUNK_BYTES) -> None:
        self.layout, self.end_lsn, self.chunk_bytes = layout, end_lsn, max(chunk_bytes, L.BLOCK_SIZE)
        self.first_block_lsn = self.lsn = start_lsn - start_lsn % L.BLOCK_SIZE
        self.fds: dict[str, int] = {}

    @property
    def exhausted(self) -> bool:
        return self.lsn >= self.end_lsn

    def next_chunk(self) -> tuple[bytes, array[int]]:
        """The record bytes and first_rec_group values of the next blocks (empty when all were read)."""
        parts: list[bytes] = []
        groups = array("H")
        while not self.exhausted and len(parts) * L.BLOCK_SIZE < self.chunk_bytes:
            chunk = self._read(self.chunk_bytes - len(parts) * L.BLOCK_SIZE)
            for at in range(0, len(chunk), L.BLOCK_SIZE):
                if self.exhausted:
                    break
                block = chunk[at:at + L.BLOCK_SIZE]
                used = max(self.end_lsn - self.lsn, L.BLOCK_HDR_SIZE)
                parts.append(block[L.BLOCK_HDR_SIZE:min(L.BLOCK_CHECKSUM_OFFSET, used)])
                groups.append(int.from_bytes(block[L.BLOCK_FIRST_REC_GROUP:L.BLOCK_FIRST_REC_GROUP + 2], "big"))
                self.lsn += L.BLOCK_SIZE
        return b"".join(parts), groups

    def _read(self, limit: int) -> bytes:
        segment = self.layout.segment(self.lsn)
        if segment is None:
            raise StreamReadError(f"no redo file holds LSN {self.lsn}")
        want = min(segment.length, self.end_lsn - self.lsn + L.BLOCK_SIZE, limit)
        want = max(want - want % L.BLOCK_SIZE, L.BLOCK_SIZE)
        key = str(segment.report.path)
        try:
            if key not in self.fds:
                self.fds[key] = os.open(segment.report.path, os.O_RDONLY)
            chunk = os.pread(self.fds[key], want, segment.offset)
        except OSError as exc:
            raise StreamReadError(f"{segment.report.name}: {exc.strerror or exc}") from exc
        if len(chunk) < L.BLOCK_SIZE:
            raise StreamReadError(f"{segment.report.name} ends at offset {segment.offset + len(chunk)}")
        return chunk[:len(chunk) - len(chunk) % L.BLOCK_SIZE]

    def close(self) -> None:
        for fd in self.fds.values():
            os.close(fd)
        self.fds.clear()


def read_stream(layout: BlockLayout, start_lsn: int, end_lsn: int) -> LogStream:
    """All the record bytes of the blocks from the one holding `start_lsn` up to `end_lsn`, in one window."""
    source = BlockSource(layout, start_lsn, end_lsn)
    parts: list[bytes] = []
    groups = array("H")
    try:
        while not source.exhausted:
            more, more_groups = source.next_chunk()
            parts.append(more)
            groups.extend(more_groups)
    finally:
        source.close()
    return LogStream(b"".join(parts), source.first_block_lsn, groups)
