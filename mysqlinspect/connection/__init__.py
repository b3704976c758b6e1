"""Connection settings, option files, login paths and server detection (no click, no rich).

The names below are resolved on first use (PEP 562), so importing `mysqlinspect.connection.settings` (as the CLI's
option decorators do) does not import PyMySQL.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "CommandLineOptions": "mysqlinspect.connection.settings",
    "ConnectionSettings": "mysqlinspect.connection.settings",
    "resolve_settings": "mysqlinspect.connection.settings",
    "connect": "mysqlinspect.connection.connect",
    "open_connection": "mysqlinspect.connection.connect",
    "pymysql_kwargs": "mysqlinspect.connection.connect",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
