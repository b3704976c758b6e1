"""Rich consoles (stdout for data, stderr for messages) and small formatting helpers."""

from __future__ import annotations

import os
from typing import Any

from rich.console import Console
from rich.table import Table

# Off a terminal without COLUMNS, tables take the width their content needs: no folding inside names or numbers.
UNBOUNDED_WIDTH = 100_000


def make_consoles(no_color: bool = False) -> tuple[Console, Console]:
    """Two consoles built without file= so that click's CliRunner can capture both streams.

    On a terminal they follow its width; off one, `COLUMNS` when set (rich reads it), else an unbounded width.
    """
    out = Console(no_color=no_color, highlight=False, soft_wrap=False)
    err = Console(stderr=True, no_color=no_color, highlight=False)
    for console in (out, err):
        _unbound_off_terminal(console)
    return out, err


def _unbound_off_terminal(console: Console) -> None:
    columns = os.environ.get("COLUMNS", "").strip()
    given = columns.isdigit() and int(columns) > 0  # COLUMNS=0 (no terminal size known) would print nothing
    if given:
        return
    if console.is_terminal:
        if columns.isdigit():
            console.width = os.get_terminal_size(console.file.fileno()).columns if _has_size(console) else 80
        return
    console.width = UNBOUNDED_WIDTH


def _has_size(console: Console) -> bool:
    try:
        return os.get_terminal_size(console.file.fileno()).columns > 0
    except (OSError, ValueError, AttributeError):
        return False


def human_bytes(value: int | float | None) -> str:
    """1,023 B, 1.5 KiB, 1.0 MiB: the next unit from 1000 of the current one (never `1015.3 KiB`)."""
    if value is None:
        return "-"
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        text = f"{size:.0f}" if unit == "B" else f"{size:.1f}"
        if abs(float(text)) < 1000 or unit == "TiB":
            return f"{text} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"


def human_rate(value: float | None) -> str:
    """Bytes per second in the same units as human_bytes, with a sign for trends."""
    if value is None:
        return "-"
    return f"{'-' if value < 0 else ''}{human_bytes(abs(value))}/s"


def plural(count: int, noun: str, plural_form: str | None = None) -> str:
    """`1 file`, `2 files`."""
    return f"{count:,} {noun if count == 1 else (plural_form or noun + 's')}"


def clip(text: str, limit: int = 120) -> str:
    """At most `limit` characters, with an ellipsis when something was cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def exact_pct(part: int | float | None, whole: int | float | None, rounded: float | None = None) -> float | None:
    """100 * part / whole unrounded (for display next to the sizes), else the stored `rounded` value."""
    if part is None or not whole:
        return rounded
    return 100.0 * part / whole


def share(part: int | float | None, whole: int | float | None) -> str:
    """`part` as a percentage of `whole` with one decimal, from the exact ratio (no double rounding)."""
    value = exact_pct(part, whole)
    return "-" if value is None else f"{value:.1f}%"


def human_seconds(value: float | None) -> str:
    if value is None:
        return "-"
    seconds = int(value)
    days, rem = divmod(seconds, 86400)
    hours, rem = divmod(rem, 3600)
    minutes, secs = divmod(rem, 60)
    if days:
        return f"{days}d {hours}h {minutes}m"
    if hours:
        return f"{hours}h {minutes}m {secs}s"
    if minutes:
        return f"{minutes}m {secs}s"
    return f"{value:.0f}s" if isinstance(value, float) else f"{secs}s"


def show(value: Any) -> str:
    """A cell value: '-' for None, numbers with thousands separators."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


def kv_table(title: str) -> Table:
    """A titled two-column key/value table without borders."""
    table = Table(title=title, title_justify="left", show_header=False, box=None, pad_edge=False)
    table.add_column("key", style="bold", no_wrap=True)
    table.add_column("value")
    return table
