"""A faster row-image decoder for mysql-replication's rows events, producing exactly the library's values.

The library decodes every value through several method calls and a byte-slice per read (about 100 us per row
image). This module replaces `RowsEvent._read_column_data` with one that compiles a plan per table (one small
decoder per column, reading the packet buffer in place with struct) for full row images of the usual types, and
falls back to the original for anything else (MINIMAL images, partial JSON, old temporal types, missing column
names). Values, and the none-sources that explain a None, are the library's own - including its quirks, which
mysqlinspect.binlog.decode.values.convert corrects afterwards - so the records are the same either way (tests
compare both).
One deliberate difference: a partly-zero DATE/DATETIME ('2024-00-15', allowed without NO_ZERO_IN_DATE), which
the library flattens to None ("out of range", shown as 0000-00-00), is kept as its exact text.

It also keeps the JSON `null` document apart from SQL NULL (see jsonnull), on both paths.
"""

from __future__ import annotations

import datetime as dt
import struct
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from pymysqlreplication.bitmap import BitCount
from pymysqlreplication.constants import BINLOG, FIELD_TYPE, NONE_SOURCE
from pymysqlreplication.packet import parse_json
from pymysqlreplication.row_event import RowsEvent

from mysqlinspect.binlog.decode.library import jsonnull

ENABLED = True  # tests switch it off to compare with the library's own decoding
COUNTS = {"fast": 0, "library": 0}  # row images decoded by each path
_INSTALLED = "_mysqlinspect_fastrows"
_PLAN_ATTR = "_mysqlinspect_plan"
_NONE_SOURCES = "_RowsEvent__none_sources"
_BUFFER = "_BinLogPacketWrapper__data_buffer"

# decoder(data, pos) -> (value, new_pos, none_source or None)
Decoder = Callable[[bytes, int], tuple[Any, int, str | None]]

_INT = {
    (FIELD_TYPE.TINY, False): struct.Struct("<b"), (FIELD_TYPE.TINY, True): struct.Struct("<B"),
    (FIELD_TYPE.SHORT, False): struct.Struct("<h"), (FIELD_TYPE.SHORT, True): struct.Struct("<H"),
    (FIELD_TYPE.LONG, False): struct.Struct("<i"), (FIELD_TYPE.LONG, True): struct.Struct("<I"),
    (FIELD_TYPE.LONGLONG, False): struct.Struct("<q"), (FIELD_TYPE.LONGLONG, True): struct.Struct("<Q"),
    (FIELD_TYPE.FLOAT, False): struct.Struct("<f"), (FIELD_TYPE.FLOAT, True): struct.Struct("<f"),
    (FIELD_TYPE.DOUBLE, False): struct.Struct("<d"), (FIELD_TYPE.DOUBLE, True): struct.Struct("<d"),
}
_COMPRESSED_BYTES = (0, 1, 1, 2, 2, 3, 3, 4, 4, 4)
_FSP_BYTES = (0, 1, 1, 2, 2, 3, 3)
_utc = dt.datetime.utcfromtimestamp


def _uint_le(data: bytes, pos: int, size: int) -> int:
    return int.from_bytes(data[pos:pos + size], "little")


def _int_be(data: bytes | bytearray, pos: int, size: int) -> int:
    """The library's read_int_be_by_size: signed for 1-4 bytes, unsigned for 5."""
    return int.from_bytes(data[pos:pos + size], "big", signed=size != 5)


def _fsp(data: bytes, pos: int, fsp: int) -> tuple[int, int]:
    size = _FSP_BYTES[fsp] if 0 <= fsp <= 6 else 0
    if size == 0:
        return 0, pos
    micro = _int_be(data, pos, size)
    if fsp % 2:
        micro = int(micro / 10)
    return micro * 10 ** (6 - fsp), pos + size


def _int_decoder(column: Any, unsigned: bool) -> Decoder:
    unpack = _INT[(column.type, unsigned)].unpack_from
    size = _INT[(column.type, unsigned)].size

    def decode(data: bytes, pos: int) -> tuple[Any, int, str | None]:
        return unpack(data, pos)[0], pos + size, None

    return decode


def _int24_decoder(unsigned: bool) -> Decoder:
    def decode(data: bytes, pos: int) -> tuple[Any, int, str | None]:
        return int.from_bytes(data[pos:pos + 3], "little", signed=not unsigned), pos + 3, None

    return decode


def _year_decoder(data: bytes, pos: int) -> tuple[Any, int, str | None]:
    return data[pos] + 1900, pos + 1, None


def _string_decoder(length_size: int, charset: str | None) -> Decoder:
    encoding = RowsEvent.charset_to_encoding(charset) if charset is not None else "utf-8"

    def decode(data: bytes, pos: int) -> tuple[Any, int, str | None]:
        length = int.from_bytes(data[pos:pos + length_size], "little")
        start = pos + length_size
        raw = data[start:start + length]
        try:
            value: Any = raw.decode(encoding)
        except LookupError:
            value = raw
        return value, start + length, None

    return decode


def _bytes_decoder(length_size: int) -> Decoder:
    def decode(data: bytes, pos: int) -> tuple[Any, int, str | None]:
        length = int.from_bytes(data[pos:pos + length_size], "little")
        start = pos + length_size
        return data[start:start + length], start + length, None

    return decode


def _decimal_decoder(precision: int, decimals: int) -> Decoder:
    integral = precision - decimals
    uncomp_integral, comp_integral = divmod(integral, 9)
    uncomp_fractional, comp_fractional = divmod(decimals, 9)
    head = _COMPRESSED_BYTES[comp_integral]
    tail = _COMPRESSED_BYTES[comp_fractional]
    size = head + 4 * (uncomp_integral + uncomp_fractional) + tail

    def decode(data: bytes, pos: int) -> tuple[Any, int, str | None]:
        buf = bytearray(data[pos:pos + size])
        if buf[0] & 0x80:
            res, mask = "", 0
        else:
            res, mask = "-", -1
        buf[0] ^= 0x80
        offset = 0
        if head:
            res += str(_int_be(buf, 0, head) ^ mask)
            offset = head
        for _ in range(uncomp_integral):
            res += f"{int.from_bytes(buf[offset:offset + 4], 'big', signed=True) ^ mask:09d}"
            offset += 4
        res += "."
        for _ in range(uncomp_fractional):
            res += f"{int.from_bytes(buf[offset:offset + 4], 'big', signed=True) ^ mask:09d}"
            offset += 4
        if tail:
            res += f"{_int_be(buf, offset, tail) ^ mask:0{comp_fractional}d}"
        return Decimal(res), pos + size, None

    return decode


def _slice(value: int, start: int, size: int, length: int) -> int:
    return (value >> (length - (start + size))) & ((1 << size) - 1)


def _datetime2_decoder(fsp: int) -> Decoder:
    fsp_size = _FSP_BYTES[fsp] if 0 <= fsp <= 6 else 0
    scale = 10 ** (6 - fsp) if fsp_size else 0
    odd = fsp % 2 == 1
    datetime = dt.datetime

    def decode(data: bytes, pos: int) -> tuple[Any, int, str | None]:
        packed = int.from_bytes(data[pos:pos + 5], "big")
        end = pos + 5 + fsp_size
        micro = 0
        if fsp_size:
            micro = int.from_bytes(data[pos + 5:end], "big", signed=True)
            if odd:
                micro = int(micro / 10)
            micro *= scale
        year_month = (packed >> 22) & 0x1FFFF
        parts = (year_month // 13, year_month % 13, (packed >> 17) & 0x1F, (packed >> 12) & 0x1F,
                 (packed >> 6) & 0x3F, packed & 0x3F)
        try:
            value = datetime(*parts, micro if micro > 0 else 0)
        except ValueError:
            if not any(parts[:3]):
                return None, end, NONE_SOURCE.OUT_OF_DATETIME2_RANGE
            return partial_datetime_text(parts, micro, fsp), end, None
        return value, end, None

    return decode


def _timestamp2_decoder(fsp: int) -> Decoder:
    def decode(data: bytes, pos: int) -> tuple[Any, int, str | None]:
        value = _utc(int.from_bytes(data[pos:pos + 4], "big", signed=True))
        micro, end = _fsp(data, pos + 4, fsp)
        if micro > 0:
            value = value.replace(microsecond=micro)
        return value, end, None

    return decode


def _time2_decoder(fsp: int) -> Decoder:
    def decode(data: bytes, pos: int) -> tuple[Any, int, str | None]:
        packed = _int_be(data, pos, 3)
        sign = 1 if _slice(packed, 0, 1, 24) else -1
        if sign == -1:
            packed = ~packed + 1
        micro, end = _fsp(data, pos + 3, fsp)
        value = dt.timedelta(hours=_slice(packed, 2, 10, 24), minutes=_slice(packed, 12, 6, 24),
                             seconds=_slice(packed, 18, 6, 24), microseconds=micro) * sign
        return value, end, None

    return decode


def _date_decoder(data: bytes, pos: int) -> tuple[Any, int, str | None]:
    packed = data[pos] | (data[pos + 1] << 8) | (data[pos + 2] << 16)
    if packed == 0:
        return None, pos + 3, NONE_SOURCE.OUT_OF_DATE_RANGE
    year, month, day = (packed >> 9) & 0x7FFF, (packed >> 5) & 0xF, packed & 0x1F
    if year == 0 or month == 0 or day == 0:
        # a partly-zero date (allowed without NO_ZERO_IN_DATE) is kept as its text, not flattened to 0000-00-00
        return f"{year:04d}-{month:02d}-{day:02d}", pos + 3, None
    return dt.date(year, month, day), pos + 3, None


def partial_datetime_text(parts: tuple[int, ...], micro: int, fsp: int) -> str:
    """'2024-00-15 10:11:12.5' for a DATETIME the datetime type cannot hold (a zero month or day)."""
    text = "{:04d}-{:02d}-{:02d} {:02d}:{:02d}:{:02d}".format(*parts)
    return text + (f".{micro:06d}"[: fsp + 1] if fsp else "")


def _enum_decoder(size: int, values: Any) -> Decoder:
    def decode(data: bytes, pos: int) -> tuple[Any, int, str | None]:
        index = _uint_le(data, pos, size)
        return (values[index] if values else None), pos + size, None

    return decode


def _set_decoder(size: int, values: Any) -> Decoder:
    def decode(data: bytes, pos: int) -> tuple[Any, int, str | None]:
        mask = _uint_le(data, pos, size)
        if values:
            members = {v for i, v in enumerate(values) if mask & (1 << i)}
            if members:
                return members, pos + size, None
        return None, pos + size, NONE_SOURCE.EMPTY_SET

    return decode


def _bit_decoder(nbytes: int, nbits: int) -> Decoder:
    def decode(data: bytes, pos: int) -> tuple[Any, int, str | None]:
        out = ""
        for i in range(nbytes):
            byte = data[pos + i]
            if i == 0:
                end = nbits if nbytes == 1 else (nbits % 8 or 8)
            else:
                end = 8
            out += "".join("1" if byte & (1 << bit) else "0" for bit in range(end))[::-1]
        return out, pos + nbytes, None

    return decode


def _json_decoder(length_size: int) -> Decoder:
    def decode(data: bytes, pos: int) -> tuple[Any, int, str | None]:
        length = int.from_bytes(data[pos:pos + length_size], "little")
        start = pos + length_size
        if length == 0:
            return jsonnull.JSON_NULL, start, None
        value = parse_json(data[start], data[start + 1:start + length])
        return (jsonnull.JSON_NULL if value is None else value), start + length, None

    return decode


def column_decoder(column: Any, unsigned: bool) -> Decoder | None:
    """The decoder of one column, or None when the library has to decode it."""
    t = column.type
    if (t, unsigned) in _INT:
        return _int_decoder(column, unsigned)
    if t == FIELD_TYPE.INT24:
        return _int24_decoder(unsigned)
    if t == FIELD_TYPE.YEAR:
        return _year_decoder
    if t in (FIELD_TYPE.VARCHAR, FIELD_TYPE.STRING):
        return _string_decoder(2 if column.max_length > 255 else 1, column.character_set_name)
    if t == FIELD_TYPE.BLOB:
        return _string_decoder(column.length_size, column.character_set_name)
    if t == FIELD_TYPE.NEWDECIMAL:
        return _decimal_decoder(column.precision, column.decimals)
    if t == FIELD_TYPE.DATETIME2:
        return _datetime2_decoder(column.fsp)
    if t == FIELD_TYPE.TIMESTAMP2:
        return _timestamp2_decoder(column.fsp)
    if t == FIELD_TYPE.TIME2:
        return _time2_decoder(column.fsp)
    if t == FIELD_TYPE.DATE:
        return _date_decoder
    if t == FIELD_TYPE.ENUM:
        return _enum_decoder(column.size, column.enum_values)
    if t == FIELD_TYPE.SET:
        return _set_decoder(column.size, column.set_values)
    if t == FIELD_TYPE.BIT:
        return _bit_decoder(column.bytes, column.bits)
    if t == FIELD_TYPE.GEOMETRY:
        return _bytes_decoder(column.length_size)
    if t == FIELD_TYPE.JSON:
        return _json_decoder(column.length_size)
    return None


Plan = list[tuple[str, Decoder]]


def table_plan(event: Any) -> Plan | None:
    """Per-table decoders, cached on the library's Table object (None: not decodable here)."""
    table = event.table_map[event.table_id]
    cached: Plan | bool | None = getattr(table, _PLAN_ATTR, False)
    if cached is not False:
        return cached if isinstance(cached, list) else None
    plan: Plan | None = []
    for column in table.columns:
        decoder = column_decoder(column, bool(getattr(column, "unsigned", False))) if column.name else None
        if decoder is None:
            plan = None
            break
        assert plan is not None
        plan.append((column.name, decoder))
    try:
        setattr(table, _PLAN_ATTR, plan)
    except AttributeError:
        pass
    return plan


_BITMAPS: dict[tuple[bytes, int], int] = {}


def _null_bitmap_length(cols_bitmap: bytes, count: int) -> int:
    """Bytes of the null bitmap as the library reads it, or -1 when the image is not full (cached)."""
    key = (cols_bitmap, count)
    length = _BITMAPS.get(key)
    if length is None:
        full = (1 << count) - 1
        if int.from_bytes(cols_bitmap, "little") & full != full:
            length = -1
        else:
            length = int((BitCount(cols_bitmap) + 7) / 8)
        if len(_BITMAPS) > 4096:
            _BITMAPS.clear()
        _BITMAPS[key] = length
    return length


def _fast_read(self: Any, cols_bitmap: Any, plan: Plan) -> dict[str, Any] | None:
    wrapper = self.packet
    if getattr(wrapper, _BUFFER):
        return None  # something was pushed back: let the library read
    count = len(plan)
    null_len = _null_bitmap_length(bytes(cols_bitmap), count)
    if null_len < 0:
        return None  # not a full image
    packet = wrapper.packet
    data: bytes = packet._data
    start = packet._position
    nulls = data[start:start + null_len]
    pos = start + null_len
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for i, (name, decode) in enumerate(plan):
        if nulls[i >> 3] & (1 << (i & 7)):
            values[name] = None
            sources[name] = NONE_SOURCE.NULL
            continue
        value, pos, source = decode(data, pos)
        values[name] = value
        if source is not None:
            sources[name] = source
    if pos > len(data):
        raise struct.error("row image runs past the end of the event")
    packet._position = pos
    wrapper.read_bytes += pos - start
    setattr(self, _NONE_SOURCES, sources)
    return values


def install() -> None:
    """Replace RowsEvent._read_column_data once (idempotent); includes the JSON-null patch."""
    if getattr(RowsEvent._read_column_data, _INSTALLED, False):
        return
    jsonnull.install()
    original = RowsEvent._read_column_data

    def read_column_data(self: Any, cols_bitmap: Any, row_image_type: Any = None) -> dict[str, Any]:
        if ENABLED and self.event_type != BINLOG.PARTIAL_UPDATE_ROWS_EVENT:
            plan = table_plan(self)
            if plan is not None:
                values = _fast_read(self, cols_bitmap, plan)
                if values is not None:
                    COUNTS["fast"] += 1
                    return values
        COUNTS["library"] += 1
        result: dict[str, Any] = original(self, cols_bitmap, row_image_type)
        return result

    setattr(read_column_data, _INSTALLED, True)
    setattr(read_column_data, jsonnull.INSTALLED_FLAG, True)  # its fallback is the JSON-null wrapper
    RowsEvent._read_column_data = read_column_data
