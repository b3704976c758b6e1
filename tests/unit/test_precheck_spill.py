"""The flashback pre-check's key set leaves nothing in the spill directory, even while open (issue 13, item 15:
a suite run left `mysqlinspect-precheck-*` directories with keys.db behind, e.g. after the kill tests)."""

from __future__ import annotations

import os
from pathlib import Path

from mysqlinspect.binlog.replay.precheck import SeenKeys


def _open_files_under(directory: Path) -> list[str]:
    names = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(str(directory)):
            names.append(target)
    return names


def test_seen_keys_spill_to_an_unlinked_file_and_leave_no_directory(tmp_path: Path) -> None:
    tmp_path = tmp_path / "spill"
    tmp_path.mkdir()
    seen = SeenKeys(str(tmp_path))
    try:
        keys = [f"schema\x00table\x00{n:012d}" + "v" * 100 for n in range(120_000)]  # > the 8 MiB cache
        assert all(seen.add(k) for k in keys)
        assert not seen.add(keys[0]) and not seen.add(keys[-1])
        assert list(tmp_path.iterdir()) == []  # nothing a kill -9 could leave behind
        assert any(name.endswith("(deleted)") for name in _open_files_under(tmp_path))  # it did spill here
    finally:
        seen.close()
    assert list(tmp_path.iterdir()) == [] and _open_files_under(tmp_path) == []


def test_default_location_leaves_no_precheck_directory(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import tempfile

    tmp_path = tmp_path / "tmp"
    tmp_path.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    seen = SeenKeys()
    seen.add("k")
    seen.close()
    assert list(tmp_path.iterdir()) == []
