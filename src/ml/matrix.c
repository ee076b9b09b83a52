/*
 * matrix.c: batches -> dense column-major float matrix + label vector.
 *
 * The builder appends each batch's feature values into one block of
 * `cap` rows per column (column j at x + j * cap), growing by doubling; at
 * finish the columns are moved down to stride nrows, in place. Labels are
 * first given provisional ids in first-seen order through a small hash
 * table of the distinct values; finish sorts the distinct values like
 * LabelEncoder and remaps the ids.
 *
 * Data problems (nulls, NaN/inf, null labels) are counted over all batches
 * and reported at finish, so the message gives the total number of rows
 * to fix rather than stopping at the first batch.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sluice/matrix.h"
#include "sluice/mem.h"

#define SL_MAX_CLASSES 4096

const char *sl_task_name(sl_task t)
{
    switch (t) {
    case SL_TASK_CLASSIFICATION:
        return "classification";
    case SL_TASK_REGRESSION:
        return "regression";
    default:
        return "none";
    }
}

sl_rc sl_task_parse(const char *s, sl_task *out, sl_err *err)
{
    if (s && (strcasecmp(s, "classification") == 0 ||
              strcasecmp(s, "classifier") == 0)) {
        *out = SL_TASK_CLASSIFICATION;
        return SL_OK;
    }
    if (s && (strcasecmp(s, "regression") == 0 ||
              strcasecmp(s, "regressor") == 0)) {
        *out = SL_TASK_REGRESSION;
        return SL_OK;
    }
    return sl_err_set(err, SL_EINVAL,
                      "unknown task '%s' (expected classification or "
                      "regression)",
                      s ? s : "(null)");
}

void sl_labels_clear(sl_labels *l)
{
    if (!l)
        return;
    for (int i = 0; l->names && i < l->n; i++)
        sl_free(l->names[i]);
    sl_free(l->names);
    sl_free(l->ints);
    memset(l, 0, sizeof *l);
}

sl_rc sl_labels_copy(sl_labels *dst, const sl_labels *src)
{
    sl_labels t = {.type = src->type, .n = src->n};
    t.names = sl_calloc((size_t)src->n + 1, sizeof *t.names);
    if (!t.names)
        goto fail;
    for (int i = 0; i < src->n; i++)
        if (!(t.names[i] = sl_strdup(src->names[i])))
            goto fail;
    if (src->ints) {
        t.ints = sl_malloc(((size_t)src->n + 1) * sizeof *t.ints);
        if (!t.ints)
            goto fail;
        memcpy(t.ints, src->ints, (size_t)src->n * sizeof *t.ints);
    }
    *dst = t;
    return SL_OK;
fail:
    sl_labels_clear(&t);
    return SL_ENOMEM;
}

int sl_labels_find(const sl_labels *l, const char *name)
{
    for (int i = 0; i < l->n; i++)
        if (strcmp(l->names[i], name) == 0)
            return i;
    return -1;
}

/* ---- distinct label table ---- */
typedef struct label_table {
    sl_type type;
    int n;                 /* distinct values */
    size_t dcap;
    char **names;          /* SL_STRING: distinct texts */
    int64_t *ints;         /* SL_INT64 / SL_BOOL: distinct values */
    int32_t *slots;        /* hash slots: provisional id + 1, 0 = empty */
    size_t nslots;
} label_table;

static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 1099511628211ULL;
    return h;
}

static uint64_t hash_int(int64_t v)
{
    uint64_t x = (uint64_t)v * 0x9e3779b97f4a7c15ULL;
    return x ^ (x >> 29);
}

static int lt_equal(const label_table *t, int32_t id, const char *s, size_t n,
                    int64_t v)
{
    if (t->type == SL_STRING)
        return strlen(t->names[id]) == n && memcmp(t->names[id], s, n) == 0;
    return t->ints[id] == v;
}

static sl_rc lt_rehash(label_table *t)
{
    size_t ns = t->nslots ? t->nslots * 2 : 64;
    int32_t *slots = sl_calloc(ns, sizeof *slots);
    if (!slots)
        return SL_ENOMEM;
    for (int id = 0; id < t->n; id++) {
        uint64_t h = t->type == SL_STRING
                         ? hash_bytes(t->names[id], strlen(t->names[id]))
                         : hash_int(t->ints[id]);
        size_t k = h & (ns - 1);
        while (slots[k])
            k = (k + 1) & (ns - 1);
        slots[k] = id + 1;
    }
    sl_free(t->slots);
    t->slots = slots;
    t->nslots = ns;
    return SL_OK;
}

/* Provisional id of a label (added when new); -1 on allocation failure,
 * -2 when there are too many classes. */
static int32_t lt_id(label_table *t, const char *s, size_t n, int64_t v)
{
    if ((size_t)(t->n + 1) * 2 > t->nslots && lt_rehash(t) != SL_OK)
        return -1;
    uint64_t h = t->type == SL_STRING ? hash_bytes(s, n) : hash_int(v);
    size_t k = h & (t->nslots - 1);
    while (t->slots[k]) {
        if (lt_equal(t, t->slots[k] - 1, s, n, v))
            return t->slots[k] - 1;
        k = (k + 1) & (t->nslots - 1);
    }
    if (t->n >= SL_MAX_CLASSES)
        return -2;
    if ((size_t)t->n >= t->dcap) {
        size_t c1 = t->dcap, c2 = t->dcap;
        void *a = t->names, *b = t->ints;
        if (sl_grow(&a, &c1, (size_t)t->n + 1, sizeof(char *)) != 0)
            return -1;
        t->names = a;
        if (sl_grow(&b, &c2, (size_t)t->n + 1, sizeof(int64_t)) != 0)
            return -1;
        t->ints = b;
        t->dcap = c1 < c2 ? c1 : c2;
    }
    t->names[t->n] = NULL;
    t->ints[t->n] = v;
    if (t->type == SL_STRING && !(t->names[t->n] = sl_strndup(s, n)))
        return -1;
    t->slots[k] = t->n + 1;
    return t->n++;
}

static void lt_free(label_table *t)
{
    for (int i = 0; t->names && i < t->n; i++)
        sl_free(t->names[i]);
    sl_free(t->names);
    sl_free(t->ints);
    sl_free(t->slots);
}

/* ---- builder ---- */
struct sl_matrix_builder {
    char *target;
    sl_task task;
    int all_features;  /* spec.features == NULL */
    int ncols;
    char **names;
    sl_type *ftypes;   /* fixed by the first batch */
    sl_type ltype;
    int started;
    int allocated;     /* x / y / yv hold cap rows */
    int *idx;          /* per-batch column indices (ncols) */
    float *x;
    int64_t cap, nrows;
    int32_t *y;
    double *yv;
    int64_t *nulls, *nonfinite; /* per feature */
    int64_t label_nulls, label_nonfinite;
    label_table lt;
    sl_labels fixed;   /* from spec.classes, n == 0 when not given */
    char bad_label[128];
};

void sl_matrix_builder_free(sl_matrix_builder *b)
{
    if (!b)
        return;
    sl_free(b->target);
    for (int j = 0; b->names && j < b->ncols; j++)
        sl_free(b->names[j]);
    sl_free(b->names);
    sl_free(b->ftypes);
    sl_free(b->idx);
    sl_free(b->x);
    sl_free(b->y);
    sl_free(b->yv);
    sl_free(b->nulls);
    sl_free(b->nonfinite);
    lt_free(&b->lt);
    sl_labels_clear(&b->fixed);
    sl_free(b);
}

sl_rc sl_matrix_builder_new(const sl_matrix_spec *spec,
                            sl_matrix_builder **out, sl_err *err)
{
    sl_rc rc = SL_ENOMEM;
    sl_matrix_builder *b = sl_calloc(1, sizeof *b);
    *out = NULL;
    if (!b)
        goto out;
    b->task = spec->task;
    b->cap = spec->expected_rows > 0 ? spec->expected_rows : 0;
    if (spec->target && !(b->target = sl_strdup(spec->target)))
        goto out;
    if (!spec->target && spec->task != SL_TASK_NONE) {
        rc = sl_err_set(err, SL_EINVAL, "a %s matrix needs a target column",
                        sl_task_name(spec->task));
        goto out;
    }
    if (spec->classes && spec->classes->n > 0 &&
        sl_labels_copy(&b->fixed, spec->classes) != SL_OK)
        goto out;
    b->all_features = spec->features == NULL;
    if (!b->all_features) {
        b->ncols = spec->nfeatures;
        b->names = sl_calloc((size_t)b->ncols + 1, sizeof *b->names);
        if (!b->names)
            goto out;
        for (int j = 0; j < b->ncols; j++) {
            if (!(b->names[j] = sl_strdup(spec->features[j])))
                goto out;
            if (b->target && strcmp(b->names[j], b->target) == 0) {
                rc = sl_err_set(err, SL_EINVAL,
                                "column '%s' is both the target and a "
                                "feature",
                                b->target);
                sl_err_field(err, b->target);
                goto out;
            }
        }
    }
    rc = SL_OK;
out:
    if (rc == SL_OK)
        *out = b;
    else
        sl_matrix_builder_free(b);
    if (rc == SL_ENOMEM)
        sl_err_set(err, rc, "out of memory");
    return rc;
}

static const char *type_hint(sl_type t)
{
    switch (t) {
    case SL_STRING:
        return "encode it with the onehot or vocabulary transform (or hash "
               "it), or drop it";
    case SL_DATE:
    case SL_TIMESTAMP:
        return "derive numeric parts from it (e.g. derive: {m: \"month(x)\"})"
               " or drop it";
    default:
        return "cast it to a numeric type or drop it";
    }
}

/* First batch: fix the feature list (when taken from the batch), types and
 * the label type/task. */
static sl_rc start(sl_matrix_builder *b, const sl_batch *batch, sl_err *err)
{
    const sl_schema *s = batch->schema;
    if (b->target && sl_schema_find(s, b->target) < 0) {
        sl_err_set(err, SL_ENOTFOUND, "target column '%s' not found",
                   b->target);
        sl_err_field(err, b->target);
        return SL_ENOTFOUND;
    }
    if (b->all_features) {
        b->names = sl_calloc((size_t)s->n + 1, sizeof *b->names);
        if (!b->names)
            return sl_err_set(err, SL_ENOMEM, "out of memory");
        for (int j = 0; j < s->n; j++) {
            if (b->target && strcmp(s->fields[j].name, b->target) == 0)
                continue;
            if (!(b->names[b->ncols] = sl_strdup(s->fields[j].name)))
                return sl_err_set(err, SL_ENOMEM, "out of memory");
            b->ncols++;
        }
    }
    b->ftypes = sl_calloc((size_t)b->ncols + 1, sizeof *b->ftypes);
    b->idx = sl_calloc((size_t)b->ncols + 1, sizeof *b->idx);
    b->nulls = sl_calloc((size_t)b->ncols + 1, sizeof *b->nulls);
    b->nonfinite = sl_calloc((size_t)b->ncols + 1, sizeof *b->nonfinite);
    if (!b->ftypes || !b->idx || !b->nulls || !b->nonfinite)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    for (int j = 0; j < b->ncols; j++) {
        int c = sl_schema_find(s, b->names[j]);
        if (c < 0) {
            sl_err_set(err, SL_ENOTFOUND, "feature column '%s' not found",
                       b->names[j]);
            sl_err_field(err, b->names[j]);
            return SL_ENOTFOUND;
        }
        sl_type t = s->fields[c].type;
        if (!sl_type_is_numeric(t)) {
            sl_err_set(err, SL_ESCHEMA,
                       "feature column '%s' is %s; models take numeric "
                       "features (bool, int64, float64): %s",
                       b->names[j], sl_type_name(t), type_hint(t));
            sl_err_field(err, b->names[j]);
            return SL_ESCHEMA;
        }
        b->ftypes[j] = t;
    }
    if (b->target) {
        sl_type t = s->fields[sl_schema_find(s, b->target)].type;
        if (b->task == SL_TASK_NONE)
            b->task = t == SL_FLOAT64 ? SL_TASK_REGRESSION
                                      : SL_TASK_CLASSIFICATION;
        int ok = b->task == SL_TASK_CLASSIFICATION
                     ? (t == SL_STRING || t == SL_INT64 || t == SL_BOOL)
                     : sl_type_is_numeric(t);
        if (!ok) {
            sl_err_set(err, SL_ESCHEMA,
                       "target column '%s' is %s, which cannot be a %s "
                       "target (%s)",
                       b->target, sl_type_name(t), sl_task_name(b->task),
                       b->task == SL_TASK_CLASSIFICATION
                           ? "classification takes string, int64 or bool "
                             "labels; use task regression or cast it"
                           : "regression takes a numeric target");
            sl_err_field(err, b->target);
            return SL_ESCHEMA;
        }
        if (b->task == SL_TASK_CLASSIFICATION && b->fixed.n > 0 &&
            b->fixed.type != t) {
            sl_err_set(err, SL_ESCHEMA,
                       "target column '%s' is %s but the model's labels are "
                       "%s",
                       b->target, sl_type_name(t),
                       sl_type_name(b->fixed.type));
            sl_err_field(err, b->target);
            return SL_ESCHEMA;
        }
        b->ltype = t;
        b->lt.type = t;
    }
    b->started = 1;
    return SL_OK;
}

static sl_rc grow(sl_matrix_builder *b, int64_t need, sl_err *err)
{
    if (b->allocated && need <= b->cap)
        return SL_OK;
    int64_t cap = b->allocated ? b->cap * 2 : (b->cap > 0 ? b->cap : 1024);
    while (cap < need)
        cap *= 2;
    if ((uint64_t)cap * (uint64_t)(b->ncols + 1) > (SIZE_MAX / 8))
        return sl_err_set(err, SL_ELIMIT, "matrix too large");
    float *x = sl_malloc((size_t)cap * (size_t)b->ncols * sizeof *x);
    if (!x && b->ncols > 0)
        return sl_err_set(err, SL_ENOMEM, "out of memory (matrix of %lld "
                          "rows x %d features)", (long long)cap, b->ncols);
    for (int j = 0; x && j < b->ncols && b->nrows > 0; j++)
        memcpy(x + (size_t)j * (size_t)cap, b->x + (size_t)j * (size_t)b->cap,
               (size_t)b->nrows * sizeof *x);
    if (b->task == SL_TASK_CLASSIFICATION) {
        int32_t *y = sl_realloc(b->y, (size_t)cap * sizeof *y);
        if (!y) {
            sl_free(x);
            return sl_err_set(err, SL_ENOMEM, "out of memory");
        }
        b->y = y;
    } else if (b->task == SL_TASK_REGRESSION) {
        double *yv = sl_realloc(b->yv, (size_t)cap * sizeof *yv);
        if (!yv) {
            sl_free(x);
            return sl_err_set(err, SL_ENOMEM, "out of memory");
        }
        b->yv = yv;
    }
    sl_free(b->x);
    b->x = x;
    b->cap = cap;
    b->allocated = 1;
    return SL_OK;
}

static void add_feature(sl_matrix_builder *b, int j, const sl_column *c,
                        int64_t n)
{
    float *dst = b->x + (size_t)j * (size_t)b->cap + (size_t)b->nrows;
    for (int64_t i = 0; i < n; i++) {
        double v = 0;
        if (!sl_col_valid(c, i)) {
            b->nulls[j]++;
        } else if (c->type == SL_FLOAT64) {
            v = sl_col_f64(c, i);
            if (!isfinite(v) || fabs(v) > 3.4e38) {
                b->nonfinite[j]++;
                v = 0;
            }
        } else if (c->type == SL_INT64) {
            v = (double)sl_col_i64(c, i);
        } else {
            v = sl_col_bool(c, i);
        }
        dst[i] = (float)v;
    }
}

static sl_rc add_labels(sl_matrix_builder *b, const sl_column *c, int64_t n,
                        sl_err *err)
{
    for (int64_t i = 0; i < n; i++) {
        int64_t row = b->nrows + i;
        if (!sl_col_valid(c, i)) {
            b->label_nulls++;
            if (b->y)
                b->y[row] = 0;
            if (b->yv)
                b->yv[row] = 0;
            continue;
        }
        if (b->task == SL_TASK_REGRESSION) {
            double v = c->type == SL_FLOAT64  ? sl_col_f64(c, i)
                       : c->type == SL_INT64 ? (double)sl_col_i64(c, i)
                                              : sl_col_bool(c, i);
            if (!isfinite(v)) {
                b->label_nonfinite++;
                v = 0;
            }
            b->yv[row] = v;
            continue;
        }
        const char *s = NULL;
        size_t len = 0;
        int64_t v = 0;
        char tmp[32];
        if (c->type == SL_STRING)
            s = sl_col_str(c, i, &len);
        else
            v = c->type == SL_INT64 ? sl_col_i64(c, i) : sl_col_bool(c, i);
        if (b->fixed.n > 0) {
            if (!s) {
                if (c->type == SL_BOOL)
                    snprintf(tmp, sizeof tmp, "%s", v ? "true" : "false");
                else
                    snprintf(tmp, sizeof tmp, "%lld", (long long)v);
                s = tmp;
                len = strlen(tmp);
            }
            int k = -1;
            for (int q = 0; q < b->fixed.n && k < 0; q++)
                if (strlen(b->fixed.names[q]) == len &&
                    memcmp(b->fixed.names[q], s, len) == 0)
                    k = q;
            if (k < 0) {
                sl_err_set(err, SL_ESCHEMA,
                           "target column '%s': label '%.*s' (row %lld) was "
                           "not seen in training",
                           b->target, (int)(len > 64 ? 64 : len), s,
                           (long long)row + 1);
                sl_err_field(err, b->target);
                return SL_ESCHEMA;
            }
            b->y[row] = k;
            continue;
        }
        int32_t id = lt_id(&b->lt, s, len, v);
        if (id == -2) {
            sl_err_set(err, SL_ELIMIT,
                       "target column '%s' has more than %d distinct labels; "
                       "is it a regression target (task: regression)?",
                       b->target, SL_MAX_CLASSES);
            sl_err_field(err, b->target);
            return SL_ELIMIT;
        }
        if (id < 0)
            return sl_err_set(err, SL_ENOMEM, "out of memory");
        b->y[row] = id;
    }
    return SL_OK;
}

sl_rc sl_matrix_builder_add(sl_matrix_builder *b, const sl_batch *batch,
                            sl_err *err)
{
    sl_rc rc;
    if (!b->started && (rc = start(b, batch, err)) != SL_OK)
        return rc;
    int64_t n = batch->nrows;
    if (n == 0)
        return SL_OK;
    if (b->nrows + n < b->nrows)
        return sl_err_set(err, SL_ELIMIT, "too many rows");
    for (int j = 0; j < b->ncols; j++) {
        int c = sl_batch_find(batch, b->names[j]);
        if (c < 0 || batch->cols[c]->type != b->ftypes[j]) {
            sl_err_set(err, SL_ESCHEMA,
                       c < 0 ? "feature column '%s' missing from a later batch"
                             : "feature column '%s' changed type between "
                               "batches",
                       b->names[j]);
            sl_err_field(err, b->names[j]);
            return SL_ESCHEMA;
        }
        b->idx[j] = c;
    }
    int lc = -1;
    if (b->target) {
        lc = sl_batch_find(batch, b->target);
        if (lc < 0 || batch->cols[lc]->type != b->ltype) {
            sl_err_set(err, SL_ESCHEMA,
                       "target column '%s' missing or retyped in a later "
                       "batch",
                       b->target);
            sl_err_field(err, b->target);
            return SL_ESCHEMA;
        }
    }
    if ((rc = grow(b, b->nrows + n, err)) != SL_OK)
        return rc;
    for (int j = 0; j < b->ncols; j++)
        add_feature(b, j, batch->cols[b->idx[j]], n);
    if (lc >= 0 && (rc = add_labels(b, batch->cols[lc], n, err)) != SL_OK)
        return rc;
    b->nrows += n;
    return SL_OK;
}

/* Sorting the distinct labels: qsort with a context through a file-scope
 * pointer is not thread-safe, so sort an array of (value, id) records. */
typedef struct lrec {
    const char *s;
    int64_t v;
    int32_t id;
} lrec;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(((const lrec *)a)->s, ((const lrec *)b)->s);
}

static int cmp_int(const void *a, const void *b)
{
    int64_t x = ((const lrec *)a)->v, y = ((const lrec *)b)->v;
    return (x > y) - (x < y);
}

static sl_rc finish_classes(sl_matrix_builder *b, sl_matrix *m)
{
    if (b->fixed.n > 0) {
        m->classes = b->fixed;
        memset(&b->fixed, 0, sizeof b->fixed);
        return SL_OK;
    }
    label_table *t = &b->lt;
    int n = t->n;
    lrec *r = sl_calloc((size_t)n + 1, sizeof *r);
    int32_t *remap = sl_calloc((size_t)n + 1, sizeof *remap);
    sl_labels L = {.type = b->ltype, .n = n};
    L.names = sl_calloc((size_t)n + 1, sizeof *L.names);
    if (b->ltype != SL_STRING)
        L.ints = sl_calloc((size_t)n + 1, sizeof *L.ints);
    sl_rc rc = SL_ENOMEM;
    if (!r || !remap || !L.names || (b->ltype != SL_STRING && !L.ints))
        goto out;
    for (int i = 0; i < n; i++)
        r[i] = (lrec){t->names ? t->names[i] : NULL, t->ints[i], i};
    qsort(r, (size_t)n, sizeof *r, b->ltype == SL_STRING ? cmp_str : cmp_int);
    for (int k = 0; k < n; k++) {
        char tmp[32];
        remap[r[k].id] = k;
        if (b->ltype == SL_STRING) {
            L.names[k] = sl_strdup(r[k].s);
        } else {
            L.ints[k] = r[k].v;
            if (b->ltype == SL_BOOL)
                snprintf(tmp, sizeof tmp, "%s", r[k].v ? "true" : "false");
            else
                snprintf(tmp, sizeof tmp, "%lld", (long long)r[k].v);
            L.names[k] = sl_strdup(tmp);
        }
        if (!L.names[k])
            goto out;
    }
    for (int64_t i = 0; i < b->nrows; i++)
        b->y[i] = remap[b->y[i]];
    m->classes = L;
    memset(&L, 0, sizeof L);
    rc = SL_OK;
out:
    sl_labels_clear(&L);
    sl_free(r);
    sl_free(remap);
    return rc;
}

static sl_rc check_data(const sl_matrix_builder *b, sl_err *err)
{
    for (int j = 0; j < b->ncols; j++) {
        if (b->nulls[j] == 0 && b->nonfinite[j] == 0)
            continue;
        if (b->nulls[j])
            sl_err_set(err, SL_ESCHEMA,
                       "feature column '%s' has %lld null value%s in %lld "
                       "rows; fill them with the impute transform (e.g. "
                       "impute: {columns: [%s], strategy: median}) or drop "
                       "those rows",
                       b->names[j], (long long)b->nulls[j],
                       b->nulls[j] == 1 ? "" : "s", (long long)b->nrows,
                       b->names[j]);
        else
            sl_err_set(err, SL_ESCHEMA,
                       "feature column '%s' has %lld NaN or infinite "
                       "value%s in %lld rows; replace them (impute) or "
                       "filter those rows",
                       b->names[j], (long long)b->nonfinite[j],
                       b->nonfinite[j] == 1 ? "" : "s", (long long)b->nrows);
        sl_err_field(err, b->names[j]);
        return SL_ESCHEMA;
    }
    if (b->label_nulls || b->label_nonfinite) {
        sl_err_set(err, SL_ESCHEMA,
                   "target column '%s' has %lld %s value%s in %lld rows; "
                   "drop those rows (filter: \"%s is not null\")",
                   b->target,
                   (long long)(b->label_nulls + b->label_nonfinite),
                   b->label_nulls ? "null" : "NaN or infinite",
                   b->label_nulls + b->label_nonfinite == 1 ? "" : "s",
                   (long long)b->nrows, b->target);
        sl_err_field(err, b->target);
        return SL_ESCHEMA;
    }
    return SL_OK;
}

sl_rc sl_matrix_builder_finish(sl_matrix_builder *b, sl_matrix **out,
                               sl_err *err)
{
    sl_rc rc = SL_ENOMEM;
    sl_matrix *m = NULL;
    *out = NULL;
    if (!b->started) {
        rc = sl_err_set(err, SL_EINVAL, "no data: the matrix has no rows");
        goto out;
    }
    if ((rc = check_data(b, err)) != SL_OK)
        goto out;
    if (b->nrows == 0) {
        rc = sl_err_set(err, SL_EINVAL, "no data: the matrix has no rows");
        goto out;
    }
    rc = SL_ENOMEM;
    if (!(m = sl_calloc(1, sizeof *m)))
        goto out;
    /* compact column j from stride cap to stride nrows; moving down in
     * increasing j never overwrites a column not yet moved */
    for (int j = 1; b->x && j < b->ncols && b->cap != b->nrows; j++)
        memmove(b->x + (size_t)j * (size_t)b->nrows,
                b->x + (size_t)j * (size_t)b->cap,
                (size_t)b->nrows * sizeof *b->x);
    m->nrows = b->nrows;
    m->ncols = b->ncols;
    m->task = b->task;
    if (b->task == SL_TASK_CLASSIFICATION &&
        finish_classes(b, m) != SL_OK)
        goto out;
    m->x = b->x;
    b->x = NULL;
    if (m->ncols > 0) { /* shrink; keep the block if realloc fails */
        float *s = sl_realloc(m->x, (size_t)m->nrows * (size_t)m->ncols *
                                        sizeof *m->x);
        if (s)
            m->x = s;
    }
    m->names = b->names;
    b->names = NULL;
    m->target = b->target;
    b->target = NULL;
    m->y = b->y;
    b->y = NULL;
    m->yv = b->yv;
    b->yv = NULL;
    rc = SL_OK;
out:
    if (rc == SL_ENOMEM)
        sl_err_set(err, rc, "out of memory");
    if (rc != SL_OK)
        sl_matrix_free(m);
    else
        *out = m;
    sl_matrix_builder_free(b);
    return rc;
}

sl_rc sl_matrix_from_batches(const sl_batch *const *batches, int n,
                             const sl_matrix_spec *spec, sl_matrix **out,
                             sl_err *err)
{
    sl_matrix_builder *b;
    sl_rc rc = sl_matrix_builder_new(spec, &b, err);
    *out = NULL;
    if (rc != SL_OK)
        return rc;
    for (int i = 0; i < n; i++) {
        if ((rc = sl_matrix_builder_add(b, batches[i], err)) != SL_OK) {
            sl_matrix_builder_free(b);
            return rc;
        }
    }
    return sl_matrix_builder_finish(b, out, err);
}

void sl_matrix_free(sl_matrix *m)
{
    if (!m)
        return;
    sl_free(m->x);
    for (int j = 0; m->names && j < m->ncols; j++)
        sl_free(m->names[j]);
    sl_free(m->names);
    sl_free(m->target);
    sl_free(m->y);
    sl_free(m->yv);
    sl_labels_clear(&m->classes);
    sl_free(m);
}

sl_rc sl_matrix_take(const sl_matrix *m, const int64_t *rows, int64_t n,
                     sl_matrix **out, sl_err *err)
{
    sl_rc rc = SL_ENOMEM;
    sl_matrix *t = sl_calloc(1, sizeof *t);
    *out = NULL;
    if (!t)
        goto out;
    t->nrows = n;
    t->ncols = m->ncols;
    t->task = m->task;
    t->x = sl_malloc((size_t)(n ? n : 1) * (size_t)(m->ncols ? m->ncols : 1) *
                     sizeof *t->x);
    t->names = sl_calloc((size_t)m->ncols + 1, sizeof *t->names);
    if (!t->x || !t->names)
        goto out;
    for (int j = 0; j < m->ncols; j++)
        if (!(t->names[j] = sl_strdup(m->names[j])))
            goto out;
    if (m->target && !(t->target = sl_strdup(m->target)))
        goto out;
    for (int j = 0; j < m->ncols; j++) {
        const float *src = m->x + (size_t)j * (size_t)m->nrows;
        float *dst = t->x + (size_t)j * (size_t)n;
        for (int64_t i = 0; i < n; i++)
            dst[i] = src[rows[i]];
    }
    if (m->y) {
        if (!(t->y = sl_malloc((size_t)(n ? n : 1) * sizeof *t->y)))
            goto out;
        for (int64_t i = 0; i < n; i++)
            t->y[i] = m->y[rows[i]];
    }
    if (m->yv) {
        if (!(t->yv = sl_malloc((size_t)(n ? n : 1) * sizeof *t->yv)))
            goto out;
        for (int64_t i = 0; i < n; i++)
            t->yv[i] = m->yv[rows[i]];
    }
    if (m->classes.n > 0 && sl_labels_copy(&t->classes, &m->classes) != SL_OK)
        goto out;
    rc = SL_OK;
out:
    if (rc != SL_OK) {
        sl_err_set(err, rc, "out of memory");
        sl_matrix_free(t);
    } else {
        *out = t;
    }
    return rc;
}
