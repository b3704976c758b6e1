"""Typing stub of the optional C extension _sqltext.c (see its header comment and replay/sqlliteral.py)."""

from collections.abc import Callable
from typing import Any

def row_tuple(names: tuple[str, ...], kinds: bytes, renderers: tuple[Callable[[Any], str], ...], decimal: type,
              image: dict[str, Any]) -> str: ...
