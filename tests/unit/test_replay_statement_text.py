"""Replay SQL details of issue 9: statement classification past comments, session statements, DELIMITER framing,
ON UPDATE columns in SET, decimals inside JSON."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mysqlinspect.binlog.decode.statement_text import classify_query, is_database_statement, statement_head
from mysqlinspect.binlog.model import ColumnInfo, EventRecord, QuerySession, RowChange, Transaction
from mysqlinspect.binlog.replay.session_vars import session_statements
from mysqlinspect.binlog.replay.sqlgen import (
    SqlOptions,
    render_transaction,
    transaction_statements,
    update_statement,
)
from mysqlinspect.binlog.replay.sqlliteral import json_literal


@pytest.mark.parametrize(("query", "op"), [
    ("/*!50610 ALTER TABLE t ENGINE=InnoDB */", "ddl"),
    ("/*!40000 ALTER TABLE `t` DISABLE KEYS */", "ddl"),
    ("/*M!100100 CREATE TABLE t (a INT) */", "ddl"),
    ("/* note */ CREATE TABLE t (a INT)", "ddl"),
    ("-- note\nDROP TABLE t", "ddl"),
    ("# note\n  RENAME TABLE a TO b", "ddl"),
    ("  BEGIN", "begin"),
    ("FLUSH TABLES", "other"),
    ("/* unterminated", "other"),
])
def test_classify_skips_leading_comments(query: str, op: str) -> None:
    assert classify_query(query) == op


def test_statement_head_and_database_statements() -> None:
    assert statement_head("/*!50610 ALTER TABLE t ENGINE=InnoDB */").startswith("ALTER TABLE t")
    assert is_database_statement("CREATE DATABASE `x`") and is_database_statement("drop schema if exists x")
    assert not is_database_statement("CREATE TABLE x (a INT)")


class Names:
    def sql_mode(self, mask: int) -> str | None:
        return "ANSI_QUOTES" if mask == 4 else None

    def collation(self, collation_id: int) -> tuple[str, str] | None:
        return ("utf8mb4", "utf8mb4_0900_ai_ci") if collation_id == 255 else None


def test_session_statements_named_and_numeric() -> None:
    session = QuerySession(sql_mode=4, charset=(255, 255, 255), time_zone="+05:30")
    assert session_statements(session, Names()) == [
        "SET @@session.sql_mode = 'ANSI_QUOTES'",
        "SET @@session.character_set_client = 'utf8mb4', @@session.collation_connection = 'utf8mb4_0900_ai_ci', "
        "@@session.collation_server = 'utf8mb4_0900_ai_ci'",
        "SET @@session.time_zone = '+05:30'",
    ]
    assert session_statements(QuerySession(sql_mode=8, charset=(8, 8, 45)), Names()) == [
        "SET @@session.sql_mode = 8",
        "SET @@session.character_set_client = 8, @@session.collation_connection = 8, @@session.collation_server = 45",
    ]
    assert session_statements(None) == []


def _ddl(query: str, schema: str = "app", suppress_use: bool = False) -> Transaction:
    event = EventRecord(file="b.1", start_pos=4, end_pos=90, timestamp=0, server_id=1, event_type="QueryEvent",
                        schema=schema, op=classify_query(query), query=query, suppress_use=suppress_use,
                        session=QuerySession(sql_mode=4))
    return Transaction(number=1, file="b.1", start_pos=4, end_pos=90, end_file="b.1", timestamp=0, server_id=1,
                       gtid=None, xid=None, events=[event])


def test_routine_is_framed_with_delimiters_in_its_session() -> None:
    txn = _ddl('CREATE PROCEDURE "p"() BEGIN SELECT 1; SELECT 2; END')
    forgotten: list[bool] = []
    opts = SqlOptions(rewrite_db=(("app", "copy"),), session_names=Names(),
                      definitions_changed=lambda: forgotten.append(True))
    text = render_transaction(txn, transaction_statements(txn, opts))
    assert forgotten == [True]
    assert ("SET @@session.sql_mode = 'ANSI_QUOTES';\nUSE `copy`;\nDELIMITER /*!*/;\n"
            'CREATE PROCEDURE "p"() BEGIN SELECT 1; SELECT 2; END\n/*!*/;\nDELIMITER ;\nSET NAMES utf8mb4;') in text


def test_no_use_before_database_statements_and_other_statements_kept() -> None:
    assert [s.kind for s in transaction_statements(_ddl("DROP DATABASE app", suppress_use=True), SqlOptions())] == [
        "session", "ddl", "session", "session", "session"]
    assert "USE" not in render_transaction(_ddl("CREATE DATABASE app"), transaction_statements(
        _ddl("CREATE DATABASE app"), SqlOptions()))
    flush = _ddl("FLUSH TABLES")
    assert flush.is_ddl and "FLUSH TABLES;" in render_transaction(flush, transaction_statements(flush, SqlOptions()))


def test_on_update_columns_always_in_set_generated_never() -> None:
    cols = [ColumnInfo("id", "int"), ColumnInfo("v", "int"), ColumnInfo("ts", "timestamp"),
            ColumnInfo("g", "int")]
    change = RowChange("update", "app", "t", cols, ["id"], {"id": 1, "v": 1, "ts": None, "g": 2},
                       {"id": 1, "v": 2, "ts": None, "g": 4})
    opts = SqlOptions(on_update=lambda s, t: frozenset({"ts"}), generated=lambda s, t: frozenset({"g"}))
    assert update_statement(change, opts).sql == "UPDATE `app`.`t` SET `v` = 2, `ts` = NULL WHERE `id` = 1"


def test_decimals_inside_mysql_json_stay_decimals() -> None:
    doc = {"price": Decimal("1.50"), "list": [Decimal("-0.000001"), 0.1, True, None, "x'y", 7], "o": {}}
    assert json_literal(doc, "mysql") == (
        "CAST(JSON_OBJECT('price', CAST('1.50' AS DECIMAL(3,2)), 'list', JSON_ARRAY(CAST('-0.000001' AS "
        "DECIMAL(6,6)), 0.1e0, CAST('true' AS JSON), CAST('null' AS JSON), CAST('\"x''y\"' AS JSON), 7), 'o', "
        "JSON_OBJECT()) AS JSON)")
    assert json_literal({"a": 1.5}, "mysql") == "CAST('{\"a\": 1.5}' AS JSON)"


def test_statements_inside_a_row_transaction_keep_their_place() -> None:
    cols = [ColumnInfo("id", "int")]

    def rows(op: str, key: int) -> EventRecord:
        change = RowChange(op, "app", "t", cols, ["id"], None, {"id": key})
        return EventRecord(file="b.1", start_pos=4, end_pos=9, timestamp=0, server_id=1,
                           event_type="WriteRowsEvent", op=op, rows=[change])

    savepoint = EventRecord(file="b.1", start_pos=4, end_pos=9, timestamp=0, server_id=1, event_type="QueryEvent",
                            op=classify_query("SAVEPOINT `a`"), query="SAVEPOINT `a`")
    txn = Transaction(number=1, file="b.1", start_pos=4, end_pos=90, end_file="b.1", timestamp=0, server_id=1,
                      gtid=None, xid=1, events=[rows("insert", 1), savepoint, rows("insert", 2)])
    assert not txn.is_ddl
    assert [s.sql for s in transaction_statements(txn, SqlOptions())] == [
        "INSERT INTO `app`.`t` (`id`) VALUES (1)", "SAVEPOINT `a`", "INSERT INTO `app`.`t` (`id`) VALUES (2)"]


def test_trailing_comment_does_not_swallow_the_delimiter() -> None:
    txn = _ddl("CREATE TABLE t (a INT) -- the note")
    assert "CREATE TABLE t (a INT) -- the note\n;\n" in render_transaction(txn, transaction_statements(
        txn, SqlOptions()))


def test_legacy_timestamp_defaults_set_and_restored_only_when_off() -> None:
    txn = _ddl("CREATE TABLE t (ts TIMESTAMP)")
    txn.events[0].session = QuerySession(explicit_defaults_for_timestamp=False)
    text = render_transaction(txn, transaction_statements(txn, SqlOptions()))
    assert text.index("explicit_defaults_for_timestamp = 0") < text.index("CREATE TABLE")
    assert text.rstrip().endswith("SET @@session.explicit_defaults_for_timestamp = DEFAULT;")
    assert session_statements(QuerySession(explicit_defaults_for_timestamp=True)) == []


def test_rewrite_db_warns_about_names_it_cannot_reach() -> None:
    opts = SqlOptions(rewrite_db=(("app", "copy"),))
    qualified = transaction_statements(_ddl("CREATE TABLE `app`.t2 (a INT)"), opts)
    assert any(s.warning and "names database app" in s.warning for s in qualified)
    plain = transaction_statements(_ddl("CREATE TABLE t2 (app INT)"), opts)
    assert not any(s.warning for s in plain)
