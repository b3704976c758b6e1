"""MySQL block-format redo as one byte stream: the record bytes of the 512-byte blocks, headers and trailers cut.

MySQL counts LSNs over whole blocks; the records only fill bytes 12..507 of each block. The stream holds the record
bytes from the start of the block that holds `start_lsn` to `end_lsn` (the end of the valid log, as `redo
recovery` computes it), and maps stream positions back to LSNs the way `recv_calc_lsn_on_data_add()` does. The
`first_rec_group` field of each block is kept: recovery starts parsing at the first block where it is set.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from mysqlinspect.redo import layout as L
from mysqlinspect.redo.blockwalk import BlockLayout


class StreamReadError(Exception):
    """A block between the checkpoint and the end of the log could not be read."""


@dataclass
class LogStream:
    data: bytes
    first_block_lsn: int  # LSN of the first block (a multiple of 512)
    first_rec_groups: list[int]  # LOG_BLOCK_FIRST_REC_GROUP of each block, in order

    def lsn(self, pos: int) -> int:
        """The LSN of stream position `pos` (a position at a block's data end is the next block's first byte)."""
        block, offset = divmod(pos, L.BLOCK_DATA_SIZE)
        return self.first_block_lsn + block * L.BLOCK_SIZE + L.BLOCK_HDR_SIZE + offset

    def pos(self, lsn: int) -> int:
        """The stream position of `lsn` (an LSN inside a header or trailer maps to the next data byte)."""
        block, offset = divmod(lsn - self.first_block_lsn, L.BLOCK_SIZE)
        offset = min(max(offset - L.BLOCK_HDR_SIZE, 0), L.BLOCK_DATA_SIZE)
        return block * L.BLOCK_DATA_SIZE + offset


def read_stream(layout: BlockLayout, start_lsn: int, end_lsn: int) -> LogStream:
    """The record bytes of the blocks from the one holding `start_lsn` up to `end_lsn`."""
    first = start_lsn - start_lsn % L.BLOCK_SIZE
    parts: list[bytes] = []
    groups: list[int] = []
    fds: dict[str, int] = {}
    lsn = first
    try:
        while lsn < end_lsn:
            segment = layout.segment(lsn)
            if segment is None:
                raise StreamReadError(f"no redo file holds LSN {lsn}")
            want = min(segment.length, end_lsn - lsn + L.BLOCK_SIZE, 8 << 20)
            want -= want % L.BLOCK_SIZE
            key = str(segment.report.path)
            if key not in fds:
                fds[key] = os.open(segment.report.path, os.O_RDONLY)
            chunk = os.pread(fds[key], want, segment.offset)
            if len(chunk) < L.BLOCK_SIZE:
                raise StreamReadError(f"{segment.report.name} ends at offset {segment.offset + len(chunk)}")
            for at in range(0, len(chunk) - len(chunk) % L.BLOCK_SIZE, L.BLOCK_SIZE):
                if lsn >= end_lsn:
                    break
                block = chunk[at:at + L.BLOCK_SIZE]
                stop = min(L.BLOCK_CHECKSUM_OFFSET, L.BLOCK_HDR_SIZE + max(end_lsn - lsn - L.BLOCK_HDR_SIZE, 0))
                parts.append(block[L.BLOCK_HDR_SIZE:stop])
                groups.append(int.from_bytes(block[L.BLOCK_FIRST_REC_GROUP:L.BLOCK_FIRST_REC_GROUP + 2], "big"))
                lsn += L.BLOCK_SIZE
    except OSError as exc:
        raise StreamReadError(str(exc.strerror or exc)) from exc
    finally:
        for fd in fds.values():
            os.close(fd)
    return LogStream(b"".join(parts), first, groups)
