"""`tablespaces` against real servers with every kind present, cross-checked with the server's own tables, and the
R20 rules made to fire for real (a system tablespace filled up to its max; a big table with most rows deleted)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pymysql
import pytest

from mysqlinspect.exit_codes import ExitCode
from mysqlinspect.sandbox.server import SandboxServer
from tests.servers import dedicated_server, wait_for

MIB = 1 << 20
SYSTEM_MAX_MIB = 96  # InnoDB keeps ~3 extents + 1% free for itself, so 'table is full' comes at ~94% of it


def query(server: Any, sql: str, database: str | None = None) -> list[tuple[Any, ...]]:
    conn = server.connect(database)
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return list(cur.fetchall())
    finally:
        conn.close()


def ts_json(run_cli: Any, server: Any) -> dict[str, Any]:
    result = run_cli("tablespaces", *server.cli_args(), "--format", "json")
    assert result.exit_code == 0, result.stderr
    data: dict[str, Any] = result.json()
    return data


def by_name(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["name"]: t for t in data["tablespaces"]}


@pytest.fixture
def mysql_shared_spaces(server: Any, db: str) -> Iterator[dict[str, str]]:
    """MySQL only: a general tablespace and two extra undo tablespaces (one set inactive), dropped afterwards."""
    tag = uuid.uuid4().hex[:8]
    names = {"general": f"gts_{tag}", "undo": f"undo_a_{tag}", "inactive": f"undo_b_{tag}"}
    if server.flavor != "mysql":
        yield names
        return
    query(server, f"CREATE TABLESPACE `{names['general']}` ADD DATAFILE '{names['general']}.ibd'")
    for key in ("undo", "inactive"):
        query(server, f"CREATE UNDO TABLESPACE `{names[key]}` ADD DATAFILE '{names[key]}.ibu'")
    query(server, f"ALTER UNDO TABLESPACE `{names['inactive']}` SET INACTIVE")
    try:
        yield names
    finally:
        query(server, f"DROP DATABASE IF EXISTS `{db}`")
        query(server, f"DROP TABLESPACE `{names['general']}`")
        for key in ("undo", "inactive"):
            query(server, f"ALTER UNDO TABLESPACE `{names[key]}` SET INACTIVE")
            wait_for(lambda k=key: query(server, "SELECT STATE FROM information_schema.INNODB_TABLESPACES "
                                                 f"WHERE NAME = '{names[k]}'")[0][0] == "empty", timeout=120)
            query(server, f"DROP UNDO TABLESPACE `{names[key]}`")


def create_tables(server: Any, db: str, general: str) -> None:
    """Tables of every storage kind: compressed, in the system tablespace, and (MySQL) in a general one."""
    query(server, "CREATE TABLE zipped (id INT PRIMARY KEY, v VARCHAR(100)) ROW_FORMAT=COMPRESSED "
                  "KEY_BLOCK_SIZE=8", db)
    page_compression = "COMPRESSION='zlib'" if server.flavor == "mysql" else "PAGE_COMPRESSED=1"
    query(server, f"CREATE TABLE `odd-name x` (id INT PRIMARY KEY) {page_compression}", db)
    if server.flavor == "mysql":
        for name in ("g1", "g2", "g3"):
            query(server, f"CREATE TABLE {name} (id INT PRIMARY KEY) TABLESPACE `{general}`", db)
        query(server, "CREATE TABLE in_system (id INT PRIMARY KEY) TABLESPACE innodb_system", db)
    else:
        query(server, "CREATE TABLE paged (id INT PRIMARY KEY) PAGE_COMPRESSED=1", db)
        conn = server.connect(db)
        try:
            with conn.cursor() as cur:
                cur.execute("SET GLOBAL innodb_file_per_table = OFF")
                try:
                    cur.execute("CREATE TABLE in_system (id INT PRIMARY KEY)")
                finally:
                    cur.execute("SET GLOBAL innodb_file_per_table = ON")
        finally:
            conn.close()


def refuse_encryption(server: Any, db: str) -> str:
    """Without a keyring (MySQL) or key management plugin (MariaDB) the server refuses an encrypted table."""
    option = "ENCRYPTION='Y'" if server.flavor == "mysql" else "ENCRYPTED=YES"
    with pytest.raises(pymysql.err.MySQLError) as refused:
        query(server, f"CREATE TABLE secret (id INT PRIMARY KEY) {option}", db)
    return str(refused.value)


def test_every_kind_against_the_server(server: Any, db: str, run_cli: Any,
                                       mysql_shared_spaces: dict[str, str]) -> None:
    create_tables(server, db, mysql_shared_spaces["general"])
    refusal = refuse_encryption(server, db)
    holder = server.connect(db)  # a session with an InnoDB temporary table
    try:
        with holder.cursor() as cur:
            cur.execute("CREATE TEMPORARY TABLE scratch (id INT PRIMARY KEY) ENGINE=InnoDB")
            cur.execute("INSERT INTO scratch VALUES (1)")
            cur.execute("SELECT CONNECTION_ID()")
            holder_id = int(cur.fetchone()[0])
        data = ts_json(run_cli, server)
    finally:
        holder.close()
    spaces = by_name(data)
    kinds = {t["kind"] for t in data["tablespaces"]}
    assert data["missing_grants"] == []
    zipped = spaces[f"{db}/zipped"]
    assert zipped["kind"] == "file-per-table" and zipped["zip_page_size"] == 8192
    assert zipped["compression"] == "ROW_FORMAT=COMPRESSED KEY_BLOCK_SIZE=8"
    assert zipped["row_format"].lower() == "compressed" and zipped["files"][0].endswith(f"{db}/zipped.ibd")
    # MariaDB names it db/odd@002dname@0020x (file-name encoding), MySQL db/odd-name x: either way the options in
    # TABLES (page compression) are matched to it.
    odd = next(t for name, t in spaces.items() if name.startswith(f"{db}/odd"))
    assert odd["compression"].startswith("page compression"), odd
    assert odd["sources"]["compression"] == "INFORMATION_SCHEMA.TABLES.CREATE_OPTIONS"
    system = next(t for t in data["tablespaces"] if t["kind"] == "system")
    assert f"{db}/in_system" in system["tables"]
    assert system["autoextend"] is True and system["sources"]["autoextend"].endswith("innodb_data_file_path")
    # Encryption: the server refused to create an encrypted table, and every tablespace that exists says "not
    # encrypted" with the source of that flag.
    assert ("keyring" in refusal) if server.flavor == "mysql" else ("140" in refusal or "1005" in refusal), refusal
    assert f"{db}/secret" not in spaces
    for ts in data["tablespaces"]:
        assert ts["encrypted"] is False and "encrypted" in ts["sources"], ts["name"]
        # every value names where it was read (a table.column, a variable) or how it was computed
        unsourced = [key for key, value in ts.items()
                     if key not in ("name", "sources") and value not in (None, []) and key not in ts["sources"]]
        assert unsourced == [], (ts["name"], unsourced)
        assert ts["page_size"] == 16384 and ts["sources"]["page_size"].lower().endswith("page_size")
    totals = {t["kind"]: t for t in data["totals"]}
    for kind in kinds:
        members = [t for t in data["tablespaces"] if t["kind"] == kind]
        assert totals[kind]["count"] == len(members)
        assert totals[kind]["size_bytes"] == sum(t["size_bytes"] or 0 for t in members)
    assert data["undo"]["max_undo_log_size"] > 0 and data["undo"]["truncate"] in (True, False)
    if server.flavor == "mysql":
        check_mysql_kinds(server, db, data, spaces, mysql_shared_spaces, holder_id)
    else:
        check_mariadb_kinds(server, db, data, spaces)


def check_mysql_kinds(server: Any, db: str, data: dict[str, Any], spaces: dict[str, dict[str, Any]],
                      names: dict[str, str], holder_id: int) -> None:
    assert {t["kind"] for t in data["tablespaces"]} >= {"system", "dictionary", "file-per-table", "general", "undo",
                                                        "temporary"}
    general = spaces[names["general"]]
    assert general["kind"] == "general"
    assert general["tables"] == [f"{db}/g1", f"{db}/g2", f"{db}/g3"] and general["table_count"] == 3
    assert general["files"] == [f"./{names['general']}.ibd"] or general["files"][0].endswith(f"{names['general']}.ibd")
    assert spaces["mysql"]["kind"] == "dictionary" and "mysql/user" in spaces["mysql"]["tables"]
    server_rows = {r[0]: r for r in query(server, "SELECT NAME, FILE_SIZE, STATE, SPACE_TYPE, ALLOCATED_SIZE, SPACE "
                                                  "FROM information_schema.INNODB_TABLESPACES")}
    for name in (names["general"], f"{db}/zipped", "mysql"):
        assert spaces[name]["size_bytes"] == server_rows[name][1]
        assert spaces[name]["sources"]["size_bytes"] == "INFORMATION_SCHEMA.INNODB_TABLESPACES.FILE_SIZE"
        assert spaces[name]["allocated_bytes"] == server_rows[name][4]  # allocated vs used: both listed
        assert spaces[name]["space_id"] == server_rows[name][5]
        assert spaces[name]["used_bytes"] == spaces[name]["size_bytes"] - spaces[name]["free_bytes"]
    extents = {r[0]: (int(r[1]), int(r[2])) for r in query(
        server, "SELECT TABLESPACE_NAME, SUM(FREE_EXTENTS), SUM(TOTAL_EXTENTS) FROM information_schema.FILES "
                "WHERE ENGINE = 'InnoDB' GROUP BY TABLESPACE_NAME")}
    assert (spaces["mysql"]["free_extents"], spaces["mysql"]["total_extents"]) == extents["mysql"]
    assert spaces[f"{db}/zipped"]["autoextend"] is True
    assert spaces[names["undo"]]["kind"] == "undo" and spaces[names["undo"]]["state"] == "active"
    assert spaces[names["inactive"]]["state"] in ("inactive", "empty")
    assert spaces[names["inactive"]]["state"] == server_rows[names["inactive"]][2] or \
        server_rows[names["inactive"]][2] == "empty"
    assert spaces[names["undo"]]["files"][0].endswith(f"{names['undo']}.ibu")
    free = {r[0]: int(r[1]) for r in query(server, "SELECT TABLESPACE_NAME, SUM(DATA_FREE) FROM "
                                                   "information_schema.FILES GROUP BY TABLESPACE_NAME")}
    assert spaces["mysql"]["free_bytes"] == free["mysql"]
    assert spaces["mysql"]["sources"]["free_bytes"] == "INFORMATION_SCHEMA.FILES.DATA_FREE"
    temporary = next(t for t in data["tablespaces"] if t["kind"] == "temporary")
    assert temporary["name"] == "innodb_temporary" and temporary["files"][0].endswith("ibtmp1")
    sessions = [s for s in data["session_temporary"] if s["session_id"] == holder_id]
    assert sessions and sessions[0]["purpose"] == "USER" and sessions[0]["state"] == "ACTIVE"
    assert any(t["space_id"] == sessions[0]["space_id"] for t in data["temporary_tables"])
    assert {t["kind"] for t in data["totals"]} >= {"general", "undo", "session temporary"}


def check_mariadb_kinds(server: Any, db: str, data: dict[str, Any], spaces: dict[str, dict[str, Any]]) -> None:
    with pytest.raises(pymysql.err.MySQLError):
        query(server, f"CREATE TABLESPACE ts_{db} ADD DATAFILE 'ts_{db}.ibd'")
    assert data["general_tablespaces_supported"] is False
    assert any("no general tablespaces" in n for n in data["notes"])
    assert spaces[f"{db}/paged"]["compression"].startswith("page compression")
    assert spaces["innodb_system"]["files"] == ["./ibdata1"]
    assert spaces["innodb_temporary"]["kind"] == "temporary"
    # MariaDB's system tablespace free space comes from TABLES.DATA_FREE of a table stored in it.
    server_free = query(server, "SELECT DATA_FREE FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s AND "
                                "TABLE_NAME = 'in_system'".replace("%s", f"'{db}'"))[0][0]
    assert spaces["innodb_system"]["free_bytes"] == server_free
    assert spaces["innodb_system"]["sources"]["free_bytes"] == "INFORMATION_SCHEMA.TABLES.DATA_FREE"
    server_rows = {r[0]: r for r in query(server, "SELECT NAME, FILE_SIZE, ALLOCATED_SIZE, SPACE FROM "
                                                  "information_schema.INNODB_SYS_TABLESPACES")}
    assert spaces[f"{db}/zipped"]["size_bytes"] == server_rows[f"{db}/zipped"][1]
    assert spaces[f"{db}/zipped"]["allocated_bytes"] == server_rows[f"{db}/zipped"][2]
    assert spaces[f"{db}/zipped"]["space_id"] == server_rows[f"{db}/zipped"][3]
    assert data["session_temporary"] == [] and data["temporary_tables"] == []
    if not any(t["kind"] == "undo" for t in data["tablespaces"]):
        assert any("undo logs live in the system tablespace" in n for n in data["notes"])


def test_table_format_lists_kinds(server: Any, run_cli: Any) -> None:
    result = run_cli("tablespaces", *server.cli_args(), "--format", "table")
    assert result.exit_code == 0, result.stderr
    for text in ("Tablespaces per kind", "innodb_system", "innodb_temporary", "Undo truncation"):
        assert text in result.stdout


def user_args(server: Any, user: tuple[str, str]) -> list[str]:
    return ["-h", "127.0.0.1", "-P", str(server.port), "-u", user[0], f"-p{user[1]}"]


def test_usage_account_exits_77_naming_process(server: Any, run_cli: Any, usage_only_account: Any) -> None:
    result = run_cli("tablespaces", *user_args(server, usage_only_account), "--format", "json")
    assert result.exit_code == ExitCode.NO_PERMISSION, result.stdout
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("mysqlinspect: error:") and "PROCESS" in line and "Traceback" not in result.stderr
    check = run_cli("check", *user_args(server, usage_only_account), "--only", "R20a,R20b", "--format", "json")
    findings = {f["id"]: f for f in check.json()["findings"]}
    assert findings["R20b"]["status"] == "UNKNOWN" and "PROCESS" in findings["R20b"]["missing_grant"]


def fill_table(server: Any, db: str, table: str, target_bytes: int, options: str = "") -> None:
    """A table of ~1 KiB rows, inserted 4096 at a time from a recursive CTE of integers (no large internal
    temporary table: INSERT ... SELECT from the table itself would spill one to tmpdir)."""
    query(server, f"CREATE TABLE {table} (id INT AUTO_INCREMENT PRIMARY KEY, pad VARBINARY(1000) NOT NULL) {options}",
          db)
    for _ in range(max(1, target_bytes // (4096 * 1100))):
        insert_rows(server, db, table, 4096)


def insert_rows(server: Any, db: str, table: str, count: int) -> None:
    """`count` rows (a multiple of 64; a cross join keeps the recursion under MySQL's cte_max_recursion_depth)."""
    query(server, f"INSERT INTO {table} (pad) WITH RECURSIVE s (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s "
                  f"WHERE n < 64) SELECT REPEAT('x', 1000) FROM s a, s b WHERE a.n <= {count // 64}", db)


def test_reclaimable_rule_fires_after_deleting_most_rows(server: Any, db: str, run_cli: Any) -> None:
    fill_table(server, db, "big", 72 * MIB)  # 65536 rows of ~1 KiB
    query(server, "DELETE FROM big WHERE id > 4000", db)
    seen: dict[str, Any] = {}

    def fired() -> bool:
        result = run_cli("check", *server.cli_args(), "--only", "R20b", "--format", "json")
        seen["result"] = result
        finding = result.json()["findings"][0]
        return bool(finding["status"] == "WARNING" and finding["evidence"].get("tablespace") == f"{db}/big")

    wait_for(fired, timeout=120, interval=1.0)  # purge frees the deleted rows' pages in the background
    result = seen["result"]
    assert result.exit_code == ExitCode.WARNING
    finding = result.json()["findings"][0]
    assert finding["value"] >= 50 and finding["evidence"]["free_bytes"] >= 32 * MIB
    data = ts_json(run_cli, server)
    top = data["reclaimable"][0]
    assert top["tablespace"] == f"{db}/big" and top["free_bytes"] >= 32 * MIB
    assert top["share_pct"] >= 50 and data["reclaimable_total_bytes"] >= top["free_bytes"]
    nagios = run_cli("check", *server.cli_args(), "--only", "R20b", "--format", "nagios")
    assert nagios.exit_code == ExitCode.WARNING
    perf = re.search(r"'tablespace_reclaimable'=([0-9.]+)%;@50:;;0;100$", nagios.stdout.strip())
    assert perf and float(perf.group(1)) >= 50, nagios.stdout  # purge may free more between the two runs
    query(server, "OPTIMIZE TABLE big", db)  # what the hint says: the rebuild gives the space back
    after = by_name(ts_json(run_cli, server))[f"{db}/big"]
    assert after["size_bytes"] < top["size_bytes"] - 16 * MIB


# ---- a dedicated server: a maximum size on the system tablespace (and MariaDB undo tablespaces) ----------------
@pytest.fixture(scope="module")
def limited(sandbox_flavor: str) -> Iterator[SandboxServer]:

    args = [f"--innodb-data-file-path=ibdata1:12M:autoextend:max:{SYSTEM_MAX_MIB}M"]
    if sandbox_flavor == "mariadb":
        args.append("--innodb-undo-tablespaces=3")
    with dedicated_server(sandbox_flavor, 740, args) as server:
        yield server


def test_size_limit_rule_fires_when_the_system_tablespace_nears_its_max(limited: SandboxServer,
                                                                         run_cli: Any) -> None:
    query(limited, "CREATE DATABASE filler")
    in_system = "TABLESPACE innodb_system" if limited.flavor == "mysql" else ""
    if limited.flavor == "mariadb":
        query(limited, "SET GLOBAL innodb_file_per_table = OFF")
    try:
        fill_table(limited, "filler", "filled", 32 * MIB, in_system)
        with pytest.raises(pymysql.err.OperationalError) as full:  # 1114: the table is full
            for _ in range(100):
                insert_rows(limited, "filler", "filled", 2048)
    finally:
        if limited.flavor == "mariadb":
            query(limited, "SET GLOBAL innodb_file_per_table = ON")
    assert full.value.args[0] == 1114, full.value
    data = ts_json(run_cli, limited)
    system = next(t for t in data["tablespaces"] if t["kind"] == "system")
    assert system["max_size_bytes"] == SYSTEM_MAX_MIB * MIB
    assert system["sources"]["max_size_bytes"].endswith("innodb_data_file_path")
    assert system["size_bytes"] == SYSTEM_MAX_MIB * MIB and system["used_pct_of_max"] >= 90
    assert "filler/filled" in system["tables"]
    result = run_cli("check", *limited.cli_args(), "--only", "R20a", "--format", "nagios")
    assert result.exit_code == ExitCode.CRITICAL, result.stdout
    assert result.stdout.startswith("MYSQLINSPECT CRITICAL") and "innodb_system" in result.stdout
    assert f"'tablespace_size_limit'={system['used_pct_of_max']:g}%;@80:;@90:;0;100" in result.stdout
    if limited.flavor == "mariadb":
        undo = [t for t in data["tablespaces"] if t["kind"] == "undo"]
        assert [t["name"] for t in undo] == ["innodb_undo001", "innodb_undo002", "innodb_undo003"]
        assert all(t["files"][0].endswith(t["name"].replace("innodb_", "")) for t in undo)
