"""Cut copies of a whole ib_logfile group (every file shorter than any innodb_log_file_size a server accepts) are
`truncated`, with the offset the checkpoint needs, whatever file of the group the offset would fall in - not a
"missing" file named after the cut size (`Missing redo log file ib_logfile2 ... in ib_logfile71`)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.unit.redo_samples import DATA

Run = Callable[..., Any]

GROUP_HEADS = [("mariadb-10.4.10", 1177088), ("mariadb-10.2.14", 1828352), ("mysql-5.7.17", 2528256)]


@pytest.mark.parametrize(("sample", "needed"), GROUP_HEADS)
def test_cut_group_is_truncated_not_missing_files(tmp_path: Path, run_cli: Run, sample: str, needed: int) -> None:
    for name in ("ib_logfile0", "ib_logfile1"):
        shutil.copyfile(DATA / sample / f"{name}.head16k", tmp_path / name)
    files = run_cli("redo", "files", str(tmp_path), "--format", "json")
    assert files.exit_code == 65
    report = files.json()
    assert report["missing_files"] == []
    first = report["files"][0]
    assert (first["name"], first["status"]) == ("ib_logfile0", "truncated")
    assert f"needs at least {needed} bytes; the file has 16384 bytes" in first["message"]
    recovery = run_cli("redo", "recovery", str(tmp_path), "--format", "json")
    assert recovery.exit_code == 65
    assert recovery.json()["status"] == "truncated"
    assert not any("Missing" in p for p in recovery.json()["problems"])
