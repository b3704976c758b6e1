"""Hide a password given on the command line from `ps`, as the mysql client does (it overwrites its argv)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

MASK = "xxxxx"
_SHORT = "-p"
_LONG = "--password"
_CLUSTER = re.compile(r"-([fy]+)p(.*)", re.DOTALL)  # -p after the short flags that take no value (-f, -y)


def masked_argv(argv: list[str]) -> list[str]:
    """argv with the value of `-pVALUE`, `--password=VALUE` and `--password VALUE` / `-p VALUE` replaced."""
    out: list[str] = []
    mask_next = False
    for arg in argv:
        if mask_next:
            mask_next = False
            if not arg.startswith("-"):
                out.append(MASK)
                continue
        if arg == "--":
            out.append(arg)
            mask_next = False
        elif arg in (_SHORT, _LONG):
            out.append(arg)
            mask_next = True
        elif (cluster := _CLUSTER.fullmatch(arg)) is not None:
            out.append(f"-{cluster.group(1)}p{MASK}" if cluster.group(2) else arg)
            mask_next = not cluster.group(2)
        elif arg.startswith(f"{_LONG}="):
            out.append(f"{_LONG}={MASK}")
        elif arg.startswith(_SHORT) and not arg.startswith("--"):
            out.append(_SHORT + MASK)
        else:
            out.append(arg)
    return out


def carries_password(argv: list[str]) -> bool:
    """True when argv gives a password on the command line (in any form masked_argv masks)."""
    return masked_argv(argv) != argv


def _own_cmdline() -> list[str]:
    try:
        raw = Path("/proc/self/cmdline").read_bytes()
    except OSError:
        return [sys.executable, *sys.argv]
    return [part.decode(errors="replace") for part in raw.rstrip(b"\0").split(b"\0")]


def hide_password_from_ps(argv: list[str]) -> None:
    """Rewrite the process title (the argv memory `ps` and /proc/PID/cmdline read) when argv holds a password."""
    if not carries_password(argv):
        return
    try:
        import setproctitle
    except ImportError:  # pragma: no cover - a declared dependency
        return
    setproctitle.setproctitle(" ".join(masked_argv(_own_cmdline())))
