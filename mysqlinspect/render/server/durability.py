"""Render the durability report: settings, then per failure what can be lost or broken and which setting decides."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from mysqlinspect.collectors.durability import DurabilityReport
from mysqlinspect.collectors.durability_rules import Scenario
from mysqlinspect.render.console import show
from mysqlinspect.render.server.live_common import notes_block, spaced, styled

SEVERITY_LABELS = {"safe": "safe", "info": "note", "risk": "risk", "loss": "LOSS"}


def settings_table(report: DurabilityReport) -> Table:
    t = Table(title="Settings", title_justify="left", box=None, header_style="bold dim")
    for col in ("setting", "value", "meaning"):
        t.add_column(col, overflow="fold", no_wrap=col == "setting")
    for s in report.settings:
        t.add_row(s.name, s.value or "-", s.meaning)
    state, _, meaning = report.two_phase_commit.partition(": ")
    t.add_row("two-phase commit", state if meaning else "-", meaning or report.two_phase_commit)
    t.add_row("prepared XA transactions", show(report.prepared_xa_transactions), "XA RECOVER, now")
    return t


def scenario_table(scenario: Scenario) -> Table:
    label = SEVERITY_LABELS.get(scenario.verdict, scenario.verdict)
    title = Text.assemble((scenario.title, "bold"), "  ", styled(scenario.verdict, label))
    t = Table(title=title, title_justify="left", box=None, show_header=False, pad_edge=False)
    t.add_column("severity", no_wrap=True)
    t.add_column("what", overflow="fold")
    t.add_column("setting", style="bold", no_wrap=True)
    for c in scenario.consequences:
        t.add_row(styled(c.severity, SEVERITY_LABELS.get(c.severity, c.severity)), c.what, c.setting or "")
    return t


# MySQL logs "Crash recovery finished in <engine> engine. No attempts to commit, rollback or prepare any
# transactions." (MY-013911) at every start; only other texts tell of a real recovery.
NOTHING_RECOVERED = "no attempts to commit, rollback or prepare any transactions"
CRASH_RECOVERY_MARKERS = ("starting crash recovery", "crash recovery finished", "was not shut down normally",
                          "was not shutdown normally", "transaction(s) which must be rolled back",
                          "in prepared state after recovery", "rolling back trx", "successfully prepared",
                          "successfully committed", "successfully rolled back")


def startup_messages_title(messages: list[str]) -> str:
    """The heading of the error-log lines: crash recovery only when one of them tells of recovery work."""
    lines = [m.lower() for m in messages if NOTHING_RECOVERED not in m.lower()]
    if any(marker in line for line in lines for marker in CRASH_RECOVERY_MARKERS):
        return "Crash-recovery messages since startup (performance_schema.error_log):"
    return "Start-up messages about recovery and prepared transactions (a normal start; performance_schema.error_log):"


def render_durability(report: DurabilityReport) -> RenderableType:
    label = SEVERITY_LABELS.get(report.verdict, report.verdict)
    head = Text.assemble(("Durability verdict: ", "bold"), styled(report.verdict, label))
    parts: list[RenderableType] = [head, settings_table(report)]
    parts.extend(scenario_table(s) for s in report.scenarios)
    if report.startup_recovery_messages:
        parts.append(Text(startup_messages_title(report.startup_recovery_messages), style="bold"))
        parts.extend(Text("  " + m) for m in report.startup_recovery_messages)
    parts.extend(notes_block(report.notes))
    return Group(*spaced(parts))
