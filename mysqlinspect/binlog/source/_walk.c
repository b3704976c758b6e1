/* The C loop of the first walk over a local binlog file (optional: source/local.py's _walk_events runs the same
 * loop in Python when this is not built, and hands it the events this loop leaves to it).
 *
 * It also has `select`, the pre-pass of a replay over its range's Table_maps and statements (below).
 *
 * walk(data, pos, limit, size, csum, check, inside, in_begin, query_post)
 *     -> (pos, valid_end_or_-1, trailing_added, inside, in_begin, last_code, stop)
 *
 * Reads event headers from `pos` while pos < limit, exactly as _walk_events does for the common events: CRC32 of
 * every event when `check` (the event's last 4 bytes), the transaction boundaries (BoundaryTracker: MySQL GTIDs,
 * MariaDB GTID flags, XID / XA_PREPARE / TRANSACTION_PAYLOAD, the head of a Query's text) and Rotate/Stop.
 * `valid_end_or_-1` is the end of the last event read outside a transaction (-1: none), `trailing_added` the
 * events read since then inside one. It stops before an event it leaves to Python (stop = 1): a partial or
 * garbage header, a Format_description, Start_encryption or compressed Query event, a CRC32 mismatch, a Query
 * body too short to read; stop = 0: `limit` reached.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define HEADER_LEN 19
enum { QUERY = 2, STOP = 3, ROTATE = 4, FDE = 15, XID = 16, TABLE_MAP = 19, GTID = 33, ANONYMOUS_GTID = 34, XA_PREPARE = 38,
       PAYLOAD = 40, TAGGED_GTID = 42, MARIADB_GTID = 162, START_ENCRYPTION = 164, QUERY_COMPRESSED = 165 };

static uint32_t CRC_TABLE[8][256];

static void crc_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        CRC_TABLE[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++) CRC_TABLE[t][i] = (CRC_TABLE[t - 1][i] >> 8) ^ CRC_TABLE[0][CRC_TABLE[t - 1][i] & 0xff];
}

/* zlib.crc32 (IEEE 802.3, reflected), slicing by 8 */
static uint32_t crc32_of(const unsigned char *p, Py_ssize_t n) {
    uint32_t c = 0xFFFFFFFFu;
    while (n >= 8) {
        uint32_t lo = c ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
        c = CRC_TABLE[7][lo & 0xff] ^ CRC_TABLE[6][(lo >> 8) & 0xff] ^ CRC_TABLE[5][(lo >> 16) & 0xff] ^
            CRC_TABLE[4][lo >> 24] ^ CRC_TABLE[3][p[4]] ^ CRC_TABLE[2][p[5]] ^ CRC_TABLE[1][p[6]] ^ CRC_TABLE[0][p[7]];
        p += 8;
        n -= 8;
    }
    while (n--) c = CRC_TABLE[0][(c ^ *p++) & 0xff] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

static uint32_t u32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int starts(const unsigned char *s, Py_ssize_t n, const char *prefix) {
    Py_ssize_t k = (Py_ssize_t)strlen(prefix);
    return n >= k && memcmp(s, prefix, (size_t)k) == 0;
}

static int is_space(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }  /* bytes.lstrip() */

/* BoundaryTracker._query on query_head(): the first 24 bytes of the text, left-stripped, upper-cased */
static void track_query(const unsigned char *text, Py_ssize_t n, int *inside, int *in_begin) {
    unsigned char head[24];
    if (n > 24) n = 24;
    Py_ssize_t i = 0, k = 0;
    while (i < n && is_space(text[i])) i++;
    for (; i < n; i++) head[k++] = (unsigned char)(text[i] >= 'a' && text[i] <= 'z' ? text[i] - 32 : text[i]);
    if (starts(head, k, "BEGIN") || starts(head, k, "START TRANSACTION") || starts(head, k, "XA START") ||
        starts(head, k, "XA BEGIN")) {
        *inside = *in_begin = 1;
    } else if (starts(head, k, "COMMIT")) {
        *inside = *in_begin = 0;
    } else if (starts(head, k, "ROLLBACK")) {
        Py_ssize_t j = 8;
        while (j < k && is_space(head[j])) j++;
        if (starts(head + j, k - j, "TO")) {
            if (!*in_begin) *inside = 0;
        } else {
            *inside = *in_begin = 0;
        }
    } else if (!*in_begin) {
        *inside = 0;
    }
}

static PyObject *walk(PyObject *self, PyObject *args) {
    Py_buffer buf;
    Py_ssize_t pos, limit, size, csum, query_post;
    int check, inside, in_begin;
    if (!PyArg_ParseTuple(args, "y*nnnnpppn", &buf, &pos, &limit, &size, &csum, &check, &inside, &in_begin,
                          &query_post))
        return NULL;
    const unsigned char *data = buf.buf;
    if (size > buf.len) size = buf.len;
    Py_ssize_t valid_end = -1, trailing = 0;
    int last_code = 0, stop = 0;
    Py_BEGIN_ALLOW_THREADS
    while (pos < limit) {
        if (size - pos < HEADER_LEN) { stop = 1; break; }
        const unsigned char *ev = data + pos;
        int code = ev[4];
        Py_ssize_t ev_size = (Py_ssize_t)u32(ev + 9);
        if (ev_size < HEADER_LEN || ev_size > size - pos || ev_size < HEADER_LEN + csum || code == FDE ||
            code == START_ENCRYPTION || code == QUERY_COMPRESSED) { stop = 1; break; }
        Py_ssize_t end = pos + ev_size;
        if (check && crc32_of(ev, ev_size - 4) != u32(ev + ev_size - 4)) { stop = 1; break; }
        const unsigned char *body = ev + HEADER_LEN;
        Py_ssize_t body_len = ev_size - HEADER_LEN - csum;
        if (code == GTID || code == ANONYMOUS_GTID || code == TAGGED_GTID) {
            inside = 1;
            in_begin = 0;
        } else if (code == MARIADB_GTID) {
            int flags = body_len > 12 ? body[12] : 0;
            inside = 1;
            in_begin = !(flags & 0x01);
        } else if (code == XID || code == XA_PREPARE || code == PAYLOAD) {
            inside = in_begin = 0;
        } else if (code == QUERY) {
            if (body_len < 13) { stop = 1; break; }
            Py_ssize_t start = query_post + (Py_ssize_t)(body[11] | body[12] << 8) + body[8] + 1;
            if (start < body_len) track_query(body + start, body_len - start, &inside, &in_begin);
            else track_query(body, 0, &inside, &in_begin);
        } else if (code == ROTATE || code == STOP) {
            last_code = code;
        }
        pos = end;
        if (inside) {
            trailing++;
        } else {
            valid_end = pos;
            trailing = 0;
        }
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&buf);
    return Py_BuildValue("(nnniiii)", pos, valid_end, trailing, inside, in_begin, last_code, stop);
}

/* select(data, pos, limit, end, csum, query_post, wanted, keep_from) -> (events, pos)
 *     (start, type code, size) of the events starting in [pos, limit) whose type code has a nonzero byte in
 *     `wanted` (256 bytes) and that start at or after `keep_from`,
 *     leaving out Query events whose text is exactly BEGIN and Table_map events equal (body and all) to the last
 *     one listed: what a pre-pass over a range's tables and statements needs. Stops at `end`, before a
 *     Format_description event or a header it cannot read (its position returned: the caller handles it). */
static PyObject *select_events(PyObject *self, PyObject *args) {
    Py_buffer buf, wanted;
    Py_ssize_t pos, limit, end, csum, query_post, keep_from;
    if (!PyArg_ParseTuple(args, "y*nnnnny*n", &buf, &pos, &limit, &end, &csum, &query_post, &wanted, &keep_from))
        return NULL;
    PyObject *out = PyList_New(0);
    const unsigned char *data = buf.buf, *want = wanted.buf;
    const unsigned char *last_map = NULL;
    Py_ssize_t last_map_len = 0;
    if (end > buf.len) end = buf.len;
    while (out != NULL && pos < limit && end - pos >= HEADER_LEN) {
        const unsigned char *ev = data + pos;
        int code = ev[4];
        Py_ssize_t ev_size = (Py_ssize_t)u32(ev + 9);
        if (ev_size < HEADER_LEN || ev_size > end - pos || code == FDE) break;
        Py_ssize_t body_len = ev_size - HEADER_LEN - csum;
        if (body_len < 0) body_len = 0;  /* as frames_until slices it: an empty body */
        const unsigned char *body = ev + HEADER_LEN;
        int keep = wanted.len == 256 && want[code] && pos >= keep_from;
        if (keep && code == QUERY && body_len >= 13) {
            Py_ssize_t start = query_post + (Py_ssize_t)(body[11] | body[12] << 8) + body[8] + 1;
            keep = !(start < body_len && body_len - start == 5 && memcmp(body + start, "BEGIN", 5) == 0);
        } else if (keep && code == TABLE_MAP) {
            keep = !(last_map != NULL && last_map_len == body_len && memcmp(last_map, body, (size_t)body_len) == 0);
            last_map = body;
            last_map_len = body_len;
        }
        if (keep) {
            PyObject *item = Py_BuildValue("(nin)", pos, code, ev_size);
            if (item == NULL || PyList_Append(out, item) < 0) Py_CLEAR(out);
            Py_XDECREF(item);
        }
        pos += ev_size;
    }
    PyBuffer_Release(&buf);
    PyBuffer_Release(&wanted);
    if (out == NULL) return NULL;
    PyObject *result = Py_BuildValue("(On)", out, pos);
    Py_DECREF(out);
    return result;
}

static PyMethodDef METHODS[] = {
    {"walk", walk, METH_VARARGS, "The common events of the first walk (see the module source)."},
    {"select", select_events, METH_VARARGS, "The events of some types, BEGIN and repeated Table_maps left out."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef MODULE = {PyModuleDef_HEAD_INIT, "_walk", NULL, -1, METHODS};

PyMODINIT_FUNC PyInit__walk(void) {
    crc_init();
    return PyModule_Create(&MODULE);
}
