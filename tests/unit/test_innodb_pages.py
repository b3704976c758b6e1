"""Page checks and FSP flag decoding on hand-built pages (the real-file comparisons with innochecksum are live)."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest
from crc32c import crc32c

from mysqlinspect.innodb.pages.checksum import (
    PageStatus,
    check_classic,
    check_full_crc32,
    check_zip,
    page_crc32,
    page_crc32_legacy_big_endian,
    page_new_fold,
    page_old_fold,
)
from mysqlinspect.innodb.pages.structs import FspFlags
from mysqlinspect.innodb.pages.verify import verify_file

PS = 16384


def body(page_no: int = 7, space_id: int = 5, lsn: int = 0x1_2345_6789, page_type: int = 17855) -> bytearray:
    page = bytearray(PS)
    struct.pack_into(">IIIIQHQI", page, 0, 0, page_no, 0xFFFFFFFF, 0xFFFFFFFF, lsn, page_type, 0, space_id)
    for i in range(38, PS - 8, 7):
        page[i] = (i * 31) & 0xFF
    struct.pack_into(">I", page, PS - 4, lsn & 0xFFFFFFFF)
    return page


def crc32_page(**kwargs: int) -> bytearray:
    page = body(**kwargs)
    crc = page_crc32(page, PS)
    struct.pack_into(">I", page, 0, crc)
    struct.pack_into(">I", page, PS - 8, crc)
    return page


def full_crc32_page(lsn: int = 0x1_2345_6789) -> bytearray:
    page = body(lsn=lsn)
    struct.pack_into(">I", page, PS - 8, lsn & 0xFFFFFFFF)
    struct.pack_into(">I", page, PS - 4, crc32c(bytes(page[:PS - 4])))
    return page


@pytest.mark.parametrize(("value", "expected"), [
    (0x15, {"layout": "full_crc32", "page_size": 16384, "full_crc32": True, "page_compression": False}),
    (0x35, {"layout": "full_crc32", "page_compression": True, "compression_algorithm": "zlib"}),
    (0x21, {"layout": "classic", "page_size": 16384, "post_antelope": True, "atomic_blobs": True}),
    (0x10021, {"layout": "classic", "page_compression": True}),
    (0x29, {"zip_size": 8192, "page_size": 16384}),
    (0x4800, {"shared": True, "sdi": True, "page_size": 16384}),
    (0x421, {"data_dir": True, "shared": False, "temporary": False, "encryption": False}),
    (0x1021, {"temporary": True, "data_dir": False, "encryption": False}),
    (0x6021, {"encryption": True, "sdi": True, "temporary": False, "shared": False}),
    (0x4021 | 5 << 6, {"page_size": 16384, "valid": True}),
    (4 << 6, {"page_size": 8192}),
    (0x13, {"layout": "full_crc32", "page_size": 4096}),
])
def test_fsp_flags_decode(value: int, expected: dict[str, object]) -> None:
    flags = FspFlags.from_value(value)
    assert flags.valid
    for key, want in expected.items():
        assert getattr(flags, key) == want, key


@pytest.mark.parametrize("value", [0x1F, 0x2 << 1 | 0xF << 6, 1 << 20])
def test_invalid_flags(value: int) -> None:
    assert not FspFlags.from_value(value).valid


def test_crc32_page_valid_and_flipped_byte_corrupt() -> None:
    page = crc32_page()
    assert check_classic(page, PS) == (PageStatus.VALID, "crc32", None)
    page[9000] ^= 0xFF
    check = check_classic(page, PS)
    assert check.status is PageStatus.CORRUPT and "checksum mismatch" in (check.reason or "")


def test_torn_page_detected_before_checksum() -> None:
    page = crc32_page()
    struct.pack_into(">I", page, PS - 4, 0xABCDEF)
    check = check_classic(page, PS)
    assert check.status is PageStatus.TORN and "0x23456789" in (check.reason or "")


def test_innodb_fold_none_and_legacy_checksums_accepted() -> None:
    innodb = body()
    struct.pack_into(">I", innodb, 0, page_new_fold(innodb, PS))
    struct.pack_into(">I", innodb, PS - 8, page_old_fold(innodb))
    assert check_classic(innodb, PS).algorithm == "innodb"
    none = body()
    struct.pack_into(">I", none, 0, 0xDEADBEEF)
    struct.pack_into(">I", none, PS - 8, 0xDEADBEEF)
    assert check_classic(none, PS).algorithm == "none"
    legacy = body()
    value = page_crc32_legacy_big_endian(legacy, PS)
    struct.pack_into(">I", legacy, 0, value)
    struct.pack_into(">I", legacy, PS - 8, value)
    assert check_classic(legacy, PS).algorithm == "crc32_legacy_big_endian"


def test_all_zero_page_is_empty_not_corrupt() -> None:
    assert check_classic(bytearray(PS), PS).status is PageStatus.EMPTY
    assert check_full_crc32(bytearray(PS), PS).status is PageStatus.EMPTY
    almost = bytearray(PS)
    almost[100] = 1
    assert check_classic(almost, PS).status is PageStatus.CORRUPT


def test_full_crc32_valid_torn_and_corrupt() -> None:
    page = full_crc32_page()
    assert check_full_crc32(page, PS).algorithm == "full_crc32"
    torn = bytearray(page)
    struct.pack_into(">I", torn, PS - 8, 1)
    struct.pack_into(">I", torn, PS - 4, crc32c(bytes(torn[:PS - 4])))
    assert check_full_crc32(torn, PS).status is PageStatus.TORN
    page[5000] ^= 1
    assert check_full_crc32(page, PS).status is PageStatus.CORRUPT


def test_full_crc32_page_compressed_uses_the_short_image() -> None:
    page = bytearray(PS)
    struct.pack_into(">I", page, 4, 9)
    page[24], page[25] = 0x80, 0x10  # 4096-byte image
    page[26:4000] = bytes(range(256)) * 15 + bytes(range(94))
    struct.pack_into(">I", page, 4096 - 4, crc32c(bytes(page[:4092])))
    assert check_full_crc32(page, PS).algorithm == "full_crc32_page_compressed"
    page[25] = 0x40  # 16384: not smaller than the page
    assert check_full_crc32(page, PS).status is PageStatus.CORRUPT


def adler32_from_zero(data: bytes) -> int:
    """zlib's adler32(0L, data, len) written out: both sums start at 0 (zlib.adler32's default start is 1)."""
    s1 = s2 = 0
    for byte in data:
        s1 = (s1 + byte) % 65521
        s2 = (s2 + s1) % 65521
    return s2 << 16 | s1


def test_zip_page_crc32_and_adler32() -> None:
    zip_size = 8192
    page = bytearray(zip_size)
    struct.pack_into(">I", page, 4, 3)
    page[100:8000] = bytes(i & 0xFF for i in range(7900))
    crc = crc32c(bytes(page[4:16])) ^ crc32c(bytes(page[24:26])) ^ crc32c(bytes(page[34:zip_size]))
    struct.pack_into(">I", page, 0, crc)
    assert check_zip(page, zip_size).algorithm == "crc32"
    # page_zip_calc_checksum(): adler32(adler32(adler32(0L, ...), ...), ...) - seeded with 0, not zlib's 1
    adler = adler32_from_zero(bytes(page[4:16]) + bytes(page[24:26]) + bytes(page[34:zip_size]))
    struct.pack_into(">I", page, 0, adler)
    assert check_zip(page, zip_size).algorithm == "innodb"
    struct.pack_into(">I", page, 0, zlib.adler32(bytes(page[4:16]) + bytes(page[24:26]) + bytes(page[34:zip_size])))
    assert check_zip(page, zip_size).status is PageStatus.CORRUPT  # seeded with 1: not what the server writes
    struct.pack_into(">I", page, 0, adler)
    page[5000] ^= 1
    assert check_zip(page, zip_size).status is PageStatus.CORRUPT


def _file(tmp_path: Path, pages: list[bytearray]) -> Path:
    page0 = pages[0]
    struct.pack_into(">I", page0, 38, 5)  # FSP space id = FIL space id
    struct.pack_into(">I", page0, 38 + 16, 0x21)
    struct.pack_into(">I", page0, 4, 0)
    crc = page_crc32(page0, PS)
    struct.pack_into(">I", page0, 0, crc)
    struct.pack_into(">I", page0, PS - 8, crc)
    path = tmp_path / "t.ibd"
    path.write_bytes(b"".join(bytes(p) for p in pages))
    return path


def test_verify_file_counts_and_misplaced_pages(tmp_path: Path) -> None:
    pages = [crc32_page(page_no=0, page_type=8), crc32_page(page_no=1), crc32_page(page_no=9), bytearray(PS),
             crc32_page(page_no=4, space_id=6)]
    result = verify_file(_file(tmp_path, pages))
    assert result.error is None and result.pages == 5
    assert result.counts["valid"] == 2 and result.counts["empty"] == 1 and result.counts["misplaced"] == 2
    reasons = {b.page_no: b.reason for b in result.bad_pages}
    assert "page number 9 stored at position 2" in reasons[2] and "space id 6" in reasons[4]


def test_verify_file_without_fsp_header_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "junk.ibd"
    path.write_bytes(b"\x01" * PS)
    assert "not a tablespace" in (verify_file(path).error or "")


@pytest.mark.parametrize(("name", "kind"), [
    ("ibdata1", "system"), ("ibdata2", "system"), ("ibtmp1", "temporary"), ("mysql.ibd", "dictionary"),
    ("undo_001", "undo"), ("undo003", "undo"), ("u3.ibu", "undo"), ("temp_1.ibt", "session_temporary"),
    ("t.ibd", "file_per_table"), ("t#p#p0.ibd", "file_per_table"), ("#ib_16384_0.dblwr", "doublewrite"),
    ("#ib_16384_0.bdblwr", "doublewrite_reduced"), ("ib_logfile0", "redo"), ("#ib_redo12", "redo"),
    ("#ib_redo13_tmp", "redo_spare"), ("auto.cnf", "auto_cnf"), ("t.frm", "frm"), ("t_123.sdi", "sdi"),
    ("t.MYD", "myisam_data"), ("t.MAI", "aria_index"), ("aria_log.00000001", "aria_log"),
    ("aria_log_control", "aria_control"), ("host-relay-bin.000002", "relay_log"),
    ("host-relay-bin.index", "relay_log_index"), ("binlog.index", "binlog_index"), ("t.cfg", "export_metadata"),
    ("ib_buffer_pool", "buffer_pool_dump"), ("ddl_recovery.log", "ddl_recovery_log"), ("t.isl", "tablespace_link"),
])
def test_file_kinds_by_name(name: str, kind: str) -> None:
    from mysqlinspect.innodb.files.filekinds import kind_by_name

    assert kind_by_name(name) == kind


def test_binlog_recognised_by_magic(tmp_path: Path) -> None:
    from mysqlinspect.innodb.files.filekinds import classify_file

    log = tmp_path / "mariadb-bin.000007"
    log.write_bytes(b"\xfebin" + bytes(100))
    other = tmp_path / "notes.000001"
    other.write_bytes(b"hello")
    assert classify_file(log) == "binlog" and classify_file(other) == "other"


def test_datadir_on_the_redo_samples_recognises_them_by_content() -> None:
    from mysqlinspect.innodb.files.datadir import map_datadir
    from tests.servers import repo_root

    result = map_datadir(repo_root() / "tests" / "data" / "redo")
    kinds = {f.relative: f.kind for f in result.files}
    assert kinds["SOURCES.md"] == "other"
    assert all(kind == "redo" for name, kind in kinds.items() if ".head16k" in name), kinds
    assert result.redo is not None and len(result.redo.files) == len(kinds) - 1
    assert "redo header" in result.server_versions


def test_datadir_names_where_a_data_directory_link_points(tmp_path: Path) -> None:
    """MariaDB (and MySQL 5.7) write `db/t.isl` holding the path of a table created with DATA DIRECTORY."""
    from mysqlinspect.innodb.files.datadir import map_datadir

    (tmp_path / "d1").mkdir()
    (tmp_path / "d1" / "t.isl").write_text("/srv/fast/d1/t.ibd")
    [link] = map_datadir(tmp_path).files
    assert link.kind == "tablespace_link" and link.note is not None and "/srv/fast/d1/t.ibd" in link.note


def test_truncated_file_is_not_ok(tmp_path: Path) -> None:
    path = _file(tmp_path, [crc32_page(page_no=0, page_type=8), crc32_page(page_no=1)])
    with open(path, "ab") as fh:
        fh.write(b"\x07" * 1000)
    result = verify_file(path)
    assert result.pages == 2 and result.trailing_bytes == 1000 and not result.bad_pages and not result.ok


def test_parallel_scan_gives_the_same_result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mysqlinspect.innodb.pages import verify as V

    pages = [crc32_page(page_no=0, page_type=8)] + [crc32_page(page_no=n) for n in range(1, 40)]
    pages[3][5000] ^= 1
    pages[31][6000] ^= 1
    pages[20] = bytearray(PS)
    path = _file(tmp_path, pages)
    monkeypatch.setattr(V, "PARALLEL_MIN_BYTES", 0)
    serial, parallel = V.verify_file(path), V.verify_file(path, jobs=3)
    assert serial.to_dict() == parallel.to_dict()
    assert [b.page_no for b in parallel.bad_pages] == [3, 31] and parallel.counts["empty"] == 1


def test_copy_choice_follows_each_server() -> None:
    from mysqlinspect.innodb.files.doublewrite import DoublewriteCopy, _Candidate, _pick

    def cand(slot: int, lsn: int, valid: bool) -> _Candidate:
        return _Candidate(DoublewriteCopy("f", slot, 5, 9, lsn, "index", valid), b"")

    older_valid, newer_corrupt, newest_valid = cand(0, 100, True), cand(1, 300, False), cand(2, 200, True)
    # MySQL: the highest LSN wins, and a corrupt newest copy means no repair
    assert _pick([older_valid, newest_valid], True, None) is newest_valid
    assert _pick([older_valid, newer_corrupt, newest_valid], True, None) is None
    # MariaDB: the first valid copy in slot order not older than the checkpoint
    assert _pick([older_valid, newer_corrupt, newest_valid], False, 50) is older_valid
    assert _pick([older_valid, newer_corrupt, newest_valid], False, 150) is newest_valid
    assert _pick([older_valid], False, 150) is None


def test_algorithms_without_pages_are_not_listed() -> None:
    """The fast pre-check counts its own algorithm even when no page used it: no `"crc32": 0` in the JSON."""
    from collections import Counter
    from pathlib import Path

    from mysqlinspect.innodb.pages.verify import FileVerification

    result = FileVerification(Path("t.ibd"), "file_per_table", algorithms=Counter({"crc32": 0, "none": 5}))
    assert result.to_dict()["algorithms"] == {"none": 5}
