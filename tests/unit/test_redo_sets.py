"""Redo sets with holes, truncated and foreign files, files of different servers (issue 13, redo items 1-4).

The truncated cases are the real 16 KiB heads of /work/shared/fixtures/redo (copied in tests/data/redo), given
as they are (not extended to their original size): the checkpoint of every one lies past its data.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mysqlinspect.redo import layout as L
from mysqlinspect.redo import synthetic as S
from mysqlinspect.redo.recovery import preview_recovery
from tests.unit.redo_samples import DATA, head_bytes

Run = Callable[..., Any]
KIB = 1024

# Real heads whose latest checkpoint lies past the 16 KiB kept: (sample, file, offset the checkpoint needs).
TRUNCATED_HEADS = [
    ("mysql-5.7.17", "ib_logfile0", 2528256),
    ("mariadb-10.2.14", "ib_logfile0", 1828352),
    ("mariadb-10.4.10", "ib_logfile0", 1177088),
    ("mariadb-10.5.5", "ib_logfile0", 1120256),
    ("mysql-8.0.44", "#ib_redo8", 2158080),
    ("mysql-8.4.7", "#ib_redo7", 1832448),
    ("mysql-9.7.4", "#ib_redo5", 3055616),
]


def _head_file(tmp_path: Path, sample: str, name: str) -> Path:
    path = tmp_path / f"{name}.head16k"
    shutil.copyfile(DATA / sample / f"{name}.head16k", path)
    return path


@pytest.mark.parametrize(("sample", "name", "needed"), TRUNCATED_HEADS)
def test_truncated_real_heads_are_truncated_with_the_offset_needed(tmp_path: Path, run_cli: Run, sample: str,
                                                                   name: str, needed: int) -> None:
    """Regression: ring heads blamed "another block number"; 8.0.30+ heads were ok / exit 0 in `redo files`."""
    path = _head_file(tmp_path, sample, name)
    files = run_cli("redo", "files", str(path), "--format", "json")
    assert files.exit_code == 65
    report = files.json()["files"][0]
    assert report["status"] == "truncated"
    assert f"needs at least {needed} bytes; the file has 16384 bytes" in report["message"]
    assert "truncated" in files.stderr and "Traceback" not in files.stderr
    recovery = run_cli("redo", "recovery", str(path), "--format", "json")
    assert recovery.exit_code == 65
    preview = recovery.json()
    assert preview["status"] == "truncated"
    assert preview["end_lsn"] is None and preview["stop_reason"] is None
    assert not any("block number" in p for p in preview["problems"])
    assert recovery.stderr.startswith("mysqlinspect: error: redo recovery: truncated: ")
    assert len(recovery.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(("data", "status"), [
    (b"", "truncated"),
    (b"\x01", "truncated"),
    (b"\x00\x00\x00\x06" + bytes(700), "truncated"),
    (os.urandom(8192), "unknown_format"),
    (b"\xfebin" + bytes(8188), "unknown_format"),
])
def test_empty_short_and_foreign_files_are_not_no_checkpoint(tmp_path: Path, run_cli: Run, data: bytes,
                                                            status: str) -> None:
    path = tmp_path / "ib_logfile0"
    path.write_bytes(data)
    result = run_cli("redo", "recovery", str(path), "--format", "json")
    assert result.exit_code == 65
    assert result.json()["status"] == status
    assert result.stderr.startswith(f"mysqlinspect: error: redo recovery: {status.replace('_', ' ')}: ")


def test_one_byte_is_singular(tmp_path: Path, run_cli: Run) -> None:
    (tmp_path / "ib_logfile0").write_bytes(b"\x01")
    report = run_cli("redo", "files", str(tmp_path), "--format", "json").json()["files"][0]
    assert report["message"].startswith("1 byte: ")


def test_700_byte_8_0_30_file_has_no_end_lsn(tmp_path: Path, run_cli: Run) -> None:
    """Regression: a file shorter than its header showed an end LSN below its start LSN."""
    folder = tmp_path / "#innodb_redo"
    folder.mkdir()
    (folder / "#ib_redo5").write_bytes(head_bytes("mysql-9.7.4", "#ib_redo5")[:700])
    report = run_cli("redo", "files", str(tmp_path), "--format", "json").json()["files"][0]
    assert report["status"] == "truncated"
    assert report["start_lsn"] == 16381952
    assert report["end_lsn"] is None


def _holed_mysql_set(tmp_path: Path) -> tuple[int, int]:
    """#ib_redo3..#ib_redo7 with the log from #ib_redo3 into #ib_redo6; returns (checkpoint, start of redo5)."""
    per_file = 64 * KIB - L.FILE_HDR_SIZE
    start, ckpt = 8 * 8192, 8 * 8192 + 1000
    S.write_mysql_8_0_30_set(tmp_path, 3, 5, 64 * KIB, start, ckpt, start + 3 * per_file + 777)
    (tmp_path / "#innodb_redo" / "#ib_redo5").unlink()
    return ckpt, start + 2 * per_file


def test_missing_middle_8_0_30_file_is_exit_65_naming_it(tmp_path: Path, run_cli: Run) -> None:
    """Regression: the walk stopped at the hole and reported a clean recovery, exit 0."""
    _, hole_start = _holed_mysql_set(tmp_path)
    expected = f"Missing redo log file ./#innodb_redo/#ib_redo5 (with start_lsn = {hole_start})"
    recovery = run_cli("redo", "recovery", str(tmp_path), "--format", "json")
    assert recovery.exit_code == 65
    preview = recovery.json()
    assert preview["status"] == "missing_file"
    assert expected in preview["problems"]
    assert preview["end_lsn"] is None
    assert expected in recovery.stderr
    files = run_cli("redo", "files", str(tmp_path), "--format", "json")
    assert files.exit_code == 65
    assert files.json()["missing_files"] == [expected]
    table = run_cli("redo", "files", str(tmp_path), "--format", "table")
    assert "#ib_redo5" in table.stdout and "with start_lsn" in table.stdout


def test_lsn_ranges_that_do_not_join_are_noted(tmp_path: Path, run_cli: Run) -> None:
    per_file = 64 * KIB - L.FILE_HDR_SIZE
    S.write_mysql_8_0_30_set(tmp_path, 3, 1, 64 * KIB, 65536, 66000, 66100)
    S.write_mysql_8_0_30_set(tmp_path, 4, 1, 64 * KIB, 65536 + 2 * per_file, 0, 0)
    files = run_cli("redo", "files", str(tmp_path), "--format", "json")
    assert files.exit_code == 65
    assert files.json()["lsn_gaps"] == [f"#ib_redo4 starts at LSN {65536 + 2 * per_file}, but #ib_redo3 ends at LSN "
                                        f"{65536 + per_file}: the LSN ranges of consecutive files do not join"]


@pytest.mark.parametrize(("other_start", "overlap"), [(65536 + 64 * KIB - 2048, False), (65536 + 4096, True)])
def test_files_of_different_servers_give_a_warning(tmp_path: Path, run_cli: Run, other_start: int,
                                                   overlap: bool) -> None:
    """Regression: #ib_redoN files of two servers were combined without a word."""
    S.write_mysql_8_0_30_set(tmp_path / "a", 3, 2, 64 * KIB, 65536, 66000, 67000, log_uuid=0x11111111)
    S.write_mysql_8_0_30_set(tmp_path / "b", 4, 1, 64 * KIB, other_start, 0, 0, log_uuid=0x22222222)
    other = tmp_path / "a" / "#innodb_redo" / "#ib_redo4"
    other.unlink()
    shutil.move(tmp_path / "b" / "#innodb_redo" / "#ib_redo4", other)
    result = run_cli("redo", "files", str(tmp_path / "a"), "--format", "json")
    assert result.exit_code == 0  # a warning does not change the exit code
    warnings = result.json()["warnings"]
    assert len(warnings) == 1 and "different servers" in warnings[0]
    assert "0x11111111 (#ib_redo3)" in warnings[0] and "0x22222222 (#ib_redo4)" in warnings[0]
    assert ("their LSN ranges overlap" in warnings[0]) is overlap
    table = run_cli("redo", "files", str(tmp_path / "a"), "--format", "table")
    assert "warning:" in table.stdout
    assert "warning:" in run_cli("redo", "recovery", str(tmp_path / "a"), "--format", "table").stdout


def test_walk_never_continues_into_another_servers_file(tmp_path: Path) -> None:
    """Regression: a file of another server with the next id and valid blocks at the next LSNs was walked on."""
    per_file = 64 * KIB - L.FILE_HDR_SIZE
    start = 65536
    S.write_mysql_8_0_30_set(tmp_path / "a", 3, 2, 64 * KIB, start, start + 1000, start + per_file + 3000,
                             log_uuid=0x11111111)
    S.write_mysql_8_0_30_set(tmp_path / "b", 4, 1, 64 * KIB, start + per_file, 0, start + per_file + 9000,
                             log_uuid=0x22222222)
    shutil.copyfile(tmp_path / "b" / "#innodb_redo" / "#ib_redo4", tmp_path / "a" / "#innodb_redo" / "#ib_redo4")
    preview = preview_recovery(tmp_path / "a")
    assert preview.end_lsn == start + per_file
    assert (preview.stop_reason, preview.stop_file) == ("end_of_files", None)
    assert preview.file_set.warnings


def _ring(tmp_path: Path, checkpoint_in_file: int) -> tuple[int, int]:
    file_size = 1024 * KIB  # the smallest innodb_log_file_size servers accept
    per_file = file_size - L.FILE_HDR_SIZE
    start = 8704
    ckpt = start + checkpoint_in_file * per_file + 500
    S.write_ring_group(tmp_path, L.FORMAT_5_7_9, 2, file_size, start, ckpt, ckpt + 20000)
    return ckpt, file_size


def test_missing_ib_logfile1_of_a_group_is_exit_65(tmp_path: Path, run_cli: Run) -> None:
    """Regression: with ib_logfile1 gone the checkpoint offset pointed past the group and the walk read the
    wrong block, blaming "another block number"."""
    _ring(tmp_path, 1)
    (tmp_path / "ib_logfile1").unlink()
    preview = preview_recovery(tmp_path)
    assert preview.status == "missing_file"
    assert any(p.startswith("Missing redo log file ib_logfile1: the latest checkpoint") for p in preview.problems)
    assert run_cli("redo", "recovery", str(tmp_path)).exit_code == 65


def test_truncated_ib_logfile1_of_a_group(tmp_path: Path) -> None:
    _ring(tmp_path, 1)
    with open(tmp_path / "ib_logfile1", "r+b") as fh:
        fh.truncate(4096)
    preview = preview_recovery(tmp_path)
    assert preview.status == "truncated"
    files = {f.name: f for f in preview.file_set.files}
    assert files["ib_logfile1"].status == "truncated"
    assert "4096 bytes, but the other files of the group have 1048576" in (files["ib_logfile1"].message or "")


def test_gap_in_ib_logfile_ids(tmp_path: Path, run_cli: Run) -> None:
    S.write_ring_group(tmp_path, L.FORMAT_5_7_9, 3, 64 * KIB, 8704, 9000, 9100)
    (tmp_path / "ib_logfile1").unlink()
    files = run_cli("redo", "files", str(tmp_path), "--format", "json")
    assert files.exit_code == 65
    assert files.json()["missing_files"] == ["Missing redo log file ib_logfile1: the group has files up to "
                                             "ib_logfile2"]


def test_temporary_ib_logfile101_is_not_part_of_the_group(tmp_path: Path, run_cli: Run) -> None:
    S.write_ring_group(tmp_path, L.FORMAT_5_7_9, 2, 64 * KIB, 8704, 9000, 9100)
    (tmp_path / "ib_logfile101").write_bytes(bytes(64 * KIB))
    files = run_cli("redo", "files", str(tmp_path), "--format", "json")
    assert files.json()["missing_files"] == []
    assert files.exit_code == 0


def test_creator_is_shown_as_stored(tmp_path: Path, run_cli: Run) -> None:
    """Regression: the four spaces a MySQL 5.5 log stores as its creator were stripped to ""."""
    S.write_ring_group(tmp_path, L.FORMAT_LEGACY, 2, 64 * KIB, 8704, 9000, 9100, creator="    ")
    files = run_cli("redo", "files", str(tmp_path), "--format", "json").json()["files"]
    assert files[0]["creator"] == "    "
    table = run_cli("redo", "files", str(tmp_path), "--format", "table").stdout
    assert '"    "' in table


def test_all_zero_slot_is_empty_without_a_checksum_verdict(tmp_path: Path, run_cli: Run) -> None:
    """Regression: an all-zero slot said `empty` with checksum `mismatch`."""
    data = bytearray(head_bytes("mariadb-10.11.6", "ib_logfile0"))
    data[L.MDB_CHECKPOINT_1:L.MDB_CHECKPOINT_1 + L.MDB_CKPT_SIZE] = bytes(L.MDB_CKPT_SIZE)
    (tmp_path / "ib_logfile0").write_bytes(bytes(data))
    slots = run_cli("redo", "files", str(tmp_path), "--format", "json").json()["files"][0]["checkpoints"]
    assert (slots[0]["status"], slots[0]["checksum"]) == ("empty", "none")
    assert (slots[1]["status"], slots[1]["checksum"]) == ("ok", "ok")
    table = run_cli("redo", "files", str(tmp_path), "--format", "table").stdout
    assert "mismatch" not in table


def test_spares_fold_into_one_line(tmp_path: Path, run_cli: Run) -> None:
    S.write_mysql_8_0_30_set(tmp_path, 3, 2, 64 * KIB, 65536, 66000, 66100)
    for n in range(5, 35):
        (tmp_path / "#innodb_redo" / f"#ib_redo{n}_tmp").write_bytes(bytes(4096))
    result = run_cli("redo", "files", str(tmp_path), "--format", "table")
    assert result.exit_code == 0
    assert "#ib_redo5_tmp … #ib_redo34_tmp (30 files)" in result.stdout
    assert result.stdout.count("_tmp") == 2  # first and last name, on one line
    assert len(run_cli("redo", "files", str(tmp_path), "--format", "json").json()["files"]) == 32


def test_recovery_table_names_the_unit_scanned(tmp_path: Path, run_cli: Run) -> None:
    """Regression: "mini-transactions scanned" was shown for MySQL logs (and for no walk at all)."""
    S.write_mysql_8_0_30_set(tmp_path, 3, 2, 64 * KIB, 65536, 66000, 66100)
    table = run_cli("redo", "recovery", str(tmp_path), "--format", "table").stdout
    assert "blocks scanned" in table and "mini-transactions" not in table
    _holed_mysql_set(tmp_path / "holed")
    table = run_cli("redo", "recovery", str(tmp_path / "holed"), "--format", "table").stdout
    assert "scanned" not in table
    writer = S.MariaRingWriter(8192)
    writer.mtr(S.write_record(3, 1, b"abc"))
    ckpt = writer.lsn
    slot_end = writer.mtr(S.file_checkpoint_record(ckpt))
    writer.terminate()
    (tmp_path / "maria").mkdir()
    (tmp_path / "maria" / "ib_logfile0").write_bytes(writer.file_bytes(ckpt, slot_end))
    table = run_cli("redo", "recovery", str(tmp_path / "maria"), "--format", "table").stdout
    assert "mini-transactions scanned" in table and "blocks scanned" not in table


def test_files_exit_65_prints_its_line_on_stderr(tmp_path: Path, run_cli: Run) -> None:
    """Regression: exit-65 redo errors printed nothing on stderr."""
    data = bytearray(head_bytes("mysql-5.7.17", "ib_logfile0"))
    data[20] ^= 1
    (tmp_path / "ib_logfile0").write_bytes(bytes(data))
    result = run_cli("redo", "files", str(tmp_path), "--format", "table")
    assert result.exit_code == 65
    assert result.stderr == ("mysqlinspect: error: redo files: ib_logfile0: header checksum mismatch: header CRC-32C "
                             "stored 0x78452470, computed 0x7e0a5b56\n")


@pytest.mark.parametrize(("sample", "name"), [("mysql-8.0.44", "#ib_redo8"), ("mysql-9.7.4", "#ib_redo5")])
def test_checkpoints_past_a_truncated_file_are_not_called_invalid(tmp_path: Path, run_cli: Run, sample: str,
                                                                  name: str) -> None:
    """Regression: with both checkpoint slots valid (checksum ok) but past the 16 KiB kept, `redo files` still
    ended with "no valid checkpoint found" and `redo recovery` with "no valid checkpoint in any file"."""
    path = _head_file(tmp_path, sample, name)
    table = run_cli("redo", "files", str(path), "--format", "table").stdout
    assert "no valid checkpoint" not in table
    assert "no usable checkpoint: the valid checkpoints lie past the data the files hold (truncated)" in table
    problems = run_cli("redo", "recovery", str(path), "--format", "json").json()["problems"]
    assert not any("no valid checkpoint" in p for p in problems)
    assert problems[-1] == ("no usable checkpoint: the valid checkpoints lie past the data the files hold "
                            "(truncated): InnoDB could not start on these files")


def test_files_without_a_header_have_no_checkpoint_to_read(tmp_path: Path, run_cli: Run) -> None:
    (tmp_path / "ib_logfile0").write_bytes(b"\x01")
    table = run_cli("redo", "files", str(tmp_path), "--format", "table").stdout
    assert "no checkpoint to read: no file has a redo log header" in table
    problems = run_cli("redo", "recovery", str(tmp_path), "--format", "json").json()["problems"]
    assert problems[-1] == "no checkpoint to read: no file has a redo log header: InnoDB could not start on these files"


def test_lone_ib_logfile0_of_a_mysql_group_is_exit_65(tmp_path: Path, run_cli: Run) -> None:
    """Checkpoint in ib_logfile0, ib_logfile1 deleted: MySQL 5.5 to 8.0.29 keep at least two files and stop
    ("Only one log file found."); the offsets alone could not show it before the log wraps."""
    _ring(tmp_path, 0)
    (tmp_path / "ib_logfile1").unlink()
    result = run_cli("redo", "recovery", str(tmp_path), "--format", "json")
    assert result.exit_code == 65
    assert any("Missing redo log file ib_logfile1" in p and "Only one log file found." in p
               for p in preview_recovery(tmp_path).problems)


def test_lone_ib_logfile0_of_mariadb_10_4_and_a_cut_head_are_not_missing_files(tmp_path: Path, run_cli: Run) -> None:
    """MariaDB 10.2-10.4 accept a group of one file; a head smaller than any log file size is a cut copy."""
    (tmp_path / "m").mkdir()
    (tmp_path / "h").mkdir()
    S.write_ring_group(tmp_path / "m", L.FORMAT_MDB_10_4, 1, 1024 * KIB, 8704, 9000, 9100, creator="MariaDB 10.4.34")
    assert run_cli("redo", "files", str(tmp_path / "m"), "--format", "json").json()["missing_files"] == []
    S.write_ring_group(tmp_path / "h", L.FORMAT_5_7_9, 1, 64 * KIB, 8704, 9000, 9100)
    assert run_cli("redo", "files", str(tmp_path / "h"), "--format", "json").json()["missing_files"] == []
