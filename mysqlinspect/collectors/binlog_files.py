"""`binlog list FILE|DIR...`: the server variant's listing, read from local binlog files with no server.

Per file: size, creation and first/last event times, the GTID state before it (Previous_gtids / Gtid_list) and
the GTIDs of its complete transactions, plus what only the files tell: server id and version (Format_description),
checksum, and how it ends (closed, still open or not closed cleanly, cut: the valid end and what follows).
Notes name files missing from a numbered sequence and GTIDs missing between consecutive files.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mysqlinspect.binlog.read.gtid import GtidSet
from mysqlinspect.binlog.source.files import resolve_inputs, sequence_gaps
from mysqlinspect.binlog.source.local_summary import LocalFileSummary, summarize_file
from mysqlinspect.collectors.binlog import BinlogFileInfo, BinlogListing
from mysqlinspect.errors import MysqlInspectError


@dataclass
class LocalBinlogFileInfo(BinlogFileInfo):
    path: str
    server_id: int | None  # None (and server_version, checksum): an encrypted MySQL binlog
    server_version: str | None
    checksum: str | None
    closed: bool  # the server closed it (in-use flag clear)
    complete: bool  # valid data reaches the end of the file
    valid_end: int
    last_event: str | None  # rotate, stop, or None
    stop_reason: str | None  # what follows valid_end
    trailing_events: int
    state: str  # one line: FileEnd.describe()


def collect_file_listing(paths: Sequence[str | Path], verify_checksum: bool = True) -> BinlogListing:
    files = resolve_inputs([str(p) for p in paths])
    summaries = [summarize_file(p, verify_checksum) for p in files]
    flavor = next((s.head.flavor for s in summaries if s.head is not None), "mysql")
    listing = BinlogListing(flavor=flavor, files=[], total_bytes=sum(s.end.size for s in summaries),
                            write_position=None, settings={}, purge={}, source="files")
    listing.notes += [f"{name} is missing from the sequence" for name in sequence_gaps(files)]
    listing.notes += [s.encrypted for s in summaries if s.encrypted]
    state: GtidSet | None = None
    for i, summary in enumerate(summaries):
        before = _state(flavor, summary.previous_gtids)
        if state is not None and before is not None and not _same(state, before):
            listing.notes.append(_gap_note(summaries[i - 1], summary, state, before))
        gtids = GtidSet(flavor=flavor)
        for gtid in summary.gtids:
            gtids.add_gtid(gtid)
        listing.files.append(_info(summary, gtids, active=i == len(summaries) - 1 and not summary.end.closed))
        state = (before or GtidSet(flavor=flavor)).union(gtids) if before is not None or summary.gtids else None
    listing.gtid_state = _state_text(state)
    return listing


def _info(s: LocalFileSummary, gtids: GtidSet, active: bool) -> LocalBinlogFileInfo:
    first, last = gtids.first_and_last()
    end, head = s.end, s.head
    return LocalBinlogFileInfo(
        name=end.file, size_bytes=end.size, encrypted=s.encrypted is not None,
        created=head.created if head else None,
        first_event_time=s.first_event_time, last_event_time=s.last_event_time, previous_gtids=s.previous_gtids,
        gtids=None if s.encrypted else str(gtids), first_gtid=first, last_gtid=last, active=active, path=end.path,
        server_id=head.server_id if head else None, server_version=head.server_version if head else None,
        checksum=head.checksum if head else None,
        closed=end.closed, complete=end.complete, valid_end=end.valid_end, last_event=end.last_event or None,
        stop_reason=end.stop_reason or None, trailing_events=end.trailing_events, state=end.describe())


def _state(flavor: str, text: str | None) -> GtidSet | None:
    if text is None:
        return None
    try:
        return GtidSet.from_mariadb_position(text) if flavor == "mariadb" else GtidSet.parse(text, "mysql")
    except MysqlInspectError:
        return None


def _same(after_previous: GtidSet, before_next: GtidSet) -> bool:
    """Whether the state after one file is the state before the next (MariaDB: per domain, up to the last seq)."""
    if before_next.flavor == "mariadb":
        return after_previous.mariadb_position() == before_next.mariadb_position()
    return str(after_previous) == str(before_next)


def _gap_note(prev: LocalFileSummary, summary: LocalFileSummary, state: GtidSet, before: GtidSet) -> str:
    missing = before.difference(state)
    what = f"GTIDs {missing} are in no file read" if not missing.is_empty() else "the GTID states do not follow"
    return (f"{summary.end.file} starts at GTID state {summary.previous_gtids or '(empty)'}, but "
            f"{prev.end.file} ends at {_state_text(state)}: {what} (a file missing, or not from the same server?)")


def _state_text(state: GtidSet | None) -> str | None:
    if state is None:
        return None
    return state.mariadb_position() if state.flavor == "mariadb" else str(state)
