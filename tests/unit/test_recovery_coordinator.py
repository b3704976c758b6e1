"""The transaction coordinator's decision for each prepared transaction (recovery/coordinator.py `decide`), for
every case the servers distinguish: internal XIDs by the binlog's XID events, external XA transactions by the
XA events that follow (MySQL) or kept prepared (MariaDB)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mysqlinspect.binlog.source.file_scan import XaKey
from mysqlinspect.innodb.undo.segments import RecoveredTransaction
from mysqlinspect.innodb.undo.structs import Xid
from mysqlinspect.recovery.coordinator import COMMIT, ROLL_BACK, STAYS_PREPARED, BinlogRecovery, decide

SERVER_ID = (1).to_bytes(4, "little")


def internal(number: int) -> Xid:
    """The XID MySQL/MariaDB give a transaction of the binlog two-phase commit: "MySQLXid" + server id + number."""
    return Xid(1, b"MySQLXid" + SERVER_ID + number.to_bytes(8, "little"), b"")


def prepared(xid: Xid | None, in_tc: bool = False) -> RecoveredTransaction:
    return RecoveredTransaction(7, "prepared", 3, 3, [1], xid, in_tc, ["1:3"])


def binlog(xids: set[int] = frozenset(), crashed: bool = True, server: str = "mysql",  # type: ignore[assignment]
           xa_prepared: dict[XaKey, bool] | None = None, xa_completed: dict[XaKey, str] | None = None
           ) -> BinlogRecovery:
    return BinlogRecovery([Path("binlog.000001")], [], crashed, server, set(xids), xa_prepared or {},
                          xa_completed or {})


EXTERNAL = Xid(7, b"order-42", b"b1")
KEY = XaKey(7, b"order-42", b"b1")


@pytest.mark.parametrize(("trx", "log", "server", "fate"), [
    (prepared(None), binlog(), "mysql", ROLL_BACK),
    (prepared(internal(10)), binlog({10}), "mysql", COMMIT),
    (prepared(internal(10)), binlog({11}), "mysql", ROLL_BACK),
    (prepared(internal(10)), binlog({10}, server="mariadb"), "mariadb", COMMIT),
    (prepared(internal(10)), binlog({10}, crashed=False), "mysql", ROLL_BACK),
    (prepared(internal(10)), None, "mysql", ROLL_BACK),
    (prepared(EXTERNAL), binlog(), "mariadb", STAYS_PREPARED),
    (prepared(EXTERNAL), binlog(xa_completed={KEY: "commit"}), "mysql", COMMIT),
    (prepared(EXTERNAL), binlog(xa_completed={KEY: "rollback"}), "mysql", ROLL_BACK),
    (prepared(EXTERNAL), binlog(xa_prepared={KEY: True}), "mysql", COMMIT),
    (prepared(EXTERNAL), binlog(xa_prepared={KEY: False}), "mysql", STAYS_PREPARED),
    (prepared(EXTERNAL, in_tc=True), binlog(), "mysql", STAYS_PREPARED),
    (prepared(EXTERNAL), binlog(), "mysql", ROLL_BACK),
])
def test_fate_of_a_prepared_transaction(trx: RecoveredTransaction, log: BinlogRecovery | None, server: str,
                                        fate: str) -> None:
    assert decide(trx, log, server).fate == fate


def test_an_internal_xid_is_read_as_the_binlog_numbers_it() -> None:
    assert internal(123456789).my_xid == 123456789 and not internal(1).external
    assert EXTERNAL.external and EXTERNAL.my_xid == 0
