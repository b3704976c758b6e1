"""Fuzz the redo decoders with mutated real headers and synthetic logs: never an exception, always a status.

Hypothesis drives the mutations; the batch tests turn each drawn seed into several mutated files, which keeps
the per-case overhead low: about 30 000 cases in total by default, in well under a minute. Set
MYSQLINSPECT_FUZZ_SCALE=10 (or more) for a longer run.
"""

from __future__ import annotations

import json
import os
import random
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mysqlinspect.redo import layout as L
from mysqlinspect.redo import synthetic as S
from mysqlinspect.redo.checksum import _first_invalid_slow, first_invalid_block
from mysqlinspect.redo.discover import classify
from mysqlinspect.redo.files import find_latest_checkpoint, report_from_bytes
from mysqlinspect.redo.mariadb import spans
from mysqlinspect.redo.mariadb.walk import MtrRing, find_file_checkpoint, kind_name, skip_mtr, walk_mtrs
from mysqlinspect.render.jsonout import dumps
from tests.unit.redo_samples import SAMPLES, head_bytes

SCALE = float(os.environ.get("MYSQLINSPECT_FUZZ_SCALE", "1"))
STATUSES = {"ok", "never_written", "spare", "truncated", "unknown_format", "header_checksum_mismatch",
            "invalid_header", "no_valid_checkpoint", "checkpoint_checksum_mismatch", "checkpoint_invalid"}
HEADS = [(name, head_bytes(sample, name)) for sample, names in sorted(SAMPLES.items()) for name in names]
# Offsets where a mutation matters most: format, word 4, start LSN, creator, flags, checksum, checkpoint slots.
HOT_OFFSETS = [*range(64), *range(500, 560), *range(1024, 1100), *range(1530, 1600), *range(4090, 4160),
               *range(8186, 8260), *range(2040, 2060)]


def _examples(n: int) -> settings:
    return settings(max_examples=max(1, int(n * SCALE)), deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))


mutation = st.tuples(st.one_of(st.sampled_from(HOT_OFFSETS), st.integers(0, 16383)), st.integers(0, 255))


def _check_header_case(index: int, mutations: list[tuple[int, int]], cut: int | None) -> None:
    name, head = HEADS[index]
    data = bytearray(head)
    for offset, value in mutations:
        if offset < len(data):
            data[offset] = value
    blob = bytes(data[:cut] if cut is not None else data)
    report = report_from_bytes(blob, classify(Path("/fuzz") / name))
    assert report.status in STATUSES, report.status
    assert report.status == "ok" or report.message
    json.loads(dumps(report.to_dict()))
    find_latest_checkpoint([report])


@_examples(1500)
@given(st.sampled_from(range(len(HEADS))), st.lists(mutation, min_size=1, max_size=6),
       st.one_of(st.none(), st.integers(0, 16384)))
def test_mutated_real_headers_always_get_a_status(index: int, mutations: list[tuple[int, int]],
                                                  cut: int | None) -> None:
    _check_header_case(index, mutations, cut)


@_examples(2500)
@given(st.integers(0, 2**64))
def test_batches_of_mutated_real_headers(seed: int) -> None:
    rnd = random.Random(seed)
    for _ in range(8):
        mutations = [(rnd.choice(HOT_OFFSETS) if rnd.random() < 0.7 else rnd.randrange(16384), rnd.randrange(256))
                     for _ in range(rnd.randint(1, 6))]
        cut = rnd.randrange(16385) if rnd.random() < 0.2 else None
        _check_header_case(rnd.randrange(len(HEADS)), mutations, cut)


_MARIA = S.MariaRingWriter(4096)
for _i in range(160):
    _MARIA.mtr(S.write_record(3, _i % 50, bytes(range(_i % 70 + 1))))
    if _i == 140:
        _MARIA_CKPT = _MARIA.lsn
        _MARIA_SLOT_END = _MARIA.mtr(b"\xb9\x03\x00t/a.ibd" + S.file_checkpoint_record(_MARIA_CKPT))
_MARIA.terminate()
_MARIA_AREA = bytes(_MARIA.area)


@_examples(3000)
@given(st.lists(st.tuples(st.integers(0, 4095), st.integers(0, 255)), min_size=1, max_size=8),
       st.booleans())
def test_mutated_mariadb_log_walk_never_raises(mutations: list[tuple[int, int]], encrypted: bool) -> None:
    area = bytearray(_MARIA_AREA)
    for offset, value in mutations:
        area[offset] = value
    result = walk_mtrs(MtrRing(bytes(area), L.MDB_FIRST_LSN, encrypted), _MARIA_CKPT, _MARIA_SLOT_END)
    assert result.end_lsn >= _MARIA_CKPT or result.error
    assert result.stop_reason


_BLOCK_LSN = 1 << 30
_BLOCKS = b"".join(S.blocks(_BLOCK_LSN, _BLOCK_LSN + 24 * 512))


@_examples(3000)
@given(st.lists(st.tuples(st.integers(0, len(_BLOCKS) - 1), st.integers(0, 255)), max_size=4), st.booleans())
def test_vectorised_block_check_agrees_with_the_scalar_one(mutations: list[tuple[int, int]], legacy: bool) -> None:
    data = bytearray(_BLOCKS)
    for offset, value in mutations:
        data[offset] = value
    view = memoryview(bytes(data))
    assert first_invalid_block(view, _BLOCK_LSN, legacy) == _first_invalid_slow(view, _BLOCK_LSN, legacy)


def _long_write(space: int, page: int, body: bytes) -> bytes:
    """A WRITE record with a two-byte length varint (record bodies of 127 bytes and more)."""
    data = bytes([space, page, 0x26]) + body
    value = len(data) + 2 - 15  # the two varint bytes are counted in the length
    assert 0x80 <= value < 0x4080
    return bytes([0x30, 0x80 | ((value - 0x80) >> 8), (value - 0x80) & 0xFF]) + data


def _mixed_log(encrypted: bool) -> tuple[bytes, int, int]:
    """A ring of short, one-byte-varint, two-byte-varint and file-level mtrs over several laps."""
    rnd = random.Random(7)
    writer = S.MariaRingWriter(8192, encrypted=encrypted)
    ckpt = slot_end = 0
    for i in range(400):
        kind = rnd.random()
        if kind < 0.5:
            records = b"".join(S.write_record(3, rnd.randrange(50), bytes(rnd.randrange(1, 10)))
                               for _ in range(rnd.randint(1, 4)))
        elif kind < 0.8:
            records = S.write_record(3, 9, bytes(rnd.randrange(13, 120))) + b"\xb2\x00\x01"
        elif kind < 0.95:
            records = _long_write(4, 1, bytes(rnd.randrange(130, 700)))
        else:
            records = b"\xb9\x03\x00t/b.ibd"
        writer.mtr(records)
        if i == 380:
            ckpt = writer.lsn
            slot_end = writer.mtr(b"\xb9\x03\x00t/a.ibd" + S.file_checkpoint_record(ckpt))
    writer.terminate()
    return bytes(writer.area), ckpt, slot_end


_MIXED = {encrypted: _mixed_log(encrypted) for encrypted in (False, True)}


def _exact_walk(ring: MtrRing, checkpoint_lsn: int, slot_end_lsn: int) -> tuple[int, str, int, Counter[str]]:
    """The walk with the exact per-mtr path only (the reference for the fast path)."""
    file_ckpt, reached, reason = find_file_checkpoint(ring, checkpoint_lsn, slot_end_lsn)
    if file_ckpt is None:
        return reached, "missing_file_checkpoint", 0, Counter()
    start = lsn = checkpoint_lsn if slot_end_lsn != checkpoint_lsn else file_ckpt
    kinds: dict[int, int] = {}
    mtrs = 0
    while True:
        after, reason = skip_mtr(ring, lsn, kinds)
        if after < 0:
            break
        mtrs += 1
        lsn = after
        if lsn - start > ring.capacity:
            reason = "wrapped"
            break
    return lsn, reason, mtrs, Counter({kind_name(kind): n for kind, n in kinds.items()})


@_examples(1500)
@given(st.lists(st.tuples(st.integers(0, 8191), st.integers(0, 255)), max_size=6), st.booleans())
def test_fast_mtr_walk_agrees_with_the_exact_one(mutations: list[tuple[int, int]], encrypted: bool) -> None:
    area, ckpt, slot_end = _MIXED[encrypted]
    data = bytearray(area)
    for offset, value in mutations:
        data[offset] = value
    ring = MtrRing(bytes(data), L.MDB_FIRST_LSN, encrypted)
    result = walk_mtrs(ring, ckpt, slot_end)
    expected = _exact_walk(ring, ckpt, slot_end)
    assert (result.end_lsn, result.stop_reason, result.mtrs_scanned, result.record_counts) == expected
    if not mutations:
        assert result.mtrs_scanned > 10 and result.stop_reason == "end_marker"


def test_the_c_mtr_run_is_in_use_where_the_extension_is_built() -> None:
    """Regression (issue 13, item 5): the pure-Python walk ran at 58-70 MB/s on a real small-record crash log; the
    C loop is what makes it >= 100 MB/s (benchmarks/bench_redo_mtr_walk.py)."""
    import platform

    if platform.machine() in ("x86_64", "AMD64") and " sse4_2" in Path("/proc/cpuinfo").read_text():
        assert spans.walk_page_mtrs_native is not None and spans.walk_page_mtrs is spans.walk_page_mtrs_native
    else:
        assert spans.walk_page_mtrs is spans.walk_page_mtrs_py


def _runs(ring: MtrRing, lsn: int) -> list[tuple[tuple[tuple[int, int], bytes], tuple[tuple[int, int], bytes]]]:
    """Fast-path runs from 300 positions at the start of the ring and 600 around `lsn` (valid mtr starts and bytes
    inside mtrs), with either sequence bit, by the C loop and by the Python one: ((result, firsts), ...) pairs."""
    native = spans.walk_page_mtrs_native
    assert native is not None
    pos = (lsn - ring.first_lsn) % ring.capacity
    endpos = min(ring.capacity, len(ring.buf) - 16)
    out = []
    for start in [*range(300), *range(max(pos - 300, 0), min(pos + 300, ring.capacity))]:
        for bit in (0, 1):
            ours, theirs = bytearray(b"x"), bytearray(b"x")
            got = native(ring.buf, start, endpos, ring.nonce, bit, ours)
            want = spans.walk_page_mtrs_py(ring.buf, start, endpos, ring.nonce, bit, theirs)
            out.append(((got, bytes(ours)), (want, bytes(theirs))))
    return out


@_examples(300)
@given(st.lists(st.tuples(st.integers(0, 8191), st.integers(0, 255)), max_size=6), st.booleans(),
       st.integers(0, 8000))
def test_c_mtr_run_agrees_with_the_python_one(mutations: list[tuple[int, int]], encrypted: bool, cut: int) -> None:
    """Every start position (valid mtr starts and the bytes inside mtrs), mutated bytes, buffers cut short."""
    if spans.walk_page_mtrs_native is None:
        return
    area, ckpt, _ = _MIXED[encrypted]
    data = bytearray(area)
    for offset, value in mutations:
        data[offset] = value
    ring = MtrRing(bytes(data), L.MDB_FIRST_LSN, encrypted)
    for native, python in _runs(ring, ckpt):
        assert native == python
    short = bytes(ring.buf[:max(cut, 17)])
    for start in range(min(len(short), 400)):
        ours, theirs = bytearray(), bytearray()
        end = len(short) - 16
        got = spans.walk_page_mtrs_native(short, start, end, ring.nonce, 1, ours)
        want = spans.walk_page_mtrs_py(short, start, end, ring.nonce, 1, theirs)
        assert (got, ours) == (want, theirs)
