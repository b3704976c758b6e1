"""Which logged parent changes cascaded to child rows a MariaDB binlog does not hold (flashback refusal)."""

from __future__ import annotations

import pytest

from mysqlinspect.binlog.model import EventRecord, RowChange, Transaction
from mysqlinspect.binlog.replay.cascades import CascadingKey, refusing_unlogged_cascades, unlogged_cascades
from mysqlinspect.errors import DataError

DELETE_ONLY = CascadingKey("d.fk_city_country", "d.city", ("d", "country"), ("country_id",), True, False)
BOTH = CascadingKey("d.fk_x", "d.x", ("d", "country"), ("code",), True, True)
KEYS = {("d", "country"): [DELETE_ONLY, BOTH]}


def change(op: str, before: dict[str, object] | None, after: dict[str, object] | None,
           table: str = "country") -> RowChange:
    return RowChange(op, "d", table, [], ["country_id"], before, after)


def test_a_parent_delete_cascades_through_every_on_delete_key() -> None:
    assert unlogged_cascades(change("delete", {"country_id": 1, "code": "CI"}, None), KEYS) == [DELETE_ONLY, BOTH]


def test_an_update_cascades_only_when_it_changes_the_referenced_key() -> None:
    assert unlogged_cascades(change("update", {"country_id": 1, "code": "CI"}, {"country_id": 1, "code": "CI"}),
                             KEYS) == []
    assert unlogged_cascades(change("update", {"country_id": 1, "code": "CI"}, {"country_id": 1, "code": "IC"}),
                             KEYS) == [BOTH]


def test_inserts_and_other_tables_never_cascade() -> None:
    assert unlogged_cascades(change("insert", None, {"country_id": 1, "code": "CI"}), KEYS) == []
    assert unlogged_cascades(change("delete", {"country_id": 1}, None, table="city"), KEYS) == []


def test_the_refusal_names_the_constraint_and_the_position() -> None:
    row = change("delete", {"country_id": 1, "code": "CI"}, None)
    txn = Transaction(1, "bin.000001", 400, 500, "bin.000001", 0, 1, None, None,
                      events=[EventRecord("bin.000001", 420, 480, 0, 1, "DeleteRowsEvent", rows=[row])])
    with pytest.raises(DataError, match=r"fk_city_country.*MariaDB does not log cascaded changes"):
        list(refusing_unlogged_cascades([txn], [DELETE_ONLY]))
    assert list(refusing_unlogged_cascades([txn], [])) == [txn]
