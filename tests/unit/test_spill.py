"""Large transactions on disk (binlog/read/spill.py): the same events back, forwards and backwards, with their totals;
the assembler, the filters, the flashback stack and the SQL writer give what they give for events held in a list;
BINLOG statements of the events mode never split a statement from its Table_maps."""

from __future__ import annotations

import base64
import datetime as dt
import struct
import zlib
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal

import pytest

from mysqlinspect.binlog.model import NOT_LOGGED, ColumnInfo, EventRecord, EventTotals, RowChange, Transaction
from mysqlinspect.binlog.read import spill
from mysqlinspect.binlog.read.filters import EventFilter
from mysqlinspect.binlog.read.spill import SpilledEvents, SpillList
from mysqlinspect.binlog.read.transactions import TransactionAssembler
from mysqlinspect.binlog.replay import passthrough
from mysqlinspect.binlog.replay.flashback import SpillStack, invert_transaction
from mysqlinspect.binlog.replay.sqlgen import (
    SqlOptions,
    iter_statements,
    render_transaction,
    render_transaction_parts,
    transaction_statements,
)

COLUMNS = [ColumnInfo("id", "int"), ColumnInfo("v", "varchar", charset="utf8mb4"), ColumnInfo("d", "decimal"),
           ColumnInfo("ts", "datetime")]
OTHER = [ColumnInfo("a", "int")]


def rows_event(n: int, table: str = "t", op: str = "insert", pos: int = 0) -> EventRecord:
    columns = COLUMNS if table == "t" else OTHER
    rows = []
    for i in range(n):
        image = {"id": pos + i, "v": f"r{i}'é", "d": Decimal(f"{i}.25"), "ts": dt.datetime(2024, 1, 2, 3, 4, 5)} \
            if table == "t" else {"a": i}
        before, after = (None, image) if op == "insert" else (image, None) if op == "delete" else (image, image)
        rows.append(RowChange(op, "db", table, columns, [columns[0].name], before, after))
    name = {"insert": "WriteRowsEvent", "update": "UpdateRowsEvent", "delete": "DeleteRowsEvent"}[op]
    return EventRecord("binlog.000001", pos, pos + 100, 1700000000, 1, name, schema="db", table=table, op=op,
                       rows=rows, size=100)


def control(op: str, pos: int, event_type: str = "QueryEvent", **kw: object) -> EventRecord:
    return EventRecord("binlog.000001", pos, pos + 10, 1700000000, 1, event_type, op=op, size=10,
                       **kw)  # type: ignore[arg-type]


def transaction_events(batches: int = 40, per_event: int = 50) -> list[EventRecord]:
    events = [control("gtid", 4, "GtidEvent", gtid="u:1"), control("begin", 14, query="BEGIN", schema="db")]
    pos = 100
    for k in range(batches):
        events.append(control("table_map", pos, "TableMapEvent", schema="db", table="t" if k % 3 else "u"))
        events.append(rows_event(per_event, "t" if k % 3 else "u", ("insert", "update", "delete")[k % 3], pos))
        pos += 1000
    events.append(control("commit", pos, "XidEvent", xid=99))
    return events


@pytest.fixture
def small_hold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spill, "EVENT_HOLD", 64 << 10)
    monkeypatch.setattr(spill, "EVENT_FRAME", 16 << 10)


def assembled(events: list[EventRecord], held: bool = False) -> Transaction:
    """The events assembled (spilled past EVENT_HOLD, or held in a list)."""
    hold = spill.EVENT_HOLD
    spill.EVENT_HOLD = 1 << 50 if held else hold
    try:
        assembler = TransactionAssembler()
        out = [item for e in events for item in assembler.feed(replace(e, rows=list(e.rows)))]
    finally:
        spill.EVENT_HOLD = hold
    assert len(out) == 1 and isinstance(out[0], Transaction)
    assert isinstance(out[0].events, list) == held
    return out[0]


def test_a_spill_list_reads_back_the_same_items_any_number_of_times() -> None:
    items = SpillList[bytes](weigh=len, hold=100, frame=30)
    for i in range(50):
        items.append(bytes([i]) * 7)
    assert items.spilled and len(items) == 50
    assert list(items) == [bytes([i]) * 7 for i in range(50)] == list(items)
    assert list(reversed(items)) == [bytes([i]) * 7 for i in reversed(range(50))]
    other = SpillList[bytes]([b"x" * 40, b"y" * 40, b"z" * 40], weigh=len, hold=100, frame=30)
    assert other.spilled
    items.extend_list(other)
    items.append(b"last")
    assert list(items)[-5:] == [bytes([49]) * 7, b"x" * 40, b"y" * 40, b"z" * 40, b"last"] and len(items) == 54
    small = SpillList[bytes]([b"a"], weigh=len, hold=100, frame=30)
    assert not small.spilled and list(reversed(small)) == [b"a"]


def test_a_large_transaction_spills_with_the_same_events_and_totals(small_hold: None) -> None:
    events = transaction_events()
    txn = assembled(events)
    assert isinstance(txn.events, SpilledEvents) and txn.events.spilled and txn.stored
    held = assembled(events, held=True)
    assert list(txn.events) == held.events
    assert list(reversed(txn.events)) == list(reversed(held.events))
    assert txn.totals == EventTotals.of(held.events)
    assert (txn.row_count, txn.tables, txn.is_ddl, txn.undecoded_types, len(txn.events)) == \
        (held.row_count, held.tables, held.is_ddl, held.undecoded_types, len(held.events))


def test_images_come_back_as_they_were() -> None:
    minimal = RowChange("update", "db", "t", COLUMNS, ["id"], {"id": 1}, {"id": 1, "v": NOT_LOGGED, "d": None,
                                                                          "ts": None})
    other_columns = RowChange("insert", "db", "t", list(COLUMNS), ["id"], None, {"id": 2, "v": "x", "d": None,
                                                                                   "ts": None})
    first = rows_event(2)
    event = replace(first, rows=[*first.rows, minimal, other_columns])
    back = spill.decode_events(spill.encode_events([event, control("commit", 9, "XidEvent", xid=3)]))
    assert back == [event, control("commit", 9, "XidEvent", xid=3)]
    assert list(back[0].rows[0].after or {}) == ["id", "v", "d", "ts"]


@pytest.mark.parametrize("event_filter", [
    EventFilter.build(tables=["db.t"]), EventFilter.build(tables=["db.u"], ops="delete"),
    EventFilter.build(exclude_tables=["db.u"], min_rows=10_000), EventFilter.build(ops="update"),
    EventFilter.build(event_types=["WriteRows", "Xid"]), EventFilter.build(tables=["db.nothing"]),
])
def test_filters_keep_what_they_keep_of_a_list(small_hold: None, event_filter: EventFilter) -> None:
    events = transaction_events()
    stored = event_filter.filter_transaction(assembled(events))
    held = event_filter.filter_transaction(assembled(events, held=True))
    if held is None:
        assert stored is None
        return
    assert stored is not None
    assert list(stored.events) == list(held.events)
    assert (stored.row_count, stored.tables, len(stored.events), stored.totals.counts) == \
        (held.row_count, held.tables, len(held.events), held.totals.counts)


def test_the_flashback_stack_keeps_a_spilled_transaction_on_disk(small_hold: None) -> None:
    events = transaction_events()
    txn = assembled(events)
    filtered = EventFilter.build(tables=["db.t"]).filter_transaction(txn)
    assert filtered is not None and not isinstance(filtered.events, list)
    small = assembled(transaction_events(batches=2))
    with SpillStack() as stack:
        stack.push(txn)
        stack.push(small)
        stack.push(filtered)
        popped = list(stack.pop_all())
        assert [list(t.events) for t in popped] == [list(filtered.events), list(small.events), list(txn.events)]
        undo = invert_transaction(popped[2])
        reference = invert_transaction(replace(txn, events=list(txn.events)))
        assert list(undo.events) == list(reference.events)
        assert (undo.row_count, len(undo.events), undo.totals.counts) == \
            (reference.row_count, len(reference.events), reference.totals.counts)


def test_sql_of_a_spilled_transaction_is_the_same_text(small_hold: None) -> None:
    txn = assembled(transaction_events())
    held = replace(txn, events=list(txn.events))
    options = SqlOptions(batch_rows=7)
    text = "".join(render_transaction_parts(txn, iter_statements(txn, options), "txn", block=1000))
    assert text == render_transaction(held, transaction_statements(held, options))
    assert [s.sql for s in iter_statements(txn, options)] == [s.sql for s in transaction_statements(held, options)]


# BINLOG statements ------------------------------------------------------------------------------------------------
def raw_event(code: int, body: bytes) -> bytes:
    header = struct.pack("<IBIIIH", 1700000000, code, 1, 19 + len(body) + 4, 1234, 0)
    return header + body + struct.pack("<I", zlib.crc32(header + body))


def rows_raw(flags: int, size: int) -> bytes:
    return raw_event(30, (77).to_bytes(6, "little") + flags.to_bytes(2, "little") + b"\x02\x00" + b"r" * size)


def decoded(statements: Iterator[str]) -> list[list[bytes]]:
    """The events of each BINLOG statement."""
    out = []
    for sql in statements:
        data = base64.b64decode(sql[len("BINLOG '"):-1])
        events, pos = [], 0
        while pos < len(data):
            size = struct.unpack_from("<I", data, pos + 9)[0]
            events.append(data[pos:pos + size])
            pos += size
        out.append(events)
    return out


def test_binlog_statements_cut_a_large_statement_with_its_table_maps_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passthrough, "MAX_STATEMENT_BYTES", 1000)
    maps = [raw_event(19, b"map-a"), raw_event(19, b"map-b")]
    statement = [*maps, *(rows_raw(0, 300) for _ in range(7)), rows_raw(1, 300)]
    small = [raw_event(19, b"map-c"), rows_raw(1, 10)]
    parts = decoded(passthrough.binlog_statements([*statement, *small], 4))
    assert len(parts) > 2
    sent_rows = []
    for part in parts[:-1]:
        assert part[:2] == maps  # every part of the large statement starts with its Table_maps
        last = part[-1]
        assert last[4] == 30 and int.from_bytes(last[25:27], "little") & 1  # and ends the statement
        assert struct.unpack("<I", last[-4:])[0] == zlib.crc32(last[:-4])
        sent_rows += [e[27:-4] for e in part[2:]]
    assert parts[-1][:2] == maps and parts[-1][-2:] == small
    sent_rows += [e[27:-4] for e in parts[-1][2:-2]]
    assert sent_rows == [e[27:-4] for e in statement[2:]]  # the same rows, in order


def test_binlog_statements_never_end_with_a_table_map(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passthrough, "MAX_STATEMENT_BYTES", 100)
    pairs = [event for _ in range(5) for event in (raw_event(19, b"map"), rows_raw(1, 60))]
    parts = decoded(passthrough.binlog_statements(pairs, 4))
    assert all(part[-1][4] == 30 and part[0][4] == 19 for part in parts)
    assert [e for part in parts for e in part] == pairs


def test_a_mariadb_target_gets_one_binlog_statement_per_statement() -> None:
    statements = [[raw_event(19, b"map"), rows_raw(0, 50), rows_raw(1, 50)], [raw_event(19, b"map"), rows_raw(1, 9)]]
    events = [e for statement in statements for e in statement]
    assert decoded(passthrough.binlog_statements(events, 4)) == [events]
    assert decoded(passthrough.binlog_statements(events, 4, one_statement=True)) == statements
