"""Benchmark `pages verify` against both servers' innochecksum and a plain read of the same files, in the same run.

Two tablespace files are generated (1 GiB each by default): a MySQL-style crc32 file (FSP flags 0x21) and a MariaDB
full_crc32 file (flags 0x15), 16 KiB pages with B-tree page headers, varied bodies and correct checksums, LSNs and
page ids, so that every tool checks every page and finds nothing wrong. (A live server would need many minutes of
inserts to grow a 1 GiB table on a 2-core machine.)

    .venv/bin/python benchmarks/bench_pages_verify.py [--size-mib 1024] [--dir /tmp] [--runs 5] [--keep DIR]
        [--cache reread|as-is]

Each measurement runs as a child process; the tools take turns run after run (so they share the machine's load)
and the best wall time of --runs is reported with the median, the CPU time (user + system, from GNU time, children
included) and peak RSS (GNU time's %M). Page cache warm, in a stated state (--cache): by default each file is
first dropped from the cache (fsync, POSIX_FADV_DONTNEED) and read once, as the files of a stopped server or of a
copy are when a DBA checks them (MariaDB since 10.6 and MySQL since 8.4 write data files with O_DIRECT by default,
so they come from disk); readahead then caches them in large folios where the file system supports them (ext4
on this machine's Linux 6.18), which a mapped read (`pages verify`) pays less for than 4 KiB pages.
`--cache as-is` keeps whatever state the files are in (freshly generated, or left by earlier runs).

Contenders: a plain read (4 MiB reads); `mysqlinspect pages verify` (the CLI, interpreter start and imports
included; default --jobs, i.e. one process per CPU, and --jobs 1), and its page checks alone (verify_paths() timed
inside a child); MySQL 9.7's innochecksum (crc32 file; from the sandbox cache, run through its own loader);
MariaDB's /usr/bin/innochecksum (both files).
A tool that is not on the machine is reported as missing. The ratios against each innochecksum are speed (best
wall time) and CPU efficiency (least CPU time): innochecksum is single-threaded, `pages verify` by default splits a
large file between one process per CPU, so `--jobs 1` is the one-core comparison.

Equal work: on these clean files every tool reads and checks every page. MariaDB's innochecksum (10.11) checks the
LSN halves, the checksum (crc32 or innodb for classic pages, full_crc32) and the page number and space id of every
page (CRC-32C with AVX-512 VPCLMULQDQ; its time is mostly the kernel copying the file into its buffer). MySQL's
checks the LSN halves and the checksum (it computes the innodb fold byte by byte on every page, hence its speed),
not the page number or space id. Both stop at the first bad page by default: they run with
--allow-mismatches=1000000000 here, which changes nothing on clean files but keeps the work equal if a file is
damaged. `pages verify` checks everything both do, every page, and counts all-zero pages apart.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

from crc32c import crc32c

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mysqlinspect.errors import SandboxError
from mysqlinspect.innodb.pages.checksum import page_crc32
from mysqlinspect.sandbox.distributions import cache_dir, mysql_97

PS = 16384
SPACE_ID = 42
ENGINE_SCRIPT = (
    "import sys, time\n"
    "from mysqlinspect.innodb.pages.verify import verify_paths\n"
    "start = time.perf_counter(); result = verify_paths(sys.argv[2:], jobs=int(sys.argv[1]))\n"
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


def drop_from_cache(path: Path) -> None:
    """Write back and drop the file's cached pages (no root needed for one's own clean pages)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def check_path() -> str:
    """Which pre-check `pages verify` uses here (the C extension is optional)."""
    from mysqlinspect.innodb.pages import fastcheck

    if fastcheck.NATIVE:
        return "C extension _pagecheck (SSE4.2 CRC-32C, three pages at a time)"
    return "pure Python (the _pagecheck extension is not built or the CPU has no SSE4.2)"


def engine_seconds(path: Path, jobs: int) -> float:
    """Seconds inside verify_paths() alone (no interpreter start or imports), in a fresh child process."""
    proc = subprocess.run([sys.executable, "-c", ENGINE_SCRIPT, str(jobs), str(path)], capture_output=True,
                          text=True, check=True)
    return float(proc.stderr.strip().splitlines()[-1])


class Run(NamedTuple):
    wall: float
    cpu: float  # user + system seconds of the child and its own children
    rss_kib: int
    status: int


def run_child(argv: list[str]) -> Run:
    """One child process. CPU time and peak RSS come from GNU time when the machine has it (a fork from this
    Python process would count the parent's pages until exec)."""
    timed = ["/usr/bin/time", "-f", "TIMES %U %S %M"] if Path("/usr/bin/time").exists() else []
    start = time.perf_counter()
    proc = subprocess.run([*timed, *argv], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False)
    elapsed = time.perf_counter() - start
    fields = [line.split() for line in proc.stderr.splitlines() if line.startswith("TIMES ")]
    if fields:
        user, system, rss = fields[-1][1:]
        return Run(elapsed, float(user) + float(system), int(rss), proc.returncode)
    return Run(elapsed, 0.0, 0, proc.returncode)


def mysql_innochecksum() -> list[str] | None:
    if not (cache_dir() / "mysql-9.7" / ".complete").exists():
        return None
    try:
        return mysql_97().program("innochecksum")
    except SandboxError:
        return None


def report(name: str, size: int, runs: list[Run] | None, read_s: float, missing: str = "not on this machine") -> None:
    if not runs:
        print(f"{name:44s}: {missing}")
        return
    best = min(runs, key=lambda r: r.wall)
    cpu = min(r.cpu for r in runs)
    mbs = size / best.wall / 1e6
    cpu_text = f"{cpu:6.3f}s CPU" if cpu else "     - CPU"
    rss_text = f"peak RSS {best.rss_kib / 1024:6.1f} MiB" if best.rss_kib else "peak RSS      -    "
    print(f"{name:44s}: {mbs:7.0f} MB/s  {best.wall:6.3f}s wall (median {statistics.median(r.wall for r in runs):.3f})"
          f"  {cpu_text}  {rss_text}  exit {best.status}  ({read_s / best.wall:.2f} x plain read)")


def compare(runs: dict[str, list[Run]], reference: str) -> None:
    """Same-run ratios against a reference tool: best wall time (speed) and least CPU time (work), per CLI run."""
    theirs = runs[reference]
    for label, name in (("default jobs", "mysqlinspect pages verify (CLI, default jobs)"),
                        ("--jobs 1", "mysqlinspect pages verify --jobs 1 (CLI)")):
        ours = runs[name]
        wall = min(r.wall for r in theirs) / min(r.wall for r in ours)
        cpu_ours = min(r.cpu for r in ours)
        cpu = f", {min(r.cpu for r in theirs) / cpu_ours:.2f} x its CPU efficiency" if cpu_ours else ""
        print(f"   pages verify (CLI, {label}) vs {reference}: {wall:.2f} x its speed{cpu}")


def tools(path: Path, is_crc32: bool) -> dict[str, list[str] | None]:
    """Every contender, each doing the full verification of every page (see the module docstring)."""
    verify = [sys.executable, "-m", "mysqlinspect", "pages", "verify", "--format", "json"]
    mysql_tool = mysql_innochecksum()
    mariadb_tool = "/usr/bin/innochecksum" if Path("/usr/bin/innochecksum").exists() else None
    # --allow-mismatches: never stop at the first bad page (the files are clean: it changes nothing but says so)
    return {
        "plain read (4 MiB reads)": [sys.executable, "-c", READ_SCRIPT, str(path)],
        "mysqlinspect pages verify (CLI, default jobs)": [*verify, str(path)],
        "mysqlinspect pages verify --jobs 1 (CLI)": [*verify, "--jobs", "1", str(path)],
        "innochecksum (MySQL 9.7)": [*mysql_tool, "--allow-mismatches=1000000000", str(path)]
        if mysql_tool and is_crc32 else None,
        "innochecksum (MariaDB)": [mariadb_tool, "--allow-mismatches=1000000000", str(path)] if mariadb_tool else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--dir", default=None, help="where to write the files (default: a temp dir)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", default=None, help="reuse (or create and keep) the files in this directory")
    parser.add_argument("--cache", choices=("reread", "as-is"), default="reread",
                        help="reread: drop each file from the page cache and read it once before timing (default)")
    args = parser.parse_args()
    directory = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="pages-bench-", dir=args.dir))
    directory.mkdir(parents=True, exist_ok=True)
    pages = (args.size_mib << 20) // PS
    size = pages * PS
    try:
        crc_file, fcrc_file = directory / "crc32.ibd", directory / "full_crc32.ibd"
        t0 = time.perf_counter()
        for path, flags, full in ((crc_file, 0x21, False), (fcrc_file, 0x15, True)):
            if not (path.exists() and path.stat().st_size == size):
                generate(path, pages, flags, full)
        print(f"files: 2 x {args.size_mib} MiB ({pages} pages each), ready in {time.perf_counter() - t0:.1f}s; "
              f"{os.cpu_count()} CPUs; best of {args.runs} interleaved runs (page cache warm, --cache {args.cache})")
        print(f"page checks: {check_path()}")
        for label, path in (("crc32 file (MySQL layout)", crc_file), ("full_crc32 file (MariaDB)", fcrc_file)):
            print(f"-- {label}: {path.name}; load average before: {os.getloadavg()[0]:.1f}")
            contenders = tools(path, path is crc_file)
            runs: dict[str, list[Run]] = {name: [] for name, argv in contenders.items() if argv}
            if args.cache == "reread":
                drop_from_cache(path)
            run_child(contenders["plain read (4 MiB reads)"] or [])  # warm the page cache
            engine: dict[int, list[float]] = {0: [], 1: []}
            for _ in range(args.runs):  # interleaved, so that every tool sees the same machine load
                for name, argv in contenders.items():
                    if argv:
                        runs[name].append(run_child(argv))
                for jobs in engine:
                    engine[jobs].append(engine_seconds(path, jobs))
            read_s = min(r.wall for r in runs["plain read (4 MiB reads)"])
            for name in contenders:
                missing = "not on this machine" if path is crc_file else "n/a (MySQL has no full_crc32 format)"
                report(name, size, runs.get(name), read_s, missing if "MySQL" in name else "not on this machine")
                if name.startswith("mysqlinspect pages verify --jobs 1"):
                    for jobs, label_jobs in ((0, "default jobs"), (1, "--jobs 1")):
                        seconds = [Run(t, 0.0, 0, 0) for t in engine[jobs]]
                        report(f"  page checks alone, in-process ({label_jobs})", size, seconds, read_s)
            for name in ("innochecksum (MariaDB)", "innochecksum (MySQL 9.7)"):
                if runs.get(name):
                    compare(runs, name)
            print(f"   load average after: {os.getloadavg()[0]:.1f}")
    finally:
        if not args.keep:
            shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
