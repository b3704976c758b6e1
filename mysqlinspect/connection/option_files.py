"""Parse MySQL option files (my.cnf): groups, `key=value`, quoting and escapes, `!include`, `!includedir`.

Mirrors the mysql client's parser (mysys/my_default.cc): `#`/`;` comment lines, `#` comments after a value,
option names with `_` and `-` equivalent, values optionally quoted, escapes `\\b \\t \\n \\r \\\\ \\s`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from mysqlinspect.errors import OptionFileError

_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "r": "\r", "\\": "\\", "s": " ", '"': '"', "'": "'"}
_MAX_INCLUDE_DEPTH = 10


@dataclass(frozen=True)
class OptionValue:
    """One option read from a file, with where it was read."""

    value: str | None
    path: str
    line: int


@dataclass
class OptionFile:
    """The parsed groups of one option file (and the files it includes), in reading order."""

    path: str
    groups: dict[str, dict[str, OptionValue]] = field(default_factory=dict)

    def group(self, name: str) -> dict[str, OptionValue]:
        return self.groups.get(name, {})


def normalize_key(key: str) -> str:
    return key.strip().lower().replace("_", "-")


def _unquote(raw: str) -> str:
    value = raw.strip()
    hash_pos = _comment_start(value)
    if hash_pos >= 0:
        value = value[:hash_pos].rstrip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return _apply_escapes(value[1:-1])
    return _apply_escapes(value)


def _comment_start(value: str) -> int:
    """Where a trailing `# comment` starts: a `#` outside quotes, at the start or after white space."""
    quote = ""
    escaped = False
    for i, ch in enumerate(value):
        if ch in "'\"" and not escaped:
            quote = ch if not quote else ("" if quote == ch else quote)
        elif not quote and ch == "#" and (i == 0 or value[i - 1].isspace()):
            return i
        escaped = bool(quote) and ch == "\\" and not escaped
    return -1


def _apply_escapes(value: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(value):
        ch = value[i]
        if ch == "\\" and i + 1 < len(value):
            nxt = value[i + 1]
            out.append(_ESCAPES.get(nxt, "\\" + nxt))
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def parse_option_text(text: str, path: str, into: OptionFile | None = None, depth: int = 0) -> OptionFile:
    """Parse option-file text; raise OptionFileError naming file and line on a malformed line."""
    result = into if into is not None else OptionFile(path=path)
    current: str | None = None
    for lineno, raw_line in enumerate(text.splitlines(), start=1):
        line = raw_line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("!"):
            _handle_directive(line, path, lineno, result, depth)
            continue
        if line.startswith("["):
            end = line.find("]")
            if end < 0 or not line[1:end].strip():
                raise OptionFileError(path, lineno, "wrong group definition (expected [group])")
            rest = line[end + 1 :].strip()
            if rest and not rest.startswith(("#", ";")):
                raise OptionFileError(path, lineno, "unexpected text after group name")
            current = line[1:end].strip().lower()
            result.groups.setdefault(current, {})
            continue
        if current is None:
            raise OptionFileError(path, lineno, "option without preceding group")
        key, sep, raw_value = line.partition("=")
        name = normalize_key(key)
        if not name or any(ch.isspace() for ch in name):
            raise OptionFileError(path, lineno, f"cannot parse option {line!r}")
        value = _unquote(raw_value) if sep else None
        result.groups[current][name] = OptionValue(value=value, path=path, line=lineno)
    return result


def _handle_directive(line: str, path: str, lineno: int, result: OptionFile, depth: int) -> None:
    directive, _, arg = line.partition(" ")
    target = arg.strip()
    if directive not in ("!include", "!includedir") or not target:
        raise OptionFileError(path, lineno, f"unknown directive {line!r}")
    if depth >= _MAX_INCLUDE_DEPTH:
        raise OptionFileError(path, lineno, "too many nested !include directives")
    base = Path(path).parent
    target_path = Path(target) if os.path.isabs(target) else base / target
    if directive == "!include":
        _include_file(target_path, result, depth + 1)
        return
    if target_path.is_dir():
        for entry in sorted(target_path.iterdir()):
            if entry.suffix == ".cnf" and entry.is_file():
                _include_file(entry, result, depth + 1)


def _include_file(path: Path, result: OptionFile, depth: int) -> None:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return  # MySQL silently skips include targets it cannot open
    parse_option_text(text, str(path), into=result, depth=depth)


def read_option_file(path: str | Path, required: bool = False) -> OptionFile | None:
    """Read and parse one option file. A missing optional file is None; a missing required one an error."""
    p = Path(path).expanduser()
    try:
        text = p.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        if required:
            raise OptionFileError(str(p), 0, "file not found") from None
        return None
    except OSError as exc:
        if required:
            raise OptionFileError(str(p), 0, f"cannot read: {exc.strerror}") from None
        return None
    return parse_option_text(text, str(p))


def default_option_file_paths() -> list[str]:
    """The standard search path of the mysql client on Unix (without ~/.mylogin.cnf)."""
    paths = ["/etc/my.cnf", "/etc/mysql/my.cnf"]
    mysql_home = os.environ.get("MYSQL_HOME")
    if mysql_home:
        paths.append(os.path.join(mysql_home, "my.cnf"))
    paths.append(os.path.expanduser("~/.my.cnf"))
    return paths
