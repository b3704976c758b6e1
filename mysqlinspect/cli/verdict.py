"""The one stderr line of a failing offline verdict: the first problem, and how many more the output lists."""

from __future__ import annotations

from mysqlinspect.errors import DataError


def failing_verdict(what: str, problems: list[str]) -> DataError:
    """A DataError for cli main to print (one line) and exit 65 with, after the full output was emitted."""
    if not problems:
        return DataError(what)
    more = f" (and {len(problems) - 1} more in the output)" if len(problems) > 1 else ""
    return DataError(f"{what}: {problems[0]}{more}")
