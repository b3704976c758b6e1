/* The C hot path of the SQL writer (optional: sqlliteral.row_tuple_renderer compiles the same in Python when this
 * is not built; sqlliteral.py is the one place that loads this module).
 *
 * row_tuple(names, kinds, renderers, decimal_type, image) -> str
 *     `(literal, literal, ...)` of the values of `names` in the row image `image` (a dict; a missing name is
 *     None). `kinds` holds one byte per name, the column's fast path, each giving exactly what the column's
 *     renderer (sqlliteral.column_renderer, in `renderers`) gives for the values it takes, and calling that
 *     renderer for every other value:
 *         K_INT      an int (not a bool): str(v)
 *         K_TEXT     a str without a backslash or a control character (U+0000-U+001F, U+007F): 'v' with quotes
 *                    doubled
 *         K_DATETIME a naive datetime: 'YYYY-MM-DD HH:MM:SS[.ffffff]' (datetime.isoformat(' '))
 *         K_DATE     a date: 'YYYY-MM-DD'
 *         K_DECIMAL  a `decimal_type`: format(v, 'f')
 *         K_JSON     a dict or list of str, int, float, bool, None, dicts and lists (str keys, finite floats, no
 *                    str holding a quote, a backslash or a control character): CAST('json' AS JSON), the json
 *                    module's text (separators ", " and ": ", not ASCII-escaped) with single quotes doubled
 *         K_JSON_TEXT the same value as 'json' (a MySQL document for a MariaDB target)
 *         K_CALL     always the renderer
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <datetime.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

enum { K_CALL = 0, K_INT, K_TEXT, K_DATETIME, K_DATE, K_DECIMAL, K_JSON, K_JSON_TEXT };

static PyObject *QUOTE, *QUOTE2, *SEP, *OPEN, *CLOSE, *EMPTY, *FMT_F, *GET;

static PyObject *value_of(PyObject *image, PyObject *name) {
    if (PyDict_CheckExact(image)) {
        PyObject *v = PyDict_GetItemWithError(image, name);
        if (v == NULL) {
            if (PyErr_Occurred()) return NULL;
            v = Py_None;
        }
        Py_INCREF(v);
        return v;
    }
    return PyObject_CallMethodOneArg(image, GET, name);
}

/* 1: text that needs the hex form (a backslash or a control character), 0: plain, and whether it holds a quote */
static int needs_hex(PyObject *s, int *has_quote) {
    int kind = PyUnicode_KIND(s);
    const void *data = PyUnicode_DATA(s);
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    *has_quote = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (c < 0x20 || c == 0x7f || c == '\\') return 1;
        if (c == '\'') *has_quote = 1;
    }
    return 0;
}

static PyObject *ascii(const char *text, int n) { return PyUnicode_DecodeASCII(text, n, NULL); }

static PyObject *datetime_literal(PyObject *v) {
    char buf[48];
    int us = PyDateTime_DATE_GET_MICROSECOND(v);
    int n = snprintf(buf, sizeof buf, us ? "'%04d-%02d-%02d %02d:%02d:%02d.%06d'" : "'%04d-%02d-%02d %02d:%02d:%02d'",
                     PyDateTime_GET_YEAR(v), PyDateTime_GET_MONTH(v), PyDateTime_GET_DAY(v),
                     PyDateTime_DATE_GET_HOUR(v), PyDateTime_DATE_GET_MINUTE(v), PyDateTime_DATE_GET_SECOND(v), us);
    return ascii(buf, n);
}

static PyObject *date_literal(PyObject *v) {
    char buf[24];
    int n = snprintf(buf, sizeof buf, "'%04d-%02d-%02d'", PyDateTime_GET_YEAR(v), PyDateTime_GET_MONTH(v),
                     PyDateTime_GET_DAY(v));
    return ascii(buf, n);
}

/* JSON text of plain documents, built as UTF-8 ------------------------------------------------------------------ */
typedef struct {
    char *data;
    Py_ssize_t len, cap;
} Out;

static int put(Out *o, const char *p, Py_ssize_t n) {
    if (o->len + n > o->cap) {
        Py_ssize_t cap = (o->cap ? o->cap : 256);
        while (cap < o->len + n) cap *= 2;
        char *data = PyMem_Realloc(o->data, cap);
        if (data == NULL) return -1;
        o->data = data;
        o->cap = cap;
    }
    memcpy(o->data + o->len, p, n);
    o->len += n;
    return 0;
}

#define JSON_MAX_DEPTH 64
enum { PLAIN = 0, NOT_PLAIN = 1, FAILED = -1 };  /* NOT_PLAIN: the renderer decides (nothing raised) */

/* A JSON string whose text needs no escape, its single quotes doubled (SQL). */
static int json_string(Out *o, PyObject *s) {
    Py_ssize_t n;
    const char *p = PyUnicode_AsUTF8AndSize(s, &n);
    if (p == NULL) {  /* lone surrogates: the renderer's way */
        PyErr_Clear();
        return NOT_PLAIN;
    }
    if (put(o, "\"", 1)) return FAILED;
    Py_ssize_t run = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c < 0x20 || c == 0x7f || c == '"' || c == '\\') return NOT_PLAIN;
        if (c == '\'') {
            if (put(o, p + run, i + 1 - run)) return FAILED;
            run = i;  /* the quote again */
        }
    }
    if (put(o, p + run, n - run) || put(o, "\"", 1)) return FAILED;
    return PLAIN;
}

static int json_plain(Out *o, PyObject *v, int depth);

static int json_repr(Out *o, PyObject *v) {
    PyObject *text = PyObject_Repr(v);
    if (text == NULL) return FAILED;
    Py_ssize_t n;
    const char *p = PyUnicode_AsUTF8AndSize(text, &n);
    int rc = p == NULL || put(o, p, n) ? FAILED : PLAIN;
    Py_DECREF(text);
    return rc;
}

static int json_dict(Out *o, PyObject *v, int depth) {
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    int first = 1, rc;
    if (put(o, "{", 1)) return FAILED;
    while (PyDict_Next(v, &pos, &key, &value)) {
        if (!PyUnicode_CheckExact(key)) return NOT_PLAIN;
        if (!first && put(o, ", ", 2)) return FAILED;
        first = 0;
        if ((rc = json_string(o, key)) != PLAIN) return rc;
        if (put(o, ": ", 2)) return FAILED;
        if ((rc = json_plain(o, value, depth + 1)) != PLAIN) return rc;
    }
    return put(o, "}", 1) ? FAILED : PLAIN;
}

static int json_list(Out *o, PyObject *v, int depth) {
    int rc;
    if (put(o, "[", 1)) return FAILED;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(v); i++) {
        if (i && put(o, ", ", 2)) return FAILED;
        if ((rc = json_plain(o, PyList_GET_ITEM(v, i), depth + 1)) != PLAIN) return rc;
    }
    return put(o, "]", 1) ? FAILED : PLAIN;
}

static int json_plain(Out *o, PyObject *v, int depth) {
    if (depth > JSON_MAX_DEPTH) return NOT_PLAIN;
    if (PyUnicode_CheckExact(v)) return json_string(o, v);
    if (v == Py_None) return put(o, "null", 4) ? FAILED : PLAIN;
    if (v == Py_True) return put(o, "true", 4) ? FAILED : PLAIN;
    if (v == Py_False) return put(o, "false", 5) ? FAILED : PLAIN;
    if (PyLong_CheckExact(v)) return json_repr(o, v);
    if (PyFloat_CheckExact(v)) return isfinite(PyFloat_AS_DOUBLE(v)) ? json_repr(o, v) : NOT_PLAIN;
    if (PyDict_CheckExact(v)) return json_dict(o, v, depth);
    if (PyList_CheckExact(v)) return json_list(o, v, depth);
    return NOT_PLAIN;
}

/* CAST('json' AS JSON) or 'json' of a plain document; NULL without an error when it is not one */
static PyObject *json_literal(PyObject *v, int cast) {
    Out o = {NULL, 0, 0};
    PyObject *text = NULL;
    const char *head = cast ? "CAST('" : "'", *tail = cast ? "' AS JSON)" : "'";
    if (!put(&o, head, strlen(head))) {
        int rc = json_plain(&o, v, 0);
        if (rc == PLAIN && put(&o, tail, strlen(tail))) rc = FAILED;
        if (rc == PLAIN) text = PyUnicode_DecodeUTF8(o.data, o.len, "strict");
        else if (rc == FAILED && !PyErr_Occurred()) PyErr_NoMemory();
    } else {
        PyErr_NoMemory();
    }
    PyMem_Free(o.data);
    return text;
}

/* Appends the literal of `v` (one or three parts) to `parts`; -1 on error. */
static int append_literal(PyObject *parts, int kind, PyObject *v, PyObject *renderer, PyObject *decimal) {
    PyObject *text = NULL;
    if (kind == K_INT && PyLong_CheckExact(v)) {
        text = PyObject_Str(v);
    } else if (kind == K_TEXT && PyUnicode_CheckExact(v)) {
        int has_quote;
        if (!needs_hex(v, &has_quote)) {
            PyObject *inner = has_quote ? PyUnicode_Replace(v, QUOTE, QUOTE2, -1) : (Py_INCREF(v), v);
            if (inner == NULL) return -1;
            int rc = PyList_Append(parts, QUOTE) || PyList_Append(parts, inner) || PyList_Append(parts, QUOTE);
            Py_DECREF(inner);
            return rc ? -1 : 0;
        }
    } else if (kind == K_DATETIME && PyDateTime_CheckExact(v) && PyDateTime_DATE_GET_TZINFO(v) == Py_None) {
        text = datetime_literal(v);
    } else if (kind == K_DATE && PyDate_CheckExact(v)) {
        text = date_literal(v);
    } else if (kind == K_DECIMAL && (PyObject *)Py_TYPE(v) == decimal) {
        text = PyObject_Format(v, FMT_F);
    } else if ((kind == K_JSON || kind == K_JSON_TEXT) && (PyDict_CheckExact(v) || PyList_CheckExact(v))) {
        text = json_literal(v, kind == K_JSON);
    }
    if (text == NULL && !PyErr_Occurred()) {
        text = PyObject_CallOneArg(renderer, v);
        if (text != NULL && !PyUnicode_Check(text)) {
            PyErr_Format(PyExc_TypeError, "a renderer gave %.80s, not str", Py_TYPE(text)->tp_name);
            Py_CLEAR(text);
        }
    }
    if (text == NULL) return -1;
    int rc = PyList_Append(parts, text);
    Py_DECREF(text);
    return rc;
}

typedef struct {
    PyObject *names, *renderers, *decimal;
    const char *kinds;
    Py_ssize_t n;
} Plan;

static int plan_from(PyObject *const *args, Plan *plan) {
    PyObject *names = args[0], *kinds = args[1], *renderers = args[2];
    if (!PyTuple_Check(names) || !PyBytes_Check(kinds) || !PyTuple_Check(renderers)
        || PyBytes_GET_SIZE(kinds) != PyTuple_GET_SIZE(names)
        || PyTuple_GET_SIZE(renderers) != PyTuple_GET_SIZE(names)) {
        PyErr_SetString(PyExc_TypeError, "names and renderers must be tuples and kinds bytes of the same length");
        return -1;
    }
    plan->names = names;
    plan->renderers = renderers;
    plan->kinds = PyBytes_AS_STRING(kinds);
    plan->decimal = args[3];
    plan->n = PyTuple_GET_SIZE(names);
    return 0;
}

/* "(" literals ")", or NULL */
static PyObject *tuple_text(Plan *plan, PyObject *image) {
    PyObject *parts = PyList_New(0);
    if (parts == NULL) return NULL;
    if (PyList_Append(parts, OPEN)) goto fail;
    for (Py_ssize_t i = 0; i < plan->n; i++) {
        if (i && PyList_Append(parts, SEP)) goto fail;
        PyObject *v = value_of(image, PyTuple_GET_ITEM(plan->names, i));
        if (v == NULL) goto fail;
        int rc = append_literal(parts, plan->kinds[i], v, PyTuple_GET_ITEM(plan->renderers, i), plan->decimal);
        Py_DECREF(v);
        if (rc) goto fail;
    }
    if (PyList_Append(parts, CLOSE)) goto fail;
    PyObject *out = PyUnicode_Join(EMPTY, parts);
    Py_DECREF(parts);
    return out;
fail:
    Py_DECREF(parts);
    return NULL;
}

static PyObject *row_tuple(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    Plan plan;
    if (nargs != 5) {
        PyErr_SetString(PyExc_TypeError, "row_tuple(names, kinds, renderers, decimal_type, image)");
        return NULL;
    }
    if (plan_from(args, &plan)) return NULL;
    return tuple_text(&plan, args[4]);
}

static PyMethodDef methods[] = {
    {"row_tuple", (PyCFunction)(void (*)(void))row_tuple, METH_FASTCALL,
     "row_tuple(names, kinds, renderers, decimal_type, image) -> str"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_sqltext", "Row tuples of SQL literals rendered with per-column fast paths.", -1, methods,
};

PyMODINIT_FUNC PyInit__sqltext(void) {
    PyDateTime_IMPORT;
    if (PyDateTimeAPI == NULL) return NULL;
    QUOTE = PyUnicode_InternFromString("'");
    QUOTE2 = PyUnicode_InternFromString("''");
    SEP = PyUnicode_InternFromString(", ");
    OPEN = PyUnicode_InternFromString("(");
    CLOSE = PyUnicode_InternFromString(")");
    EMPTY = PyUnicode_InternFromString("");
    FMT_F = PyUnicode_InternFromString("f");
    GET = PyUnicode_InternFromString("get");
    if (!QUOTE || !QUOTE2 || !SEP || !OPEN || !CLOSE || !EMPTY || !FMT_F || !GET) return NULL;
    return PyModule_Create(&module);
}
