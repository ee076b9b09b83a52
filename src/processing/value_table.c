/*
 * value_table.c: typed value keys (compare, text, JSON, Spark-compatible
 * murmur3) and the open-addressing table of distinct values with counts.
 *
 * Table invariants: nslots is a power of two >= 2 * n (load <= 1/2), every
 * entry's id + 1 sits in exactly one slot on its probe path (linear
 * probing from hash & (nslots - 1)), and string keys are the bytes
 * [key, key + len) of `bytes`. Entries are never removed.
 */
#include <math.h>
#include <string.h>

#include "processing/transform_util.h"
#include "processing/value_table.h"
#include "sluice/mem.h"

/* ---- keys ---- */

int sl_vkey_cmp(sl_type t, const sl_vkey *a, const sl_vkey *b)
{
    if (t == SL_STRING) {
        size_t n = a->len < b->len ? a->len : b->len;
        int c = n ? memcmp(a->s, b->s, n) : 0;
        if (c)
            return c;
        return a->len < b->len ? -1 : a->len > b->len;
    }
    if (t == SL_FLOAT64) {
        double x, y;
        memcpy(&x, &a->i, sizeof x);
        memcpy(&y, &b->i, sizeof y);
        return x < y ? -1 : x > y;
    }
    return a->i < b->i ? -1 : a->i > b->i;
}

const char *sl_vkey_text(sl_type t, const sl_vkey *k, char *buf,
                         size_t *len)
{
    int n = 0;
    switch (t) {
    case SL_STRING:
        *len = k->len;
        return k->s;
    case SL_BOOL:
        n = k->i ? 4 : 5;
        memcpy(buf, k->i ? "true" : "false", (size_t)n + 1);
        break;
    case SL_INT64:
        n = sl_format_int64(k->i, buf);
        break;
    case SL_FLOAT64: {
        double d;
        memcpy(&d, &k->i, sizeof d);
        n = sl_format_float64(d, buf);
        break;
    }
    case SL_DATE:
        n = sl_format_date((int32_t)k->i, buf);
        break;
    case SL_TIMESTAMP:
        n = sl_format_timestamp(k->i, buf);
        break;
    default:
        break;
    }
    if (n < SL_FMT_MAX)
        buf[n] = '\0';
    *len = (size_t)n;
    return buf;
}

static inline uint32_t rotl32(uint32_t x, int r)
{
    return (x << r) | (x >> (32 - r));
}

static inline uint32_t mix_k1(uint32_t k1)
{
    k1 *= 0xcc9e2d51u;
    k1 = rotl32(k1, 15);
    return k1 * 0x1b873593u;
}

static inline uint32_t mix_h1(uint32_t h1, uint32_t k1)
{
    h1 ^= k1;
    h1 = rotl32(h1, 13);
    return h1 * 5 + 0xe6546b64u;
}

int32_t sl_murmur3_spark(const void *data, size_t n, uint32_t seed)
{
    const unsigned char *p = data;
    size_t aligned = n - n % 4;
    uint32_t h1 = seed;
    for (size_t i = 0; i < aligned; i += 4) {
        /* Spark reads the word in the platform's (little-endian) order. */
        uint32_t w = (uint32_t)p[i] | (uint32_t)p[i + 1] << 8 |
                     (uint32_t)p[i + 2] << 16 | (uint32_t)p[i + 3] << 24;
        h1 = mix_h1(h1, mix_k1(w));
    }
    for (size_t i = aligned; i < n; i++) {
        /* Java's byte is signed: the tail byte is sign-extended. */
        uint32_t b = (uint32_t)(int32_t)(signed char)p[i];
        h1 = mix_h1(h1, mix_k1(b));
    }
    h1 ^= (uint32_t)n;
    h1 ^= h1 >> 16;
    h1 *= 0x85ebca6bu;
    h1 ^= h1 >> 13;
    h1 *= 0xc2b2ae35u;
    h1 ^= h1 >> 16;
    return (int32_t)h1;
}

json_t *sl_vkey_to_json(sl_type t, const sl_vkey *k)
{
    char buf[SL_FMT_MAX + 1];
    size_t len;
    switch (t) {
    case SL_BOOL:
        return json_boolean(k->i);
    case SL_INT64:
        return json_integer((json_int_t)k->i);
    case SL_FLOAT64: {
        double d;
        memcpy(&d, &k->i, sizeof d);
        if (isinf(d))
            return json_string(d > 0 ? "inf" : "-inf");
        return json_real(d);
    }
    case SL_STRING:
        return json_stringn(k->s, k->len);
    case SL_DATE:
    case SL_TIMESTAMP: {
        /* Readable text when it reads back exactly, else the raw number
         * (days / microseconds), which from_json accepts too. */
        const char *s = sl_vkey_text(t, k, buf, &len);
        sl_vkey back;
        if (sl_vkey_parse(t, s, len, &back) == 0 && back.i == k->i)
            return json_stringn(s, len);
        return json_integer((json_int_t)k->i);
    }
    default:
        return NULL;
    }
}

int sl_vkey_parse(sl_type t, const char *s, size_t n, sl_vkey *k)
{
    k->s = NULL;
    k->len = 0;
    switch (t) {
    case SL_BOOL: {
        int b;
        if (sl_parse_bool(s, n, &b) != 0)
            return -1;
        k->i = b != 0;
        return 0;
    }
    case SL_INT64:
        return sl_parse_int64(s, n, &k->i);
    case SL_FLOAT64: {
        double d;
        if (sl_parse_float64(s, n, &d) != 0 || isnan(d))
            return -1;
        if (d == 0.0)
            d = 0.0;
        memcpy(&k->i, &d, sizeof d);
        return 0;
    }
    case SL_DATE: {
        int32_t days;
        if (sl_parse_date(s, n, &days) != 0)
            return -1;
        k->i = days;
        return 0;
    }
    case SL_TIMESTAMP:
        return sl_parse_timestamp(s, n, &k->i);
    case SL_STRING:
        k->s = s;
        k->len = n;
        return 0;
    default:
        return -1;
    }
}

int sl_vkey_from_json(sl_type t, const json_t *j, sl_vkey *k,
                      const char **why)
{
    k->s = NULL;
    k->len = 0;
    switch (t) {
    case SL_BOOL:
        if (!json_is_boolean(j)) {
            *why = "expected true or false";
            return -1;
        }
        k->i = json_is_true(j);
        return 0;
    case SL_INT64:
        if (!json_is_integer(j)) {
            *why = "expected an integer";
            return -1;
        }
        k->i = (int64_t)json_integer_value(j);
        return 0;
    case SL_FLOAT64: {
        double d;
        if (json_is_number(j)) {
            d = json_number_value(j);
        } else if (json_is_string(j) &&
                   (strcmp(json_string_value(j), "inf") == 0 ||
                    strcmp(json_string_value(j), "-inf") == 0)) {
            d = json_string_value(j)[0] == '-' ? -INFINITY : INFINITY;
        } else {
            *why = "expected a number";
            return -1;
        }
        if (d == 0.0)
            d = 0.0;
        memcpy(&k->i, &d, sizeof d);
        return 0;
    }
    case SL_STRING:
        if (!json_is_string(j)) {
            *why = "expected a string";
            return -1;
        }
        k->s = json_string_value(j);
        k->len = json_string_length(j);
        return 0;
    case SL_DATE:
    case SL_TIMESTAMP:
        if (json_is_integer(j)) {
            json_int_t v = json_integer_value(j);
            if (t == SL_DATE && (v < INT32_MIN || v > INT32_MAX)) {
                *why = "date out of range";
                return -1;
            }
            k->i = (int64_t)v;
            return 0;
        }
        if (json_is_string(j) &&
            sl_vkey_parse(t, json_string_value(j), json_string_length(j),
                          k) == 0)
            return 0;
        *why = t == SL_DATE ? "expected a date (YYYY-MM-DD)"
                            : "expected a timestamp";
        return -1;
    default:
        *why = "unsupported type";
        return -1;
    }
}

/* ---- table ---- */

static inline uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}

static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        h = (h ^ mix64(w)) * 0x100000001b3ull;
    }
    uint64_t w = 0;
    for (size_t k = 0; i < n; i++, k++)
        w |= (uint64_t)(unsigned char)s[i] << (8 * k);
    return mix64(h ^ w);
}

static inline uint64_t key_hash(const sl_vtab *t, const sl_vkey *k)
{
    return t->type == SL_STRING ? hash_bytes(k->s, k->len)
                                : mix64((uint64_t)k->i);
}

static inline int ent_eq(const sl_vtab *t, const sl_vent *e,
                         const sl_vkey *k, uint64_t h)
{
    if (e->hash != h)
        return 0;
    if (t->type != SL_STRING)
        return e->key == k->i;
    return (size_t)e->len == k->len &&
           (k->len == 0 || memcmp(t->bytes + e->key, k->s, k->len) == 0);
}

void sl_vtab_init(sl_vtab *t, sl_type type)
{
    memset(t, 0, sizeof *t);
    t->type = type;
}

void sl_vtab_free(sl_vtab *t)
{
    sl_free(t->ent);
    sl_free(t->slots);
    sl_free(t->bytes);
    sl_vtab_init(t, t->type);
}

static sl_rc rehash(sl_vtab *t, int64_t nslots)
{
    int64_t *s = sl_calloc((size_t)nslots, sizeof *s);
    if (!s)
        return SL_ENOMEM;
    uint64_t mask = (uint64_t)nslots - 1;
    for (int64_t id = 0; id < t->n; id++) {
        uint64_t p = t->ent[id].hash & mask;
        while (s[p])
            p = (p + 1) & mask;
        s[p] = id + 1;
    }
    sl_free(t->slots);
    t->slots = s;
    t->nslots = nslots;
    return SL_OK;
}

int64_t sl_vtab_find(const sl_vtab *t, const sl_vkey *k)
{
    if (t->nslots == 0)
        return -1;
    uint64_t h = key_hash(t, k), mask = (uint64_t)t->nslots - 1;
    for (uint64_t p = h & mask;; p = (p + 1) & mask) {
        int64_t s = t->slots[p];
        if (!s)
            return -1;
        if (ent_eq(t, &t->ent[s - 1], k, h))
            return s - 1;
    }
}

sl_rc sl_vtab_add(sl_vtab *t, const sl_vkey *k, int64_t count, int64_t *id)
{
    if (2 * (t->n + 1) > t->nslots) {
        sl_rc rc = rehash(t, t->nslots ? t->nslots * 2 : 64);
        if (rc != SL_OK)
            return rc;
    }
    uint64_t h = key_hash(t, k), mask = (uint64_t)t->nslots - 1;
    uint64_t p = h & mask;
    for (;; p = (p + 1) & mask) {
        int64_t s = t->slots[p];
        if (!s)
            break;
        if (ent_eq(t, &t->ent[s - 1], k, h)) {
            t->ent[s - 1].count += count;
            if (id)
                *id = s - 1;
            return SL_OK;
        }
    }
    if (t->n >= SL_VTAB_MAX)
        return SL_ELIMIT;
    size_t cap = (size_t)t->ent_cap;
    if (sl_grow((void **)&t->ent, &cap, (size_t)t->n + 1, sizeof *t->ent))
        return SL_ENOMEM;
    t->ent_cap = (int64_t)cap;
    sl_vent *e = &t->ent[t->n];
    e->hash = h;
    e->count = count;
    e->len = 0;
    e->key = k->i;
    if (t->type == SL_STRING) {
        if (sl_grow((void **)&t->bytes, &t->bytes_cap, t->nbytes + k->len + 1,
                    1))
            return SL_ENOMEM;
        if (k->len)
            memcpy(t->bytes + t->nbytes, k->s, k->len);
        e->key = (int64_t)t->nbytes;
        e->len = (int64_t)k->len;
        t->nbytes += k->len;
    }
    t->slots[p] = t->n + 1;
    if (id)
        *id = t->n;
    t->n++;
    return SL_OK;
}

sl_rc sl_vtab_count_column(sl_vtab *t, const sl_column *c)
{
    sl_vkey k = {0, NULL, 0};
    for (int64_t i = 0; i < c->length; i++) {
        if (!sl_vkey_get(c, i, &k))
            continue;
        sl_rc rc = sl_vtab_add(t, &k, 1, NULL);
        if (rc != SL_OK)
            return rc;
    }
    return SL_OK;
}

void sl_vtab_key(const sl_vtab *t, int64_t id, sl_vkey *k)
{
    const sl_vent *e = &t->ent[id];
    if (t->type == SL_STRING) {
        k->i = 0;
        k->s = t->bytes ? t->bytes + e->key : "";
        k->len = (size_t)e->len;
    } else {
        k->i = e->key;
        k->s = NULL;
        k->len = 0;
    }
}

static int cmp_value(const void *ctx, int64_t a, int64_t b)
{
    const sl_vtab *t = ctx;
    sl_vkey ka, kb;
    sl_vtab_key(t, a, &ka);
    sl_vtab_key(t, b, &kb);
    return sl_vkey_cmp(t->type, &ka, &kb);
}

static int cmp_count(const void *ctx, int64_t a, int64_t b)
{
    const sl_vtab *t = ctx;
    int64_t ca = t->ent[a].count, cb = t->ent[b].count;
    if (ca != cb)
        return ca > cb ? -1 : 1;
    return cmp_value(ctx, a, b);
}

sl_rc sl_vtab_sort_ids(const sl_vtab *t, int64_t *ids, int64_t n, int by)
{
    return sl_tu_sort_ids(ids, n,
                          by == SL_VTAB_BY_COUNT ? cmp_count : cmp_value, t);
}

sl_rc sl_vtab_sorted(const sl_vtab *t, int by, int64_t **ids)
{
    *ids = sl_malloc((size_t)(t->n ? t->n : 1) * sizeof **ids);
    if (!*ids)
        return SL_ENOMEM;
    for (int64_t i = 0; i < t->n; i++)
        (*ids)[i] = i;
    sl_rc rc = sl_vtab_sort_ids(t, *ids, t->n, by);
    if (rc != SL_OK) {
        sl_free(*ids);
        *ids = NULL;
    }
    return rc;
}
