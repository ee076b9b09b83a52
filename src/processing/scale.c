/*
 * scale.c: rescale numeric columns with statistics learned on the
 * training rows, matching scikit-learn's scalers:
 *
 *   zscore  StandardScaler: (x - mean) / std, population std (ddof=0);
 *           a (near-)constant column (var <= n*eps*var + (n*mean*eps)^2,
 *           sklearn's _is_constant_feature) divides by 1
 *   minmax  MinMaxScaler to [0, 1]: x * s + (0 - min * s), s = 1 / (max -
 *           min); a range below 10*eps counts as 0 and gives s = 1
 *   maxabs  MaxAbsScaler: x / max|x| (below 10*eps -> 1)
 *   robust  RobustScaler: (x - median) / (q75 - q25) (below 10*eps -> 1),
 *           quantiles as numpy's default (linear) percentile
 *
 * Nulls stay null and NaN stays NaN (both are ignored when fitting); the
 * output is float64. The statistics come from the block-wise Welford/Chan
 * accumulator (transform_util.h) or the bounded quantile collector
 * (quantile.h), both independent of how rows are split into batches.
 *
 * State: {"method": "zscore", "columns": {"<col>": {...}}} with
 * {"mean", "scale"} (zscore), {"min", "max"} (minmax), {"scale"} (maxabs),
 * {"center", "scale"} (robust); "scale" is the divisor actually used.
 */
#include <float.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "processing/quantile.h"
#include "processing/transform_util.h"
#include "sluice/log.h"
#include "sluice/mem.h"
#include "sluice/plugin.h"

#define METHODS "zscore|minmax|maxabs|robust"
enum { SC_ZSCORE, SC_MINMAX, SC_MAXABS, SC_ROBUST };

typedef struct scale_cfg {
    sl_strlist columns;
    int method;
} scale_cfg;

typedef struct sc_col {
    sl_tu_moments mom;
    sl_quantile q;
    /* fitted: zscore/robust: (x - a) / b; maxabs: x / b (a = 0);
     * minmax: a = min, b = max; applied as x * mul + add */
    double a, b, mul, add;
} sc_col;

typedef struct sc_inst {
    const scale_cfg *cfg;
    sl_tu_cols cols;
    sc_col *c;
    int *bidx;
    int fitted;
    int nin;
    char method[16];
} sc_inst;

static void sc_destroy(void *p)
{
    sc_inst *s = p;
    if (!s)
        return;
    for (int i = 0; s->c && i < s->cols.n; i++) {
        sl_tu_moments_free(&s->c[i].mom);
        sl_quantile_free(&s->c[i].q);
    }
    sl_free(s->c);
    sl_free(s->bidx);
    sl_tu_cols_free(&s->cols);
    sl_free(s);
}

static sl_rc sc_init(void **inst, void *config, const sl_ctx *ctx,
                     sl_err *err)
{
    const scale_cfg *cfg = config;
    *inst = NULL;
    sc_inst *s = sl_calloc(1, sizeof *s);
    if (!s)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    s->cfg = cfg;
    sl_tu_enum_name(METHODS, cfg->method, s->method, sizeof s->method);
    sl_rc rc = sl_tu_cols_init(&s->cols, "scale", ctx, &cfg->columns,
                               sl_tu_is_numeric, SL_TU_NEED_NUMERIC, err);
    if (rc != SL_OK)
        goto out;
    s->c = sl_calloc((size_t)s->cols.n, sizeof *s->c);
    s->bidx = sl_calloc((size_t)s->cols.n, sizeof *s->bidx);
    if (!s->c || !s->bidx) {
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; i < s->cols.n; i++) {
        sl_quantile_init(&s->c[i].q);
        if (cfg->method != SC_ROBUST &&
            sl_tu_moments_init(&s->c[i].mom) != SL_OK) {
            rc = sl_err_set(err, SL_ENOMEM, "out of memory");
            goto out;
        }
    }
out:
    if (rc != SL_OK)
        sc_destroy(s);
    else
        *inst = s;
    return rc;
}

static sl_rc sc_analyze(void *p, const sl_batch *in, sl_err *err)
{
    sc_inst *s = p;
    sl_rc rc = sl_tu_cols_resolve(&s->cols, in->schema, s->bidx, 1, err);
    for (int i = 0; rc == SL_OK && i < s->cols.n; i++) {
        const sl_column *col = in->cols[s->bidx[i]];
        if (s->cfg->method == SC_ROBUST) {
            if ((rc = sl_quantile_add_column(&s->c[i].q, col)) != SL_OK)
                rc = sl_err_set(err, rc, "scale: out of memory");
        } else {
            sl_tu_moments_add_column(&s->c[i].mom, col);
        }
    }
    return rc;
}

/* sklearn's _handle_zeros_in_scale for min-max, max-abs and robust. */
static double nonzero_scale(double v)
{
    return v < 10 * DBL_EPSILON ? 1.0 : v;
}

/* Derives the applied coefficients from the stored ones (also after
 * state_load, so both paths compute them with the same operations). */
static void derive(int method, sc_col *c)
{
    if (method == SC_MINMAX) {
        c->mul = 1.0 / nonzero_scale(c->b - c->a);
        c->add = 0.0 - c->a * c->mul;
    }
}

static sl_rc sc_analyze_end(void *p, sl_err *err)
{
    sc_inst *s = p;
    sl_rc rc = SL_OK;
    for (int i = 0; rc == SL_OK && i < s->cols.n; i++) {
        sc_col *c = &s->c[i];
        int64_t n;
        if (s->cfg->method == SC_ROBUST) {
            sl_quantile_finish(&c->q);
            n = c->q.n;
        } else {
            sl_tu_moments_finish(&c->mom);
            n = c->mom.n;
        }
        if (s->cols.type[i] == SL_TYPE_COUNT || n == 0) {
            rc = sl_tu_col_err(&s->cols, err, i, SL_ESCHEMA,
                               "has no non-missing value in the training "
                               "data; scale cannot learn its statistics");
            break;
        }
        const sl_tu_moments *m = &c->mom;
        switch (s->cfg->method) {
        case SC_ZSCORE: {
            double var = m->m2 / (double)m->n, nd = (double)m->n;
            double bound = nd * DBL_EPSILON * var +
                           (nd * m->mean * DBL_EPSILON) *
                               (nd * m->mean * DBL_EPSILON);
            c->a = m->mean;
            c->b = var <= bound ? 1.0 : sqrt(var);
            break;
        }
        case SC_MINMAX:
            c->a = m->min;
            c->b = m->max;
            break;
        case SC_MAXABS: {
            double hi = fabs(m->max), lo = fabs(m->min);
            c->a = 0.0;
            c->b = nonzero_scale(hi > lo ? hi : lo);
            break;
        }
        default:
            c->a = sl_quantile_median(&c->q);
            c->b = nonzero_scale(sl_quantile_at(&c->q, 0.75) -
                                 sl_quantile_at(&c->q, 0.25));
            if (sl_quantile_sampled(&c->q))
                sl_log(SL_LOG_WARN, "scale",
                       "column '%s': %lld training values exceed the exact "
                       "bound (%lld); median and quartiles come from a "
                       "deterministic sample of %lld values",
                       s->cols.list->items[i], (long long)c->q.seen,
                       (long long)c->q.exact_max, (long long)c->q.n);
            break;
        }
        if (!isfinite(c->a) || !isfinite(c->b))
            rc = sl_tu_col_err(&s->cols, err, i, SL_ESCHEMA,
                               "has statistics that are not finite (the "
                               "training data holds infinite or huge "
                               "values)");
        derive(s->cfg->method, c);
    }
    for (int i = 0; i < s->cols.n; i++) {
        sl_tu_moments_free(&s->c[i].mom);
        sl_quantile_free(&s->c[i].q);
    }
    if (rc == SL_OK)
        s->fitted = 1;
    return rc;
}

static sl_rc sc_open(void *p, const sl_schema *in, sl_schema **out,
                     sl_err *err)
{
    sc_inst *s = p;
    *out = NULL;
    if (!s->fitted)
        return sl_err_set(err, SL_EINVAL,
                          "scale: open before analyze or state_load");
    sl_rc rc = sl_tu_cols_resolve(&s->cols, in, s->cols.idx, 0, err);
    if (rc != SL_OK)
        return rc;
    sl_schema *o = sl_schema_copy(in);
    if (!o)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    for (int i = 0; i < s->cols.n; i++)
        o->fields[s->cols.idx[i]].type = SL_FLOAT64;
    s->nin = in->n;
    *out = o;
    return SL_OK;
}

static sl_rc scale_column(int method, const sc_col *c, const sl_column *src,
                          sl_column **out)
{
    int64_t n = src->length;
    sl_column *o = sl_tu_col_zeroed(SL_FLOAT64, n);
    *out = NULL;
    if (!o)
        return SL_ENOMEM;
    double *v = o->values;
    if (src->type == SL_FLOAT64) {
        memcpy(v, src->values, (size_t)n * sizeof *v);
    } else if (src->type == SL_INT64) {
        const int64_t *x = src->values;
        for (int64_t i = 0; i < n; i++)
            v[i] = (double)x[i];
    } else {
        for (int64_t i = 0; i < n; i++)
            v[i] = sl_col_bool(src, i);
    }
    if (method == SC_MINMAX) {
        for (int64_t i = 0; i < n; i++)
            v[i] = v[i] * c->mul + c->add;
    } else {
        for (int64_t i = 0; i < n; i++)
            v[i] = (v[i] - c->a) / c->b;
    }
    sl_rc rc = sl_tu_col_copy_nulls(o, src);
    if (rc != SL_OK) {
        sl_column_unref(o);
        return rc;
    }
    *out = o;
    return SL_OK;
}

static sl_rc sc_process(void *p, sl_batch *in, sl_batch **out, sl_err *err)
{
    sc_inst *s = p;
    sl_column **repl = NULL;
    int done = 0;
    sl_rc rc = SL_OK;
    *out = NULL;
    if (in->schema->n != s->nin) {
        rc = sl_err_set(err, SL_EINTERNAL,
                        "scale: batch does not match the opened schema");
        goto fail;
    }
    repl = sl_calloc((size_t)s->cols.n, sizeof *repl);
    if (!repl) {
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        goto fail;
    }
    for (; done < s->cols.n; done++) {
        rc = scale_column(s->cfg->method, &s->c[done],
                          in->cols[s->cols.idx[done]], &repl[done]);
        if (rc != SL_OK) {
            sl_err_set(err, rc, "scale: out of memory");
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

/* Names of the two stored numbers per method (NULL = not stored). */
static void stat_keys(int method, const char **ka, const char **kb)
{
    switch (method) {
    case SC_ZSCORE:
        *ka = "mean";
        *kb = "scale";
        break;
    case SC_MINMAX:
        *ka = "min";
        *kb = "max";
        break;
    case SC_MAXABS:
        *ka = NULL;
        *kb = "scale";
        break;
    default:
        *ka = "center";
        *kb = "scale";
        break;
    }
}

static sl_rc sc_state_save(void *p, json_t **out, sl_err *err)
{
    sc_inst *s = p;
    json_t *state = NULL, *cols;
    const char *ka, *kb;
    *out = NULL;
    if (!s->fitted)
        return sl_err_set(err, SL_EINVAL, "scale: not fitted");
    stat_keys(s->cfg->method, &ka, &kb);
    sl_rc rc = sl_tu_state_new(&state, &cols, "method", s->method, err);
    for (int i = 0; rc == SL_OK && i < s->cols.n; i++) {
        json_t *o = json_object();
        rc = sl_tu_json_set(cols, s->cols.list->items[i], o, err);
        if (rc == SL_OK && ka)
            rc = sl_tu_json_set(o, ka, sl_tu_json_num(s->c[i].a), err);
        if (rc == SL_OK)
            rc = sl_tu_json_set(o, kb, sl_tu_json_num(s->c[i].b), err);
    }
    if (rc != SL_OK)
        json_decref(state);
    else
        *out = state;
    return rc;
}

static sl_rc sc_state_load(void *p, const json_t *state, sl_err *err)
{
    sc_inst *s = p;
    const json_t **per = NULL;
    const char *ka, *kb;
    char path[SL_ERR_FIELD_MAX];
    stat_keys(s->cfg->method, &ka, &kb);
    sl_rc rc = sl_tu_state_enum("scale", state, "method", s->method, err);
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
        sc_col *c = &s->c[i];
        c->a = 0.0;
        if (ka && (rc = sl_tu_state_num(&s->cols, i, per[i], ka, 0, &c->a,
                                        err)) != SL_OK)
            goto out;
        if ((rc = sl_tu_state_num(&s->cols, i, per[i], kb, 0, &c->b, err)) !=
            SL_OK)
            goto out;
        snprintf(path, sizeof path, "columns.%s.%s", s->cols.list->items[i],
                 kb);
        if (s->cfg->method == SC_MINMAX ? c->b < c->a : c->b <= 0.0) {
            rc = sl_tu_state_err(err, "scale", path,
                                 s->cfg->method == SC_MINMAX
                                     ? "must not be below 'min'"
                                     : "must be a positive number");
            goto out;
        }
        derive(s->cfg->method, c);
    }
    s->fitted = 1;
out:
    sl_free(per);
    return rc;
}

static const sl_config_entry scale_map[] = {
    {"columns", SL_CFG_STRLIST, NULL, SL_CFG_REQUIRED | SL_CFG_SHORTHAND, NULL,
     offsetof(scale_cfg, columns),
     "Numeric columns (bool, int64, float64) to rescale; the output is "
     "float64, nulls stay null, NaN stays NaN."},
    {"method", SL_CFG_ENUM, "zscore", 0, METHODS,
     offsetof(scale_cfg, method),
     "`zscore`: (x - mean) / std with the population std (scikit-learn "
     "StandardScaler; a constant column divides by 1). `minmax`: to [0, 1] "
     "(MinMaxScaler; a constant column maps to 0). `maxabs`: x / max|x| "
     "(MaxAbsScaler). `robust`: (x - median) / (q75 - q25) "
     "(RobustScaler). Statistics come from the training rows."},
    {0}};

const sl_plugin sl_plugin_scale = {
    .abi_version = SL_PLUGIN_ABI_VERSION,
    .name = "scale",
    .kind = SL_PLUGIN_TRANSFORM,
    .summary = "Standardize or rescale numeric columns with training "
               "statistics.",
    .example = "- scale: { columns: [temp_max, wind], method: zscore }",
    .config_map = scale_map,
    .config_size = sizeof(scale_cfg),
    .init = sc_init,
    .open = sc_open,
    .process = sc_process,
    .destroy = sc_destroy,
    .analyze = sc_analyze,
    .analyze_end = sc_analyze_end,
    .state_save = sc_state_save,
    .state_load = sc_state_load,
};
