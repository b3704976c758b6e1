"""The dry-run SQL of a forward replay from local files, decoded and written by several processes (`--jobs`).

Each chunk of whole transactions (binlog.read.local.chunks) is rendered in a child exactly as write_sql renders
it, but for the one thing that carries across transactions: the session's foreign_key_checks, which write_sql
sets before a transaction that needs another value than the one before it. A chunk does not know the value its
first row transaction follows, so it leaves that SET out and says where its first row transaction starts; the
parent, which knows the value in force, puts the SET in there when needed. Counts and warnings come back with the
chunk's state. The output is byte for byte the one-process output.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TextIO

from mysqlinspect.binlog.model import Transaction
from mysqlinspect.binlog.read import spill
from mysqlinspect.binlog.read.local.chunks import ChunkRender, Cut
from mysqlinspect.binlog.read.local.transactions import FileTransactions
from mysqlinspect.binlog.replay.apply import foreign_key_checks
from mysqlinspect.binlog.replay.replay import ReplayMode, ReplaySummary
from mysqlinspect.binlog.replay.sqlgen import (
    SqlOptions,
    WarningTap,
    iter_statements,
    render_transaction_parts,
    session_preamble,
)

INITIAL_FK_CHECKS = 0  # as session_preamble sets it


@dataclass
class ChunkSql:
    """What the parent needs of a rendered chunk."""

    summary: ReplaySummary = field(default_factory=lambda: ReplaySummary(mode="replay", executed=False))
    first_fk_checks: int | None = None  # the value its first row transaction needs (None: it has none)
    first_rows_at: int = 0  # output bytes before that transaction (DDL written before it)
    last_fk_checks: int | None = None
    written: int = 0


class SqlChunkRender(ChunkRender):
    """write_sql's rendering of one transaction, in a chunk."""

    def __init__(self, options: SqlOptions, mode: ReplayMode, cascades_logged: bool,
                 check: Callable[[Transaction], None]) -> None:
        self.options, self.mode, self.cascades_logged, self.check = options, mode, cascades_logged, check
        self.chunk = ChunkSql()

    def begin(self) -> None:
        self.chunk = ChunkSql()

    def state(self) -> ChunkSql:
        return self.chunk

    def __call__(self, txn: Transaction) -> Iterator[bytes]:
        self.check(txn)
        chunk = self.chunk
        if txn.is_ddl and self.mode.skip_ddl:
            chunk.summary.skipped_ddl += 1
            return
        if not (txn.row_count or txn.is_ddl):
            return
        setting = self._fk_setting(txn)
        statements = WarningTap(iter_statements(txn, self.options))
        for text in render_transaction_parts(txn, statements, spool_dir=spill.directory()):
            data = (setting + text).encode("utf-8", "surrogateescape")
            setting = ""
            chunk.written += len(data)
            yield data
        chunk.summary.count(txn, statements.warnings)

    def _fk_setting(self, txn: Transaction) -> str:
        """write_sql's SET before a row transaction needing another value; the chunk's first is the parent's."""
        if txn.is_ddl:
            return ""
        chunk, value = self.chunk, foreign_key_checks(txn, self.cascades_logged)
        previous, chunk.last_fk_checks = chunk.last_fk_checks, value
        if previous is None:
            chunk.first_fk_checks, chunk.first_rows_at = value, chunk.written
            return ""
        return f"SET SESSION foreign_key_checks = {value};\n" if value != previous else ""


class _Assembly:
    """The parent's side: the value in force between chunks, the merged summary."""

    def __init__(self, summary: ReplaySummary) -> None:
        self.summary, self.fk_checks = summary, INITIAL_FK_CHECKS

    def cuts(self, state: object) -> list[Cut]:
        """The SET the chunk's first row transaction needs after the value in force, where it starts."""
        assert isinstance(state, ChunkSql)
        self.summary.merge(state.summary)
        insert = b""
        if state.first_fk_checks is not None and state.first_fk_checks != self.fk_checks:
            insert = f"SET SESSION foreign_key_checks = {state.first_fk_checks};\n".encode()
        if state.last_fk_checks is not None:
            self.fk_checks = state.last_fk_checks
        return [(state.first_rows_at, insert, None)] if insert else []


def write_sql_chunked(reader: FileTransactions, render: SqlChunkRender, jobs: int, out: TextIO,
                      summary: ReplaySummary, chunk_bytes: int | None = None) -> str:
    """write_sql of a forward replay, the transactions decoded and rendered in chunks by `jobs` processes; the
    body's SHA-256 is returned."""
    started = time.monotonic()
    digest = hashlib.sha256()
    sink = out.buffer if hasattr(out, "buffer") else None
    out.flush()

    def emit(data: bytes) -> None:
        digest.update(data)
        if sink is not None:
            sink.write(data)
        else:
            out.write(data.decode("utf-8", "surrogateescape"))

    emit(session_preamble().encode())
    assembly = _Assembly(summary)
    for data in reader.rendered_in_chunks(render, assembly.cuts, jobs, chunk_bytes):
        emit(data)
    if sink is not None:
        sink.flush()
    summary.elapsed_seconds = time.monotonic() - started
    summary.sha256 = digest.hexdigest()
    return summary.sha256
