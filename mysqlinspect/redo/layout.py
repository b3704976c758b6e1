"""On-disk constants of InnoDB redo logs (MySQL 5.x-9.x, MariaDB 10.x-11.x) and the format-value table.

All integers on disk are big-endian. Sources: the project reference redo-formats.md
(log0constants.h, log0log.h, log0crypt.cc).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

# 512-byte log blocks (every format except MariaDB 10.8+).
BLOCK_SIZE = 512
BLOCK_HDR_SIZE = 12
BLOCK_TRL_SIZE = 4
BLOCK_DATA_SIZE = BLOCK_SIZE - BLOCK_HDR_SIZE - BLOCK_TRL_SIZE
BLOCK_CHECKSUM_OFFSET = BLOCK_SIZE - BLOCK_TRL_SIZE  # 508
BLOCK_HDR_NO = 0
BLOCK_DATA_LEN = 4
BLOCK_FIRST_REC_GROUP = 6
BLOCK_CHECKPOINT_NO = 8  # epoch number in MySQL 8.0.30+
BLOCK_FLUSH_BIT = 0x80000000
BLOCK_MAX_NO = 0x40000000
BLOCK_ENCRYPT_BIT = 0x8000  # in data_len, MySQL 8.0
NO_CHECKSUM_MAGIC = 0xDEADBEEF

# File header of every block format: 4 blocks.
FILE_HDR_SIZE = 4 * BLOCK_SIZE
CHECKPOINT_1 = BLOCK_SIZE
ENCRYPTION_BLOCK = 2 * BLOCK_SIZE
CHECKPOINT_2 = 3 * BLOCK_SIZE
HEADER_FORMAT = 0
HEADER_WORD4 = 4  # pad (MySQL <=8.0.29), log uuid (8.0.30+), subformat (MariaDB <=10.7)
HEADER_START_LSN = 8
HEADER_CREATOR = 16
HEADER_CREATOR_END = 48
HEADER_FLAGS = 48
ENCRYPTION_MAGIC_OFFSET = 48  # inside the block at ENCRYPTION_BLOCK
MYSQL_ENCRYPTION_MAGICS = {b"lCA": "MySQL keyring v1 (lCA)", b"lCB": "MySQL keyring v2 (lCB)",
                           b"lCC": "MySQL keyring v3 (lCC)"}

# MySQL header flags are stored as 1 << (bit - 1).
FLAG_NO_LOGGING = 0x1
FLAG_CRASH_UNSAFE = 0x2
FLAG_NOT_INITIALIZED = 0x4
FLAG_FILE_FULL = 0x8

# Checkpoint block fields (formats 1-5, MariaDB <=10.7).
CKPT_NO = 0
CKPT_LSN = 8
CKPT_OFFSET = 16
CKPT_BUF_SIZE = 24
CKPT_CRYPT_KEY = 32  # MariaDB
CKPT_CRYPT_NONCE = 36
CKPT_CRYPT_MESSAGE = 40
CKPT_MARIADB_END_LSN = 496

# Legacy format 0 (MySQL <=5.7.8).
LEGACY_START_LSN = 4
LEGACY_FILE_NO = 12
LEGACY_CKPT_OFFSET_LOW = 16
LEGACY_CKPT_BUF_SIZE = 20
LEGACY_CKPT_ARCHIVED_LSN = 24
LEGACY_CKPT_CHECKSUM_1 = 288
LEGACY_CKPT_CHECKSUM_2 = 292
LEGACY_CKPT_OFFSET_HIGH = 304

# MariaDB 10.8+ ("Phys").
MDB_START_OFFSET = 12288
MDB_FIRST_LSN = 12288
MDB_CHECKPOINT_1 = 4096
MDB_CHECKPOINT_2 = 8192
MDB_CKPT_SIZE = 64
MDB_CKPT_CRC = 60
MDB_MTR_SIZE_MAX = 1 << 20
MDB_FILE_CHECKPOINT_SIZE = 16  # FA 00 00 + lsn(8) + end byte + crc(4)
MDB_NONCE_SIZE = 8

# Format values at offset 0.
FORMAT_LEGACY = 0
FORMAT_5_7_9 = 1
FORMAT_8_0_1 = 2
FORMAT_8_0_3 = 3
FORMAT_8_0_19 = 4
FORMAT_8_0_28 = 5
FORMAT_8_0_30 = 6
FORMAT_MDB_10_3 = 103
FORMAT_MDB_10_4 = 104
FORMAT_MDB_10_5 = 0x50485953  # "PHYS"
FORMAT_MDB_10_8 = 0x50687973  # "Phys"
FORMAT_ENCRYPTED = 0x80000000

# Discovery.
REDO_DIR_NAME = "#innodb_redo"
REDO_FILE_PREFIX = "#ib_redo"
LEGACY_FILE_PREFIX = "ib_logfile"


class Layout(StrEnum):
    """How a format stores records: 512-byte blocks, or MariaDB 10.8+ mini-transaction framing."""

    BLOCKS = "blocks"
    MTR = "mtr"


@dataclass(frozen=True)
class FormatInfo:
    """What the format value at offset 0 means."""

    value: int
    name: str
    vendor: str  # "mysql", "mariadb", "mysql/mariadb" or "unknown"
    layout: Layout | None
    encrypted_flag: bool = False  # bit 31 of the format value (MariaDB)
    has_checkpoint_no: bool = True
    known: bool = True

    @property
    def base(self) -> int:
        return self.value & ~FORMAT_ENCRYPTED if self.encrypted_flag else self.value


_FORMATS: dict[int, tuple[str, str, Layout, bool]] = {
    FORMAT_LEGACY: ("legacy (MySQL <= 5.7.8, MariaDB <= 10.2.1)", "mysql/mariadb", Layout.BLOCKS, True),
    FORMAT_5_7_9: ("MySQL 5.7.9+ / MariaDB 10.2 (1)", "mysql/mariadb", Layout.BLOCKS, True),
    FORMAT_8_0_1: ("MySQL 8.0.1 (2)", "mysql", Layout.BLOCKS, True),
    FORMAT_8_0_3: ("MySQL 8.0.3 (3)", "mysql", Layout.BLOCKS, True),
    FORMAT_8_0_19: ("MySQL 8.0.19 (4)", "mysql", Layout.BLOCKS, True),
    FORMAT_8_0_28: ("MySQL 8.0.28 (5)", "mysql", Layout.BLOCKS, True),
    FORMAT_8_0_30: ("MySQL 8.0.30+ (6)", "mysql", Layout.BLOCKS, False),
    FORMAT_MDB_10_3: ("MariaDB 10.3 (103)", "mariadb", Layout.BLOCKS, True),
    FORMAT_MDB_10_4: ("MariaDB 10.4 (104)", "mariadb", Layout.BLOCKS, True),
    FORMAT_MDB_10_5: ("MariaDB 10.5-10.7 (PHYS)", "mariadb", Layout.BLOCKS, True),
    FORMAT_MDB_10_8: ("MariaDB 10.8+ (Phys)", "mariadb", Layout.MTR, False),
}
_ENCRYPTABLE = {FORMAT_MDB_10_3, FORMAT_MDB_10_4, FORMAT_MDB_10_5, FORMAT_MDB_10_8}


def format_info(value: int) -> FormatInfo:
    """Classify the u32 at offset 0; unknown values come back with known=False and the raw value."""
    if value in _FORMATS:
        name, vendor, layout, has_no = _FORMATS[value]
        return FormatInfo(value, name, vendor, layout, has_checkpoint_no=has_no)
    base = value & ~FORMAT_ENCRYPTED
    if value & FORMAT_ENCRYPTED and base in _ENCRYPTABLE:
        name, vendor, layout, has_no = _FORMATS[base]
        return FormatInfo(value, f"{name}, encrypted", vendor, layout, encrypted_flag=True, has_checkpoint_no=has_no)
    if (value & 0xFFFFFFF0) == (FORMAT_MDB_10_8 & 0xFFFFFFF0):
        return FormatInfo(value, f"MariaDB 10.8+ family, unknown variant 0x{value:08x}", "mariadb", None,
                          known=False)
    return FormatInfo(value, f"unknown (0x{value:08x})", "unknown", None, known=False)
