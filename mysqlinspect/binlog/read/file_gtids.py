"""Where GTID ranges start in local files: the first file that can hold the wanted GTIDs, found from each file's
GTID state before it (Previous_gtids / Gtid_list, read from its first bytes), as the server path finds it
(read/range.py `_first_file_with`). Files before it are not read at all, so `--gtid` deep into a long sequence
does not decode everything before it.

Only `--gtid` and `--include-gtids` move the start (they admit GTID transactions only); `--exclude-gtids` admits
anonymous transactions too, so it reads every file. Any file without a GTID state keeps the first file.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from mysqlinspect.binlog.read.gtid import GtidSet
from mysqlinspect.binlog.read.range import RangeGate
from mysqlinspect.binlog.source.local_summary import gtid_state_before, read_head
from mysqlinspect.errors import MysqlInspectError


def first_file_for(files: Sequence[Path], gate: RangeGate) -> int:
    """The index of the first file whose transactions can be admitted by the gate's start GTID / include set."""
    wanted = _wanted(gate)
    if wanted is None or len(files) < 2:
        return 0
    flavor = read_head(files[0]).flavor
    for i in range(len(files) - 1):
        state = _state(gtid_state_before(files[i + 1]), flavor)
        if state is None:
            return 0
        if wanted(state):  # the state after file i reaches the wanted GTIDs: they begin in file i (or earlier)
            return i
    return len(files) - 1


def _wanted(gate: RangeGate) -> Callable[[GtidSet], bool] | None:
    if gate.start_gtid is not None and not gate.started:
        start = GtidSet.parse(gate.start_gtid)
        return start.issubset
    include = gate.include
    if include is not None:
        return lambda state: not include.intersection(state).is_empty()
    return None


def _state(text: str | None, flavor: str) -> GtidSet | None:
    if text is None:
        return None
    try:
        return GtidSet.from_mariadb_position(text) if flavor == "mariadb" else GtidSet.parse(text, "mysql")
    except MysqlInspectError:
        return None
