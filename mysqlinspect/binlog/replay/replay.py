"""Replay orchestration: transactions in (forwards, or inverted newest-first for flashback), SQL text or an applied
target out, with a summary of what was done.

Dry run: SQL goes to a stream, or to a file written as a temporary sibling and renamed once complete, headed by a
summary (source, range, counts per table and operation, SHA-256 of the body).
Execute: one source transaction per target transaction via apply.Applier, resumable from the target checkpoint.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from mysqlinspect.binlog.decode.library import fastrows
from mysqlinspect.binlog.model import Transaction
from mysqlinspect.binlog.position import BinlogPosition
from mysqlinspect.binlog.read import spill
from mysqlinspect.binlog.read.checkpoint import fsync_directory, write_json_atomic
from mysqlinspect.binlog.replay.apply import Applier, ApplyThread, SourcePoint, foreign_key_checks
from mysqlinspect.binlog.replay.flashback import SpillStack, flashback_transactions, spill_range
from mysqlinspect.binlog.replay.precheck import precheck
from mysqlinspect.binlog.replay.sqlgen import (
    SqlOptions,
    Statement,
    WarningTap,
    iter_statements,
    render_transaction_parts,
    session_preamble,
    transaction_statements,
)
from mysqlinspect.errors import DataError, UsageError

OPS = ("insert", "update", "delete")
PIPELINE_ROWS = 50_000  # row changes decoded and waiting for the apply thread, at most (memory)

fastrows.install()  # faster row decoding; tells the JSON null document from SQL NULL


@dataclass
class ReplaySummary:
    """What a replay produced or applied (JSON: to_dict)."""

    mode: str  # replay | flashback
    executed: bool
    source: dict[str, Any] = field(default_factory=dict)
    range: dict[str, Any] = field(default_factory=dict)
    transactions: int = 0
    row_changes: int = 0
    ddl: int = 0
    skipped_ddl: int = 0
    skipped_applied: int = 0  # transactions skipped because the checkpoint says they were applied
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    output: str | None = None
    sha256: str | None = None
    checkpoint: dict[str, Any] | None = None
    prechecked_keys: int = 0
    elapsed_seconds: float = 0.0
    apply_mode: str | None = None  # --execute: "binlog-events" (row events sent as BINLOG statements) or "sql"
    apply_mode_note: str | None = None  # why auto chose the SQL path

    @property
    def rows_per_second(self) -> float:
        return self.row_changes / self.elapsed_seconds if self.elapsed_seconds > 0 else 0.0

    def count(self, txn: Transaction, statements_warnings: Iterable[str | None]) -> None:
        self.transactions += 1
        if txn.is_ddl:
            self.ddl += 1
        if txn.stored:  # counted as its events were read: not read back again
            for (name, op), n in txn.totals.counts.items():
                self.add_rows(name, op, n)
                self.row_changes += n
        else:
            for event in txn.events:
                if event.rows:
                    row = event.rows[0]  # the rows of one event share their table and operation
                    self.add_rows(f"{row.schema}.{row.table}", row.op, len(event.rows))
                    self.row_changes += len(event.rows)
        self.add_warnings(w for w in statements_warnings if w)

    def add_prepared(self, is_ddl: bool, row_count: int, counts: dict[tuple[str, str], int],
                     warnings: Iterable[str]) -> None:
        """count() for a transaction whose rows were counted elsewhere (the parallel decoder)."""
        self.transactions += 1
        self.ddl += int(is_ddl)
        self.row_changes += row_count
        for (table, op), n in counts.items():
            self.add_rows(table, op, n)
        self.add_warnings(warnings)

    def merge(self, part: ReplaySummary) -> None:
        """Add what another summary counted (a chunk of the range written by another process)."""
        self.transactions += part.transactions
        self.ddl += part.ddl
        self.skipped_ddl += part.skipped_ddl
        self.row_changes += part.row_changes
        for table, per_op in part.counts.items():
            for op, n in per_op.items():
                self.add_rows(table, op, n)
        self.add_warnings(part.warnings)

    def add_rows(self, table: str, op: str, n: int) -> None:
        """Per-table counts (row_changes is the caller's to add)."""
        per_table = self.counts.setdefault(table, dict.fromkeys(OPS, 0))
        per_table[op] = per_table.get(op, 0) + n

    def add_warnings(self, warnings: Iterable[str]) -> None:
        for warning in warnings:
            if warning not in self.warnings:
                self.warnings.append(warning)

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode, "executed": self.executed, "source": self.source, "range": self.range,
            "transactions": self.transactions, "row_changes": self.row_changes, "ddl": self.ddl,
            "skipped_ddl": self.skipped_ddl, "skipped_applied": self.skipped_applied,
            "counts": {t: dict(c) for t, c in sorted(self.counts.items())}, "warnings": self.warnings,
            "output": self.output, "sha256": self.sha256, "checkpoint": self.checkpoint,
            "prechecked_keys": self.prechecked_keys, "apply_mode": self.apply_mode,
            "apply_mode_note": self.apply_mode_note,
            "elapsed_seconds": round(self.elapsed_seconds, 3), "rows_per_second": round(self.rows_per_second, 1),
        }


@dataclass(frozen=True)
class ReplayMode:
    flashback: bool = False
    skip_ddl: bool = False
    spill_dir: str | None = None

    @property
    def name(self) -> str:
        return "flashback" if self.flashback else "replay"


def ordered_transactions(transactions: Iterable[Transaction], mode: ReplayMode, summary: ReplaySummary,
                         before_undo: Callable[[Iterable[Transaction]], None] | None = None) -> Iterator[Transaction]:
    """Forwards (DDL kept unless --skip-ddl), or the flashback order: inverted, newest first, via a spill file.
    `before_undo` gets a first pass over the undo transactions before any of them is yielded (the pre-check)."""
    if not mode.flashback:
        for txn in transactions:
            if txn.is_ddl and mode.skip_ddl:
                summary.skipped_ddl += 1
                continue
            if txn.row_count or txn.is_ddl:
                yield txn
        return
    with SpillStack(mode.spill_dir) as stack:
        spill_range(_counting_ddl(transactions, summary), stack, mode.skip_ddl)
        if before_undo is not None:
            before_undo(flashback_transactions(stack))
        yield from flashback_transactions(stack)


def _counting_ddl(transactions: Iterable[Transaction], summary: ReplaySummary) -> Iterator[Transaction]:
    for txn in transactions:
        if txn.is_ddl:
            summary.skipped_ddl += 1
        yield txn


# dry run ----------------------------------------------------------------------------------------------------------
def write_sql(transactions: Iterable[Transaction], options: SqlOptions, mode: ReplayMode, out: TextIO,
              summary: ReplaySummary, cascades_logged: bool = True) -> str:
    """Write the SQL body to `out`; return its SHA-256. Each transaction runs with the source's
    foreign_key_checks (apply.foreign_key_checks: a MariaDB source relies on the target's cascades)."""
    started = time.monotonic()
    digest = hashlib.sha256()
    label = "undo of txn" if mode.flashback else "txn"

    def emit(text: str) -> None:
        digest.update(text.encode("utf-8", "surrogateescape"))
        out.write(text)

    preamble = session_preamble()
    fk_checks = 0  # as the preamble sets it
    for txn in ordered_transactions(transactions, mode, summary):
        if preamble:  # after the flashback spill, so a DDL refusal leaves no output at all
            emit(preamble)
            preamble = ""
        if not txn.is_ddl and foreign_key_checks(txn, cascades_logged) != fk_checks:
            fk_checks = foreign_key_checks(txn, cascades_logged)
            emit(f"SET SESSION foreign_key_checks = {fk_checks};\n")
        statements = WarningTap(iter_statements(txn, options))
        for part in render_transaction_parts(txn, statements, label, spill.directory()):
            emit(part)
        summary.count(txn, statements.warnings)
    if preamble:
        emit(preamble)
    summary.elapsed_seconds = time.monotonic() - started
    summary.sha256 = digest.hexdigest()
    return summary.sha256


def summary_header(summary: ReplaySummary) -> str:
    """The comment block heading an --output file."""
    lines = [
        "-- mysqlinspect binlog replay" + (" --flashback" if summary.mode == "flashback" else ""),
        "-- source: " + json.dumps(summary.source, sort_keys=True, default=str),
        "-- range: " + json.dumps(summary.range, sort_keys=True, default=str),
        f"-- transactions: {summary.transactions}  row changes: {summary.row_changes}  ddl: {summary.ddl}",
    ]
    for table, counts in sorted(summary.counts.items()):
        lines.append(f"--   {table}: " + " ".join(f"{op}={counts.get(op, 0)}" for op in OPS))
    lines += [f"-- warning: {w}" for w in summary.warnings]
    lines.append(f"-- body sha256: {summary.sha256}")
    return "\n".join(lines) + "\n"


def write_sql_file(path: str, produce: Callable[[TextIO], None], summary: ReplaySummary) -> None:
    """Body to a temporary file, then header + body to a second one renamed over `path` when complete."""
    target = Path(path)
    directory = str(target.parent.resolve())
    with _output_errors(path):
        body_fd, body_path = tempfile.mkstemp(prefix=f".{target.name}.body-", dir=directory)
    final_path = ""
    try:
        with os.fdopen(body_fd, "w", encoding="utf-8", errors="surrogateescape", newline="\n") as body:
            produce(body)
        with _output_errors(path):
            final_fd, final_path = tempfile.mkstemp(prefix=f".{target.name}.tmp-", dir=directory)
            with os.fdopen(final_fd, "w", encoding="utf-8", errors="surrogateescape", newline="\n") as final, \
                    open(body_path, encoding="utf-8", errors="surrogateescape", newline="\n") as body_in:
                final.write(summary_header(summary))
                while chunk := body_in.read(1 << 20):
                    final.write(chunk)
                final.flush()
                os.fsync(final.fileno())
            os.replace(final_path, target)
            final_path = ""
            fsync_directory(directory)
    finally:
        for leftover in (body_path, final_path):
            if leftover and os.path.exists(leftover):
                os.unlink(leftover)
    summary.output = str(target)


@contextlib.contextmanager
def _output_errors(path: str) -> Iterator[None]:
    """An --output path that cannot be written is the user's to fix: a one-line UsageError, no traceback."""
    try:
        yield
    except OSError as exc:
        raise UsageError(f"cannot write --output {path}: {exc.strerror or exc}") from exc


def verify_sql_file(path: str) -> bool:
    """True when the body of an --output file matches the SHA-256 in its header."""
    text = Path(path).read_bytes()
    marker = b"-- body sha256: "
    start = text.find(marker)
    if start < 0:
        return False
    end = text.index(b"\n", start)
    return hashlib.sha256(text[end + 1:]).hexdigest() == text[start + len(marker):end].decode()


# execute ----------------------------------------------------------------------------------------------------------
@dataclass
class LocalCheckpoint:
    """The --checkpoint FILE: names the job (its row on the target) and what it replays; the target row is the
    authority on progress, the file's `last` is informational (it may lag the target by one transaction)."""

    path: Path
    job: str
    fingerprint: dict[str, Any]
    resolved: dict[str, Any] = field(default_factory=dict)  # values fixed at the first run (e.g. the stop position)
    last: dict[str, Any] | None = None

    @classmethod
    def open(cls, path: str, fingerprint: dict[str, Any]) -> LocalCheckpoint:
        p = Path(path)
        if not p.exists():
            return cls(p, uuid.uuid4().hex, fingerprint)
        try:
            data = json.loads(p.read_text())
            job, stored = str(data["job"]), dict(data["fingerprint"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise DataError(f"checkpoint file {path} is unreadable: {exc}") from exc
        if stored != fingerprint:
            diff = sorted(k for k in {*stored, *fingerprint} if stored.get(k) != fingerprint.get(k))
            raise UsageError(f"checkpoint file {path} belongs to a different replay (differs in: {', '.join(diff)}); "
                             "use another --checkpoint file or the same options as before")
        return cls(p, job, stored, dict(data.get("resolved") or {}), data.get("last"))

    @property
    def is_new(self) -> bool:
        return not self.path.exists()

    def save(self) -> None:
        payload = {"job": self.job, "fingerprint": self.fingerprint, "resolved": self.resolved, "last": self.last,
                   "updated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        write_json_atomic(self.path, payload)


def already_applied(txn: Transaction, point: SourcePoint | None, flashback: bool) -> bool:
    """Forwards: everything up to the checkpointed transaction; flashback (newest first): it and everything after."""
    if point is None:
        return False
    key = BinlogPosition(txn.file, txn.start_pos).key
    return key >= point.key if flashback else key <= point.key


def check_flashback(transactions: Iterable[Transaction], options: SqlOptions, mode: ReplayMode, conn: Any,
                    resume_from: SourcePoint | None = None) -> int:
    """The decoded pass before an events-mode flashback applies anything: DDL in the range refused (unless
    --skip-ddl) and, with --verify-current, every row the undo touches checked (precheck); the keys checked."""
    scratch = ReplaySummary(mode=mode.name, executed=True)
    checked = [0]

    def check_all(undo: Iterable[Transaction]) -> None:
        if options.verify_current:
            pending = (t for t in undo if not already_applied(t, resume_from, True))
            checked[0] = precheck(conn, pending, options, options.target_schema, mode.spill_dir)

    for _ in ordered_transactions(transactions, mode, scratch, check_all):
        break
    return checked[0]


def execute(transactions: Iterable[Transaction], options: SqlOptions, mode: ReplayMode, applier: Applier,
            summary: ReplaySummary, resume_from: SourcePoint | None = None,
            local: LocalCheckpoint | None = None, save_every: float = 1.0) -> None:
    """Apply every transaction not yet applied (decoding overlaps applying, order kept); the local checkpoint
    file is refreshed about once a second. A verified flashback first checks every row it will touch
    (precheck), so a conflict stops it before any change. A large transaction (its events on disk) is applied
    here, its statements written as they are sent, after those before it."""
    started = time.monotonic()
    done_txns = resume_from.transactions if resume_from else 0
    done_rows = resume_from.row_changes if resume_from else 0
    last_save = [0.0]

    def check_all(undo: Iterable[Transaction]) -> None:
        pending = (t for t in undo if not already_applied(t, resume_from, True))
        summary.prechecked_keys = precheck(applier.conn, pending, options, options.target_schema, mode.spill_dir)

    def apply_one(txn: Transaction, statements: Iterable[Statement], point: SourcePoint) -> None:
        tap = WarningTap(statements)
        applier.apply(txn, tap, point)
        summary.count(txn, tap.warnings)
        summary.checkpoint = point.to_dict()
        if local is not None and time.monotonic() - last_save[0] >= save_every:
            local.last = point.to_dict()
            local.save()
            last_save[0] = time.monotonic()

    verify = check_all if mode.flashback and options.verify_current else None
    pipeline: ApplyThread | None = None
    try:
        for txn in ordered_transactions(transactions, mode, summary, verify):
            if already_applied(txn, resume_from, mode.flashback):
                summary.skipped_applied += 1
                continue
            done_txns += 1
            done_rows += txn.row_count
            point = SourcePoint.of(txn, done_txns, done_rows)
            if txn.stored:
                if pipeline is not None:
                    pipeline.close()
                    pipeline = None
                apply_one(txn, iter_statements(txn, options), point)
                continue
            statements = transaction_statements(txn, options)
            if pipeline is None:
                pipeline = ApplyThread(depth=8, max_weight=PIPELINE_ROWS)
            pipeline.submit(functools.partial(apply_one, txn, statements, point), weight=txn.row_count)
            if txn.is_ddl:  # the statements that follow are written from definitions this DDL may change
                pipeline.close()
                pipeline = None
    finally:
        if pipeline is not None:
            pipeline.close()
    if local is not None and summary.checkpoint is not None:
        local.last = summary.checkpoint
        local.save()
    summary.elapsed_seconds = time.monotonic() - started
