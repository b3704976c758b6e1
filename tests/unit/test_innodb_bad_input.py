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


def _short_of_one_page(tablespace: Path) -> None:
    tablespace.write_bytes(tablespace.read_bytes()[:5000])


def _truncated(tablespace: Path) -> None:
    tablespace.write_bytes(tablespace.read_bytes()[:2 * PS + 1000])


@pytest.mark.parametrize(("damage", "status", "needle"), [
    # Regression: a 0-byte file was "ok" (innochecksum of both flavors: an error, exit 1).
    (lambda p: p.write_bytes(b""), "empty_file", "empty file (0 bytes)"),
    (_short_of_one_page, "truncated", "truncated: 5000 bytes, shorter than one 16384-byte page"),
    (_truncated, "truncated", "truncated: 1000 bytes after the last whole 16384-byte page (2 whole pages)"),
    (lambda p: p.write_bytes(b"\xfebin" + bytes(PS)), "not_a_tablespace", "it is a binary log"),
    (lambda p: p.write_text("[mysqld]\ndatadir=/var/lib/mysql\n" * 400), "not_a_tablespace", "a text file"),
    (lambda p: p.write_text("hello\n"), "not_a_tablespace", "shorter than the smallest page"),
])
def test_pages_verify_never_calls_a_bad_file_ok(tablespace: Path, run_cli: Run, damage: Callable[[Path], None],
                                                status: str, needle: str) -> None:
    damage(tablespace)
    before = _fingerprint(tablespace.parent)
    result = run_cli("pages", "verify", str(tablespace), "--format", "json")
    assert result.exit_code == 65
    item = result.json()["files"][0]
    assert (item["ok"], item["status"]) == (False, status)
    assert needle in result.stderr and len(result.stderr.splitlines()) == 1
    table = run_cli("pages", "verify", str(tablespace), "--format", "table")
    assert table.exit_code == 65 and status.replace("_", " ") in table.stdout
    assert _fingerprint(tablespace.parent) == before


COMMANDS = [("datadir",), ("pages", "verify"), ("doublewrite",)]


@pytest.fixture
def redo_file(tmp_path: Path) -> Path:
    from tests.unit.redo_samples import head_bytes

    path = tmp_path / "redo" / "ib_logfile0"
    path.parent.mkdir()
    path.write_bytes(head_bytes("mysql-5.7.17", "ib_logfile0"))
    return path


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize(("given", "code", "needle"), [
    ("nope", 66, "nope: no such "),
    # Regression: a symbolic link loop was reported as "no such file or directory".
    ("loop", 66, "loop: symbolic link loop"),
    ("dangling", 66, "dangling symbolic link"),
    ("not_a_datadir", 66, "not_a_datadir"),
    ("redo", None, "ib_logfile0"),
])
def test_bad_paths_give_one_line_and_the_documented_code(tmp_path: Path, run_cli: Run, redo_file: Path,
                                                          command: tuple[str, ...], given: str, code: int | None,
                                                          needle: str) -> None:
    (tmp_path / "loop").symlink_to(tmp_path / "loop2")
    (tmp_path / "loop2").symlink_to(tmp_path / "loop")
    (tmp_path / "dangling").symlink_to(tmp_path / "gone")
    (tmp_path / "not_a_datadir").mkdir()
    (tmp_path / "not_a_datadir" / "notes.txt").write_text("backup taken on Monday\n")
    path = redo_file if given == "redo" else tmp_path / given
    before = _fingerprint(tmp_path)
    result = run_cli(*command, str(path))
    expected = code if code is not None else {"datadir": 66, "pages": 65, "doublewrite": 66}[command[0]]
    assert result.exit_code == expected, result.stderr
    assert result.stderr.startswith("mysqlinspect: error: ") and len(result.stderr.splitlines()) == 1
    assert needle in result.stderr and "internal error" not in result.stderr
    assert _fingerprint(tmp_path) == before


def test_datadir_missing_path_says_directory(tmp_path: Path, run_cli: Run) -> None:
    result = run_cli("datadir", str(tmp_path / "missing"))
    assert result.exit_code == 66 and "missing: no such directory" in result.stderr


def test_datadir_outside_a_data_directory_is_66(tmp_path: Path, run_cli: Run) -> None:
    """Regression: `datadir /etc/ssh` mapped it as a data directory of `other` files, exit 0."""
    (tmp_path / "sshd_config").write_text("Port 22\n")
    result = run_cli("datadir", str(tmp_path))
    assert result.exit_code == 66 and "not a data directory" in result.stderr


def test_datadir_lists_an_unreadable_file_with_a_note(tablespace: Path, run_cli: Run,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Root reads anything, so the kernel's refusal is simulated for one file (as test_redo_bad_input does)."""
    from mysqlinspect.innodb.files import datadir as datadir_module

    secret = tablespace.parent / "secret.ibd"
    secret.write_bytes(tablespace.read_bytes())
    real = datadir_module.read_head

    def refusing(path: Path, *args: Any) -> bytes:
        if path == secret:
            raise PermissionError(13, "Permission denied", str(path))
        return real(path, *args)

    monkeypatch.setattr(datadir_module, "read_head", refusing)
    result = run_cli("datadir", str(tablespace.parent), "--format", "json")
    assert result.exit_code == 0, result.stderr
    notes = {f["path"]: f["note"] for f in result.json()["files"]}
    assert notes["secret.ibd"] == "cannot be read (Permission denied)" and notes["t.ibd"] is None


def test_truncated_dblwr_file_is_noted(tablespace: Path, run_cli: Run) -> None:
    """Regression: a .dblwr file ending in a partial slot was read without a word about the bytes left out."""
    (tablespace.parent / "#ib_16384_0.dblwr").write_bytes(bytes(PS + 1000))
    result = run_cli("doublewrite", str(tablespace.parent), "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert result.json()["slots"] == 1
    assert any("1000 bytes after the last whole 16384-byte slot" in note for note in result.json()["notes"])


def test_permission_denied_is_exit_77_on_one_line(tablespace: Path, run_cli: Run,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The one file a command reads exists but may not be read: NO_PERMISSION (77), not NO_INPUT (66). (Commands
    over many files report such a file in their verdict instead: `pages verify` as unreadable, exit 65; `datadir`
    in its notes.) The test runs as root, which reads any file: the denial comes from the open call itself."""
    import mysqlinspect.innodb.pages.reader as reader

    def denied(path: Path) -> int:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(reader, "open_read_only", denied)
    result = run_cli("undo", str(tablespace), "--format", "json")
    assert result.exit_code == 77, (result.exit_code, result.stderr)
    assert "Permission denied" in result.stderr and len(result.stderr.strip().splitlines()) == 1
