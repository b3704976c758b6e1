"""`mysqlinspect binlog tail FILE|DIR...`: the same output as from a server, read from local binlog files."""

from __future__ import annotations

import sys
from functools import partial
from typing import Any

from mysqlinspect.binlog.read.files import FileTransactions, check_file_range
from mysqlinspect.binlog.read.filters import EventFilter
from mysqlinspect.binlog.read.range import RangeSpec
from mysqlinspect.binlog.source.local import FileEnd
from mysqlinspect.cli.context import AppContext
from mysqlinspect.errors import UsageError
from mysqlinspect.render.binlog_json import transaction_document
from mysqlinspect.render.binlog_jsonl import transaction_jsonl
from mysqlinspect.render.binlog_tail import render_transaction


def tail_files(app: AppContext, files: tuple[str, ...], range_spec: RangeSpec, event_filter: EventFilter,
               fmt: str, all_events: bool, rows_only: bool, verify_checksum: bool, checkpoint: str | None,
               parallel: tuple[int, int | None] = (1, None)) -> None:
    """`parallel`: (--jobs, bytes per chunk or None); only --format jsonl decodes in several processes."""
    if checkpoint:
        raise UsageError("--checkpoint is not supported on local files yet")
    check_file_range(range_spec)
    reader = FileTransactions(files, range_spec, event_filter, verify_checksum=verify_checksum, warn=app.warn)
    if fmt == "json":
        docs = [transaction_document(txn, all_events) for txn in reader]
        app.emit_json({"files": [_end_dict(e) for e in reader.ends], "transactions": docs,
                       "summary": {"transactions": len(docs), "rows": sum(d["rows"] for d in docs),
                                   "size_bytes": sum(d["size_bytes"] for d in docs)}})
    elif fmt == "jsonl":
        from mysqlinspect.cli.binlog_tail import write_jsonl_bytes

        render = partial(transaction_jsonl, all_events=all_events, with_summary=not rows_only)
        jobs, chunk_bytes = parallel
        for data in reader.rendered(render, jobs, chunk_bytes):
            write_jsonl_bytes(sys.stdout, data)
        sys.stdout.flush()
    else:
        count = 0
        for txn in reader:
            count += 1
            app.emit(render_transaction(txn, all_events))
        sys.stdout.flush()
        app.err.print(f"{count} transaction{'s' if count != 1 else ''}", style="dim", highlight=False)
    for end in reader.ends:
        if not end.complete:
            app.warn(end.describe())


def _end_dict(end: FileEnd) -> dict[str, Any]:
    return {"file": end.file, "path": end.path, "size": end.size, "valid_end": end.valid_end,
            "complete": end.complete, "closed": end.closed, "last_event": end.last_event or None,
            "stop_reason": end.stop_reason or None, "trailing_events": end.trailing_events}
