"""The first walk over a local binlog file in C (source/_walk.c) finds what the Python loop finds: the same valid
end, stop reason, trailing events, last event and error, on real files of both flavors, cut at every kind of
place, with flipped bytes, and with the statements that move transaction boundaries (XA, savepoints, START
TRANSACTION, statements on their own)."""

from __future__ import annotations

import random
import zlib
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from mysqlinspect.binlog.read.filters import EventFilter
from mysqlinspect.binlog.replay.range_contents import range_contents, read_file_range_contents
from mysqlinspect.binlog.source import local
from tests.live.decode_support import binlog_path, flush
from tests.servers import create_database, drop_database

pytestmark = pytest.mark.live

STATEMENTS = (
    "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20)) ENGINE=InnoDB",
    "CREATE TABLE m (id INT) ENGINE=MyISAM",
    "INSERT INTO t VALUES (1, 'a'), (2, 'b')",
    "START TRANSACTION", "INSERT INTO t VALUES (3, 'c')", "SAVEPOINT s1", "INSERT INTO t VALUES (4, 'd')",
    "ROLLBACK TO SAVEPOINT s1", "COMMIT", "INSERT INTO m VALUES (1)",
    "XA START 'x1'", "INSERT INTO t VALUES (5, 'e')", "XA END 'x1'", "XA PREPARE 'x1'", "XA COMMIT 'x1'",
    "INSERT INTO m VALUES (2)",
    "  /* a comment */ DELETE FROM t WHERE id = 2",
    "ALTER TABLE t ADD COLUMN w INT",
)


QUERY_TEXTS = (b"BEGIN", b"  begin work", b"START TRANSACTION", b"XA START 'a'", b"xa begin 'b'", b"COMMIT",
               b"ROLLBACK", b"rollback  to savepoint s", b"ROLLBACK\tTO s", b"ROLLBACKTO", b"SAVEPOINT s",
               b"CREATE TABLE x (a INT)", b"", b"\n\t COMMIT", b"x" * 40)


def _event(code: int, body: bytes, pos: int) -> bytes:
    size = 19 + len(body) + 4
    head = (0).to_bytes(4, "little") + bytes([code]) + (1).to_bytes(4, "little") + size.to_bytes(4, "little") + \
        (pos + size).to_bytes(4, "little") + (0).to_bytes(2, "little")
    return head + body + zlib.crc32(head + body).to_bytes(4, "little")


def _query_body(text: bytes) -> bytes:
    """thread id, exec time, db length, error code, status length 0, db "d", NUL, the text (post-header 13)."""
    return bytes(4) + bytes(4) + b"\x01" + bytes(2) + bytes(2) + b"d\x00" + text


def _crafted_file(fde_part: bytes, rng: random.Random) -> bytes:
    """The real file's magic and Format_description, then random Query / XID / GTID / Rotate events, a few of
    them short or of the kinds the C loop leaves to Python (compressed Query, a short Query or GTID body, an
    event too short for its checksum)."""
    out = bytearray(fde_part)
    for _ in range(60):
        kind = rng.random()
        if kind < 0.006:
            event = _event(rng.choice((2, 162)), bytes(rng.randrange(13)), len(out))
        elif kind < 0.01:
            event = _event(165, _query_body(b"x\x9c garbage"), len(out))
        elif kind < 0.012:
            size = 19 + rng.randrange(4)  # no room for its CRC32: read on only without verification
            event = bytes(4) + bytes([30]) + bytes(4) + size.to_bytes(4, "little") + \
                (len(out) + size).to_bytes(4, "little") + bytes(2) + bytes(size - 19)
        elif kind < 0.6:
            event = _event(2, _query_body(rng.choice(QUERY_TEXTS)), len(out))
        elif kind < 0.75:
            event = _event(16, rng.randrange(1 << 40).to_bytes(8, "little"), len(out))
        elif kind < 0.85:
            event = _event(33, bytes(42), len(out))
        elif kind < 0.95:
            event = _event(162, rng.randrange(1 << 60).to_bytes(13, "little"), len(out))
        else:
            event = _event(4, (4).to_bytes(8, "little") + b"binlog.000009", len(out))
        out += event
    return bytes(out)


def _walk(data: bytes, native: bool, verify: bool) -> tuple[Any, ...]:
    saved = local.native_walk
    local.native_walk = saved if native else None
    try:
        walk = local.walk_file(data, "f", verify)
    except Exception as exc:
        return type(exc).__name__, str(exc)
    finally:
        local.native_walk = saved
    return walk.valid_end, walk.stop_reason, walk.trailing_events, walk.last_event, walk.closed


def _event_starts(data: bytes) -> list[int]:
    starts, pos = [], 4
    while pos + 19 <= len(data):
        starts.append(pos)
        size = int.from_bytes(data[pos + 9 : pos + 13], "little")
        if size < 19:
            break
        pos += size
    return starts


@pytest.fixture(scope="module")
def walk_file_bytes(server: Any) -> bytes:
    db = create_database(server)
    try:
        conn = server.connect(db)
        try:
            first = flush(conn)
            with conn.cursor() as cur:
                for statement in STATEMENTS:  # one session: its transactions are the statements' own
                    cur.execute(statement)
            flush(conn)
        finally:
            conn.close()
        return binlog_path(server, first[0]).read_bytes()
    finally:
        drop_database(server, db)


def test_native_walk_is_available() -> None:
    assert local.native_walk is not None, "the C walk (_walk.c) was not built"


def test_native_walk_matches_python_on_whole_and_cut_files(walk_file_bytes: bytes) -> None:
    data = walk_file_bytes
    assert _walk(data, True, True) == _walk(data, False, True)
    assert _walk(data, True, True)[0] == len(data)
    cuts = {len(data) - k for k in range(1, 40)}
    for start in _event_starts(data):
        cuts.update(p for p in (start - 1, start, start + 1, start + 12, start + 19, start + 25) if 4 <= p <= len(data))
    for cut in sorted(cuts):
        piece = data[:cut]
        for verify in (True, False):
            assert _walk(piece, True, verify) == _walk(piece, False, verify), (cut, verify)


def test_native_walk_matches_python_on_damaged_bytes(walk_file_bytes: bytes) -> None:
    data = walk_file_bytes
    rng = random.Random(7)
    starts = _event_starts(data)
    for _ in range(300):
        damaged = bytearray(data)
        at = rng.choice(starts) + rng.randrange(0, 40) if rng.random() < 0.6 else rng.randrange(4, len(data))
        at = min(at, len(data) - 1)
        damaged[at] ^= 1 << rng.randrange(8)
        piece = bytes(damaged)
        for verify in (True, False):
            assert _walk(piece, True, verify) == _walk(piece, False, verify), (at, verify)


def test_native_walk_matches_python_on_boundary_statements(walk_file_bytes: bytes) -> None:
    """Query texts that open, end or leave open a transaction (case, spaces, savepoints, XA), in random order."""
    fde_end = 4 + int.from_bytes(walk_file_bytes[4 + 9 : 4 + 13], "little")
    rng = random.Random(11)
    valid = 0
    for _ in range(300):
        data = _crafted_file(walk_file_bytes[:fde_end], rng)
        for verify in (True, False):
            result = _walk(data, True, verify)
            assert result == _walk(data, False, verify), (verify, data)
            valid += isinstance(result[0], int)
        listed = _listing(data, True)
        assert listed == _pre_pass_view(_listing(data, False)), data
    assert valid > 150  # most files are read to their end, not stopped by the rare damaged events


def _listing(data: bytes, native: bool, keep_from: int = 4) -> list[tuple[int, int, bytes]]:
    """of_types over the whole of `data` as a file (where the unverified walk ends it), C or Python."""
    saved = local.native_select
    local.native_select = saved if native else None
    try:
        end = local.walk_file(data, "f", False).valid_end
        return [(e.start_pos, e.type_code, e.body)
                for e in local.selected_events(data, "f", end, frozenset({2, 19, 40, 165}), keep_from)]
    except Exception as exc:
        return [(-1, -1, str(exc).encode())]
    finally:
        local.native_select = saved


def _pre_pass_view(events: list[tuple[int, int, bytes]]) -> list[tuple[int, int, bytes]]:
    """The Python listing without what the C one leaves out: BEGIN Query events, a Table_map equal to the one
    listed before it."""
    out: list[tuple[int, int, bytes]] = []
    last_map = None
    for pos, code, body in events:
        text_at = 13 + int.from_bytes(body[11:13], "little") + body[8] + 1 if len(body) >= 13 else len(body)
        if code == 2 and body[text_at:] == b"BEGIN":
            continue
        if code == 19:
            if body == last_map:
                continue
            last_map = body
        out.append((pos, code, body))
    return out


def test_native_pre_pass_lists_what_the_python_one_lists(walk_file_bytes: bytes, tmp_path: Path) -> None:
    """The replay's pre-pass over tables and statements (of_types in C: BEGIN and repeated Table_maps left out)
    finds the same tables, triggers and collations as the Python listing, from every event of the file on."""
    path = tmp_path / "binlog.000001"
    path.write_bytes(walk_file_bytes)
    wanted = frozenset({2, 19, 40, 165})
    source = local.LocalBinlogSource([path])
    for keep_from in [4, *_event_starts(walk_file_bytes)[::5]]:
        assert _listing(walk_file_bytes, True, keep_from) == _pre_pass_view(
            _listing(walk_file_bytes, False, keep_from)), keep_from
    found = []
    for start in [4, *_event_starts(walk_file_bytes)[::3]]:
        rng: Any = SimpleNamespace(stop=SimpleNamespace(position=None))  # range_contents reads only the stop
        native = range_contents(source.of_types(wanted, lambda name, at=start: at), rng, EventFilter())
        saved = local.native_select
        local.native_select = None
        try:
            python = range_contents(source.of_types(wanted, lambda name, at=start: at), rng, EventFilter())
        finally:
            local.native_select = saved
        assert native == python, start
        found.append(native)
    assert found[0].tables and found[0].collations == set() and not found[-1].tables


def test_native_pre_pass_over_several_files(walk_file_bytes: bytes, tmp_path: Path) -> None:
    """read_file_range_contents from a start inside the second of three files: the files before it add nothing,
    the ones after it everything, as the Python listing says."""
    for n in (1, 2, 3):
        (tmp_path / f"binlog.00000{n}").write_bytes(walk_file_bytes)
    paths = [tmp_path / f"binlog.00000{n}" for n in (1, 2, 3)]
    starts = _event_starts(walk_file_bytes)
    for start in (4, starts[len(starts) // 2], starts[-1]):
        rng: Any = SimpleNamespace(start=SimpleNamespace(file="binlog.000002", pos=start),
                                   stop=SimpleNamespace(position=None))
        native = read_file_range_contents(paths, rng, EventFilter())
        saved = local.native_select
        local.native_select = None
        try:
            python = read_file_range_contents(paths, rng, EventFilter())
        finally:
            local.native_select = saved
        assert native == python and native.tables, start


def test_native_walk_gives_back_pages_of_a_mapped_file(walk_file_bytes: bytes, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Over a memory map, the C loop stops at every RELEASE_EVERY bytes for the pages to be given back."""
    path = tmp_path / "binlog.000001"
    path.write_bytes(walk_file_bytes)
    monkeypatch.setattr(local, "RELEASE_EVERY", 4096)
    released: list[int] = []
    passed = local.PageRelease.passed

    def record(self: local.PageRelease, pos: int) -> None:
        released.append(pos)
        passed(self, pos)

    monkeypatch.setattr(local.PageRelease, "passed", record)
    from mysqlinspect.binlog.source.files import open_bytes

    with open_bytes(path) as data:
        walk = local.walk_file(data, path.name, True)
    assert walk.valid_end == len(walk_file_bytes)
    assert len(released) >= len(walk_file_bytes) // 4096 - 1
