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
from decimal import Decimal
from typing import Any

from pymysqlreplication.constants import CHARSET

from mysqlinspect.binlog.decode import types as T
from mysqlinspect.binlog.decode.library import fastrows
from mysqlinspect.binlog.decode.library.jsonnull import JSON_NULL
from mysqlinspect.binlog.decode.tablemap import ColumnDef
from mysqlinspect.binlog.decode.values.convert import ZERO_DATETIME, none_value, shortest_float32
from mysqlinspect.binlog.decode.values.jsonb import parse_document
from mysqlinspect.binlog.decode.values.jsondiff import PartialJson
from mysqlinspect.errors import DataError

Convert = Callable[[Any], Any]
Reader = Callable[[bytes, int], tuple[Any, int]]
BINARY_COLLATION = 63
_FRAC_BYTES = (0, 1, 1, 2, 2, 3, 3)
_FRAC_SCALE = (0, 10000, 100, 1)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_INT_FORMATS = {T.TINY: "b", T.SHORT: "h", T.LONG: "i", T.LONGLONG: "q"}
VALUE_CACHE_SIZE = 4096  # per column: decoded immutable values (DECIMAL, DATETIME2) by their bytes


@dataclass(frozen=True, slots=True)
class ColumnCodec:
    """fmt + convert for fixed-width values, or read for variable-width ones."""

    fmt: str | None = None
    convert: Convert | None = None
    read: Reader | None = None
    length_size: int = 0  # variable-width columns: bytes of the length prefix
    encoding: str | None = None  # character columns a plan may read inline: their Python codec
    cache: dict[bytes, Any] | None = None  # convert's own cache of values by raw bytes (a plan looks there first)

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
    reader = _variable_reader(col, mariadb)
    inline = _inline_string(col, mariadb)
    if inline is not None:
        return ColumnCodec(read=reader, length_size=inline[0], encoding=inline[1])
    return ColumnCodec(read=reader, length_size=length_size)


def _inline_string(col: ColumnDef, mariadb: bool) -> tuple[int, str] | None:
    """(length prefix size, codec) of a character column whose value is just its decoded bytes (no padding, not
    binary), which a generated plan reads in place; None for every other column."""
    t = col.real_type
    if t not in (T.VARCHAR, T.VAR_STRING, T.STRING, T.BLOB):
        return None
    encoding = encoding_of(col, mariadb)
    if encoding == "binary":
        return None
    if t == T.BLOB:
        return col.max_length, encoding
    return (2 if col.max_length > 255 else 1), encoding


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
    """DECIMAL (strings/decimal.c bin2decimal): the whole value as one big-endian integer, sign bit flipped and all
    bits inverted when negative; then 9-digit groups of 4 bytes with the leftover digits in 1-4 bytes at the
    left of the integer part and the right of the fraction. Values are cached per column (they repeat)."""
    (int_groups, int_digits), (frac_groups, frac_digits) = divmod(precision - scale, 9), divmod(scale, 9)
    head, tail = fastrows._COMPRESSED_BYTES[int_digits], fastrows._COMPRESSED_BYTES[frac_digits]
    size = head + 4 * (int_groups + frac_groups) + tail
    frac_bits = 8 * (4 * frac_groups + tail)
    top, all_bits = 1 << (8 * size - 1), (1 << 8 * size) - 1
    whole = _groups_expr("n >> frac_bits", _digit_groups(head, int_groups, 0, 0))
    fraction = _groups_expr("n", _digit_groups(0, frac_groups, tail, frac_digits))
    text = f'f"{{sign}}{{{whole}}}.{{{fraction}:0{scale}d}}"' if scale else f'f"{{sign}}{{{whole}}}"'
    source = f"""def convert(raw):
    value = cache.get(raw)
    if value is not None:
        return value
    n = int.from_bytes(raw, "big")
    sign = ""
    if n & top:
        n ^= top
    else:
        n ^= top ^ all_bits
        sign = "-"
    value = Decimal({text})
    if len(cache) > VALUE_CACHE_SIZE:
        cache.clear()
    cache[raw] = value
    return value
"""
    cache: dict[bytes, Decimal] = {}
    env: dict[str, Any] = {"cache": cache, "top": top, "all_bits": all_bits, "frac_bits": frac_bits,
                           "Decimal": Decimal, "VALUE_CACHE_SIZE": VALUE_CACHE_SIZE}
    exec(compile(source, f"<decimal({precision},{scale})>", "exec"), env)  # our own code, numbers only
    return ColumnCodec(f"{size}s", env["convert"], cache=cache)


def _groups_expr(value: str, parts: tuple[tuple[int, int, int], ...]) -> str:
    """A Python expression summing the digit groups of `value` (see _digit_groups), constants inlined."""
    terms = [f"(({value}) >> {shift} & {mask}) * {mult}" for shift, mask, mult in parts]
    return " + ".join(terms) or "0"


def _digit_groups(head: int, groups: int, tail: int, tail_digits: int) -> tuple[tuple[int, int, int], ...]:
    """(shift, mask, multiplier) of each digit group of a DECIMAL part, read from one integer: a leading
    partial group of `head` bytes, 9-digit groups of 4 bytes, a trailing partial group of `tail` bytes."""
    fields = ([(8 * head, 0)] if head else []) + [(32, 9)] * groups + ([(8 * tail, tail_digits)] if tail else [])
    parts, shift, mult = [], 0, 1
    for bits, digits in reversed(fields):
        parts.append((shift, (1 << bits) - 1, mult))
        shift += bits
        mult *= 10 ** (digits or 9)
    return tuple(parts)


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
        cache: dict[bytes, Any] = {}
        return ColumnCodec(f"{5 + _FRAC_BYTES[fsp]}s", _datetime2(fsp, cache), cache=cache)
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


def _datetime2(fsp: int, cache: dict[bytes, Any]) -> Convert:
    """DATETIME2 (my_datetime_packed_from_binary): 40 bits of year*13+month, day, hour, minute, second, then the
    fraction in 0-3 big-endian bytes (odd precisions stored times ten). Values are cached per column."""
    frac_bytes = _FRAC_BYTES[fsp]
    frac_bits, scale, odd = 8 * frac_bytes, 10 ** (6 - fsp), fsp % 2 == 1
    frac_mask = (1 << frac_bits) - 1
    datetime = dt.datetime

    def convert(raw: bytes) -> Any:
        value = cache.get(raw)
        if value is not None:
            return value
        n = int.from_bytes(raw, "big")
        packed, micro = n >> frac_bits, n & frac_mask
        if frac_bytes:
            if micro >> (frac_bits - 1):  # a negative fraction (never written; as fastrows: clamp to 0)
                micro = 0
            micro = (micro // 10 if odd else micro) * scale
        year_month = packed >> 22 & 0x1FFFF
        parts = (year_month // 13, year_month % 13, packed >> 17 & 0x1F, packed >> 12 & 0x1F, packed >> 6 & 0x3F,
                 packed & 0x3F)
        try:
            value = datetime(*parts, micro)
        except ValueError:
            if not any(parts[:3]):
                return ZERO_DATETIME
            return fastrows.partial_datetime_text(parts, micro, fsp)
        if len(cache) > VALUE_CACHE_SIZE:
            cache.clear()
        cache[raw] = value
        return value

    return convert


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
