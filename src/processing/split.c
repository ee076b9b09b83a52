/*
 * split.c: exact-size seeded train/test split by selection sampling.
 *
 * Strata are keyed by the text form of the stratify column (null is its
 * own stratum) in a small open-addressing hash table; the number of strata
 * is bounded (SPLIT_MAX_STRATA) because stratifying on a high-cardinality
 * column is a user error we report rather than a memory blow-up.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/mem.h"
#include "sluice/split.h"
#include "sluice/value.h"

#define SPLIT_MAX_STRATA 65536

typedef struct stratum {
    char *key; /* NULL slot = empty; "\x01null" for null values */
    size_t keylen;
    int64_t n, n_test;       /* counted rows, planned test rows */
    int64_t seen, picked;    /* assignment progress in this pass */
} stratum;

struct sl_split {
    double test;
    uint64_t seed, rng;
    char *stratify;
    stratum *tab;
    size_t cap, used;
    int64_t total, total_test;
    int planned;
};

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform double in [0, 1) with 53 random bits. */
static double next_unit(uint64_t *x)
{
    return (double)(splitmix64(x) >> 11) * (1.0 / 9007199254740992.0);
}

static uint64_t fnv1a(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

sl_rc sl_split_new(double test_fraction, uint64_t seed, const char *stratify,
                   sl_split **out, sl_err *err)
{
    *out = NULL;
    if (!(test_fraction > 0.0 && test_fraction < 1.0))
        return sl_err_set(err, SL_ECONFIG,
                          "split test fraction must be between 0 and 1 "
                          "(exclusive), got %g", test_fraction);
    sl_split *s = sl_calloc(1, sizeof *s);
    if (!s)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    s->test = test_fraction;
    s->seed = seed;
    s->cap = 64;
    s->tab = sl_calloc(s->cap, sizeof(stratum));
    if (!s->tab || (stratify && !(s->stratify = sl_strdup(stratify)))) {
        sl_split_free(s);
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    }
    *out = s;
    return SL_OK;
}

void sl_split_free(sl_split *s)
{
    if (!s)
        return;
    for (size_t i = 0; s->tab && i < s->cap; i++)
        sl_free(s->tab[i].key);
    sl_free(s->tab);
    sl_free(s->stratify);
    sl_free(s);
}

static sl_rc grow(sl_split *s)
{
    size_t ncap = s->cap * 2;
    stratum *nt = sl_calloc(ncap, sizeof(stratum));
    if (!nt)
        return SL_ENOMEM;
    for (size_t i = 0; i < s->cap; i++) {
        if (!s->tab[i].key)
            continue;
        size_t j = fnv1a(s->tab[i].key, s->tab[i].keylen) & (ncap - 1);
        while (nt[j].key)
            j = (j + 1) & (ncap - 1);
        nt[j] = s->tab[i];
    }
    sl_free(s->tab);
    s->tab = nt;
    s->cap = ncap;
    return SL_OK;
}

/* Find or (when create) insert the stratum for key. */
static stratum *lookup(sl_split *s, const char *key, size_t n, int create,
                       sl_err *err)
{
    size_t j = fnv1a(key, n) & (s->cap - 1);
    while (s->tab[j].key) {
        if (s->tab[j].keylen == n && memcmp(s->tab[j].key, key, n) == 0)
            return &s->tab[j];
        j = (j + 1) & (s->cap - 1);
    }
    if (!create) {
        sl_err_set(err, SL_EINTERNAL,
                   "split: a value of '%s' appeared that the counting pass did "
                   "not see; the input changed between passes", s->stratify);
        return NULL;
    }
    if (s->used >= SPLIT_MAX_STRATA) {
        sl_err_set(err, SL_ELIMIT,
                   "split: stratify column '%s' has more than %d distinct "
                   "values; stratify by a categorical column", s->stratify,
                   SPLIT_MAX_STRATA);
        return NULL;
    }
    if ((s->used + 1) * 2 > s->cap) {
        if (grow(s) != SL_OK) {
            sl_err_set(err, SL_ENOMEM, "out of memory");
            return NULL;
        }
        return lookup(s, key, n, create, err);
    }
    char *k = sl_strndup(key, n);
    if (!k) {
        sl_err_set(err, SL_ENOMEM, "out of memory");
        return NULL;
    }
    s->tab[j].key = k;
    s->tab[j].keylen = n;
    s->used++;
    return &s->tab[j];
}

/* Text key of row i of the stratify column. */
static size_t row_key(const sl_column *c, int64_t i, char *buf,
                      const char **key)
{
    *key = buf;
    if (!sl_col_valid(c, i)) {
        memcpy(buf, "\x01null", 5);
        return 5;
    }
    switch (c->type) {
    case SL_STRING: {
        size_t n;
        *key = sl_col_str(c, i, &n);
        return n;
    }
    case SL_BOOL:
        buf[0] = sl_col_bool(c, i) ? '1' : '0';
        return 1;
    case SL_FLOAT64:
        return (size_t)sl_format_float64(sl_col_f64(c, i), buf);
    case SL_DATE:
        return (size_t)sl_format_int64(sl_col_i32(c, i), buf);
    default:
        return (size_t)sl_format_int64(sl_col_i64(c, i), buf);
    }
}

static sl_rc stratify_col(const sl_split *s, const sl_batch *b,
                          const sl_column **c, sl_err *err)
{
    *c = NULL;
    if (!s->stratify)
        return SL_OK;
    int idx = sl_batch_find(b, s->stratify);
    if (idx < 0)
        return sl_err_set(err, SL_ENOTFOUND,
                          "split: stratify column '%s' not found in the source",
                          s->stratify);
    *c = b->cols[idx];
    return SL_OK;
}

sl_rc sl_split_count(sl_split *s, const sl_batch *b, sl_err *err)
{
    const sl_column *c;
    sl_rc rc = stratify_col(s, b, &c, err);
    if (rc != SL_OK)
        return rc;
    char buf[SL_FMT_MAX + 8];
    const char *key;
    if (!c) {
        stratum *st = lookup(s, "", 0, 1, err);
        if (!st)
            return err ? err->code : SL_ENOMEM;
        st->n += b->nrows;
    } else {
        for (int64_t i = 0; i < b->nrows; i++) {
            size_t n = row_key(c, i, buf, &key);
            stratum *st = lookup(s, key, n, 1, err);
            if (!st)
                return err ? err->code : SL_ENOMEM;
            st->n++;
        }
    }
    s->total += b->nrows;
    return SL_OK;
}

typedef struct {
    stratum *st;
    double rem;
} alloc_item;

static int by_remainder(const void *a, const void *b)
{
    const alloc_item *x = a, *y = b;
    if (x->rem != y->rem)
        return x->rem < y->rem ? 1 : -1;
    /* Ties broken by key so the plan does not depend on hash order. */
    size_t n = x->st->keylen < y->st->keylen ? x->st->keylen : y->st->keylen;
    int c = memcmp(x->st->key, y->st->key, n);
    if (c)
        return c;
    return x->st->keylen < y->st->keylen ? -1 : x->st->keylen > y->st->keylen;
}

sl_rc sl_split_plan(sl_split *s, sl_err *err)
{
    s->total_test = (int64_t)ceil(s->test * (double)s->total - 1e-9);
    if (s->total > 0 && (s->total_test == 0 || s->total_test == s->total))
        return sl_err_set(err, SL_ECONFIG,
                          "split: %lld rows cannot be split with test fraction "
                          "%g (one side would be empty)",
                          (long long)s->total, s->test);
    alloc_item *items = sl_calloc(s->used ? s->used : 1, sizeof *items);
    if (!items)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    size_t k = 0;
    int64_t assigned = 0;
    for (size_t i = 0; i < s->cap; i++) {
        if (!s->tab[i].key)
            continue;
        double exact = s->test * (double)s->tab[i].n;
        s->tab[i].n_test = (int64_t)floor(exact);
        assigned += s->tab[i].n_test;
        items[k].st = &s->tab[i];
        items[k].rem = exact - floor(exact);
        k++;
    }
    qsort(items, k, sizeof *items, by_remainder);
    for (size_t i = 0; assigned < s->total_test && k > 0; i = (i + 1) % k) {
        if (items[i].st->n_test < items[i].st->n) {
            items[i].st->n_test++;
            assigned++;
        }
    }
    sl_free(items);
    s->planned = 1;
    sl_split_reset(s);
    return SL_OK;
}

void sl_split_reset(sl_split *s)
{
    s->rng = s->seed;
    for (size_t i = 0; i < s->cap; i++) {
        s->tab[i].seen = 0;
        s->tab[i].picked = 0;
    }
}

sl_rc sl_split_assign(sl_split *s, const sl_batch *b, uint8_t *mask,
                      sl_err *err)
{
    if (!s->planned)
        return sl_err_set(err, SL_EINTERNAL, "split: assign before plan");
    const sl_column *c;
    sl_rc rc = stratify_col(s, b, &c, err);
    if (rc != SL_OK)
        return rc;
    char buf[SL_FMT_MAX + 8];
    const char *key = "";
    size_t n = 0;
    stratum *st = c ? NULL : lookup(s, "", 0, 0, err);
    for (int64_t i = 0; i < b->nrows; i++) {
        if (c) {
            n = row_key(c, i, buf, &key);
            st = lookup(s, key, n, 0, err);
        }
        if (!st || st->seen >= st->n)
            return sl_err_set(err, SL_EINTERNAL,
                              "split: more rows than the counting pass saw; "
                              "the input changed between passes");
        /* Algorithm S: pick with probability needed / remaining. */
        int64_t remaining = st->n - st->seen, needed = st->n_test - st->picked;
        int pick = (double)remaining * next_unit(&s->rng) < (double)needed;
        mask[i] = (uint8_t)pick;
        st->picked += pick;
        st->seen++;
    }
    return SL_OK;
}

int64_t sl_split_total(const sl_split *s)
{
    return s->total;
}

int64_t sl_split_test_total(const sl_split *s)
{
    return s->total_test;
}
