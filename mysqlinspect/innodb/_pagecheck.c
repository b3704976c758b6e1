/* The C hot path of `pages verify` (optional: fastcheck.py does the same in Python when this is not built).
 *
 * suspects(buffer, count, page_size, first_page, space_id, full_crc32) -> list[int]
 *     The indices of the pages of a buffer of `count` consecutive uncompressed pages that are not plainly valid:
 *     the same rule as fastcheck.classic_suspects() / full_crc32_suspects() (checksum, LSN halves, page number,
 *     space id when space_id >= 0; for full_crc32 also key version 0 and no page_compressed bit). Every page's
 *     CRC-32C is computed; nothing is sampled.
 * crc32c(data, value=0) -> int
 *     CRC-32C (Castagnoli) of a buffer, continuing from `value` (the `crc32c` package's signature).
 * mtr_run(buffer, pos, endpos, nonce, bit, firsts) -> (position, count)
 *     The fast path of the MariaDB 10.8+ mini-transaction walk: the same rules as the pure-Python
 *     redo/mariadb/spans.walk_page_mtrs_py() (valid page-record mtrs from `pos` while they end by `endpos`; the
 *     first byte of every record taken appended to the bytearray `firsts`).
 * HARDWARE: True when the CPU has the SSE4.2 crc32 instruction (checked at run time). When False the functions
 *     must not be called (the Python fallback is used instead).
 *
 * CRC-32C uses the SSE4.2 crc32 instruction, 8 bytes at a time, over three pages at once ("lanes"): the three
 * CRCs are independent, so the instruction's 3-cycle latency is hidden without combining partial CRCs.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#if (defined(__x86_64__) || defined(_M_X64)) && (defined(__GNUC__) || defined(__clang__))
#define PAGECHECK_X86 1
#include <nmmintrin.h>
#define TARGET_SSE42 __attribute__((target("sse4.2")))
#else
#define PAGECHECK_X86 0
#endif

#if PAGECHECK_X86

static inline uint64_t load64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* Continue a raw (not inverted) CRC-32C state over len bytes. */
TARGET_SSE42 static uint32_t crc_one(uint32_t state, const uint8_t *p, size_t len) {
    uint64_t c = state;
    while (len >= 8) {
        c = _mm_crc32_u64(c, load64(p));
        p += 8;
        len -= 8;
    }
    uint32_t s = (uint32_t)c;
    while (len--) {
        s = _mm_crc32_u8(s, *p++);
    }
    return s;
}

/* CRC-32C of len bytes at a, b and c (three independent streams, interleaved). */
TARGET_SSE42 static void crc_three(const uint8_t *a, const uint8_t *b, const uint8_t *c, size_t len,
                                   uint32_t out[3]) {
    uint64_t x = 0xFFFFFFFFu, y = 0xFFFFFFFFu, z = 0xFFFFFFFFu;
    size_t i = 0;
    for (; i + 16 <= len; i += 16) {
        x = _mm_crc32_u64(x, load64(a + i));
        y = _mm_crc32_u64(y, load64(b + i));
        z = _mm_crc32_u64(z, load64(c + i));
        x = _mm_crc32_u64(x, load64(a + i + 8));
        y = _mm_crc32_u64(y, load64(b + i + 8));
        z = _mm_crc32_u64(z, load64(c + i + 8));
    }
    out[0] = ~crc_one((uint32_t)x, a + i, len - i);
    out[1] = ~crc_one((uint32_t)y, b + i, len - i);
    out[2] = ~crc_one((uint32_t)z, c + i, len - i);
}

/* buf_calc_page_crc32() (crc32 pages) or the full_crc32 checksum of each of the n pages (n <= 3) at `pages`. */
TARGET_SSE42 static void page_crcs(const uint8_t *pages, size_t ps, int n, int full, uint32_t out[3]) {
    const uint8_t *p[3];
    for (int k = 0; k < 3; k++) {
        p[k] = pages + (size_t)(k < n ? k : 0) * ps;
    }
    if (full) {
        crc_three(p[0], p[1], p[2], ps - 4, out);
        return;
    }
    uint32_t head[3];
    crc_three(p[0] + 4, p[1] + 4, p[2] + 4, 22, head);
    crc_three(p[0] + 38, p[1] + 38, p[2] + 38, ps - 46, out);
    for (int k = 0; k < 3; k++) {
        out[k] ^= head[k];
    }
}

/* 1 when page i (at `page`, number `page_no`) is not plainly valid. */
static int is_suspect(const uint8_t *page, size_t ps, uint32_t crc, uint32_t page_no, int64_t space_id, int full) {
    if (be32(page + 4) != page_no || (space_id >= 0 && be32(page + 34) != (uint32_t)space_id)) {
        return 1;
    }
    if (full) {
        return be32(page + ps - 4) != crc || be32(page + 20) != be32(page + ps - 8) || be32(page) != 0
               || (page[24] & 0x80);
    }
    return be32(page) != crc || be32(page + ps - 8) != crc || be32(page + 20) != be32(page + ps - 4);
}

typedef struct {
    Py_ssize_t *items;
    Py_ssize_t len, cap;
} IndexList;

static int index_append(IndexList *list, Py_ssize_t value) {
    if (list->len == list->cap) {
        Py_ssize_t cap = list->cap ? list->cap * 2 : 64;
        Py_ssize_t *items = PyMem_RawRealloc(list->items, (size_t)cap * sizeof(Py_ssize_t));
        if (items == NULL) {
            return -1;
        }
        list->items = items;
        list->cap = cap;
    }
    list->items[list->len++] = value;
    return 0;
}

/* Fill `list` with the suspect indices (no Python API: runs without the GIL). -1 when out of memory. */
static int scan(const uint8_t *buf, Py_ssize_t count, size_t ps, uint32_t first_page, int64_t space_id, int full,
                IndexList *list) {
    uint32_t crc[3];
    for (Py_ssize_t i = 0; i < count; i += 3) {
        int n = count - i < 3 ? (int)(count - i) : 3;
        const uint8_t *pages = buf + (size_t)i * ps;
        page_crcs(pages, ps, n, full, crc);
        for (int k = 0; k < n; k++) {
            if (is_suspect(pages + (size_t)k * ps, ps, crc[k], first_page + (uint32_t)(i + k), space_id, full)
                && index_append(list, i + k) < 0) {
                return -1;
            }
        }
    }
    return 0;
}

/* Growable byte list (no Python API). */
typedef struct {
    uint8_t *items;
    Py_ssize_t len, cap;
} ByteList;

static int bytes_reserve(ByteList *list, Py_ssize_t more) {
    if (list->len + more <= list->cap) {
        return 0;
    }
    Py_ssize_t cap = list->cap ? list->cap : 4096;
    while (cap < list->len + more) {
        cap *= 2;
    }
    uint8_t *items = PyMem_RawRealloc(list->items, (size_t)cap);
    if (items == NULL) {
        return -1;
    }
    list->items = items;
    list->cap = cap;
    return 0;
}

#define MTR_SIZE_MAX ((Py_ssize_t)1 << 20) /* layout.MDB_MTR_SIZE_MAX */

/* Position of the terminator byte of the page-record mtr at `start` when it is valid and ends (CRC included) by
 * `endpos`, else -1; its records' first bytes are appended to `firsts` (left as they were when it is not). -2 when
 * out of memory. Mirrors walk_page_mtrs_py(): a record's length is its low nibble + 1, or for a nibble of 0 a one-
 * or two-byte varint + 16 (longer varints are left to the exact path); the end byte must be the lap's sequence
 * bit; CRC-32C of the mtr (and of the nonce when encrypted) equals the stored big-endian value. */
TARGET_SSE42 static Py_ssize_t page_mtr_end(const uint8_t *buf, Py_ssize_t len, Py_ssize_t start, Py_ssize_t endpos,
                                            Py_ssize_t nonce, int bit, ByteList *firsts) {
    Py_ssize_t p = start, mark = firsts->len;
    if (p >= len) {
        return -1;
    }
    uint8_t b = buf[p];
    if (b <= 1 || b >= 0x80) {
        return -1;
    }
    for (;;) {
        if (b & 0x0F) {
            p += (b & 0x0F) + 1;
        } else {
            if (p + 2 >= len) {
                goto reject;
            }
            uint8_t v = buf[p + 1];
            if (v < 0x80) {
                p += v + 16;
            } else if (v < 0xC0) {
                p += 0x80 + (((Py_ssize_t)(v & 0x3F) << 8) | buf[p + 2]) + 16;
            } else {
                goto reject;
            }
        }
        if (bytes_reserve(firsts, 1) < 0) {
            return -2;
        }
        firsts->items[firsts->len++] = b;
        if (p >= len) {
            goto reject;
        }
        b = buf[p];
        if (b <= 1) {
            break;
        }
    }
    Py_ssize_t end = p + 5 + nonce;
    if (end > endpos || b != bit || p - start >= MTR_SIZE_MAX) {
        goto reject;
    }
    uint32_t state = crc_one(0xFFFFFFFFu, buf + start, (size_t)(p - start));
    if (nonce) {
        state = crc_one(state, buf + p + 1, (size_t)nonce);
    }
    if (~state != be32(buf + end - 4)) {
        goto reject;
    }
    return p;
reject:
    firsts->len = mark;
    return -1;
}

#endif /* PAGECHECK_X86 */

static int hardware(void) {
#if PAGECHECK_X86
    __builtin_cpu_init();
    return __builtin_cpu_supports("sse4.2") ? 1 : 0;
#else
    return 0;
#endif
}

static PyObject *suspects(PyObject *self, PyObject *args) {
    Py_buffer view;
    Py_ssize_t count, ps;
    unsigned long first_page;
    long long space_id;
    int full;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*nnkLp", &view, &count, &ps, &first_page, &space_id, &full)) {
        return NULL;
    }
    if (!hardware()) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_RuntimeError, "no SSE4.2 crc32 instruction on this CPU");
        return NULL;
    }
    if (count < 0 || ps < 64 || count > view.len / ps) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "count pages of page_size bytes do not fit in the buffer");
        return NULL;
    }
#if PAGECHECK_X86
    IndexList list = {NULL, 0, 0};
    int failed;
    Py_BEGIN_ALLOW_THREADS
    failed = scan((const uint8_t *)view.buf, count, (size_t)ps, (uint32_t)first_page, (int64_t)space_id, full,
                  &list);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    PyObject *result = failed ? PyErr_NoMemory() : PyList_New(list.len);
    for (Py_ssize_t k = 0; result != NULL && k < list.len; k++) {
        PyObject *index = PyLong_FromSsize_t(list.items[k]);
        if (index == NULL) {
            Py_CLEAR(result);
            break;
        }
        PyList_SET_ITEM(result, k, index);
    }
    PyMem_RawFree(list.items);
    return result;
#else
    (void)first_page; (void)space_id; (void)full;
    PyBuffer_Release(&view);
    Py_RETURN_NONE;
#endif
}

static PyObject *crc32c(PyObject *self, PyObject *args) {
    Py_buffer view;
    unsigned long value = 0;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*|k", &view, &value)) {
        return NULL;
    }
    if (!hardware()) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_RuntimeError, "no SSE4.2 crc32 instruction on this CPU");
        return NULL;
    }
#if PAGECHECK_X86
    uint32_t state = ~(uint32_t)value;
    if (view.len >= 65536) {
        Py_BEGIN_ALLOW_THREADS
        state = crc_one(state, (const uint8_t *)view.buf, (size_t)view.len);
        Py_END_ALLOW_THREADS
    } else {
        state = crc_one(state, (const uint8_t *)view.buf, (size_t)view.len);
    }
    PyBuffer_Release(&view);
    return PyLong_FromUnsignedLong(~state & 0xFFFFFFFFu);
#else
    PyBuffer_Release(&view);
    Py_RETURN_NONE;
#endif
}

static PyObject *mtr_run(PyObject *self, PyObject *args) {
    Py_buffer view;
    Py_ssize_t pos, endpos, nonce;
    int bit;
    PyObject *firsts;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*nnniO!", &view, &pos, &endpos, &nonce, &bit, &PyByteArray_Type, &firsts)) {
        return NULL;
    }
    if (!hardware()) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_RuntimeError, "no SSE4.2 crc32 instruction on this CPU");
        return NULL;
    }
    if (pos < 0 || nonce < 0 || endpos > view.len) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "pos, endpos or nonce out of range");
        return NULL;
    }
#if PAGECHECK_X86
    const uint8_t *buf = (const uint8_t *)view.buf;
    ByteList kept = {NULL, 0, 0};
    Py_ssize_t p = pos, taken = 0, end;
    while ((end = page_mtr_end(buf, view.len, p, endpos, nonce, bit, &kept)) >= 0) {
        taken++;
        p = end + 5 + nonce;
    }
    PyBuffer_Release(&view);
    PyObject *result = NULL;
    Py_ssize_t before = PyByteArray_GET_SIZE(firsts);
    if (end == -2) {
        PyErr_NoMemory();
    } else if (PyByteArray_Resize(firsts, before + kept.len) == 0) {
        if (kept.len) {
            memcpy(PyByteArray_AS_STRING(firsts) + before, kept.items, (size_t)kept.len);
        }
        result = Py_BuildValue("(nn)", p, taken);
    }
    PyMem_RawFree(kept.items);
    return result;
#else
    (void)pos; (void)endpos; (void)nonce; (void)bit; (void)firsts;
    PyBuffer_Release(&view);
    Py_RETURN_NONE;
#endif
}

static PyMethodDef methods[] = {
    {"suspects", suspects, METH_VARARGS,
     "suspects(buffer, count, page_size, first_page, space_id, full_crc32) -> list of the indices of the pages "
     "that are not plainly valid (space_id < 0: not checked)."},
    {"crc32c", crc32c, METH_VARARGS, "crc32c(data, value=0) -> CRC-32C of data, continuing from value."},
    {"mtr_run", mtr_run, METH_VARARGS,
     "mtr_run(buffer, pos, endpos, nonce, bit, firsts) -> (position after the last valid page-record mtr taken "
     "from pos, count); the first byte of each record taken is appended to the bytearray firsts."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_pagecheck", "Batch page checks and CRC-32C with the SSE4.2 crc32 instruction.", -1,
    methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__pagecheck(void) {
    PyObject *m = PyModule_Create(&module);
    if (m != NULL && PyModule_AddObject(m, "HARDWARE", PyBool_FromLong(hardware())) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
