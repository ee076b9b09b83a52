/*
 * bucketize.c: numeric range transforms.
 *
 *   bucketize  int64 bucket index i with boundaries[i-1] <= x <
 *              boundaries[i] (numpy.digitize right=False, tf.Transform
 *              apply_buckets): 0 below the first boundary, len(boundaries)
 *              at or above the last. Boundaries are given (`boundaries`)
 *              or fitted (`buckets: n`: the training quantiles i/n,
 *              i = 1..n-1, numpy 'linear', duplicates removed).
 *   clip       limits values to [lower, upper]: fixed (`min`, `max`) or
 *              fitted (`lower_quantile`, `upper_quantile`). An int64
 *              column with integer fixed bounds stays int64; everything
 *              else becomes float64. NaN stays NaN.
 *
 * Both keep nulls null (bucketize: NaN too). Fitted quantiles come from
 * quantile.h (exact up to 2^24 values per column, then a deterministic
 * sample; a warning is logged).
 *
 * State: bucketize {"columns": {"<col>": {"boundaries": [..]}}};
 * clip {"columns": {"<col>": {"lower": x|null, "upper": y|null}}} where an
 * integer bound is a JSON integer.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "processing/quantile.h"
#include "processing/transform_util.h"
#include "sluice/log.h"
#include "sluice/mem.h"
#include "sluice/plugin.h"
#include "sluice/value.h"

/* Instance shared by both: one quantile collector per column. */
typedef struct rng_col {
    sl_quantile q;
    /* bucketize */
    double *bounds;
    int64_t nb;
    /* clip */
    int has_lo, has_hi, int_lo, int_hi;
    double lo, hi;
    int64_t lo_i, hi_i;
    int int_mode; /* open: int64 in, int64 out */
} rng_col;

typedef struct rng_inst {
    const char *tname;
    sl_tu_cols cols;
    rng_col *c;
    int *bidx;
    int bucketize; /* 1: bucketize (int64 output), 0: clip */
    int collect;   /* analyze collects quantiles */
    int fitted;
    int nin;
    /* bucketize config */
    double *cfg_bounds;
    int64_t cfg_nb, buckets;
    /* clip config: the fixed bounds as configured (a fitted state must
     * agree), quantiles < 0 when not set */
    rng_col fixed;
    const char *min_s, *max_s;
    double lower_q, upper_q;
} rng_inst;

static void rng_destroy(void *p)
{
    rng_inst *s = p;
    if (!s)
        return;
    for (int i = 0; s->c && i < s->cols.n; i++) {
        sl_quantile_free(&s->c[i].q);
        sl_free(s->c[i].bounds);
    }
    sl_free(s->c);
    sl_free(s->bidx);
    sl_free(s->cfg_bounds);
    sl_tu_cols_free(&s->cols);
    sl_free(s);
}

static sl_rc rng_new(const char *tname, const sl_strlist *columns,
                     const sl_ctx *ctx, rng_inst **out, sl_err *err)
{
    *out = NULL;
    rng_inst *s = sl_calloc(1, sizeof *s);
    if (!s)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    s->tname = tname;
    s->lower_q = s->upper_q = -1.0;
    sl_rc rc = sl_tu_cols_init(&s->cols, tname, ctx, columns,
                               sl_tu_is_numeric, SL_TU_NEED_NUMERIC, err);
    if (rc == SL_OK) {
        s->c = sl_calloc((size_t)s->cols.n, sizeof *s->c);
        s->bidx = sl_calloc((size_t)s->cols.n, sizeof *s->bidx);
        if (!s->c || !s->bidx)
            rc = sl_err_set(err, SL_ENOMEM, "out of memory");
    }
    for (int i = 0; rc == SL_OK && i < s->cols.n; i++)
        sl_quantile_init(&s->c[i].q);
    if (rc != SL_OK) {
        rng_destroy(s);
        return rc;
    }
    *out = s;
    return SL_OK;
}

static sl_rc rng_analyze(void *p, const sl_batch *in, sl_err *err)
{
    rng_inst *s = p;
    sl_rc rc = sl_tu_cols_resolve(&s->cols, in->schema, s->bidx, 1, err);
    for (int i = 0; rc == SL_OK && s->collect && i < s->cols.n; i++)
        if ((rc = sl_quantile_add_column(&s->c[i].q, in->cols[s->bidx[i]])) !=
            SL_OK)
            rc = sl_err_set(err, rc, "%s: out of memory", s->tname);
    return rc;
}

/* Finishes the collector of column i; error when it saw no value. */
static sl_rc finish_quantiles(rng_inst *s, int i, sl_err *err)
{
    sl_quantile *q = &s->c[i].q;
    sl_quantile_finish(q);
    if (q->n == 0)
        return sl_tu_col_err(&s->cols, err, i, SL_ESCHEMA,
                             "has no non-missing value in the training "
                             "data; %s cannot learn its quantiles",
                             s->tname);
    if (sl_quantile_sampled(q))
        sl_log(SL_LOG_WARN, s->tname,
               "column '%s': %lld training values exceed the exact bound "
               "(%lld); quantiles come from a deterministic sample of %lld "
               "values",
               s->cols.list->items[i], (long long)q->seen,
               (long long)q->exact_max, (long long)q->n);
    return SL_OK;
}

static sl_rc rng_open_common(rng_inst *s, const sl_schema *in,
                             sl_schema **out, sl_err *err)
{
    *out = NULL;
    if (!s->fitted)
        return sl_err_set(err, SL_EINVAL,
                          "%s: open before analyze or state_load", s->tname);
    sl_rc rc = sl_tu_cols_resolve(&s->cols, in, s->cols.idx, 0, err);
    if (rc != SL_OK)
        return rc;
    sl_schema *o = sl_schema_copy(in);
    if (!o)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    for (int i = 0; i < s->cols.n; i++) {
        rng_col *c = &s->c[i];
        c->int_mode = in->fields[s->cols.idx[i]].type == SL_INT64 &&
                      (!c->has_lo || c->int_lo) && (!c->has_hi || c->int_hi);
        o->fields[s->cols.idx[i]].type =
            s->bucketize || c->int_mode ? SL_INT64 : SL_FLOAT64;
    }
    s->nin = in->n;
    *out = o;
    return SL_OK;
}

typedef sl_rc (*col_fn)(const rng_col *c, const sl_column *src,
                        sl_column **out);

static sl_rc rng_process(rng_inst *s, col_fn fn, sl_batch *in,
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
        rc = fn(&s->c[done], in->cols[s->cols.idx[done]], &repl[done]);
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

/* ---- bucketize ---- */

typedef struct bucketize_cfg {
    sl_strlist columns;
    sl_strlist boundaries;
    int64_t buckets;
} bucketize_cfg;

static sl_rc bk_init(void **inst, void *config, const sl_ctx *ctx,
                     sl_err *err)
{
    const bucketize_cfg *cfg = config;
    const char *file = ctx ? ctx->spec_file : NULL;
    rng_inst *s = NULL;
    *inst = NULL;
    sl_rc rc = rng_new("bucketize", &cfg->columns, ctx, &s, err);
    if (rc != SL_OK)
        return rc;
    int given = cfg->boundaries.n > 0;
    if (given == (cfg->buckets != 0)) {
        rc = sl_err_setloc(err, SL_ECONFIG, file,
                           cfg->columns.lines ? cfg->columns.lines[0] : 0, 0,
                           "bucketize: set exactly one of 'boundaries' "
                           "(fixed) and 'buckets' (quantiles fitted on the "
                           "training data)");
        goto out;
    }
    if (!given && cfg->buckets < 2) {
        rc = sl_err_setloc(err, SL_ECONFIG, file, 0, 0,
                           "bucketize: 'buckets' must be at least 2, got "
                           "%lld",
                           (long long)cfg->buckets);
        goto out;
    }
    s->bucketize = 1;
    s->buckets = given ? 0 : cfg->buckets;
    s->collect = !given;
    if (given) {
        s->cfg_nb = cfg->boundaries.n;
        s->cfg_bounds = sl_calloc((size_t)s->cfg_nb, sizeof *s->cfg_bounds);
        if (!s->cfg_bounds) {
            rc = sl_err_set(err, SL_ENOMEM, "out of memory");
            goto out;
        }
        for (int k = 0; k < cfg->boundaries.n; k++) {
            const char *t = cfg->boundaries.items[k];
            double *b = &s->cfg_bounds[k];
            if (sl_parse_float64(t, strlen(t), b) != 0 || !isfinite(*b)) {
                rc = sl_tu_list_err(err, SL_ECONFIG, file, &cfg->boundaries,
                                    k, "bucketize: boundary '%s' is not a "
                                       "finite number",
                                    t);
                goto out;
            }
            if (k > 0 && !(*b > b[-1])) {
                rc = sl_tu_list_err(err, SL_ECONFIG, file, &cfg->boundaries,
                                    k, "bucketize: boundaries must be "
                                       "strictly increasing ('%s' follows "
                                       "'%s')",
                                    t, cfg->boundaries.items[k - 1]);
                goto out;
            }
        }
    }
    *inst = s;
    s = NULL;
out:
    rng_destroy(s);
    return rc;
}

static sl_rc set_bounds(rng_col *c, const double *b, int64_t n)
{
    sl_free(c->bounds);
    c->bounds = sl_calloc((size_t)(n ? n : 1), sizeof *c->bounds);
    if (!c->bounds)
        return SL_ENOMEM;
    if (n)
        memcpy(c->bounds, b, (size_t)n * sizeof *b);
    c->nb = n;
    return SL_OK;
}

static sl_rc bk_analyze_end(void *p, sl_err *err)
{
    rng_inst *s = p;
    sl_rc rc = SL_OK;
    for (int i = 0; rc == SL_OK && i < s->cols.n; i++) {
        rng_col *c = &s->c[i];
        if (!s->collect) {
            if (set_bounds(c, s->cfg_bounds, s->cfg_nb) != SL_OK)
                rc = sl_err_set(err, SL_ENOMEM, "out of memory");
            continue;
        }
        if ((rc = finish_quantiles(s, i, err)) != SL_OK)
            break;
        double *b = sl_calloc((size_t)s->buckets, sizeof *b);
        if (!b) {
            rc = sl_err_set(err, SL_ENOMEM, "out of memory");
            break;
        }
        int64_t nb = 0;
        for (int64_t k = 1; k < s->buckets; k++) {
            double v = sl_quantile_at(&c->q, (double)k / (double)s->buckets);
            if (nb == 0 || v > b[nb - 1])
                b[nb++] = v; /* quantiles never decrease; drop repeats */
        }
        if (set_bounds(c, b, nb) != SL_OK)
            rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        sl_free(b);
    }
    for (int i = 0; i < s->cols.n; i++)
        sl_quantile_free(&s->c[i].q);
    if (rc == SL_OK)
        s->fitted = 1;
    return rc;
}

static sl_rc bk_open(void *p, const sl_schema *in, sl_schema **out,
                     sl_err *err)
{
    return rng_open_common(p, in, out, err);
}

/* Number of boundaries <= x (x not NaN). */
static inline int64_t bucket_of(const double *b, int64_t nb, double x)
{
    int64_t lo = 0, hi = nb;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (b[mid] <= x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static sl_rc bk_column(const rng_col *c, const sl_column *src,
                       sl_column **out)
{
    int64_t n = src->length;
    sl_column *o = sl_tu_col_zeroed(SL_INT64, n);
    sl_rc rc = o ? sl_tu_col_copy_nulls(o, src) : SL_ENOMEM;
    int64_t *v = o ? o->values : NULL;
    for (int64_t i = 0; rc == SL_OK && i < n; i++) {
        if (!sl_col_valid(src, i))
            continue;
        double x = sl_tu_num(src, i);
        if (isnan(x))
            rc = sl_column_set_null(o, i);
        else
            v[i] = bucket_of(c->bounds, c->nb, x);
    }
    if (rc != SL_OK) {
        sl_column_unref(o);
        o = NULL;
    }
    *out = o;
    return rc;
}

static sl_rc bk_process(void *p, sl_batch *in, sl_batch **out, sl_err *err)
{
    return rng_process(p, bk_column, in, out, err);
}

static sl_rc bk_state_save(void *p, json_t **out, sl_err *err)
{
    rng_inst *s = p;
    json_t *state = NULL, *cols;
    *out = NULL;
    if (!s->fitted)
        return sl_err_set(err, SL_EINVAL, "bucketize: not fitted");
    sl_rc rc = sl_tu_state_new(&state, &cols, NULL, NULL, err);
    for (int i = 0; rc == SL_OK && i < s->cols.n; i++) {
        json_t *o = json_object(), *arr = json_array();
        rc = sl_tu_json_set(cols, s->cols.list->items[i], o, err);
        if (rc == SL_OK)
            rc = sl_tu_json_set(o, "boundaries", arr, err);
        else
            json_decref(arr);
        for (int64_t k = 0; rc == SL_OK && k < s->c[i].nb; k++)
            if (json_array_append_new(arr, json_real(s->c[i].bounds[k])))
                rc = sl_err_set(err, SL_ENOMEM, "out of memory");
    }
    if (rc != SL_OK)
        json_decref(state);
    else
        *out = state;
    return rc;
}

static sl_rc bk_state_load(void *p, const json_t *state, sl_err *err)
{
    rng_inst *s = p;
    const json_t **per = sl_calloc((size_t)s->cols.n, sizeof *per);
    double *b = NULL;
    char path[SL_ERR_FIELD_MAX + 32];
    sl_rc rc = per ? sl_tu_state_columns(&s->cols, state, per, err)
                   : sl_err_set(err, SL_ENOMEM, "out of memory");
    for (int i = 0; rc == SL_OK && i < s->cols.n; i++) {
        const json_t *arr;
        rc = sl_tu_state_member(&s->cols, i, per[i], "boundaries",
                                JSON_ARRAY, 0, &arr, err);
        if (rc != SL_OK)
            break;
        size_t n = json_array_size(arr);
        sl_free(b);
        b = sl_calloc(n ? n : 1, sizeof *b);
        if (!b) {
            rc = sl_err_set(err, SL_ENOMEM, "out of memory");
            break;
        }
        for (size_t k = 0; rc == SL_OK && k < n; k++) {
            snprintf(path, sizeof path, "columns.%s.boundaries[%zu]",
                     s->cols.list->items[i], k);
            if (sl_tu_json_get_num(json_array_get(arr, k), &b[k]) != 0 ||
                !isfinite(b[k]))
                rc = sl_tu_state_err(err, "bucketize", path,
                                     "expected a finite number");
            else if (k > 0 && !(b[k] > b[k - 1]))
                rc = sl_tu_state_err(err, "bucketize", path,
                                     "boundaries must be strictly "
                                     "increasing");
        }
        if (rc == SL_OK && s->cfg_bounds &&
            ((int64_t)n != s->cfg_nb ||
             (n && memcmp(b, s->cfg_bounds, n * sizeof *b) != 0))) {
            snprintf(path, sizeof path, "columns.%s.boundaries",
                     s->cols.list->items[i]);
            rc = sl_tu_state_err(err, "bucketize", path,
                                 "differs from the configured boundaries");
        }
        if (rc == SL_OK && set_bounds(&s->c[i], b, (int64_t)n) != SL_OK)
            rc = sl_err_set(err, SL_ENOMEM, "out of memory");
    }
    if (rc == SL_OK)
        s->fitted = 1;
    sl_free(b);
    sl_free(per);
    return rc;
}

static const sl_config_entry bucketize_map[] = {
    {"columns", SL_CFG_STRLIST, NULL, SL_CFG_REQUIRED, NULL,
     offsetof(bucketize_cfg, columns),
     "Numeric columns to replace by their int64 bucket index: i when "
     "boundaries[i-1] <= x < boundaries[i], 0 below the first boundary, "
     "len(boundaries) at or above the last (numpy.digitize, tf.Transform "
     "apply_buckets). Null and NaN stay null."},
    {"boundaries", SL_CFG_STRLIST, NULL, 0, NULL,
     offsetof(bucketize_cfg, boundaries),
     "Fixed boundaries, strictly increasing numbers."},
    {"buckets", SL_CFG_INT, "0", 0, NULL, offsetof(bucketize_cfg, buckets),
     "Instead of `boundaries`: fit n buckets of (about) equal size on the "
     "training data, the boundaries being its quantiles 1/n .. (n-1)/n "
     "(duplicates removed, so a skewed column may get fewer buckets)."},
    {0}};

const sl_plugin sl_plugin_bucketize = {
    .abi_version = SL_PLUGIN_ABI_VERSION,
    .name = "bucketize",
    .kind = SL_PLUGIN_TRANSFORM,
    .summary = "Replace numbers by their bucket index (fixed or quantile "
               "boundaries).",
    .example = "- bucketize: { columns: [age], boundaries: [18, 30, 50, 65] }",
    .config_map = bucketize_map,
    .config_size = sizeof(bucketize_cfg),
    .init = bk_init,
    .open = bk_open,
    .process = bk_process,
    .destroy = rng_destroy,
    .analyze = rng_analyze,
    .analyze_end = bk_analyze_end,
    .state_save = bk_state_save,
    .state_load = bk_state_load,
};

/* ---- clip ---- */

typedef struct clip_cfg {
    sl_strlist columns;
    char *min, *max, *lower_quantile, *upper_quantile;
} clip_cfg;

/* A fixed bound: integer text keeps int64 columns int64. */
static sl_rc parse_bound(const char *key, const char *t, const char *file,
                         int *is_int, int64_t *iv, double *dv, sl_err *err)
{
    size_t n = strlen(t);
    *is_int = sl_parse_int64(t, n, iv) == 0;
    if (*is_int) {
        *dv = (double)*iv;
        return SL_OK;
    }
    if (sl_parse_float64(t, n, dv) != 0 || isnan(*dv))
        return sl_err_setloc(err, SL_ECONFIG, file, 0, 0,
                             "clip: '%s' must be a number, got '%s'", key, t);
    return SL_OK;
}

static sl_rc parse_q(const char *key, const char *t, const char *file,
                     double *q, sl_err *err)
{
    if (!t)
        return SL_OK;
    if (sl_parse_float64(t, strlen(t), q) != 0 || !(*q >= 0.0 && *q <= 1.0))
        return sl_err_setloc(err, SL_ECONFIG, file, 0, 0,
                             "clip: '%s' must be a number between 0 and 1, "
                             "got '%s'",
                             key, t);
    return SL_OK;
}

static sl_rc clip_init(void **inst, void *config, const sl_ctx *ctx,
                       sl_err *err)
{
    const clip_cfg *cfg = config;
    const char *file = ctx ? ctx->spec_file : NULL;
    rng_inst *s = NULL;
    *inst = NULL;
    sl_rc rc = rng_new("clip", &cfg->columns, ctx, &s, err);
    if (rc != SL_OK)
        return rc;
    rng_col fixed;
    memset(&fixed, 0, sizeof fixed);
    if (cfg->min && cfg->lower_quantile)
        rc = sl_err_setloc(err, SL_ECONFIG, file, 0, 0,
                           "clip: set 'min' or 'lower_quantile', not both");
    else if (cfg->max && cfg->upper_quantile)
        rc = sl_err_setloc(err, SL_ECONFIG, file, 0, 0,
                           "clip: set 'max' or 'upper_quantile', not both");
    else if (!cfg->min && !cfg->max && !cfg->lower_quantile &&
             !cfg->upper_quantile)
        rc = sl_err_setloc(err, SL_ECONFIG, file, 0, 0,
                           "clip: set a lower bound ('min' or "
                           "'lower_quantile') and/or an upper bound ('max' "
                           "or 'upper_quantile')");
    if (rc == SL_OK && cfg->min)
        rc = parse_bound("min", cfg->min, file, &fixed.int_lo, &fixed.lo_i,
                         &fixed.lo, err);
    if (rc == SL_OK && cfg->max)
        rc = parse_bound("max", cfg->max, file, &fixed.int_hi, &fixed.hi_i,
                         &fixed.hi, err);
    if (rc == SL_OK)
        rc = parse_q("lower_quantile", cfg->lower_quantile, file, &s->lower_q,
                     err);
    if (rc == SL_OK)
        rc = parse_q("upper_quantile", cfg->upper_quantile, file, &s->upper_q,
                     err);
    if (rc == SL_OK && cfg->min && cfg->max && fixed.lo > fixed.hi)
        rc = sl_err_setloc(err, SL_ECONFIG, file, 0, 0,
                           "clip: 'min' (%s) is greater than 'max' (%s)",
                           cfg->min, cfg->max);
    if (rc == SL_OK && cfg->lower_quantile && cfg->upper_quantile &&
        s->lower_q > s->upper_q)
        rc = sl_err_setloc(err, SL_ECONFIG, file, 0, 0,
                           "clip: 'lower_quantile' is greater than "
                           "'upper_quantile'");
    if (rc != SL_OK) {
        rng_destroy(s);
        return rc;
    }
    fixed.has_lo = cfg->min || cfg->lower_quantile;
    fixed.has_hi = cfg->max || cfg->upper_quantile;
    for (int i = 0; i < s->cols.n; i++) {
        rng_col *c = &s->c[i];
        c->has_lo = fixed.has_lo;
        c->has_hi = fixed.has_hi;
        c->int_lo = fixed.int_lo;
        c->int_hi = fixed.int_hi;
        c->lo = fixed.lo;
        c->hi = fixed.hi;
        c->lo_i = fixed.lo_i;
        c->hi_i = fixed.hi_i;
    }
    s->fixed = fixed;
    s->collect = cfg->lower_quantile || cfg->upper_quantile;
    s->min_s = cfg->min;
    s->max_s = cfg->max;
    *inst = s;
    return SL_OK;
}

static sl_rc clip_analyze_end(void *p, sl_err *err)
{
    rng_inst *s = p;
    sl_rc rc = SL_OK;
    for (int i = 0; rc == SL_OK && s->collect && i < s->cols.n; i++) {
        rng_col *c = &s->c[i];
        if ((rc = finish_quantiles(s, i, err)) != SL_OK)
            break;
        if (s->lower_q >= 0) {
            c->lo = sl_quantile_at(&c->q, s->lower_q);
            c->int_lo = 0;
        }
        if (s->upper_q >= 0) {
            c->hi = sl_quantile_at(&c->q, s->upper_q);
            c->int_hi = 0;
        }
    }
    for (int i = 0; i < s->cols.n; i++)
        sl_quantile_free(&s->c[i].q);
    if (rc == SL_OK)
        s->fitted = 1;
    return rc;
}

static sl_rc clip_open(void *p, const sl_schema *in, sl_schema **out,
                       sl_err *err)
{
    return rng_open_common(p, in, out, err);
}

static sl_rc clip_column(const rng_col *c, const sl_column *src,
                         sl_column **out)
{
    int64_t n = src->length;
    sl_column *o = sl_tu_col_zeroed(c->int_mode ? SL_INT64 : SL_FLOAT64, n);
    *out = NULL;
    if (!o)
        return SL_ENOMEM;
    if (c->int_mode) {
        int64_t *v = o->values, lo = c->has_lo ? c->lo_i : INT64_MIN,
                hi = c->has_hi ? c->hi_i : INT64_MAX;
        const int64_t *x = src->values;
        for (int64_t i = 0; i < n; i++)
            v[i] = x[i] < lo ? lo : x[i] > hi ? hi : x[i];
    } else {
        double *v = o->values, lo = c->has_lo ? c->lo : -INFINITY,
               hi = c->has_hi ? c->hi : INFINITY;
        for (int64_t i = 0; i < n; i++) {
            double x = sl_tu_num(src, i);
            /* NaN fails both tests and stays NaN (np.clip). */
            v[i] = x < lo ? lo : x > hi ? hi : x;
        }
    }
    sl_rc rc = sl_tu_col_copy_nulls(o, src);
    if (rc != SL_OK) {
        sl_column_unref(o);
        return rc;
    }
    *out = o;
    return SL_OK;
}

static sl_rc clip_process(void *p, sl_batch *in, sl_batch **out, sl_err *err)
{
    return rng_process(p, clip_column, in, out, err);
}

static json_t *bound_json(int has, int is_int, int64_t iv, double dv)
{
    if (!has)
        return json_null();
    return is_int ? json_integer((json_int_t)iv) : sl_tu_json_num(dv);
}

static sl_rc clip_state_save(void *p, json_t **out, sl_err *err)
{
    rng_inst *s = p;
    json_t *state = NULL, *cols;
    *out = NULL;
    if (!s->fitted)
        return sl_err_set(err, SL_EINVAL, "clip: not fitted");
    sl_rc rc = sl_tu_state_new(&state, &cols, NULL, NULL, err);
    for (int i = 0; rc == SL_OK && i < s->cols.n; i++) {
        const rng_col *c = &s->c[i];
        json_t *o = json_object();
        rc = sl_tu_json_set(cols, s->cols.list->items[i], o, err);
        if (rc == SL_OK)
            rc = sl_tu_json_set(o, "lower",
                                bound_json(c->has_lo, c->int_lo, c->lo_i,
                                           c->lo),
                                err);
        if (rc == SL_OK)
            rc = sl_tu_json_set(o, "upper",
                                bound_json(c->has_hi, c->int_hi, c->hi_i,
                                           c->hi),
                                err);
    }
    if (rc != SL_OK)
        json_decref(state);
    else
        *out = state;
    return rc;
}

static sl_rc check_fixed(const char *key, const char *fix, double fix_v,
                         double got, const char *col, sl_err *err)
{
    char path[SL_ERR_FIELD_MAX + 32];
    if (!fix || got == fix_v)
        return SL_OK;
    snprintf(path, sizeof path, "columns.%s.%s", col, key);
    return sl_tu_state_err(err, "clip", path,
                           "differs from the configured %s (%s)",
                           strcmp(key, "lower") == 0 ? "min" : "max", fix);
}

/* One stored bound; a bound the configuration fixes (min/max text, `fix`
 * non-NULL) must be stored with the same value. */
static sl_rc load_bound(rng_inst *s, int i, const json_t *obj,
                        const char *key, int has, const char *fix,
                        double fix_v, int *is_int, int64_t *iv, double *dv,
                        sl_err *err)
{
    const json_t *v;
    char path[SL_ERR_FIELD_MAX + 32];
    snprintf(path, sizeof path, "columns.%s.%s", s->cols.list->items[i],
             key);
    sl_rc rc = sl_tu_state_member(&s->cols, i, obj, key, -1, 1, &v, err);
    if (rc != SL_OK)
        return rc;
    if (!v != !has)
        return sl_tu_state_err(err, "clip", path,
                               has ? "missing, but the configuration sets "
                                     "this bound"
                                   : "set, but the configuration has no "
                                     "such bound");
    if (!v)
        return SL_OK;
    *is_int = json_is_integer(v);
    if (*is_int) {
        *iv = (int64_t)json_integer_value(v);
        *dv = (double)*iv;
        return check_fixed(key, fix, fix_v, *dv, s->cols.list->items[i], err);
    }
    if (sl_tu_json_get_num(v, dv) != 0 || isnan(*dv))
        return sl_tu_state_err(err, "clip", path, "expected a number");
    return check_fixed(key, fix, fix_v, *dv, s->cols.list->items[i], err);
}

static sl_rc clip_state_load(void *p, const json_t *state, sl_err *err)
{
    rng_inst *s = p;
    const json_t **per = sl_calloc((size_t)s->cols.n, sizeof *per);
    sl_rc rc = per ? sl_tu_state_columns(&s->cols, state, per, err)
                   : sl_err_set(err, SL_ENOMEM, "out of memory");
    for (int i = 0; rc == SL_OK && i < s->cols.n; i++) {
        rng_col *c = &s->c[i];
        rc = load_bound(s, i, per[i], "lower", c->has_lo, s->min_s,
                        s->fixed.lo, &c->int_lo, &c->lo_i, &c->lo, err);
        if (rc == SL_OK)
            rc = load_bound(s, i, per[i], "upper", c->has_hi, s->max_s,
                            s->fixed.hi, &c->int_hi, &c->hi_i, &c->hi, err);
        /* A configured bound is exactly the configured one (integer-ness
         * included, which decides whether int64 columns stay int64). */
        if (s->min_s) {
            c->int_lo = s->fixed.int_lo;
            c->lo_i = s->fixed.lo_i;
            c->lo = s->fixed.lo;
        }
        if (s->max_s) {
            c->int_hi = s->fixed.int_hi;
            c->hi_i = s->fixed.hi_i;
            c->hi = s->fixed.hi;
        }
        if (rc == SL_OK && c->has_lo && c->has_hi && c->lo > c->hi) {
            char path[SL_ERR_FIELD_MAX + 32];
            snprintf(path, sizeof path, "columns.%s.lower",
                     s->cols.list->items[i]);
            rc = sl_tu_state_err(err, "clip", path,
                                 "is greater than 'upper'");
        }
    }
    if (rc == SL_OK)
        s->fitted = 1;
    sl_free(per);
    return rc;
}

static const sl_config_entry clip_map[] = {
    {"columns", SL_CFG_STRLIST, NULL, SL_CFG_REQUIRED, NULL,
     offsetof(clip_cfg, columns),
     "Numeric columns to clip to [lower, upper]. An int64 column with "
     "integer `min`/`max` stays int64; otherwise the output is float64. "
     "Nulls stay null, NaN stays NaN."},
    {"min", SL_CFG_STR, NULL, 0, NULL, offsetof(clip_cfg, min),
     "Fixed lower bound (a number)."},
    {"max", SL_CFG_STR, NULL, 0, NULL, offsetof(clip_cfg, max),
     "Fixed upper bound (a number)."},
    {"lower_quantile", SL_CFG_STR, NULL, 0, NULL,
     offsetof(clip_cfg, lower_quantile),
     "Instead of `min`: the lower bound is this quantile (0..1) of the "
     "training values (numpy's default linear interpolation), e.g. 0.01 "
     "for winsorizing."},
    {"upper_quantile", SL_CFG_STR, NULL, 0, NULL,
     offsetof(clip_cfg, upper_quantile),
     "Instead of `max`: the upper bound is this quantile (0..1) of the "
     "training values, e.g. 0.99."},
    {0}};

const sl_plugin sl_plugin_clip = {
    .abi_version = SL_PLUGIN_ABI_VERSION,
    .name = "clip",
    .kind = SL_PLUGIN_TRANSFORM,
    .summary = "Limit numeric columns to fixed or training-quantile bounds.",
    .example = "- clip: { columns: [income], upper_quantile: 0.99 }",
    .config_map = clip_map,
    .config_size = sizeof(clip_cfg),
    .init = clip_init,
    .open = clip_open,
    .process = clip_process,
    .destroy = rng_destroy,
    .analyze = rng_analyze,
    .analyze_end = clip_analyze_end,
    .state_save = clip_state_save,
    .state_load = clip_state_load,
};
