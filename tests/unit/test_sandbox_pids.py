"""A sandbox server is recognised by its process, not by a pid number alone: numbers are reused, and thread ids
share them (`kill -0 TID` answers for a thread of any process)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

from mysqlinspect.sandbox.server import _is_server_process, _pid_alive


def test_a_thread_id_of_another_process_is_not_the_server(tmp_path: Path) -> None:
    started, done = threading.Event(), threading.Event()
    tid: list[int] = []

    def worker() -> None:
        tid.append(threading.get_native_id())
        started.set()
        done.wait(10)

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        started.wait(10)
        assert tid[0] != os.getpid() and _pid_alive(tid[0])  # the trap: kill -0 answers for a thread
        assert not _is_server_process(tid[0], tmp_path / "data")
    finally:
        done.set()
        thread.join()


def test_only_a_process_started_on_this_datadir_is_the_server(tmp_path: Path) -> None:
    datadir = tmp_path / "data"
    code = "import time; time.sleep(30)"
    proc = subprocess.Popen([sys.executable, "-c", code, f"--datadir={datadir}"])
    other = subprocess.Popen([sys.executable, "-c", code, f"--datadir={tmp_path / 'other'}"])
    try:
        assert _is_server_process(proc.pid, datadir)
        assert not _is_server_process(other.pid, datadir)
        assert not _is_server_process(os.getpid(), datadir)
    finally:
        for p in (proc, other):
            p.kill()
            p.wait()
    assert not _is_server_process(proc.pid, datadir)
