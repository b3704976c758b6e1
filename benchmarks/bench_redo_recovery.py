"""Benchmark `redo recovery` block validation against a plain read of the same bytes, in the same run.

The redo set is generated: MySQL 8.0.30+ `#innodb_redo/#ib_redoN` files (32 files, 1 GiB by default) made of
the real data blocks of the MySQL 9.7.4 sample in tests/data/redo, renumbered for their LSN and with a
correct CRC-32C, so every block passes the checks the server makes; the log ends in the last file. (A live
server would need several minutes of write load to produce 1 GiB of redo on a 2-core machine.)

    .venv/bin/python benchmarks/bench_redo_recovery.py [--size-mib 1024] [--dir /tmp] [--runs 3]

Prints MB/s for: a plain read of the files (os.readv into one buffer, the same chunk size as the walk),
the vectorised check alone over bytes already in memory, and the whole `preview_recovery()`; plus the ratio
of the preview to the plain read. A MariaDB 10.8+ mini-transaction walk is measured too (smaller, pure Python).
"""

from __future__ import annotations

import argparse
import os
import shutil
import struct
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mysqlinspect.redo import layout as L
from mysqlinspect.redo import synthetic as S
from mysqlinspect.redo.blockwalk import CHUNK_BYTES
from mysqlinspect.redo.checksum import BlockChecker, block_hdr_no, crc32c
from mysqlinspect.redo.mariadb.spans import walk_page_mtrs
from mysqlinspect.redo.mariadb.walk import MtrRing
from mysqlinspect.redo.recovery import preview_recovery

SAMPLE = Path(__file__).resolve().parent.parent / "tests" / "data" / "redo" / "mysql-9.7.4" / "#ib_redo5.head16k"
N_FILES = 32
T = TypeVar("T")


def real_payloads() -> list[bytes]:
    data = SAMPLE.read_bytes()
    return [data[o + L.BLOCK_HDR_SIZE:o + L.BLOCK_CHECKSUM_OFFSET] for o in range(2048, len(data), L.BLOCK_SIZE)]


def make_block(lsn: int, payload: bytes, data_len: int = L.BLOCK_SIZE) -> bytes:
    head = struct.pack(">IHHI", block_hdr_no(lsn), data_len, L.BLOCK_HDR_SIZE, 1) + payload
    return head + struct.pack(">I", crc32c(head))


def generate(directory: Path, total_bytes: int) -> tuple[int, int]:
    """Write the set; returns (checkpoint LSN, end LSN)."""
    redo = directory / L.REDO_DIR_NAME
    redo.mkdir(parents=True)
    file_size = total_bytes // N_FILES + L.FILE_HDR_SIZE
    per_file = file_size - L.FILE_HDR_SIZE
    payloads = real_payloads()
    start = 16 * 1024 * 1024
    checkpoint = start + 1000
    end = start + N_FILES * per_file - 3 * L.BLOCK_SIZE + 200
    for i in range(N_FILES):
        file_start = start + i * per_file
        with open(redo / f"#ib_redo{i}", "wb") as fh:
            full = L.FLAG_FILE_FULL if i < N_FILES - 1 else 0
            fh.write(S.file_header(L.FORMAT_8_0_30, file_start, "MySQL 9.7.4", 0xAA43C780, full))
            ckpt = checkpoint if i == 0 else 0
            fh.write(S.checkpoint_block(L.FORMAT_8_0_30, ckpt) + bytes(L.BLOCK_SIZE)
                     + S.checkpoint_block(L.FORMAT_8_0_30, 0))
            parts = []
            for n in range(per_file // L.BLOCK_SIZE):
                lsn = file_start + n * L.BLOCK_SIZE
                if lsn >= end:
                    break
                parts.append(make_block(lsn, payloads[n % len(payloads)], min(L.BLOCK_SIZE, end - lsn)))
            fh.write(b"".join(parts))
            fh.truncate(file_size)
    return checkpoint, end


def plain_read(directory: Path) -> int:
    total = 0
    buf = bytearray(CHUNK_BYTES)
    for path in sorted((directory / L.REDO_DIR_NAME).iterdir()):
        fd = os.open(path, os.O_RDONLY)
        try:
            while n := os.readv(fd, [buf]):
                total += n
        finally:
            os.close(fd)
    return total


def check_in_memory(directory: Path) -> tuple[int, float]:
    """The block check alone (number, data length, CRC-32C) on bytes already in memory: no I/O."""
    chunks = []
    for path in sorted((directory / L.REDO_DIR_NAME).iterdir(), key=lambda p: int(p.name[8:])):
        data = path.read_bytes()
        chunks.append((int.from_bytes(data[8:16], "big"), data[L.FILE_HDR_SIZE:]))
    checker = BlockChecker(CHUNK_BYTES)
    start = time.perf_counter()
    done = 0
    for lsn, data in chunks:
        for off in range(0, len(data), CHUNK_BYTES):
            piece = data[off:off + CHUNK_BYTES]
            checker.view[:len(piece)] = piece
            index, _ = checker.first_invalid(len(piece), lsn + off)
            done += index * L.BLOCK_SIZE
    return done, time.perf_counter() - start


def best_of(runs: int, fn: Callable[[], T]) -> tuple[float, T]:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def bench_mariadb(mib: int) -> tuple[int, float]:
    """The fast path of the MariaDB 10.8+ walk over a record area full of correctly framed 2-record mtrs (first
    lap: end byte 0x01). Real crash logs: benchmarks/bench_redo_mtr_walk.py."""
    record = S.write_record(5, 7, bytes(range(100)))
    mtr = record + record
    framed = mtr + b"\x01" + crc32c(mtr).to_bytes(4, "big")
    count = (mib << 20) // len(framed)
    area = framed * count + bytes((mib << 20) - count * len(framed))
    ring = MtrRing(area, L.MDB_FIRST_LSN, False)
    start = time.perf_counter()
    end, taken = walk_page_mtrs(ring.buf, 0, ring.capacity, 0, 1, bytearray())
    assert taken == count, (taken, count)
    return end, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--dir", default=None, help="where to write the redo set (default: a temp dir)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--mariadb-mib", type=int, default=32)
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="redo-bench-", dir=args.dir))
    try:
        t0 = time.perf_counter()
        checkpoint, end = generate(directory, args.size_mib << 20)
        print(f"generated {args.size_mib} MiB in {N_FILES} files in {time.perf_counter() - t0:.1f}s "
              f"(checkpoint {checkpoint}, end {end})")
        plain_read(directory)  # warm the page cache for both measurements
        read_s, read_bytes = best_of(args.runs, lambda: plain_read(directory))
        walk_s, preview = best_of(args.runs, lambda: preview_recovery(directory))
        assert preview.end_lsn == end and preview.ok, (preview.end_lsn, end, preview.problems)
        scanned = end - (checkpoint - checkpoint % L.BLOCK_SIZE)
        mem_bytes, mem_s = min((check_in_memory(directory) for _ in range(args.runs)), key=lambda r: r[1])
        read_mbs = read_bytes / read_s / 1e6
        walk_mbs = scanned / walk_s / 1e6
        print(f"plain read          : {read_bytes / 1e6:9.1f} MB in {read_s:.3f}s = {read_mbs:8.1f} MB/s")
        print(f"redo recovery       : {scanned / 1e6:9.1f} MB in {walk_s:.3f}s = {walk_mbs:8.1f} MB/s "
              f"({preview.blocks_scanned} blocks: number, data length and CRC-32C checked)")
        print(f"block check, no I/O : {mem_bytes / 1e6:9.1f} MB in {mem_s:.3f}s = {mem_bytes / mem_s / 1e6:8.1f} MB/s "
              "(copy into the read buffer + checks)")
        print(f"ratio recovery / plain read: {walk_mbs / read_mbs:.2f}  (best of {args.runs} runs each; "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
        size, seconds = bench_mariadb(args.mariadb_mib)
        print(f"MariaDB 10.8+ mtr walk: {size / 1e6:.1f} MB in {seconds:.3f}s = {size / seconds / 1e6:.1f} MB/s "
              "(generated 2-record mtrs; a real crash log: bench_redo_mtr_walk.py)")
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
