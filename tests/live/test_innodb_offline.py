"""Offline tablespace commands against real data directories of both flavors, with the servers' own tools as judges.

One dedicated server per flavor for the module: tables of every kind are created, the server is stopped and its
data directory copied ("older"), rows are rewritten, it is stopped and copied again ("newer"). `datadir` maps the
older copy without changing a byte; `pages verify` agrees with the flavor's own innochecksum page by page on clean
files and on copies damaged three ways (body bytes flipped, first half of the newer version written over the older
one = torn, page zeroed); `doublewrite` reads the buffer. Last, the same server is killed during heavy writes,
pages the doublewrite buffer holds are torn, `doublewrite` predicts the repair and the server's own error log,
when it starts on that directory, names exactly the pages it restored.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mysqlinspect.innodb.files.filekinds import tablespace_files
from mysqlinspect.innodb.pages import fastcheck
from mysqlinspect.innodb.pages.reader import TablespaceFile
from mysqlinspect.innodb.pages.verify import verify_paths
from mysqlinspect.sandbox.server import SandboxServer
from tests.servers import Writer, create_database, dedicated_server

pytestmark = [pytest.mark.live, pytest.mark.dedicated]

PS = 16384
FAIL_LINE = re.compile(r"Fail: page(?:::| )(\d+) invalid")
RESTORED_LINE = re.compile(r"(?:Recovered|Restoring|Restored) page \[page id: space=(\d+), page number=(\d+)\]"
                           r".*doublewrite", re.I)


@dataclass
class Snapshots:
    flavor: str
    server: SandboxServer
    older: Path
    newer: Path
    server_uuid: str | None
    version: str


def _schema(server: SandboxServer) -> None:
    conn = server.connect()
    with conn.cursor() as cur:
        cur.execute("CREATE DATABASE d1")
        cur.execute("CREATE TABLE d1.t (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(600)) ENGINE=InnoDB")
        for _ in range(12):
            cur.execute("INSERT INTO d1.t (v) SELECT REPEAT('a', 500) FROM "
                        "(SELECT 1 UNION SELECT 2 UNION SELECT 3 UNION SELECT 4 UNION SELECT 5 UNION SELECT 6 "
                        "UNION SELECT 7 UNION SELECT 8 UNION SELECT 9 UNION SELECT 10) a, "
                        "(SELECT 1 UNION SELECT 2 UNION SELECT 3 UNION SELECT 4 UNION SELECT 5) b")
        cur.execute("CREATE TABLE d1.z (id INT PRIMARY KEY, v TEXT) ENGINE=InnoDB ROW_FORMAT=COMPRESSED "
                    "KEY_BLOCK_SIZE=8")
        cur.execute("INSERT INTO d1.z SELECT id, v FROM d1.t")
        if server.flavor == "mysql":
            cur.execute("CREATE TABLESPACE gts ADD DATAFILE 'gts.ibd'")
            cur.execute("CREATE TABLE d1.g1 (id INT PRIMARY KEY) TABLESPACE gts")
            cur.execute("CREATE TABLE d1.g2 (id INT PRIMARY KEY) TABLESPACE gts")
            cur.execute("CREATE UNDO TABLESPACE u3 ADD DATAFILE 'u3.ibu'")
        else:
            cur.execute("CREATE TABLE d1.pc (id INT PRIMARY KEY, v TEXT) ENGINE=InnoDB PAGE_COMPRESSED=1")
            cur.execute("INSERT INTO d1.pc SELECT id, v FROM d1.t")
            cur.execute("CREATE TABLE d1.a (id INT PRIMARY KEY) ENGINE=Aria")
            cur.execute("CREATE TABLE d1.m (id INT PRIMARY KEY) ENGINE=MyISAM")
    conn.close()


def _server_facts(server: SandboxServer) -> tuple[str | None, str]:
    conn = server.connect()
    with conn.cursor() as cur:
        cur.execute("SELECT VERSION()")
        version = str(cur.fetchone()[0])
        uuid = None
        if server.flavor == "mysql":
            cur.execute("SELECT @@server_uuid")
            uuid = str(cur.fetchone()[0])
    conn.close()
    return uuid, version


@pytest.fixture(scope="module")
def snapshots(sandbox_flavor: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Snapshots]:
    with dedicated_server(sandbox_flavor, 730) as server:
        _schema(server)
        uuid, version = _server_facts(server)
        older, newer = older_and_newer_copies(server, tmp_path_factory.mktemp(f"innodb-{sandbox_flavor}"))
        yield Snapshots(sandbox_flavor, server, older, newer, uuid, version)


def older_and_newer_copies(server: Any, base: Path) -> tuple[Path, Path]:
    """Copies of the stopped server's data dir before and after an UPDATE of every row of d1.t (the newer copy's
    pages carry torn-write material for the older one); the server is left stopped."""
    server.stop()
    shutil.copytree(server.datadir, base / "older", symlinks=True)
    server.start()
    conn = server.connect()
    with conn.cursor() as cur:
        cur.execute("UPDATE d1.t SET v = REPEAT('b', 500)")
    conn.close()
    server.stop()
    shutil.copytree(server.datadir, base / "newer", symlinks=True)
    return base / "older", base / "newer"


def copy_datadir(source: Path, target: Path) -> None:
    """A working copy to damage (without MySQL's spare redo files: 100 MB nobody reads)."""
    shutil.copytree(source, target, symlinks=True, ignore=shutil.ignore_patterns("#ib_redo*_tmp"))


def copy_with_page_3_of_every_tablespace_damaged(source: Path, work: Path) -> None:
    """A copy in which a body byte run of page 3 of every tablespace file (undo, dictionary, system, ...) is
    overwritten."""
    copy_datadir(source, work)
    for path in tablespace_files(work):
        with TablespaceFile(path) as ts:
            ps, count = ts.physical_page_size, ts.page_count
        if count > 3:
            with open(path, "r+b") as fh:
                fh.seek(3 * ps + ps // 2)
                fh.write(b"\x01\x02\x03")


def fingerprint(root: Path) -> dict[str, tuple[str, int]]:
    """sha256 and mtime of every file: what "read-only" must leave unchanged."""
    return {p.relative_to(root).as_posix(): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file()}


def innochecksum_failures(snap: Snapshots, path: Path) -> set[int]:
    """Page numbers the flavor's own innochecksum reports invalid (it keeps going with -a)."""
    argv = [*snap.server.program("innochecksum"), "-a", "1000000", str(path)]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False)
    failures = {int(n) for n in FAIL_LINE.findall(proc.stdout + proc.stderr)}
    assert proc.returncode == 0 or failures, f"innochecksum failed on {path}: {proc.stderr[-500:]}"
    return failures


def doublewrite_area(snap: Snapshots, path: Path) -> set[int]:
    """MariaDB's innochecksum reports every slot of the ibdata1 doublewrite area as a page id mismatch (the copies
    carry their own page ids by design); MySQL's skips the area. `pages verify` reports the area as skipped."""
    if path.name != "ibdata1":
        return set()
    return set(range(64, 192))


def tool_bad_pages(file_result: dict[str, Any]) -> set[int]:
    return {b["page_no"] for b in file_result["bad_pages"]}


# --- datadir -------------------------------------------------------------------------------------------------


def test_datadir_maps_every_file_read_only(snapshots: Snapshots, run_cli: Callable[..., Any]) -> None:
    before = fingerprint(snapshots.older)
    result = run_cli("datadir", str(snapshots.older), "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = result.json()
    files = {f["path"]: f for f in data["files"]}
    assert files["ibdata1"]["kind"] == "system"
    assert files["ibdata1"]["tablespace"]["space_id"] == 0
    t = files["d1/t.ibd"]
    assert t["kind"] == "file_per_table"
    assert t["tablespace"]["size_pages"] == t["size"] // PS
    assert t["tablespace"]["free_limit"] > 0
    z_flags = files["d1/z.ibd"]["tablespace"]["flags"]
    assert z_flags["zip_size"] == 8192 and z_flags["page_size"] == PS
    assert any(f["kind"] == "binlog" and f["log"]["server_version"] for f in data["files"])
    assert any(f["kind"] == "binlog_index" for f in data["files"])
    assert {f["path"] for f in data["files"] if f["kind"] in ("redo", "redo_spare")} == \
        {Path(r["path"]).relative_to(snapshots.older).as_posix() for r in data["redo"]["files"]} != set()
    assert data["redo"] is not None and data["redo"]["latest_checkpoint"] is not None
    version_prefix = snapshots.version.split("-")[0]
    if snapshots.flavor == "mysql":
        assert files["mysql.ibd"]["kind"] == "dictionary"
        assert files["mysql.ibd"]["tablespace"]["space_id"] == 0xFFFFFFFE
        assert files["gts.ibd"]["kind"] == "general" and files["gts.ibd"]["tablespace"]["flags"]["shared"]
        assert files["undo_001"]["kind"] == "undo" and files["u3.ibu"]["kind"] == "undo"
        assert t["tablespace"]["flags"]["sdi"] and t["tablespace"]["flags"]["atomic_blobs"]
        assert t["tablespace"]["flags"]["post_antelope"] and not t["tablespace"]["flags"]["temporary"]
        assert t["tablespace"]["server_version"] == version_prefix
        assert files["auto.cnf"]["kind"] == "auto_cnf" and data["server_uuid"] == snapshots.server_uuid
        assert any(f["kind"] == "doublewrite" for f in data["files"])
    else:
        assert t["tablespace"]["flags"]["full_crc32"] and t["tablespace"]["flags"]["layout"] == "full_crc32"
        assert files["d1/pc.ibd"]["tablespace"]["flags"]["page_compression"]
        assert files["d1/t.frm"]["kind"] == "frm"
        assert files["d1/a.MAD"]["kind"] == "aria_data" and files["d1/m.MYI"]["kind"] == "myisam_index"
        assert version_prefix in data["server_versions"]["mysql_upgrade_info"]
    assert fingerprint(snapshots.older) == before


def test_datadir_bad_path_is_no_input(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    result = run_cli("datadir", str(tmp_path / "missing"))
    assert result.exit_code == 66 and "no such directory" in result.stderr


# --- pages verify --------------------------------------------------------------------------------------------


def test_clean_files_verify_like_innochecksum(snapshots: Snapshots, run_cli: Callable[..., Any]) -> None:
    before = fingerprint(snapshots.older)
    result = run_cli("pages", "verify", str(snapshots.older), "--format", "json")
    assert result.exit_code == 0, result.stdout[-2000:] + result.stderr
    data = result.json()
    checked = {Path(f["path"]).name for f in data["files"]}
    assert {"ibdata1", "t.ibd", "z.ibd"} <= checked
    for item in data["files"]:
        path = Path(item["path"])
        assert item["ok"], item
        assert innochecksum_failures(snapshots, path) - doublewrite_area(snapshots, path) == set(), path
    assert data["totals"]["valid"] > 0 and data["totals"]["empty"] > 0
    assert fingerprint(snapshots.older) == before


def _leaf_with_newer_version(older: Path, newer: Path) -> int:
    with TablespaceFile(older) as a, TablespaceFile(newer) as b:
        for page_no in range(3, min(a.page_count, b.page_count)):
            ha, hb = a.header(page_no), b.header(page_no)
            if ha.type_name == "index" and hb.type_name == "index" and hb.lsn > ha.lsn:
                return page_no
    raise AssertionError("no page changed between the two copies")


def _damage(snap: Snapshots, work: Path) -> dict[str, int]:
    """Three kinds of damage in t.ibd and a flipped body byte in the compressed z.ibd; returns page numbers."""
    t_old, t_new = work / "d1" / "t.ibd", snap.newer / "d1" / "t.ibd"
    torn = _leaf_with_newer_version(t_old, t_new)
    flipped = torn + 1
    zeroed = torn + 2
    with open(t_new, "rb") as fh:
        fh.seek(torn * PS)
        newer_first_half = fh.read(PS // 2)
    with open(t_old, "r+b") as fh:
        fh.seek(flipped * PS + 5000)
        original = fh.read(2)
        fh.seek(flipped * PS + 5000)
        fh.write(bytes(b ^ 0xFF for b in original))
        fh.seek(torn * PS)
        fh.write(newer_first_half)
        fh.seek(zeroed * PS)
        fh.write(bytes(PS))
    zip_page = 4
    with open(work / "d1" / "z.ibd", "r+b") as fh:
        fh.seek(zip_page * 8192 + 3000)
        fh.write(b"\x5a\xa5\x5a")
    return {"torn": torn, "flipped": flipped, "zeroed": zeroed, "zip": zip_page}


def test_damaged_pages_agree_with_innochecksum(snapshots: Snapshots, run_cli: Callable[..., Any],
                                               tmp_path: Path) -> None:
    work = tmp_path / "damaged"
    copy_datadir(snapshots.older, work)
    pages = _damage(snapshots, work)
    t_path, z_path = work / "d1" / "t.ibd", work / "d1" / "z.ibd"
    result = run_cli("pages", "verify", str(t_path), str(z_path), "--format", "json")
    assert result.exit_code == 65, result.stderr
    by_file = {Path(f["path"]).name: f for f in result.json()["files"]}
    t, z = by_file["t.ibd"], by_file["z.ibd"]
    statuses = {b["page_no"]: b["status"] for b in t["bad_pages"]}
    assert statuses == {pages["torn"]: "torn", pages["flipped"]: "corrupt"}, t["bad_pages"]
    bad = {b["page_no"]: b for b in t["bad_pages"]}  # each bad page says its type, LSN and why
    with TablespaceFile(snapshots.newer / "d1" / "t.ibd") as newer:
        newer_lsn = newer.header(pages["torn"]).lsn  # the header (first half) is the newer version's
    assert bad[pages["torn"]]["page_type"] == "index" and bad[pages["torn"]]["lsn"] == newer_lsn
    assert "torn write" in bad[pages["torn"]]["reason"] and "checksum mismatch" in bad[pages["flipped"]]["reason"]
    assert t["counts"]["empty"] >= 1
    assert tool_bad_pages(z) == {pages["zip"]}
    assert tool_bad_pages(t) == innochecksum_failures(snapshots, t_path)
    assert tool_bad_pages(z) == innochecksum_failures(snapshots, z_path)
    table = run_cli("pages", "verify", str(t_path), "--format", "table")
    assert table.exit_code == 65 and "torn" in table.stdout and "corrupt" in table.stdout


def test_every_damaged_file_of_a_datadir_agrees_with_innochecksum(snapshots: Snapshots, run_cli: Callable[..., Any],
                                                                   tmp_path: Path) -> None:
    """Flip a body byte in page 3 of every tablespace file (undo, dictionary, system, ...)."""
    work = tmp_path / "all"
    copy_with_page_3_of_every_tablespace_damaged(snapshots.older, work)
    result = run_cli("pages", "verify", str(work), "--format", "json")
    assert result.exit_code == 65
    for item in result.json()["files"]:
        path = Path(item["path"])
        expected = innochecksum_failures(snapshots, path) - doublewrite_area(snapshots, path)
        assert tool_bad_pages(item) == expected, path


def test_pages_at_the_wrong_position_are_misplaced(snapshots: Snapshots, run_cli: Callable[..., Any],
                                                  tmp_path: Path) -> None:
    """Intact pages in the wrong place: pages 5 and 6 of t.ibd swapped (page number), page 3 of another table's
    file copied over page 3 (space id). MariaDB's innochecksum reports them too ("page id mismatch"); MySQL's does not
    compare a page's ids with its position (each page's checksum is still valid)."""
    work = tmp_path / "misplaced"
    copy_datadir(snapshots.older, work)
    path = work / "d1" / "t.ibd"
    other = work / ("sys/sys_config.ibd" if snapshots.flavor == "mysql" else "mysql/innodb_index_stats.ibd")
    with open(other, "rb") as fh:
        fh.seek(3 * PS)
        foreign = fh.read(PS)
    with open(path, "r+b") as fh:
        fh.seek(5 * PS)
        five, six = fh.read(PS), fh.read(PS)
        fh.seek(5 * PS)
        fh.write(six + five)
        fh.seek(3 * PS)
        fh.write(foreign)
    result = run_cli("pages", "verify", str(path), "--format", "json")
    assert result.exit_code == 65, result.stderr
    bad = {b["page_no"]: b for b in result.json()["files"][0]["bad_pages"]}
    assert {n: b["status"] for n, b in bad.items()} == {3: "misplaced", 5: "misplaced", 6: "misplaced"}, bad
    assert "space id" in bad[3]["reason"] and "page number" in bad[5]["reason"], bad
    assert innochecksum_failures(snapshots, path) == ({3, 5, 6} if snapshots.flavor == "mariadb" else set())


def test_c_and_python_paths_agree_on_real_pages(snapshots: Snapshots, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The C pre-check (_pagecheck) and the pure-Python fallback give the same report on a real data directory with
    torn, corrupt and zeroed pages (every tablespace file of the flavor: system, undo, dictionary, tables)."""
    if not fastcheck.NATIVE:
        pytest.skip("the C extension is not built or the CPU has no SSE4.2")
    work = tmp_path / "damaged"
    copy_datadir(snapshots.older, work)
    _damage(snapshots, work)
    native = verify_paths([work], jobs=1).to_dict()
    assert native["totals"]["torn"] == 1 and native["totals"]["corrupt"] >= 2 and native["totals"]["empty"] >= 1
    monkeypatch.setattr(fastcheck, "SUSPECTS", fastcheck.PYTHON_SUSPECTS)
    assert verify_paths([work], jobs=1).to_dict() == native


def test_pages_verify_bad_input(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    missing = run_cli("pages", "verify", str(tmp_path / "nope.ibd"))
    assert missing.exit_code == 66 and missing.stderr.startswith("mysqlinspect: error:")
    junk = tmp_path / "junk.ibd"
    junk.write_bytes(b"not a tablespace" * 1000)
    bad = run_cli("pages", "verify", str(junk), "--format", "json")
    assert bad.exit_code == 65 and "not a tablespace" in bad.json()["files"][0]["error"]


# --- doublewrite ---------------------------------------------------------------------------------------------


def test_doublewrite_offline_on_clean_copy(snapshots: Snapshots, run_cli: Callable[..., Any]) -> None:
    before = fingerprint(snapshots.older)
    result = run_cli("doublewrite", str(snapshots.older), "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = result.json()
    assert data["layout"] == ("dblwr_files" if snapshots.flavor == "mysql" else "system_tablespace")
    assert data["copies"] and all(c["checksum_valid"] for c in data["copies"])
    assert data["unrecoverable"] == [] and data["restored"] == []
    assert fingerprint(snapshots.older) == before


def test_doublewrite_sorts_damage_by_copy(snapshots: Snapshots, run_cli: Callable[..., Any],
                                          tmp_path: Path) -> None:
    """Damaged pages with a valid copy in the buffer are restored, the others unrecoverable (exit 65)."""
    work = tmp_path / "dw"
    copy_datadir(snapshots.older, work)
    pages = _damage(snapshots, work)
    result = run_cli("doublewrite", str(work), "--format", "json")
    data = result.json()
    assert result.exit_code == (65 if data["unrecoverable"] else 0)
    with_copy = {(c["space_id"], c["page_no"]) for c in data["copies"] if c["checksum_valid"]}
    outcome = {(Path(d["path"]).name, d["page_no"]): d for d in data["restored"] + data["unrecoverable"]}
    for name, page_no in (("t.ibd", pages["torn"]), ("t.ibd", pages["flipped"]), ("z.ibd", pages["zip"])):
        damaged = outcome[(name, page_no)]
        expected = "restored" if (damaged["space_id"], page_no) in with_copy else "unrecoverable"
        assert damaged["outcome"] == expected, damaged
    zeroed = outcome.get(("t.ibd", pages["zeroed"]))
    assert zeroed is None or zeroed["outcome"] == "restored"


def test_doublewrite_lists_stale_copies(snapshots: Snapshots, run_cli: Callable[..., Any], tmp_path: Path) -> None:
    """The older copy's doublewrite buffer against the newer copy's tablespaces: copies older than the page they
    are a copy of are listed as stale (nothing damaged, nothing to restore), each checked here against the page."""
    work = tmp_path / "stale"
    copy_datadir(snapshots.newer, work)
    if snapshots.flavor == "mysql":
        dblwr = sorted(snapshots.older.glob("#ib_*.dblwr"))
        assert dblwr
        for path in dblwr:
            shutil.copyfile(path, work / path.name)
    else:  # the two doublewrite blocks of ibdata1 (pages 64-191)
        with open(snapshots.older / "ibdata1", "rb") as old, open(work / "ibdata1", "r+b") as new:
            old.seek(64 * PS)
            new.seek(64 * PS)
            new.write(old.read(128 * PS))
    result = run_cli("doublewrite", str(work), "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = result.json()
    assert data["restored"] == [] and data["unrecoverable"] == []
    stale = [c for c in data["copies"] if c["verdict"] == "stale"]
    assert stale, {c["verdict"] for c in data["copies"]}
    assert [(s["space_id"], s["page_no"], s["lsn"]) for s in data["stale"]] == \
        [(c["space_id"], c["page_no"], c["lsn"]) for c in stale]
    for copy in stale:
        assert copy["checksum_valid"]
        with TablespaceFile(work / copy["target"]) as ts:
            assert ts.header(copy["page_no"]).lsn > copy["lsn"], copy


# --- torn-page fidelity --------------------------------------------------------------------------------------


def _tear(datadir: Path, report: dict[str, Any], flavor: str) -> set[tuple[int, int]]:
    """Tear up to three pages that have a usable copy (user-table pages first): keep the first half, zero the rest.

    Usable: a valid copy of the page as it is on disk (or newer), and for MariaDB not older than the checkpoint
    (its recovery ignores older copies). Pages 0-7 (FSP header, TRX_SYS and friends) are left alone."""
    checkpoint = report["checkpoint_lsn"] or 0
    candidates = [c for c in report["copies"]
                  if c["checksum_valid"] and c["target"] and c["verdict"] in ("current", "newer_than_page")
                  and (flavor == "mysql" or c["lsn"] >= checkpoint) and c["page_no"] > 7]
    candidates.sort(key=lambda c: not c["target"].endswith("load_t.ibd"))
    chosen = {(c["space_id"], c["page_no"]): c for c in candidates}
    torn: set[tuple[int, int]] = set()
    for (space_id, page_no), copy in list(chosen.items())[:3]:
        with open(datadir / copy["target"], "r+b") as fh:
            fh.seek(page_no * PS + PS // 2)
            fh.write(bytes(PS // 2))
        torn.add((space_id, page_no))
    return torn


def test_torn_pages_are_restored_as_predicted(snapshots: Snapshots, run_cli: Callable[..., Any]) -> None:
    server = snapshots.server
    server.start()
    conn = server.connect()
    with conn.cursor() as cur:  # keep the page cleaner flushing, so the buffer holds recent copies
        cur.execute("SET GLOBAL innodb_max_dirty_pages_pct = 0")
    conn.close()
    writer = Writer(server, create_database(server), rows_per_txn=50, payload_bytes=1800).start()
    time.sleep(8)
    server.kill()
    writer.stop()
    assert writer.committed > 0
    datadir = server.datadir

    # A killed server leaves its temporary tablespaces behind (a clean shutdown removes them)
    mapped = run_cli("datadir", str(datadir), "--format", "json")
    assert mapped.exit_code == 0, mapped.stderr
    files = {f["path"]: f for f in mapped.json()["files"]}
    assert files["ibtmp1"]["kind"] == "temporary"
    if snapshots.flavor == "mysql":  # MariaDB has no session temporary tablespaces and no TEMPORARY flag
        session_temp = [f for f in files.values() if f["kind"] == "session_temporary"]
        assert session_temp and all(f["path"].startswith("#innodb_temp/temp_") for f in session_temp)
        assert all(f["tablespace"]["flags"]["temporary"] for f in session_temp), session_temp[0]

    first = run_cli("doublewrite", str(datadir), "--format", "json")
    assert first.exit_code in (0, 65), first.stderr
    torn = _tear(datadir, first.json(), snapshots.flavor)
    assert torn, "the doublewrite buffer held no copy of a user-table page to tear"

    predicted = run_cli("doublewrite", str(datadir), "--format", "json")
    data = predicted.json()
    assert predicted.exit_code == 0, data["unrecoverable"]
    restored = {(d["space_id"], d["page_no"]) for d in data["restored"]}
    assert torn <= restored

    log_before = len(server.error_log_text())
    server.start()
    log = server.error_log_text()[log_before:]
    reported = {(int(s), int(p)) for s, p in RESTORED_LINE.findall(log)}
    assert reported == restored, f"server restored {sorted(reported)}, tool predicted {sorted(restored)}\n" \
                                 + "\n".join(line for line in log.splitlines() if "doublewrite" in line)
    server.stop()
