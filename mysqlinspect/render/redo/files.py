"""Render offline redo files (`redo files`) and the crash-recovery preview (`redo recovery`) as rich tables."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.table import Table

from mysqlinspect.redo.files import RedoFileReport, RedoFileSet
from mysqlinspect.redo.recovery import RecoveryPreview
from mysqlinspect.redo.structs import CheckpointSlot
from mysqlinspect.render.console import human_bytes, kv_table, show

STATUS_STYLE = {"ok": "green", "never_written": "dim", "spare": "dim"}


def _status(status: str) -> str:
    style = STATUS_STYLE.get(status, "bold red")
    return f"[{style}]{escape(status)}[/{style}]"


def render_file_set(file_set: RedoFileSet) -> RenderableType:
    summary = Table(title="Redo files", title_justify="left")
    for column in ("file", "status", "format", "creator", "start LSN", "end LSN", "size", "flags", "encrypted"):
        summary.add_column(column, justify="right" if column in ("start LSN", "end LSN", "size") else "left")
    spares = [r for r in file_set.files if r.status == "spare"]
    for report in file_set.files:
        if report.status != "spare" or len(spares) == 1:
            summary.add_row(*_summary_row(report))
    if len(spares) > 1:
        summary.add_row(*_spares_row(spares))
    parts: list[RenderableType] = [summary]
    detailed = [r for r in file_set.files
                if any(slot.status != "empty" for slot in r.checkpoints) or not r.ok]
    for report in detailed:
        parts.append(_file_detail(report))
    parts.append(_latest(file_set))
    parts += _set_findings(file_set)
    for note in file_set.notes:
        parts.append(f"[yellow]note:[/yellow] {escape(note)}")
    return Group(*parts)


def _set_findings(file_set: RedoFileSet) -> list[str]:
    return ([f"[bold red]missing file:[/bold red] {escape(m)}" for m in file_set.missing_files]
            + [f"[bold red]LSN gap:[/bold red] {escape(g)}" for g in file_set.lsn_gaps]
            + [f"[yellow]warning:[/yellow] {escape(w)}" for w in file_set.warnings])


def _spares_row(spares: list[RedoFileReport]) -> list[str]:
    """One line for the pre-created #ib_redoN_tmp files (MySQL keeps up to 32 of them)."""
    total = sum(r.size or 0 for r in spares)
    names = f"{spares[0].name} … {spares[-1].name} ({len(spares)} files)"
    return [escape(names), _status("spare"), "-", "-", "-", "-", human_bytes(total), "-", "-"]


def show_creator(creator: str) -> str:
    """The creator as stored; quoted when blank or padded (MySQL 5.5 writes four spaces)."""
    return f'"{creator}"' if creator != creator.strip() or not creator else creator


def _summary_row(report: RedoFileReport) -> list[str]:
    hdr = report.header
    flags = ", ".join(hdr.flags.names()) if hdr and hdr.flags else ""
    encrypted = ("yes" if hdr.encryption.encrypted else "no") if hdr else "-"
    creator = escape(show_creator(hdr.creator)) if hdr else "-"
    return [escape(report.name), _status(report.status), escape(hdr.format.name) if hdr else "-", creator,
            show(hdr.start_lsn) if hdr else "-", show(report.end_lsn), human_bytes(report.size), flags or "-",
            encrypted]


def _file_detail(report: RedoFileReport) -> RenderableType:
    table = kv_table(f"{report.name}")
    table.add_row("path", escape(str(report.path)))
    table.add_row("status", _status(report.status) + (f": {escape(report.message)}" if report.message else ""))
    hdr = report.header
    if hdr is not None:
        table.add_row("format", f"{escape(hdr.format.name)} (value {hdr.format.value}, 0x{hdr.format.value:08x})")
        table.add_row("header checksum", hdr.header_checksum)
        if hdr.log_uuid is not None:
            table.add_row("log uuid", f"0x{hdr.log_uuid:08x}")
        if hdr.subformat is not None:
            table.add_row("subformat", str(hdr.subformat))
        if hdr.encryption.encrypted:
            enc = hdr.encryption
            text = (f"{enc.scheme}, key id {show(enc.key_id)}, key version {show(enc.key_version)}, "
                    f"server uuid {show(enc.server_uuid)}")
            table.add_row("encryption", escape(text))
    for slot in report.checkpoints:
        table.add_row(f"checkpoint {slot.slot} @{slot.offset}", _slot_text(slot))
    return table


def _slot_text(slot: CheckpointSlot) -> str:
    if slot.status == "empty":
        return "[dim]empty[/dim]"
    fields = [f"lsn {show(slot.lsn)}"]
    if slot.number is not None:
        fields.insert(0, f"no {show(slot.number)}")
    if slot.group_offset is not None:
        fields.append(f"offset {show(slot.group_offset)}")
    if slot.buffer_size is not None:
        fields.append(f"buffer {human_bytes(slot.buffer_size)}")
    if slot.end_lsn is not None:
        fields.append(f"end lsn {show(slot.end_lsn)}")
    if slot.crypt:
        fields.append("crypt " + ", ".join(f"{k} {v}" for k, v in slot.crypt.items()))
    text = escape(", ".join(fields)) + f"  checksum {slot.checksum}"
    if slot.status != "ok":
        text += f"  {_status(slot.status)}: {escape(slot.message or '')}"
    return text


def _latest(file_set: RedoFileSet) -> RenderableType:
    ckpt = file_set.latest_checkpoint
    if ckpt is None:
        return f"[bold red]{escape(file_set.why_no_checkpoint)}[/bold red]"
    number = f", checkpoint no {show(ckpt.number)}" if ckpt.number is not None else ""
    return (f"[bold]latest checkpoint:[/bold] LSN {show(ckpt.lsn)} in {escape(ckpt.file)}, "
            f"slot {ckpt.slot} (@{ckpt.slot_offset}){number}")


def render_recovery(preview: RecoveryPreview) -> RenderableType:
    table = kv_table("Crash-recovery preview")
    ckpt = preview.checkpoint
    table.add_row("status", _status(preview.status))
    table.add_row("format", escape(preview.format.name) if preview.format else "-")
    table.add_row("checkpoint LSN", f"{show(ckpt.lsn)} in {escape(ckpt.file)} slot {ckpt.slot}" if ckpt else "-")
    if ckpt is not None and ckpt.end_lsn is not None:
        table.add_row("checkpoint end LSN", show(ckpt.end_lsn))
    table.add_row("scan starts at LSN", show(preview.scan_start_lsn))
    table.add_row("end of valid log", show(preview.end_lsn))
    table.add_row("bytes to apply", _bytes_to_apply(preview.bytes_to_apply))
    table.add_row("clean shutdown", show(preview.clean_shutdown))
    stop = preview.stop_reason or "-"
    if preview.stop_file:
        stop += f" in {preview.stop_file}"
    table.add_row("stopped because", escape(stop + (f": {preview.stop_message}" if preview.stop_message else "")))
    if preview.blocks_scanned is not None:
        table.add_row("blocks scanned", show(preview.blocks_scanned))
    if preview.mtrs_scanned is not None:
        table.add_row("mini-transactions scanned", show(preview.mtrs_scanned))
    parts: list[RenderableType] = [table]
    if preview.record_counts:
        counts = Table(title="Records by type", title_justify="left")
        counts.add_column("type")
        counts.add_column("count", justify="right")
        for name, count in sorted(preview.record_counts.items(), key=lambda kv: -kv[1]):
            counts.add_row(name, show(count))
        parts.append(counts)
    elif preview.record_counts is None and preview.end_lsn is not None:
        parts.append("[dim]record counts: only MariaDB 10.8+ records are decoded[/dim]")
    for problem in preview.problems:
        parts.append(f"[bold red]problem:[/bold red] {escape(problem)}")
    for warning in preview.file_set.warnings:
        parts.append(f"[yellow]warning:[/yellow] {escape(warning)}")
    return Group(*parts)


def _bytes_to_apply(value: int | None) -> str:
    if value is None:
        return "-"
    return f"{show(value)} ({human_bytes(value)})"
