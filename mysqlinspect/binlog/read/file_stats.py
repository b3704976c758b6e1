"""`binlog stats` over local binlog files: the server path's header scan, fed from the files instead of a dump.

Without a range or filters every event goes through the same tight loop as from a server (fastscan.frame_stats);
with one, transactions come from FileTransactions in header mode (rows counted from the Table_map's column
types, no values decoded) or, with `decode`, fully decoded. Each file ends at its last complete transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from mysqlinspect.binlog.read.fastscan import frame_stats
from mysqlinspect.binlog.read.files import FileTransactions
from mysqlinspect.binlog.read.filters import EventFilter
from mysqlinspect.binlog.read.range import RangeSpec
from mysqlinspect.binlog.read.stats import StatsAccumulator
from mysqlinspect.binlog.read.stream import StopBound
from mysqlinspect.binlog.source.local import FileEnd, LocalBinlogSource


def file_stats(paths: Sequence[str | Path], spec: RangeSpec, event_filter: EventFilter, acc: StatsAccumulator,
               decode: bool = False, verify_checksum: bool = True,
               warn: Callable[[str], None] = lambda message: None) -> list[FileEnd]:
    """Add the files' transactions to `acc`; how each file read ends."""
    if decode or event_filter.active or spec.start.given or spec.uses_gtids or _stop_given(spec):
        reader = FileTransactions(paths, spec, event_filter, verify_checksum=verify_checksum, warn=warn,
                                  header_only=not decode, count_rows=acc.rows_counted)
        acc.add_all(reader)
        unmet = reader.unmet_start()
        if unmet:
            warn(unmet)
        return reader.ends
    source = LocalBinlogSource(paths, verify_checksum=verify_checksum)
    frame_stats(source.frames(), StopBound(), acc, 0, lambda: 0)
    return source.ends


def file_range_dict(spec: RangeSpec, ends: list[FileEnd]) -> dict[str, Any]:
    """The `range` of a stats result read from files: the files as read and the range options given."""
    return {"files": [e.to_dict() for e in ends],
            "start_file": spec.start.file, "start_pos": spec.start.pos,
            "start_datetime": spec.start.datetime.isoformat() if spec.start.datetime else None,
            "start_gtid": spec.start.gtid, "include_gtids": spec.include_gtids, "exclude_gtids": spec.exclude_gtids,
            "stop_file": spec.stop.file, "stop_pos": spec.stop.pos,
            "stop_datetime": spec.stop.datetime.isoformat() if spec.stop.datetime else None}


def _stop_given(spec: RangeSpec) -> bool:
    return any(v is not None for v in (spec.stop.file, spec.stop.pos, spec.stop.datetime))
