/*
 * impute.c: fill missing values (null, and NaN in float columns) with a
 * value learned from the training data, like scikit-learn's SimpleImputer:
 *
 *   mean           mean of the non-missing values (numeric columns; output
 *                  float64, as sklearn turns ints into floats)
 *   median         np.median of the non-missing values (numeric; float64)
 *   most_frequent  the most frequent value, ties -> the smallest (any type;
 *                  the column keeps its type)
 *   constant       `value` parsed as the column's type (default 0 for
 *                  numbers/false for bool, "missing_value" for strings)
 *
 * A column with no non-missing training value is an error (sklearn drops
 * such a column silently; a pipeline should not lose a column unnoticed).
 *
 * State: {"strategy": "median", "columns": {"<col>": {"type": "<input
 * type>", "value": <fill value>}}}; the fill value is a JSON number for
 * mean/median, else the value in the column type's JSON form
 * (value_table.h).
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "processing/quantile.h"
#include "processing/transform_util.h"
#include "processing/value_table.h"
#include "sluice/log.h"
#include "sluice/mem.h"
#include "sluice/plugin.h"

#define STRATEGIES "mean|median|most_frequent|constant"
enum { IMP_MEAN, IMP_MEDIAN, IMP_MOST_FREQUENT, IMP_CONSTANT };

typedef struct impute_cfg {
    sl_strlist columns;
    int strategy;
    char *value;
} impute_cfg;

typedef struct imp_col {
    /* analyze accumulators (one of them, by strategy) */
    sl_tu_moments mom;
    sl_quantile q;
    sl_vtab counts;
    /* fitted */
    sl_type out_type;
    double fill_d;   /* float64 output */
    sl_vkey fill;    /* other outputs; strings point into fill_s */
    char *fill_s;
} imp_col;

typedef struct imp_inst {
    const impute_cfg *cfg;
    sl_tu_cols cols;
    imp_col *c;
    int *bidx;    /* column indexes in the current analyze batch */
    int fitted;
    int nin;
    char strategy[16];
} imp_inst;

static int needs_numbers(const imp_inst *s)
{
    return s->cfg->strategy == IMP_MEAN || s->cfg->strategy == IMP_MEDIAN;
}

static void imp_destroy(void *p)
{
    imp_inst *s = p;
    if (!s)
        return;
    for (int i = 0; s->c && i < s->cols.n; i++) {
        sl_tu_moments_free(&s->c[i].mom);
        sl_quantile_free(&s->c[i].q);
        sl_vtab_free(&s->c[i].counts);
        sl_free(s->c[i].fill_s);
    }
    sl_free(s->c);
    sl_free(s->bidx);
    sl_tu_cols_free(&s->cols);
    sl_free(s);
}

static sl_rc imp_init(void **inst, void *config, const sl_ctx *ctx,
                      sl_err *err)
{
    const impute_cfg *cfg = config;
    *inst = NULL;
    sl_rc rc = SL_OK;
    imp_inst *s = sl_calloc(1, sizeof *s);
    if (!s)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    s->cfg = cfg;
    sl_tu_enum_name(STRATEGIES, cfg->strategy, s->strategy,
                    sizeof s->strategy);
    int num = cfg->strategy == IMP_MEAN || cfg->strategy == IMP_MEDIAN;
    rc = sl_tu_cols_init(&s->cols, "impute", ctx, &cfg->columns,
                         num ? sl_tu_is_numeric : sl_tu_is_any,
                         num ? SL_TU_NEED_NUMERIC : "a column of a non-null type",
                         err);
    if (rc != SL_OK)
        goto out;
    if (cfg->value && cfg->strategy != IMP_CONSTANT) {
        rc = sl_err_setloc(err, SL_ECONFIG, s->cols.spec_file, 0, 0,
                           "impute: 'value' is only used with strategy: "
                           "constant (strategy is %s)",
                           s->strategy);
        goto out;
    }
    s->c = sl_calloc((size_t)s->cols.n, sizeof *s->c);
    s->bidx = sl_calloc((size_t)s->cols.n, sizeof *s->bidx);
    if (!s->c || !s->bidx) {
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; i < s->cols.n; i++) {
        sl_quantile_init(&s->c[i].q);
        sl_vtab_init(&s->c[i].counts, SL_NULL);
        if (cfg->strategy == IMP_MEAN &&
            sl_tu_moments_init(&s->c[i].mom) != SL_OK) {
            rc = sl_err_set(err, SL_ENOMEM, "out of memory");
            goto out;
        }
    }
out:
    if (rc != SL_OK)
        imp_destroy(s);
    else
        *inst = s;
    return rc;
}

static sl_rc imp_analyze(void *p, const sl_batch *in, sl_err *err)
{
    imp_inst *s = p;
    sl_rc rc = sl_tu_cols_resolve(&s->cols, in->schema, s->bidx, 1, err);
    for (int i = 0; rc == SL_OK && i < s->cols.n; i++) {
        imp_col *c = &s->c[i];
        const sl_column *col = in->cols[s->bidx[i]];
        switch (s->cfg->strategy) {
        case IMP_MEAN:
            sl_tu_moments_add_column(&c->mom, col);
            break;
        case IMP_MEDIAN:
            rc = sl_quantile_add_column(&c->q, col);
            break;
        case IMP_MOST_FREQUENT:
            c->counts.type = col->type;
            rc = sl_vtab_count_column(&c->counts, col);
            break;
        default:
            break;
        }
        if (rc == SL_ELIMIT)
            rc = sl_tu_col_err(&s->cols, err, i, rc,
                               "has more than %d distinct values",
                               SL_VTAB_MAX);
        else if (rc != SL_OK)
            rc = sl_err_set(err, rc, "impute: out of memory");
    }
    return rc;
}

/* Sets the fill of column i from a key of the column's type (copying
 * string bytes). */
static sl_rc set_fill_key(imp_inst *s, int i, const sl_vkey *k)
{
    imp_col *c = &s->c[i];
    c->out_type = s->cols.type[i];
    c->fill = *k;
    sl_free(c->fill_s);
    c->fill_s = NULL;
    if (c->out_type == SL_STRING) {
        c->fill_s = sl_strndup(k->len ? k->s : "", k->len);
        if (!c->fill_s)
            return SL_ENOMEM;
        c->fill.s = c->fill_s;
    }
    if (c->out_type == SL_FLOAT64)
        memcpy(&c->fill_d, &k->i, sizeof c->fill_d);
    return SL_OK;
}

static sl_rc fit_constant(imp_inst *s, int i, sl_err *err)
{
    sl_type t = s->cols.type[i];
    const char *v = s->cfg->value;
    if (!v) {
        /* sklearn's fill_value default: 0 for numbers, "missing_value"
         * for strings. */
        if (t == SL_STRING)
            v = "missing_value";
        else if (t == SL_BOOL)
            v = "false";
        else if (t == SL_INT64 || t == SL_FLOAT64)
            v = "0";
        else
            return sl_tu_col_err(&s->cols, err, i, SL_ECONFIG,
                                 "has type %s: strategy constant needs "
                                 "'value'",
                                 sl_type_name(t));
    }
    sl_vkey k;
    if (sl_vkey_parse(t, v, strlen(v), &k) != 0)
        return sl_tu_col_err(&s->cols, err, i, SL_ECONFIG,
                             "has type %s: 'value' '%s' is not a valid %s",
                             sl_type_name(t), v, sl_type_name(t));
    if (set_fill_key(s, i, &k) != SL_OK)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    return SL_OK;
}

static sl_rc fit_most_frequent(imp_inst *s, int i, sl_err *err)
{
    sl_vtab *t = &s->c[i].counts;
    int64_t best = 0;
    sl_vkey kb, kx;
    for (int64_t id = 1; id < t->n; id++) {
        if (t->ent[id].count < t->ent[best].count)
            continue;
        if (t->ent[id].count == t->ent[best].count) {
            sl_vtab_key(t, id, &kx);
            sl_vtab_key(t, best, &kb);
            if (sl_vkey_cmp(t->type, &kx, &kb) >= 0)
                continue;
        }
        best = id;
    }
    sl_vtab_key(t, best, &kb);
    if (set_fill_key(s, i, &kb) != SL_OK)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    return SL_OK;
}

static sl_rc imp_analyze_end(void *p, sl_err *err)
{
    imp_inst *s = p;
    sl_rc rc = SL_OK;
    for (int i = 0; rc == SL_OK && i < s->cols.n; i++) {
        imp_col *c = &s->c[i];
        if (s->cols.type[i] == SL_TYPE_COUNT) {
            rc = sl_tu_col_err(&s->cols, err, i, SL_ESCHEMA,
                               "has no training data (analyze saw no "
                               "batch)");
            break;
        }
        int64_t seen = 0;
        switch (s->cfg->strategy) {
        case IMP_MEAN:
            sl_tu_moments_finish(&c->mom);
            seen = c->mom.n;
            c->fill_d = c->mom.mean;
            break;
        case IMP_MEDIAN:
            sl_quantile_finish(&c->q);
            seen = c->q.seen;
            if (seen)
                c->fill_d = sl_quantile_median(&c->q);
            if (sl_quantile_sampled(&c->q))
                sl_log(SL_LOG_WARN, "impute",
                       "column '%s': %lld training values exceed the exact "
                       "bound (%lld); the median is computed from a "
                       "deterministic sample of %lld values",
                       s->cols.list->items[i], (long long)c->q.seen,
                       (long long)c->q.exact_max, (long long)c->q.n);
            break;
        case IMP_MOST_FREQUENT:
            seen = c->counts.n;
            break;
        default:
            seen = 1;
            break;
        }
        if (seen == 0) {
            rc = sl_tu_col_err(&s->cols, err, i, SL_ESCHEMA,
                               "has no non-missing value in the training "
                               "data, so there is nothing to learn a %s "
                               "from (drop the column, or use strategy: "
                               "constant)",
                               s->strategy);
            break;
        }
        if (needs_numbers(s)) {
            c->out_type = SL_FLOAT64;
            if (isnan(c->fill_d) ||
                (s->cfg->strategy == IMP_MEAN && isinf(c->fill_d)))
                rc = sl_tu_col_err(&s->cols, err, i, SL_ESCHEMA,
                                   "has a %s that is not finite (the "
                                   "training data holds infinite values)",
                                   s->strategy);
        } else if (s->cfg->strategy == IMP_MOST_FREQUENT) {
            rc = fit_most_frequent(s, i, err);
        } else {
            rc = fit_constant(s, i, err);
        }
    }
    for (int i = 0; i < s->cols.n; i++) {
        sl_tu_moments_free(&s->c[i].mom);
        sl_quantile_free(&s->c[i].q);
        sl_vtab_free(&s->c[i].counts);
    }
    if (rc == SL_OK)
        s->fitted = 1;
    return rc;
}

static sl_rc imp_open(void *p, const sl_schema *in, sl_schema **out,
                      sl_err *err)
{
    imp_inst *s = p;
    *out = NULL;
    if (!s->fitted)
        return sl_err_set(err, SL_EINVAL,
                          "impute: open before analyze or state_load");
    sl_rc rc = sl_tu_cols_resolve(&s->cols, in, s->cols.idx, 1, err);
    if (rc != SL_OK)
        return rc;
    sl_schema *o = sl_schema_copy(in);
    if (!o)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    for (int i = 0; i < s->cols.n; i++) {
        o->fields[s->cols.idx[i]].type = s->c[i].out_type;
        o->fields[s->cols.idx[i]].nullable = 0;
    }
    s->nin = in->n;
    *out = o;
    return SL_OK;
}

/* The column with every missing value replaced by the fill. */
static sl_rc fill_column(const imp_col *c, const sl_column *src,
                         sl_column **out)
{
    int64_t n = src->length;
    sl_column *o = NULL;
    sl_rc rc = SL_ENOMEM;
    *out = NULL;
    if (c->out_type == SL_STRING) {
        o = sl_column_new(SL_STRING, n);
        if (!o)
            goto out;
        for (int64_t i = 0; i < n; i++) {
            size_t len;
            const char *t = c->fill.s;
            len = c->fill.len;
            if (sl_col_valid(src, i))
                t = sl_col_str(src, i, &len);
            if ((rc = sl_column_append_str(o, t, len)) != SL_OK)
                goto out;
        }
        rc = SL_OK;
        *out = o;
        o = NULL;
        goto out;
    }
    o = sl_tu_col_zeroed(c->out_type, n);
    if (!o)
        goto out;
    switch (c->out_type) {
    case SL_FLOAT64: {
        double *v = o->values, f = c->fill_d;
        if (src->type == SL_FLOAT64) {
            const double *x = src->values;
            for (int64_t i = 0; i < n; i++)
                v[i] = sl_col_valid(src, i) && !isnan(x[i]) ? x[i] : f;
        } else if (src->type == SL_INT64) {
            const int64_t *x = src->values;
            for (int64_t i = 0; i < n; i++)
                v[i] = sl_col_valid(src, i) ? (double)x[i] : f;
        } else if (src->type == SL_BOOL) {
            for (int64_t i = 0; i < n; i++)
                v[i] = sl_col_valid(src, i) ? sl_col_bool(src, i) : f;
        }
        break;
    }
    case SL_INT64:
    case SL_TIMESTAMP: {
        int64_t *v = o->values;
        const int64_t *x = src->values;
        for (int64_t i = 0; i < n; i++)
            v[i] = sl_col_valid(src, i) ? x[i] : c->fill.i;
        break;
    }
    case SL_DATE: {
        int32_t *v = o->values;
        const int32_t *x = src->values;
        for (int64_t i = 0; i < n; i++)
            v[i] = sl_col_valid(src, i) ? x[i] : (int32_t)c->fill.i;
        break;
    }
    case SL_BOOL:
        for (int64_t i = 0; i < n; i++)
            if (sl_col_valid(src, i) ? sl_col_bool(src, i) : c->fill.i != 0)
                sl_bit_set(o->values, i);
        break;
    default:
        break;
    }
    rc = SL_OK;
    *out = o;
    o = NULL;
out:
    sl_column_unref(o);
    return rc;
}

static sl_rc imp_process(void *p, sl_batch *in, sl_batch **out, sl_err *err)
{
    imp_inst *s = p;
    sl_column **repl = NULL;
    int done = 0;
    sl_rc rc = SL_OK;
    *out = NULL;
    if (in->schema->n != s->nin) {
        rc = sl_err_set(err, SL_EINTERNAL,
                        "impute: batch does not match the opened schema");
        goto fail;
    }
    repl = sl_calloc((size_t)s->cols.n, sizeof *repl);
    if (!repl) {
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        goto fail;
    }
    for (; done < s->cols.n; done++) {
        rc = fill_column(&s->c[done], in->cols[s->cols.idx[done]],
                         &repl[done]);
        if (rc != SL_OK) {
            sl_err_set(err, rc, "impute: out of memory");
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

static sl_rc imp_state_save(void *p, json_t **out, sl_err *err)
{
    imp_inst *s = p;
    json_t *state = NULL, *cols;
    *out = NULL;
    if (!s->fitted)
        return sl_err_set(err, SL_EINVAL, "impute: not fitted");
    sl_rc rc = sl_tu_state_new(&state, &cols, "strategy", s->strategy, err);
    for (int i = 0; rc == SL_OK && i < s->cols.n; i++) {
        const imp_col *c = &s->c[i];
        json_t *o = json_object();
        rc = sl_tu_json_set(cols, s->cols.list->items[i], o, err);
        if (rc != SL_OK)
            break;
        rc = sl_tu_json_set(o, "type",
                            json_string(sl_type_name(s->cols.type[i])), err);
        if (rc != SL_OK)
            break;
        json_t *v = needs_numbers(s) ? sl_tu_json_num(c->fill_d)
                                     : sl_vkey_to_json(c->out_type, &c->fill);
        if (!v)
            rc = sl_tu_col_err(&s->cols, err, i, SL_EPARSE,
                               "has a fill value that cannot be stored as "
                               "JSON (not valid UTF-8?)");
        else
            rc = sl_tu_json_set(o, "value", v, err);
    }
    if (rc != SL_OK)
        json_decref(state);
    else
        *out = state;
    return rc;
}

static sl_rc imp_state_load(void *p, const json_t *state, sl_err *err)
{
    imp_inst *s = p;
    const json_t **per = NULL;
    char path[SL_ERR_FIELD_MAX];
    sl_rc rc = sl_tu_state_enum("impute", state, "strategy", s->strategy,
                                err);
    if (rc != SL_OK)
        goto out;
    per = sl_calloc((size_t)s->cols.n, sizeof *per);
    if (!per) {
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = sl_tu_state_columns(&s->cols, state, per, err)) != SL_OK)
        goto out;
    for (int i = 0; i < s->cols.n; i++) {
        imp_col *c = &s->c[i];
        snprintf(path, sizeof path, "columns.%s.type",
                 s->cols.list->items[i]);
        if ((rc = sl_tu_state_type(&s->cols, i, per[i], err)) != SL_OK)
            goto out;
        if (!s->cols.type_ok(s->cols.type[i])) {
            rc = sl_tu_state_err(err, "impute", path,
                                 "type %s cannot use strategy %s",
                                 sl_type_name(s->cols.type[i]), s->strategy);
            goto out;
        }
        if (needs_numbers(s)) {
            c->out_type = SL_FLOAT64;
            rc = sl_tu_state_num(&s->cols, i, per[i], "value",
                                 s->cfg->strategy == IMP_MEDIAN, &c->fill_d,
                                 err);
            if (rc != SL_OK)
                goto out;
            continue;
        }
        const json_t *v;
        rc = sl_tu_state_member(&s->cols, i, per[i], "value", -1, 0, &v, err);
        if (rc != SL_OK)
            goto out;
        sl_vkey k;
        const char *why = "";
        snprintf(path, sizeof path, "columns.%s.value",
                 s->cols.list->items[i]);
        if (sl_vkey_from_json(s->cols.type[i], v, &k, &why) != 0) {
            rc = sl_tu_state_err(err, "impute", path, "%s", why);
            goto out;
        }
        if (set_fill_key(s, i, &k) != SL_OK) {
            rc = sl_err_set(err, SL_ENOMEM, "out of memory");
            goto out;
        }
    }
    s->fitted = 1;
out:
    sl_free(per);
    return rc;
}

static const sl_config_entry impute_map[] = {
    {"columns", SL_CFG_STRLIST, NULL, SL_CFG_REQUIRED | SL_CFG_SHORTHAND, NULL,
     offsetof(impute_cfg, columns),
     "Columns whose missing values (null, and NaN in float64 columns) are "
     "filled."},
    {"strategy", SL_CFG_ENUM, "mean", 0, STRATEGIES,
     offsetof(impute_cfg, strategy),
     "What to fill with, learned on the training rows (scikit-learn's "
     "SimpleImputer): `mean` or `median` of the column (numeric columns; the "
     "output is float64), `most_frequent` value (any type; ties go to the "
     "smallest value) or a `constant`. A column with no value at all in the "
     "training data is an error."},
    {"value", SL_CFG_STR, NULL, 0, NULL, offsetof(impute_cfg, value),
     "strategy constant: the fill value, parsed as the column's type. "
     "Default 0 for numbers, false for bool, \"missing_value\" for "
     "strings."},
    {0}};

const sl_plugin sl_plugin_impute = {
    .abi_version = SL_PLUGIN_ABI_VERSION,
    .name = "impute",
    .kind = SL_PLUGIN_TRANSFORM,
    .summary = "Fill missing values with the training mean, median, most "
               "frequent value or a constant.",
    .example = "- impute: { columns: [wind, temp_max], strategy: median }",
    .config_map = impute_map,
    .config_size = sizeof(impute_cfg),
    .init = imp_init,
    .open = imp_open,
    .process = imp_process,
    .destroy = imp_destroy,
    .analyze = imp_analyze,
    .analyze_end = imp_analyze_end,
    .state_save = imp_state_save,
    .state_load = imp_state_load,
};
