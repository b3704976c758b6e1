"""Decoded on-disk structures: file header, checkpoint slots and encryption info, one decoder per format family.

Decoders take the raw bytes of the file's first blocks and never raise on bad content: every inconsistency is
a status value on the returned dataclass.
"""

from __future__ import annotations

import struct
import uuid
from dataclasses import dataclass, field
from typing import Any

from mysqlinspect.redo import layout as L
from mysqlinspect.redo.checksum import crc32c, ut_fold_binary
from mysqlinspect.redo.layout import FormatInfo, format_info

_U32 = struct.Struct(">I")
_U64 = struct.Struct(">Q")


def u32(buf: bytes, offset: int) -> int:
    return int(_U32.unpack_from(buf, offset)[0])


def u64(buf: bytes, offset: int) -> int:
    return int(_U64.unpack_from(buf, offset)[0])


def c_string(raw: bytes) -> str:
    """The bytes up to the first NUL, as stored (MySQL 5.5 writes four spaces as the creator)."""
    return raw.split(b"\0", 1)[0].decode("latin-1")


@dataclass(frozen=True)
class HeaderFlags:
    value: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "no_logging": bool(self.value & L.FLAG_NO_LOGGING),
            "crash_unsafe": bool(self.value & L.FLAG_CRASH_UNSAFE),
            "not_initialized": bool(self.value & L.FLAG_NOT_INITIALIZED),
            "file_full": bool(self.value & L.FLAG_FILE_FULL),
        }

    def names(self) -> list[str]:
        return [name for name, on in self.to_dict().items() if name != "value" and on]


@dataclass(frozen=True)
class Encryption:
    """Redo encryption as recorded in the file (recognised, never decrypted)."""

    encrypted: bool
    scheme: str | None = None
    key_id: int | None = None
    key_version: int | None = None
    server_uuid: str | None = None


NOT_ENCRYPTED = Encryption(False)


@dataclass(frozen=True)
class FileHeader:
    format: FormatInfo
    creator: str
    start_lsn: int
    header_checksum: str  # "ok", "mismatch" or "none" (legacy format 0 has no header checksum)
    log_uuid: int | None = None
    subformat: int | None = None
    flags: HeaderFlags | None = None
    encryption: Encryption = NOT_ENCRYPTED
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class CheckpointSlot:
    """One checkpoint slot. `status`: ok, empty (all zero), checksum_mismatch or invalid."""

    slot: int
    offset: int
    status: str
    checksum: str  # "ok", "mismatch", "none"
    lsn: int | None = None
    number: int | None = None
    group_offset: int | None = None
    buffer_size: int | None = None
    end_lsn: int | None = None  # MariaDB
    archived_lsn: int | None = None  # legacy
    crypt: dict[str, int] | None = None
    message: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"slot": self.slot, "offset": self.offset, "status": self.status,
                               "checksum": self.checksum, "number": self.number, "lsn": self.lsn,
                               "group_offset": self.group_offset, "buffer_size": self.buffer_size,
                               "end_lsn": self.end_lsn, "crypt": self.crypt, "message": self.message}
        if self.archived_lsn is not None:
            out["archived_lsn"] = self.archived_lsn
        return out


def decode_header(head: bytes) -> FileHeader:
    """Decode block 0 (and the encryption block) of a redo file whose first bytes are `head` (>= 512)."""
    fmt = format_info(u32(head, L.HEADER_FORMAT))
    if fmt.value == L.FORMAT_LEGACY:
        return FileHeader(fmt, c_string(head[L.HEADER_CREATOR:L.HEADER_CREATOR_END]),
                          u64(head, L.LEGACY_START_LSN), "none")
    checksum = "ok" if crc32c(head[:L.BLOCK_CHECKSUM_OFFSET]) == u32(head, L.BLOCK_CHECKSUM_OFFSET) else "mismatch"
    creator = c_string(head[L.HEADER_CREATOR:L.HEADER_CREATOR_END])
    start_lsn = u64(head, L.HEADER_START_LSN)
    word4 = u32(head, L.HEADER_WORD4)
    base = fmt.base
    if base == L.FORMAT_MDB_10_8:
        return _mariadb_10_8_header(head, fmt, creator, start_lsn, checksum, word4)
    if base in (L.FORMAT_MDB_10_3, L.FORMAT_MDB_10_4, L.FORMAT_MDB_10_5) or creator.startswith(("MariaDB", "Backup")):
        enc = Encryption(True, "MariaDB (format bit 31)") if fmt.encrypted_flag else NOT_ENCRYPTED
        return FileHeader(fmt, creator, start_lsn, checksum, subformat=word4, encryption=enc)
    flags = HeaderFlags(u32(head, L.HEADER_FLAGS)) if base >= L.FORMAT_8_0_1 else None
    log_uuid = word4 if base == L.FORMAT_8_0_30 else None
    return FileHeader(fmt, creator, start_lsn, checksum, log_uuid=log_uuid, flags=flags,
                      encryption=mysql_encryption(head))


def _mariadb_10_8_header(head: bytes, fmt: FormatInfo, creator: str, start_lsn: int, checksum: str,
                         word4: int) -> FileHeader:
    problems = []
    if word4 != 0:
        problems.append(f"bytes 4..7 must be zero, found 0x{word4:08x}")
    if start_lsn < L.MDB_FIRST_LSN:
        problems.append(f"first LSN {start_lsn} is below {L.MDB_FIRST_LSN}")
    key_id = u32(head, 48)
    enc = NOT_ENCRYPTED
    if key_id or fmt.encrypted_flag:
        enc = Encryption(True, "MariaDB innodb_encrypt_log", key_id=key_id, key_version=u32(head, 52))
    return FileHeader(fmt, creator, start_lsn, checksum, encryption=enc, problems=tuple(problems))


def mysql_encryption(head: bytes) -> Encryption:
    """MySQL keeps redo encryption info in the block at 1024 (magic lCA/lCB/lCC at +48)."""
    if len(head) < L.ENCRYPTION_BLOCK + L.BLOCK_SIZE:
        return NOT_ENCRYPTED
    base = L.ENCRYPTION_BLOCK + L.ENCRYPTION_MAGIC_OFFSET
    scheme = L.MYSQL_ENCRYPTION_MAGICS.get(head[base:base + 3])
    if scheme is None:
        return NOT_ENCRYPTED
    server_uuid = head[base + 7:base + 43].decode("latin-1", "replace")
    try:
        server_uuid = str(uuid.UUID(server_uuid))
    except ValueError:
        pass
    return Encryption(True, scheme, key_id=u32(head, base + 3), server_uuid=server_uuid)


def decode_checkpoints(head: bytes, fmt: FormatInfo) -> list[CheckpointSlot]:
    """Both checkpoint slots of a file whose first bytes are `head`, per the format family."""
    if fmt.base == L.FORMAT_MDB_10_8:
        return [_mdb_10_8_slot(head, n, off) for n, off in ((1, L.MDB_CHECKPOINT_1), (2, L.MDB_CHECKPOINT_2))]
    slots = []
    for n, off in ((1, L.CHECKPOINT_1), (2, L.CHECKPOINT_2)):
        block = head[off:off + L.BLOCK_SIZE]
        if fmt.value == L.FORMAT_LEGACY:
            slots.append(_legacy_slot(block, n, off))
        else:
            slots.append(_block_slot(block, n, off, fmt))
    return slots


def _block_slot(block: bytes, n: int, off: int, fmt: FormatInfo) -> CheckpointSlot:
    if not any(block):
        return CheckpointSlot(n, off, "empty", "none", message="slot is all zero (never written)")
    checksum = "ok" if crc32c(block[:L.BLOCK_CHECKSUM_OFFSET]) == u32(block, L.BLOCK_CHECKSUM_OFFSET) else "mismatch"
    status = "ok" if checksum == "ok" else "checksum_mismatch"
    message = None if checksum == "ok" else (
        f"stored CRC-32C 0x{u32(block, L.BLOCK_CHECKSUM_OFFSET):08x}, "
        f"computed 0x{crc32c(block[:L.BLOCK_CHECKSUM_OFFSET]):08x}")
    lsn = u64(block, L.CKPT_LSN)
    if fmt.base == L.FORMAT_8_0_30:
        if status == "ok" and lsn == 0:
            status, message = "empty", "checkpoint LSN is 0"
        return CheckpointSlot(n, off, status, checksum, lsn=lsn, message=message)
    mariadb = fmt.vendor == "mariadb" or fmt.value == L.FORMAT_5_7_9
    end_lsn = u64(block, L.CKPT_MARIADB_END_LSN) if mariadb else None
    crypt = None
    if fmt.encrypted_flag:
        crypt = {"key_version": u32(block, L.CKPT_CRYPT_KEY), "nonce": u32(block, L.CKPT_CRYPT_NONCE)}
    return CheckpointSlot(n, off, status, checksum, lsn=lsn, number=u64(block, L.CKPT_NO),
                          group_offset=u64(block, L.CKPT_OFFSET), buffer_size=u64(block, L.CKPT_BUF_SIZE),
                          end_lsn=end_lsn or None, crypt=crypt, message=message)


def _legacy_slot(block: bytes, n: int, off: int) -> CheckpointSlot:
    if not any(block):
        return CheckpointSlot(n, off, "empty", "none", message="slot is all zero (never written)")
    ok1 = ut_fold_binary(block[:L.LEGACY_CKPT_CHECKSUM_1]) == u32(block, L.LEGACY_CKPT_CHECKSUM_1)
    ok2 = ut_fold_binary(block[8:L.LEGACY_CKPT_CHECKSUM_2]) == u32(block, L.LEGACY_CKPT_CHECKSUM_2)
    checksum = "ok" if ok1 and ok2 else "mismatch"
    group_offset = u32(block, L.LEGACY_CKPT_OFFSET_LOW) | (u32(block, L.LEGACY_CKPT_OFFSET_HIGH) << 32)
    return CheckpointSlot(n, off, "ok" if checksum == "ok" else "checksum_mismatch", checksum,
                          lsn=u64(block, L.CKPT_LSN), number=u64(block, L.CKPT_NO), group_offset=group_offset,
                          buffer_size=u32(block, L.LEGACY_CKPT_BUF_SIZE),
                          archived_lsn=u64(block, L.LEGACY_CKPT_ARCHIVED_LSN),
                          message=None if checksum == "ok" else "InnoDB fold checksums do not match")


def _mdb_10_8_slot(head: bytes, n: int, off: int) -> CheckpointSlot:
    slot = head[off:off + L.MDB_CKPT_SIZE]
    if not any(slot):
        return CheckpointSlot(n, off, "empty", "none", message="slot is all zero (never written)")
    checksum = "ok" if crc32c(slot[:L.MDB_CKPT_CRC]) == u32(slot, L.MDB_CKPT_CRC) else "mismatch"
    lsn, end_lsn = u64(slot, 0), u64(slot, 8)
    status, message = "ok", None
    if checksum != "ok":
        status, message = "checksum_mismatch", (f"stored CRC-32C 0x{u32(slot, L.MDB_CKPT_CRC):08x}, "
                                                f"computed 0x{crc32c(slot[:L.MDB_CKPT_CRC]):08x}")
    elif any(slot[16:L.MDB_CKPT_CRC]):
        status, message = "invalid", "bytes 16..59 are not zero"
    elif end_lsn < lsn:
        status, message = "invalid", "end LSN is below the checkpoint LSN"
    return CheckpointSlot(n, off, status, checksum, lsn=lsn, end_lsn=end_lsn, message=message)
