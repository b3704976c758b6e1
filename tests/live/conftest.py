"""Fixtures shared by the live binlog tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.servers import drop_database


@pytest.fixture
def extra_dbs(server: Any, db: str) -> Iterator[list[str]]:
    """Names appended by the test are dropped afterwards (targets of replays next to `db`)."""
    names: list[str] = []
    yield names
    for name in names:
        drop_database(server, name)
