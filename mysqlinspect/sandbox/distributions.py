"""Find or download server binaries: MariaDB from the machine's Debian release, Oracle MySQL 9.7 from sid.

MySQL 9.7 is built for a newer C library than the machine's, so it is not installed: a private apt
configuration downloads `mysql-server-core` and the libraries it needs, `dpkg -x` unpacks them into one cache
directory, and the server runs through the unpacked dynamic loader. The mirror is read from the machine's own
apt sources at run time.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from mysqlinspect.errors import SandboxError

MYSQL_PACKAGES = (
    "mysql-server-core", "mysql-client-core", "libaio1t64", "libc6", "libcurl4t64", "libfido2-1", "libgcc-s1",
    "libgoogle-perftools4t64", "libtcmalloc-minimal4t64", "libicu78", "liblz4-1", "libmecab2", "libnuma1",
    "libprotobuf-lite32t64", "libprotobuf32t64", "libssl3t64", "libstdc++6", "libtirpc3t64", "libzstd1", "zlib1g",
    # resolved from the host otherwise; taken from the same suite so the unpacked tree stands on its own
    "libxxhash0", "libunwind8", "liblzma5", "libedit2", "libtinfo6", "libbsd0", "libmd0",
)
MARIADB_PACKAGES = ("mariadb-server-core", "mariadb-client-core")
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
LIB_DIR = "usr/lib/x86_64-linux-gnu"


@dataclass(frozen=True)
class Distribution:
    """How to run one server flavor: the program prefix (loader for MySQL 9.7) and its paths."""

    flavor: str  # "mysql" or "mariadb"
    version: str
    root: Path  # prefix holding usr/
    mysqld: Path
    loader: tuple[str, ...] = ()  # prefix argv to run binaries through (unpacked loader)
    install_db: Path | None = None

    def program(self, name: str) -> list[str]:
        """argv prefix to run a client program of this distribution (mysqlbinlog, mysql)."""
        for sub in ("usr/bin", "usr/sbin"):
            candidate = self.root / sub / name
            if candidate.exists():
                return [*self.loader, str(candidate)]
        raise SandboxError(f"{name} is not part of the {self.flavor} {self.version} distribution at {self.root}")

    def server_argv(self) -> list[str]:
        return [*self.loader, str(self.mysqld)]


def cache_dir() -> Path:
    base = os.environ.get("MYSQLINSPECT_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "mysqlinspect"
    )
    return Path(base) / "servers"


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def debian_mirror() -> str:
    """The Debian archive URI from the machine's own apt sources (deb822 or one-line format)."""
    candidates: list[Path] = [Path("/etc/apt/sources.list")]
    sources_d = Path("/etc/apt/sources.list.d")
    if sources_d.is_dir():
        candidates += sorted(sources_d.glob("*.sources")) + sorted(sources_d.glob("*.list"))
    for path in candidates:
        try:
            text = path.read_text()
        except OSError:
            continue
        for uri in re.findall(r"^URIs:\s*(\S+)", text, flags=re.M) + re.findall(
            r"^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+\S+", text, flags=re.M
        ):
            if "security" not in uri and re.search(r"/debian/?$", uri):
                return uri.rstrip("/")
    raise SandboxError("no Debian mirror found in /etc/apt/sources.list*; cannot download MySQL")


def _apt_options(work: Path) -> list[str]:
    return [
        "-o", f"Dir::Etc::SourceList={work / 'sources.list'}",
        "-o", "Dir::Etc::SourceParts=/nonexistent",
        "-o", f"Dir::State::Lists={work / 'lists'}",
        "-o", f"Dir::Cache={work / 'cache'}",
        "-o", "Dir::State::status=/dev/null",
        "-o", "Debug::NoLocking=1",
        "-o", "APT::Sandbox::User=root",
    ]


def _run(argv: list[str], cwd: Path | None = None) -> str:
    try:
        proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=900, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SandboxError(f"{argv[0]} failed: {exc}") from exc
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise SandboxError(f"{' '.join(argv[:2])} failed: {' / '.join(tail)}")
    return proc.stdout


def download_debs(packages: tuple[str, ...], suite: str, work: Path) -> list[Path]:
    """apt-get download packages of a suite into work/debs with a private apt configuration."""
    if shutil.which("apt-get") is None:
        raise SandboxError("apt-get is not available: cannot download server packages")
    for sub in ("lists/partial", "cache/archives/partial", "debs"):
        (work / sub).mkdir(parents=True, exist_ok=True)
    (work / "sources.list").write_text(f"deb [signed-by={KEYRING}] {debian_mirror()} {suite} main\n")
    opts = _apt_options(work)
    _run(["apt-get", *opts, "-q", "update"])
    debs = work / "debs"
    for old in debs.glob("*.deb"):
        old.unlink()
    _run(["apt-get", *opts, "-q", "download", *packages], cwd=debs)
    return sorted(debs.glob("*.deb"))


def _unpack(debs: list[Path], root: Path) -> None:
    for deb in debs:
        _run(["dpkg", "-x", str(deb), str(root)])


def mysql_97() -> Distribution:
    """Oracle MySQL 9.7 from Debian sid, downloaded once into the cache and run through its own loader."""
    base = cache_dir() / "mysql-9.7"
    root = base / "root"
    marker = base / ".complete"
    with _locked(cache_dir() / ".mysql-9.7.lock"):
        if not marker.exists():
            if root.exists():
                shutil.rmtree(root)
            debs = download_debs(MYSQL_PACKAGES, "sid", base / "apt")
            _unpack(debs, root)
            version = next((d.name.split("_")[1] for d in debs if d.name.startswith("mysql-server-core_")), "9.7")
            marker.write_text(version + "\n")
    loader = root / LIB_DIR / "ld-linux-x86-64.so.2"
    mysqld = root / "usr/sbin/mysqld"
    if not loader.exists() or not mysqld.exists():
        marker.unlink(missing_ok=True)
        raise SandboxError(f"incomplete MySQL 9.7 unpack in {root}; it will be downloaded again next time")
    version = marker.read_text().strip()
    return Distribution(
        flavor="mysql",
        version=version,
        root=root,
        mysqld=mysqld,
        loader=(str(loader), "--library-path", str(root / LIB_DIR)),
    )


def mariadb_system() -> Distribution:
    """MariaDB from the machine's Debian release: installed binaries, or downloaded and unpacked."""
    mariadbd = shutil.which("mariadbd") or ("/usr/sbin/mariadbd" if Path("/usr/sbin/mariadbd").exists() else None)
    install_db = shutil.which("mariadb-install-db")
    if mariadbd and install_db:
        return Distribution("mariadb", _mariadb_version([mariadbd]), Path("/"), Path(mariadbd), (), Path(install_db))
    base = cache_dir() / "mariadb-system"
    root = base / "root"
    with _locked(cache_dir() / ".mariadb.lock"):
        if not (base / ".complete").exists():
            release = _os_release_codename()
            _unpack(download_debs(MARIADB_PACKAGES, release, base / "apt"), root)
            (base / ".complete").write_text(release + "\n")
    mysqld = root / "usr/sbin/mariadbd"
    return Distribution(
        "mariadb", _mariadb_version([str(mysqld)]), root, mysqld, (), root / "usr/bin/mariadb-install-db"
    )


def _os_release_codename() -> str:
    try:
        text = Path("/etc/os-release").read_text()
    except OSError:
        return "stable"
    match = re.search(r"^VERSION_CODENAME=(\S+)", text, flags=re.M)
    return match.group(1) if match else "stable"


def _mariadb_version(argv: list[str]) -> str:
    try:
        out = subprocess.run([*argv, "--version"], capture_output=True, text=True, timeout=30).stdout
    except OSError:
        return "unknown"
    match = re.search(r"Ver\s+([\d.]+)", out)
    return match.group(1) if match else "unknown"


def distribution(flavor: str) -> Distribution:
    if flavor == "mysql":
        return mysql_97()
    if flavor == "mariadb":
        return mariadb_system()
    raise SandboxError(f"unknown sandbox flavor {flavor!r} (mysql or mariadb)")
