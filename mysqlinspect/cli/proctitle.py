"""Hide a password given on the command line from `ps`, as the mysql client does (it overwrites its argv)."""

from __future__ import annotations

import sys
from pathlib import Path

MASK = "xxxxx"
_SHORT = "-p"
_LONG = "--password"


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
        elif arg.startswith(f"{_LONG}="):
            out.append(f"{_LONG}={MASK}")
        elif arg.startswith(_SHORT) and not arg.startswith("--"):
            out.append(_SHORT + MASK)
        else:
            out.append(arg)
    return out


def _own_cmdline() -> list[str]:
    try:
        raw = Path("/proc/self/cmdline").read_bytes()
    except OSError:
        return [sys.executable, *sys.argv]
    return [part.decode(errors="replace") for part in raw.rstrip(b"\0").split(b"\0")]


def hide_password_from_ps(argv: list[str]) -> None:
    """Rewrite the process title (the argv memory `ps` and /proc/PID/cmdline read) when argv holds a password."""
    if masked_argv(argv) == argv:
        return
    try:
        import setproctitle
    except ImportError:  # pragma: no cover - a declared dependency
        return
    setproctitle.setproctitle(" ".join(masked_argv(_own_cmdline())))
