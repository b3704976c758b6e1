"""Typing stub of the optional C extension _rowimage.c (see its header comment and decode/native.py)."""

from typing import Any

def compile(names: tuple[str, ...], specs: tuple[tuple[int, int, int, Any, Any], ...], not_logged: Any,
            json_null: Any, decimal: type, empty: str) -> Any: ...
def images(plan: Any, data: bytes, pos: int, first_bitmap: bytes, second_bitmap: bytes | None, cls: type = ...,
           template: dict[str, Any] = ..., op: int = ...) -> list[Any] | None: ...
