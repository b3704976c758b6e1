"""Render one `watch` sample: current values with per-second rates and trends."""

from __future__ import annotations

import datetime as dt

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from mysqlinspect.collectors.rates import WatchSample, seconds_to_sync_point
from mysqlinspect.render.console import exact_pct, human_bytes, human_rate, human_seconds, show
from mysqlinspect.render.redo.status import age_bar


def _rate(value: float | None, unit: str = "/s", as_bytes: bool = False) -> str:
    if value is None:
        return "-"
    return f"{human_bytes(value)}/s" if as_bytes else f"{value:,.1f}{unit}"


def _trend(value: float | None, as_bytes: bool = False) -> Text:
    if value is None:
        return Text("-")
    text = human_rate(abs(value)) if as_bytes else f"{abs(value):,.1f}/s"
    if value > 0:
        return Text(f"▲ +{text}", style="yellow")
    if value < 0:
        return Text(f"▼ -{text}", style="green")
    return Text("= 0/s", style="dim")


def render_watch_sample(sample: WatchSample, server_label: str = "") -> RenderableType:
    when = dt.datetime.fromtimestamp(sample.timestamp).strftime("%H:%M:%S")
    interval = f", every {sample.interval_seconds:.1f}s" if sample.interval_seconds else ""
    t = Table(title=f"mysqlinspect watch {server_label}  sample {sample.sample} at {when}{interval}",
              title_justify="left", header_style="bold dim", box=None)
    t.add_column("")
    t.add_column("value", justify="right")
    t.add_column("rate / trend")
    r = sample.rates
    t.add_row("redo generated (LSN)", show(sample.current_lsn), _rate(r.redo_bytes_per_second, as_bytes=True))
    t.add_row("redo written to files", human_bytes(sample.os_log_written),
              _rate(r.os_log_written_per_second, as_bytes=True))
    capacity = sample.capacity_bytes
    gauge = age_bar(exact_pct(sample.checkpoint_age_bytes, capacity, sample.checkpoint_age_pct),
                    exact_pct(sample.async_flush_point_bytes, capacity),
                    exact_pct(sample.sync_flush_point_bytes, capacity))
    t.add_row("checkpoint age", human_bytes(sample.checkpoint_age_bytes),
              _trend(r.checkpoint_age_change_per_second, as_bytes=True))
    t.add_row("", "", gauge)
    eta = seconds_to_sync_point(sample)
    if eta is not None:
        t.add_row("sync flush point reached in", human_seconds(eta), Text("at the current trend", style="dim"))
    t.add_row("log waits", show(sample.log_waits), _rate(r.log_waits_per_second))
    t.add_row("doublewrite pages", show(sample.dblwr_pages_written), _rate(r.dblwr_pages_per_second, " pages/s"))
    t.add_row("doublewrite writes", show(sample.dblwr_writes), _rate(r.dblwr_writes_per_second, " writes/s"))
    t.add_row("history list length", show(sample.history_list_length), _trend(r.history_list_length_change_per_second))
    t.add_row("oldest transaction", human_seconds(sample.oldest_transaction_age_seconds), "")
    t.add_row("dirty pages", "-" if sample.dirty_pages_pct is None else f"{sample.dirty_pages_pct:.1f}%", "")
    return t
