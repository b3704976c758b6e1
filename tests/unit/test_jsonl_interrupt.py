"""Ctrl-C while --jobs output is written (cli.binlog.tail.write_jsonl_blocks): at once between lines, at the end of
the line being written otherwise; never a torn line, and the readers' generator is closed."""

from __future__ import annotations

import io
import os
import signal
from collections.abc import Iterator

import pytest

from mysqlinspect.cli.binlog.tail import write_jsonl_blocks


def _blocks(parts: list[bytes], interrupt_before: int, closed: list[bool]) -> Iterator[bytes]:
    try:
        for index, part in enumerate(parts):
            if index == interrupt_before:
                os.kill(os.getpid(), signal.SIGINT)
            yield part
    finally:
        closed.append(True)


@pytest.mark.parametrize(("parts", "interrupt_before", "written"), [
    ([b'{"a":1}\n', b'{"b":2}\n'], 1, b'{"a":1}\n'),  # between lines: at once
    ([b'{"a":1}\n{"b"', b':2}\n{"c":3}\n'], 1, b'{"a":1}\n{"b":2}\n'),  # mid-line: to that line's end
    ([b'{"a":1', b'2}', b'\n{"x"', b':1}\n'], 1, b'{"a":12}\n'),  # a block without a line end: written whole
    ([b'{"a":1}\n'], 5, b'{"a":1}\n'),  # no Ctrl-C
])
def test_ctrl_c_is_taken_at_a_line_end(parts: list[bytes], interrupt_before: int, written: bytes) -> None:
    out = io.TextIOWrapper(io.BytesIO())
    closed: list[bool] = []
    before = signal.getsignal(signal.SIGINT)  # SIG_IGN in a background job (nohup): the writer's own handler decides
    if interrupt_before < len(parts):
        with pytest.raises(KeyboardInterrupt):
            write_jsonl_blocks(out, _blocks(parts, interrupt_before, closed))
    else:
        write_jsonl_blocks(out, _blocks(parts, interrupt_before, closed))
    out.flush()
    assert out.buffer.getvalue() == written  # type: ignore[attr-defined]
    assert closed == [True]
    assert signal.getsignal(signal.SIGINT) is before
