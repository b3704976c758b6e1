"""Pure parts of the binlog engine: GTID sets, filters, value conversion, checkpoints, transaction grouping."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

from mysqlinspect.binlog.decode.payload import decompress_payload, parse_payload_header, payload_events, split_events
from mysqlinspect.binlog.decode.statement_text import classify_query
from mysqlinspect.binlog.decode.values.convert import (
    converter_for,
    format_time,
    json_value,
    none_value,
    shortest_float32,
)
from mysqlinspect.binlog.model import NOT_LOGGED, EventRecord, RowChange, Transaction
from mysqlinspect.binlog.position import BinlogPosition
from mysqlinspect.binlog.read.checkpoint import Checkpoint, CheckpointWriter, read_checkpoint, write_checkpoint
from mysqlinspect.binlog.read.filters import EventFilter, ddl_table
from mysqlinspect.binlog.read.gtid import GtidSet, parse_gtid
from mysqlinspect.binlog.read.range import RangeGate, RangeSpec, StartSpec, parse_datetime
from mysqlinspect.binlog.read.transactions import TransactionAssembler
from mysqlinspect.errors import DataError, UsageError

U1 = "3e11fa47-71ca-11e1-9e33-c80aa9429562"
U2 = "b13d31f8-e5b8-11f1-9742-02fc00000001"


def test_mysql_gtid_sets() -> None:
    s = GtidSet.parse(f"{U1}:1-5:7,{U2}:3")
    assert s.contains(f"{U1}:4") and not s.contains(f"{U1}:6") and s.contains(f"{U2}:3")
    assert str(s.difference(GtidSet.parse(f"{U1}:2-3"))) == f"{U1}:1:4-5:7,{U2}:3"
    s.add_gtid(f"{U1}:6")
    assert str(s) == f"{U1}:1-7,{U2}:3" and s.count() == 8
    assert GtidSet.parse(f"{U1}:1-3").issubset(s)
    tagged = GtidSet.parse(f"{U1}:1-2:mytag:5-6")
    assert tagged.contains(f"{U1}:mytag:5") and not tagged.contains(f"{U1}:5") and tagged.contains(f"{U1}:2")
    assert parse_gtid(f"{U1.upper()}:9") == f"{U1}:9"
    with pytest.raises(UsageError):
        GtidSet.parse("nonsense:1")


def test_mariadb_gtid_sets() -> None:
    s = GtidSet.parse("0-1-5,0-1-7-9,1-2-3")
    assert s.flavor == "mariadb" and s.contains("0-1-8") and not s.contains("0-1-6")
    assert str(s) == "0-1-5,0-1-7-9,1-2-3"
    pos = GtidSet.from_mariadb_position("0-1-100,1-2-7")
    assert pos.contains("0-1-1") and pos.contains("0-1-100") and not pos.contains("0-1-101")
    assert pos.mariadb_position() == "0-1-100,1-2-7"
    assert s.difference(pos).is_empty()


def test_filters_match_schema_qualified_globs() -> None:
    f = EventFilter.build(tables=["shop.order*", "audit"], exclude_tables=["shop.orders_tmp"], ops="insert,ddl")
    row = EventRecord("b.1", 4, 10, 0, 1, "WriteRowsEvent", schema="shop", table="orders", op="insert")
    assert f.event_matches(row)
    assert not f.event_matches(EventRecord("b.1", 4, 10, 0, 1, "WriteRowsEvent", schema="other", table="orders",
                                           op="insert"))
    assert f.event_matches(EventRecord("b.1", 4, 10, 0, 1, "WriteRowsEvent", schema="x", table="audit", op="insert"))
    assert not f.event_matches(EventRecord("b.1", 4, 10, 0, 1, "WriteRowsEvent", schema="shop", table="orders_tmp",
                                           op="insert"))
    assert not f.event_matches(EventRecord("b.1", 4, 10, 0, 1, "DeleteRowsEvent", schema="shop", table="orders",
                                           op="delete"))
    ddl = EventRecord("b.1", 4, 10, 0, 1, "QueryEvent", schema="shop", op="ddl", query="ALTER TABLE `orders` ADD c INT")
    assert f.event_matches(ddl)
    assert ddl_table("CREATE TABLE IF NOT EXISTS s.t (a int)", None) == ("s", "t")
    assert ddl_table("DROP DATABASE x", "x") == ("x", None)
    with pytest.raises(UsageError):
        EventFilter.build(ops="upsert")


def test_filter_transaction_keeps_structure_and_min_rows() -> None:
    def ev(op: str, table: str | None = None, rows: int = 0, etype: str = "WriteRowsEvent") -> EventRecord:
        rec = EventRecord("b.1", 4, 10, 0, 7, etype, schema="s" if table else None, table=table, op=op)
        rec.rows = [RowChange(op, "s", table or "", [], [], None, {}) for _ in range(rows)]
        return rec

    txn = Transaction(1, "b.1", 4, 100, "b.1", 0, 7, "g:1", 5,
                      events=[ev("gtid", etype="GtidEvent"), ev("insert", "a", 2), ev("insert", "b", 1),
                              ev("commit", etype="XidEvent")])
    kept = EventFilter.build(tables=["s.a"]).filter_transaction(txn)
    assert kept is not None and [e.table for e in kept.events] == [None, "a", None] and kept.row_count == 2
    assert EventFilter.build(tables=["s.*"], min_rows=4).filter_transaction(txn) is None
    assert EventFilter.build(server_ids=[8]).filter_transaction(txn) is None
    assert EventFilter().filter_transaction(txn) is txn


def test_values_are_faithful() -> None:
    assert shortest_float32(0.30000001192092896) == 0.3
    assert none_value("set", "empty set") == [] and none_value("date", "out of date range") == "0000-00-00"
    assert none_value("int", "cols bitmap") is NOT_LOGGED and none_value("int", "null") is None
    assert format_time(dt.timedelta(hours=-838, minutes=-59, seconds=-58)) == "-838:59:58"
    assert json_value(Decimal("1.10")) == "1.10" and json_value(b"\x00\xff") == "0x00ff"
    assert json_value(dt.datetime(2024, 1, 1, tzinfo=dt.UTC)) == "2024-01-01T00:00:00Z"
    assert json_value({"k": [dt.date(2024, 1, 2)]}) == {"k": ["2024-01-02"]}
    fix_time = converter_for("time")
    assert fix_time is not None
    lib = -dt.timedelta(hours=838, minutes=59, seconds=58, microseconds=10000)  # the library's -838:59:58.99
    assert format_time(fix_time(lib)) == "-838:59:58.990000"
    assert fix_time(dt.timedelta(seconds=-5)) == dt.timedelta(seconds=-5)


def test_checkpoint_is_atomic_and_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "cp.json"
    assert read_checkpoint(path) is None
    writer = CheckpointWriter(path, Checkpoint("binlog.000001", 4, "", "mysql", 0))
    writer.record(BinlogPosition("binlog.000001", 500), f"{U1}:1", 1)
    writer.record(BinlogPosition("binlog.000002", 300), f"{U1}:2", 2)
    saved = read_checkpoint(path)
    assert saved is not None and saved.position == BinlogPosition("binlog.000002", 300)
    assert saved.gtid_set == f"{U1}:1-2" and saved.transactions == 2 and saved.last_gtid == f"{U1}:2"
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]  # no temp files left behind
    write_checkpoint(path, saved)
    assert json.loads(path.read_text())["file"] == "binlog.000002"
    path.write_text("{not json")
    with pytest.raises(DataError):
        read_checkpoint(path)


def test_transactions_grouping_mysql_and_mariadb() -> None:
    def rec(etype: str, op: str, start: int, **kw: object) -> EventRecord:
        return EventRecord("b.1", start, start + 10, 100 + start, 1, etype, op=op, size=10, **kw)  # type: ignore[arg-type]

    asm = TransactionAssembler()
    stream = [rec("GtidEvent", "gtid", 0, gtid="u:1"), rec("QueryEvent", "begin", 10, query="BEGIN"),
              rec("TableMapEvent", "table_map", 20), rec("WriteRowsEvent", "insert", 30),
              rec("XidEvent", "commit", 40, xid=9), rec("GtidEvent", "gtid", 50, gtid="u:2"),
              rec("QueryEvent", "ddl", 60, query="CREATE TABLE t (a int)"),
              rec("MariadbGtidEvent", "gtid", 70, gtid="0-1-3"), rec("TableMapEvent", "table_map", 80),
              rec("WriteRowsEvent", "insert", 90), rec("XidEvent", "commit", 100, xid=10),
              rec("RotateEvent", "rotate", 110, query="b.2")]
    out = [item for r in stream for item in asm.feed(r)]
    txns = [t for t in out if isinstance(t, Transaction)]
    assert [(t.gtid, t.start_pos, t.end_pos, t.size_bytes, t.xid) for t in txns] == [
        ("u:1", 0, 50, 50, 9), ("u:2", 50, 70, 20, None), ("0-1-3", 70, 110, 40, 10)]
    assert all(e.transaction_no == t.number and e.gtid == t.gtid for t in txns for e in t.events)
    assert isinstance(out[-1], EventRecord) and out[-1].event_type == "RotateEvent"
    assert classify_query("  commit") == "commit" and classify_query("ALTER TABLE x") == "ddl"


def test_range_gate_and_datetime() -> None:
    gate = RangeGate(start_gtid=f"{U1}:2", exclude=GtidSet.parse(f"{U1}:3"))

    def txn(n: int, ts: int = 0) -> Transaction:
        return Transaction(n, "b.1", 0, 1, "b.1", ts, 1, f"{U1}:{n}", None)

    assert [gate.admit(txn(n)) for n in (1, 2, 3, 4)] == [False, True, False, True]
    bounded = RangeGate(include=GtidSet.parse(f"{U1}:2-3"), expected=GtidSet.parse(f"{U1}:2-3"))
    assert [bounded.admit(txn(n)) for n in (1, 2)] == [False, True] and not bounded.exhausted()
    assert bounded.admit(txn(3)) and bounded.exhausted()
    assert parse_datetime("2024-01-02 03:04:05+00:00").timestamp() == 1704164645
    with pytest.raises(UsageError):
        RangeSpec(start=StartSpec(pos=100)).validate()


def test_payload_header_and_inner_events() -> None:
    import zstandard

    inner = bytes(19) + b"body"
    inner = inner[:9] + (len(inner)).to_bytes(4, "little") + inner[13:]
    compressed = zstandard.ZstdCompressor().compress(inner * 2)
    body = bytes([1, 1, len(compressed), 2, 1, 0, 3, 1, len(inner) * 2, 0]) + compressed
    header = parse_payload_header(body)
    assert header.compression == 0 and header.compressed_size == len(compressed) and header.data_offset == 10
    assert list(split_events(decompress_payload(body))) == [inner, inner]
    assert list(payload_events(body)) == [inner, inner]


def test_payload_events_are_decompressed_as_they_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    import zstandard

    from mysqlinspect.binlog.decode import payload

    monkeypatch.setattr(payload, "PAYLOAD_BLOCK", 7)  # events across reads
    events = [bytes(9) + (19 + n).to_bytes(4, "little") + bytes(6) + b"x" * n for n in range(0, 300, 7)]
    compressed = zstandard.ZstdCompressor().compress(b"".join(events))
    cut = zstandard.ZstdCompressor().compress(b"".join(events)[:-5])
    assert len(compressed) < 251 and len(cut) < 251  # one-byte length-encoded sizes
    assert list(payload_events(bytes([1, 1, len(compressed), 0]) + compressed)) == events
    with pytest.raises(DataError, match="truncated"):
        list(payload_events(bytes([1, 1, len(cut), 0]) + cut))


def _varlen(value: int) -> bytes:
    size = 1
    while size < 9 and value >= 1 << (7 * size):
        size += 1
    if size == 9:
        return b"\xff" + value.to_bytes(8, "little")
    return ((value << size) | ((1 << (size - 1)) - 1)).to_bytes(size, "little")


def test_tagged_gtid_event_and_previous_gtids() -> None:
    from mysqlinspect.binlog.source.tagged_gtid import parse_previous_gtids, parse_tagged_gtid, read_varlen

    for value in (0, 1, 127, 128, 300, 1 << 20, (1 << 56) - 1, 1 << 60):
        assert read_varlen(_varlen(value), 0) == (value, len(_varlen(value)))
    sid = bytes.fromhex(U1.replace("-", ""))
    fields = _varlen(0) + _varlen(0) + _varlen(1) + b"".join(_varlen(b) for b in sid) + _varlen(2) + \
        _varlen(42 << 1) + _varlen(3) + _varlen(5) + b"mytag" + _varlen(4) + _varlen(10 << 1)
    body = bytes([2]) + _varlen(len(fields) + 3) + _varlen(2) + fields
    assert parse_tagged_gtid(body) == (f"{U1}:mytag:42", 0)
    tagged = (1 << 56 | 1 << 8 | 1).to_bytes(8, "little") + sid + _varlen(3) + b"abc" + \
        (1).to_bytes(8, "little") + (1).to_bytes(8, "little") + (6).to_bytes(8, "little")
    assert parse_previous_gtids(tagged) == f"{U1}:abc:1-5"
    plain = (1).to_bytes(8, "little") + sid + (1).to_bytes(8, "little") + (3).to_bytes(8, "little") + \
        (4).to_bytes(8, "little")
    assert parse_previous_gtids(plain) == f"{U1}:3"


def test_review_decimal_plain_and_binary_padding() -> None:
    """Review fixes: DECIMAL JSON text in plain notation (not 0E-30); BINARY(n) gets its 0x00 padding back."""
    assert json_value(Decimal("0E-30")) == "0." + "0" * 30
    assert json_value(Decimal("1.000E-7")) == "0.0000001000"
    pad = converter_for("binary", (), 4)
    assert pad is not None and pad(b"a") == b"a\x00\x00\x00" and pad("") == b"\x00" * 4 and pad(b"abcd") == b"abcd"
    assert converter_for("varbinary", (), None) is None


def test_review_unwritable_checkpoint_and_output_are_usage_errors(tmp_path: Path) -> None:
    from mysqlinspect.binlog.replay.replay import ReplaySummary, write_sql_file

    missing = tmp_path / "no-such-dir" / "cp.json"
    with pytest.raises(UsageError, match="cannot write"):
        write_checkpoint(missing, Checkpoint("binlog.000001", 4, "", "mysql", 0))
    with pytest.raises(UsageError, match="cannot write --output"):
        write_sql_file(str(tmp_path / "no-such-dir" / "out.sql"), lambda out: None, ReplaySummary("replay", False))


def test_review_target_dsn_ports_and_resume_order_across_file_numbers() -> None:
    from mysqlinspect.binlog.replay.apply import SourcePoint, target_settings
    from mysqlinspect.binlog.replay.replay import already_applied
    from mysqlinspect.connection.settings import ConnectionSettings

    base = ConnectionSettings()
    for dsn in ("mysql://root@127.0.0.1:abc", "mysql://root@127.0.0.1:99999", "h=127.0.0.1,P=0", "host:x"):
        with pytest.raises(UsageError, match="port"):
            target_settings(dsn, base)
    assert target_settings("mysql://u:p@db1:3307", base).port == 3307
    point = SourcePoint("binlog.999999", 500, "binlog.999999", 900, None)
    later = Transaction(number=1, file="binlog.1000000", start_pos=4, end_file="binlog.1000000", end_pos=100,
                        timestamp=0, server_id=1, gtid=None, xid=None)
    assert not already_applied(later, point, flashback=False)  # binlog.1000000 comes after binlog.999999
    assert already_applied(later, point, flashback=True)


def test_review_unknown_event_type_is_a_usage_error() -> None:
    """A misspelt --event-type used to match nothing, silently."""
    with pytest.raises(UsageError, match="bogus"):
        EventFilter.build(event_types=("WriteRows,Bogus",))
    built = EventFilter.build(event_types=("WriteRows", "query,Gtid_event", "TaggedGtid", "MariadbGtidEvent"))
    assert built.event_types == frozenset({"writerows", "query", "gtid", "taggedgtid", "mariadbgtid"})


def test_review_reconnect_keeps_the_transaction_number() -> None:
    """After a reconnect drops a partial transaction, its re-read copy keeps the number (no gap in numbering)."""
    def rec(etype: str, op: str, start: int, **kw: object) -> EventRecord:
        return EventRecord("b.1", start, start + 10, 100, 1, etype, op=op, size=10, **kw)  # type: ignore[arg-type]

    asm = TransactionAssembler()
    whole = [rec("GtidEvent", "gtid", 0, gtid="u:1"), rec("QueryEvent", "begin", 10, query="BEGIN"),
             rec("WriteRowsEvent", "insert", 20), rec("XidEvent", "commit", 30, xid=1)]
    for r in whole[:3]:
        assert asm.feed(r) == []
    asm.reset()  # the connection dropped inside transaction 1
    txns = [t for r in whole for t in asm.feed(r) if isinstance(t, Transaction)]
    assert [t.number for t in txns] == [1]


def test_review_target_dsn_never_falls_back_to_the_sources_transport() -> None:
    """A source reached over its socket (--protocol=SOCKET) and `--target db2` used to connect to the default
    local socket/port instead of db2; a DSN socket with a TCP source used to be ignored."""
    from mysqlinspect.binlog.replay.apply import target_settings
    from mysqlinspect.connection.settings import ConnectionSettings

    socket_source = ConnectionSettings(host="localhost", socket="/run/src.sock", protocol="SOCKET")
    remote = target_settings("db2", socket_source)
    assert not remote.uses_socket and (remote.host, remote.port) == ("db2", 3306)
    assert not target_settings("mysql://u@db2:3307", socket_source).uses_socket
    tcp_source = ConnectionSettings(host="127.0.0.1", port=3310, protocol="TCP")
    local = target_settings("S=/run/other.sock", tcp_source)
    assert local.uses_socket and local.socket == "/run/other.sock"
