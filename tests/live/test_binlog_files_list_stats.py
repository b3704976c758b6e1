"""`binlog list|stats FILE|DIR...`, GTID ranges and `--checkpoint` on local files, with no server: the same
listing and statistics as from the server on the same binlogs, a cut file and a file missing from a sequence,
GTID filters of both flavors, and a tail killed mid-way that resumes with nothing lost or repeated."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import pytest

from tests.live.decode_support import binlog_path, flush
from tests.live.replay_support import killed_then_finished
from tests.live.test_binlog_tail import run_sql

pytestmark = pytest.mark.live

LISTED = ("size_bytes", "created", "first_event_time", "last_event_time", "previous_gtids", "gtids", "first_gtid",
          "last_gtid")


def _closed_files(server: Any, db: str, *batches: tuple[str, ...]) -> list[Path]:
    """Run each batch of statements in a binlog file of its own; the files, closed (rotated)."""
    run_sql(server, db, "CREATE TABLE t (id INT PRIMARY KEY, k INT, c VARCHAR(20))",
            "CREATE TABLE seq (n INT PRIMARY KEY)")
    names = []
    for batch in batches:
        conn = server.connect(db)
        try:
            names.append(flush(conn)[0])
        finally:
            conn.close()
        run_sql(server, db, *batch)
    conn = server.connect(db)
    try:
        flush(conn)
    finally:
        conn.close()
    return [binlog_path(server, name) for name in names]


BATCHES = (
    ("INSERT INTO t VALUES (1, 1, 'a'), (2, 2, 'b'), (3, 3, 'c')", "UPDATE t SET k = k + 1 WHERE id < 3",
     "INSERT INTO seq VALUES (1)"),
    ("DELETE FROM t WHERE id = 3", "INSERT INTO seq VALUES (2), (3)", "ALTER TABLE seq ADD COLUMN p INT"),
    ("INSERT INTO t VALUES (4, 4, 'd')", "UPDATE t SET c = 'changed'", "INSERT INTO seq (n) VALUES (4)"),
)


def _json(result: Any) -> Any:
    assert result.exit_code == 0, result.stderr
    return result.json()


def test_list_and_stats_from_files_equal_the_servers(server: Any, db: str, run_cli: Any) -> None:
    paths = _closed_files(server, db, *BATCHES)
    ours = _json(run_cli("binlog", "list", *map(str, paths), "--format", "json"))
    theirs = _json(run_cli("binlog", "list", *server.cli_args(), "--format", "json"))
    assert ours["source"] == "files" and ours["flavor"] == server.flavor and ours["current"] is None
    by_name = {f["name"]: f for f in theirs["files"]}
    conn = server.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT @@server_id, @@version")
            server_id, version = cur.fetchone()
    finally:
        conn.close()
    assert [f["name"] for f in ours["files"]] == [p.name for p in paths]
    for mine in ours["files"]:
        assert {k: mine[k] for k in LISTED} == {k: by_name[mine["name"]][k] for k in LISTED}, mine["name"]
        assert mine["gtids"] and mine["closed"] and mine["complete"] and mine["last_event"] == "rotate"
        assert mine["server_id"] == server_id and version.startswith(mine["server_version"].split("-log")[0])
        assert mine["checksum"] == "CRC32" and not mine["active"] and mine["stop_reason"] is None
    whole = _json(run_cli("binlog", "list", str(server.datadir), "--format", "json"))  # its .index order
    assert [f["name"] for f in whole["files"]] == [f["name"] for f in theirs["files"]]
    active = whole["files"][-1]
    assert active["active"] and not active["closed"] and active["complete"] and active["last_event"] is None
    assert whole["gtid_state"] == theirs["gtid_state"]
    table = run_cli("binlog", "list", str(paths[0]), "--format", "table")
    assert table.exit_code == 0 and paths[0].name in table.stdout and "rotated" in table.stdout

    first, last = paths[0].name, paths[-1].name
    from_files = _json(run_cli("binlog", "stats", *map(str, paths), "--format", "json"))
    from_server = _json(run_cli("binlog", "stats", *server.cli_args(), "--start-file", first, "--stop-file", last,
                                "--format", "json"))
    assert from_files["transactions"] == 9 and from_files["rows"] == 14
    assert _comparable(from_files) == _comparable(from_server)
    assert [f["file"] for f in from_files["range"]["files"]] == [p.name for p in paths]
    second = _json(run_cli("binlog", "stats", *server.cli_args(), "--start-file", paths[1].name, "--start-pos",
                           str(_second_transaction(run_cli, paths[1])), "--stop-file", paths[1].name, "--format",
                           "json"))
    from_dir = _json(run_cli("binlog", "stats", str(paths[0].parent), "--start-file", paths[1].name, "--start-pos",
                             str(_second_transaction(run_cli, paths[1])), "--stop-file", paths[1].name, "--format",
                             "json"))
    assert _comparable(from_dir) == _comparable(second) and from_dir["transactions"] == 2
    assert [f["file"] for f in from_dir["range"]["files"]] == [paths[1].name]
    filtered = ("--table", f"{db}.t", "--op", "update,delete")
    ours_filtered = _json(run_cli("binlog", "stats", str(paths[0].parent), "--start-file", first, "--stop-file", last,
                                  *filtered, "--format", "json"))
    theirs_filtered = _json(run_cli("binlog", "stats", *server.cli_args(), "--start-file", first, "--stop-file",
                                    last, *filtered, "--format", "json"))
    assert _comparable(ours_filtered) == _comparable(theirs_filtered)
    assert ours_filtered["transactions"] == 3 and ours_filtered["rows"] == 2 + 1 + 3
    decoded = _json(run_cli("binlog", "stats", *map(str, paths), "--decode", "--format", "json"))
    assert decoded["rows"] == from_files["rows"] and decoded["tables"] == from_files["tables"]


def _second_transaction(run_cli: Any, path: Path) -> int:
    return int(_json(run_cli("binlog", "tail", str(path), "--format", "json"))["transactions"][1]["start_pos"])


def _comparable(stats: dict[str, Any]) -> dict[str, Any]:
    """Stats without the range, and without MariaDB's Annotate_rows events: they are in the files, but a server
    dump sends them only to a reader that asks (BINLOG_SEND_ANNOTATE_ROWS_EVENT), which the header scan does not."""
    out = {k: v for k, v in stats.items() if k != "range"}
    annotations = out["event_types"].pop("MariadbAnnotateRowsEvent", 0)
    if annotations:
        out["events"] -= annotations
        out["servers"] = {sid: {"transactions": s["transactions"]} for sid, s in out["servers"].items()}
    elif "MariadbGtidEvent" in out["event_types"]:
        out["servers"] = {sid: {"transactions": s["transactions"]} for sid, s in out["servers"].items()}
    return out


def test_cut_file_and_missing_file(server: Any, db: str, run_cli: Any, tmp_path: Path) -> None:
    paths = _closed_files(server, db, *BATCHES)
    full = _json(run_cli("binlog", "tail", str(paths[2]), "--format", "json"))["transactions"]
    shutil.copy(paths[0], tmp_path / paths[0].name)
    cut = tmp_path / paths[2].name
    cut.write_bytes(paths[2].read_bytes()[: full[-1]["end_pos"] - 7])  # mid-way through the last transaction
    listing = _json(run_cli("binlog", "list", str(tmp_path), "--format", "json"))
    assert [f["name"] for f in listing["files"]] == [paths[0].name, paths[2].name]
    head, tail = listing["files"]
    assert head["complete"] and not tail["complete"] and tail["valid_end"] == full[-1]["start_pos"]
    assert tail["stop_reason"].startswith("a partial event") and tail["closed"] and not tail["active"]
    assert tail["gtids"] and full[-1]["gtid"] not in tail["gtids"].split(",")
    notes = "\n".join(listing["notes"])
    assert f"{paths[1].name} is missing from the sequence" in notes
    assert f"{paths[2].name} starts at GTID state" in notes  # the missing file's GTIDs are in no file read
    table = run_cli("binlog", "list", str(tmp_path), "--format", "table")
    assert table.exit_code == 0 and f"cut: valid to {full[-1]['start_pos']}" in table.stdout

    stats = run_cli("binlog", "stats", str(tmp_path), "--format", "json")
    assert stats.exit_code == 0, stats.stderr
    assert stats.json()["transactions"] == 3 + len(full) - 1
    assert f"{paths[1].name} is missing from the sequence" in stats.stderr
    assert f"{paths[2].name}: valid data ends at {full[-1]['start_pos']}" in stats.stderr
    tail_run = run_cli("binlog", "tail", str(tmp_path), "--format", "json")
    assert tail_run.exit_code == 0 and len(tail_run.json()["transactions"]) == 3 + len(full) - 1
    assert f"{paths[1].name} is missing" in tail_run.stderr


def test_encrypted_files_are_listed_not_read(server: Any, db: str, run_cli: Any, tmp_path: Path) -> None:
    real = _closed_files(server, db, BATCHES[0])[0]
    data = real.read_bytes()
    (tmp_path / "binlog.000001").write_bytes(b"\xfdbin" + data[4:512])  # MySQL binlog_encryption
    fde_end = 4 + int.from_bytes(data[4 + 9 : 4 + 13], "little")
    (tmp_path / "binlog.000002").write_bytes(data[:fde_end] + _start_encryption(fde_end) + b"\x55" * 200)
    shutil.copy(real, tmp_path / "binlog.000003")
    listing = _json(run_cli("binlog", "list", str(tmp_path), "--format", "json"))
    mysql_encrypted, mariadb_encrypted, plain = listing["files"]
    assert mysql_encrypted["encrypted"] and mysql_encrypted["server_id"] is None and mysql_encrypted["gtids"] is None
    assert mariadb_encrypted["encrypted"] and mariadb_encrypted["server_version"] == plain["server_version"]
    assert not plain["encrypted"] and plain["gtids"] and plain["complete"]
    notes = "\n".join(listing["notes"])
    assert "encrypted MySQL binlog" in notes and "encrypted MariaDB binlog" in notes
    table = run_cli("binlog", "list", str(tmp_path), "--format", "table")
    assert table.exit_code == 0 and table.stdout.count("encrypted: not read") == 2
    refused = run_cli("binlog", "tail", str(tmp_path))
    assert refused.exit_code == 65 and "encrypted MySQL binlog" in refused.stderr


def _start_encryption(pos: int) -> bytes:
    """A MariaDB Start_encryption event (scheme 1, key version 7, a zero nonce) at `pos`, with its CRC32."""
    body = bytes([1]) + (7).to_bytes(4, "little") + bytes(12)
    size = 19 + len(body) + 4
    event = (0).to_bytes(4, "little") + bytes([164]) + (1).to_bytes(4, "little") + size.to_bytes(4, "little")
    event += (pos + size).to_bytes(4, "little") + (0).to_bytes(2, "little") + body
    return event + zlib.crc32(event).to_bytes(4, "little")


def test_gtid_ranges_on_files(server: Any, db: str, run_cli: Any) -> None:
    paths = _closed_files(server, db, *BATCHES)
    every = _json(run_cli("binlog", "tail", *map(str, paths), "--format", "json"))["transactions"]
    gtids = [t["gtid"] for t in every]
    assert len(gtids) == 9 and all(gtids)
    assert gtids == _reference_gtids(server, paths)
    server_range = (*server.cli_args(), "--stop-file", paths[-1].name, "--format", "json", "--table", f"{db}.*")

    def both(*option: str, server_start: tuple[str, ...] = ()) -> list[str | None]:
        # --table: MariaDB's Annotate_rows events are in the files, but a server dump leaves them out
        mine = _json(run_cli("binlog", "tail", *map(str, paths), *option, "--format", "json", "--table", f"{db}.*"))[
            "transactions"]
        theirs = _json(run_cli("binlog", "tail", *server_range, *server_start, *option))["transactions"]
        assert _unnumbered(mine) == _unnumbered(theirs), option
        return [t["gtid"] for t in mine]

    assert both("--include-gtids", f"{gtids[1]},{gtids[5]}") == [gtids[1], gtids[5]]
    assert both("--exclude-gtids", gtids[0], server_start=("--start-file", paths[0].name)) == gtids[1:]
    assert both("--gtid", gtids[4]) == gtids[4:]
    late = _json(run_cli("binlog", "tail", *map(str, paths), "--gtid", gtids[7], "--format", "json"))
    assert [f["file"] for f in late["files"]] == [paths[2].name]  # files before it are not read (Previous_gtids)
    assert [t["gtid"] for t in late["transactions"]] == gtids[7:]
    stats = _json(run_cli("binlog", "stats", *map(str, paths), "--gtid", gtids[6], "--format", "json"))
    assert stats["transactions"] == 3 and stats["range"]["start_gtid"] == gtids[6]
    absent = _absent_gtid(gtids[0])
    nothing = run_cli("binlog", "tail", *map(str, paths), "--gtid", absent, "--format", "json")
    assert nothing.exit_code == 0 and nothing.json()["transactions"] == []
    assert f"--gtid {absent} is not in the files read" in nothing.stderr


def _unnumbered(transactions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Transactions without their ordinal (counted from where each reader started)."""
    return [{**{k: v for k, v in t.items() if k != "transaction_no"},
             "changes": [{k: v for k, v in c.items() if k != "transaction_no"} for c in t["changes"]]}
            for t in transactions]


def _absent_gtid(gtid: str) -> str:
    if ":" in gtid:
        source, _, number = gtid.rpartition(":")
        return f"{source}:{int(number) + 100000}"
    domain, server_id, seq = gtid.split("-")
    return f"{domain}-{server_id}-{int(seq) + 100000}"


def _reference_gtids(server: Any, paths: list[Path]) -> list[str]:
    """The GTIDs of the files as the server's own binlog tool prints them."""
    if server.flavor == "mariadb":
        text = subprocess.run(["mariadb-binlog", *map(str, paths)], capture_output=True, text=True,
                              check=True).stdout
        return [line.split("GTID ")[1].split()[0] for line in text.splitlines() if "\tGTID " in line]
    text = subprocess.run([*server.program("mysqlbinlog"), *map(str, paths)], capture_output=True, text=True,
                          check=True).stdout
    return [line.split("'")[1] for line in text.splitlines() if line.startswith("SET @@SESSION.GTID_NEXT= '")
            and "AUTOMATIC" not in line]


@pytest.mark.parametrize("jobs", [("--jobs", "1"), ("--jobs", "2", "--chunk-bytes", "2048")], ids=["one", "chunks"])
def test_checkpoint_resume_on_files_exactly_once(server: Any, db: str, run_cli: Any, tmp_path: Path,
                                                 jobs: tuple[str, ...]) -> None:
    """Killed (-9) and resumed: every transaction out once, at most one more per kill; with --jobs the chunks'
    transactions are checkpointed one by one as their output is written, as in one process."""
    inserts = tuple(f"INSERT INTO seq VALUES ({n})" for n in range(1, 401))
    paths = _closed_files(server, db, inserts[:150], ("INSERT INTO t VALUES (1, 1, 'x')",), inserts[150:])
    checkpoint, outputs = tmp_path / "tail.ckpt", tmp_path / "runs"
    outputs.mkdir()
    argv = [sys.executable, "-m", "mysqlinspect", "binlog", "tail", *map(str, paths), "--table", f"{db}.seq",
            "--checkpoint", str(checkpoint), "--format", "jsonl", "--rows-only", *jobs]

    def progress() -> Any:
        return checkpoint.read_text() if checkpoint.exists() else None

    kills, final = killed_then_finished(argv, [0.0, 0.05, 0.1], checkpoint, progress, out_dir=outputs, timeout=120)
    assert kills >= 1 and "resuming from checkpoint" in final.stderr
    emitted = []
    for run in sorted(outputs.iterdir()):
        emitted += _numbers(run.read_text())
    emitted += _numbers(final.stdout)
    # a kill between a transaction's output and its checkpoint write re-emits that one transaction, no more
    assert sorted(set(emitted)) == list(range(1, 401))
    assert len(emitted) - 400 <= kills
    assert [n for i, n in enumerate(emitted) if i == 0 or n != emitted[i - 1]] == list(range(1, 401))
    saved = json.loads(checkpoint.read_text())
    assert saved["file"] == paths[-1].name and saved["pos"] == paths[-1].stat().st_size - _rotate_size(paths[-1])
    assert saved["transactions"] == 401  # the UPDATE of t was filtered out, and passed
    again = run_cli("binlog", "tail", *map(str, paths), "--table", f"{db}.seq", "--checkpoint", str(checkpoint),
                    "--format", "jsonl")
    assert again.exit_code == 0 and again.stdout == ""
    other = tmp_path / "other.ckpt"
    other.write_text(json.dumps({**saved, "file": "elsewhere.000001"}))
    refused = run_cli("binlog", "tail", *map(str, paths), "--checkpoint", str(other))
    assert refused.exit_code == 65 and "elsewhere.000001" in refused.stderr


def _rotate_size(path: Path) -> int:
    """The closing Rotate event's size (the checkpoint stops after the last transaction, before it)."""
    data = path.read_bytes()
    return 19 + 8 + len(path.name) + 4 if data[-(19 + 8 + len(path.name) + 4) + 4] == 4 else 0


def _numbers(text: str) -> list[int]:
    out = []
    for line in text.splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue  # a line torn by the kill: its transaction was not checkpointed and comes again
        if rec.get("kind") == "row" and rec.get("op") == "insert":
            out.append(int(rec["after"]["n"]))
    return out
