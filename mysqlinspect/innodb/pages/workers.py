"""Run a function in forked child processes and collect the results: a lighter way than a process pool to split
one large file between CPUs (a fork and a pipe cost a few milliseconds; ProcessPoolExecutor's start, queues and
imports 30-40 ms, a sixth of checking a 1 GiB file).

Each child runs `fn(*args)`, sends back the pickled result (or exception) through a pipe and leaves with
os._exit(); the parent reads the pipes in order. POSIX only: `AVAILABLE` is False where os.fork is missing.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from mysqlinspect.errors import MysqlInspectError

AVAILABLE = hasattr(os, "fork")
T = TypeVar("T")


class WorkerError(MysqlInspectError):
    """A worker process died without a result (killed, out of memory)."""


def _child(fn: Callable[..., Any], args: Sequence[Any], write_fd: int) -> None:
    import pickle

    try:
        try:
            payload = pickle.dumps((True, fn(*args)))
        except BaseException as exc:  # sent to the parent, which raises it
            try:
                payload = pickle.dumps((False, exc))
            except Exception:
                payload = pickle.dumps((False, RuntimeError(f"{type(exc).__name__}: {exc}")))
        with os.fdopen(write_fd, "wb") as out:
            out.write(payload)
    finally:
        os._exit(0)


def start(fn: Callable[..., T], args: Sequence[Any]) -> tuple[int, int]:
    """Fork a child running fn(*args); returns (pid, read end of its pipe)."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        _child(fn, args, write_fd)
    os.close(write_fd)
    return pid, read_fd


def collect(pid: int, read_fd: int) -> Any:
    """Wait for a child started by start() and return its result (or raise its exception)."""
    import pickle  # imported when needed: not at start-up

    with os.fdopen(read_fd, "rb") as src:
        payload = src.read()
    os.waitpid(pid, 0)
    if not payload:
        raise WorkerError(f"worker process {pid} died without a result")
    ok, value = pickle.loads(payload)
    if not ok:
        raise value
    return value


def abandon(pid: int, read_fd: int) -> None:
    """Stop a child whose result is no longer wanted (the parent failed or was interrupted)."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        os.close(read_fd)
    except OSError:
        pass
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def run_split(local: Callable[[], None], fn: Callable[..., T], arg_lists: Sequence[Sequence[Any]]) -> list[T]:
    """fn(*args) for each of `arg_lists` in its own child, while this process runs `local()`; results in order."""
    children = [start(fn, args) for args in arg_lists]
    try:
        local()
        results: list[T] = []
        while children:
            pid, read_fd = children.pop(0)  # collect() reaps it, whatever it returns or raises
            results.append(collect(pid, read_fd))
        return results
    except BaseException:
        for pid, read_fd in children:
            abandon(pid, read_fd)
        raise
