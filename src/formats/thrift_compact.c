/*
 * thrift_compact.c: Thrift compact protocol reader and writer (see
 * thrift_compact.h). Only what Parquet metadata needs: structs, fields with
 * delta-encoded ids, zigzag varints, binary, lists/sets/maps, doubles, and
 * bools packed into field headers.
 *
 * Invariants: r->base <= r->p <= r->end at all times; once r->error is set
 * no function advances r->p; depth never exceeds TC_MAX_DEPTH (so skip's
 * recursion is bounded too).
 */
#include "thrift_compact.h"

#include <string.h>

#include "sluice/mem.h"

void tc_reader_init(tc_reader *r, const void *data, size_t n)
{
    memset(r, 0, sizeof *r);
    r->base = r->p = data;
    r->end = r->base + n;
}

int tc_fail(tc_reader *r, const char *msg)
{
    if (!r->error) {
        r->error = msg;
        r->error_at = tc_pos(r);
    }
    return -1;
}

static int varint(tc_reader *r, uint64_t *out)
{
    uint64_t v = 0;
    if (r->error)
        return -1;
    for (int shift = 0; shift < 64; shift += 7) {
        if (r->p >= r->end)
            return tc_fail(r, "truncated varint");
        uint8_t b = *r->p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return tc_fail(r, "varint longer than 10 bytes");
}

static int64_t unzigzag(uint64_t v)
{
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

int tc_struct_begin(tc_reader *r)
{
    if (r->error)
        return -1;
    if (r->depth >= TC_MAX_DEPTH)
        return tc_fail(r, "structures nested too deeply");
    r->last[++r->depth] = 0;
    return 0;
}

int tc_struct_end(tc_reader *r)
{
    if (r->error)
        return -1;
    if (r->depth > 0)
        r->depth--;
    return 0;
}

int tc_field(tc_reader *r, int *type, int *fid)
{
    if (r->error)
        return -1;
    if (r->p >= r->end)
        return tc_fail(r, "truncated structure (no field stop)");
    uint8_t b = *r->p++;
    if (b == TC_STOP)
        return 0;
    int t = b & 0x0f, delta = b >> 4;
    int id;
    if (delta) {
        id = r->last[r->depth] + delta;
    } else {
        int16_t v;
        if (tc_i16(r, &v) < 0)
            return -1;
        id = v;
    }
    if (t > TC_STRUCT)
        return tc_fail(r, "unknown field type");
    if (id > INT16_MAX || id < INT16_MIN)
        return tc_fail(r, "field id out of range");
    r->last[r->depth] = (int16_t)id;
    *type = t;
    *fid = id;
    return 1;
}

int tc_byte(tc_reader *r, int8_t *v)
{
    if (r->error)
        return -1;
    if (r->p >= r->end)
        return tc_fail(r, "truncated byte");
    *v = (int8_t)*r->p++;
    return 0;
}

int tc_i16(tc_reader *r, int16_t *v)
{
    uint64_t u = 0;
    if (varint(r, &u) < 0)
        return -1;
    int64_t s = unzigzag(u);
    if (s < INT16_MIN || s > INT16_MAX)
        return tc_fail(r, "i16 out of range");
    *v = (int16_t)s;
    return 0;
}

int tc_i32(tc_reader *r, int32_t *v)
{
    uint64_t u = 0;
    if (varint(r, &u) < 0)
        return -1;
    int64_t s = unzigzag(u);
    if (s < INT32_MIN || s > INT32_MAX)
        return tc_fail(r, "i32 out of range");
    *v = (int32_t)s;
    return 0;
}

int tc_i64(tc_reader *r, int64_t *v)
{
    uint64_t u = 0;
    if (varint(r, &u) < 0)
        return -1;
    *v = unzigzag(u);
    return 0;
}

int tc_int_any(tc_reader *r, int type, int32_t *v)
{
    if (type == TC_I32)
        return tc_i32(r, v);
    if (type == TC_I16) {
        int16_t s;
        int rc = tc_i16(r, &s);
        *v = s;
        return rc;
    }
    if (type == TC_BYTE) {
        int8_t s;
        int rc = tc_byte(r, &s);
        *v = s;
        return rc;
    }
    if (type == TC_I64) {
        int64_t s;
        if (tc_i64(r, &s) < 0)
            return -1;
        if (s < INT32_MIN || s > INT32_MAX)
            return tc_fail(r, "integer out of range");
        *v = (int32_t)s;
        return 0;
    }
    return tc_fail(r, "expected an integer");
}

int tc_double(tc_reader *r, double *v)
{
    if (r->error)
        return -1;
    if (r->end - r->p < 8)
        return tc_fail(r, "truncated double");
    uint64_t u = 0;
    for (int i = 7; i >= 0; i--)
        u = u << 8 | r->p[i];
    memcpy(v, &u, 8);
    r->p += 8;
    return 0;
}

int tc_binary(tc_reader *r, const uint8_t **p, uint32_t *n)
{
    uint64_t len = 0;
    if (varint(r, &len) < 0)
        return -1;
    if (len > (uint64_t)(r->end - r->p))
        return tc_fail(r, "binary length beyond the end of the data");
    *p = r->p;
    *n = (uint32_t)len;
    r->p += len;
    return 0;
}

int tc_bool(tc_reader *r, int type, int *v)
{
    if (r->error)
        return -1;
    if (type == TC_TRUE || type == TC_FALSE) {
        *v = type == TC_TRUE;
        return 0;
    }
    int8_t b;
    if (tc_byte(r, &b) < 0)
        return -1;
    /* Apache Thrift writes 1 (true) / 2 (false) in collections; some
     * writers use 1 / 0. */
    *v = b == 1;
    return 0;
}

int tc_list(tc_reader *r, int *elem_type, uint32_t *n)
{
    if (r->error)
        return -1;
    if (r->p >= r->end)
        return tc_fail(r, "truncated list header");
    uint8_t b = *r->p++;
    uint64_t size = b >> 4;
    if (size == 15 && varint(r, &size) < 0)
        return -1;
    *elem_type = b & 0x0f;
    if (*elem_type > TC_STRUCT)
        return tc_fail(r, "unknown list element type");
    /* Every element takes at least one byte. */
    if (size > (uint64_t)(r->end - r->p))
        return tc_fail(r, "list longer than the data");
    *n = (uint32_t)size;
    return 0;
}

static int skip_depth(tc_reader *r, int type, int depth)
{
    if (r->error)
        return -1;
    if (depth > TC_MAX_DEPTH)
        return tc_fail(r, "values nested too deeply");
    switch (type) {
    case TC_TRUE:
    case TC_FALSE:
        return 0; /* field bools carry the value in the header */
    case TC_BYTE: {
        int8_t b;
        return tc_byte(r, &b);
    }
    case TC_I16:
    case TC_I32:
    case TC_I64: {
        uint64_t u;
        return varint(r, &u);
    }
    case TC_DOUBLE: {
        double d;
        return tc_double(r, &d);
    }
    case TC_BINARY: {
        const uint8_t *p;
        uint32_t n;
        return tc_binary(r, &p, &n);
    }
    case TC_LIST:
    case TC_SET: {
        int et;
        uint32_t n;
        if (tc_list(r, &et, &n) < 0)
            return -1;
        for (uint32_t i = 0; i < n; i++) {
            /* A bool element is one byte, unlike a bool field. */
            int rc = (et == TC_TRUE || et == TC_FALSE) ? skip_depth(r, TC_BYTE, depth + 1)
                                                       : skip_depth(r, et, depth + 1);
            if (rc < 0)
                return -1;
        }
        return 0;
    }
    case TC_MAP: {
        uint64_t n = 0;
        if (varint(r, &n) < 0)
            return -1;
        if (n == 0)
            return 0;
        if (n > (uint64_t)(r->end - r->p))
            return tc_fail(r, "map longer than the data");
        if (r->p >= r->end)
            return tc_fail(r, "truncated map header");
        uint8_t kv = *r->p++;
        int kt = kv >> 4, vt = kv & 0x0f;
        if (kt == TC_TRUE || kt == TC_FALSE)
            kt = TC_BYTE;
        if (vt == TC_TRUE || vt == TC_FALSE)
            vt = TC_BYTE;
        for (uint64_t i = 0; i < n; i++)
            if (skip_depth(r, kt, depth + 1) < 0 || skip_depth(r, vt, depth + 1) < 0)
                return -1;
        return 0;
    }
    case TC_STRUCT: {
        int t, fid, more;
        if (tc_struct_begin(r) < 0)
            return -1;
        while ((more = tc_field(r, &t, &fid)) > 0)
            if (skip_depth(r, t, depth + 1) < 0)
                return -1;
        if (more < 0)
            return -1;
        return tc_struct_end(r);
    }
    default:
        return tc_fail(r, "cannot skip unknown type");
    }
}

int tc_skip(tc_reader *r, int type)
{
    return skip_depth(r, type, r->depth);
}

/* ---- writer ---- */

void tc_writer_init(tc_writer *w)
{
    memset(w, 0, sizeof *w);
}

void tc_writer_reset(tc_writer *w)
{
    w->len = 0;
    w->depth = 0;
    w->failed = 0;
    w->last[0] = 0;
}

void tc_writer_free(tc_writer *w)
{
    sl_free(w->buf);
    memset(w, 0, sizeof *w);
}

static uint8_t *room(tc_writer *w, size_t n)
{
    if (w->failed)
        return NULL;
    if (w->len + n > w->cap) {
        void *b = w->buf;
        size_t cap = w->cap;
        if (sl_grow(&b, &cap, w->len + n < 256 ? 256 : w->len + n, 1) != 0) {
            w->failed = 1;
            return NULL;
        }
        w->buf = b;
        w->cap = cap;
    }
    uint8_t *p = w->buf + w->len;
    w->len += n;
    return p;
}

void tc_w_raw_bytes(tc_writer *w, const void *p, size_t n)
{
    uint8_t *d = room(w, n);
    if (d && n)
        memcpy(d, p, n);
}

void tc_w_raw_varint(tc_writer *w, uint64_t v)
{
    uint8_t tmp[10];
    int n = 0;
    while (v >= 0x80) {
        tmp[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    tmp[n++] = (uint8_t)v;
    tc_w_raw_bytes(w, tmp, (size_t)n);
}

static uint64_t zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

void tc_w_raw_i32(tc_writer *w, int32_t v)
{
    tc_w_raw_varint(w, zigzag(v));
}

void tc_w_raw_i64(tc_writer *w, int64_t v)
{
    tc_w_raw_varint(w, zigzag(v));
}

void tc_w_raw_binary(tc_writer *w, const void *p, size_t n)
{
    tc_w_raw_varint(w, n);
    tc_w_raw_bytes(w, p, n);
}

void tc_w_raw_bool(tc_writer *w, int v)
{
    uint8_t b = v ? TC_TRUE : TC_FALSE;
    tc_w_raw_bytes(w, &b, 1);
}

void tc_w_field(tc_writer *w, int type, int fid)
{
    int delta = fid - w->last[w->depth];
    if (delta > 0 && delta <= 15) {
        uint8_t b = (uint8_t)(delta << 4 | type);
        tc_w_raw_bytes(w, &b, 1);
    } else {
        uint8_t b = (uint8_t)type;
        tc_w_raw_bytes(w, &b, 1);
        tc_w_raw_i32(w, fid);
    }
    w->last[w->depth] = (int16_t)fid;
}

void tc_w_struct_begin(tc_writer *w)
{
    if (w->depth >= TC_MAX_DEPTH) {
        w->failed = 1;
        return;
    }
    w->last[++w->depth] = 0;
}

void tc_w_struct_end(tc_writer *w)
{
    uint8_t stop = TC_STOP;
    tc_w_raw_bytes(w, &stop, 1);
    if (w->depth > 0)
        w->depth--;
}

void tc_w_struct_field(tc_writer *w, int fid)
{
    tc_w_field(w, TC_STRUCT, fid);
    tc_w_struct_begin(w);
}

void tc_w_i32(tc_writer *w, int fid, int32_t v)
{
    tc_w_field(w, TC_I32, fid);
    tc_w_raw_i32(w, v);
}

void tc_w_i64(tc_writer *w, int fid, int64_t v)
{
    tc_w_field(w, TC_I64, fid);
    tc_w_raw_i64(w, v);
}

void tc_w_i16(tc_writer *w, int fid, int16_t v)
{
    tc_w_field(w, TC_I16, fid);
    tc_w_raw_i32(w, v);
}

void tc_w_byte(tc_writer *w, int fid, int8_t v)
{
    tc_w_field(w, TC_BYTE, fid);
    tc_w_raw_bytes(w, &v, 1);
}

void tc_w_double(tc_writer *w, int fid, double v)
{
    uint64_t u = 0;
    uint8_t b[8];
    memcpy(&u, &v, 8);
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(u >> (8 * i));
    tc_w_field(w, TC_DOUBLE, fid);
    tc_w_raw_bytes(w, b, 8);
}

void tc_w_bool(tc_writer *w, int fid, int v)
{
    tc_w_field(w, v ? TC_TRUE : TC_FALSE, fid);
}

void tc_w_binary(tc_writer *w, int fid, const void *p, size_t n)
{
    tc_w_field(w, TC_BINARY, fid);
    tc_w_raw_binary(w, p, n);
}

void tc_w_list_field(tc_writer *w, int fid, int elem_type, uint32_t n)
{
    tc_w_field(w, TC_LIST, fid);
    if (n < 15) {
        uint8_t b = (uint8_t)(n << 4 | (uint32_t)elem_type);
        tc_w_raw_bytes(w, &b, 1);
    } else {
        uint8_t b = (uint8_t)(0xf0 | elem_type);
        tc_w_raw_bytes(w, &b, 1);
        tc_w_raw_varint(w, n);
    }
}
