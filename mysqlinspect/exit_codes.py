"""The process exit-code contract: one enum for the whole tool (documented in the README)."""

from __future__ import annotations

from enum import IntEnum, unique


@unique
class ExitCode(IntEnum):
    """Exit codes. 1-3 are used only by `check` (Nagios convention); failures use sysexits.h values."""

    OK = 0
    WARNING = 1
    CRITICAL = 2
    UNKNOWN = 3
    USAGE = 64
    DATA_ERROR = 65
    NO_INPUT = 66
    UNAVAILABLE = 69
    SOFTWARE = 70
    NO_PERMISSION = 77
    INTERRUPTED = 130
