"""SQL generation for replay and flashback: literals, key choice, statements, inversion, the spill stack."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from mysqlinspect.binlog.decode.library.jsonnull import JSON_NULL
from mysqlinspect.binlog.model import NOT_LOGGED, ColumnInfo, EventRecord, RowChange, Transaction
from mysqlinspect.binlog.replay.flashback import DdlInRangeError, SpillStack, invert_transaction, spill_range
from mysqlinspect.binlog.replay.sqlgen import (
    SqlOptions,
    render_transaction,
    row_statements,
    transaction_statements,
)
from mysqlinspect.binlog.replay.sqlliteral import (
    column_renderers,
    render_literal,
    row_tuple_renderer,
    sqltext,
    string_literal,
)
from mysqlinspect.errors import DataError

UTC = dt.UTC


def col(name: str, type_name: str, **kw: object) -> ColumnInfo:
    return ColumnInfo(name=name, type_name=type_name, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(("value", "column", "expected"), [
    (None, col("a", "int"), "NULL"),
    (-5, col("a", "int"), "-5"),
    (18446744073709551615, col("a", "bigint", unsigned=True), "18446744073709551615"),
    (Decimal("-0.0100"), col("a", "decimal"), "-0.0100"),
    (Decimal("1E+3"), col("a", "decimal"), "1000"),
    (0.1, col("a", "double"), "0.1"),
    (1e300, col("a", "double"), "1e+300"),
    (-0.0, col("a", "double"), "-0e0"),
    (-0.0, col("a", "float"), "-0e0"),
    (0.3, col("a", "float"), "0.3"),
    (0.30000001192092896, col("a", "float"), "0.3"),
    (3.4028234663852886e38, col("a", "float"), "3.4028234663852886e+38"),
    (10, col("a", "bit"), "b'1010'"),
    ("0000001010", col("a", "bit"), "b'0000001010'"),
    (0, col("a", "bit"), "b'0'"),
    (b"\x00\xff", col("a", "varbinary"), "X'00FF'"),
    (b"\x00\xff", col("a", "binary", length=4), "X'00FF0000'"),
    (b"", col("a", "binary", length=2), "X'0000'"),
    ("", col("a", "binary", length=2), "X'0000'"),
    (b"", col("a", "blob"), "''"),
    (b"\x00\x00\x00\x00\x01", col("a", "geometry"), "X'0000000001'"),
    ("it's", col("a", "varchar"), "'it''s'"),
    ("a\\b", col("a", "varchar"), "_utf8mb4 X'615C62'"),
    ("line\n", col("a", "text"), "_utf8mb4 X'6C696E650A'"),
    ("日本🍣", col("a", "varchar"), "'日本🍣'"),
    ("b", col("a", "enum", enum_values=("a", "b")), "'b'"),
    (["y", "x"], col("a", "set", set_values=("x", "y")), "'x,y'"),
    ([], col("a", "set", set_values=("x", "y")), "''"),
    ({"x"}, col("a", "set", set_values=("x", "y")), "'x'"),
    (dt.datetime(2024, 1, 2, 3, 4, 5, 678000), col("a", "datetime"), "'2024-01-02 03:04:05.678000'"),
    (dt.datetime(2024, 1, 2, 3, 4, 5), col("a", "datetime"), "'2024-01-02 03:04:05'"),
    ("0000-00-00 00:00:00", col("a", "datetime"), "'0000-00-00 00:00:00'"),
    (dt.date(2024, 2, 29), col("a", "date"), "'2024-02-29'"),
    (dt.date(5, 1, 1), col("a", "date"), "'0005-01-01'"),
    ("0000-00-00", col("a", "date"), "'0000-00-00'"),
    (dt.timedelta(hours=-838, minutes=-59, seconds=-59, microseconds=-500000), col("a", "time"),
     "'-838:59:59.500000'"),
    (dt.timedelta(seconds=1, microseconds=20), col("a", "time"), "'00:00:01.000020'"),
    (dt.datetime(2024, 6, 1, 12, 0, 0, 1, tzinfo=UTC), col("a", "timestamp"), "'2024-06-01 12:00:00.000001'"),
    (dt.datetime(1970, 1, 1, tzinfo=UTC), col("a", "timestamp"), "'0000-00-00 00:00:00'"),
    (dt.datetime(2024, 6, 1, 14, 0, tzinfo=dt.timezone(dt.timedelta(hours=2))), col("a", "timestamp"),
     "'2024-06-01 12:00:00'"),
    (2024, col("a", "year"), "2024"),
])
def test_literals(value: object, column: ColumnInfo, expected: str) -> None:
    assert render_literal(value, column) == expected


def test_float_where_uses_exact_double() -> None:
    assert render_literal(0.3, col("f", "float"), exact_float=True) == "0.30000001192092896"
    assert render_literal(0.1, col("d", "double"), exact_float=True) == "0.1"


def test_json_per_flavor() -> None:
    doc = {"a": [1, 2.5, "x", None, True], "k'": {"c": "d"}}
    assert render_literal(doc, col("j", "json")) == (
        """CAST('{"a": [1, 2.5, "x", null, true], "k''": {"c": "d"}}' AS JSON)""")
    assert render_literal("str", col("j", "json")) == """CAST('"str"' AS JSON)"""
    assert render_literal({b"k": b"v"}, col("j", "json")) == """CAST('{"k": "v"}' AS JSON)"""
    assert render_literal('{"a":1}', col("j", "json"), flavor="mariadb") == """'{"a":1}'"""


def test_unrenderable_values_are_errors() -> None:
    with pytest.raises(DataError):
        render_literal(NOT_LOGGED, col("a", "int"))
    with pytest.raises(DataError):
        render_literal(float("nan"), col("a", "double"))


def test_string_literal_never_depends_on_backslash_mode() -> None:
    assert string_literal("") == "''"
    assert "\\" not in string_literal("a\\'b")


COLS = [col("id", "int"), col("k", "varchar"), col("v", "double"), col("n", "int")]


def change(op: str, before: dict | None, after: dict | None, pk: list[str] | None = None,
           uniques: list[list[str]] | None = None, table: str = "t") -> RowChange:
    return RowChange(op=op, schema="db", table=table, columns=COLS, primary_key=["id"] if pk is None else pk,
                     before=before, after=after, unique_keys=uniques or [])


ROW1 = {"id": 1, "k": "a", "v": 0.5, "n": None}
ROW1B = {"id": 1, "k": "a", "v": 0.75, "n": 3}


def sqls(changes: list[RowChange], **kw: object) -> list[str]:
    return [s.sql for s in row_statements(changes, SqlOptions(**kw))]  # type: ignore[arg-type]


def test_insert_update_delete_with_pk_only_where() -> None:
    out = sqls([change("insert", None, ROW1), change("update", ROW1, ROW1B), change("delete", ROW1B, None)])
    assert out == [
        "INSERT INTO `db`.`t` (`id`, `k`, `v`, `n`) VALUES (1, 'a', 0.5, NULL)",
        "UPDATE `db`.`t` SET `v` = 0.75, `n` = 3 WHERE `id` = 1",
        "DELETE FROM `db`.`t` WHERE `id` = 1",
    ]


def test_full_columns_and_composite_key() -> None:
    out = sqls([change("update", ROW1, ROW1B, pk=["id", "k"])], full_columns=True)
    assert out == ["UPDATE `db`.`t` SET `id` = 1, `k` = 'a', `v` = 0.75, `n` = 3 WHERE `id` = 1 AND `k` = 'a'"]


def test_unique_key_when_no_pk_and_all_columns_when_neither() -> None:
    assert sqls([change("delete", ROW1, None, pk=[], uniques=[["n"], ["k"]])]) == [
        "DELETE FROM `db`.`t` WHERE `k` = 'a'"]
    statements = list(row_statements([change("delete", ROW1, None, pk=[])], SqlOptions()))
    assert statements[0].sql == ("DELETE FROM `db`.`t` WHERE `id` <=> 1 AND `k` <=> 'a' AND `v` <=> 0.5 "
                                 "AND `n` <=> NULL LIMIT 1")
    assert statements[0].warning and "db.t" in statements[0].warning


def test_verify_current_compares_the_whole_image() -> None:
    out = sqls([change("update", ROW1, ROW1B)], verify_current=True)
    assert out == ["UPDATE `db`.`t` SET `v` = 0.75, `n` = 3 WHERE `id` = 1 AND `k` <=> 'a' AND `v` <=> 0.5 "
                   "AND `n` <=> NULL"]


def test_rewrite_db_and_batch_rowses() -> None:
    rows = [change("insert", None, {**ROW1, "id": i}) for i in range(5)]
    out = list(row_statements(rows, SqlOptions(rewrite_db=(("db", "copy"),), batch_rows=2)))
    assert [s.expected_rows for s in out] == [2, 2, 1]
    assert out[0].sql.startswith("INSERT INTO `copy`.`t`") and "), (1, " in out[0].sql


def txn(number: int, events: list[EventRecord]) -> Transaction:
    return Transaction(number=number, file="binlog.000001", start_pos=100 * number, end_pos=100 * number + 90,
                       end_file="binlog.000001", timestamp=1700000000, server_id=1, gtid=f"u:{number}", xid=7,
                       events=events)


def rows_event(rows: list[RowChange]) -> EventRecord:
    return EventRecord(file="binlog.000001", start_pos=1, end_pos=2, timestamp=1700000000, server_id=1,
                       event_type="WriteRowsEvent", op=rows[0].op, schema="db", table="t", rows=rows)


def test_transaction_framing_and_ddl() -> None:
    t = txn(3, [rows_event([change("insert", None, ROW1)])])
    text = render_transaction(t, transaction_statements(t, SqlOptions()))
    assert text.splitlines()[0] == ("-- txn 3 binlog.000001:300-390 gtid=u:3 xid=7 time=2023-11-14T22:13:20Z "
                                    "server_id=1 rows=1")
    assert text.splitlines()[1:] == ["BEGIN;", "INSERT INTO `db`.`t` (`id`, `k`, `v`, `n`) VALUES "
                                     "(1, 'a', 0.5, NULL);", "COMMIT;"]
    ddl = EventRecord(file="binlog.000001", start_pos=1, end_pos=2, timestamp=0, server_id=1,
                      event_type="QueryEvent", op="ddl", schema="db", query="ALTER TABLE t ADD c INT")
    d = txn(4, [ddl])
    text = render_transaction(d, transaction_statements(d, SqlOptions(rewrite_db=(("db", "x"),))))
    assert text.splitlines()[1:] == ["USE `x`;", "ALTER TABLE t ADD c INT;"]


def test_flashback_inverts_and_reverses() -> None:
    t = txn(1, [rows_event([change("insert", None, ROW1), change("update", ROW1, ROW1B)]),
                rows_event([change("delete", ROW1B, None)])])
    inverted = invert_transaction(t)
    events = list(inverted.events)
    ops = [r.op for e in events for r in e.rows]
    assert ops == ["insert", "update", "delete"]
    assert events[0].rows[0].after == ROW1B
    assert events[1].rows[0].before == ROW1B and events[1].rows[0].after == ROW1


def test_spill_stack_reads_newest_first_and_stops_on_ddl() -> None:
    ddl = EventRecord(file="f", start_pos=1, end_pos=2, timestamp=0, server_id=1, event_type="QueryEvent",
                      op="ddl", query="DROP TABLE t")
    with SpillStack() as stack:
        spill_range([txn(i, [rows_event([change("insert", None, {**ROW1, "id": i})])]) for i in range(1, 50)],
                    stack, skip_ddl=False)
        assert [t.number for t in stack.pop_all()] == list(range(49, 0, -1))
    with SpillStack() as stack, pytest.raises(DdlInRangeError, match="--skip-ddl"):
        spill_range([txn(1, [ddl])], stack, skip_ddl=False)
    with SpillStack() as stack:
        spill_range([txn(1, [ddl])], stack, skip_ddl=True)
        assert stack.count == 0


def test_batches_of_updates_and_deletes_by_integer_key() -> None:
    rows = [change("update", {**ROW1, "id": i}, {**ROW1B, "id": i}) for i in (1, 2)]
    rows += [change("update", {**ROW1, "id": 2}, {**ROW1, "id": 2, "v": 9.0})]  # same key again: new batch
    rows += [change("delete", {**ROW1, "id": i}, None) for i in (3, 4)]
    out = list(row_statements(rows, SqlOptions(batch_rows=10)))
    assert [s.expected_rows for s in out] == [2, 1, 2]
    assert out[0].sql == ("UPDATE `db`.`t` AS _mi_t JOIN (SELECT 1 AS `_mi_k0`, 0.75 AS `_mi_v0`, 3 AS `_mi_v1` "
                          "UNION ALL SELECT 2, 0.75, 3) AS _mi_v ON _mi_t.`id` = _mi_v.`_mi_k0` "
                          "SET _mi_t.`v` = _mi_v.`_mi_v0`, _mi_t.`n` = _mi_v.`_mi_v1`")
    assert out[1].sql == "UPDATE `db`.`t` SET `v` = 9.0 WHERE `id` = 2"
    assert out[2].sql == "DELETE FROM `db`.`t` WHERE `id` IN (3, 4)"
    verified = list(row_statements(rows, SqlOptions(batch_rows=10, verify_current=True)))
    assert [s.expected_rows for s in verified] == [1] * 5
    text_key = [change("delete", {**ROW1, "id": i}, None, pk=["k"]) for i in (3, 4)]
    assert len(list(row_statements(text_key, SqlOptions(batch_rows=10)))) == 2


def test_updates_of_secondary_unique_columns_are_not_batched() -> None:
    """Review fix: a multi-row UPDATE checks unique keys row by row in an order of the server's choosing, so a
    value swap the source did safely could fail as a duplicate key; such updates stay one row per statement."""
    rows = [change("update", {**ROW1, "id": i}, {**ROW1B, "id": i}) for i in (1, 2)]
    unique_n = SqlOptions(batch_rows=10, unique_columns=lambda schema, table: frozenset({"n"}))
    assert [s.expected_rows for s in row_statements(rows, unique_n)] == [1, 1]
    unique_other = SqlOptions(batch_rows=10, unique_columns=lambda schema, table: frozenset({"k"}))
    assert [s.expected_rows for s in row_statements(rows, unique_other)] == [2]


_TUPLE_COLUMNS = [col("i", "int"), col("y", "YEAR"), col("c", "varchar"), col("e", "enum"), col("t", "datetime"),
                  col("dd", "date"), col("d", "decimal"), col("f", "double"), col("j", "json"), col("b", "varbinary"),
                  col("s", "set", set_values=("a", "b")), col("bi", "bit"), col("x", "binary", length=3)]
_TUPLE_ROWS: list[dict[str, Any]] = [
    {"i": 1, "y": 2024, "c": "it's", "e": "x", "t": dt.datetime(2024, 1, 2, 3, 4, 5, 600), "dd": dt.date(999, 1, 2),
     "d": Decimal("-1.50"), "f": 0.5, "j": {"a": [1, "b"]}, "b": b"\x00\xff", "s": {"b", "a"}, "bi": 5, "x": b"a"},
    {"i": True, "y": None, "c": "back\\slash\n", "e": b"raw", "t": dt.datetime(2024, 1, 2, tzinfo=UTC),
     "dd": dt.datetime(2024, 1, 2), "d": 3, "f": -0.0, "j": {"d": Decimal("1.10")}, "b": "", "s": "a,b", "bi": "101",
     "x": b""},
    {"c": "", "t": dt.datetime(1, 1, 1), "d": Decimal("1E+3"), "f": 1e300, "j": None},  # missing columns are NULL
]


def _nested(depth: int) -> object:
    value: object = 1
    for _ in range(depth):
        value = [value]
    return value


# documents and texts at the edges of the fast paths (each must give what the column's renderer gives)
_JSON_EDGES: list[Any] = [
    {}, [], {"q": "it's", "k'": "''"}, {"bs": "a\\b"}, {"dq": 'say "hi"'}, {"nl": "a\nb"}, {"del": "a\x7fb"},
    {"c1": "\x85"}, {"u": "é ü 漢字 😀", "😀": [True, False, None]}, {"n": [0, -1, 2**70, 0.1, -0.0, 1e300, 5e-324]},
    {"nan": float("nan")}, {"inf": [float("inf")]}, {"dec": [Decimal("1.5")]}, {"null": JSON_NULL}, [JSON_NULL],
    {"bytes": b"x"}, {"when": dt.datetime(2024, 1, 2, 3, 4, 5)}, {"day": dt.date(2024, 1, 2)}, {1: "int key"},
    {"t": (1, 2)}, ("tuple", 1), {"s": "\ud800"}, {"\ud800": 1}, {"deep": _nested(20)}, _nested(70),
    [[0] * 3, {"a": {"b": {"c": "d'e"}}}], "a string", 5, 1.5, True, JSON_NULL,
]
_TEXT_EDGES = ["", "'", "''", "a'b'c", "tab\t", "\x1f", "\x7f", "\x80\x9f", "é", "😀'😀", "\ud800", "\\"]
_EDGE_ROWS: list[dict[str, Any]] = [
    *({"j": doc} for doc in _JSON_EDGES),
    *({"c": text, "e": text} for text in _TEXT_EDGES),
    {"i": 2**100, "y": -5, "t": dt.datetime(999, 12, 31, 23, 59, 59, 999999), "dd": dt.date(1, 1, 1),
     "d": Decimal("-0.00")},
    {"i": 1.5, "t": dt.date(2024, 1, 2), "dd": "2024-00-15", "d": Decimal("NaN")},
]


@pytest.mark.parametrize("native", [False, True])
@pytest.mark.parametrize("flavor", ["mysql", "mariadb", "mysql-to-mariadb"])
def test_compiled_row_tuple_equals_column_by_column_rendering(flavor: str, native: bool) -> None:
    """Both row tuple renderers (the C extension's, the compiled Python) give the column renderers' text, or
    raise as they do, for every value, common and edge."""
    assert sqltext is not None, "the C extension _sqltext was not built (make install)"
    names = tuple(c.name for c in _TUPLE_COLUMNS)
    row = row_tuple_renderer(_TUPLE_COLUMNS, names, flavor, native=native)
    assert row is not None
    render = column_renderers(_TUPLE_COLUMNS, flavor)
    for image in [*_TUPLE_ROWS, *_EDGE_ROWS]:
        try:
            expected = "(" + ", ".join(render[n](image.get(n)) for n in names) + ")"
        except Exception as exc:
            with pytest.raises(type(exc)):
                row(image)
            continue
        assert row(image) == expected, image
    with pytest.raises(DataError):
        row({"i": NOT_LOGGED})
    assert row_tuple_renderer(_TUPLE_COLUMNS, (), flavor, native=native) is not None
    wide = [col(f"c{i}", "int") for i in range(300)]  # the compiled Python renders such rows column by column
    assert (row_tuple_renderer(wide, tuple(c.name for c in wide), flavor, native=native) is None) != native
