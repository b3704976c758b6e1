"""Where GTID ranges start in local files: the first file that can hold the wanted GTIDs, found from each file's
GTID state before it (Previous_gtids / Gtid_list, read from its first bytes), as the server path finds it
(read/range.py `_first_file_with`). Files before it are not read at all, so `--gtid` deep into a long sequence
does not decode everything before it.

Only `--gtid` and `--include-gtids` move the start (they admit GTID transactions only); `--exclude-gtids` admits
anonymous transactions too, so it reads every file. Any file without a readable GTID state keeps the first file.
MariaDB states are compared per replication domain (a Gtid_list names the last GTID of each domain, whichever
server wrote it; sequence numbers grow per domain).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from mysqlinspect.binlog.read.gtid import GtidSet
from mysqlinspect.binlog.read.range import RangeGate
from mysqlinspect.binlog.source.local_summary import gtid_state_before, read_head
from mysqlinspect.errors import MysqlInspectError

Covered = Callable[[str], bool]  # the GTID state before the next file (its text) -> the wanted GTIDs begin here


def first_file_for(files: Sequence[Path], gate: RangeGate) -> int:
    """The index of the first file whose transactions can be admitted by the gate's start GTID / include set."""
    wanted = _wanted(gate)
    if wanted is None or len(files) < 2:
        return 0
    covered = _mariadb_covered(wanted) if read_head(files[0]).flavor == "mariadb" else _mysql_covered(wanted)
    for i in range(len(files) - 1):
        state = gtid_state_before(files[i + 1])
        try:
            if state is None:
                return 0
            if covered(state):  # the state after file i reaches the wanted GTIDs: they begin in file i (or before)
                return i
        except (MysqlInspectError, ValueError):  # a state in a notation we do not know: read every file
            return 0
    return len(files) - 1


def _wanted(gate: RangeGate) -> tuple[GtidSet, bool] | None:
    """The wanted GTIDs, and whether all of them must be reached (a start GTID) or any (an include set)."""
    if gate.start_gtid is not None and not gate.started:
        return GtidSet.parse(gate.start_gtid), True
    if gate.include is not None:
        return gate.include, False
    return None


def _mysql_covered(wanted: tuple[GtidSet, bool]) -> Covered:
    gtids, every = wanted

    def covered(state: str) -> bool:
        parsed = GtidSet.parse(state, "mysql")
        return gtids.issubset(parsed) if every else not gtids.intersection(parsed).is_empty()

    return covered


def _mariadb_covered(wanted: tuple[GtidSet, bool]) -> Covered:
    gtids, every = wanted
    lowest = [(int(key.split("-")[0]), intervals[0][0]) for key, intervals in gtids.sources.items() if intervals]

    def covered(state: str) -> bool:
        tops: dict[int, int] = {}
        for item in filter(None, (part.strip() for part in state.split(","))):
            domain, _, seq = item.split("-")
            tops[int(domain)] = max(tops.get(int(domain), 0), int(seq))
        reached = [tops.get(domain, 0) >= seq for domain, seq in lowest]
        return all(reached) if every else any(reached)

    return covered
