"""Bad input to the offline InnoDB commands (`pages verify`, `doublewrite PATH`, `datadir`): every failing
verdict and every error has its one line on stderr and the documented exit code, and no file is modified."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.unit.test_innodb_pages import PS, _file, crc32_page

Run = Callable[..., Any]


def _fingerprint(root: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p): (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def tablespace(tmp_path: Path) -> Path:
    """A small valid file-per-table tablespace (space 5, 4 pages of 16 KiB, crc32)."""
    folder = tmp_path / "dd"
    folder.mkdir()
    return _file(folder, [crc32_page(page_no=0, page_type=8)] + [crc32_page(page_no=n) for n in range(1, 4)])


def _corrupt(path: Path, page_no: int) -> None:
    data = bytearray(path.read_bytes())
    data[page_no * PS + 9000] ^= 0xFF
    path.write_bytes(bytes(data))


def test_pages_verify_bad_page_has_a_stderr_line(tablespace: Path, run_cli: Run) -> None:
    """Regression: exit 65 with nothing on stderr."""
    _corrupt(tablespace, 2)
    result = run_cli("pages", "verify", str(tablespace), "--format", "json")
    assert result.exit_code == 65
    assert result.json()["files"][0]["bad_pages"][0]["page_no"] == 2
    assert result.stderr.startswith("mysqlinspect: error: pages verify: ")
    assert "page 2 corrupt" in result.stderr and len(result.stderr.splitlines()) == 1


def test_doublewrite_unrecoverable_page_has_a_stderr_line(tablespace: Path, run_cli: Run) -> None:
    """Regression: offline `doublewrite` exited 65 (a damaged page with no copy) with nothing on stderr."""
    _corrupt(tablespace, 3)
    (tablespace.parent / "#ib_16384_0.dblwr").write_bytes(bytes(2 * PS))
    before = _fingerprint(tablespace.parent)
    result = run_cli("doublewrite", str(tablespace.parent), "--format", "json")
    assert result.exit_code == 65
    assert [d["page_no"] for d in result.json()["unrecoverable"]] == [3]
    assert result.stderr.startswith("mysqlinspect: error: doublewrite: ")
    assert "t.ibd page 3" in result.stderr and len(result.stderr.splitlines()) == 1
    assert _fingerprint(tablespace.parent) == before


def test_doublewrite_on_a_file_names_the_file(tablespace: Path, run_cli: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    """Regression: `doublewrite t.ibd` (run where the file is) said `.: no .dblwr files ...`."""
    monkeypatch.chdir(tablespace.parent)
    result = run_cli("doublewrite", "t.ibd")
    assert result.exit_code == 66
    assert result.stderr.startswith("mysqlinspect: error: t.ibd: not a doublewrite file")
    assert "mysqlinspect: error: .:" not in result.stderr and len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize("name", ["#ib_0_0.dblwr", "#ib_1000_0.dblwr"])
def test_doublewrite_file_with_an_impossible_page_size(tablespace: Path, run_cli: Run, name: str) -> None:
    """Regression: `#ib_0_0.dblwr` ended in an internal error (division by zero)."""
    dblwr = tablespace.parent / name
    dblwr.write_bytes(bytes(PS))
    result = run_cli("doublewrite", str(dblwr))
    assert result.exit_code == 65
    assert "is not an InnoDB page size" in result.stderr and len(result.stderr.splitlines()) == 1
