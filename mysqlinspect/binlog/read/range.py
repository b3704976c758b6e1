"""Range selection: what the user asked for (RangeSpec) and where the stream really starts and stops (ResolvedRange).

Start: the current write position (default), --start-file/--start-pos, --start-datetime (binary search over the
files' creation times, then transactions stamped earlier are skipped), --gtid (start at that transaction, found
through the files' Previous_gtids / Gtid_list), --include-gtids / --exclude-gtids (only or all but those).
Stop: --stop-file/--stop-pos (file-aware: transactions that *start* before it are read whole), --stop-datetime;
without --follow the read also stops at the end of the log as it was when the range was resolved.

`RangeGate` applies the GTID/time parts per transaction and says when a bounded include set is exhausted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import pymysql

from mysqlinspect.binlog.model import Transaction
from mysqlinspect.binlog.position import FIRST_EVENT_POS, BinlogPosition
from mysqlinspect.binlog.read.gtid import GtidSet, split_gtid
from mysqlinspect.binlog.read.server.stream import StopBound
from mysqlinspect.binlog.source.server_files import (
    ServerBinlogFile,
    WritePosition,
    binlog_files,
    check_file_available,
    probe_head,
    write_position,
)
from mysqlinspect.connection.settings import ConnectionSettings
from mysqlinspect.errors import UsageError

END_OF_FILE = 2**63


@dataclass
class StartSpec:
    file: str | None = None
    pos: int | None = None
    datetime: dt.datetime | None = None
    gtid: str | None = None  # start at (and include) the transaction with this GTID

    @property
    def given(self) -> bool:
        return any(v is not None for v in (self.file, self.pos, self.datetime, self.gtid))


@dataclass
class StopSpec:
    file: str | None = None
    pos: int | None = None
    datetime: dt.datetime | None = None


@dataclass
class RangeSpec:
    start: StartSpec = field(default_factory=StartSpec)
    stop: StopSpec = field(default_factory=StopSpec)
    include_gtids: str | None = None
    exclude_gtids: str | None = None
    follow: bool = False

    def validate(self) -> None:
        if self.start.pos is not None and self.start.file is None:
            raise UsageError("--start-pos needs --start-file")
        if self.stop.pos is not None and self.stop.file is None:
            raise UsageError("--stop-pos needs --stop-file")
        starts = sum(x is not None for x in (self.start.file, self.start.datetime, self.start.gtid))
        if starts > 1:
            raise UsageError("give only one of --start-file, --start-datetime and --gtid")
        if self.start.pos is not None and self.start.pos < FIRST_EVENT_POS:
            raise UsageError(f"--start-pos must be at least {FIRST_EVENT_POS} (the first event of a file)")
        if self.start.datetime and self.stop.datetime and self.stop.datetime <= self.start.datetime:
            raise UsageError("--stop-datetime must be after --start-datetime")

    @property
    def uses_gtids(self) -> bool:
        return bool(self.start.gtid or self.include_gtids or self.exclude_gtids)


@dataclass
class ResolvedRange:
    """Concrete coordinates for a stream plus the per-transaction gate."""

    flavor: str
    start: BinlogPosition
    stop: StopBound
    follow: bool
    end_at_start: BinlogPosition  # the write position when resolved
    files: list[ServerBinlogFile]
    gtid_executed: str | None
    start_timestamp: float | None = None
    start_gtid: str | None = None
    include: GtidSet | None = None
    exclude: GtidSet | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """A bounded range that starts at or past the end of the log has nothing to read."""
        return not self.follow and self.start >= self.end_at_start

    @property
    def uses_gate(self) -> bool:
        """Whether transactions need the per-transaction gate (GTID sets, --gtid, --start-datetime)."""
        return any(x is not None for x in (self.start_timestamp, self.start_gtid, self.include, self.exclude))

    def gate(self) -> RangeGate:
        expected = None
        if self.include is not None and not self.follow:
            executed = _executed_set(self.gtid_executed, self.flavor)
            expected = self.include.intersection(executed) if executed is not None else None
        return RangeGate(start_timestamp=self.start_timestamp, start_gtid=self.start_gtid, include=self.include,
                         exclude=self.exclude, expected=expected)

    def to_dict(self) -> dict[str, object]:
        return {
            "start": self.start.to_dict(),
            "stop_position": self.stop.position.to_dict() if self.stop.position else None,
            "stop_timestamp": self.stop.timestamp,
            "follow": self.follow,
            "end_at_start": self.end_at_start.to_dict(),
            "start_timestamp": self.start_timestamp,
            "start_gtid": self.start_gtid,
            "include_gtids": str(self.include) if self.include is not None else None,
            "exclude_gtids": str(self.exclude) if self.exclude is not None else None,
        }


@dataclass
class RangeGate:
    """Per-transaction admission for the parts of a range a position cannot express."""

    start_timestamp: float | None = None
    start_gtid: str | None = None
    include: GtidSet | None = None
    exclude: GtidSet | None = None
    expected: GtidSet | None = None
    started: bool = False
    _seen: GtidSet | None = None

    def admit(self, txn: Transaction) -> bool:
        if self.start_gtid is not None and not self.started:
            if txn.gtid is None or not _same_gtid(txn.gtid, self.start_gtid):
                return False
            self.started = True
        if self.start_timestamp is not None and txn.timestamp < self.start_timestamp:
            return False
        if self.include is not None and (txn.gtid is None or not self.include.contains(txn.gtid)):
            return False
        if self.exclude is not None and txn.gtid is not None and self.exclude.contains(txn.gtid):
            return False
        if self.expected is not None and txn.gtid is not None:
            if self._seen is None:
                self._seen = GtidSet(flavor=self.expected.flavor)
            self._seen.add_gtid(txn.gtid)
        return True

    def exhausted(self) -> bool:
        """True once every GTID of a bounded --include-gtids set has been read."""
        if self.expected is None:
            return False
        if self.expected.is_empty():
            return True
        return self._seen is not None and self.expected.issubset(self._seen)


def _same_gtid(a: str, b: str) -> bool:
    try:
        return split_gtid(a) == split_gtid(b)
    except ValueError:
        return a == b


def _executed_set(text: str | None, flavor: str) -> GtidSet | None:
    if text is None:
        return None
    if flavor == "mariadb":
        return GtidSet.from_mariadb_position(text)
    return GtidSet.parse(text, "mysql")


def parse_datetime(text: str) -> dt.datetime:
    """'YYYY-MM-DD[ HH:MM[:SS[.ffffff]]]' or ISO 8601 with an offset; without an offset it is local time."""
    value = text.strip().replace("Z", "+00:00")
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(f"not a date-time: {text!r} (use 'YYYY-MM-DD HH:MM:SS', optionally with +HH:MM)") from None
    return parsed if parsed.tzinfo is not None else parsed.astimezone()


def resolve_range(conn: pymysql.connections.Connection, settings: ConnectionSettings, spec: RangeSpec,
                  flavor: str, warn: Callable[[str], None] | None = None) -> ResolvedRange:
    """Turn a RangeSpec into stream coordinates (queries the server; probes file heads when needed)."""
    spec.validate()
    files = binlog_files(conn)
    end = write_position(conn)
    rng = ResolvedRange(flavor=flavor, start=end.position, stop=StopBound(), follow=spec.follow,
                        end_at_start=end.position, files=files, gtid_executed=_gtid_state(conn, end, flavor))
    rng.include = GtidSet.parse(spec.include_gtids, flavor) if spec.include_gtids else None
    rng.exclude = GtidSet.parse(spec.exclude_gtids, flavor) if spec.exclude_gtids else None
    _resolve_start(conn, settings, spec, rng, files, end)
    _resolve_stop(spec, rng, files)
    if rng.empty and warn is not None and spec.start.given:
        warn(f"the range starts at {rng.start}, at or past the end of the binary log ({end.position}): "
             "nothing to read (use --follow to wait for new events)")
    if spec.start.gtid is not None and not spec.follow and warn is not None:
        executed = _executed_set(rng.gtid_executed, flavor)
        if executed is not None and not executed.contains(spec.start.gtid):
            warn(f"--gtid {spec.start.gtid} is not in the server's binary log ({rng.gtid_executed or 'empty'}): "
                 "nothing to read (use --follow to wait for it)")
    return rng


def _gtid_state(conn: pymysql.connections.Connection, end: WritePosition, flavor: str) -> str | None:
    if flavor != "mariadb":
        return end.gtid_executed
    with conn.cursor() as cur:
        cur.execute("SELECT @@global.gtid_binlog_pos")
        row = cur.fetchone()
    return str(row[0]) if row and row[0] is not None else None


def _resolve_start(conn: pymysql.connections.Connection, settings: ConnectionSettings, spec: RangeSpec,
                   rng: ResolvedRange, files: list[ServerBinlogFile], end: WritePosition) -> None:
    start = spec.start
    if start.file is not None:
        check_file_available(files, start.file)
        rng.start = BinlogPosition(start.file, start.pos if start.pos is not None else FIRST_EVENT_POS)
        size = next(f.size for f in files if f.name == start.file)
        if start.pos is not None and start.pos > size:
            rng.notes.append(f"--start-pos {start.pos} is past the end of {start.file} ({size} bytes)")
            rng.start = BinlogPosition(start.file, size)
    elif start.datetime is not None:
        rng.start_timestamp = start.datetime.timestamp()
        rng.start = BinlogPosition(_file_active_at(settings, files, rng.start_timestamp, rng.flavor),
                                   FIRST_EVENT_POS)
    elif start.gtid is not None:
        rng.start_gtid = start.gtid
        name = _first_file_with(settings, files, rng, lambda prev: GtidSet.parse(start.gtid, rng.flavor)
                                .issubset(prev))
        rng.start = BinlogPosition(name, FIRST_EVENT_POS)
    elif rng.include is not None or rng.exclude is not None:
        if rng.include is not None:
            wanted = rng.include
            name = _first_file_with(settings, files, rng, lambda prev: not wanted.intersection(prev).is_empty())
        else:
            excluded = rng.exclude
            assert excluded is not None
            name = _first_file_with(settings, files, rng, lambda prev: not prev.difference(excluded).is_empty())
        rng.start = BinlogPosition(name, FIRST_EVENT_POS)
    else:
        rng.start = end.position


def _resolve_stop(spec: RangeSpec, rng: ResolvedRange, files: list[ServerBinlogFile]) -> None:
    stop = spec.stop
    if stop.file is not None:
        check_file_available(files, stop.file)
        rng.stop.position = BinlogPosition(stop.file, stop.pos if stop.pos is not None else END_OF_FILE)
        if spec.start.file is not None and rng.stop.position <= rng.start:
            given = stop.file + (f":{stop.pos}" if stop.pos is not None else "")
            raise UsageError(f"the stop ({given}) is not after the start ({rng.start}): nothing to read")
    if stop.datetime is not None:
        rng.stop.timestamp = int(stop.datetime.timestamp())
    if not spec.follow and (rng.stop.position is None or rng.end_at_start < rng.stop.position):
        rng.stop.position = rng.end_at_start


def _file_active_at(settings: ConnectionSettings, files: list[ServerBinlogFile], when: float, flavor: str) -> str:
    """The last file created at or before `when` (binary search over Format_description times)."""
    lo, hi = 0, len(files) - 1
    best = 0
    while lo <= hi:
        mid = (lo + hi) // 2
        created = probe_head(settings, files[mid].name, flavor).created
        if created is not None and created <= when:
            best = mid
            lo = mid + 1
        else:
            hi = mid - 1
    return files[best].name


def _first_file_with(settings: ConnectionSettings, files: list[ServerBinlogFile], rng: ResolvedRange,
                     covered: Callable[[GtidSet], bool]) -> str:
    """The first file i whose *successor's* GTID state satisfies `covered` (monotone over files):
    the file where the wanted GTIDs begin. The state after the last file is the executed set."""

    def state_after(i: int) -> GtidSet:
        if i + 1 < len(files):
            text = probe_head(settings, files[i + 1].name, rng.flavor).previous_gtids
        else:
            text = rng.gtid_executed
        parsed = _executed_set(text or "", rng.flavor)
        return parsed if parsed is not None else GtidSet(flavor=rng.flavor)

    lo, hi = 0, len(files) - 1
    found = len(files) - 1
    while lo <= hi:
        mid = (lo + hi) // 2
        if covered(state_after(mid)):
            found = mid
            hi = mid - 1
        else:
            lo = mid + 1
    return files[found].name
