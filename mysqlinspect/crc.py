"""CRC-32C for the engine, in one place: the SSE4.2 function of the `_pagecheck` extension when it was built and
the CPU has the instruction, else the C function of the `crc32c` package (imported only then: its `__init__`
costs about 25 ms of start-up, reading its version through importlib.metadata)."""

from __future__ import annotations

from collections.abc import Callable

try:
    from mysqlinspect.innodb import _pagecheck
except ImportError:  # not built (no compiler at install time)
    _pagecheck = None  # type: ignore[assignment]

crc32c: Callable[..., int]
if _pagecheck is not None and _pagecheck.HARDWARE:
    crc32c = _pagecheck.crc32c
else:
    from crc32c import crc32c

__all__ = ["crc32c"]
