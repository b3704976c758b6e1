"""One frozen dataclass per on-disk structure of a tablespace page, each built by `from_bytes()`.

FIL header and trailer (every page), FSP flags and FSP header (page 0), XDES entries, the legacy doublewrite
header on the TRX_SYS page. Decoders never raise on bad content: invalid flags come back with `valid=False`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

from mysqlinspect.innodb.pages import layout as L

_FIL_HEADER = struct.Struct(">IIIIQHQI")  # 38 bytes
_FIL_TRAILER = struct.Struct(">II")
_FSP_HEADER = struct.Struct(">IIIIII")  # space id .. frag_n_used (24 bytes)
_FLST_BASE = struct.Struct(">IIHIH")
_U32 = struct.Struct(">I")
_U64 = struct.Struct(">Q")
_U16 = struct.Struct(">H")


def u32(buf: bytes | memoryview, offset: int) -> int:
    return int(_U32.unpack_from(buf, offset)[0])


def u64(buf: bytes | memoryview, offset: int) -> int:
    return int(_U64.unpack_from(buf, offset)[0])


def u16(buf: bytes | memoryview, offset: int) -> int:
    return int(_U16.unpack_from(buf, offset)[0])


def page_type_name(page_type: int) -> str:
    if page_type & 0x8000 and page_type not in L.PAGE_TYPE_NAMES:
        return "page_compressed_fcrc32"
    return L.PAGE_TYPE_NAMES.get(page_type, f"type_{page_type}")


@dataclass(frozen=True, slots=True)
class FilHeader:
    """The 38-byte header of every page (fil0types.h)."""

    checksum: int  # FIL_PAGE_SPACE_OR_CHKSUM; the key version in MariaDB full_crc32 files
    page_no: int
    prev: int  # server version id on MySQL 8 page 0
    next: int  # space version on MySQL 8 page 0
    lsn: int
    page_type: int
    flush_lsn: int
    space_id: int

    @classmethod
    def from_bytes(cls, buf: bytes | memoryview, offset: int = 0) -> FilHeader:
        return cls(*_FIL_HEADER.unpack_from(buf, offset))

    @property
    def type_name(self) -> str:
        return page_type_name(self.page_type)


@dataclass(frozen=True, slots=True)
class FilTrailer:
    """The last 8 bytes: old checksum + low LSN (classic), or low LSN + CRC-32C (MariaDB full_crc32)."""

    first: int
    second: int

    @classmethod
    def from_bytes(cls, buf: bytes | memoryview, page_size: int, offset: int = 0) -> FilTrailer:
        return cls(*_FIL_TRAILER.unpack_from(buf, offset + page_size - L.FIL_PAGE_DATA_END))


@dataclass(frozen=True, slots=True)
class FspFlags:
    """Tablespace flags decoded in the layout the value itself says (MariaDB full_crc32 marker or classic)."""

    raw: int
    layout: str  # "full_crc32" (MariaDB marker bit) or "classic" (MySQL and MariaDB without the marker)
    valid: bool
    page_size: int
    zip_size: int  # 0 = not ROW_FORMAT=COMPRESSED
    post_antelope: bool = False
    atomic_blobs: bool = False
    data_dir: bool = False
    shared: bool = False
    temporary: bool = False
    encryption: bool = False
    sdi: bool = False
    page_compression: bool = False
    compression_algorithm: str | None = None

    @property
    def full_crc32(self) -> bool:
        return self.layout == "full_crc32"

    @property
    def physical_page_size(self) -> int:
        return self.zip_size or self.page_size

    @classmethod
    def from_value(cls, flags: int) -> FspFlags:
        if flags >> L.FSP_FLAGS_FCRC32_POS_MARKER & 1:
            return cls._full_crc32(flags)
        return cls._classic(flags)

    @classmethod
    def _full_crc32(cls, flags: int) -> FspFlags:
        ssize = flags & 0xF
        algo = flags >> L.FSP_FLAGS_FCRC32_POS_COMPRESSED_ALGO & 0x7
        page_size = 512 << ssize if 3 <= ssize <= 7 else 0
        return cls(raw=flags, layout="full_crc32", valid=bool(page_size) and flags >> 8 == 0, page_size=page_size,
                   zip_size=0, post_antelope=True, atomic_blobs=True, page_compression=algo != 0,
                   compression_algorithm=L.PAGE_COMPRESSION_ALGORITHMS.get(algo, f"algorithm {algo}") if algo else None)

    @classmethod
    def _classic(cls, flags: int) -> FspFlags:
        def bit(pos: int) -> bool:
            return bool(flags >> pos & 1)

        zip_ssize = flags >> L.FSP_FLAGS_POS_ZIP_SSIZE & 0xF
        page_ssize = flags >> L.FSP_FLAGS_POS_PAGE_SSIZE & 0xF
        page_size = L.UNIV_PAGE_SIZE_DEF if page_ssize == 0 else (512 << page_ssize if 3 <= page_ssize <= 7 else 0)
        zip_size = (512 << zip_ssize) if 1 <= zip_ssize <= 5 else 0
        valid = bool(page_size) and (zip_ssize == 0 or bool(zip_size)) and zip_size <= page_size
        valid = valid and flags >> (L.FSP_FLAGS_POS_PAGE_COMPRESSION + 1) == 0
        return cls(raw=flags, layout="classic", valid=valid, page_size=page_size, zip_size=zip_size,
                   post_antelope=bit(L.FSP_FLAGS_POS_POST_ANTELOPE), atomic_blobs=bit(L.FSP_FLAGS_POS_ATOMIC_BLOBS),
                   data_dir=bit(L.FSP_FLAGS_POS_DATA_DIR), shared=bit(L.FSP_FLAGS_POS_SHARED),
                   temporary=bit(L.FSP_FLAGS_POS_TEMPORARY), encryption=bit(L.FSP_FLAGS_POS_ENCRYPTION),
                   sdi=bit(L.FSP_FLAGS_POS_SDI), page_compression=bit(L.FSP_FLAGS_POS_PAGE_COMPRESSION))

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": self.raw, "hex": f"0x{self.raw:x}", "layout": self.layout, "valid": self.valid,
            "page_size": self.page_size, "zip_size": self.zip_size, "post_antelope": self.post_antelope,
            "atomic_blobs": self.atomic_blobs, "data_dir": self.data_dir, "shared": self.shared,
            "temporary": self.temporary, "encryption": self.encryption, "sdi": self.sdi,
            "full_crc32": self.full_crc32, "page_compression": self.page_compression,
            "compression_algorithm": self.compression_algorithm,
        }


@dataclass(frozen=True, slots=True)
class ListBase:
    """An FLST base node: length, first and last (page, offset)."""

    length: int
    first: tuple[int, int]
    last: tuple[int, int]

    @classmethod
    def from_bytes(cls, buf: bytes | memoryview, offset: int) -> ListBase:
        n, fp, fo, lp, lo = _FLST_BASE.unpack_from(buf, offset)
        return cls(n, (fp, fo), (lp, lo))


@dataclass(frozen=True, slots=True)
class FspHeader:
    """The FSP header on page 0 (fsp0fsp.h), from FSP_HEADER_OFFSET."""

    space_id: int
    size: int  # pages
    free_limit: int
    flags: FspFlags
    frag_n_used: int
    free: ListBase
    free_frag: ListBase
    full_frag: ListBase
    next_segment_id: int

    @classmethod
    def from_bytes(cls, page: bytes | memoryview) -> FspHeader:
        base = L.FSP_HEADER_OFFSET
        space_id, _unused, size, free_limit, flags, frag_n_used = _FSP_HEADER.unpack_from(page, base)
        return cls(space_id=space_id, size=size, free_limit=free_limit, flags=FspFlags.from_value(flags),
                   frag_n_used=frag_n_used, free=ListBase.from_bytes(page, base + L.FSP_FREE),
                   free_frag=ListBase.from_bytes(page, base + L.FSP_FREE_FRAG),
                   full_frag=ListBase.from_bytes(page, base + L.FSP_FULL_FRAG),
                   next_segment_id=u64(page, base + L.FSP_SEG_ID))

    def to_dict(self) -> dict[str, Any]:
        return {"space_id": self.space_id, "size_pages": self.size, "free_limit": self.free_limit,
                "free_extents": self.free.length, "free_frag_extents": self.free_frag.length,
                "full_frag_extents": self.full_frag.length, "frag_n_used": self.frag_n_used,
                "next_segment_id": self.next_segment_id, "flags": self.flags.to_dict()}


@dataclass(frozen=True, slots=True)
class XdesEntry:
    """One extent descriptor: owning segment, state and 2 bits per page (free, clean)."""

    segment_id: int
    state: int
    bitmap: bytes

    @classmethod
    def from_bytes(cls, page: bytes | memoryview, index: int, page_size: int) -> XdesEntry:
        size = L.xdes_size(page_size)
        off = L.XDES_ARR_OFFSET + index * size
        return cls(segment_id=u64(page, off + L.XDES_ID), state=u32(page, off + L.XDES_STATE),
                   bitmap=bytes(page[off + L.XDES_BITMAP: off + size]))

    @property
    def state_name(self) -> str:
        return L.XDES_STATE_NAMES.get(self.state, f"state_{self.state}")

    def page_is_free(self, page_in_extent: int) -> bool:
        bit = page_in_extent * L.XDES_BITS_PER_PAGE
        return bool(self.bitmap[bit // 8] >> (bit % 8) & 1)


@dataclass(frozen=True, slots=True)
class DoublewriteHeader:
    """The legacy doublewrite header on the TRX_SYS page of the system tablespace (ps - 200)."""

    magic: int
    block1: int
    block2: int
    space_id_stored: bool

    @classmethod
    def from_page(cls, page: bytes | memoryview, page_size: int) -> DoublewriteHeader:
        base = page_size - L.TRX_SYS_DOUBLEWRITE_FROM_END
        return cls(magic=u32(page, base + L.TRX_SYS_DOUBLEWRITE_MAGIC),
                   block1=u32(page, base + L.TRX_SYS_DOUBLEWRITE_BLOCK1),
                   block2=u32(page, base + L.TRX_SYS_DOUBLEWRITE_BLOCK2),
                   space_id_stored=u32(page, base + L.TRX_SYS_DOUBLEWRITE_SPACE_ID_STORED)
                   == L.TRX_SYS_DOUBLEWRITE_SPACE_ID_STORED_N)

    @property
    def present(self) -> bool:
        return self.magic == L.TRX_SYS_DOUBLEWRITE_MAGIC_N

    def page_ranges(self, page_size: int) -> list[range]:
        """The two blocks of FSP_EXTENT_SIZE pages each (pages 64-127 and 128-191 for 16K)."""
        if not self.present:
            return []
        n = L.extent_pages(page_size)
        return [range(self.block1, self.block1 + n), range(self.block2, self.block2 + n)]
