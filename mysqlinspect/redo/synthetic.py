"""Build valid synthetic redo files (for tests and the benchmark): headers, checkpoints, blocks or mtrs.

Every checksum is computed the way the server computes it, so the decoders treat these files like real ones.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

from mysqlinspect.redo import layout as L
from mysqlinspect.redo.checksum import block_hdr_no, crc32c, innodb_block_fold, ut_fold_binary

_PAYLOAD = bytes(range(256)) * 2


def file_header(fmt: int, start_lsn: int, creator: str, word4: int = 0, flags: int = 0) -> bytes:
    """Block 0 of a block-format file (format 0 gets the legacy layout without a checksum)."""
    head = bytearray(L.BLOCK_SIZE)
    if fmt == L.FORMAT_LEGACY:
        struct.pack_into(">IQ", head, 0, 0, start_lsn)
        head[L.HEADER_CREATOR:L.HEADER_CREATOR + len(creator)] = creator.encode()
        return bytes(head)
    struct.pack_into(">IIQ", head, 0, fmt, word4, start_lsn)
    head[L.HEADER_CREATOR:L.HEADER_CREATOR + len(creator)] = creator.encode()[:31]
    struct.pack_into(">I", head, L.HEADER_FLAGS, flags)
    struct.pack_into(">I", head, L.BLOCK_CHECKSUM_OFFSET, crc32c(head[:L.BLOCK_CHECKSUM_OFFSET]))
    return bytes(head)


def checkpoint_block(fmt: int, lsn: int, number: int = 0, offset: int = 0, buf_size: int = 1 << 20,
                     end_lsn: int = 0) -> bytes:
    block = bytearray(L.BLOCK_SIZE)
    if fmt == L.FORMAT_LEGACY:
        struct.pack_into(">QQII", block, 0, number, lsn, offset & 0xFFFFFFFF, buf_size)
        struct.pack_into(">Q", block, L.LEGACY_CKPT_ARCHIVED_LSN, 0xFFFFFFFFFFFFFFFF)
        struct.pack_into(">I", block, L.LEGACY_CKPT_OFFSET_HIGH, offset >> 32)
        struct.pack_into(">I", block, L.LEGACY_CKPT_CHECKSUM_1, ut_fold_binary(block[:L.LEGACY_CKPT_CHECKSUM_1]))
        struct.pack_into(">I", block, L.LEGACY_CKPT_CHECKSUM_2, ut_fold_binary(block[8:L.LEGACY_CKPT_CHECKSUM_2]))
        return bytes(block)
    if fmt == L.FORMAT_8_0_30:
        struct.pack_into(">Q", block, L.CKPT_LSN, lsn)
    else:
        struct.pack_into(">QQQQ", block, 0, number, lsn, offset, buf_size)
        struct.pack_into(">Q", block, L.CKPT_MARIADB_END_LSN, end_lsn)
    struct.pack_into(">I", block, L.BLOCK_CHECKSUM_OFFSET, crc32c(block[:L.BLOCK_CHECKSUM_OFFSET]))
    return bytes(block)


def data_block(lsn: int, data_len: int = L.BLOCK_SIZE, first_rec_group: int = L.BLOCK_HDR_SIZE,
               epoch: int = 1, payload: bytes = _PAYLOAD, fold: bool = False) -> bytes:
    """One valid 512-byte block starting at `lsn` (a multiple of 512) with a CRC-32C (or legacy fold) trailer."""
    block = bytearray(struct.pack(">IHHI", block_hdr_no(lsn), data_len, first_rec_group, epoch))
    block += payload[:L.BLOCK_CHECKSUM_OFFSET - L.BLOCK_HDR_SIZE]
    block += struct.pack(">I", innodb_block_fold(block) if fold else crc32c(block))
    return bytes(block)


def blocks(first_lsn: int, end_lsn: int, fold: bool = False) -> Iterator[bytes]:
    """Valid blocks from block-aligned `first_lsn` up to the log end `end_lsn` (last block partial)."""
    lsn = first_lsn
    while lsn < end_lsn or lsn == first_lsn:
        yield data_block(lsn, min(L.BLOCK_SIZE, end_lsn - lsn), fold=fold)
        lsn += L.BLOCK_SIZE


def write_mysql_8_0_30_set(directory: Path, first_file_id: int, n_files: int, file_size: int, start_lsn: int,
                           checkpoint_lsn: int, end_lsn: int, creator: str = "MySQL 9.7.4",
                           log_uuid: int = 0x1234ABCD) -> list[Path]:
    """#innodb_redo/#ib_redoN files covering [start_lsn, ...) with valid blocks up to `end_lsn`."""
    redo_dir = directory / L.REDO_DIR_NAME
    redo_dir.mkdir(parents=True, exist_ok=True)
    per_file = file_size - L.FILE_HDR_SIZE
    paths = []
    for i in range(n_files):
        file_start = start_lsn + i * per_file
        file_end = file_start + per_file
        full = L.FLAG_FILE_FULL if end_lsn >= file_end else 0
        out = bytearray(file_header(L.FORMAT_8_0_30, file_start, creator, log_uuid, full))
        empty = checkpoint_block(L.FORMAT_8_0_30, 0)
        holds = file_start <= checkpoint_lsn < file_end
        out += checkpoint_block(L.FORMAT_8_0_30, checkpoint_lsn) if holds else empty
        out += bytes(L.BLOCK_SIZE) + empty
        if file_start < end_lsn:
            out += b"".join(blocks(file_start, min(end_lsn, file_end)))
        out += bytes(file_size - len(out))
        path = redo_dir / f"{L.REDO_FILE_PREFIX}{first_file_id + i}"
        path.write_bytes(bytes(out[:file_size]))
        paths.append(path)
    return paths


def write_ring_group(directory: Path, fmt: int, n_files: int, file_size: int, start_lsn: int, checkpoint_lsn: int,
                     end_lsn: int, creator: str = "MySQL 5.7.17", checkpoint_no: int = 7) -> list[Path]:
    """ib_logfile0..N-1 (formats 0, 1-5, 103/104, PHYS) with a log that may wrap around the group."""
    per_file = file_size - L.FILE_HDR_SIZE
    capacity = per_file * n_files
    data = [bytearray(per_file) for _ in range(n_files)]
    first_block = max(start_lsn, end_lsn - capacity + L.BLOCK_SIZE)
    first_block -= first_block % L.BLOCK_SIZE
    lsn = first_block
    for block in blocks(first_block, end_lsn, fold=fmt == L.FORMAT_LEGACY):
        index, in_file = divmod((lsn - start_lsn) % capacity, per_file)
        data[index][in_file:in_file + L.BLOCK_SIZE] = block
        lsn += L.BLOCK_SIZE
    index, in_file = divmod((checkpoint_lsn - start_lsn) % capacity, per_file)
    group_offset = index * file_size + L.FILE_HDR_SIZE + in_file
    paths = []
    for i in range(n_files):
        out = bytearray(file_header(fmt, start_lsn + i * per_file, creator))
        if i == 0:
            older = checkpoint_block(fmt, checkpoint_lsn, checkpoint_no - 1, group_offset)
            out += checkpoint_block(fmt, checkpoint_lsn, checkpoint_no, group_offset) + bytes(L.BLOCK_SIZE) + older
        else:
            out += bytes(3 * L.BLOCK_SIZE)
        out += data[i]
        path = directory / f"{L.LEGACY_FILE_PREFIX}{i}"
        path.write_bytes(bytes(out))
        paths.append(path)
    return paths


def mariadb_header(first_lsn: int, creator: str = "MariaDB 10.11.19", key_id: int = 0) -> bytearray:
    out = bytearray(L.MDB_START_OFFSET)
    struct.pack_into(">IIQ", out, 0, L.FORMAT_MDB_10_8, 0, first_lsn)
    out[L.HEADER_CREATOR:L.HEADER_CREATOR + len(creator)] = creator.encode()
    struct.pack_into(">I", out, 48, key_id)
    struct.pack_into(">I", out, L.BLOCK_CHECKSUM_OFFSET, crc32c(out[:L.BLOCK_CHECKSUM_OFFSET]))
    return out


def mariadb_checkpoint(out: bytearray, slot_offset: int, checkpoint_lsn: int, end_lsn: int) -> None:
    struct.pack_into(">QQ", out, slot_offset, checkpoint_lsn, end_lsn)
    struct.pack_into(">I", out, slot_offset + L.MDB_CKPT_CRC, crc32c(out[slot_offset:slot_offset + L.MDB_CKPT_CRC]))


def file_checkpoint_record(lsn: int) -> bytes:
    return b"\xfa\x00\x00" + lsn.to_bytes(8, "big")


def write_record(space: int, page: int, data: bytes) -> bytes:
    """A WRITE page record (type 0x30) with a one-byte space id and page number, offset 0x26."""
    body = bytes([space, page, 0x26]) + data
    if len(body) <= 15:
        return bytes([0x30 | len(body)]) + body
    value = len(body) + 1 - 15  # the varint (one byte here) is counted in the length
    assert value < 0x80
    return bytes([0x30, value]) + body


class MariaRingWriter:
    """Writes mtrs into a MariaDB 10.8+ record area, wrapping with the sequence bit like mtr_t::finish_writer."""

    def __init__(self, capacity: int, first_lsn: int = L.MDB_FIRST_LSN, encrypted: bool = False) -> None:
        self.area = bytearray(capacity)
        self.capacity = capacity
        self.first_lsn = first_lsn
        self.lsn = first_lsn
        self.nonce = L.MDB_NONCE_SIZE if encrypted else 0

    def _put(self, lsn: int, data: bytes) -> None:
        for i, byte in enumerate(data):
            self.area[(lsn + i - self.first_lsn) % self.capacity] = byte

    def sequence_bit(self, lsn: int) -> int:
        return 0 if ((lsn - self.first_lsn) // self.capacity) & 1 else 1

    def mtr(self, records: bytes) -> int:
        """Append one mtr; returns its start LSN."""
        start = self.lsn
        end_byte_lsn = start + len(records)
        nonce = start.to_bytes(8, "big")[:self.nonce]
        crc = crc32c(records + nonce)
        self._put(start, records + bytes([self.sequence_bit(end_byte_lsn)]) + nonce + crc.to_bytes(4, "big"))
        self.lsn = end_byte_lsn + 1 + self.nonce + 4
        return start

    def terminate(self) -> None:
        """The 0x00 that write_buf() puts after the last mtr."""
        self._put(self.lsn, b"\x00")

    def file_bytes(self, checkpoint_lsn: int, slot_end_lsn: int, creator: str = "MariaDB 10.11.19") -> bytes:
        out = mariadb_header(self.first_lsn, creator, key_id=1 if self.nonce else 0)
        mariadb_checkpoint(out, L.MDB_CHECKPOINT_1, checkpoint_lsn, slot_end_lsn)
        return bytes(out) + bytes(self.area)
