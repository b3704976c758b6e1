"""Bad input: every file gets a status and message, the others are still reported, exit 65 (66 if nothing)."""

from __future__ import annotations

import os
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mysqlinspect.redo import files as files_module
from mysqlinspect.redo import layout as L
from tests.unit.redo_samples import head_bytes, restore

Run = Callable[..., Any]


def _statuses(result: Any) -> dict[str, str]:
    return {f["name"]: f["status"] for f in result.json()["files"]}


def _good_and(tmp_path: Path, name: str, data: bytes) -> tuple[Path, Path]:
    good = restore("mysql-9.7.4", tmp_path)
    bad = tmp_path / "bad" / name
    bad.parent.mkdir()
    bad.write_bytes(data)
    return good, bad


@pytest.mark.parametrize(("name", "data", "status", "needle"), [
    ("ib_logfile0", b"\x00\x00\x00\x06" + b"\x01" * 96, "truncated", "shorter than a redo file header"),
    ("ib_logfile0", b"", "truncated", "empty file"),
    ("ib_logfile0", os.urandom(4096), "unknown_format", "not a known redo log format"),
    ("binlog.000001", b"\xfebin" + bytes(4092), "unknown_format", "binary log"),
    ("t1.ibd", bytes(24) + struct.pack(">H", 8) + bytes(16358), "unknown_format", "InnoDB tablespace"),
    # Regression: page 0 of a real MariaDB 10.11 .ibd (space 2, FIL_PAGE_PREV/NEXT = FIL_NULL) decoded as "ok".
    ("t2.ibd", bytes(8) + b"\xff" * 8 + bytes.fromhex("00000000000099950008000000000000")
     + bytes.fromhex("00000000000200000002000000000000") + bytes(16336), "unknown_format", "InnoDB tablespace"),
    ("ib_logfile0", head_bytes("mysql-5.7.17", "ib_logfile0")[:1000], "truncated", "shorter than the 2048-byte"),
    ("ib_logfile0", bytes(4096) + b"\x01" + bytes(4095), "unknown_format", "header is all zero"),
])
def test_bad_file_is_reported_next_to_good_ones(tmp_path: Path, run_cli: Run, name: str, data: bytes, status: str,
                                                needle: str) -> None:
    good, bad = _good_and(tmp_path, name, data)
    result = run_cli("redo", "files", str(good), str(bad), "--format", "json")
    assert result.exit_code == 65
    files = {f["name"]: f for f in result.json()["files"]}
    assert files[name]["status"] == status
    assert needle in files[name]["message"]
    assert files["#ib_redo5"]["status"] == "ok"
    assert result.json()["latest_checkpoint"]["file"] == "#ib_redo5"


def test_header_checksum_mismatch(tmp_path: Path, run_cli: Run) -> None:
    data = bytearray(head_bytes("mysql-5.7.17", "ib_logfile0"))
    data[20] ^= 1  # inside the creator string
    _, bad = _good_and(tmp_path, "ib_logfile0", bytes(data))
    result = run_cli("redo", "files", str(bad), "--format", "json")
    assert result.exit_code == 65
    assert _statuses(result) == {"ib_logfile0": "header_checksum_mismatch"}
    assert "CRC-32C stored 0x78452470" in result.json()["files"][0]["message"]


def test_one_bad_checkpoint_slot_keeps_the_other(tmp_path: Path, run_cli: Run) -> None:
    data = bytearray(head_bytes("mysql-8.4.7", "#ib_redo7"))
    data[L.CHECKPOINT_2 + 12] ^= 0x10  # slot 2 held the latest checkpoint
    folder = tmp_path / "#innodb_redo"
    folder.mkdir()
    (folder / "#ib_redo7").write_bytes(bytes(data) + bytes(3276800 - len(data)))
    result = run_cli("redo", "files", str(tmp_path), "--format", "json")
    assert result.exit_code == 65
    report = result.json()["files"][0]
    assert report["status"] == "checkpoint_checksum_mismatch"
    assert [s["status"] for s in report["checkpoints"]] == ["ok", "checksum_mismatch"]
    assert result.json()["latest_checkpoint"]["lsn"] == 24714895  # fell back to slot 1


def test_no_valid_checkpoint_anywhere(tmp_path: Path, run_cli: Run) -> None:
    data = bytearray(head_bytes("mariadb-10.11.6", "ib_logfile0"))
    data[L.MDB_CHECKPOINT_1 + 3] ^= 1
    data[L.MDB_CHECKPOINT_2 + 3] ^= 1
    (tmp_path / "ib_logfile0").write_bytes(bytes(data))
    files = run_cli("redo", "files", str(tmp_path), "--format", "json")
    assert files.exit_code == 65
    assert files.json()["files"][0]["status"] == "no_valid_checkpoint"
    recovery = run_cli("redo", "recovery", str(tmp_path), "--format", "json")
    assert recovery.exit_code == 65
    assert recovery.json()["status"] == "no_checkpoint"


def test_directory_without_redo_files_is_66(tmp_path: Path, run_cli: Run) -> None:
    (tmp_path / "ibdata1").write_bytes(bytes(1024))
    for command in ("files", "recovery"):
        result = run_cli("redo", command, str(tmp_path))
        assert result.exit_code == 66
        assert "no redo log files" in result.stderr
        assert "Traceback" not in result.stderr


def test_missing_path_is_66_and_reported_beside_others(tmp_path: Path, run_cli: Run) -> None:
    assert run_cli("redo", "files", str(tmp_path / "nope")).exit_code == 66
    good = restore("mysql-9.7.4", tmp_path)
    result = run_cli("redo", "files", str(good), str(tmp_path / "nope"), "--format", "json")
    assert result.exit_code == 65
    assert _statuses(result)["nope"] == "not_found"


def test_dangling_symlink_alone_is_66(tmp_path: Path, run_cli: Run) -> None:
    """Regression: a dangling symbolic link counted as found, so nothing readable still exited 65."""
    link = tmp_path / "ib_logfile0"
    link.symlink_to(tmp_path / "gone")
    for command in ("files", "recovery"):
        result = run_cli("redo", command, str(link))
        assert result.exit_code == 66
        assert "dangling symbolic link" in result.stderr


def test_unreadable_file(tmp_path: Path, run_cli: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    good = restore("mysql-9.7.4", tmp_path)
    secret = tmp_path / "ib_logfile0"
    secret.write_bytes(head_bytes("mysql-5.7.17", "ib_logfile0"))
    secret.chmod(0)
    if os.geteuid() == 0:  # root reads anything: make open() refuse this one file as the kernel would
        real_open = open

        def refusing_open(path: Any, *args: Any, **kwargs: Any) -> Any:
            if Path(path) == secret:
                raise PermissionError(13, "Permission denied", str(path))
            return real_open(path, *args, **kwargs)

        monkeypatch.setattr(files_module, "open", refusing_open, raising=False)
    result = run_cli("redo", "files", str(good), str(secret), "--format", "json")
    assert result.exit_code == 65
    assert _statuses(result) == {"#ib_redo5": "ok", "ib_logfile0": "unreadable"}


def test_spares_are_listed_as_spares(tmp_path: Path, run_cli: Run) -> None:
    good = restore("mysql-9.7.4", tmp_path)
    (good / "#innodb_redo" / "#ib_redo6_tmp").write_bytes(bytes(65536))
    result = run_cli("redo", "files", str(good), "--format", "json")
    assert result.exit_code == 0
    assert _statuses(result) == {"#ib_redo5": "ok", "#ib_redo6_tmp": "spare"}


def test_unknown_format_reports_raw_value(tmp_path: Path, run_cli: Run) -> None:
    data = bytearray(head_bytes("mysql-8.0.44", "#ib_redo8"))
    data[0:4] = (7).to_bytes(4, "big")
    (tmp_path / "ib_logfile0").write_bytes(bytes(data))
    result = run_cli("redo", "files", str(tmp_path / "ib_logfile0"), "--format", "json")
    assert result.exit_code == 65
    report = result.json()["files"][0]
    assert report["status"] == "unknown_format"
    assert "format value 7 (0x00000007)" in report["message"]


def test_encrypted_mariadb_formats_are_recognised() -> None:
    from mysqlinspect.redo.layout import format_info

    info = format_info(L.FORMAT_MDB_10_4 | L.FORMAT_ENCRYPTED)
    assert info.known and info.encrypted_flag and "encrypted" in info.name
    assert not format_info(0x50687975).known
    assert format_info(0x50687975).vendor == "mariadb"


def test_mysql_keyring_encryption_block_is_recognised(tmp_path: Path) -> None:
    data = bytearray(head_bytes("mysql-8.0.44", "#ib_redo8"))
    base = L.ENCRYPTION_BLOCK + L.ENCRYPTION_MAGIC_OFFSET
    data[base:base + 3] = b"lCC"
    data[base + 3:base + 7] = (5).to_bytes(4, "big")
    data[base + 7:base + 43] = b"3e1bd4a8-1111-2222-3333-444455556666"
    from mysqlinspect.redo.structs import decode_header

    enc = decode_header(bytes(data)).encryption
    assert (enc.encrypted, enc.key_id, enc.server_uuid) == (True, 5, "3e1bd4a8-1111-2222-3333-444455556666")


def test_fifo_is_not_opened(tmp_path: Path, run_cli: Run) -> None:
    fifo = tmp_path / "ib_logfile0"
    os.mkfifo(fifo)
    good = restore("mysql-9.7.4", tmp_path)
    result = run_cli("redo", "files", str(good), str(fifo), "--format", "json")
    assert result.exit_code == 65
    assert _statuses(result)["ib_logfile0"] == "unreadable"
