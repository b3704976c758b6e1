"""`binlog stats` over local binlog files: the server path's header scan, fed from the files instead of a dump.

Without filters, GTID ranges, datetimes or a --stop-pos, every event goes through the same tight loop as from a
server (fastscan.frame_stats; --start-file/--start-pos and --stop-file only choose the events fed to it, as the
server's dump starts at the start position); otherwise transactions come from FileTransactions in header mode
(rows counted from the Table_map's column types, no values decoded) or, with `decode`, fully decoded. Each file
ends at its last complete transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from mysqlinspect.binlog.position import FIRST_EVENT_POS
from mysqlinspect.binlog.read.fastscan import frame_stats
from mysqlinspect.binlog.read.filters import EventFilter
from mysqlinspect.binlog.read.local.transactions import FileTransactions
from mysqlinspect.binlog.read.range import RangeSpec
from mysqlinspect.binlog.read.server.stream import StopBound
from mysqlinspect.binlog.read.stats import StatsAccumulator
from mysqlinspect.binlog.source.files import display_name
from mysqlinspect.binlog.source.local import FileEnd
from mysqlinspect.binlog.source.rawdump import Frame


def file_stats(paths: Sequence[str | Path], spec: RangeSpec, event_filter: EventFilter, acc: StatsAccumulator,
               decode: bool = False, verify_checksum: bool = True,
               warn: Callable[[str], None] = lambda message: None) -> list[FileEnd]:
    """Add the files' transactions to `acc`; how each file read ends."""
    reader = FileTransactions(paths, spec, event_filter, verify_checksum=verify_checksum, warn=warn,
                              header_only=not decode, count_rows=acc.rows_counted)
    if not decode and not event_filter.active and not _needs_transactions(spec):
        frame_stats(_frames_in_range(reader), StopBound(), acc, 0, lambda: 0)
        return reader.ends
    acc.add_all(reader)
    unmet = reader.unmet_start()
    if unmet:
        warn(unmet)
    return reader.ends


def _needs_transactions(spec: RangeSpec) -> bool:
    return spec.uses_gtids or any(v is not None for v in (spec.start.datetime, spec.stop.datetime, spec.stop.pos))


def _frames_in_range(reader: FileTransactions) -> Iterator[Frame]:
    """The frames of the files the reader reads (from --start-file on), from --start-pos in the first one and up
    to the end of --stop-file."""
    first_pos, stop = reader.range.start.pos, reader.range.stop.position
    last = display_name(Path(stop.file)) if stop is not None else None
    for i, path in enumerate(reader.source.files):
        frames = reader.source.read_file(path, as_frames=True)
        if i == 0 and first_pos > FIRST_EVENT_POS:
            frames = (f for f in frames if f[1] >= first_pos)
        yield from frames
        if display_name(path) == last:
            return


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
