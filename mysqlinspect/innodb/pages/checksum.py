"""Page checks as the servers do them: crc32, innodb (fold), none, legacy big-endian crc32, zip, full_crc32.

Each `check_*` function takes one physical page and returns a `PageCheck` (status, algorithm, reason). The
acceptance rules follow MySQL's BlockReporter::is_corrupted() (buf/checksum.cc) for classic pages and MariaDB's
buf_page_is_corrupted() (buf/buf0buf.cc) for full_crc32 pages, as summarised in innodb-pages.md §2. The torn-write
test (low 32 bits of the header LSN against the trailer) comes first, as in both servers.
"""

from __future__ import annotations

import struct
import zlib
from array import array
from enum import StrEnum
from typing import NamedTuple

from mysqlinspect.crc import crc32c
from mysqlinspect.innodb.pages import layout as L
from mysqlinspect.redo.checksum import ut_fold_binary

_HEAD = struct.Struct(">I12xQH")  # checksum field 1, lsn, type (26 bytes from 0)
_U32 = struct.Struct(">I")
_ZEROS: dict[int, bytes] = {}


class PageStatus(StrEnum):
    VALID = "valid"
    EMPTY = "empty"  # all zero: never written (accepted by the servers and innochecksum)
    CORRUPT = "corrupt"  # checksum mismatch
    TORN = "torn"  # header and trailer LSNs disagree: a partial write
    MISPLACED = "misplaced"  # page number or space id does not match the page's position
    ENCRYPTED = "encrypted"  # MySQL encrypted page type: cannot be verified without the key
    UNCHECKED = "unchecked"  # MariaDB page_compressed (classic layout): no checksum on disk
    SKIPPED = "skipped"  # legacy doublewrite area of the system tablespace (innochecksum skips it too)


BAD_STATUSES = frozenset({PageStatus.CORRUPT, PageStatus.TORN, PageStatus.MISPLACED})


class PageCheck(NamedTuple):
    status: PageStatus
    algorithm: str | None = None
    reason: str | None = None


VALID_CRC32 = PageCheck(PageStatus.VALID, "crc32")
VALID_FULL_CRC32 = PageCheck(PageStatus.VALID, "full_crc32")
VALID_FULL_CRC32_COMPRESSED = PageCheck(PageStatus.VALID, "full_crc32_page_compressed")
VALID_ZIP_CRC32 = PageCheck(PageStatus.VALID, "crc32")
EMPTY = PageCheck(PageStatus.EMPTY)


def zeros(size: int) -> bytes:
    if size not in _ZEROS:
        _ZEROS[size] = bytes(size)
    return _ZEROS[size]


def is_zero(data: memoryview | bytes) -> bool:
    """True when every byte is zero (a copy and a memcmp: much faster than comparing a memoryview)."""
    return bytes(data) == zeros(len(data))


def page_crc32(page: memoryview | bytes, ps: int) -> int:
    """buf_calc_page_crc32(): CRC-32C of [4,26) xor CRC-32C of [38, ps-8)."""
    return int(crc32c(page[4:26])) ^ int(crc32c(page[38:ps - 8]))


def page_crc32_legacy_big_endian(page: memoryview | bytes, ps: int) -> int:
    """MySQL's CRC-32C variant of old big-endian hosts: 8-byte-aligned words fed byte-reversed (§2.3)."""
    first = array("Q", bytes(page[8:24]))
    first.byteswap()
    crc1 = crc32c(page[24:26], crc32c(first.tobytes(), crc32c(page[4:8])))
    body = array("Q", bytes(page[40:ps - 8]))
    body.byteswap()
    crc2 = crc32c(body.tobytes(), crc32c(page[38:40]))
    return int(crc1) ^ int(crc2)


def page_new_fold(page: memoryview | bytes, ps: int) -> int:
    """buf_calc_page_new_checksum(): fold of [4,26) + fold of [38, ps-8), mod 2^32."""
    return (ut_fold_binary(page[4:26]) + ut_fold_binary(page[38:ps - 8])) & 0xFFFFFFFF


def page_old_fold(page: memoryview | bytes) -> int:
    """buf_calc_page_old_checksum(): fold of [0,26)."""
    return ut_fold_binary(page[0:26])


def _torn(page: memoryview | bytes, header_at: int, trailer_at: int) -> PageCheck | None:
    head, tail = _U32.unpack_from(page, header_at)[0], _U32.unpack_from(page, trailer_at)[0]
    if head == tail:
        return None
    return PageCheck(PageStatus.TORN, None, f"torn write: LSN low 32 bits 0x{head:08x} in the header, "
                                           f"0x{tail:08x} in the trailer")


def _mismatch(stored: str, calculated: int) -> PageCheck:
    return PageCheck(PageStatus.CORRUPT, None, f"checksum mismatch: stored {stored}, crc32 0x{calculated:08x}")


def check_classic(page: memoryview | bytes, ps: int, page_compression: bool = False) -> PageCheck:
    """A page of a crc32/innodb/none tablespace (MySQL, and MariaDB files without the full_crc32 marker)."""
    f1, lsn, page_type = _HEAD.unpack_from(page, 0)
    if page_type in (L.FIL_PAGE_PAGE_COMPRESSED, L.FIL_PAGE_PAGE_COMPRESSED_ENCRYPTED) and page_compression:
        return PageCheck(PageStatus.UNCHECKED, None, "page_compressed page: no checksum on disk")
    if page_type in L.FIL_PAGE_MYSQL_ENCRYPTED_TYPES:
        return PageCheck(PageStatus.ENCRYPTED, None, "encrypted page: cannot verify without the key")
    torn = _torn(page, L.FIL_PAGE_LSN_LOW, ps - 4)
    if torn is not None:
        return torn
    f2 = _U32.unpack_from(page, ps - 8)[0]
    if f1 == 0 and f2 == 0 and lsn == 0:
        if is_zero(page[0:26]) and is_zero(page[34:ps]):
            return EMPTY
        return PageCheck(PageStatus.CORRUPT, None, "zero checksums and LSN but non-zero content")
    crc = page_crc32(page, ps)
    if f1 == f2 == crc:
        return VALID_CRC32
    if f1 == f2 == L.BUF_NO_CHECKSUM_MAGIC:
        return PageCheck(PageStatus.VALID, "none")
    if (f2 == lsn >> 32 or f2 == page_old_fold(page)) and (f1 == 0 or f1 == page_new_fold(page, ps)):
        return PageCheck(PageStatus.VALID, "innodb")
    if f1 == f2 == page_crc32_legacy_big_endian(page, ps):
        return PageCheck(PageStatus.VALID, "crc32_legacy_big_endian")
    return _mismatch(f"0x{f1:08x}/0x{f2:08x}", crc)


def zip_crc32(page: memoryview | bytes, zip_size: int) -> int:
    return int(crc32c(page[4:16])) ^ int(crc32c(page[24:26])) ^ int(crc32c(page[34:zip_size]))


def zip_adler32(page: memoryview | bytes, zip_size: int) -> int:
    """page_zip_calc_checksum() for innodb: adler32 seeded with 0 (`adler32(0L, ...)`), not zlib's usual 1."""
    value = zlib.adler32(page[4:16], 0)
    value = zlib.adler32(page[24:26], value)
    return zlib.adler32(page[34:zip_size], value) & 0xFFFFFFFF


def check_zip(page: memoryview | bytes, zip_size: int) -> PageCheck:
    """A ROW_FORMAT=COMPRESSED page (no trailer; checksum in field 1 over [4,16) [24,26) [34,zip))."""
    stored = _U32.unpack_from(page, 0)[0]
    if stored == 0 and is_zero(page[0:zip_size]):
        return EMPTY
    crc = zip_crc32(page, zip_size)
    if stored == crc:
        return VALID_ZIP_CRC32
    if stored == L.BUF_NO_CHECKSUM_MAGIC:
        return PageCheck(PageStatus.VALID, "none")
    if stored == zip_adler32(page, zip_size):
        return PageCheck(PageStatus.VALID, "innodb")
    return _mismatch(f"0x{stored:08x}", crc)


def full_crc32_size(page_type: int, ps: int) -> tuple[int, bool]:
    """buf_page_full_crc32_size(): (size on disk, page_compressed); size 0 when the marker says >= ps."""
    if not page_type & (1 << L.FIL_PAGE_COMPRESS_FCRC32_MARKER):
        return ps, False
    size = (page_type & 0x7FFF) << 8
    return (size, True) if size < ps else (0, True)


def check_full_crc32(page: memoryview | bytes, ps: int) -> PageCheck:
    """A page of a MariaDB full_crc32 tablespace: CRC-32C of the whole page (or compressed image) but the last 4."""
    key_version, _lsn, page_type = _HEAD.unpack_from(page, 0)
    size, compressed = full_crc32_size(page_type, ps)
    if size == 0:
        return PageCheck(PageStatus.CORRUPT, None, f"page_compressed size in page type 0x{page_type:04x} >= page")
    stored = _U32.unpack_from(page, size - 4)[0]
    if stored == 0 and not compressed and is_zero(page[0:ps]):
        return EMPTY
    lsn_checked = not compressed and key_version == 0
    torn = _torn(page, L.FIL_PAGE_LSN_LOW, size - 8) if lsn_checked else None
    crc = int(crc32c(page[0:size - 4]))
    if stored != crc:
        return torn or _mismatch(f"0x{stored:08x}", crc)
    return torn or (VALID_FULL_CRC32_COMPRESSED if compressed else VALID_FULL_CRC32)
