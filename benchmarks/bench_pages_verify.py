"""Benchmark `pages verify` against both servers' innochecksum and a plain read of the same files, in the same run.

Two tablespace files are generated (1 GiB each by default): a MySQL-style crc32 file (FSP flags 0x21) and a MariaDB
full_crc32 file (flags 0x15), 16 KiB pages with B-tree page headers, varied bodies and correct checksums, LSNs and
page ids, so that every tool checks every page and finds nothing wrong. (A live server would need many minutes of
inserts to grow a 1 GiB table on a 2-core machine.)

    .venv/bin/python benchmarks/bench_pages_verify.py [--size-mib 1024] [--dir /tmp] [--runs 3]

Each measurement runs as a child process (best of --runs, page cache warm), so wall time and peak RSS (GNU
time's %M) are comparable: a plain read (dd-like, 4 MiB reads); `mysqlinspect pages verify` (the CLI, interpreter
start and imports included) and the time of its page checks alone (measured inside the same kind of child);
MySQL 9.7's innochecksum (crc32 file; from the sandbox cache, run through its own loader); MariaDB's
/usr/bin/innochecksum (both files). A tool that is not on the machine is reported as missing.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from crc32c import crc32c

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mysqlinspect.errors import SandboxError
from mysqlinspect.innodb.checksum import page_crc32
from mysqlinspect.sandbox.distributions import cache_dir, mysql_97

PS = 16384
SPACE_ID = 42
ENGINE_SCRIPT = (
    "import sys, time\n"
    "from mysqlinspect.innodb.verify import verify_paths\n"
    "start = time.perf_counter(); result = verify_paths(sys.argv[1:])\n"
    "assert result.ok, result.to_dict()\n"
    "print(time.perf_counter() - start, file=sys.stderr)\n"
)
READ_SCRIPT = (
    "import os, sys\n"
    "fd = os.open(sys.argv[1], os.O_RDONLY); buf = bytearray(4 << 20)\n"
    "while os.readv(fd, [buf]): pass\n"
)


def _template(rnd: random.Random) -> bytearray:
    page = bytearray(PS)
    page[38:PS - 8] = rnd.randbytes(PS - 46)
    return page


def _page0(pages: int, flags: int) -> bytearray:
    page = bytearray(PS)
    struct.pack_into(">IIIIQHQI", page, 0, 0, 0, 0, 0, 1000, 8, 0, SPACE_ID)
    struct.pack_into(">IIIII", page, 38, SPACE_ID, 0, pages, pages, flags)
    return page


def _seal(page: bytearray, page_no: int, lsn: int, full_crc32: bool) -> bytes:
    page_type = 17855 if page_no % PS else (9 if page_no else 8)  # an XDES page every PS pages, all extents used
    struct.pack_into(">IIIIQHQI", page, 0, 0, page_no, 0xFFFFFFFF, 0xFFFFFFFF, lsn, page_type, 0, SPACE_ID)
    if full_crc32:
        struct.pack_into(">I", page, PS - 8, lsn & 0xFFFFFFFF)
        struct.pack_into(">I", page, PS - 4, crc32c(memoryview(page)[:PS - 4]))
    else:
        struct.pack_into(">I", page, PS - 4, lsn & 0xFFFFFFFF)
        crc = page_crc32(page, PS)
        struct.pack_into(">I", page, 0, crc)
        struct.pack_into(">I", page, PS - 8, crc)
    return bytes(page)


def generate(path: Path, pages: int, flags: int, full_crc32: bool) -> None:
    rnd = random.Random(7)
    templates = [_template(rnd) for _ in range(16)]
    with open(path, "wb") as fh:
        fh.write(_seal(_page0(pages, flags), 0, 1000, full_crc32))
        batch: list[bytes] = []
        for page_no in range(1, pages):
            template = templates[page_no % 16] if page_no % PS else bytearray(PS)
            batch.append(_seal(template, page_no, 1000 + page_no * 37, full_crc32))
            if len(batch) == 256:
                fh.write(b"".join(batch))
                batch.clear()
        fh.write(b"".join(batch))


def engine_seconds(path: Path, runs: int) -> float:
    """Seconds inside verify_paths() alone (no interpreter start or imports), best of `runs`."""
    times = []
    for _ in range(runs):
        proc = subprocess.run([sys.executable, "-c", ENGINE_SCRIPT, str(path)], capture_output=True, text=True,
                              check=True)
        times.append(float(proc.stderr.strip().splitlines()[-1]))
    return min(times)


def run_child(argv: list[str]) -> tuple[float, int, int]:
    """(wall seconds, peak RSS KiB, exit status) of one child process. Peak RSS comes from GNU time when the
    machine has it (a fork from this Python process would count the parent's pages until exec)."""
    timed = ["/usr/bin/time", "-f", "%M"] if Path("/usr/bin/time").exists() else []
    start = time.perf_counter()
    proc = subprocess.run([*timed, *argv], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False)
    elapsed = time.perf_counter() - start
    last = proc.stderr.strip().splitlines()[-1:] if timed else []
    rss = int(last[0]) if last and last[0].isdigit() else 0
    return elapsed, rss, proc.returncode


def best(argv: list[str], runs: int) -> tuple[float, int, int]:
    results = [run_child(argv) for _ in range(runs)]
    return min(results, key=lambda r: r[0])


def mysql_innochecksum() -> list[str] | None:
    if not (cache_dir() / "mysql-9.7" / ".complete").exists():
        return None
    try:
        return mysql_97().program("innochecksum")
    except SandboxError:
        return None


def report(name: str, size: int, result: tuple[float, int, int] | None, read_s: float) -> None:
    if result is None:
        print(f"{name:46s}: not available on this machine")
        return
    seconds, rss, status = result
    mbs = size / seconds / 1e6
    print(f"{name:46s}: {mbs:8.1f} MB/s  {seconds:6.3f}s  peak RSS {rss / 1024:7.1f} MiB  exit {status}  "
          f"({read_s / seconds:.2f} x plain read speed)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--dir", default=None, help="where to write the files (default: a temp dir)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="pages-bench-", dir=args.dir))
    pages = (args.size_mib << 20) // PS
    try:
        crc_file, fcrc_file = directory / "crc32.ibd", directory / "full_crc32.ibd"
        t0 = time.perf_counter()
        generate(crc_file, pages, 0x21, full_crc32=False)
        generate(fcrc_file, pages, 0x15, full_crc32=True)
        print(f"generated 2 x {args.size_mib} MiB ({pages} pages each) in {time.perf_counter() - t0:.1f}s; "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; best of {args.runs} runs")
        size = pages * PS
        verify = [sys.executable, "-m", "mysqlinspect", "pages", "verify", "--format", "json"]
        mysql_tool = mysql_innochecksum()
        mariadb_tool = ["/usr/bin/innochecksum"] if Path("/usr/bin/innochecksum").exists() else None
        for label, path in (("crc32 file (MySQL layout)", crc_file), ("full_crc32 file (MariaDB)", fcrc_file)):
            print(f"-- {label}: {path.name}")
            run_child([sys.executable, "-c", READ_SCRIPT, str(path)])  # warm the page cache
            read = best([sys.executable, "-c", READ_SCRIPT, str(path)], args.runs)
            report("plain read (4 MiB reads)", size, read, read[0])
            mine = best([*verify, str(path)], args.runs)
            report("mysqlinspect pages verify (CLI, with start-up)", size, mine, read[0])
            two = best([*verify, "--jobs", "2", str(path)], args.runs)
            report("mysqlinspect pages verify --jobs 2 (CLI)", size, two, read[0])
            engine = engine_seconds(path, args.runs)
            report("  of which the page checks (in-process)", size, (engine, mine[1], 0), read[0])
            if path is crc_file:
                theirs = best([*mysql_tool, str(path)], args.runs) if mysql_tool else None
                report("innochecksum (MySQL 9.7)", size, theirs, read[0])
            maria = best([*mariadb_tool, str(path)], args.runs) if mariadb_tool else None
            report("innochecksum (MariaDB)", size, maria, read[0])
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
