"""Render `check` reports: a rich table, a JSON document, a Nagios line with perfdata, Prometheus text."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from mysqlinspect.checks.model import Finding, Status
from mysqlinspect.checks.runner import HostReport, overall_status

STATUS_STYLE = {Status.OK: "green", Status.WARNING: "yellow", Status.CRITICAL: "bold red", Status.UNKNOWN: "magenta"}
NAGIOS_UOM = {"%": "%", "s": "s", "B": "B"}
PROMETHEUS_PREFIX = "mysqlinspect_check"


def format_value(finding: Finding) -> str:
    value = finding.value
    if value is None:
        return "-"
    if isinstance(value, float):
        text = f"{value:,.2f}".rstrip("0").rstrip(".")
    elif isinstance(value, int):
        text = f"{value:,}"
    else:
        text = str(value)
    return f"{text}{finding.unit}" if finding.unit and finding.unit != "s" else (f"{text}s" if finding.unit else text)


def _threshold(finding: Finding, level: Any) -> str:
    if level is None:
        return "-"
    return f"{finding.op} {level}" if finding.op else str(level)


def render_host_table(report: HostReport) -> RenderableType:
    server = f" ({report.server['flavor']} {report.server['version']})" if report.server else ""
    title = Text.assemble((f"{report.name}{server}: ", "bold"), (report.status.value, STATUS_STYLE[report.status]))
    table = Table(title=title, title_justify="left", show_lines=False)
    for column, justify in (("id", "left"), ("rule", "left"), ("status", "left"), ("value", "right"),
                            ("warn", "right"), ("crit", "right"), ("message", "left")):
        table.add_column(column, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for f in report.findings:
        table.add_row(f.rule_id, f.name, Text(f.status.value, style=STATUS_STYLE[f.status]), format_value(f),
                      _threshold(f, f.warn), _threshold(f, f.crit), Text(f.message))
    hints = [f"[{STATUS_STYLE[f.status]}]{f.name}[/]: {f.hint}" for f in report.findings
             if f.status in (Status.WARNING, Status.CRITICAL) and f.hint]
    parts: list[RenderableType] = [table]
    if hints:
        parts.append(Text("hints:", style="bold"))
        parts.extend(Text.from_markup("  " + h) for h in hints)
    return Group(*parts)


def render_check_table(reports: list[HostReport]) -> RenderableType:
    parts: list[RenderableType] = [render_host_table(r) for r in reports]
    if len(reports) > 1:
        status = overall_status(reports)
        parts.append(Text.assemble(("overall: ", "bold"), (status.value, STATUS_STYLE[status])))
    return Group(*parts)


def check_json(reports: list[HostReport]) -> dict[str, Any]:
    """One host: its report; several: `{"status", "exit_code", "hosts": [...]}`."""
    if len(reports) == 1:
        return reports[0].to_dict()
    status = overall_status(reports)
    return {"status": status.value, "exit_code": int(status.exit_code), "hosts": [r.to_dict() for r in reports]}


# ---- Nagios ------------------------------------------------------------------------------------------------------
def _perf_label(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _perf_number(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".")
    return str(value)


def perf_range(op: str, limit: Any) -> str:
    """A threshold as a monitoring-plugins range alerting exactly where the rule fires: `N` above N, `N:` below N,
    `@N:` at N and above, `@~:N` at N and below (ends of a range are inclusive)."""
    if limit is None:
        return ""
    number = _perf_number(limit)
    return {"<": f"{number}:", "<=": f"@~:{number}", ">=": f"@{number}:"}.get(op, number)


def perfdata(finding: Finding, prefix: str = "") -> str | None:
    """`'label'=value[UOM];warn;crit;min;max` for numeric findings with a value; warn/crit are plugin ranges."""
    if finding.op is None or not isinstance(finding.value, (int, float)) or isinstance(finding.value, bool):
        return None
    uom = NAGIOS_UOM.get(finding.unit, "")
    bounds = ";0;100" if uom == "%" else ";0;"
    return (f"{_perf_label(prefix + finding.name)}={_perf_number(finding.value)}{uom};"
            f"{perf_range(finding.op, finding.warn)};{perf_range(finding.op, finding.crit)}{bounds}")


def _problem(finding: Finding, prefix: str) -> str:
    return f"{prefix}{finding.name} {finding.status.value}: {finding.message}"


def nagios_line(reports: list[HostReport]) -> str:
    """`MYSQLINSPECT STATUS - summary | perfdata` on one line (monitoring-plugins guidelines)."""
    status = overall_status(reports)
    multi = len(reports) > 1
    problems: list[tuple[int, str]] = []
    perf: list[str] = []
    counts = dict.fromkeys(Status, 0)
    for report in reports:
        prefix = f"{report.name}:" if multi else ""
        for f in report.findings:
            counts[f.status] += 1
            if f.status is not Status.OK:
                problems.append((f.status.severity, _problem(f, prefix)))
            data = perfdata(f, prefix)
            if data:
                perf.append(data)
    problems.sort(key=lambda p: -p[0])
    summary = ", ".join(f"{counts[s]} {s.value.lower()}" for s in (Status.CRITICAL, Status.WARNING, Status.UNKNOWN)
                        if counts[s])
    detail = "; ".join(p[1] for p in problems)
    if not summary:
        summary = f"{counts[Status.OK]} rules OK" + (f" on {len(reports)} servers" if multi else "")
    text = f"MYSQLINSPECT {status.value} - {summary}" + (f": {detail}" if detail else "")
    text = text.replace("|", "/").replace("\n", " ")
    return text + (" | " + " ".join(perf) if perf else "")


# ---- Prometheus ------------------------------------------------------------------------------------------------
STATUS_VALUE = {Status.OK: 0, Status.WARNING: 1, Status.CRITICAL: 2, Status.UNKNOWN: 3}


def _label_value(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n")


def _labels(**labels: str) -> str:
    return "{" + ",".join(f'{k}="{_label_value(v)}"' for k, v in labels.items()) + "}"


def _prom_number(value: float) -> str:
    return repr(float(value)) if isinstance(value, float) else str(value)


def prometheus_text(reports: list[HostReport]) -> str:
    """Text exposition format 0.0.4 (textfile-collector friendly): statuses, values and thresholds."""
    p = PROMETHEUS_PREFIX
    status_lines, value_lines, threshold_lines, host_lines = [], [], [], []
    for report in reports:
        host_lines.append(f"{p}_host_status{_labels(host=report.name)} {STATUS_VALUE[report.status]}")
        for f in report.findings:
            labels = {"host": report.name, "rule": f.name, "id": f.rule_id}
            status_lines.append(f"{p}_status{_labels(**labels)} {STATUS_VALUE[f.status]}")
            if isinstance(f.value, (int, float)) and not isinstance(f.value, bool):
                value_lines.append(f"{p}_value{_labels(**labels, unit=f.unit)} {_prom_number(f.value)}")
                for level in ("warn", "crit"):
                    limit = getattr(f, level)
                    if isinstance(limit, (int, float)):
                        threshold_lines.append(f"{p}_threshold{_labels(**labels, level=level)} {_prom_number(limit)}")
    blocks = [
        (f"{p}_host_status", "Worst rule status per server (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN).", host_lines),
        (f"{p}_status", "Status of a mysqlinspect health rule (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN).",
         status_lines),
        (f"{p}_value", "Value a numeric mysqlinspect health rule measured (unit label).", value_lines),
        (f"{p}_threshold", "Threshold of a numeric mysqlinspect health rule (level label: warn or crit).",
         threshold_lines),
    ]
    out: list[str] = []
    for name, help_text, lines in blocks:
        if lines:
            out += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge", *lines]
    return "\n".join(out) + "\n"
