"""Shared pieces of the live-status renderers: value/source tables, notes and state colours."""

from __future__ import annotations

from collections.abc import Callable

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

STATE_STYLES = {
    "idle": "green", "safe": "green", "info": "cyan", "near": "yellow", "active": "yellow", "risk": "yellow",
    "stalling": "bold red", "loss": "bold red", "unknown": "dim",
}


def source_table(title: str) -> Table:
    """A three-column table: what, value, where the value came from."""
    table = Table(title=title, title_justify="left", box=None, pad_edge=False, show_header=True,
                  header_style="bold dim")
    table.add_column("", style="bold", no_wrap=True)
    table.add_column("value", overflow="fold")
    table.add_column("source", style="dim", overflow="fold")
    return table


SHORT_SOURCES = (
    ("SHOW GLOBAL STATUS ", "status "),
    ("SHOW GLOBAL VARIABLES ", "variable "),
    ("SHOW ENGINE INNODB STATUS", "engine status"),
    ("INFORMATION_SCHEMA.", "I_S."),
    ("performance_schema.", "P_S."),
)


def short_source(source: str | None) -> str:
    """A compact spelling of a source label for tables (JSON keeps the full one)."""
    text = source or "-"
    for long, short in SHORT_SOURCES:
        text = text.replace(long, short)
    if text.startswith("computed: ") and len(text) > 48:
        return "computed (see formula)"
    return text


def sources_getter(sources: dict[str, str]) -> Callable[..., str]:
    def get(key: str, default: str = "-") -> str:
        return short_source(sources.get(key, default))

    return get


def styled(state: str, text: str | None = None) -> Text:
    return Text(text if text is not None else state, style=STATE_STYLES.get(state, ""))


def spaced(parts: list[RenderableType]) -> list[RenderableType]:
    """Sections separated by one blank line."""
    out: list[RenderableType] = []
    for i, part in enumerate(parts):
        if i:
            out.append(Text(""))
        out.append(part)
    return out


def notes_block(notes: list[str]) -> list[RenderableType]:
    return [Text.assemble(("note: ", "yellow"), note) for note in notes]
