"""CRC-32C for the engine, in one place: the SSE4.2 function of the `_pagecheck` extension when it was built and
the CPU has the instruction, else the C function of the `crc32c` package (imported only then: its `__init__`
costs about 25 ms of start-up, reading its version through importlib.metadata).

`pagecheck` is that extension module when usable (its batch page check is the `pages verify` hot path, see
innodb/pages/fastcheck.py), else None: the one place that loads it."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

pagecheck: ModuleType | None
try:
    from mysqlinspect.innodb import _pagecheck as pagecheck
except ImportError:  # not built (no compiler at install time)
    pagecheck = None
if pagecheck is not None and not pagecheck.HARDWARE:  # no SSE4.2 on this CPU (checked at run time)
    pagecheck = None

crc32c: Callable[..., int]
if pagecheck is not None:
    crc32c = pagecheck.crc32c
else:
    from crc32c import crc32c

__all__ = ["crc32c", "pagecheck"]
