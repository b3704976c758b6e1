"""One value decoder per column, compiled from its Table_map definition; values are the model's (values.py).

A fixed-width column is a `struct` format plus an optional conversion of the unpacked item, so a plan can read a
run of them with one precompiled Struct. A variable-width column is a reader `(data, pos) -> (value, pos)`.
Decimal, DATETIME2 and DATE reuse fastrows' decoders; JSON documents go through decode.jsonb.
"""

from __future__ import annotations

import datetime as dt
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pymysqlreplication.constants import CHARSET

from mysqlinspect.binlog.decode import fastrows
from mysqlinspect.binlog.decode import types as T
from mysqlinspect.binlog.decode.jsonb import parse_document
from mysqlinspect.binlog.decode.jsondiff import PartialJson
from mysqlinspect.binlog.decode.jsonnull import JSON_NULL
from mysqlinspect.binlog.decode.tablemap import ColumnDef
from mysqlinspect.binlog.decode.values import ZERO_DATETIME, none_value, shortest_float32
from mysqlinspect.errors import DataError

Convert = Callable[[Any], Any]
Reader = Callable[[bytes, int], tuple[Any, int]]
BINARY_COLLATION = 63
_FRAC_BYTES = (0, 1, 1, 2, 2, 3, 3)
_FRAC_SCALE = (0, 10000, 100, 1)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_INT_FORMATS = {T.TINY: "b", T.SHORT: "h", T.LONG: "i", T.LONGLONG: "q"}


@dataclass(frozen=True, slots=True)
class ColumnCodec:
    """fmt + convert for fixed-width values, or read for variable-width ones."""

    fmt: str | None = None
    convert: Convert | None = None
    read: Reader | None = None
    length_size: int = 0  # variable-width columns: bytes of the length prefix

    @property
    def size(self) -> int:
        return struct.calcsize("<" + self.fmt) if self.fmt else 0


# MySQL's UCS-2/UTF-16/UTF-32 are big-endian; Python's bare "utf16"/"utf32" codecs assume a BOM or the host order.
_WIDE_CODECS = {"ucs2": "utf-16-be", "utf16": "utf-16-be", "utf16le": "utf-16-le", "utf32": "utf-32-be"}


def encoding_of(col: ColumnDef, mariadb: bool) -> str:
    """The Python codec of a character column ('binary' for binary data), as mysql-replication names it."""
    if col.collation is None:
        return "utf8"
    charset = CHARSET.charset_by_id(col.collation, "mariadb" if mariadb else "mysql")
    if charset is None:
        return "utf8"
    return _WIDE_CODECS.get(charset.name, charset.encoding)


def codec_for(col: ColumnDef, mariadb: bool) -> ColumnCodec:
    t = col.real_type
    if t in _INT_FORMATS:
        fmt = _INT_FORMATS[t]
        return ColumnCodec(fmt.upper() if col.unsigned else fmt)
    fixed = _fixed_codec(col)
    if fixed is not None:
        return fixed
    length_size = col.max_length if col.real_type == T.JSON else 0
    return ColumnCodec(read=_variable_reader(col, mariadb), length_size=length_size)


def _fixed_codec(col: ColumnDef) -> ColumnCodec | None:
    t = col.real_type
    if t == T.INT24:
        signed = not col.unsigned
        return ColumnCodec("3s", lambda raw: int.from_bytes(raw, "little", signed=signed))
    if t == T.FLOAT:
        return ColumnCodec("f", shortest_float32)
    if t == T.DOUBLE:
        return ColumnCodec("d")
    if t == T.YEAR:
        return ColumnCodec("B", lambda v: v + 1900 if v else 0)
    if t == T.NEWDECIMAL:
        return _decimal_codec(col.meta >> 8, col.meta & 0xFF)
    if t == T.BIT:
        nbytes = (col.meta & 0xFF) + (1 if col.meta >> 8 else 0)  # meta = (M % 8) << 8 | M // 8
        return ColumnCodec(f"{nbytes}s", lambda raw: int.from_bytes(raw, "big"))
    if t == T.ENUM:
        return _enum_codec(col)
    if t == T.SET:
        return _set_codec(col)
    return _temporal_codec(col)


def _decimal_codec(precision: int, scale: int) -> ColumnCodec:
    decode = fastrows._decimal_decoder(precision, scale)
    ints, fracs = divmod(precision - scale, 9), divmod(scale, 9)
    size = fastrows._COMPRESSED_BYTES[ints[1]] + 4 * (ints[0] + fracs[0]) + fastrows._COMPRESSED_BYTES[fracs[1]]
    return ColumnCodec(f"{size}s", lambda raw: decode(raw, 0)[0])


def _enum_codec(col: ColumnDef) -> ColumnCodec:
    names = ("", *col.enum_values)
    fmt = "B" if col.max_length == 1 else "H"
    if not col.enum_values:
        return ColumnCodec(fmt)
    return ColumnCodec(fmt, lambda i: names[i] if i < len(names) else "")


def _set_codec(col: ColumnDef) -> ColumnCodec:
    members = col.set_values

    def convert(raw: bytes) -> Any:
        mask = int.from_bytes(raw, "little")
        if not members:
            return mask
        return [name for i, name in enumerate(members) if mask >> i & 1]

    return ColumnCodec(f"{col.max_length}s", convert)


def _temporal_codec(col: ColumnDef) -> ColumnCodec | None:
    t, fsp = col.type, col.meta
    if t in (T.DATE, T.NEWDATE):
        return ColumnCodec("3s", _date)
    if t == T.DATETIME2:
        decode = fastrows._datetime2_decoder(fsp)

        def datetime2(raw: bytes) -> Any:
            value, _, source = decode(raw, 0)
            return none_value("datetime", source) if value is None else value

        return ColumnCodec(f"{5 + _FRAC_BYTES[fsp]}s", datetime2)
    if t == T.TIMESTAMP2:
        return ColumnCodec(f"{4 + _FRAC_BYTES[fsp]}s", _timestamp2(fsp))
    if t == T.TIME2:
        return ColumnCodec(f"{3 + _FRAC_BYTES[fsp]}s", _time2(fsp))
    if t == T.TIMESTAMP:
        return ColumnCodec("I", lambda s: _EPOCH + dt.timedelta(seconds=s) if s else ZERO_DATETIME)
    if t == T.DATETIME:
        return ColumnCodec("Q", _old_datetime)
    if t == T.TIME:
        return ColumnCodec("3s", _old_time)
    return None


def _date(raw: bytes) -> Any:
    value, _, source = fastrows._date_decoder(raw, 0)
    return none_value("date", source) if value is None else value


def _fraction(raw: bytes, start: int, nbytes: int) -> int:
    return int.from_bytes(raw[start : start + nbytes], "big") * _FRAC_SCALE[nbytes] if nbytes else 0


def _timestamp2(fsp: int) -> Convert:
    nbytes = _FRAC_BYTES[fsp]

    def convert(raw: bytes) -> Any:
        seconds = int.from_bytes(raw[0:4], "big")
        micro = _fraction(raw, 4, nbytes)
        if seconds == 0 and micro == 0:
            return ZERO_DATETIME
        return _EPOCH + dt.timedelta(seconds=seconds, microseconds=micro)

    return convert


def _time2(fsp: int) -> Convert:
    """my_time_packed_from_binary (mysys/my_time.cc), negative values included."""
    nbytes = _FRAC_BYTES[fsp]

    def convert(raw: bytes) -> Any:
        if nbytes == 3:
            packed = int.from_bytes(raw[0:6], "big") - 0x800000000000
        else:
            intpart = int.from_bytes(raw[0:3], "big") - 0x800000
            frac = int.from_bytes(raw[3 : 3 + nbytes], "big") if nbytes else 0
            if intpart < 0 and frac:
                intpart += 1
                frac -= 1 << (8 * nbytes)
            packed = (intpart << 24) + frac * _FRAC_SCALE[nbytes]
        negative, packed = packed < 0, abs(packed)
        hms, micro = packed >> 24, packed & 0xFFFFFF
        value = dt.timedelta(hours=hms >> 12 & 0x3FF, minutes=hms >> 6 & 0x3F, seconds=hms & 0x3F,
                             microseconds=micro)
        return -value if negative else value

    return convert


def _old_datetime(value: int) -> Any:
    if value == 0:
        return ZERO_DATETIME
    date, time = divmod(value, 1_000_000)
    parts = (date // 10000, date // 100 % 100, date % 100, time // 10000, time // 100 % 100, time % 100)
    try:
        return dt.datetime(*parts)
    except ValueError:
        return fastrows.partial_datetime_text(parts, 0, 0)


def _old_time(raw: bytes) -> Any:
    value = int.from_bytes(raw, "little", signed=True)
    magnitude = abs(value)
    delta = dt.timedelta(hours=magnitude // 10000, minutes=magnitude // 100 % 100, seconds=magnitude % 100)
    return -delta if value < 0 else delta


def _variable_reader(col: ColumnDef, mariadb: bool) -> Reader:
    t = col.real_type
    if t in (T.VARCHAR, T.VAR_STRING, T.STRING):
        return _string_reader(2 if col.max_length > 255 else 1, col, mariadb)
    if t == T.BLOB:
        return _string_reader(col.max_length, col, mariadb)
    if t == T.JSON:
        return _json_reader(col.max_length)
    if t == T.GEOMETRY:
        return _bytes_reader(col.max_length)
    if t == T.VECTOR:
        return _vector_reader(col.max_length)
    if t in (T.BLOB_COMPRESSED, T.VARCHAR_COMPRESSED):
        size = col.max_length if t == T.BLOB_COMPRESSED else (2 if col.max_length > 256 else 1)
        return _compressed_reader(size, encoding_of(col, mariadb))
    raise DataError(f"column {col.index + 1} has binlog type {col.type}, which cannot be decoded")


def _text(raw: bytes, encoding: str) -> Any:
    if encoding == "binary":
        return raw
    try:
        return raw.decode(encoding)
    except LookupError:
        return raw
    except UnicodeDecodeError:
        try:
            return raw.decode(encoding, "surrogateescape")
        except UnicodeDecodeError:
            return raw


def _string_reader(length_size: int, col: ColumnDef, mariadb: bool) -> Reader:
    encoding = encoding_of(col, mariadb)
    pad_to = col.max_length if col.real_type == T.STRING and encoding == "binary" else 0

    def read(data: bytes, pos: int) -> tuple[Any, int]:
        start = pos + length_size
        end = start + int.from_bytes(data[pos:start], "little")
        value = _text(data[start:end], encoding)
        if pad_to and len(value) < pad_to:
            value += b"\x00" * (pad_to - len(value))
        return value, end

    return read


def _bytes_reader(length_size: int) -> Reader:
    def read(data: bytes, pos: int) -> tuple[Any, int]:
        start = pos + length_size
        end = start + int.from_bytes(data[pos:start], "little")
        return data[start:end], end

    return read


def _json_reader(length_size: int) -> Reader:
    def read(data: bytes, pos: int) -> tuple[Any, int]:
        start = pos + length_size
        end = start + int.from_bytes(data[pos:start], "little")
        if end == start:
            return JSON_NULL, end
        value = parse_document(data[start:end])
        return (JSON_NULL if value is None else value), end

    return read


def _vector_reader(length_size: int) -> Reader:
    def read(data: bytes, pos: int) -> tuple[Any, int]:
        start = pos + length_size
        end = start + int.from_bytes(data[pos:start], "little")
        count = (end - start) // 4
        return [shortest_float32(v) for v in struct.unpack_from(f"<{count}f", data, start)], end

    return read


def _compressed_reader(length_size: int, encoding: str) -> Reader:
    """MariaDB COMPRESSED columns (sql/field_comp.cc): header byte, then stored or zlib data."""

    def read(data: bytes, pos: int) -> tuple[Any, int]:
        start = pos + length_size
        end = start + int.from_bytes(data[pos:start], "little")
        return _text(_uncompress_field(data[start:end]), encoding), end

    return read


def _uncompress_field(raw: bytes) -> bytes:
    if not raw:
        return b""
    head = raw[0]
    if head >> 4 == 0:
        return raw[1:]
    if head >> 4 != 8:
        raise DataError(f"MariaDB compressed column with unknown method {head >> 4}")
    nlen = head & 0x07
    wbits = -zlib.MAX_WBITS if head & 0x08 else zlib.MAX_WBITS
    return zlib.decompress(raw[1 + nlen :], wbits)


def diff_codec(codec: ColumnCodec) -> ColumnCodec:
    """A JSON column of a partial after image: its bytes are a diff vector, kept raw (decode.jsondiff)."""
    length_size = codec.length_size

    def read(data: bytes, pos: int) -> tuple[Any, int]:
        start = pos + length_size
        end = start + int.from_bytes(data[pos:start], "little")
        return PartialJson(data[start:end]), end

    return ColumnCodec(read=read)
