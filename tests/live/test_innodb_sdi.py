"""Table names from the files: the SDI of MySQL tablespaces read from their pages equals what MySQL's own ibd2sdi
prints and names the table ids the server's dictionary gives; MariaDB's tablespaces carry no SDI (nothing is read,
nothing fails) and its names come from SYS_TABLES in ibdata1, equal to INNODB_SYS_TABLES."""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from mysqlinspect.innodb.dictionary.sdi import read_sdi, table_ids, table_names
from mysqlinspect.innodb.dictionary.sys_tables import table_ids_from_dictionary
from mysqlinspect.innodb.pages.reader import TablespaceFile
from tests.servers import flush_dirty_pages

pytestmark = pytest.mark.live

WIDE_COLUMNS = 120  # with random comments: an SDI document larger than a page, stored in SDI BLOB pages


def _tables(cur: Any, db: str) -> list[str]:
    cur.execute(f"CREATE TABLE `{db}`.t1 (id INT PRIMARY KEY, v VARCHAR(20) DEFAULT 'x', KEY (v))")
    cur.execute(f"CREATE TABLE `{db}`.p (id INT PRIMARY KEY, v INT) PARTITION BY HASH (id) PARTITIONS 3")
    columns = ", ".join(f"c{i} INT COMMENT '{secrets.token_hex(256)}'" for i in range(WIDE_COLUMNS))
    cur.execute(f"CREATE TABLE `{db}`.wide (id INT PRIMARY KEY, {columns})")
    return ["t1", "p", "wide"]


def _copies(server: Any, db: str, tmp_path: Path) -> list[Path]:
    """The tables' files, flushed and copied while FLUSH TABLES ... FOR EXPORT holds them still."""
    conn = server.connect(db)
    try:
        with conn.cursor() as cur:
            names = _tables(cur, db)
            cur.execute(f"FLUSH TABLES {', '.join(names)} FOR EXPORT")
            source = server.datadir / db
            copies = [Path(shutil.copy(p, tmp_path / p.name)) for p in sorted(source.glob("*.ibd"))]
            cur.execute("UNLOCK TABLES")
    finally:
        conn.close()
    return copies


def _ibd2sdi(server: Any, path: Path) -> list[tuple[int, int, dict[str, Any]]]:
    out = subprocess.run([*server.program("ibd2sdi"), str(path)], capture_output=True, text=True, check=True).stdout
    return [(e["type"], e["id"], e["object"]) for e in json.loads(out)[1:]]


def test_sdi_equals_ibd2sdi_and_names_the_table_ids(server: Any, db: str, tmp_path: Path) -> None:
    copies = _copies(server, db, tmp_path)
    if server.flavor == "mariadb":
        assert copies and table_names(copies) == ({}, [])
        return
    assert len(copies) == 5  # t1, three partitions of p, wide
    for path in copies:
        with TablespaceFile(path) as ts:
            ours = [(r.type, r.id, r.document) for r in read_sdi(ts)]
        assert ours == _ibd2sdi(server, path), path.name
    conn = server.connect(db)
    with conn.cursor() as cur:
        cur.execute("SELECT TABLE_ID, NAME FROM information_schema.INNODB_TABLES WHERE NAME LIKE %s", (f"{db}/%",))
        server_names = {int(i): str(n).replace("/", ".", 1) for i, n in cur.fetchall()}
    conn.close()
    names, notes = table_names(copies)
    assert notes == [] and names == server_names and len(names) == 5


def test_a_large_sdi_document_is_read_from_its_blob_pages(server: Any, db: str, tmp_path: Path) -> None:
    if server.flavor == "mariadb":
        return
    [wide] = [p for p in _copies(server, db, tmp_path) if p.name == "wide.ibd"]
    with TablespaceFile(wide) as ts:
        records = read_sdi(ts)
        blob_pages = [n for n in range(ts.page_count) if ts.header(n).page_type == 18]
    assert blob_pages, "the wide table's SDI should not fit one page"
    [table] = [r for r in records if r.type == 1]
    assert len(table.document["dd_object"]["columns"]) >= WIDE_COLUMNS
    assert set(table_ids(records).values()) == {f"{db}.wide"}


def _flush_dirty_pages(server: Any) -> None:
    """Every dirty page written (the shared server's flushing settings restored afterwards)."""
    conn = server.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT @@innodb_max_dirty_pages_pct, @@innodb_max_dirty_pages_pct_lwm")
            saved = cur.fetchone()
        try:
            flush_dirty_pages(conn)
        finally:
            with conn.cursor() as cur:
                cur.execute(f"SET GLOBAL innodb_max_dirty_pages_pct = {saved[0]}")
                cur.execute(f"SET GLOBAL innodb_max_dirty_pages_pct_lwm = {saved[1]}")
    finally:
        conn.close()


def test_mariadb_names_come_from_the_dictionary_in_ibdata1(server: Any, db: str, tmp_path: Path) -> None:
    if server.flavor == "mysql":
        return  # MySQL 8 has no SYS_TABLES: its dictionary is mysql.ibd, names come from the SDI above
    _copies(server, db, tmp_path)
    _flush_dirty_pages(server)
    copy = Path(shutil.copy(server.datadir / "ibdata1", tmp_path / "ibdata1"))
    conn = server.connect(db)
    with conn.cursor() as cur:
        cur.execute("SELECT TABLE_ID, NAME FROM information_schema.INNODB_SYS_TABLES")
        server_names = {int(i): str(n).replace("/", ".", 1) for i, n in cur.fetchall()}
    conn.close()
    with TablespaceFile(copy) as ts:
        ours = table_ids_from_dictionary(ts)
    mine = {i: n for i, n in server_names.items() if n.startswith(f"{db}.")}
    assert len(mine) == 5 and mine.items() <= ours.items()  # t1, p#P#p0..p2, wide
    assert {i: n for i, n in ours.items() if i in server_names} == {
        i: n for i, n in server_names.items() if i in ours}
