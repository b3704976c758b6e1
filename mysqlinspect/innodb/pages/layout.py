"""On-disk constants of InnoDB tablespace pages (MySQL 5.7-9.x, MariaDB 10.3-11.x).

All integers are big-endian. Names follow the server sources (fil0types.h / fil0fil.h, fsp0fsp.h, fsp0types.h,
trx0sys.h, buf0dblwr.cc) as quoted in the project reference innodb-pages.md; sizes are derived from each other.
"""

from __future__ import annotations

FIL_NULL = 0xFFFFFFFF
BUF_NO_CHECKSUM_MAGIC = 0xDEADBEEF

# Page sizes.
UNIV_PAGE_SIZE_MIN = 4096
UNIV_PAGE_SIZE_DEF = 16384
UNIV_PAGE_SIZE_MAX = 65536
UNIV_ZIP_SIZE_MIN = 1024
PAGE_SIZES = (4096, 8192, 16384, 32768, 65536)

# FIL header (38 bytes) and trailer (8 bytes).
FIL_PAGE_SPACE_OR_CHKSUM = 0
FIL_PAGE_OFFSET = 4
FIL_PAGE_PREV = 8  # FIL_PAGE_SRV_VERSION on MySQL 8 page 0
FIL_PAGE_NEXT = 12  # FIL_PAGE_SPACE_VERSION on MySQL 8 page 0
FIL_PAGE_LSN = 16
FIL_PAGE_LSN_LOW = FIL_PAGE_LSN + 4
FIL_PAGE_TYPE = 24
FIL_PAGE_FILE_FLUSH_LSN = 26
FIL_PAGE_SPACE_ID = 34
FIL_PAGE_DATA = 38
FIL_PAGE_END_LSN_OLD_CHKSUM = 8  # from the end of the page
FIL_PAGE_DATA_END = 8
FIL_PAGE_FCRC32_END_LSN = 8  # from the end (MariaDB full_crc32)
FIL_PAGE_FCRC32_CHECKSUM = 4  # from the end (MariaDB full_crc32)
FIL_PAGE_COMPRESS_FCRC32_MARKER = 15  # bit of FIL_PAGE_TYPE

# Page types (FIL_PAGE_TYPE).
PAGE_TYPE_NAMES: dict[int, str] = {
    0: "allocated", 1: "unused", 2: "undo_log", 3: "inode", 4: "ibuf_free_list", 5: "ibuf_bitmap", 6: "sys",
    7: "trx_sys", 8: "fsp_hdr", 9: "xdes", 10: "blob", 11: "zblob", 12: "zblob2", 13: "unknown",
    14: "compressed", 15: "encrypted", 16: "compressed_and_encrypted", 17: "encrypted_rtree",
    18: "sdi_blob_or_instant", 19: "sdi_zblob", 20: "legacy_dblwr", 21: "rseg_array", 22: "lob_index",
    23: "lob_data", 24: "lob_first", 25: "zlob_first", 26: "zlob_data", 27: "zlob_index", 28: "zlob_frag",
    29: "zlob_frag_entry", 17853: "sdi", 17854: "rtree", 17855: "index", 34354: "page_compressed",
    37401: "page_compressed_encrypted",
}
FIL_PAGE_TYPE_ALLOCATED = 0
FIL_PAGE_TYPE_FSP_HDR = 8
FIL_PAGE_TYPE_XDES = 9
FIL_PAGE_MYSQL_ENCRYPTED_TYPES = frozenset({15, 16, 17})
FIL_PAGE_PAGE_COMPRESSED = 34354
FIL_PAGE_PAGE_COMPRESSED_ENCRYPTED = 37401
# Stored uncompressed in ROW_FORMAT=COMPRESSED tablespaces, still with the zip checksum.
UNCOMPRESSED_TYPES_IN_ZIP = frozenset({0, 3, 5, 8, 9, 25, 26, 27, 28, 29})

# FSP header (page 0, from FSP_HEADER_OFFSET).
FSP_HEADER_OFFSET = FIL_PAGE_DATA
FSP_SPACE_ID = 0
FSP_NOT_USED = 4
FSP_SIZE = 8
FSP_FREE_LIMIT = 12
FSP_SPACE_FLAGS = 16
FSP_FRAG_N_USED = 20
FSP_FREE = 24
FSP_FREE_FRAG = 40
FSP_FULL_FRAG = 56
FSP_SEG_ID = 72
FSP_SEG_INODES_FULL = 80
FSP_SEG_INODES_FREE = 96
FLST_BASE_NODE_SIZE = 16
FSP_HEADER_SIZE = FSP_SEG_INODES_FREE + FLST_BASE_NODE_SIZE  # 112
FSP_FLAGS_ABS = FSP_HEADER_OFFSET + FSP_SPACE_FLAGS  # 54

# XDES entries.
XDES_ARR_OFFSET = FSP_HEADER_OFFSET + FSP_HEADER_SIZE  # 150
XDES_ID = 0
XDES_FLST_NODE = 8
XDES_STATE = 20
XDES_BITMAP = 24
XDES_BITS_PER_PAGE = 2
XDES_STATE_NAMES = {0: "not_inited", 1: "free", 2: "free_frag", 3: "full_frag", 4: "fseg", 5: "fseg_frag"}


def extent_pages(page_size: int) -> int:
    """FSP_EXTENT_SIZE: pages per extent (1 MiB extents up to 16K pages, 64 pages above)."""
    return {4096: 256, 8192: 128}.get(page_size, 64)


def xdes_size(page_size: int) -> int:
    return XDES_BITMAP + (extent_pages(page_size) * XDES_BITS_PER_PAGE + 7) // 8


def encryption_offset(page_size: int) -> int:
    """MySQL fsp_header_get_encryption_offset() (16K: 10390)."""
    return XDES_ARR_OFFSET + xdes_size(page_size) * (page_size // extent_pages(page_size))


ENCRYPTION_INFO_MAX_SIZE = 115
MYSQL_ENCRYPTION_MAGICS = {b"lCA": 1, b"lCB": 2, b"lCC": 3}
MARIADB_CRYPT_MAGIC = bytes.fromhex("730e0c524574")

# FSP flags, MySQL / classic layout.
FSP_FLAGS_POS_POST_ANTELOPE = 0
FSP_FLAGS_POS_ZIP_SSIZE = 1
FSP_FLAGS_POS_ATOMIC_BLOBS = 5
FSP_FLAGS_POS_PAGE_SSIZE = 6
FSP_FLAGS_POS_DATA_DIR = 10
FSP_FLAGS_POS_SHARED = 11
FSP_FLAGS_POS_TEMPORARY = 12
FSP_FLAGS_POS_ENCRYPTION = 13
FSP_FLAGS_POS_SDI = 14
FSP_FLAGS_POS_UNUSED = 15
FSP_FLAGS_POS_PAGE_COMPRESSION = 16  # MariaDB classic layout
# MariaDB full_crc32 layout.
FSP_FLAGS_FCRC32_POS_PAGE_SSIZE = 0
FSP_FLAGS_FCRC32_POS_MARKER = 4
FSP_FLAGS_FCRC32_POS_COMPRESSED_ALGO = 5
PAGE_COMPRESSION_ALGORITHMS = {0: "none", 1: "zlib", 2: "lz4", 3: "lzo", 4: "lzma", 5: "bzip2", 6: "snappy"}

# System tablespace.
FSP_TRX_SYS_PAGE_NO = 5
TRX_SYS_DOUBLEWRITE_FROM_END = 200  # header at ps - 200
TRX_SYS_DOUBLEWRITE_MAGIC = 10
TRX_SYS_DOUBLEWRITE_BLOCK1 = 14
TRX_SYS_DOUBLEWRITE_BLOCK2 = 18
TRX_SYS_DOUBLEWRITE_SPACE_ID_STORED = 34
TRX_SYS_DOUBLEWRITE_MAGIC_N = 536853855
TRX_SYS_DOUBLEWRITE_SPACE_ID_STORED_N = 1783657386

# MySQL 8 reserved space ids (dict0dict.h, trx0purge.h).
DICT_SPACE_ID = 0xFFFFFFFE
TEMP_SPACE_ID = 0xFFFFFFFD
UNDO_SPACE_ID_MAX = 0xFFFFFFEF
UNDO_SPACE_ID_MIN = 0xFFFFFFF0 - 127 * 400000
