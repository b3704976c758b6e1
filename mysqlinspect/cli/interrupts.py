"""Ctrl-C that never lands between writing a transaction and recording its checkpoint."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any


class DeferredInterrupt:
    """Inside `critical()` a SIGINT is remembered and raised as KeyboardInterrupt when the section ends."""

    def __init__(self) -> None:
        self.in_critical = False
        self.pending = False
        self._previous: Any = None

    def _handler(self, signum: int, frame: FrameType | None) -> None:
        if self.in_critical:
            self.pending = True
            return
        raise KeyboardInterrupt

    def install(self) -> None:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handler)

    def restore(self) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None

    @contextmanager
    def critical(self) -> Iterator[None]:
        self.in_critical = True
        try:
            yield
        finally:
            self.in_critical = False
        self.raise_pending()

    def between(self) -> None:
        """Inside a run of critical sections (the sections begin with `in_critical = True`): a point between two
        of them, where a remembered Ctrl-C is raised."""
        self.in_critical = False
        try:
            self.raise_pending()
        finally:
            self.in_critical = True

    def raise_pending(self) -> None:
        if self.pending:
            self.pending = False
            raise KeyboardInterrupt


@contextmanager
def deferred_interrupts() -> Iterator[DeferredInterrupt]:
    guard = DeferredInterrupt()
    guard.install()
    try:
        yield guard
    finally:
        guard.restore()
