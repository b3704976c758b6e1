"""CRC-32C for the engine: the C-accelerated function of the `crc32c` package, in one place."""

from __future__ import annotations

from crc32c import crc32c

__all__ = ["crc32c"]
