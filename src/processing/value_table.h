/*
 * value_table.h: typed values as hashable keys, and a hash table of
 * distinct values with counts (categorical transforms: onehot, vocabulary,
 * impute most_frequent) plus the value <-> text / JSON conversions those
 * transforms store in transform.json.
 *
 * Keys: numeric types keep their value in `i` (bool 0/1, int64, timestamp
 * micros, date days; float64 the bits of the double, with -0.0 folded into
 * 0.0 so both are one category). Strings point at their bytes. NaN is a
 * missing value, like null, and is never a key.
 *
 * The table stores string bytes in one growing buffer and entries in one
 * array: no allocation per row. It holds at most SL_VTAB_MAX distinct
 * values (SL_ELIMIT beyond).
 */
#ifndef SL_VALUE_TABLE_H
#define SL_VALUE_TABLE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/batch.h"
#include "sluice/error.h"
#include "sluice/value.h"

#define SL_VTAB_MAX (1 << 24)

typedef struct sl_vkey {
    int64_t i;
    const char *s; /* SL_STRING only */
    size_t len;
} sl_vkey;

/* 1 and *k filled when row i of c holds a value; 0 when it is missing
 * (null, NaN, or a column of type null). */
static inline int sl_vkey_get(const sl_column *c, int64_t row, sl_vkey *k)
{
    if (!sl_col_valid(c, row))
        return 0;
    switch (c->type) {
    case SL_BOOL:
        k->i = sl_col_bool(c, row);
        return 1;
    case SL_INT64:
    case SL_TIMESTAMP:
        k->i = sl_col_i64(c, row);
        return 1;
    case SL_DATE:
        k->i = sl_col_i32(c, row);
        return 1;
    case SL_FLOAT64: {
        double d = sl_col_f64(c, row);
        if (d != d)
            return 0;
        if (d == 0.0)
            d = 0.0; /* -0.0 and 0.0 are one value */
        memcpy(&k->i, &d, sizeof d);
        return 1;
    }
    case SL_STRING:
        k->s = sl_col_str(c, row, &k->len);
        return 1;
    default:
        return 0;
    }
}

/* Order of values of type t: numbers by value, strings bytewise (= code
 * point order for UTF-8), shorter prefix first. */
int sl_vkey_cmp(sl_type t, const sl_vkey *a, const sl_vkey *b);

/* Text form: bool true/false, numbers/dates/timestamps via value.h
 * formatting (floats shortest round-trip), strings as they are. Returns a
 * pointer to the text (buf or the string's bytes) and sets *len. */
const char *sl_vkey_text(sl_type t, const sl_vkey *k, char *buf,
                         size_t *len);

/* Spark's hash() of a string: Murmur3_x86_32.hashUnsafeBytes with seed 42
 * (its legacy tail handling: each trailing byte is sign-extended and mixed
 * as a separate block). */
int32_t sl_murmur3_spark(const void *data, size_t n, uint32_t seed);
/* pmod(h, m) for m > 0: the non-negative remainder. */
static inline int64_t sl_pmod(int64_t h, int64_t m)
{
    int64_t r = h % m;
    return r < 0 ? r + m : r;
}

/* JSON form of a value of type t: bool true/false, int64 integer, float64
 * number (or "inf"/"-inf"), date/timestamp/string as JSON strings. NULL on
 * allocation failure or a string that is not valid UTF-8. */
json_t *sl_vkey_to_json(sl_type t, const sl_vkey *k);
/* Inverse; string keys point into j. Returns 0, or -1 with a short reason
 * in why ("expected an integer"). */
int sl_vkey_from_json(sl_type t, const json_t *j, sl_vkey *k,
                      const char **why);
/* Parse text (a config value) as type t; string keys point into s.
 * 0 ok, -1 not a value of that type. */
int sl_vkey_parse(sl_type t, const char *s, size_t n, sl_vkey *k);

typedef struct sl_vent {
    int64_t key;   /* numeric value, or offset of the bytes in tab->bytes */
    int64_t len;   /* string length */
    int64_t count;
    uint64_t hash;
} sl_vent;

typedef struct sl_vtab {
    sl_type type;
    int64_t n;          /* entries (ids 0..n-1, in insertion order) */
    int64_t ent_cap;
    sl_vent *ent;
    int64_t nslots;     /* power of two, or 0 */
    int64_t *slots;     /* id + 1, 0 = empty */
    char *bytes;
    size_t nbytes, bytes_cap;
} sl_vtab;

void sl_vtab_init(sl_vtab *t, sl_type type);
void sl_vtab_free(sl_vtab *t);
/* Adds `count` to the value's count, inserting it when new; *id (may be
 * NULL) receives its id. SL_ENOMEM / SL_ELIMIT. */
sl_rc sl_vtab_add(sl_vtab *t, const sl_vkey *k, int64_t count, int64_t *id);
/* Counts every non-missing value of c (whose type must be t->type). */
sl_rc sl_vtab_count_column(sl_vtab *t, const sl_column *c);
/* Id of the value, or -1. */
int64_t sl_vtab_find(const sl_vtab *t, const sl_vkey *k);
void sl_vtab_key(const sl_vtab *t, int64_t id, sl_vkey *k);

enum { SL_VTAB_BY_VALUE = 0, SL_VTAB_BY_COUNT = 1 };
/* *ids = every id sorted by value ascending (SL_VTAB_BY_VALUE) or by count
 * descending then value ascending (SL_VTAB_BY_COUNT); caller sl_free()s. */
sl_rc sl_vtab_sorted(const sl_vtab *t, int by, int64_t **ids);
/* Sorts the given ids of t in place, same orders. */
sl_rc sl_vtab_sort_ids(const sl_vtab *t, int64_t *ids, int64_t n, int by);

#endif
