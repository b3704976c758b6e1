"""Local binlog file helpers with no server: gaps in a numbered sequence, a file's first bytes from .gz/.zst."""

from __future__ import annotations

import gzip
import random
from pathlib import Path

import pytest
import zstandard

from mysqlinspect.binlog.source.files import head_bytes, sequence_gaps
from mysqlinspect.errors import DataError


def test_sequence_gaps_name_the_missing_files() -> None:
    names = ["binlog.000041", "binlog.000043.gz", "binlog.000044", "binlog.000047.zst"]
    assert sequence_gaps([Path(n) for n in names]) == ["binlog.000042", "binlog.000045", "binlog.000046"]
    assert sequence_gaps([Path("binlog.000001"), Path("binlog.000002")]) == []
    assert sequence_gaps([Path("relay.000009"), Path("binlog.000001")]) == []  # other basenames: no sequence
    wide = sequence_gaps([Path("b.000001"), Path("b.000100")])
    assert wide[:2] == ["b.000002", "b.000003"] and len(wide) == 11 and wide[-1] == "... (98 files in all)"


def test_head_bytes_reads_only_the_start_of_compressed_copies(tmp_path: Path) -> None:
    content = b"\xfebin" + random.Random(7).randbytes(256_000)  # incompressible: a cut copy loses data
    plain, gz, zst = tmp_path / "b.000001", tmp_path / "b.000002.gz", tmp_path / "b.000003.zst"
    plain.write_bytes(content)
    gz.write_bytes(gzip.compress(content))
    zst.write_bytes(zstandard.ZstdCompressor().compress(content))
    for path in (plain, gz, zst):
        assert head_bytes(path, 1000) == content[:1000]
        assert head_bytes(path, 10**7) == content
    cut = tmp_path / "b.000004.gz"
    cut.write_bytes(gzip.compress(content)[:100_000])  # a copy cut short: what decompressed, as open_bytes reads it
    partial = head_bytes(cut, 10**7)
    assert 0 < len(partial) < len(content) and content.startswith(partial)
    garbage = tmp_path / "b.000005.gz"
    garbage.write_bytes(b"\x1f\x8b" + b"\xff" * 100)
    with pytest.raises(DataError, match="cannot decompress"):
        head_bytes(garbage, 100)
