"""Where transactions end, from event headers and a few bytes of Query text (no row decoding).

Used to cut a file at its last complete transaction: MySQL GTID [BEGIN ... XID|COMMIT] or GTID + one DDL Query;
MariaDB GTID (BEGIN implied unless FL_STANDALONE) ... XID|COMMIT; TRANSACTION_PAYLOAD holds a whole transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from mysqlinspect.binlog.source.compressed import uncompress_record

QUERY, XID, XA_PREPARE, PAYLOAD = 2, 16, 38, 40
QUERY_COMPRESSED = 165
MYSQL_GTIDS = frozenset({33, 34, 42})
MARIADB_GTID = 162
MARIADB_FL_STANDALONE = 0x01


def query_head(body: bytes | memoryview, post_header: int, compressed: bool) -> bytes:
    """The first bytes of a Query event's statement, upper-cased (body without checksum)."""
    db_len = body[8]
    status_len = int.from_bytes(body[11:13], "little")
    start = post_header + status_len + db_len + 1
    text = bytes(body[start:])
    if compressed:
        text = uncompress_record(text)
    return text[:24].lstrip().upper()


@dataclass
class BoundaryTracker:
    """feed(type, body) per event; `inside` is True while a transaction is open."""

    inside: bool = False
    in_begin: bool = False

    def feed(self, type_code: int, body: bytes | memoryview, query_post_header: int) -> None:
        if type_code in MYSQL_GTIDS:
            self.inside, self.in_begin = True, False
        elif type_code == MARIADB_GTID:
            flags = body[12] if len(body) > 12 else 0
            self.inside, self.in_begin = True, not flags & MARIADB_FL_STANDALONE
        elif type_code in (XID, XA_PREPARE, PAYLOAD):
            self.inside = self.in_begin = False
        elif type_code in (QUERY, QUERY_COMPRESSED):
            self._query(query_head(body, query_post_header, type_code == QUERY_COMPRESSED))

    def _query(self, head: bytes) -> None:
        if head.startswith((b"BEGIN", b"START TRANSACTION", b"XA START", b"XA BEGIN")):
            self.inside, self.in_begin = True, True
        elif head.startswith(b"COMMIT") or (head.startswith(b"ROLLBACK") and not head[8:].lstrip().startswith(b"TO")):
            self.inside = self.in_begin = False
        elif not self.in_begin:
            self.inside = False  # a statement on its own (DDL, non-transactional) is its own transaction
