"""Recovery preview on synthetic logs built with server-exact checksums: ends, wraps, clean shutdowns, damage."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mysqlinspect.redo import layout as L
from mysqlinspect.redo import synthetic as S
from mysqlinspect.redo.recovery import RecoveryPreview, preview_recovery

KIB = 1024


def _checkpoint(preview: RecoveryPreview) -> tuple[int, str]:
    assert preview.checkpoint is not None
    return preview.checkpoint.lsn, preview.checkpoint.file


def test_mysql_8_0_30_walk_crosses_files(tmp_path: Path) -> None:
    start, ckpt = 8 * 8192, 8 * 8192 + 1000
    end = start + 3 * (64 * KIB - 2048) + 777
    S.write_mysql_8_0_30_set(tmp_path, 3, 5, 64 * KIB, start, ckpt, end)
    seen: list[tuple[int, int]] = []
    preview = preview_recovery(tmp_path, progress=lambda done, total: seen.append((done, total)))
    assert preview.status == "ok" and preview.ok
    assert (_checkpoint(preview), preview.end_lsn) == ((ckpt, "#ib_redo3"), end)
    assert preview.bytes_to_apply == end - ckpt
    assert preview.clean_shutdown is False
    assert preview.stop_reason == "partial_block" and preview.stop_file == "#ib_redo6"
    assert preview.scan_start_lsn == ckpt - ckpt % 512
    assert seen and all(done <= total for done, total in seen)


def test_mysql_clean_shutdown(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    lsn = 8 * 8192 + 4000
    S.write_mysql_8_0_30_set(tmp_path, 0, 2, 64 * KIB, 8 * 8192, lsn, lsn)
    result = run_cli("redo", "recovery", str(tmp_path), "--format", "json", "--progress")
    assert result.exit_code == 0, result.stderr
    data = result.json()
    assert (data["checkpoint_lsn"], data["end_lsn"], data["bytes_to_apply"]) == (lsn, lsn, 0)
    assert data["clean_shutdown"] is True
    assert data["checkpoint_file"] == "#ib_redo0"


def test_ring_group_wraps_across_files(tmp_path: Path) -> None:
    per_file = 64 * KIB - 2048
    start, ckpt = 8704, 8704 + 3 * per_file + 500  # the log went round the 2-file group once
    end = ckpt + 20000
    S.write_ring_group(tmp_path, L.FORMAT_5_7_9, 2, 64 * KIB, start, ckpt, end)
    preview = preview_recovery(tmp_path)
    assert preview.ok, preview.problems
    assert preview.checkpoint is not None and preview.checkpoint.number == 7
    assert preview.end_lsn == end
    assert preview.bytes_to_apply == end - ckpt


def test_legacy_format_0_with_fold_checksums(tmp_path: Path) -> None:
    start, ckpt = 8192, 8192 + 30000
    S.write_ring_group(tmp_path, L.FORMAT_LEGACY, 2, 64 * KIB, start, ckpt, ckpt + 7000, creator="    ")
    preview = preview_recovery(tmp_path)
    assert preview.ok, preview.problems
    assert preview.format is not None and preview.format.value == 0
    assert (preview.end_lsn, preview.clean_shutdown) == (ckpt + 7000, False)


def test_damaged_block_ends_the_log_and_exits_65(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    start, ckpt = 8 * 8192, 8 * 8192 + 600
    paths = S.write_mysql_8_0_30_set(tmp_path, 0, 2, 64 * KIB, start, ckpt, start + 50000)
    data = bytearray(paths[0].read_bytes())
    bad_block = 2048 + 20 * 512
    data[bad_block + 100] ^= 0xFF
    paths[0].write_bytes(bytes(data))
    result = run_cli("redo", "recovery", str(tmp_path), "--format", "json")
    assert result.exit_code == 65
    out = result.json()
    assert out["status"] == "damaged_block"
    assert out["end_lsn"] == start + 20 * 512
    assert out["stop_reason"] == "checksum_mismatch"
    assert "bad checksum" in out["stop_message"]


def _maria_log(tmp_path: Path, capacity: int, n_mtrs: int, checkpoint_at: int, encrypted: bool = False,
               clean: bool = False) -> tuple[Path, int, int]:
    """A log whose checkpoint (the start of mtr `checkpoint_at - 3`) is followed by its FILE_MODIFY +
    FILE_CHECKPOINT mtr after mtr `checkpoint_at`; `clean` stops right after a checkpoint at the current LSN."""
    writer = S.MariaRingWriter(capacity, encrypted=encrypted)
    rnd = random.Random(7)
    starts: list[int] = []
    ckpt = slot_end = 0
    for i in range(n_mtrs):
        payload = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 90)))
        starts.append(writer.mtr(S.write_record(5, i % 100, payload) + S.write_record(5, (i + 1) % 100, payload[:3])))
        if i == checkpoint_at:
            ckpt = writer.lsn if clean else starts[-4]
            slot_end = writer.mtr(b"\xb9\x05\x00t/a.ibd" + S.file_checkpoint_record(ckpt))
            if clean:
                break
    writer.terminate()
    path = tmp_path / "ib_logfile0"
    path.write_bytes(writer.file_bytes(ckpt, slot_end))
    return path, ckpt, writer.lsn


def test_mariadb_walk_wraps_many_laps(tmp_path: Path) -> None:
    path, ckpt, end = _maria_log(tmp_path, 4096, 600, 560)
    preview = preview_recovery(path)
    assert preview.ok, preview.problems
    assert (_checkpoint(preview)[0], preview.end_lsn) == (ckpt, end)
    assert end - L.MDB_FIRST_LSN > 4 * 4096  # went round the ring several times
    assert preview.record_counts is not None
    assert preview.record_counts["WRITE"] == 2 * (600 - 557) and preview.record_counts["FILE_CHECKPOINT"] == 1
    assert preview.clean_shutdown is False


def test_mariadb_encrypted_tail(tmp_path: Path) -> None:
    path, _, end = _maria_log(tmp_path, 8192, 200, 150, encrypted=True)
    preview = preview_recovery(path)
    assert preview.ok, preview.problems
    assert preview.end_lsn == end
    holder = preview.file_set.files[0]
    assert holder.header is not None and holder.header.encryption.encrypted


def test_mariadb_clean_shutdown(tmp_path: Path) -> None:
    path, ckpt, end = _maria_log(tmp_path, 8192, 50, 40, clean=True)
    preview = preview_recovery(path)
    assert preview.ok, preview.problems
    assert (preview.clean_shutdown, preview.bytes_to_apply) == (True, 0)
    assert preview.end_lsn == end == ckpt + 10 + 16  # the FILE_MODIFY record, then FILE_CHECKPOINT


def test_mariadb_missing_file_checkpoint_is_corrupt(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    path, _, _ = _maria_log(tmp_path, 8192, 50, 40)
    data = bytearray(path.read_bytes())
    slot_end = int.from_bytes(data[L.MDB_CHECKPOINT_1 + 8:L.MDB_CHECKPOINT_1 + 16], "big")
    data[L.MDB_START_OFFSET + slot_end - L.MDB_FIRST_LSN] ^= 0x40  # break the checkpoint mtr's framing
    path.write_bytes(bytes(data))
    result = run_cli("redo", "recovery", str(path), "--format", "json")
    assert result.exit_code == 65
    assert result.json()["status"] == "corrupt"
    assert "Missing FILE_CHECKPOINT" in result.json()["stop_message"]


def test_recovery_table_output(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    path, _, _ = _maria_log(tmp_path, 8192, 80, 60)
    result = run_cli("redo", "recovery", str(path), "--format", "table")
    assert result.exit_code == 0, result.stderr
    assert "end of valid log" in result.stdout and "WRITE" in result.stdout


def test_damaged_spare_slot_does_not_stop_the_walk(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    start, ckpt = 8 * 8192, 8 * 8192 + 600
    end = start + 2 * (64 * KIB - 2048) + 300
    paths = S.write_mysql_8_0_30_set(tmp_path, 0, 3, 64 * KIB, start, ckpt, end)
    data = bytearray(paths[1].read_bytes())
    data[L.CHECKPOINT_2 + 8] = 0x55  # a slot of a file the checkpoint is not in
    paths[1].write_bytes(bytes(data))
    result = run_cli("redo", "recovery", str(tmp_path), "--format", "json")
    assert result.exit_code == 65  # the damaged slot is reported...
    out = result.json()
    assert out["end_lsn"] == end  # ...but the walk reads that file's blocks like the server does
    assert any("#ib_redo1" in p for p in out["problems"])
