"""Row plans compiled per Table_map: read a row image in place with precompiled struct layouts.

Per table map, once: one ColumnCodec per column. Per distinct columns-present bitmap: the present columns and the
null-bitmap size. Per distinct null bitmap (real tables show few null patterns): the steps of the image, where a
run of fixed-width non-NULL columns is one `struct.Struct.unpack_from` and each variable-width column one reader
call, plus the row dict template (NULL columns None, columns absent from a MINIMAL/NOBLOB image NOT_LOGGED).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

from mysqlinspect.binlog.decode.columns import ColumnCodec, Convert, Reader, codec_for
from mysqlinspect.binlog.decode.tablemap import TableMap
from mysqlinspect.binlog.model import NOT_LOGGED
from mysqlinspect.errors import DataError

MAX_CACHED_LAYOUTS = 4096


@dataclass(frozen=True, slots=True)
class Run:
    layout: struct.Struct
    targets: tuple[tuple[str, Convert | None], ...]


@dataclass(frozen=True, slots=True)
class Variable:
    name: str
    read: Reader


@dataclass(frozen=True, slots=True)
class ImageLayout:
    template: dict[str, Any]
    steps: tuple[Run | Variable, ...]


@dataclass
class RowPlan:
    """Everything needed to decode this table's row images (cached on the TableMap)."""

    names: list[str]
    codecs: list[ColumnCodec]
    _present: dict[bytes, tuple[tuple[int, ...], int]]
    _layouts: dict[tuple[bytes, bytes], ImageLayout]

    def present(self, bitmap: bytes) -> tuple[tuple[int, ...], int]:
        """(present column indexes, null bitmap length) for a columns-present bitmap."""
        found = self._present.get(bitmap)
        if found is None:
            cols = tuple(i for i in range(len(self.names)) if bitmap[i >> 3] >> (i & 7) & 1)
            found = (cols, (len(cols) + 7) // 8)
            self._present[bitmap] = found
        return found

    def layout(self, bitmap: bytes, nulls: bytes, present: tuple[int, ...]) -> ImageLayout:
        key = (bitmap, nulls)
        found = self._layouts.get(key)
        if found is None:
            if len(self._layouts) > MAX_CACHED_LAYOUTS:
                self._layouts.clear()
            found = self._layouts[key] = self._compile(present, nulls)
        return found

    def _compile(self, present: tuple[int, ...], nulls: bytes) -> ImageLayout:
        template: dict[str, Any] = dict.fromkeys(self.names, NOT_LOGGED)
        steps: list[Run | Variable] = []
        fmt, targets = "", []
        for j, i in enumerate(present):
            name, codec = self.names[i], self.codecs[i]
            if nulls[j >> 3] >> (j & 7) & 1:
                template[name] = None
                continue
            template[name] = None
            if codec.fmt is not None:
                fmt += codec.fmt
                targets.append((name, codec.convert))
                continue
            if targets:
                steps.append(Run(struct.Struct("<" + fmt), tuple(targets)))
                fmt, targets = "", []
            assert codec.read is not None
            steps.append(Variable(name, codec.read))
        if targets:
            steps.append(Run(struct.Struct("<" + fmt), tuple(targets)))
        return ImageLayout(template, tuple(steps))


def plan_for(tmap: TableMap, mariadb: bool) -> RowPlan:
    plan = tmap.cache.get("plan")
    if plan is None:
        names = [c.name or f"@{c.index + 1}" for c in tmap.columns]
        plan = RowPlan(names, [codec_for(c, mariadb) for c in tmap.columns], {}, {})
        tmap.cache["plan"] = plan
    return plan


def read_image(plan: RowPlan, bitmap: bytes, data: bytes, pos: int) -> tuple[dict[str, Any], int]:
    """One row image at `pos`: (row dict, position after it)."""
    present, null_len = plan.present(bitmap)
    nulls = data[pos : pos + null_len]
    pos += null_len
    layout = plan.layout(bitmap, nulls, present)
    row = layout.template.copy()
    for step in layout.steps:
        if type(step) is Run:
            values = step.layout.unpack_from(data, pos)
            pos += step.layout.size
            for (name, convert), value in zip(step.targets, values, strict=True):
                row[name] = value if convert is None else convert(value)
        else:
            row[step.name], pos = step.read(data, pos)  # type: ignore[union-attr]
    if pos > len(data):
        raise DataError("a row image runs past the end of its event")
    return row, pos
