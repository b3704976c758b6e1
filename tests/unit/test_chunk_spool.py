"""A --jobs chunk's output spool: in memory up to MEMORY_SPOOL bytes, then in its overflow file on disk; read back
whole and cut at offsets the same either way."""

from __future__ import annotations

import io
import os

import pytest

from mysqlinspect.binlog.read.local import chunks

DATA = bytes(range(256)) * 12


def _filled(limit: int, monkeypatch: pytest.MonkeyPatch) -> chunks.Spool:
    monkeypatch.setattr(chunks, "MEMORY_SPOOL", limit)
    spool = chunks.Spool()
    with io.BufferedWriter(chunks._SpoolFiles(spool.fd, spool.overflow), 64) as out:
        for at in range(0, len(DATA), 37):
            out.write(DATA[at : at + 37])
    return spool


@pytest.mark.parametrize("limit", [100, 64 << 20])
def test_the_output_reads_back_whole_and_cut(limit: int, monkeypatch: pytest.MonkeyPatch) -> None:
    spool = _filled(limit, monkeypatch)
    try:
        in_memory = os.fstat(spool.fd).st_size
        assert (in_memory < len(DATA)) == (limit < len(DATA))
        assert in_memory + os.fstat(spool.overflow).st_size == len(DATA)  # type: ignore[arg-type]
        assert b"".join(spool.blocks()) == DATA
        done: list[int] = []
        cuts = sorted([(50, b"|", None), (in_memory, b"", lambda: done.append(1)), (2000, b"#", None)],
                      key=lambda c: c[0])
        cut = b"".join(spool.blocks(cuts))  # type: ignore[arg-type]
        assert cut == DATA[:50] + b"|" + DATA[50:2000] + b"#" + DATA[2000:] and done == [1]
    finally:
        spool.close()
