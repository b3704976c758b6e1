/* The C hot path of the own binlog decoder (optional: decode/plan.py does the same in Python when this is not
 * built; decode/native.py builds the column specs and is the one place that loads this module).
 *
 * compile(names, specs, not_logged, json_null, decimal_type, empty) -> plan (a capsule)
 *     One plan per Table_map: `names` the row dict keys (a tuple of str, one per column), `specs` one tuple per
 *     column (kind, a, b, obj, fallback), see the K_* kinds below and native.py's spec_for().
 * images(plan, data, pos, first_bitmap, second_bitmap[, cls, template, op]) -> list | None
 *     Every row image of a rows event body from `pos` to the end: the images alternate between the two
 *     columns-present bitmaps when `second_bitmap` is not None (UPDATE), else all use the first. Each image is
 *     read as the Python plan reads it: the NULL bitmap over the present columns, then the values; the dict
 *     holds every column in table order (absent: not_logged, NULL: None). Returns None (nothing raised) when
 *     anything is out of the ordinary (an image running past the end of the event, a Python fallback raising an
 *     Exception): the caller then decodes the event with the Python plan, which gives the same values or the
 *     same error. With `cls` (RowChange), `template` (its fields in order, before/after None) and `op` (0
 *     insert, 1 delete, 2 update), the list holds the row changes instead, made without running cls.__init__.
 *
 * Values are the Python readers' (values/columns.py): rare forms (zero or partial dates, DECIMAL digit groups
 * out of range, FLOAT near its limits, undecodable text, binary JSON with opaque values) are handed to the
 * column's Python converter or reader (`fallback`) so they come out exactly as there.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <datetime.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

enum {
    K_INT = 1,       /* a: size 1-4 or 8, b: unsigned */
    K_FLOAT,         /* fallback: shortest_float32 (non-finite or huge values) */
    K_DOUBLE,
    K_YEAR,
    K_DECIMAL,       /* a: precision, b: scale; fallback: convert(raw bytes) */
    K_BIT,           /* a: bytes (<= 8), big-endian */
    K_ENUM,          /* a: size 1/2; obj: ("", *names) or None */
    K_SET,           /* a: size (<= 8); obj: member names tuple */
    K_CALL_BYTES,    /* a: size; fallback(raw bytes) */
    K_CALL_UINT,     /* a: size (<= 8); fallback(unsigned little-endian int) */
    K_DATETIME2,     /* a: fsp; fallback(raw) for values datetime cannot hold */
    K_TIMESTAMP2,    /* a: fsp; fallback(raw) for the zero timestamp */
    K_TIME2,         /* a: fsp */
    K_DATE,          /* fallback(raw) for zero or invalid dates */
    K_TEXT,          /* a: length prefix size; obj: the Python codec name; fallback: reader(data, pos) */
    K_BYTES,         /* a: length prefix size; b: pad to (BINARY(n)), 0: none */
    K_JSON,          /* a: length prefix size; fallback: reader(data, pos) */
    K_READ,          /* fallback: reader(data, pos) -> (value, pos) */
};

static const int FRAC_BYTES[7] = {0, 1, 1, 2, 2, 3, 3};
static const int FRAC_SCALE[4] = {0, 10000, 100, 1};
static const int DIG2BYTES[10] = {0, 1, 1, 2, 2, 3, 3, 4, 4, 4};
static const uint32_t POW10[10] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000};

enum { CODEC_OTHER, CODEC_UTF8, CODEC_LATIN1, CODEC_ASCII };

typedef struct {
    int kind, a, b, size; /* size: fixed width in bytes, 0 for variable-width columns */
    int codec;            /* K_TEXT: a codec decoded without the codec registry (same result as bytes.decode) */
    PyObject *obj, *fallback;
    const char *encoding;
    PyObject *last;       /* immutable values (DECIMAL, temporal): the last one read, reused for the same bytes */
    uint8_t last_raw[32];
} Col;

typedef struct {
    Py_ssize_t ncols;
    PyObject *names, *not_logged, *json_null, *decimal, *empty;
    Col cols[];
} Plan;

typedef struct {
    PyObject *data_obj;
    const uint8_t *data;
    Py_ssize_t len;
} Buf;

#define BAIL (-1) /* return -1 without an exception set: the caller decodes the event in Python */

static uint64_t le_uint(const uint8_t *p, int n) {
    uint64_t v = 0;
    for (int k = n - 1; k >= 0; k--) v = v << 8 | p[k];
    return v;
}

static uint64_t be_uint(const uint8_t *p, int n) {
    uint64_t v = 0;
    for (int k = 0; k < n; k++) v = v << 8 | p[k];
    return v;
}

static PyObject *call_bytes(PyObject *fn, const uint8_t *p, Py_ssize_t n) {
    PyObject *raw = PyBytes_FromStringAndSize((const char *)p, n);
    if (raw == NULL) return NULL;
    PyObject *out = PyObject_CallOneArg(fn, raw);
    Py_DECREF(raw);
    return out;
}

/* reader(data, pos) -> (value, end): the value; *end set from the result. */
static PyObject *call_reader(PyObject *fn, Buf *buf, Py_ssize_t pos, Py_ssize_t *end) {
    PyObject *at = PyLong_FromSsize_t(pos);
    if (at == NULL) return NULL;
    PyObject *args[2] = {buf->data_obj, at};
    PyObject *res = PyObject_Vectorcall(fn, args, 2, NULL);
    Py_DECREF(at);
    if (res == NULL) return NULL;
    if (!PyTuple_Check(res) || PyTuple_GET_SIZE(res) != 2) {
        Py_DECREF(res);
        PyErr_SetString(PyExc_TypeError, "a column reader must return (value, position)");
        return NULL;
    }
    Py_ssize_t e = PyLong_AsSsize_t(PyTuple_GET_ITEM(res, 1));
    if (e == -1 && PyErr_Occurred()) {
        Py_DECREF(res);
        return NULL;
    }
    if (end != NULL) *end = e;
    PyObject *value = PyTuple_GET_ITEM(res, 0);
    Py_INCREF(value);
    Py_DECREF(res);
    return value;
}

/* ---- numbers ---- */

static PyObject *shortest_float32(const uint8_t *p, PyObject *fallback) {
    float f;
    memcpy(&f, p, 4);
    double v = f;
    if (!isfinite(v) || fabs(v) > 1e38) {
        PyObject *x = PyFloat_FromDouble(v);
        if (x == NULL) return NULL;
        PyObject *out = PyObject_CallOneArg(fallback, x);
        Py_DECREF(x);
        return out;
    }
    for (int digits = 6; digits < 10; digits++) {
        char *text = PyOS_double_to_string(v, 'g', digits, 0, NULL);
        if (text == NULL) return NULL;
        double c = PyOS_string_to_double(text, NULL, NULL);
        PyMem_Free(text);
        if (c == -1.0 && PyErr_Occurred()) return NULL;
        float back = (float)c;
        if (memcmp(&back, &f, 4) == 0) return PyFloat_FromDouble(c);
    }
    return PyFloat_FromDouble(v);
}

/* `digits` decimal digits of v, zero-padded, at o; returns o advanced. */
static char *put_digits(char *o, uint32_t v, int digits) {
    for (int k = digits - 1; k >= 0; k--) {
        o[k] = (char)('0' + v % 10);
        v /= 10;
    }
    return o + digits;
}

/* Digit groups of a DECIMAL part into text: a partial group of `head` bytes (head_digits digits), `groups` full
 * 4-byte groups, a partial group of `tail` bytes. 0 when a group is out of range (the caller falls back). */
static int decimal_digits(const uint8_t **pp, int head, int head_digits, int groups, int tail, int tail_digits,
                          char **out) {
    const uint8_t *p = *pp;
    char *o = *out;
    if (head) {
        uint32_t g = (uint32_t)be_uint(p, head);
        if (g >= POW10[head_digits]) return 0;
        o = put_digits(o, g, head_digits); /* leading zeros of the whole part are stripped by the caller */
        p += head;
    }
    for (int k = 0; k < groups; k++) {
        uint32_t g = (uint32_t)be_uint(p, 4);
        if (g >= POW10[9]) return 0;
        o = put_digits(o, g, 9);
        p += 4;
    }
    if (tail) {
        uint32_t g = (uint32_t)be_uint(p, tail);
        if (g >= POW10[tail_digits]) return 0;
        o = put_digits(o, g, tail_digits);
        p += tail;
    }
    *pp = p;
    *out = o;
    return 1;
}

static PyObject *decimal_value(Plan *plan, Col *c, const uint8_t *p) {
    int precision = c->a, scale = c->b;
    int int_groups = (precision - scale) / 9, int_digits = (precision - scale) % 9;
    int frac_groups = scale / 9, frac_digits = scale % 9;
    uint8_t raw[64];
    if (c->size > (int)sizeof(raw)) return call_bytes(c->fallback, p, c->size);
    memcpy(raw, p, c->size);
    int negative = !(raw[0] & 0x80);
    if (negative)
        for (int k = 0; k < c->size; k++) raw[k] = (uint8_t)~raw[k];
    raw[0] &= 0x7F;
    char text[160];
    char *o = text;
    if (negative) *o++ = '-';
    char *whole = o;
    const uint8_t *q = raw;
    if (!decimal_digits(&q, DIG2BYTES[int_digits], int_digits, int_groups, 0, 0, &o))
        return call_bytes(c->fallback, p, c->size);
    /* the whole part as Python prints the integer: no leading zeros, "0" when empty or zero */
    char *first = whole;
    while (first < o - 1 && *first == '0') first++;
    if (o == whole) *o++ = '0';
    else if (first > whole) {
        memmove(whole, first, (size_t)(o - first));
        o -= first - whole;
    }
    if (scale) {
        *o++ = '.';
        if (!decimal_digits(&q, 0, 0, frac_groups, DIG2BYTES[frac_digits], frac_digits, &o))
            return call_bytes(c->fallback, p, c->size);
    }
    PyObject *s = PyUnicode_FromStringAndSize(text, o - text);
    if (s == NULL) return NULL;
    PyObject *out = PyObject_CallOneArg(plan->decimal, s);
    Py_DECREF(s);
    return out;
}

/* ---- temporal ---- */

static int days_in_month(int year, int month) {
    static const int DAYS[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month == 2 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0)) return 29;
    return DAYS[month];
}

static int valid_date(int y, int m, int d) {
    return y >= 1 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 && d <= days_in_month(y, m);
}

static PyObject *datetime2_value(Col *c, const uint8_t *p) {
    int fsp = c->a, frac_bytes = FRAC_BYTES[fsp], frac_bits = 8 * frac_bytes;
    uint64_t n = be_uint(p, c->size);
    uint64_t packed = n >> frac_bits;
    int64_t micro = (int64_t)(n & ((1ULL << frac_bits) - 1));
    if (frac_bytes) {
        if (micro >> (frac_bits - 1)) micro = 0;
        int scale = 1;
        for (int k = fsp; k < 6; k++) scale *= 10;
        micro = (fsp % 2 ? micro / 10 : micro) * scale;
    }
    int year_month = (int)(packed >> 22 & 0x1FFFF);
    int y = year_month / 13, m = year_month % 13, d = (int)(packed >> 17 & 0x1F);
    int hh = (int)(packed >> 12 & 0x1F), mi = (int)(packed >> 6 & 0x3F), ss = (int)(packed & 0x3F);
    if (!valid_date(y, m, d) || hh > 23 || mi > 59 || ss > 59 || micro > 999999)
        return call_bytes(c->fallback, p, c->size);
    return PyDateTime_FromDateAndTime(y, m, d, hh, mi, ss, (int)micro);
}

/* days since 1970-01-01 -> civil date (H. Hinnant's civil_from_days) */
static void civil_from_days(int64_t z, int *y, int *m, int *d) {
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yy + (*m <= 2));
}

static PyObject *timestamp2_value(Col *c, const uint8_t *p) {
    int nbytes = FRAC_BYTES[c->a];
    int64_t seconds = (int64_t)be_uint(p, 4);
    int64_t micro = nbytes ? (int64_t)be_uint(p + 4, nbytes) * FRAC_SCALE[nbytes] : 0;
    if (seconds == 0 && micro == 0) return call_bytes(c->fallback, p, c->size);
    int64_t total = seconds * 1000000 + micro;
    int64_t days = total / 86400000000LL, rest = total % 86400000000LL;
    int y, m, d;
    civil_from_days(days, &y, &m, &d);
    int64_t secs = rest / 1000000;
    return PyDateTimeAPI->DateTime_FromDateAndTime(y, m, d, (int)(secs / 3600), (int)(secs / 60 % 60),
                                                   (int)(secs % 60), (int)(rest % 1000000),
                                                   PyDateTime_TimeZone_UTC, PyDateTimeAPI->DateTimeType);
}

static PyObject *delta_from_micro(int64_t total) {
    int64_t day = 86400000000LL;
    int64_t days = total / day, rest = total % day;
    if (rest < 0) {
        rest += day;
        days -= 1;
    }
    return PyDelta_FromDSU((int)days, (int)(rest / 1000000), (int)(rest % 1000000));
}

static PyObject *time2_value(Col *c, const uint8_t *p) {
    int nbytes = FRAC_BYTES[c->a];
    int64_t packed;
    if (nbytes == 3) {
        packed = (int64_t)be_uint(p, 6) - 0x800000000000LL;
    } else {
        int64_t intpart = (int64_t)be_uint(p, 3) - 0x800000;
        int64_t frac = nbytes ? (int64_t)be_uint(p + 3, nbytes) : 0;
        if (intpart < 0 && frac) {
            intpart += 1;
            frac -= (int64_t)1 << (8 * nbytes);
        }
        packed = intpart * (1LL << 24) + frac * FRAC_SCALE[nbytes];
    }
    int negative = packed < 0;
    if (negative) packed = -packed;
    int64_t hms = packed >> 24, micro = packed & 0xFFFFFF;
    int64_t total = (((hms >> 12 & 0x3FF) * 60 + (hms >> 6 & 0x3F)) * 60 + (hms & 0x3F)) * 1000000 + micro;
    return delta_from_micro(negative ? -total : total);
}

static PyObject *date_value(Col *c, const uint8_t *p) {
    uint32_t packed = (uint32_t)le_uint(p, 3);
    int y = (int)(packed >> 9 & 0x7FFF), m = (int)(packed >> 5 & 0xF), d = (int)(packed & 0x1F);
    if (!valid_date(y, m, d)) return call_bytes(c->fallback, p, 3);
    return PyDate_FromDate(y, m, d);
}

/* ---- binary JSON (values/jsonb.py) ---- */

enum { J_SMALL_OBJECT, J_LARGE_OBJECT, J_SMALL_ARRAY, J_LARGE_ARRAY, J_LITERAL, J_INT16, J_UINT16, J_INT32,
       J_UINT32, J_INT64, J_UINT64, J_DOUBLE, J_STRING };

typedef struct {
    const uint8_t *doc;
    Py_ssize_t len;
    Py_ssize_t budget; /* values a document of len bytes can hold: more (shared or looping entries) is damage */
} Doc;

static PyObject *json_value(Doc *j, int t, Py_ssize_t pos, int depth);

static PyObject *json_literal(unsigned v) {
    if (v == 0) Py_RETURN_NONE;
    if (v == 1) Py_RETURN_TRUE;
    if (v == 2) Py_RETURN_FALSE;
    return NULL; /* bail */
}

static PyObject *json_inline(int t, uint32_t raw) {
    switch (t) {
    case J_LITERAL: return json_literal(raw & 0xFF);
    case J_UINT16: return PyLong_FromLong(raw & 0xFFFF);
    case J_INT16: return PyLong_FromLong((int16_t)(raw & 0xFFFF));
    case J_INT32: return PyLong_FromLong((int32_t)raw);
    default: return PyLong_FromUnsignedLong(raw);
    }
}

static PyObject *json_text(Doc *j, Py_ssize_t start, Py_ssize_t n) {
    if (start < 0 || n < 0 || start + n > j->len) return NULL;
    return PyUnicode_DecodeUTF8((const char *)j->doc + start, n, "backslashreplace");
}

static PyObject *json_container(Doc *j, int t, Py_ssize_t base, int depth) {
    int small = t == J_SMALL_OBJECT || t == J_SMALL_ARRAY, is_object = t <= J_LARGE_OBJECT;
    int w = small ? 2 : 4;
    if (depth > 200 || base + 2 * w > j->len) return NULL;
    Py_ssize_t count = (Py_ssize_t)le_uint(j->doc + base, w);
    if ((j->budget -= count) < 0) return NULL; /* the Python reader raises */
    Py_ssize_t keys_at = base + 2 * w, values_at = keys_at + (is_object ? count * (w + 2) : 0);
    if (values_at + count * (1 + w) > j->len) return NULL;
    PyObject *out = is_object ? PyDict_New() : PyList_New(count);
    if (out == NULL) return NULL;
    for (Py_ssize_t k = 0; k < count; k++) {
        const uint8_t *entry = j->doc + values_at + k * (1 + w);
        int vt = entry[0];
        uint32_t raw = (uint32_t)le_uint(entry + 1, w);
        PyObject *value;
        if (vt == J_LITERAL || vt == J_INT16 || vt == J_UINT16 || (!small && (vt == J_INT32 || vt == J_UINT32)))
            value = json_inline(vt, raw);
        else
            value = json_value(j, vt, base + raw, depth + 1);
        if (value == NULL) goto fail;
        if (!is_object) {
            PyList_SET_ITEM(out, k, value);
            continue;
        }
        const uint8_t *key = j->doc + keys_at + k * (w + 2);
        PyObject *name = json_text(j, base + (Py_ssize_t)le_uint(key, w), (Py_ssize_t)le_uint(key + w, 2));
        if (name == NULL || PyDict_SetItem(out, name, value) < 0) {
            Py_XDECREF(name);
            Py_DECREF(value);
            goto fail;
        }
        Py_DECREF(name);
        Py_DECREF(value);
    }
    return out;
fail:
    Py_DECREF(out);
    return NULL;
}

static PyObject *json_value(Doc *j, int t, Py_ssize_t pos, int depth) {
    static const int SIZES[] = {0, 0, 0, 0, 1, 2, 2, 4, 4, 8, 8, 8};
    if (t <= J_LARGE_ARRAY) return json_container(j, t, pos, depth);
    if (t == J_STRING) {
        Py_ssize_t n = 0;
        int shift = 0;
        for (;;) {
            if (pos >= j->len || shift > 28) return NULL;
            uint8_t byte = j->doc[pos++];
            n |= (Py_ssize_t)(byte & 0x7F) << shift;
            if (!(byte & 0x80)) break;
            shift += 7;
        }
        if ((j->budget -= n) < 0) return NULL; /* one string's bytes read for several entries: the Python reader raises */
        return json_text(j, pos, n);
    }
    if (t > J_DOUBLE || pos < 0 || pos + SIZES[t] > j->len) return NULL; /* OPAQUE and unknown types: bail */
    const uint8_t *p = j->doc + pos;
    switch (t) {
    case J_LITERAL: return json_literal(p[0]);
    case J_INT16: return PyLong_FromLong((int16_t)le_uint(p, 2));
    case J_UINT16: return PyLong_FromLong((long)le_uint(p, 2));
    case J_INT32: return PyLong_FromLong((int32_t)le_uint(p, 4));
    case J_UINT32: return PyLong_FromUnsignedLong((unsigned long)le_uint(p, 4));
    case J_INT64: return PyLong_FromLongLong((int64_t)le_uint(p, 8));
    case J_UINT64: return PyLong_FromUnsignedLongLong(le_uint(p, 8));
    default: {
        double d;
        memcpy(&d, p, 8);
        return PyFloat_FromDouble(d);
    }
    }
}

/* A whole document; falls back to the Python reader when the C reader bails or an error was raised in it. */
static PyObject *json_document(Plan *plan, Col *c, Buf *buf, Py_ssize_t pos, Py_ssize_t start, Py_ssize_t end) {
    if (end == start) {
        Py_INCREF(plan->json_null);
        return plan->json_null;
    }
    Doc j = {buf->data + start, end - start, end - start};
    PyObject *value = j.doc[0] == J_SMALL_OBJECT ? json_container(&j, J_SMALL_OBJECT, 1, 0)
                                                 : json_value(&j, j.doc[0], 1, 0);
    if (value == NULL) {
        if (PyErr_Occurred()) {
            if (!PyErr_ExceptionMatches(PyExc_Exception)) return NULL;
            PyErr_Clear();
        }
        return call_reader(c->fallback, buf, pos, NULL);
    }
    if (value == Py_None) {
        Py_DECREF(value);
        Py_INCREF(plan->json_null);
        return plan->json_null;
    }
    return value;
}

/* ---- one value ---- */

static PyObject *text_value(Col *c, Buf *buf, Py_ssize_t pos, Py_ssize_t start, Py_ssize_t end) {
    const char *text = (const char *)buf->data + start;
    PyObject *value;
    switch (c->codec) {
    case CODEC_UTF8: value = PyUnicode_DecodeUTF8(text, end - start, NULL); break;
    case CODEC_LATIN1: value = PyUnicode_DecodeLatin1(text, end - start, NULL); break;
    case CODEC_ASCII: value = PyUnicode_DecodeASCII(text, end - start, NULL); break;
    default: value = PyUnicode_Decode(text, end - start, c->encoding, NULL);
    }
    if (value != NULL) return value;
    if (!PyErr_ExceptionMatches(PyExc_UnicodeDecodeError) && !PyErr_ExceptionMatches(PyExc_LookupError))
        return NULL;
    PyErr_Clear();
    return call_reader(c->fallback, buf, pos, NULL);
}

static PyObject *bytes_value(Col *c, Buf *buf, Py_ssize_t start, Py_ssize_t end) {
    Py_ssize_t n = end - start;
    if (c->b == 0 || n >= c->b) return PyBytes_FromStringAndSize((const char *)buf->data + start, n);
    PyObject *out = PyBytes_FromStringAndSize(NULL, c->b);
    if (out == NULL) return NULL;
    char *o = PyBytes_AS_STRING(out);
    memcpy(o, buf->data + start, (size_t)n);
    memset(o + n, 0, (size_t)(c->b - n));
    return out;
}

static PyObject *set_value(Plan *plan, Col *c, const uint8_t *p) {
    uint64_t mask = le_uint(p, c->a);
    Py_ssize_t members = PyTuple_GET_SIZE(c->obj);
    if (members == 0) return PyLong_FromUnsignedLongLong(mask);
    PyObject *out = PyList_New(0);
    if (out == NULL) return NULL;
    for (Py_ssize_t i = 0; i < members && i < 64; i++) {
        if (mask >> i & 1 && PyList_Append(out, PyTuple_GET_ITEM(c->obj, i)) < 0) {
            Py_DECREF(out);
            return NULL;
        }
    }
    (void)plan;
    return out;
}

static PyObject *fixed_value(Plan *plan, Col *c, const uint8_t *p) {
    switch (c->kind) {
    case K_INT: {
        uint64_t u = le_uint(p, c->a);
        if (c->b) return PyLong_FromUnsignedLongLong(u);
        if (c->a < 8 && u >> (8 * c->a - 1) & 1) u |= ~0ULL << (8 * c->a);
        return PyLong_FromLongLong((int64_t)u);
    }
    case K_FLOAT: return shortest_float32(p, c->fallback);
    case K_DOUBLE: {
        double d;
        memcpy(&d, p, 8);
        return PyFloat_FromDouble(d);
    }
    case K_YEAR: return PyLong_FromLong(p[0] ? p[0] + 1900 : 0);
    case K_DECIMAL: return decimal_value(plan, c, p);
    case K_BIT: return PyLong_FromUnsignedLongLong(be_uint(p, c->a));
    case K_ENUM: {
        Py_ssize_t i = (Py_ssize_t)le_uint(p, c->a);
        if (c->obj == Py_None) return PyLong_FromSsize_t(i);
        PyObject *v = i < PyTuple_GET_SIZE(c->obj) ? PyTuple_GET_ITEM(c->obj, i) : plan->empty;
        Py_INCREF(v);
        return v;
    }
    case K_SET: return set_value(plan, c, p);
    case K_CALL_BYTES: return call_bytes(c->fallback, p, c->size);
    case K_CALL_UINT: {
        PyObject *x = PyLong_FromUnsignedLongLong(le_uint(p, c->a));
        if (x == NULL) return NULL;
        PyObject *out = PyObject_CallOneArg(c->fallback, x);
        Py_DECREF(x);
        return out;
    }
    case K_DATETIME2: return datetime2_value(c, p);
    case K_TIMESTAMP2: return timestamp2_value(c, p);
    case K_TIME2: return time2_value(c, p);
    case K_DATE: return date_value(c, p);
    default: return NULL;
    }
}

/* The value of column c at *pos (advanced past it). NULL: an exception, or a bail (none set). */
static PyObject *fixed_value(Plan *plan, Col *c, const uint8_t *p);

/* Values of the cached kinds: the last value again when the bytes are the same (rows of a multi-row INSERT
 * share their timestamps, an UPDATE's before and after images their unchanged columns). The values are
 * immutable, as the Python plan's cached DECIMAL and DATETIME2 values are. */
static PyObject *cached_value(Plan *plan, Col *c, const uint8_t *p) {
    if (c->last != NULL && memcmp(c->last_raw, p, (size_t)c->size) == 0) {
        Py_INCREF(c->last);
        return c->last;
    }
    PyObject *value = fixed_value(plan, c, p);
    if (value != NULL) {
        Py_XSETREF(c->last, value);
        Py_INCREF(value);
        memcpy(c->last_raw, p, (size_t)c->size);
    }
    return value;
}

static int cached_kind(int kind, int size) {
    return (kind == K_DECIMAL || kind == K_DATETIME2 || kind == K_TIMESTAMP2 || kind == K_TIME2 || kind == K_DATE) &&
           size <= 32;
}

static PyObject *read_value(Plan *plan, Col *c, Buf *buf, Py_ssize_t *pos) {
    Py_ssize_t at = *pos;
    if (c->size) {
        if (at + c->size > buf->len) return NULL;
        const uint8_t *p = buf->data + at;
        *pos = at + c->size;
        if (cached_kind(c->kind, c->size)) return cached_value(plan, c, p);
        return fixed_value(plan, c, p);
    }
    if (c->kind == K_READ) {
        PyObject *value = call_reader(c->fallback, buf, at, pos);
        if (value != NULL && (*pos < at || *pos > buf->len)) { /* a reader going back would read before data */
            Py_DECREF(value);
            return NULL;
        }
        return value;
    }
    /* length-prefixed values */
    if (at + c->a > buf->len) return NULL;
    Py_ssize_t start = at + c->a;
    uint64_t length = le_uint(buf->data + at, c->a);
    if (length > (uint64_t)(buf->len - start)) return NULL; /* no overflow where Py_ssize_t is 32 bits */
    Py_ssize_t end = start + (Py_ssize_t)length;
    *pos = end;
    switch (c->kind) {
    case K_TEXT: return text_value(c, buf, at, start, end);
    case K_BYTES: return bytes_value(c, buf, start, end);
    case K_JSON: return json_document(plan, c, buf, at, start, end);
    default: return NULL;
    }
}

/* One row image at *pos; `present` the present column indexes (npresent of them), `is_present` per column. */
static PyObject *read_image(Plan *plan, Buf *buf, Py_ssize_t *pos, const uint8_t *is_present, Py_ssize_t npresent) {
    Py_ssize_t null_len = (npresent + 7) / 8;
    if (*pos + null_len > buf->len) return NULL;
    const uint8_t *nulls = buf->data + *pos;
    *pos += null_len;
    PyObject *row = _PyDict_NewPresized(plan->ncols);
    if (row == NULL) return NULL;
    Py_ssize_t j = 0;
    for (Py_ssize_t i = 0; i < plan->ncols; i++) {
        PyObject *value;
        if (!is_present[i]) {
            value = plan->not_logged;
            Py_INCREF(value);
        } else {
            if (nulls[j >> 3] >> (j & 7) & 1) {
                value = Py_None;
                Py_INCREF(value);
            } else {
                value = read_value(plan, &plan->cols[i], buf, pos);
                if (value == NULL) {
                    Py_DECREF(row);
                    return NULL;
                }
            }
            j++;
        }
        int failed = PyDict_SetItem(row, PyTuple_GET_ITEM(plan->names, i), value);
        Py_DECREF(value);
        if (failed) {
            Py_DECREF(row);
            return NULL;
        }
    }
    return row;
}

/* ---- module functions ---- */

static void plan_free(PyObject *capsule) {
    Plan *plan = PyCapsule_GetPointer(capsule, "rowimage.plan");
    if (plan == NULL) return;
    for (Py_ssize_t i = 0; i < plan->ncols; i++) {
        Py_XDECREF(plan->cols[i].obj);
        Py_XDECREF(plan->cols[i].fallback);
        Py_XDECREF(plan->cols[i].last);
    }
    Py_XDECREF(plan->names);
    Py_XDECREF(plan->not_logged);
    Py_XDECREF(plan->json_null);
    Py_XDECREF(plan->decimal);
    Py_XDECREF(plan->empty);
    PyMem_Free(plan);
}

static int fixed_size(int kind, int a) {
    switch (kind) {
    case K_INT: case K_BIT: case K_ENUM: case K_SET: case K_CALL_BYTES: case K_CALL_UINT: return a;
    case K_FLOAT: return 4;
    case K_DOUBLE: return 8;
    case K_YEAR: return 1;
    case K_DATETIME2: return 5 + FRAC_BYTES[a];
    case K_TIMESTAMP2: return 4 + FRAC_BYTES[a];
    case K_TIME2: return 3 + FRAC_BYTES[a];
    case K_DATE: return 3;
    default: return 0;
    }
}

static int decimal_size(int precision, int scale) {
    int whole = precision - scale;
    return DIG2BYTES[whole % 9] + 4 * (whole / 9 + scale / 9) + DIG2BYTES[scale % 9];
}

static int check_col(Col *c) {
    int a = c->a;
    switch (c->kind) {
    case K_INT: return (a >= 1 && a <= 4) || a == 8;
    case K_BIT: case K_SET: case K_CALL_UINT: return a >= 1 && a <= 8;
    case K_ENUM: return a == 1 || a == 2;
    case K_CALL_BYTES: return a >= 1;
    case K_DATETIME2: case K_TIMESTAMP2: case K_TIME2: return a >= 0 && a <= 6;
    case K_DECIMAL: return c->b >= 0 && a >= c->b && a <= 65 && c->b <= 30;
    case K_TEXT: case K_BYTES: case K_JSON: return a >= 1 && a <= 4;
    default: return c->kind >= K_INT && c->kind <= K_READ;
    }
}

static int codec_of(const char *name) {
    static const char *const UTF8[] = {"utf8", "utf-8", "utf_8", "UTF-8", "UTF8", NULL};
    static const char *const LATIN1[] = {"latin1", "latin-1", "latin_1", "iso-8859-1", "iso8859-1", NULL};
    for (int k = 0; UTF8[k]; k++)
        if (strcmp(name, UTF8[k]) == 0) return CODEC_UTF8;
    for (int k = 0; LATIN1[k]; k++)
        if (strcmp(name, LATIN1[k]) == 0) return CODEC_LATIN1;
    if (strcmp(name, "ascii") == 0) return CODEC_ASCII;
    return CODEC_OTHER;
}

static PyObject *compile_plan(PyObject *self, PyObject *args) {
    PyObject *names, *specs, *not_logged, *json_null, *decimal, *empty;
    if (!PyArg_ParseTuple(args, "O!O!OOOU", &PyTuple_Type, &names, &PyTuple_Type, &specs, &not_logged, &json_null,
                          &decimal, &empty))
        return NULL;
    Py_ssize_t n = PyTuple_GET_SIZE(specs);
    if (PyTuple_GET_SIZE(names) != n) {
        PyErr_SetString(PyExc_ValueError, "one name per column spec");
        return NULL;
    }
    Plan *plan = PyMem_Calloc(1, sizeof(Plan) + (size_t)n * sizeof(Col));
    if (plan == NULL) return PyErr_NoMemory();
    PyObject *capsule = PyCapsule_New(plan, "rowimage.plan", plan_free);
    if (capsule == NULL) {
        PyMem_Free(plan);
        return NULL;
    }
    plan->ncols = n;
    Py_INCREF(names); plan->names = names;
    Py_INCREF(not_logged); plan->not_logged = not_logged;
    Py_INCREF(json_null); plan->json_null = json_null;
    Py_INCREF(decimal); plan->decimal = decimal;
    Py_INCREF(empty); plan->empty = empty;
    for (Py_ssize_t i = 0; i < n; i++) {
        Col *c = &plan->cols[i];
        if (!PyUnicode_Check(PyTuple_GET_ITEM(names, i))) {
            PyErr_SetString(PyExc_TypeError, "column names must be str");
            goto fail;
        }
        if (!PyArg_ParseTuple(PyTuple_GET_ITEM(specs, i), "iiiOO", &c->kind, &c->a, &c->b, &c->obj, &c->fallback))
            goto fail;
        Py_INCREF(c->obj);
        Py_INCREF(c->fallback);
        if (!check_col(c)) {
            PyErr_Format(PyExc_ValueError, "column %zd: bad spec", i);
            goto fail;
        }
        c->size = c->kind == K_DECIMAL ? decimal_size(c->a, c->b) : fixed_size(c->kind, c->a);
        if (c->kind == K_TEXT) {
            c->encoding = PyUnicode_AsUTF8(c->obj);
            if (c->encoding == NULL) goto fail;
            c->codec = codec_of(c->encoding);
        }
        if ((c->kind == K_ENUM && c->obj != Py_None && !PyTuple_Check(c->obj)) ||
            (c->kind == K_SET && !PyTuple_Check(c->obj))) {
            PyErr_Format(PyExc_TypeError, "column %zd: names must be a tuple", i);
            goto fail;
        }
    }
    return capsule;
fail:
    Py_DECREF(capsule);
    return NULL;
}

static int present_columns(Plan *plan, PyObject *bitmap, uint8_t *is_present, Py_ssize_t *npresent) {
    char *bits;
    Py_ssize_t len;
    if (PyBytes_AsStringAndSize(bitmap, &bits, &len) < 0) return -1;
    if (len < (plan->ncols + 7) / 8) return BAIL; /* a truncated event: the Python path reports it */
    Py_ssize_t count = 0;
    for (Py_ssize_t i = 0; i < plan->ncols; i++) {
        is_present[i] = (uint8_t)((uint8_t)bits[i >> 3] >> (i & 7) & 1);
        count += is_present[i];
    }
    *npresent = count;
    return 0;
}

/* One object of class `cls` whose __dict__ is a copy of `template` with `before` and `after` set (the row
 * change's fields, in the class's field order): what cls(**template, before=..., after=...) makes, without
 * running its __init__. */
static PyObject *row_change(PyObject *cls, PyObject *template, PyObject *before, PyObject *after) {
    static PyObject *empty, *dict_name, *before_name, *after_name;
    if (empty == NULL || dict_name == NULL || before_name == NULL || after_name == NULL) {
        /* each made once; a failed start is retried (not left half done for the next call to use NULL) */
        if (empty == NULL) empty = PyTuple_New(0);
        if (dict_name == NULL) dict_name = PyUnicode_InternFromString("__dict__");
        if (before_name == NULL) before_name = PyUnicode_InternFromString("before");
        if (after_name == NULL) after_name = PyUnicode_InternFromString("after");
        if (empty == NULL || dict_name == NULL || before_name == NULL || after_name == NULL) return NULL;
    }
    PyObject *fields = PyDict_Copy(template);
    if (fields == NULL) return NULL;
    if (PyDict_SetItem(fields, before_name, before) < 0 || PyDict_SetItem(fields, after_name, after) < 0) {
        Py_DECREF(fields);
        return NULL;
    }
    PyObject *obj = PyBaseObject_Type.tp_new((PyTypeObject *)cls, empty, NULL);
    if (obj == NULL || PyObject_SetAttr(obj, dict_name, fields) < 0) {
        Py_XDECREF(obj);
        Py_DECREF(fields);
        return NULL;
    }
    Py_DECREF(fields);
    return obj;
}

/* images(plan, data, pos, first, second[, cls, template, op]): the images, or with cls the row changes
 * (op 0: insert, image as `after`; 1: delete, as `before`; 2: update, before/after pairs). */
static PyObject *images(PyObject *self, PyObject *args) {
    PyObject *capsule, *data_obj, *first, *second, *cls = NULL, *template = NULL;
    Py_ssize_t pos;
    int op = 0;
    if (!PyArg_ParseTuple(args, "OOnOO|OO!i", &capsule, &data_obj, &pos, &first, &second, &cls, &PyDict_Type,
                          &template, &op))
        return NULL;
    if (!PyBytes_Check(first) || (second != Py_None && !PyBytes_Check(second))) Py_RETURN_NONE; /* Python reads it */
    if (cls != NULL && (!PyType_Check(cls) || template == NULL || (op == 2 && second == Py_None))) {
        PyErr_SetString(PyExc_TypeError, "cls must be a class, with a template dict (and two bitmaps to update)");
        return NULL;
    }
    Plan *plan = PyCapsule_GetPointer(capsule, "rowimage.plan");
    if (plan == NULL) return NULL;
    if (pos < 0) {
        PyErr_SetString(PyExc_ValueError, "pos must not be negative");
        return NULL;
    }
    Py_buffer view;
    if (PyObject_GetBuffer(data_obj, &view, PyBUF_SIMPLE) < 0) return NULL;
    PyObject *out = NULL, *held = NULL;
    uint8_t *present = PyMem_Malloc((size_t)(2 * plan->ncols + 1));
    if (present == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    Py_ssize_t counts[2];
    uint8_t *maps[2] = {present, present + plan->ncols};
    int two = second != Py_None;
    if (present_columns(plan, first, maps[0], &counts[0]) < 0 ||
        (two && present_columns(plan, second, maps[1], &counts[1]) < 0)) {
        if (!PyErr_Occurred()) {
            out = Py_None;
            Py_INCREF(out);
        }
        goto done;
    }
    out = PyList_New(0);
    if (out == NULL) goto done;
    Buf buf = {data_obj, view.buf, view.len};
    int k = 0;
    while (pos < buf.len) {
        PyObject *row = read_image(plan, &buf, &pos, maps[k], counts[k]);
        PyObject *item = row;
        if (row != NULL && cls != NULL) {
            if (op == 2 && k == 0) { /* a before image: kept for its after image */
                held = row;
                k = 1;
                continue;
            }
            item = op == 2 ? row_change(cls, template, held, row)
                           : row_change(cls, template, op == 1 ? row : Py_None, op == 1 ? Py_None : row);
            Py_CLEAR(held);
            Py_DECREF(row);
        }
        if (item == NULL || PyList_Append(out, item) < 0) {
            Py_XDECREF(item);
            Py_CLEAR(out);
            if (PyErr_Occurred()) {
                if (!PyErr_ExceptionMatches(PyExc_Exception)) goto done;
                PyErr_Clear();
            }
            out = Py_None; /* bail: the caller decodes this event in Python */
            Py_INCREF(out);
            goto done;
        }
        Py_DECREF(item);
        if (two) k ^= 1;
    }
    if (k) { /* an UPDATE ending after a before image: let the Python path report it */
        Py_DECREF(out);
        out = Py_None;
        Py_INCREF(out);
    }
done:
    Py_XDECREF(held);
    PyMem_Free(present);
    PyBuffer_Release(&view);
    return out;
}

static PyMethodDef methods[] = {
    {"compile", compile_plan, METH_VARARGS, "compile(names, specs, not_logged, json_null, decimal, empty) -> plan"},
    {"images", images, METH_VARARGS,
     "images(plan, data, pos, first_bitmap, second_bitmap[, cls, template, op]) -> list | None"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_rowimage", "Binlog row images decoded with a compiled per-table plan.", -1, methods,
};

PyMODINIT_FUNC PyInit__rowimage(void) {
    PyDateTime_IMPORT;
    if (PyDateTimeAPI == NULL) return NULL;
    return PyModule_Create(&module);
}
