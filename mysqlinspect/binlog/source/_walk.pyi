"""Typing stub of the optional C extension _walk.c (see its header comment and source/local.py)."""

from typing import Any

def walk(data: Any, pos: int, limit: int, size: int, csum: int, check: bool, inside: bool, in_begin: bool,
         query_post: int) -> tuple[int, int, int, int, int, int, int]: ...
def select(data: Any, pos: int, limit: int, end: int, csum: int, query_post: int, wanted: bytes, keep_from: int
           ) -> tuple[list[tuple[int, int, int]], int]: ...
