"""The fast row decoder (mysqlinspect.binlog.decode.library.fastrows) gives exactly the library's records for every
type."""

from __future__ import annotations

from typing import Any

import pytest

from mysqlinspect.binlog.decode.library import fastrows
from mysqlinspect.binlog.position import BinlogPosition
from mysqlinspect.binlog.read.server.stream import BinlogStream, StopBound, StreamOptions
from tests.live.replay_support import binlog_position, create_schema, run_workload

pytestmark = pytest.mark.live


def read_rows(server: Any, start: tuple[str, int], stop: tuple[str, int], db: str) -> list[Any]:
    out = []
    options = StreamOptions(decoder="library")
    with BinlogStream(server.settings(), BinlogPosition(*start), stop=StopBound(BinlogPosition(*stop)),
                      options=options) as stream:
        for txn in stream.transactions():
            for event in txn.events:
                if event.schema == db:
                    out += [(r.op, r.table, r.before, r.after) for r in event.rows]
    return out


def test_fast_decoder_matches_library(server: Any, db: str) -> None:
    fastrows.install()
    conn = server.connect()
    create_schema(conn, db, server.flavor)
    start = binlog_position(conn)
    run_workload(conn, db, seed=3, transactions=60, flavor=server.flavor)
    stop = binlog_position(conn)
    conn.close()
    fastrows.ENABLED = False
    try:
        library = read_rows(server, start, stop, db)
    finally:
        fastrows.ENABLED = True
    before = fastrows.COUNTS["fast"]
    fast = read_rows(server, start, stop, db)
    assert fastrows.COUNTS["fast"] - before > 100  # the fast path was taken
    assert len(fast) > 100
    assert fast == library
