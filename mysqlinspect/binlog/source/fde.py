"""The FORMAT_DESCRIPTION_EVENT: which events carry a CRC32, the post-header lengths and the server flavor.

Body: binlog_version u16, server_version char[50], create_timestamp u32, common_header_len u8,
post_header_len[N], then (checksum-aware servers) checksum_alg u8 + the FDE's own CRC32.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

CHECKSUM_OFF = 0
CHECKSUM_CRC32 = 1
CHECKSUM_LEN = 4
HEADER_LEN = 19
_VERSION_RE = re.compile(r"(\d+)\.(\d+)\.(\d+)")


@dataclass(frozen=True, slots=True)
class FormatDescription:
    binlog_version: int
    server_version: str
    create_timestamp: int
    post_header_len: bytes
    checksum_alg: int

    @property
    def is_mariadb(self) -> bool:
        return "MariaDB" in self.server_version

    @property
    def checksum_len(self) -> int:
        """Bytes of CRC at the end of every event after this FDE."""
        return CHECKSUM_LEN if self.checksum_alg == CHECKSUM_CRC32 else 0

    def post_header(self, type_code: int) -> int:
        index = type_code - 1
        return self.post_header_len[index] if 0 <= index < len(self.post_header_len) else 0

    @classmethod
    def from_body(cls, body: bytes) -> FormatDescription:
        """From an FDE body as sources yield it: without its CRC, so ending in the checksum_alg byte on
        checksum-aware servers (the FDE carries alg + CRC even when checksums are off)."""
        version = server_version(body)
        if is_checksum_aware(version):
            post, alg = body[57:-1], body[-1]
        else:
            post, alg = body[57:], CHECKSUM_OFF
        return cls(int.from_bytes(body[0:2], "little"), version, int.from_bytes(body[52:56], "little"),
                   bytes(post), alg)


def is_checksum_aware(version: str) -> bool:
    """MySQL 5.6.1+ and MariaDB 5.3+ write the checksum algorithm byte (and a CRC) into every FDE."""
    match = _VERSION_RE.match(version)
    if not match:
        return True
    numbers = tuple(int(g) for g in match.groups())
    return numbers >= (5, 3, 0) if "MariaDB" in version else numbers >= (5, 6, 1)


def crc_ok(event: bytes | memoryview) -> bool:
    """A whole event (header + body + CRC32) whose last 4 bytes are the CRC32 of the rest."""
    return zlib.crc32(event[:-CHECKSUM_LEN]) == int.from_bytes(event[-CHECKSUM_LEN:], "little")


def without_checksum(fde: FormatDescription) -> FormatDescription:
    """The format of the events inside a TRANSACTION_PAYLOAD: the outer FDE's, without checksums."""
    return FormatDescription(fde.binlog_version, fde.server_version, fde.create_timestamp, fde.post_header_len,
                             CHECKSUM_OFF)


def server_version(body: bytes) -> str:
    """The NUL-padded server_version of an FDE body."""
    return body[2:52].split(b"\x00", 1)[0].decode("ascii", "replace")
