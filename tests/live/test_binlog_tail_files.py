"""`binlog tail FILE|DIR...` with no server: the same transactions as from the server, @1..@n without FULL
metadata, cut files end at their last complete transaction, a corrupt event is exit 65."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.live.decode_support import binlog_path, flush
from tests.live.test_binlog_tail import ALLTYPES, ROW1, ROW2, run_sql

pytestmark = pytest.mark.live


def _workload_file(server: Any, db: str) -> Path:
    run_sql(server, db, ALLTYPES, "CREATE TABLE nopk (x INT, y VARCHAR(5))")
    conn = server.connect(db)
    try:
        first = flush(conn)
    finally:
        conn.close()
    session = ("SET time_zone = '+00:00'", "SET sql_mode = ''")
    run_sql(server, db, ROW1, ROW2, "UPDATE alltypes SET u = 'changed', d = -0.000001 WHERE id = 1",
            "DELETE FROM alltypes WHERE id = 2", "INSERT INTO nopk VALUES (1, 'a'), (2, 'b')",
            "ALTER TABLE nopk ADD COLUMN z INT", session=session)
    conn = server.connect(db)
    try:
        flush(conn)
    finally:
        conn.close()
    return binlog_path(server, first[0])


def test_tail_file_gives_the_servers_transactions(server: Any, db: str, run_cli: Any) -> None:
    path = _workload_file(server, db)
    from_file = run_cli("binlog", "tail", str(path), "--format", "json", "--table", f"{db}.*")
    assert from_file.exit_code == 0, from_file.stderr
    from_server = run_cli("binlog", "tail", *server.cli_args(), "--start-file", path.name, "--stop-file", path.name,
                          "--format", "json", "--table", f"{db}.*")
    assert from_server.exit_code == 0, from_server.stderr
    ours, theirs = from_file.json(), from_server.json()
    assert ours["transactions"] == theirs["transactions"]
    assert [t["rows"] for t in ours["transactions"]] == [1, 1, 1, 1, 2, 0]
    assert ours["files"][0]["complete"] and ours["files"][0]["file"] == path.name
    jsonl = run_cli("binlog", "tail", str(path.parent), "--start-file", path.name, "--stop-file", path.name,
                    "--format", "jsonl", "--table", f"{db}.alltypes", "--op", "update")
    assert jsonl.exit_code == 0, jsonl.stderr
    rows = [line for line in jsonl.jsonl() if line["kind"] == "row"]
    assert [(r["op"], r["before"]["u"], r["after"]["u"]) for r in rows] == [("update", "héllo 😀 日本", "changed")]


def test_tail_file_without_column_names(server: Any, db: str, run_cli: Any) -> None:
    conn = server.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("SET GLOBAL binlog_row_metadata = 'MINIMAL'")
        try:
            path = _workload_file(server, db)
        finally:
            with conn.cursor() as cur:
                cur.execute("SET GLOBAL binlog_row_metadata = 'FULL'")
    finally:
        conn.close()
    result = run_cli("binlog", "tail", str(path), "--format", "jsonl", "--table", f"{db}.alltypes")
    assert result.exit_code == 0, result.stderr
    rows = [line for line in result.jsonl() if line["kind"] == "row"]
    assert rows[0]["after"]["@1"] == 1 and rows[0]["after"]["@12"] == "héllo 😀 日本" and len(rows[0]["after"]) == 19
    warnings = [line for line in result.stderr.splitlines() if "no column names" in line]
    assert len(warnings) == 1 and f"{db}.alltypes" in warnings[0] and "@1..@n" in warnings[0]


def test_tail_cut_and_corrupt_files(server: Any, db: str, run_cli: Any, tmp_path: Path) -> None:
    path = _workload_file(server, db)
    data = path.read_bytes()
    ok = run_cli("binlog", "tail", str(path), "--format", "json", "--all-events")
    txns = ok.json()["transactions"]
    last = txns[-2]  # the 2-row INSERT INTO nopk; the last one is the ALTER
    cut = tmp_path / path.name
    cut.write_bytes(data[: last["end_pos"] - 10])
    result = run_cli("binlog", "tail", str(cut), "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert result.json()["transactions"][-1]["end_pos"] == last["start_pos"]
    assert result.json()["files"][0]["valid_end"] == last["start_pos"]
    assert f"{path.name}: valid data ends at {last['start_pos']} of {last['end_pos'] - 10} bytes" in result.stderr
    row_event = next(c for c in last["changes"] if c.get("op") == "insert")
    flipped = bytearray(data)
    flipped[row_event["end_pos"] - 8] ^= 0x20  # a byte of the last row's value
    cut.write_bytes(bytes(flipped))
    bad = run_cli("binlog", "tail", str(cut), "--format", "jsonl")
    assert bad.exit_code == 65 and bad.stdout == ""
    assert f"{path.name}: event at position {row_event['start_pos']}" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1 and "Traceback" not in bad.stderr
    read_on = run_cli("binlog", "tail", str(cut), "--format", "jsonl", "--no-verify-checksum")
    assert read_on.exit_code == 0, read_on.stderr
    missing = run_cli("binlog", "tail", str(tmp_path / "binlog.999999"))
    assert missing.exit_code == 66


def test_tail_file_jobs_gives_the_same_bytes(server: Any, db: str, run_cli: Any, tmp_path: Path) -> None:
    """--jobs 2 with a chunk per transaction (each decoded in its own process) prints exactly what --jobs 1 does:
    every line, its order, transaction numbers, a --stop-pos inside the file, filters, a cut file's end, and
    nothing but the error for a corrupt file (its checksum walk runs beside the first chunks)."""
    path = _workload_file(server, db)
    cases: list[tuple[str, ...]] = [("--all-events",), ("--table", f"{db}.alltypes", "--rows-only"), ()]
    one = run_cli("binlog", "tail", str(path), "--format", "jsonl", "--jobs", "1")
    assert one.exit_code == 0, one.stderr
    txns = [line for line in one.jsonl() if line["kind"] == "transaction"]
    assert len(txns) >= 6 and [t["transaction_no"] for t in txns] == sorted(t["transaction_no"] for t in txns)
    cases.append(("--start-file", path.name, "--start-pos", str(txns[1]["start_pos"]),
                  "--stop-file", path.name, "--stop-pos", str(txns[-2]["start_pos"])))
    cut = tmp_path / path.name
    cut.write_bytes(path.read_bytes()[: txns[-1]["end_pos"] - 10])
    for target, extra in [(path, c) for c in cases] + [(cut, ())]:
        serial = run_cli("binlog", "tail", str(target), "--format", "jsonl", "--jobs", "1", *extra)
        parallel = run_cli("binlog", "tail", str(target), "--format", "jsonl", "--jobs", "2", "--chunk-bytes", "1",
                           *extra)
        assert serial.exit_code == parallel.exit_code == 0, (extra, serial.stderr, parallel.stderr)
        assert serial.stdout, extra
        assert parallel.stdout == serial.stdout, extra
        assert parallel.stderr == serial.stderr, extra
    corrupt = bytearray(path.read_bytes())
    corrupt[txns[-2]["end_pos"] - 8] ^= 0x20  # inside the last-but-one transaction: no output at all, exit 65
    cut.write_bytes(bytes(corrupt))
    serial = run_cli("binlog", "tail", str(cut), "--format", "jsonl", "--jobs", "1")
    parallel = run_cli("binlog", "tail", str(cut), "--format", "jsonl", "--jobs", "2", "--chunk-bytes", "1")
    assert serial.exit_code == parallel.exit_code == 65
    assert serial.stdout == parallel.stdout == "" and parallel.stderr == serial.stderr


def test_jsonl_bytes_mean_what_the_standard_encoder_writes(server: Any, db: str) -> None:
    """The orjson lines (render.binlog_jsonl) against the standard library's encoding of the same line dicts
    (render.binlog_json + values.json_default) on the all-types workload: the same lines, keys in the same order,
    the same values (floats may differ in notation only: 1e16 / 1e+16)."""
    from mysqlinspect.binlog.decode.values.convert import json_default
    from mysqlinspect.binlog.read.local.transactions import FileTransactions
    from mysqlinspect.render.binlog.json import transaction_lines
    from mysqlinspect.render.binlog.jsonl import transaction_jsonl

    path = _workload_file(server, db)
    encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=json_default)
    count = 0
    for txn in FileTransactions([path]):
        for all_events in (False, True):
            ours = transaction_jsonl(txn, all_events).decode().splitlines()
            theirs = [encoder.encode(line) for line in transaction_lines(txn, all_events, encode=False)]
            assert len(ours) == len(theirs)
            for mine, reference in zip(ours, theirs, strict=True):
                assert list(json.loads(mine).items()) == list(json.loads(reference).items()), (mine, reference)
                count += 1
    assert count > 20
