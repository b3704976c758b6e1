"""Row plans compiled per Table_map: read a row image in place with precompiled struct layouts.

Per table map, once: one ColumnCodec per column. Per distinct columns-present bitmap: the present columns and the
null-bitmap size. Per distinct null bitmap (real tables show few null patterns): one generated function reading
the image, where a run of fixed-width non-NULL columns is one `struct.Struct.unpack_from` and each
variable-width column one reader call, returning the row dict as a literal (NULL columns None, columns absent
from a MINIMAL/NOBLOB image NOT_LOGGED).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mysqlinspect.binlog.decode.native import compile_plan
from mysqlinspect.binlog.decode.tablemap import TableMap
from mysqlinspect.binlog.decode.values.columns import ColumnCodec, codec_for, diff_codec
from mysqlinspect.binlog.model import NOT_LOGGED
from mysqlinspect.errors import DataError

MAX_CACHED_LAYOUTS = 4096


ImageReader = Callable[[bytes, int], tuple[dict[str, Any], int]]


@dataclass(frozen=True, slots=True)
class ImageLayout:
    read: ImageReader
    source: str  # the generated code, for debugging


@dataclass
class RowPlan:
    """Everything needed to decode this table's row images (cached on the TableMap)."""

    names: list[str]
    codecs: list[ColumnCodec]
    _present: dict[bytes, tuple[tuple[int, ...], int]]
    _layouts: dict[tuple[bytes, bytes, tuple[int, ...]], ImageLayout]
    _readers: dict[bytes, ImageReaders] = field(default_factory=dict)
    native: Any = None  # the C plan (decode.native), None without the extension or for a column it cannot read

    def present(self, bitmap: bytes) -> tuple[tuple[int, ...], int]:
        """(present column indexes, null bitmap length) for a columns-present bitmap."""
        found = self._present.get(bitmap)
        if found is None:
            cols = tuple(i for i in range(len(self.names)) if bitmap[i >> 3] >> (i & 7) & 1)
            found = (cols, (len(cols) + 7) // 8)
            self._present[bitmap] = found
        return found

    def layout(self, bitmap: bytes, nulls: bytes, present: tuple[int, ...], partial: tuple[int, ...] = ()
               ) -> ImageLayout:
        key = (bitmap, nulls, partial)
        found = self._layouts.get(key)
        if found is None:
            if len(self._layouts) > MAX_CACHED_LAYOUTS:
                self._layouts.clear()
            found = self._layouts[key] = self._compile(present, nulls, partial)
        return found

    def _compile(self, present: tuple[int, ...], nulls: bytes, partial: tuple[int, ...]) -> ImageLayout:
        """Generate one function per layout: struct runs unpacked in one call, readers called in order, and the
        row dict built as a literal (NULL columns None, absent columns NOT_LOGGED)."""
        env: dict[str, Any] = {"NOT_LOGGED": NOT_LOGGED}
        values: dict[str, str] = dict.fromkeys(self.names, "NOT_LOGGED")
        lines: list[str] = []
        fmt, run = "", []  # the pending run of fixed-width columns: (variable, converter name or None)
        cached: list[str] = []  # lookups of cached converted values, after every read
        for j, i in enumerate(present):
            name, codec = self.names[i], self.codecs[i]
            if i in partial:
                codec = diff_codec(codec)
            if nulls[j >> 3] >> (j & 7) & 1:
                values[name] = "None"
                continue
            var = f"v{i}"
            values[name] = var
            if codec.convert is not None:
                env[f"c{i}"] = codec.convert
                values[name] = f"c{i}({var})"
                if codec.cache is not None:  # a cached value without a call: x = cache.get(v) or convert(v)
                    env[f"k{i}"] = codec.cache.get
                    cached.extend([f"    x{i} = k{i}({var})", f"    if x{i} is None:", f"        x{i} = c{i}({var})"])
                    values[name] = f"x{i}"
            if codec.fmt is not None:
                fmt += codec.fmt
                run.append(var)
                continue
            _flush_run(lines, env, fmt, run)
            fmt, run = "", []
            env[f"r{i}"] = codec.read
            if codec.encoding is not None:
                lines.extend(_inline_string(var, f"r{i}", codec.length_size, codec.encoding))
            else:
                lines.append(f"    {var}, pos = r{i}(data, pos)")
        _flush_run(lines, env, fmt, run)
        lines.extend(cached)
        body = ", ".join(f"{name!r}: {expr}" for name, expr in values.items())
        source = "def read(data, pos):\n" + "\n".join(lines) + f"\n    return {{{body}}}, pos\n"
        exec(compile(source, "<row image layout>", "exec"), env)  # our own generated code, names via repr()
        return ImageLayout(env["read"], source)


def _inline_string(var: str, reader: str, length_size: int, encoding: str) -> list[str]:
    """A character column read in place: length prefix, decode; the column's reader handles undecodable bytes."""
    length = "data[pos]" if length_size == 1 else f"int.from_bytes(data[pos:pos + {length_size}], 'little')"
    return [f"    end = pos + {length_size} + {length}",
            "    try:",
            f"        {var} = data[pos + {length_size}:end].decode({encoding!r})",
            "    except (UnicodeDecodeError, LookupError):",
            f"        {var} = {reader}(data, pos)[0]",
            "    pos = end"]


def _flush_run(lines: list[str], env: dict[str, Any], fmt: str, run: list[str]) -> None:
    if not run:
        return
    layout = struct.Struct("<" + fmt)
    name = f"s_{run[0]}"
    env[name] = layout
    lines.append(f"    {', '.join(run)}, = {name}.unpack_from(data, pos)")
    lines.append(f"    pos += {layout.size}")


@dataclass(slots=True)
class ImageReaders:
    """The compiled readers of one columns-present bitmap, by null bitmap: what a rows event's loop needs per
    image (`layouts.get(nulls) or compile(nulls)`)."""

    null_len: int
    layouts: dict[bytes, ImageReader]
    compile: Callable[[bytes], ImageReader]


def image_readers(plan: RowPlan, bitmap: bytes) -> ImageReaders:
    found = plan._readers.get(bitmap)
    if found is None:
        if len(plan._readers) > MAX_CACHED_LAYOUTS:
            plan._readers.clear()
        present, null_len = plan.present(bitmap)
        layouts: dict[bytes, ImageReader] = {}

        def compile_layout(nulls: bytes) -> ImageReader:
            read = layouts[nulls] = plan.layout(bitmap, nulls, present).read
            return read

        found = plan._readers[bitmap] = ImageReaders(null_len, layouts, compile_layout)
    return found


def plan_for(tmap: TableMap, mariadb: bool) -> RowPlan:
    plan = tmap.cache.get("plan")
    if plan is None:
        names = [c.name or f"@{c.index + 1}" for c in tmap.columns]
        codecs = [codec_for(c, mariadb) for c in tmap.columns]
        plan = RowPlan(names, codecs, {}, {}, native=compile_plan(tmap.columns, names, codecs, mariadb))
        tmap.cache["plan"] = plan
    return plan


def read_image(plan: RowPlan, bitmap: bytes, data: bytes, pos: int, partial: tuple[int, ...] = ()
               ) -> tuple[dict[str, Any], int]:
    """One row image at `pos`: (row dict, position after it). Columns in `partial` (JSON columns of a partial
    after image) hold a PartialJson diff vector instead of a document."""
    present, null_len = plan.present(bitmap)
    end = pos + null_len
    row, pos = plan.layout(bitmap, data[pos:end], present, partial).read(data, end)
    if pos > len(data):
        raise DataError("a row image runs past the end of its event")
    return row, pos
