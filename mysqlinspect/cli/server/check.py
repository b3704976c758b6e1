"""`mysqlinspect check`: health rules for CI and monitoring; the exit code is the worst status (0/1/2/3)."""

from __future__ import annotations

import dataclasses

import click
from rich.table import Table

from mysqlinspect.checks.config import CheckConfig, load_config, parse_assignments
from mysqlinspect.checks.hosts import load_hosts
from mysqlinspect.checks.model import Status
from mysqlinspect.checks.rules import RULES
from mysqlinspect.checks.runner import CheckPlan, build_limits, check_hosts, overall_status, select_rules
from mysqlinspect.cli.context import AppContext, pass_app
from mysqlinspect.cli.options import connection_options, output_options
from mysqlinspect.connection.settings import CommandLineOptions, ConnectionSettings
from mysqlinspect.errors import UsageError
from mysqlinspect.exit_codes import ExitCode
from mysqlinspect.render.server.check import check_json, nagios_line, prometheus_text, render_check_table


def _names(values: tuple[str, ...]) -> list[str]:
    return [name.strip() for value in values for name in value.split(",") if name.strip()]


def _targets(app: AppContext, conn_opts: CommandLineOptions,
             hosts_file: str | None) -> list[tuple[str, ConnectionSettings]]:
    if not hosts_file:
        settings = app.settings(conn_opts)
        return [(settings.endpoint, settings)]
    targets = []
    for spec in load_hosts(hosts_file):
        opts = dataclasses.replace(conn_opts, **spec.options)
        targets.append((spec.name, app.settings(opts)))
    return targets


def _plan(config: CheckConfig, only: tuple[str, ...], skip: tuple[str, ...], warn: tuple[str, ...],
          crit: tuple[str, ...], interval: float | None, unreachable: str) -> CheckPlan:
    rules = select_rules(_names(only) or config.only, [*config.skip, *_names(skip)])
    limits = build_limits(rules, {**config.warn, **parse_assignments(warn, "--warn")},
                          {**config.crit, **parse_assignments(crit, "--crit")})
    seconds = interval if interval is not None else (config.interval or 0.0)
    if seconds < 0:
        raise UsageError("--interval must be 0 or more seconds")
    return CheckPlan(rules=rules, limits=limits, interval=seconds, unreachable=Status(unreachable.upper()))


def _rules_table() -> Table:
    table = Table(title="mysqlinspect check rules", title_justify="left")
    for column in ("id", "name", "what", "op", "warn", "crit"):
        table.add_column(column, no_wrap=column != "what")
    for rule in RULES:
        table.add_row(rule.rule_id, rule.name, rule.title, rule.op or "match", rule.warn or "-", rule.crit or "-")
    return table


@click.command()
@connection_options
@output_options("table", "json", "nagios", "prometheus")
@click.option("--only", multiple=True, metavar="NAMES", help="Run only these rules (names or ids, comma-separated).")
@click.option("--skip", multiple=True, metavar="NAMES", help="Do not run these rules (names or ids, comma-separated).")
@click.option("--warn", multiple=True, metavar="NAME=VALUE", help="Override a warning threshold (repeatable).")
@click.option("--crit", multiple=True, metavar="NAME=VALUE", help="Override a critical threshold (repeatable).")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), metavar="FILE",
              help="TOML file with thresholds, only/skip lists and the interval.")
@click.option("--interval", type=float, default=None, metavar="SECONDS",
              help="Seconds between the two samples of the rate rules (default 0: averages since start-up).")
@click.option("--hosts", "hosts_file", type=click.Path(dir_okay=False), metavar="FILE",
              help="Check every server listed in FILE concurrently (lines of [user@]host[:port], or TOML).")
@click.option("--unreachable", type=click.Choice(["critical", "unknown"], case_sensitive=False), default="critical",
              show_default=True, help="Status of a server that cannot be reached.")
@click.option("--list-rules", is_flag=True, help="Print the rules with their default thresholds and exit.")
@pass_app
def check(app: AppContext, conn_opts: CommandLineOptions, output_format: str, only: tuple[str, ...],
          skip: tuple[str, ...], warn: tuple[str, ...], crit: tuple[str, ...], config_file: str | None,
          interval: float | None, hosts_file: str | None, unreachable: str, list_rules: bool) -> ExitCode:
    """Judge redo, undo, doublewrite and binlog health; exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN."""
    if list_rules:
        if output_format == "json":
            app.emit_json([{"id": r.rule_id, "name": r.name, "title": r.title, "kind": r.kind, "unit": r.unit,
                            "op": r.op, "warn": r.warn or None, "crit": r.crit or None, "hint": r.hint}
                           for r in RULES])
        else:
            app.emit(_rules_table())
        return ExitCode.OK
    config = load_config(config_file) if config_file else CheckConfig()
    plan = _plan(config, only, skip, warn, crit, interval, unreachable)
    reports = check_hosts(_targets(app, conn_opts, hosts_file), plan)
    if output_format == "json":
        app.emit_json(check_json(reports))
    elif output_format == "nagios":
        click.echo(nagios_line(reports))
    elif output_format == "prometheus":
        click.echo(prometheus_text(reports), nl=False)
    else:
        app.emit(render_check_table(reports))
    return overall_status(reports).exit_code
