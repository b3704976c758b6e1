"""MySQL JSON documents holding DECIMAL values, as replay SQL writes them, read back exactly on the server
(issue 9 item 8): nested, large, negative, exponent-form and zero-scale decimals; the same documents as text
for a MariaDB target."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from mysqlinspect.binlog.replay.sqlliteral import MYSQL_TO_MARIADB, json_literal

pytestmark = pytest.mark.live

DOCUMENTS: list[Any] = [
    Decimal("1.50"),
    Decimal("-0.00012"),
    Decimal("1E+5"),
    Decimal("-1.23E+3"),
    Decimal("0E-10"),
    Decimal("12345678901234567890123456789012345.123456789012345678901234567890"),
    {"a": {"b": [Decimal("-99999999999999999999.99"), 1.5, 2, None, True, "x"]}},
    [Decimal("0.1"), [Decimal("-0.000000000000000000000000000001")], {"k": Decimal("7")}],
]


def _server_text(conn: Any, literal: str) -> Any:
    with conn.cursor() as cur:
        cur.execute(f"SELECT CAST({literal} AS CHAR)")
        return json.loads(cur.fetchone()[0], parse_float=Decimal)


def _types(conn: Any, literal: str) -> str:
    with conn.cursor() as cur:
        cur.execute(f"SELECT JSON_TYPE({literal})")
        return str(cur.fetchone()[0])


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, Decimal) or (isinstance(value, int) and not isinstance(value, bool)):
        return Decimal(value)
    return value


@pytest.mark.parametrize("document", DOCUMENTS)
def test_json_decimals_read_back_exactly(server: Any, document: Any) -> None:
    conn = server.connect()
    try:
        if server.flavor == "mariadb":
            literal = json_literal(document, MYSQL_TO_MARIADB)
            with conn.cursor() as cur:
                cur.execute(f"SELECT {literal}, JSON_VALID({literal})")
                text, valid = cur.fetchone()
            assert valid == 1
            assert _plain(json.loads(text, parse_float=Decimal)) == _plain(document)
            return
        literal = json_literal(document, "mysql")
        assert _plain(_server_text(conn, literal)) == _plain(document)
        if isinstance(document, Decimal):
            assert _types(conn, literal) == "DECIMAL"
    finally:
        conn.close()
