"""Render `pages verify`: per-file counts per status, then every bad page with its reason."""

from __future__ import annotations

import os
from pathlib import Path

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.table import Table

from mysqlinspect.innodb.pages.verify import FileVerification, Verification
from mysqlinspect.render.console import show

COLUMNS = ("valid", "empty", "corrupt", "torn", "misplaced", "encrypted", "unchecked", "skipped")


def _file_status(f: FileVerification) -> str:
    return "[green]ok[/green]" if f.ok else f"[bold red]{f.status.replace('_', ' ')}[/bold red]"


def display_names(paths: list[Path]) -> dict[Path, str]:
    """Paths relative to their common directory (just the name for a single file)."""
    if not paths:
        return {}
    base = Path(os.path.commonpath([str(p.parent) for p in paths]))
    return {p: p.relative_to(base).as_posix() for p in paths}


def render_verification(result: Verification) -> RenderableType:
    table = Table(title="Page verification", title_justify="left")
    columns = [name for name in COLUMNS if any(f.counts.get(name) for f in result.files)]
    for column in ("file", "status", "format", "page", "pages", *columns):
        table.add_column(column, justify="left" if column in ("file", "status", "format") else "right",
                         overflow="fold")
    names = display_names([f.path for f in result.files])
    for f in result.files:
        counts = [show(f.counts.get(name, 0)) if f.counts.get(name) else "-" for name in columns]
        size = f"{f.physical_page_size // 1024}K" if f.physical_page_size else "-"
        table.add_row(escape(names[f.path]), _file_status(f), f.format or "-", size, show(f.pages), *counts)
    parts: list[RenderableType] = [table]
    totals = result.totals()
    parts.append(f"{len(result.files)} files, {sum(f.pages for f in result.files):,} pages: "
                 + ", ".join(f"{n:,} {name}" for name, n in totals.items() if n))
    bad = _bad_table(result)
    if bad is not None:
        parts.append(bad)
    for f in result.files:
        if f.error:
            parts.append(f"[bold red]error:[/bold red] {escape(f.error)}")  # the message names the file
        if f.trailing_bytes:
            parts.append(f"[bold red]{escape(str(f.path))}:[/bold red] {f.trailing_bytes:,} bytes after the last "
                         "whole page (a truncated copy?)")
    for note in result.notes:
        parts.append(f"[yellow]note:[/yellow] {escape(note)}")
    return Group(*parts)


def _bad_table(result: Verification) -> Table | None:
    rows = [(f, b) for f in result.files for b in f.bad_pages]
    if not rows:
        return None
    table = Table(title="Bad pages", title_justify="left")
    for column in ("file", "page", "status", "type", "LSN", "why"):
        table.add_column(column, justify="right" if column in ("page", "LSN") else "left")
    names = display_names([f.path for f in result.files])
    for f, b in rows:
        table.add_row(escape(names[f.path]), show(b.page_no), f"[bold red]{b.status}[/bold red]", b.page_type,
                      show(b.lsn), escape(b.reason))
    return table
