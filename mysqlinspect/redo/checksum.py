"""Redo checksums: CRC-32C (C-accelerated `crc32c` package), InnoDB fold checksums, and batch block checks.

`first_invalid_block()` is the hot path of `redo recovery`: it checks the block number, the CRC-32C and the
data length of many 512-byte blocks at once with C-level operations (one crc32c call per block over memoryview
slices, strided memoryview gathers and bytes comparisons), and only loops in Python over the last chunk.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Iterable
from itertools import islice

from mysqlinspect.crc import crc32c as _crc32c
from mysqlinspect.redo.layout import (
    BLOCK_CHECKSUM_OFFSET,
    BLOCK_FLUSH_BIT,
    BLOCK_MAX_NO,
    BLOCK_SIZE,
    NO_CHECKSUM_MAGIC,
)

_MASK32 = 0xFFFFFFFF
_HASH_RANDOM_MASK = 1463735687
_HASH_RANDOM_MASK2 = 1653893711
_LITTLE = sys.byteorder == "little"
_CLEAR_TOP_BIT = bytes(b & 0x7F for b in range(256))
_WORDS_PER_BLOCK = BLOCK_SIZE // 4
_SLICES: dict[int, list[slice]] = {}


def crc32c(data: bytes | bytearray | memoryview) -> int:
    """CRC-32C (Castagnoli) with the usual initial and final inversion, as InnoDB's ut_crc32 / my_crc32c."""
    return int(_crc32c(data))


def ut_fold_binary(data: bytes | bytearray | memoryview) -> int:
    """InnoDB ut_fold_binary (legacy checkpoint checksums), modulo 2^32."""
    fold = 0
    for byte in bytes(data):
        fold = ((((fold ^ byte ^ _HASH_RANDOM_MASK2) << 8) + fold) ^ _HASH_RANDOM_MASK) + byte
        fold &= _MASK32
    return fold


def innodb_block_fold(block: bytes | bytearray | memoryview) -> int:
    """The legacy "innodb" log block checksum of MySQL <= 5.6 (log_block_calc_checksum_innodb)."""
    total, shift = 1, 0
    for byte in bytes(block[:BLOCK_CHECKSUM_OFFSET]):
        total &= 0x7FFFFFFF
        total += byte + (byte << shift)
        shift += 1
        if shift > 24:
            shift = 0
    return total & _MASK32


def stored_block_checksum(block: bytes | memoryview) -> int:
    return int.from_bytes(block[BLOCK_CHECKSUM_OFFSET:BLOCK_SIZE], "big")


def block_checksum_kind(block: bytes | memoryview, legacy: bool = False) -> str | None:
    """Which algorithm matches the block trailer: "crc32c", "innodb", "none" (0xDEADBEEF), or None."""
    stored = stored_block_checksum(block)
    if crc32c(block[:BLOCK_CHECKSUM_OFFSET]) == stored:
        return "crc32c"
    if stored == NO_CHECKSUM_MAGIC:
        return "none"
    if legacy and innodb_block_fold(block) == stored:
        return "innodb"
    return None


def block_hdr_no(lsn: int) -> int:
    """The block number a block starting at `lsn` must carry (log_block_convert_lsn_to_hdr_no)."""
    return 1 + (lsn // BLOCK_SIZE) % BLOCK_MAX_NO


def _slices(n_blocks: int) -> list[slice]:
    cached = _SLICES.get(n_blocks)
    if cached is None:
        cached = [slice(i * BLOCK_SIZE, i * BLOCK_SIZE + BLOCK_CHECKSUM_OFFSET) for i in range(n_blocks)]
        _SLICES.clear()
        _SLICES[n_blocks] = cached
    return cached


def _be_words(values: array) -> bytes:
    if _LITTLE:
        values.byteswap()
    return values.tobytes()


def _expected_hdr_words(first_lsn: int, n_blocks: int) -> bytes:
    first = (first_lsn // BLOCK_SIZE) % BLOCK_MAX_NO
    if first + n_blocks <= BLOCK_MAX_NO:
        numbers = array("I", range(first + 1, first + n_blocks + 1))
    else:
        numbers = array("I", (1 + (first + i) % BLOCK_MAX_NO for i in range(n_blocks)))
    return _be_words(numbers)


def _crcs_match(chunk: memoryview, crc_views: Iterable[memoryview]) -> bool:
    crcs = array("I", map(_crc32c, crc_views))
    stored = chunk.cast("I")[BLOCK_CHECKSUM_OFFSET // 4::_WORDS_PER_BLOCK].tobytes()
    return _be_words(crcs) == stored


def block_crcs_ok(chunk: memoryview, n_blocks: int) -> bool:
    """True when every block of the chunk has a CRC-32C trailer that matches."""
    return _crcs_match(chunk, map(chunk.__getitem__, _slices(n_blocks)))


def _headers_ok(chunk: memoryview, n_blocks: int, first_lsn: int) -> bool:
    """Block numbers (flush bit masked) and full data lengths (encryption bit masked) of every block."""
    hdr = bytearray(chunk.cast("I")[0::_WORDS_PER_BLOCK].tobytes())
    hdr[0::4] = hdr[0::4].translate(_CLEAR_TOP_BIT)
    return (hdr == _expected_hdr_words(first_lsn, n_blocks)
            and chunk[4::BLOCK_SIZE].tobytes().translate(_CLEAR_TOP_BIT) == b"\x02" * n_blocks
            and chunk[5::BLOCK_SIZE].tobytes() == bytes(n_blocks))


def first_invalid_block(chunk: memoryview, first_lsn: int, legacy: bool = False) -> tuple[int, str | None]:
    """Scan whole blocks: return (index, reason) of the first block that ends the log, or (n, None).

    A block ends the log when its number is not the one expected for its LSN ("block_number"), its checksum
    does not match ("checksum_mismatch"), or it is not full (data length < 512: "partial", which is the
    normal end; the partial block itself is valid and its data counts).
    """
    n_blocks = len(chunk) // BLOCK_SIZE
    if n_blocks == 0:
        return 0, None
    chunk = chunk[:n_blocks * BLOCK_SIZE]
    if _headers_ok(chunk, n_blocks, first_lsn) and block_crcs_ok(chunk, n_blocks):
        return n_blocks, None
    return _first_invalid_slow(chunk, first_lsn, legacy)


class BlockChecker:
    """A reusable read buffer whose per-block CRC views are made once: the fast path of the block walk."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity - capacity % BLOCK_SIZE
        self.buffer = bytearray(self.capacity)
        self.view = memoryview(self.buffer)
        self._crc_views = [self.view[i:i + BLOCK_CHECKSUM_OFFSET] for i in range(0, self.capacity, BLOCK_SIZE)]

    def first_invalid(self, n_bytes: int, first_lsn: int, legacy: bool = False) -> tuple[int, str | None]:
        """first_invalid_block() over the first `n_bytes` of the buffer."""
        n_blocks = n_bytes // BLOCK_SIZE
        if n_blocks == 0:
            return 0, None
        chunk = self.view[:n_blocks * BLOCK_SIZE]
        if _headers_ok(chunk, n_blocks, first_lsn) and _crcs_match(chunk, islice(self._crc_views, n_blocks)):
            return n_blocks, None
        return _first_invalid_slow(chunk, first_lsn, legacy)


def _first_invalid_slow(chunk: memoryview, first_lsn: int, legacy: bool) -> tuple[int, str | None]:
    n_blocks = len(chunk) // BLOCK_SIZE
    for i in range(n_blocks):
        block = chunk[i * BLOCK_SIZE:(i + 1) * BLOCK_SIZE]
        hdr_no = int.from_bytes(block[0:4], "big") & ~BLOCK_FLUSH_BIT
        if hdr_no != block_hdr_no(first_lsn + i * BLOCK_SIZE):
            return i, "block_number"
        if block_checksum_kind(block, legacy) is None:
            return i, "checksum_mismatch"
        if block_data_len(block) < BLOCK_SIZE:
            return i, "partial"
    return n_blocks, None


def block_data_len(block: bytes | memoryview) -> int:
    return int.from_bytes(block[4:6], "big") & 0x7FFF
