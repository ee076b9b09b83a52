/*
 * categorical.c: encoders of categorical columns.
 *
 *   onehot      (stateful) one int64 0/1 column per training category,
 *               named <col>_<value>, in sorted value order (sklearn's
 *               OneHotEncoder categories_), inserted where the column was.
 *               Beyond max_categories the most frequent are kept (ties by
 *               value) and the rest go to <col>__other when other_bucket
 *               is set. Null/NaN and unknown values encode as all zeros
 *               (handle_unknown: ignore) or fail (handle_unknown: error).
 *   vocabulary  (stateful) value -> int64 index into the training
 *               vocabulary ordered by frequency desc, then value asc
 *               (tf.Transform compute_and_apply_vocabulary); unknown values
 *               -> V + pmod(hash, oov_buckets) (or -1 when oov_buckets is
 *               0); null stays null.
 *   hash        (stateless) pmod(murmur3(text, seed 42), buckets), Spark's
 *               hash() of the value's text form; null stays null.
 *
 * "Text form" is the value as sluice prints it (value.h): strings as they
 * are, integers in decimal, floats in shortest round-trip form ("1.0",
 * "0.1"), bool true/false, dates YYYY-MM-DD, timestamps
 * YYYY-MM-DDTHH:MM:SS[.ffffff]Z. NaN is missing, like null.
 *
 * State (onehot and vocabulary): {"columns": {"<col>": {"type": "<type>",
 * "categories" | "vocabulary": [values in order]}}}.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "processing/transform_util.h"
#include "processing/value_table.h"
#include "sluice/mem.h"
#include "sluice/plugin.h"

#define HASH_SEED 42u
/* Most columns an onehot output schema may have. */
#define ONEHOT_MAX_COLUMNS 65536

/* Hash of a present value's text form, reduced into [0, m). */
static inline int64_t hash_bucket(sl_type t, const sl_vkey *k, int64_t m)
{
    char buf[SL_FMT_MAX + 1];
    size_t len;
    const char *txt = sl_vkey_text(t, k, buf, &len);
    return sl_pmod(sl_murmur3_spark(txt, len, HASH_SEED), m);
}

/* ---- shared by onehot and vocabulary ---- */

typedef struct cat_col {
    sl_vtab counts; /* analyze */
    sl_vtab known;  /* fitted: id = output position / index */
} cat_col;

typedef struct cat_inst {
    const char *tname;
    const char *list_key; /* "categories" or "vocabulary" */
    sl_tu_cols cols;
    cat_col *c;
    int *bidx;
    int fitted;
    int nin;
    /* onehot */
    sl_schema *out;
    int *src;      /* per output field: input column, or -1 - onehot index */
    int64_t max_categories;
    int other, unknown_error;
    /* vocabulary */
    int64_t top_k, min_frequency, oov_buckets;
} cat_inst;

static void cat_destroy(void *p)
{
    cat_inst *s = p;
    if (!s)
        return;
    for (int i = 0; s->c && i < s->cols.n; i++) {
        sl_vtab_free(&s->c[i].counts);
        sl_vtab_free(&s->c[i].known);
    }
    sl_free(s->c);
    sl_free(s->bidx);
    sl_free(s->src);
    sl_schema_free(s->out);
    sl_tu_cols_free(&s->cols);
    sl_free(s);
}

static sl_rc cat_new(const char *tname, const char *list_key,
                     const sl_strlist *columns, const sl_ctx *ctx,
                     cat_inst **out, sl_err *err)
{
    *out = NULL;
    cat_inst *s = sl_calloc(1, sizeof *s);
    if (!s)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    s->tname = tname;
    s->list_key = list_key;
    sl_rc rc = sl_tu_cols_init(&s->cols, tname, ctx, columns, sl_tu_is_any,
                               "a column of a non-null type", err);
    if (rc == SL_OK) {
        s->c = sl_calloc((size_t)s->cols.n, sizeof *s->c);
        s->bidx = sl_calloc((size_t)s->cols.n, sizeof *s->bidx);
        if (!s->c || !s->bidx)
            rc = sl_err_set(err, SL_ENOMEM, "out of memory");
    }
    if (rc != SL_OK) {
        cat_destroy(s);
        return rc;
    }
    *out = s;
    return SL_OK;
}

static sl_rc cat_analyze(void *p, const sl_batch *in, sl_err *err)
{
    cat_inst *s = p;
    sl_rc rc = sl_tu_cols_resolve(&s->cols, in->schema, s->bidx, 1, err);
    for (int i = 0; rc == SL_OK && i < s->cols.n; i++) {
        const sl_column *col = in->cols[s->bidx[i]];
        s->c[i].counts.type = col->type;
        rc = sl_vtab_count_column(&s->c[i].counts, col);
        if (rc == SL_ELIMIT)
            rc = sl_tu_col_err(&s->cols, err, i, rc,
                               "has more than %d distinct values",
                               SL_VTAB_MAX);
        else if (rc != SL_OK)
            rc = sl_err_set(err, rc, "%s: out of memory", s->tname);
    }
    return rc;
}

/* known = the counted values of ids[0..n) in that order. */
static sl_rc build_known(cat_col *c, const int64_t *ids, int64_t n)
{
    sl_vtab_free(&c->known);
    sl_vtab_init(&c->known, c->counts.type);
    for (int64_t k = 0; k < n; k++) {
        sl_vkey key;
        sl_vtab_key(&c->counts, ids[k], &key);
        sl_rc rc = sl_vtab_add(&c->known, &key, c->counts.ent[ids[k]].count,
                               NULL);
        if (rc != SL_OK)
            return rc;
    }
    return SL_OK;
}

static sl_rc no_data(cat_inst *s, int i, sl_err *err)
{
    return sl_tu_col_err(&s->cols, err, i, SL_ESCHEMA,
                         "has no non-missing value in the training data; "
                         "%s cannot learn its %s",
                         s->tname, s->list_key);
}

static sl_rc cat_state_save(void *p, json_t **out, sl_err *err)
{
    cat_inst *s = p;
    json_t *state = NULL, *cols;
    *out = NULL;
    if (!s->fitted)
        return sl_err_set(err, SL_EINVAL, "%s: not fitted", s->tname);
    sl_rc rc = sl_tu_state_new(&state, &cols, NULL, NULL, err);
    for (int i = 0; rc == SL_OK && i < s->cols.n; i++) {
        const sl_vtab *t = &s->c[i].known;
        json_t *o = json_object(), *arr = json_array();
        rc = sl_tu_json_set(cols, s->cols.list->items[i], o, err);
        if (rc != SL_OK) {
            json_decref(arr);
            break;
        }
        rc = sl_tu_json_set(o, "type", json_string(sl_type_name(t->type)),
                            err);
        if (rc == SL_OK)
            rc = sl_tu_json_set(o, s->list_key, arr, err);
        else
            json_decref(arr);
        for (int64_t id = 0; rc == SL_OK && id < t->n; id++) {
            sl_vkey k;
            sl_vtab_key(t, id, &k);
            json_t *v = sl_vkey_to_json(t->type, &k);
            if (!v)
                rc = sl_tu_col_err(&s->cols, err, i, SL_EPARSE,
                                   "has a value that cannot be stored as "
                                   "JSON (not valid UTF-8?)");
            else if (json_array_append_new(arr, v) != 0)
                rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        }
    }
    if (rc != SL_OK)
        json_decref(state);
    else
        *out = state;
    return rc;
}

static sl_rc cat_state_load(void *p, const json_t *state, sl_err *err)
{
    cat_inst *s = p;
    const json_t **per = sl_calloc((size_t)s->cols.n, sizeof *per);
    char path[SL_ERR_FIELD_MAX + 32];
    sl_rc rc = per ? sl_tu_state_columns(&s->cols, state, per, err)
                   : sl_err_set(err, SL_ENOMEM, "out of memory");
    for (int i = 0; rc == SL_OK && i < s->cols.n; i++) {
        const json_t *arr;
        cat_col *c = &s->c[i];
        if ((rc = sl_tu_state_type(&s->cols, i, per[i], err)) != SL_OK ||
            (rc = sl_tu_state_member(&s->cols, i, per[i], s->list_key,
                                     JSON_ARRAY, 0, &arr, err)) != SL_OK)
            break;
        sl_vtab_free(&c->known);
        sl_vtab_init(&c->known, s->cols.type[i]);
        for (size_t k = 0; rc == SL_OK && k < json_array_size(arr); k++) {
            sl_vkey key;
            const char *why = "";
            int64_t id;
            snprintf(path, sizeof path, "columns.%s.%s[%zu]",
                     s->cols.list->items[i], s->list_key, k);
            if (sl_vkey_from_json(c->known.type, json_array_get(arr, k), &key,
                                  &why) != 0) {
                rc = sl_tu_state_err(err, s->tname, path, "%s", why);
                break;
            }
            rc = sl_vtab_add(&c->known, &key, 1, &id);
            if (rc != SL_OK)
                rc = sl_err_set(err, rc, "%s: out of memory", s->tname);
            else if (id != (int64_t)k)
                rc = sl_tu_state_err(err, s->tname, path,
                                     "duplicate value");
        }
    }
    if (rc == SL_OK)
        s->fitted = 1;
    sl_free(per);
    return rc;
}

/* ---- onehot ---- */

typedef struct onehot_cfg {
    sl_strlist columns;
    int64_t max_categories;
    int other_bucket;
    int handle_unknown;
} onehot_cfg;

static sl_rc onehot_init(void **inst, void *config, const sl_ctx *ctx,
                         sl_err *err)
{
    const onehot_cfg *cfg = config;
    cat_inst *s;
    sl_rc rc = cat_new("onehot", "categories", &cfg->columns, ctx, &s, err);
    if (rc != SL_OK)
        return rc;
    if (cfg->max_categories < 1) {
        cat_destroy(s);
        return sl_err_setloc(err, SL_ECONFIG, ctx ? ctx->spec_file : NULL, 0,
                             0, "onehot: max_categories must be at least 1, "
                             "got %lld",
                             (long long)cfg->max_categories);
    }
    s->max_categories = cfg->max_categories;
    s->other = cfg->other_bucket;
    s->unknown_error = cfg->handle_unknown == 1;
    *inst = s;
    return SL_OK;
}

static sl_rc onehot_analyze_end(void *p, sl_err *err)
{
    cat_inst *s = p;
    sl_rc rc = SL_OK;
    int64_t *ids = NULL;
    for (int i = 0; rc == SL_OK && i < s->cols.n; i++) {
        cat_col *c = &s->c[i];
        int64_t k = c->counts.n;
        if (k == 0) {
            rc = no_data(s, i, err);
            break;
        }
        if (k > s->max_categories && s->unknown_error && !s->other) {
            rc = sl_tu_col_err(&s->cols, err, i, SL_ECONFIG,
                               "has %lld categories, more than "
                               "max_categories (%lld); with handle_unknown: "
                               "error, set other_bucket: true or raise "
                               "max_categories",
                               (long long)k, (long long)s->max_categories);
            break;
        }
        sl_free(ids);
        ids = NULL;
        if (k > s->max_categories) {
            /* Keep the most frequent (ties: the smaller value), then order
             * the kept ones by value. */
            rc = sl_vtab_sorted(&c->counts, SL_VTAB_BY_COUNT, &ids);
            k = s->max_categories;
            if (rc == SL_OK)
                rc = sl_vtab_sort_ids(&c->counts, ids, k, SL_VTAB_BY_VALUE);
        } else {
            rc = sl_vtab_sorted(&c->counts, SL_VTAB_BY_VALUE, &ids);
        }
        if (rc == SL_OK)
            rc = build_known(c, ids, k);
        if (rc != SL_OK)
            rc = sl_err_set(err, rc, "onehot: out of memory");
    }
    sl_free(ids);
    for (int i = 0; i < s->cols.n; i++)
        sl_vtab_free(&s->c[i].counts);
    if (rc == SL_OK)
        s->fitted = 1;
    return rc;
}

static sl_rc onehot_open(void *p, const sl_schema *in, sl_schema **out,
                         sl_err *err)
{
    cat_inst *s = p;
    char name[SL_ERR_FIELD_MAX * 2], buf[SL_FMT_MAX + 1];
    *out = NULL;
    if (!s->fitted)
        return sl_err_set(err, SL_EINVAL,
                          "onehot: open before analyze or state_load");
    sl_rc rc = sl_tu_cols_resolve(&s->cols, in, s->cols.idx, 1, err);
    if (rc != SL_OK)
        return rc;
    int64_t total = in->n;
    for (int i = 0; i < s->cols.n; i++)
        total += s->c[i].known.n + s->other - 1;
    /* Schemas are small lists searched linearly; keep them so. */
    if (total > ONEHOT_MAX_COLUMNS)
        return sl_tu_col_err(&s->cols, err, 0, SL_ELIMIT,
                             "and the other onehot columns would make %lld "
                             "columns (limit %d); lower max_categories",
                             (long long)total, ONEHOT_MAX_COLUMNS);
    sl_schema_free(s->out);
    sl_free(s->src);
    s->out = sl_schema_new();
    s->src = sl_calloc((size_t)total + 1, sizeof *s->src);
    if (!s->out || !s->src)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    for (int j = 0; j < in->n; j++) {
        int oh = -1;
        for (int i = 0; i < s->cols.n; i++)
            if (s->cols.idx[i] == j)
                oh = i;
        if (oh < 0) {
            s->src[s->out->n] = j;
            rc = sl_tu_schema_add(s->out, &in->fields[j], NULL,
                                  in->fields[j].type, err);
            if (rc != SL_OK)
                return rc;
            continue;
        }
        const sl_vtab *t = &s->c[oh].known;
        for (int64_t id = 0; id < t->n + s->other; id++) {
            if (id < t->n) {
                sl_vkey k;
                size_t len;
                sl_vtab_key(t, id, &k);
                const char *txt = sl_vkey_text(t->type, &k, buf, &len);
                snprintf(name, sizeof name, "%s_%.*s", in->fields[j].name,
                         (int)(len > SL_ERR_FIELD_MAX ? SL_ERR_FIELD_MAX : len),
                         txt);
            } else {
                snprintf(name, sizeof name, "%s__other", in->fields[j].name);
            }
            if (sl_schema_find(s->out, name) >= 0 ||
                (sl_schema_find(in, name) >= 0 &&
                 sl_schema_find(in, name) != j))
                return sl_tu_col_err(&s->cols, err, oh, SL_ESCHEMA,
                                     "would create column '%s', which "
                                     "already exists; rename one of them",
                                     name);
            s->src[s->out->n] = -1 - oh;
            rc = sl_schema_add(s->out, name, SL_INT64, 0, err);
            if (rc != SL_OK)
                return rc;
        }
    }
    s->nin = in->n;
    *out = sl_schema_copy(s->out);
    return *out ? SL_OK : sl_err_set(err, SL_ENOMEM, "out of memory");
}

/* Fills the int64 0/1 columns dst[0..known.n (+ other)) of column i. */
static sl_rc onehot_encode(const cat_inst *s, int i, const sl_column *col,
                           sl_column **dst, sl_err *err)
{
    const sl_vtab *t = &s->c[i].known;
    int64_t n = col->length, width = t->n + s->other;
    int64_t **v = sl_calloc((size_t)width + 1, sizeof *v);
    if (!v)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    for (int64_t k = 0; k < width; k++)
        v[k] = dst[k]->values;
    sl_vkey key = {0, NULL, 0};
    sl_rc rc = SL_OK;
    for (int64_t r = 0; r < n; r++) {
        if (!sl_vkey_get(col, r, &key))
            continue;
        int64_t id = sl_vtab_find(t, &key);
        if (id >= 0) {
            v[id][r] = 1;
        } else if (s->other) {
            v[t->n][r] = 1;
        } else if (s->unknown_error) {
            char buf[SL_FMT_MAX + 1];
            size_t len;
            const char *txt = sl_vkey_text(t->type, &key, buf, &len);
            rc = sl_err_set(err, SL_EPARSE,
                            "onehot: column '%s': value '%.*s%s' (row %lld "
                            "of the batch) was not seen in training; set "
                            "handle_unknown: ignore to encode it as all "
                            "zeros",
                            s->cols.list->items[i],
                            (int)(len > 80 ? 80 : len), txt,
                            len > 80 ? "..." : "", (long long)r);
            sl_err_field(err, s->cols.list->items[i]);
            break;
        }
    }
    sl_free(v);
    return rc;
}

static sl_rc onehot_process(void *p, sl_batch *in, sl_batch **out,
                            sl_err *err)
{
    cat_inst *s = p;
    sl_column **cols = NULL;
    int nout = s->out ? s->out->n : 0;
    sl_rc rc = SL_OK;
    *out = NULL;
    if (in->schema->n != s->nin) {
        rc = sl_err_set(err, SL_EINTERNAL,
                        "onehot: batch does not match the opened schema");
        goto out;
    }
    cols = sl_calloc((size_t)nout + 1, sizeof *cols);
    if (!cols) {
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        goto out;
    }
    for (int k = 0; k < nout; k++) {
        cols[k] = s->src[k] >= 0 ? sl_column_ref(in->cols[s->src[k]])
                                 : sl_tu_col_zeroed(SL_INT64, in->nrows);
        if (!cols[k]) {
            rc = sl_err_set(err, SL_ENOMEM, "out of memory");
            goto out;
        }
    }
    for (int k = 0; k < nout && rc == SL_OK;) {
        if (s->src[k] >= 0) {
            k++;
            continue;
        }
        int i = -1 - s->src[k];
        rc = onehot_encode(s, i, in->cols[s->cols.idx[i]], &cols[k], err);
        k += (int)(s->c[i].known.n + s->other);
    }
    if (rc == SL_OK)
        rc = sl_tu_build(s->out, cols, out, err);
out:
    for (int k = 0; cols && k < nout; k++)
        sl_column_unref(cols[k]);
    sl_free(cols);
    sl_batch_unref(in);
    return rc;
}

static const sl_config_entry onehot_map[] = {
    {"columns", SL_CFG_STRLIST, NULL, SL_CFG_REQUIRED | SL_CFG_SHORTHAND, NULL,
     offsetof(onehot_cfg, columns),
     "Columns to encode. Each is replaced, in place, by one int64 0/1 column "
     "per category seen in training, named `<column>_<value>` (values in "
     "sluice's text form, e.g. `month_1`, `weather_rain`, `x_0.5`), in "
     "sorted value order like scikit-learn's OneHotEncoder."},
    {"max_categories", SL_CFG_INT, "1000", 0, NULL,
     offsetof(onehot_cfg, max_categories),
     "Most categories per column; beyond it the most frequent are kept "
     "(ties: the smaller value). Output memory is rows x categories x 8 "
     "bytes per batch."},
    {"other_bucket", SL_CFG_BOOL, "false", 0, NULL,
     offsetof(onehot_cfg, other_bucket),
     "Add a `<column>__other` column that is 1 for every value without its "
     "own column (infrequent or unseen); otherwise such values are all "
     "zeros."},
    {"handle_unknown", SL_CFG_ENUM, "ignore", 0, "ignore|error",
     offsetof(onehot_cfg, handle_unknown),
     "A value not seen in training: `ignore` encodes it as all zeros (or "
     "`__other`), `error` fails the run. Null and NaN always encode as all "
     "zeros."},
    {0}};

const sl_plugin sl_plugin_onehot = {
    .abi_version = SL_PLUGIN_ABI_VERSION,
    .name = "onehot",
    .kind = SL_PLUGIN_TRANSFORM,
    .summary = "One-hot encode categorical columns with the training "
               "categories.",
    .example = "- onehot: { columns: [weather, month] }",
    .config_map = onehot_map,
    .config_size = sizeof(onehot_cfg),
    .init = onehot_init,
    .open = onehot_open,
    .process = onehot_process,
    .destroy = cat_destroy,
    .analyze = cat_analyze,
    .analyze_end = onehot_analyze_end,
    .state_save = cat_state_save,
    .state_load = cat_state_load,
};

/* ---- vocabulary ---- */

typedef struct vocab_cfg {
    sl_strlist columns;
    int64_t top_k;
    int64_t min_frequency;
    int64_t oov_buckets;
} vocab_cfg;

static sl_rc vocab_init(void **inst, void *config, const sl_ctx *ctx,
                        sl_err *err)
{
    const vocab_cfg *cfg = config;
    const char *bad = cfg->top_k < 0           ? "top_k"
                      : cfg->min_frequency < 1 ? "min_frequency"
                      : cfg->oov_buckets < 0   ? "oov_buckets"
                                               : NULL;
    if (bad)
        return sl_err_setloc(err, SL_ECONFIG, ctx ? ctx->spec_file : NULL, 0,
                             0, "vocabulary: '%s' must be %s", bad,
                             strcmp(bad, "min_frequency") == 0
                                 ? "at least 1"
                                 : "zero or more");
    cat_inst *s;
    sl_rc rc = cat_new("vocabulary", "vocabulary", &cfg->columns, ctx, &s,
                       err);
    if (rc != SL_OK)
        return rc;
    s->top_k = cfg->top_k;
    s->min_frequency = cfg->min_frequency;
    s->oov_buckets = cfg->oov_buckets;
    *inst = s;
    return SL_OK;
}

static sl_rc vocab_analyze_end(void *p, sl_err *err)
{
    cat_inst *s = p;
    sl_rc rc = SL_OK;
    for (int i = 0; rc == SL_OK && i < s->cols.n; i++) {
        cat_col *c = &s->c[i];
        int64_t *ids = NULL;
        if (c->counts.n == 0) {
            rc = no_data(s, i, err);
            break;
        }
        rc = sl_vtab_sorted(&c->counts, SL_VTAB_BY_COUNT, &ids);
        if (rc == SL_OK) {
            int64_t k = 0;
            while (k < c->counts.n &&
                   c->counts.ent[ids[k]].count >= s->min_frequency)
                k++;
            if (s->top_k > 0 && k > s->top_k)
                k = s->top_k;
            rc = build_known(c, ids, k);
        }
        sl_free(ids);
        if (rc != SL_OK)
            rc = sl_err_set(err, rc, "vocabulary: out of memory");
    }
    for (int i = 0; i < s->cols.n; i++)
        sl_vtab_free(&s->c[i].counts);
    if (rc == SL_OK)
        s->fitted = 1;
    return rc;
}

static sl_rc int_open(cat_inst *s, const sl_schema *in, sl_schema **out,
                      int fitted, sl_err *err)
{
    *out = NULL;
    sl_rc rc = sl_tu_cols_resolve(&s->cols, in, s->cols.idx, fitted, err);
    if (rc != SL_OK)
        return rc;
    sl_schema *o = sl_schema_copy(in);
    if (!o)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    for (int i = 0; i < s->cols.n; i++)
        o->fields[s->cols.idx[i]].type = SL_INT64;
    s->nin = in->n;
    *out = o;
    return SL_OK;
}

static sl_rc vocab_open(void *p, const sl_schema *in, sl_schema **out,
                        sl_err *err)
{
    cat_inst *s = p;
    if (!s->fitted)
        return sl_err_set(err, SL_EINVAL,
                          "vocabulary: open before analyze or state_load");
    return int_open(s, in, out, 1, err);
}

/* int64 output: vocabulary index (vocabulary) or hash bucket (hash,
 * known == NULL); missing values stay null. */
static sl_rc index_column(const sl_vtab *known, int64_t buckets,
                          const sl_column *col, sl_column **out)
{
    int64_t n = col->length;
    sl_column *o = sl_tu_col_zeroed(SL_INT64, n);
    *out = NULL;
    if (!o)
        return SL_ENOMEM;
    int64_t *v = o->values;
    sl_vkey key = {0, NULL, 0};
    sl_rc rc = SL_OK;
    for (int64_t r = 0; r < n && rc == SL_OK; r++) {
        if (!sl_vkey_get(col, r, &key)) {
            rc = sl_column_set_null(o, r);
            continue;
        }
        int64_t id = known ? sl_vtab_find(known, &key) : -1;
        if (id >= 0)
            v[r] = id;
        else if (buckets > 0)
            v[r] = (known ? known->n : 0) + hash_bucket(col->type, &key, buckets);
        else
            v[r] = -1;
    }
    if (rc != SL_OK)
        sl_column_unref(o);
    else
        *out = o;
    return rc;
}

static sl_rc int_process(cat_inst *s, int hashing, sl_batch *in,
                         sl_batch **out, sl_err *err)
{
    sl_column **repl = NULL;
    int done = 0;
    sl_rc rc = SL_OK;
    *out = NULL;
    if (in->schema->n != s->nin) {
        rc = sl_err_set(err, SL_EINTERNAL,
                        "%s: batch does not match the opened schema",
                        s->tname);
        goto fail;
    }
    repl = sl_calloc((size_t)s->cols.n, sizeof *repl);
    if (!repl) {
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        goto fail;
    }
    for (; done < s->cols.n; done++) {
        rc = index_column(hashing ? NULL : &s->c[done].known, s->oov_buckets,
                          in->cols[s->cols.idx[done]], &repl[done]);
        if (rc != SL_OK) {
            sl_err_set(err, rc, "%s: out of memory", s->tname);
            goto fail;
        }
    }
    rc = sl_tu_replace(in, s->cols.idx, repl, s->cols.n, out, err);
    sl_free(repl);
    return rc;
fail:
    for (int k = 0; repl && k < done; k++)
        sl_column_unref(repl[k]);
    sl_free(repl);
    sl_batch_unref(in);
    return rc;
}

static sl_rc vocab_process(void *p, sl_batch *in, sl_batch **out,
                           sl_err *err)
{
    return int_process(p, 0, in, out, err);
}

static const sl_config_entry vocab_map[] = {
    {"columns", SL_CFG_STRLIST, NULL, SL_CFG_REQUIRED | SL_CFG_SHORTHAND, NULL,
     offsetof(vocab_cfg, columns),
     "Columns to replace by their int64 index in the training vocabulary "
     "(ordered by frequency, most frequent first, ties by value; "
     "tf.Transform's compute_and_apply_vocabulary). Null stays null."},
    {"top_k", SL_CFG_INT, "0", 0, NULL, offsetof(vocab_cfg, top_k),
     "Keep only the k most frequent values (0 = all)."},
    {"min_frequency", SL_CFG_INT, "1", 0, NULL,
     offsetof(vocab_cfg, min_frequency),
     "Keep only values seen at least this many times in training."},
    {"oov_buckets", SL_CFG_INT, "1", 0, NULL,
     offsetof(vocab_cfg, oov_buckets),
     "Values outside the vocabulary (size V) map to V + pmod(hash(value), "
     "oov_buckets), with the `hash` transform's hash; 0 maps them to -1."},
    {0}};

const sl_plugin sl_plugin_vocabulary = {
    .abi_version = SL_PLUGIN_ABI_VERSION,
    .name = "vocabulary",
    .kind = SL_PLUGIN_TRANSFORM,
    .summary = "Map values to their index in the training vocabulary.",
    .example = "- vocabulary: { columns: [city], top_k: 1000, oov_buckets: 10 }",
    .config_map = vocab_map,
    .config_size = sizeof(vocab_cfg),
    .init = vocab_init,
    .open = vocab_open,
    .process = vocab_process,
    .destroy = cat_destroy,
    .analyze = cat_analyze,
    .analyze_end = vocab_analyze_end,
    .state_save = cat_state_save,
    .state_load = cat_state_load,
};

/* ---- hash ---- */

typedef struct hash_cfg {
    sl_strlist columns;
    int64_t buckets;
} hash_cfg;

static sl_rc hash_init(void **inst, void *config, const sl_ctx *ctx,
                       sl_err *err)
{
    const hash_cfg *cfg = config;
    if (cfg->buckets < 1)
        return sl_err_setloc(err, SL_ECONFIG, ctx ? ctx->spec_file : NULL, 0,
                             0, "hash: 'buckets' must be at least 1, got "
                             "%lld",
                             (long long)cfg->buckets);
    cat_inst *s;
    sl_rc rc = cat_new("hash", "buckets", &cfg->columns, ctx, &s, err);
    if (rc != SL_OK)
        return rc;
    s->cols.type_ok = NULL; /* any type; a null column hashes to nulls */
    s->oov_buckets = cfg->buckets;
    *inst = s;
    return SL_OK;
}

static sl_rc hash_open(void *p, const sl_schema *in, sl_schema **out,
                       sl_err *err)
{
    return int_open(p, in, out, 0, err);
}

static sl_rc hash_process(void *p, sl_batch *in, sl_batch **out, sl_err *err)
{
    return int_process(p, 1, in, out, err);
}

static const sl_config_entry hash_map[] = {
    {"columns", SL_CFG_STRLIST, NULL, SL_CFG_REQUIRED | SL_CFG_SHORTHAND, NULL,
     offsetof(hash_cfg, columns),
     "Columns to replace by an int64 bucket in [0, buckets): "
     "pmod(murmur3_x86_32(text, seed 42), buckets) of the value's text form "
     "(strings as they are, numbers as sluice prints them), which equals "
     "Spark's `pmod(hash(s), buckets)` on strings. Null and NaN stay null. "
     "Stateless."},
    {"buckets", SL_CFG_INT, NULL, SL_CFG_REQUIRED, NULL,
     offsetof(hash_cfg, buckets), "Number of buckets (at least 1)."},
    {0}};

const sl_plugin sl_plugin_hash = {
    .abi_version = SL_PLUGIN_ABI_VERSION,
    .name = "hash",
    .kind = SL_PLUGIN_TRANSFORM,
    .summary = "Hash values into a fixed number of buckets (the hashing "
               "trick).",
    .example = "- hash: { columns: [user_id], buckets: 1024 }",
    .config_map = hash_map,
    .config_size = sizeof(hash_cfg),
    .init = hash_init,
    .open = hash_open,
    .process = hash_process,
    .destroy = cat_destroy,
};
