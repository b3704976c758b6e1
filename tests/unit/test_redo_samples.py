"""Every real redo sample decodes to the values listed in tests/data/redo/SOURCES.md."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mysqlinspect.redo.redoset import inspect_redo_files
from tests.unit.redo_samples import SAMPLES, restore

# sample -> (format, creator, start LSN, log uuid, slot 1, slot 2, latest slot); slot = (status, no, lsn, extra)
EXPECTED: dict[str, tuple[int, str, int, int | None, tuple[Any, ...], tuple[Any, ...], int]] = {
    "mysql-5.7.17": (1, "MySQL 5.7.17", 8704, None, ("ok", 6, 2534852, {"group_offset": 2528196}),
                     ("ok", 5, 2534812, {"group_offset": 2528156}), 1),
    "mysql-8.0.44": (6, "MySQL 8.0.44", 26206208, 0x8A042739, ("ok", None, 28361803, {}),
                     ("ok", None, 28361783, {}), 1),
    "mysql-8.4.7": (6, "MySQL 8.4.7", 22931456, 0xE5093713, ("ok", None, 24714895, {}),
                    ("ok", None, 24761793, {}), 2),
    "mysql-9.7.4": (6, "MySQL 9.7.4", 16381952, 0xAA43C780, ("ok", None, 19435369, {}),
                    ("ok", None, 19433502, {}), 1),
    "mariadb-10.2.14": (1, "MariaDB 10.2.14", 8704, None, ("ok", 14, 1834512, {"end_lsn": 1834512}),
                        ("ok", 13, 1834487, {"end_lsn": 1834487}), 1),
    "mariadb-10.4.10": (104, "MariaDB 10.4.10", 301056, None, ("ok", 588, 1475978, {}),
                        ("ok", 587, 1475960, {}), 1),
    "mariadb-10.5.5": (0x50485953, "MariaDB 10.5.5", 45568, None, ("ok", 1150, 1163529, {}),
                       ("ok", 1151, 1163541, {}), 2),
    "mariadb-10.6.11-mariabackup": (0x50485953, "Backup 10.6.11-MariaDB", 71692, None, ("empty", None, None, {}),
                                    ("ok", 3, 71692, {"group_offset": 2060}), 2),
    "mariadb-10.11.6": (0x50687973, "MariaDB 10.11.6", 12288, None, ("ok", None, 46964, {"end_lsn": 46964}),
                        ("ok", None, 46980, {"end_lsn": 1658987}), 2),
}


@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_sample_decodes_to_documented_values(sample: str, tmp_path: Path) -> None:
    fmt, creator, start_lsn, log_uuid, slot1, slot2, latest_slot = EXPECTED[sample]
    file_set = inspect_redo_files([restore(sample, tmp_path)])
    first = file_set.files[0]
    assert first.status == "ok", first.message
    assert first.header is not None
    assert (first.header.format.value, first.header.creator, first.header.start_lsn) == (fmt, creator, start_lsn)
    assert first.header.log_uuid == log_uuid
    assert first.header.header_checksum == "ok"
    for slot, (status, number, lsn, extra) in zip(first.checkpoints, (slot1, slot2), strict=True):
        assert (slot.status, slot.number, slot.lsn) == (status, number, lsn)
        for key, value in extra.items():
            assert getattr(slot, key) == value
    assert file_set.latest_checkpoint is not None
    assert file_set.latest_checkpoint.slot == latest_slot
    assert file_set.latest_checkpoint.file == first.name
    assert first.holds_latest_checkpoint
    assert file_set.ok


@pytest.mark.parametrize("sample", ["mysql-5.7.17", "mariadb-10.2.14", "mariadb-10.4.10"])
def test_all_zero_later_file_is_never_written(sample: str, tmp_path: Path) -> None:
    file_set = inspect_redo_files([restore(sample, tmp_path)])
    later = file_set.files[1]
    assert (later.name, later.status) == ("ib_logfile1", "never_written")
    assert file_set.ok


def test_mysql_8_0_30_file_range_and_flags(tmp_path: Path) -> None:
    file_set = inspect_redo_files([restore("mysql-9.7.4", tmp_path)])
    report = file_set.files[0]
    assert report.end_lsn == 16381952 + 3276800 - 2048
    data = report.to_dict()
    assert data["flags"] == {"value": 0, "no_logging": False, "crash_unsafe": False, "not_initialized": False,
                             "file_full": False}
    assert data["encryption"]["encrypted"] is False


def test_files_json_output(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    result = run_cli("redo", "files", str(restore("mariadb-10.11.6", tmp_path)), "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = result.json()
    assert data["status"] == "ok"
    assert data["latest_checkpoint"]["lsn"] == 46980
    assert data["latest_checkpoint"]["file"] == "ib_logfile0"
    slot = data["files"][0]["checkpoints"][1]
    assert (slot["lsn"], slot["end_lsn"], slot["checksum"]) == (46980, 1658987, "ok")
    assert data["files"][0]["format"] == 0x50687973


def test_files_table_output_for_every_sample(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    dirs = [str(restore(sample, tmp_path)) for sample in sorted(SAMPLES)]
    result = run_cli("redo", "files", *dirs, "--format", "table")
    assert result.exit_code == 0, result.stderr
    for creator in ("MySQL 5.7.17", "MySQL 9.7.4", "MariaDB 10.11.6", "Backup 10.6.11-MariaDB"):
        assert creator in result.stdout
    assert "never_written" in result.stdout


@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_recovery_on_header_only_samples_reports_missing_log(sample: str, tmp_path: Path,
                                                              run_cli: Callable[..., Any]) -> None:
    """The samples keep only their first 16 KiB: the checkpoint is found, the log behind it is not there."""
    result = run_cli("redo", "recovery", str(restore(sample, tmp_path)), "--format", "json")
    data = result.json()
    _, _, _, _, slot1, slot2, latest = EXPECTED[sample]
    assert data["checkpoint_lsn"] == (slot1 if latest == 1 else slot2)[2]
    if result.exit_code == 0:  # a log that ends right at its checkpoint block
        assert data["end_lsn"] >= data["checkpoint_lsn"]
    else:
        assert result.exit_code == 65 and data["status"] == "corrupt" and data["problems"]
