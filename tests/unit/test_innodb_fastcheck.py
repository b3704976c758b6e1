"""The chunk-level pre-check (fastcheck) and the process pool must flag exactly what the per-page checks flag."""

from __future__ import annotations

import random
import struct
from pathlib import Path

import pytest

from mysqlinspect.crc import crc32c
from mysqlinspect.errors import DataError
from mysqlinspect.innodb.pages import fastcheck
from mysqlinspect.innodb.pages import verify as V
from mysqlinspect.innodb.pages.checksum import PageStatus, check_classic, check_full_crc32, page_crc32

PS = 16384
SPACE = 42
FLAGS = {"crc32": 0x21, "full_crc32": 0x15}


def _seal(page: bytearray, page_no: int, lsn: int, fmt: str, page_type: int = 17855) -> bytearray:
    struct.pack_into(">IIIIQHQI", page, 0, 0, page_no, 0xFFFFFFFF, 0xFFFFFFFF, lsn, page_type, 0, SPACE)
    if fmt == "full_crc32":
        struct.pack_into(">I", page, PS - 8, lsn & 0xFFFFFFFF)
        struct.pack_into(">I", page, PS - 4, crc32c(bytes(page[:PS - 4])))
    else:
        struct.pack_into(">I", page, PS - 4, lsn & 0xFFFFFFFF)
        crc = page_crc32(page, PS)
        struct.pack_into(">I", page, 0, crc)
        struct.pack_into(">I", page, PS - 8, crc)
    return page


def _page0(pages: int, fmt: str) -> bytearray:
    page = bytearray(PS)
    struct.pack_into(">IIIII", page, 38, SPACE, 0, pages, pages, FLAGS[fmt])
    return _seal(page, 0, 1000, fmt, page_type=8)


KINDS = ["flip_body", "flip_header", "flip_trailer", "torn", "zero", "wrong_no", "wrong_space", "stale_checksum",
         "flip_in_gap", "resealed_lsn"]


def _damage(page: bytearray, rnd: random.Random, page_no: int, fmt: str, kind: str | None = None) -> str:
    """One kind of damage (random unless given) at a random place; returns its name."""
    kind = kind or rnd.choice(KINDS)
    if kind == "flip_body":
        page[rnd.randrange(38, PS - 8)] ^= 1 << rnd.randrange(8)
    elif kind == "flip_header":
        page[rnd.randrange(0, 38)] ^= 1 << rnd.randrange(8)
    elif kind == "flip_trailer":
        page[rnd.randrange(PS - 8, PS)] ^= 1 << rnd.randrange(8)
    elif kind == "torn":  # the first half of a newer version of the page over the older one
        newer = _seal(bytearray(rnd.randbytes(PS)), page_no, 5_000_000 + page_no, fmt)
        page[:PS // 2] = newer[:PS // 2]
    elif kind == "zero":
        page[:] = bytes(PS)
    elif kind == "wrong_no":  # a valid page written at the wrong place
        _seal(page, page_no + 1, 2000 + page_no, fmt)
    elif kind == "wrong_space":
        struct.pack_into(">I", page, 34, SPACE + 1)
        _seal_keep_space(page, fmt)
    elif kind == "stale_checksum":  # body changed, checksum of the old body kept
        page[rnd.randrange(38, PS - 8)] ^= 0x80
        page[rnd.randrange(38, PS - 8)] ^= 0x80
    elif kind == "resealed_lsn":  # trailer LSN differs from the header's, checksum recomputed (torn, not corrupt)
        page[PS - 8 if fmt == "full_crc32" else PS - 1] ^= 0x10
        _seal_keep_space(page, fmt)
    else:  # bytes 26..37 of a crc32 page are outside both checksum ranges (flush LSN / key version, space id)
        page[rnd.randrange(26, 34)] ^= 1 << rnd.randrange(8)
    return kind


def _seal_keep_space(page: bytearray, fmt: str) -> None:
    if fmt == "full_crc32":
        struct.pack_into(">I", page, PS - 4, crc32c(bytes(page[:PS - 4])))
    else:
        crc = page_crc32(page, PS)
        struct.pack_into(">I", page, 0, crc)
        struct.pack_into(">I", page, PS - 8, crc)


def _tablespace(tmp_path: Path, fmt: str, seed: int, pages: int = 600, damaged: int = 60,
                kind: str | None = None) -> tuple[Path, set[int]]:
    rnd = random.Random(seed)
    body = [bytearray(rnd.randbytes(PS)) for _ in range(8)]
    content = [_page0(pages, fmt)]
    content += [_seal(bytearray(body[n % 8]), n, 1000 + 37 * n, fmt) for n in range(1, pages)]
    hit = set(rnd.sample(range(1, pages), damaged))
    for n in hit:
        _damage(content[n], rnd, n, fmt, kind)
    path = tmp_path / f"{fmt}-{seed}.ibd"
    path.write_bytes(b"".join(bytes(p) for p in content))
    return path, hit


def _per_page_statuses(path: Path, fmt: str) -> dict[int, str]:
    """Each page through the per-page checks alone (the reference), position checks included."""
    data = path.read_bytes()
    statuses = {}
    for n in range(len(data) // PS):
        page = memoryview(data)[n * PS:(n + 1) * PS]
        check = check_full_crc32(page, PS) if fmt == "full_crc32" else check_classic(page, PS)
        status = check.status.value
        if check.status is PageStatus.VALID:
            stored_no, stored_space = struct.unpack_from(">I26xI", page, 4)
            if stored_no != n or stored_space != SPACE:
                status = "misplaced"
        statuses[n] = status
    return statuses


@pytest.mark.parametrize("fmt", ["crc32", "full_crc32"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_batch_path_flags_exactly_what_the_per_page_path_flags(tmp_path: Path, fmt: str, seed: int) -> None:
    path, hit = _tablespace(tmp_path, fmt, seed)
    reference = _per_page_statuses(path, fmt)
    result = V.verify_file(path)
    flagged = {b.page_no: b.status for b in result.bad_pages}
    expected_bad = {n: s for n, s in reference.items() if s in ("corrupt", "torn", "misplaced")}
    assert flagged == expected_bad
    assert set(flagged) <= hit  # undamaged pages are never flagged
    assert sum(result.counts.values()) == result.pages
    for status in ("valid", "empty"):
        assert result.counts[status] == sum(s == status for s in reference.values())


@pytest.mark.parametrize("fmt", ["crc32", "full_crc32"])
@pytest.mark.parametrize("kind", KINDS)
def test_one_damaged_page_alone_is_flagged_as_the_per_page_path_does(tmp_path: Path, fmt: str, kind: str) -> None:
    """A single damaged page in an otherwise clean file (the chunk's all-valid shortcut must not hide it)."""
    path, _ = _tablespace(tmp_path, fmt, seed=len(kind), pages=300, damaged=1, kind=kind)
    reference = _per_page_statuses(path, fmt)
    result = V.verify_file(path)
    assert {b.page_no: b.status for b in result.bad_pages} == {
        n: s for n, s in reference.items() if s in ("corrupt", "torn", "misplaced")}
    assert result.counts["empty"] == sum(s == "empty" for s in reference.values())


@pytest.mark.parametrize("fmt", ["crc32", "full_crc32"])
def test_suspects_cover_every_damaged_page(tmp_path: Path, fmt: str) -> None:
    """The pre-check may send a valid page to the per-page checks, but never lets a damaged one through."""
    path, hit = _tablespace(tmp_path, fmt, seed=9, pages=300, damaged=100)
    data = memoryview(path.read_bytes())
    suspects = (fastcheck.full_crc32_suspects if fmt == "full_crc32" else fastcheck.classic_suspects)
    found = set(suspects(data, 300, PS, 0, SPACE))
    reference = _per_page_statuses(path, fmt)
    assert {n for n, s in reference.items() if s != "valid"} <= found
    assert found <= hit


def test_batch_crcs_equal_per_page_crcs() -> None:
    rnd = random.Random(5)
    data = memoryview(rnd.randbytes(PS * 17))
    assert fastcheck.classic_crcs(data, 17, PS) == b"".join(
        page_crc32(data[n * PS:(n + 1) * PS], PS).to_bytes(4, "big") for n in range(17))
    assert fastcheck.full_crc32_crcs(data, 17, PS) == b"".join(
        crc32c(data[n * PS:(n + 1) * PS - 4]).to_bytes(4, "big") for n in range(17))


def test_crc_module_agrees_with_the_packaged_function() -> None:
    """mysqlinspect.crc is the extension's SSE4.2 CRC-32C when built, else the crc32c package: same values, every
    length (the 8-byte loop and the byte tail), with and without a starting value."""
    import crc32c as packaged

    sample = random.Random(3).randbytes(10000)
    for n in (0, 1, 7, 8, 9, 15, 16, 17, 22, 100, 9999):
        assert crc32c(sample[:n]) == packaged.crc32c(sample[:n]), n
        assert crc32c(memoryview(sample)[3:n + 3], 77) == packaged.crc32c(sample[3:n + 3], 77), n


def _cpu_has_sse42() -> bool:
    try:
        return " sse4_2" in Path("/proc/cpuinfo").read_text()
    except OSError:
        return False


def test_extension_is_built_where_it_can_be() -> None:
    """`make install` compiles _pagecheck.c (gcc and the Python headers are there): on an x86-64 CPU with SSE4.2
    the C path must be the one in use, else the pure-Python one."""
    import platform

    if platform.machine() in ("x86_64", "AMD64") and _cpu_has_sse42():
        assert fastcheck.NATIVE and fastcheck.SUSPECTS is fastcheck.NATIVE_SUSPECTS
    else:
        assert fastcheck.SUSPECTS is fastcheck.PYTHON_SUSPECTS


def _sized_page(ps: int, page_no: int, lsn: int, fmt: str, body: bytes, space: int = SPACE) -> bytearray:
    page = bytearray(ps)
    page[38:ps - 8] = body[:ps - 46]
    struct.pack_into(">IIIIQHQI", page, 0, 0, page_no, 0xFFFFFFFF, 0xFFFFFFFF, lsn, 17855, 0, space)
    if fmt == "full_crc32":
        struct.pack_into(">I", page, ps - 8, lsn & 0xFFFFFFFF)
        struct.pack_into(">I", page, ps - 4, crc32c(bytes(page[:ps - 4])))
    else:
        struct.pack_into(">I", page, ps - 4, lsn & 0xFFFFFFFF)
        crc = page_crc32(page, ps)
        struct.pack_into(">I", page, 0, crc)
        struct.pack_into(">I", page, ps - 8, crc)
    return page


def _mixed_pages(ps: int, fmt: str, count: int, seed: int) -> tuple[bytes, set[int]]:
    """count pages from page 0: good ones and, at fixed places, each kind of damage; returns (bytes, bad indices)."""
    rnd = random.Random(seed)
    pages = [_sized_page(ps, n, 1000 + 37 * n, fmt, rnd.randbytes(ps)) for n in range(count)]
    bad: set[int] = set()

    def hit(n: int) -> bytearray | None:
        if n < count:
            bad.add(n)
            return pages[n]
        return None

    if (page := hit(1)) is not None:  # torn: the first half of a newer version over the older one
        page[:ps // 2] = _sized_page(ps, 1, 9_000_000, fmt, rnd.randbytes(ps))[:ps // 2]
    if (page := hit(2)) is not None:  # all zero (empty: a suspect for the per-page checks to classify)
        page[:] = bytes(ps)
    if (page := hit(4)) is not None:  # a flipped body byte
        page[ps // 2] ^= 0x40
    if hit(5) is not None:  # a valid page of another page number
        pages[5] = _sized_page(ps, 6, 5000, fmt, rnd.randbytes(ps))
    if hit(7) is not None:  # a valid page of another space
        pages[7] = _sized_page(ps, 7, 5000, fmt, rnd.randbytes(ps), space=SPACE + 1)
    if (page := hit(8)) is not None:  # trailer byte: LSN halves differ (crc32) or stored CRC (full_crc32)
        page[ps - 1] ^= 1
    if fmt == "full_crc32" and (page := hit(10)) is not None:  # a key version: encrypted
        struct.pack_into(">I", page, 0, 3)
    if fmt == "full_crc32" and (page := hit(11)) is not None:  # the page_compressed bit, valid whole-page CRC
        page[24] |= 0x80
        struct.pack_into(">I", page, ps - 4, crc32c(bytes(page[:ps - 4])))
    return b"".join(bytes(p) for p in pages), bad


@pytest.mark.skipif(not fastcheck.NATIVE, reason="the C extension is not built or the CPU has no SSE4.2")
@pytest.mark.parametrize("fmt", ["crc32", "full_crc32"])
@pytest.mark.parametrize("ps", [4096, 8192, 16384, 32768, 65536])
def test_native_and_python_suspects_agree(fmt: str, ps: int) -> None:
    """The C path and the pure-Python fallback flag the same pages: good, torn, zero, corrupt, misplaced,
    encrypted and page_compressed ones, every page size, chunks of every length mod 3 (three pages at a time)."""
    data, bad = _mixed_pages(ps, fmt, 14, seed=ps)
    view = memoryview(data)
    for start, count in ((0, 14), (0, 1), (0, 2), (0, 3), (1, 4), (3, 8), (5, 9), (13, 1)):
        part = view[start * ps:(start + count) * ps]
        for space_id in (SPACE, None):
            native = fastcheck.NATIVE_SUSPECTS[fmt](part, count, ps, start, space_id)
            python = fastcheck.PYTHON_SUSPECTS[fmt](part, count, ps, start, space_id)
            assert native == python, (start, count, space_id)
        expected = sorted(n - start for n in bad if start <= n < start + count)
        assert fastcheck.NATIVE_SUSPECTS[fmt](part, count, ps, start, SPACE) == expected


@pytest.mark.skipif(not fastcheck.NATIVE, reason="the C extension is not built or the CPU has no SSE4.2")
def test_native_suspects_refuse_a_short_buffer() -> None:
    with pytest.raises(ValueError, match="do not fit"):
        fastcheck.NATIVE_SUSPECTS["crc32"](memoryview(bytes(PS * 2)), 3, PS, 0, SPACE)


@pytest.mark.parametrize("fmt", ["crc32", "full_crc32"])
def test_fallback_path_gives_the_same_report(tmp_path: Path, fmt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """verify_file() with the pure-Python pre-check reports exactly what it reports with the C one."""
    path, _ = _tablespace(tmp_path, fmt, seed=21, pages=301, damaged=40)
    preferred = V.verify_file(path).to_dict()
    monkeypatch.setattr(fastcheck, "SUSPECTS", fastcheck.PYTHON_SUSPECTS)
    assert V.verify_file(path).to_dict() == preferred


def test_pool_over_several_files_gives_the_serial_result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = [_tablespace(tmp_path, fmt, seed, pages=120, damaged=10)[0]
             for fmt, seed in (("crc32", 11), ("full_crc32", 12), ("crc32", 13))]
    serial = V.verify_paths(files, jobs=1).to_dict()
    monkeypatch.setattr(V, "PARALLEL_MIN_BYTES", 0)  # every file "large": split between the parent and workers
    assert V.verify_paths(files, jobs=3).to_dict() == serial
    monkeypatch.setattr(V, "PARALLEL_MIN_BYTES", 120 * PS + 1)  # every file "small": one task per file
    assert V.verify_paths(files, jobs=2).to_dict() == serial
    assert V.verify_paths(files, jobs=0).to_dict() == serial


def test_pages_verify_json_starts_without_connection_or_rich_modules(tmp_path: Path) -> None:
    """Start-up is part of the end-to-end speed: the offline command must not import PyMySQL, the connection
    modules or rich (JSON output)."""
    import subprocess
    import sys

    path, _ = _tablespace(tmp_path, "crc32", seed=4, pages=20, damaged=0)
    script = ("import sys\nfrom mysqlinspect.cli import main\n"
              f"code = main(['pages', 'verify', '--format', 'json', {str(path)!r}])\n"
              "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('pymysql', 'rich', 'pymysqlreplication')"
              " or m.startswith('mysqlinspect.connection.'))\n"
              "print('HEAVY', heavy, code, file=sys.stderr)\n")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert "HEAVY [] 0" in proc.stderr, proc.stderr


def test_page_compressed_page_is_not_taken_for_a_plain_one(tmp_path: Path) -> None:
    """A full_crc32 page_compressed page whose bytes also happen to carry a valid whole-page CRC: the pre-check
    must still hand it to the per-page check (the page type decides how it is checksummed)."""
    path, _ = _tablespace(tmp_path, "full_crc32", seed=6, pages=40, damaged=0)
    data = bytearray(path.read_bytes())
    size, n = 4096, 17
    page = bytearray(PS)
    struct.pack_into(">IIIIQHQI", page, 0, 0, n, 0xFFFFFFFF, 0xFFFFFFFF, 0, 0x8000 | size >> 8, 0, SPACE)
    page[38:size - 4] = random.Random(8).randbytes(size - 42)
    struct.pack_into(">I", page, size - 4, crc32c(bytes(page[:size - 4])))
    struct.pack_into(">I", page, PS - 4, crc32c(bytes(page[:PS - 4])))
    data[n * PS:(n + 1) * PS] = page
    path.write_bytes(bytes(data))
    result = V.verify_file(path)
    assert result.ok and result.algorithms == {"full_crc32": 39, "full_crc32_page_compressed": 1}


def _fail(message: str) -> None:
    raise DataError(message)


def _die() -> None:
    import os

    os._exit(3)


def test_forked_workers_return_results_and_raise_errors_in_order() -> None:
    from mysqlinspect.innodb.pages import workers

    ran: list[str] = []
    assert workers.run_split(lambda: ran.append("local"), divmod, [(7, 2), (9, 4)]) == [(3, 1), (2, 1)]
    assert ran == ["local"]
    with pytest.raises(DataError, match="bad page"):
        workers.run_split(lambda: None, _fail, [("bad page",)])
    with pytest.raises(workers.WorkerError, match="died without a result"):
        workers.run_split(lambda: None, _die, [()])
