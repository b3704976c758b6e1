"""Benchmark: `check --hosts` (threads) against checking the same servers one after another.

Starts throw-away sandboxes (default: 4 MySQL servers), then times, in this run:
  A. the reference: `check_host` called for each server in turn (what a shell loop over hosts does);
  B. `check_hosts` with the same targets (the `--hosts` path: one thread per server, at most 8).
Both use the full rule set and `--interval` (default 1 s), so the reference pays the interval once per server.
Target: B/A <= 1/N + 0.25 for N servers with an interval (the intervals overlap). With --interval 0 the ratio
stays near 1: reading ~85 ms per server is client CPU work, serialised by the GIL.

    .venv/bin/python benchmarks/bench_check_hosts.py [--servers 4] [--interval 1] [--flavor mysql]
"""

from __future__ import annotations

import argparse
import time

from mysqlinspect.checks.runner import CheckPlan, build_limits, check_host, check_hosts, select_rules
from mysqlinspect.connection.settings import ConnectionSettings
from mysqlinspect.sandbox.server import SandboxServer, temporary_server


def start_servers(flavor: str, count: int) -> list[SandboxServer]:
    servers = []
    for i in range(count):
        server = temporary_server(flavor, server_id=800 + i)
        server.start()
        servers.append(server)
    return servers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", type=int, default=4)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--flavor", default="mysql")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    servers = start_servers(args.flavor, args.servers)
    try:
        rules = select_rules()
        plan = CheckPlan(rules=rules, limits=build_limits(rules, {}, {}), interval=args.interval)
        targets = [(f"s{i}", ConnectionSettings(host="127.0.0.1", port=s.port, user="root", ssl_mode="DISABLED"))
                   for i, s in enumerate(servers)]
        sequential, concurrent = [], []
        for _ in range(args.rounds):
            started = time.perf_counter()
            reports = [check_host(name, settings, plan) for name, settings in targets]
            sequential.append(time.perf_counter() - started)
            started = time.perf_counter()
            reports2 = check_hosts(targets, plan)
            concurrent.append(time.perf_counter() - started)
            assert [r.status for r in reports] == [r.status for r in reports2]
        a, b = min(sequential), min(concurrent)
        print(f"servers={args.servers} interval={args.interval}s rules={len(rules)} (best of {args.rounds})")
        print(f"A sequential check_host loop : {a:.3f}s")
        print(f"B check_hosts (threads)      : {b:.3f}s")
        print(f"B/A = {b / a:.3f}  (target <= {1 / args.servers + 0.25:.3f})")
    finally:
        for server in servers:
            server.destroy()


if __name__ == "__main__":
    main()
