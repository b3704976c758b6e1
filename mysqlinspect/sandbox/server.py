"""A real mysqld/mariadbd in its own data directory on a free loopback port: initialise, start, stop, kill -9."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pymysql

from mysqlinspect.connection.settings import ConnectionSettings
from mysqlinspect.errors import InputNotFoundError, SandboxError
from mysqlinspect.sandbox.distributions import Distribution, distribution

STATE_FILE = "sandbox.json"
CLIENT_SCRIPT = "client"

# Settings every sandbox has: binary log on, ROW with full images and metadata, CRC32 checksums. No deprecated
# option: MySQL 8.0.34+ deprecates setting binlog_format (ROW is its default), so only MariaDB (default MIXED) sets it.
COMMON_ARGS = (
    "--log-bin=binlog",
    "--binlog-row-image=FULL",
    "--binlog-row-metadata=FULL",
    "--binlog-checksum=CRC32",
    "--innodb-buffer-pool-size=64M",
    "--max-connections=300",
    "--character-set-server=utf8mb4",
)
MYSQL_ARGS = ("--mysqlx=OFF", "--gtid-mode=ON", "--enforce-gtid-consistency=ON", "--log-error-verbosity=3")
# MariaDB's defaults that `check` warns about (MIXED, sync_binlog=0, no undo tablespaces) are set right here.
MARIADB_ARGS = ("--log-basename=mariadb", "--innodb-log-file-size=48M", "--binlog-format=ROW", "--sync-binlog=1")
MARIADB_INIT_ARGS = ("--innodb-undo-tablespaces=3",)  # fixed when the data directory is created


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class SandboxServer:
    """One server process over one data directory. `extra_args` are added to every start."""

    flavor: str
    base: Path  # holds data/, the socket, pid and error log
    port: int = 0
    server_id: int = 1
    extra_args: list[str] = field(default_factory=list)
    dist: Distribution | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.base = Path(self.base)
        if self.dist is None:
            self.dist = distribution(self.flavor)
        if not self.port:
            self.port = free_port()

    # paths -------------------------------------------------------------------------------------
    @property
    def datadir(self) -> Path:
        return self.base / "data"

    @property
    def socket_path(self) -> Path:
        return self.base / "mysqld.sock"

    @property
    def tmpdir(self) -> Path:
        """The server's own temporary directory (internal temporary tables, sort files), not the shared /tmp."""
        return self.base / "tmp"

    @property
    def pid_file(self) -> Path:
        return self.base / "mysqld.pid"

    @property
    def error_log(self) -> Path:
        return self.base / "error.log"

    @property
    def distribution(self) -> Distribution:
        assert self.dist is not None
        return self.dist

    # lifecycle -----------------------------------------------------------------------------------
    def initialize(self) -> None:
        """Create a fresh data directory (root without password, reachable on 127.0.0.1)."""
        if self.datadir.exists():
            shutil.rmtree(self.datadir)
        self.datadir.mkdir(parents=True)
        self.tmpdir.mkdir(exist_ok=True)
        dist = self.distribution
        if self.flavor == "mysql":
            argv = [
                *dist.server_argv(), "--no-defaults", "--initialize-insecure", f"--datadir={self.datadir}",
                f"--basedir={dist.root / 'usr'}", f"--lc-messages-dir={dist.root / 'usr/share/mysql'}", "--user=root",
                f"--log-error={self.base / 'init.log'}", f"--tmpdir={self.tmpdir}", *self._redo_init_args(),
            ]
        else:
            assert dist.install_db is not None
            argv = [
                str(dist.install_db), "--no-defaults", f"--datadir={self.datadir}", "--user=root",
                "--auth-root-authentication-method=normal", "--skip-test-db",
                f"--basedir={dist.root / 'usr'}" if dist.root != Path("/") else "--basedir=/usr",
                *MARIADB_INIT_ARGS,
                *[a for a in self.extra_args if a.startswith(("--innodb-log-file-size", "--innodb-undo-tablespaces"))],
                f"--tmpdir={self.tmpdir}",  # passed on to the bootstrap server: its temporary tables stay ours
            ]
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)
        if proc.returncode != 0:
            detail = (proc.stderr or proc.stdout or self._tail(self.base / "init.log")).strip().splitlines()[-3:]
            raise SandboxError(f"{self.flavor} initialisation failed: {' / '.join(detail)}")

    def _redo_init_args(self) -> list[str]:
        return [a for a in self.extra_args if a.startswith(("--innodb-redo-log-capacity", "--innodb-page-size"))]

    def server_args(self) -> list[str]:
        dist = self.distribution
        # MariaDB's --log-basename renames the error log, so it must come before --log-error.
        args = [
            "--no-defaults", *((*MARIADB_ARGS, *MARIADB_INIT_ARGS) if self.flavor == "mariadb" else ()),
            f"--datadir={self.datadir}", f"--port={self.port}", "--bind-address=127.0.0.1",
            f"--socket={self.socket_path}", f"--pid-file={self.pid_file}", f"--log-error={self.error_log}",
            f"--server-id={self.server_id}", "--user=root", "--secure-file-priv=", f"--tmpdir={self.tmpdir}",
        ]
        if self.flavor == "mysql":
            args += [f"--basedir={dist.root / 'usr'}", f"--lc-messages-dir={dist.root / 'usr/share/mysql'}"]
            args += list(MYSQL_ARGS)
        else:
            if dist.root != Path("/"):
                args += [f"--basedir={dist.root / 'usr'}", f"--plugin-dir={dist.root / 'usr/lib/mysql/plugin'}"]
        args += list(COMMON_ARGS)
        return args + list(self.extra_args)

    def start(self, timeout: float = 120.0) -> None:
        """Start the server and wait until it answers; raise with the error log's tail if it does not."""
        if self.is_running():
            return
        if not self.datadir.exists():
            self.initialize()
        self.tmpdir.mkdir(exist_ok=True)
        with open(self.base / "stdout.log", "ab") as log:
            self.process = subprocess.Popen(
                [*self.distribution.server_argv(), *self.server_args()],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            )
        self._wait_ready(timeout)
        self._ensure_tcp_root()
        self.save_state()

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        process = self.process  # kept: a kill from another thread clears self.process
        while time.monotonic() < deadline:
            if process is not None and process.poll() is not None:
                raise SandboxError(f"{self.flavor} exited during start-up: {self._tail(self.error_log)}")
            try:
                conn = pymysql.connect(unix_socket=str(self.socket_path), user="root", connect_timeout=2)
                conn.close()
                return
            except pymysql.err.MySQLError:
                time.sleep(0.2)
        raise SandboxError(f"{self.flavor} did not answer within {timeout:.0f}s: {self._tail(self.error_log)}")

    def _ensure_tcp_root(self) -> None:
        conn = pymysql.connect(unix_socket=str(self.socket_path), user="root", autocommit=True)
        try:
            with conn.cursor() as cur:
                cur.execute("SET SESSION sql_log_bin = 0")
                cur.execute("CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY ''")
                cur.execute("GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION")
        finally:
            conn.close()

    def stop(self, timeout: float = 120.0) -> None:
        """Clean shutdown (SIGTERM), waiting for the process to exit."""
        pid = self.pid()
        if pid is None:
            return
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        self._wait_exit(pid, timeout)

    def kill(self) -> None:
        """kill -9: the crash case."""
        pid = self.pid()
        if pid is None:
            return
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        self._wait_exit(pid, 30)
        self.pid_file.unlink(missing_ok=True)  # a killed server leaves it; its number may soon be another's

    def restart(self, extra_args: list[str] | None = None) -> None:
        self.stop()
        if extra_args is not None:
            self.extra_args = list(extra_args)
        self.start()

    def _wait_exit(self, pid: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.pid == pid:
                if self.process.poll() is not None:
                    break
            elif not _pid_alive(pid):
                break
            time.sleep(0.1)
        else:
            raise SandboxError(f"{self.flavor} (pid {pid}) did not exit within {timeout:.0f}s")
        self.process = None

    def pid(self) -> int | None:
        if self.process is not None and self.process.poll() is None:
            return self.process.pid
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if _is_server_process(pid, self.datadir) else None

    def is_running(self) -> bool:
        return self.pid() is not None

    def destroy(self) -> None:
        """Stop (or kill) and remove the whole base directory."""
        try:
            self.stop(timeout=60)
        except SandboxError:
            self.kill()
        shutil.rmtree(self.base, ignore_errors=True)

    # access --------------------------------------------------------------------------------------
    def settings(self, user: str = "root", password: str | None = None) -> ConnectionSettings:
        return ConnectionSettings(host="127.0.0.1", port=self.port, user=user, password=password,
                                  socket=str(self.socket_path), ssl_mode="PREFERRED")

    def connect(self, database: str | None = None, **kwargs: object) -> pymysql.connections.Connection:
        return pymysql.connect(host="127.0.0.1", port=self.port, user="root", password="", database=database,
                               autocommit=True, charset="utf8mb4", **kwargs)

    def cli_args(self) -> list[str]:
        """Connection options for the mysqlinspect command line."""
        return ["-h", "127.0.0.1", "-P", str(self.port), "-u", "root", "--ssl-mode", "DISABLED"]

    def write_client_script(self) -> Path:
        """`BASE/client`: a short executable wrapper for client_command() (which runs through the distribution's
        own loader and is about 300 characters long). Extra arguments are passed on."""
        script = self.base / CLIENT_SCRIPT
        script.write_text("#!/bin/sh\n# the sandbox's own client, connected to it (written by mysqlinspect sandbox "
                          f"start)\nexec {self.client_command()} \"$@\"\n")
        script.chmod(0o755)
        return script

    def client_command(self) -> str:
        """The command (shell-quoted) that connects the distribution's own client to this sandbox."""
        client = "mariadb" if self.flavor == "mariadb" else "mysql"
        try:
            argv = self.distribution.program(client)
        except SandboxError:
            argv = [client]
        return shlex.join([*argv, "-h", "127.0.0.1", "-P", str(self.port), "-u", "root"])

    def program(self, name: str) -> list[str]:
        return self.distribution.program(name)

    def error_log_text(self) -> str:
        try:
            return self.error_log.read_text(errors="replace")
        except OSError:
            return ""

    @staticmethod
    def _tail(path: Path, lines: int = 3) -> str:
        try:
            text = path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return f"(no log at {path})"
        return " / ".join(text[-lines:])

    # persistence for `mysqlinspect sandbox` --------------------------------------------------------
    def save_state(self) -> None:
        state = {"flavor": self.flavor, "port": self.port, "server_id": self.server_id, "extra_args": self.extra_args,
                 "version": self.distribution.version}
        (self.base / STATE_FILE).write_text(json.dumps(state, indent=2) + "\n")

    @classmethod
    def load(cls, base: Path) -> SandboxServer:
        state_file = Path(base) / STATE_FILE
        if not state_file.is_file():
            raise InputNotFoundError(f"no sandbox in {base} (no {STATE_FILE}; start one with `mysqlinspect sandbox "
                                     "start`)")
        try:
            state = json.loads(state_file.read_text())
        except (OSError, ValueError) as exc:
            raise SandboxError(f"no sandbox at {base}: {exc}") from exc
        return cls(flavor=state["flavor"], base=Path(base), port=int(state["port"]),
                   server_id=int(state.get("server_id", 1)), extra_args=list(state.get("extra_args", [])))


def _is_server_process(pid: int, datadir: Path) -> bool:
    """A live process with this pid that is this sandbox's server: pid numbers are reused (pid_max is often 32768,
    and thread ids share the numbering: `kill -0` answers for a thread of another server too)."""
    if not _pid_alive(pid):
        return False
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return False
    except OSError:
        return True  # no /proc to tell: trust the pid file
    tgid = next((line.split()[1] for line in status.splitlines() if line.startswith("Tgid:")), str(pid))
    named = {f"--datadir={path}".encode() for path in (datadir, datadir.resolve())}
    return tgid == str(pid) and any(arg in cmdline for arg in named)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child counts as gone
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def temporary_server(flavor: str, server_id: int = 1, extra_args: list[str] | None = None,
                     parent: str | None = None) -> SandboxServer:
    """A not-yet-started server in a new temporary directory (short path: Unix sockets are limited to 107 bytes)."""
    base = Path(tempfile.mkdtemp(prefix=f"mi-{flavor[:2]}-", dir=parent or "/tmp"))
    return SandboxServer(flavor=flavor, base=base, server_id=server_id, extra_args=list(extra_args or []))
