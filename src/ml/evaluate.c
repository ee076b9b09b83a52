/*
 * evaluate.c: the metric catalogue, the blessing gate and the evaluation
 * files of a registry version (see evaluate.h).
 *
 * The catalogue lists every name sl_metrics_compute can produce, so the
 * spec can reject a misspelt metric before any data is read; the gate is
 * bound against a schema holding every catalogue name and its baseline_
 * twin, so the same check covers the gate. Invariant: a gate's schema has
 * 2 * NCOLS float64 columns, column k is catalogue entry k and column
 * NCOLS + k its baseline (entries past NMETRICS are aliases).
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sluice/config_map.h"
#include "sluice/evaluate.h"
#include "sluice/expr.h"
#include "sluice/mem.h"

/* ---- catalogue ---- */

typedef struct metric_def {
    const char *name;
    const char *canonical; /* the name it stands for (aliases) */
    sl_task task;
    const char *doc;
} metric_def;

#define CLS SL_TASK_CLASSIFICATION
#define REG SL_TASK_REGRESSION

static const metric_def catalogue[] = {
    {"accuracy", "accuracy", CLS, "Fraction of rows predicted right."},
    {"precision", "precision", CLS,
     "Precision of class 1 with two classes (sklearn's average=\"binary\"), "
     "else the macro average."},
    {"recall", "recall", CLS, "Recall, averaged like precision."},
    {"f1", "f1", CLS, "F1 score, averaged like precision."},
    {"precision_macro", "precision_macro", CLS,
     "Unweighted mean of the per-class precisions."},
    {"recall_macro", "recall_macro", CLS,
     "Unweighted mean of the per-class recalls."},
    {"f1_macro", "f1_macro", CLS, "Unweighted mean of the per-class F1 scores."},
    {"f1_weighted", "f1_weighted", CLS,
     "Mean of the per-class F1 scores weighted by class frequency."},
    {"auc", "auc", CLS,
     "ROC AUC (one-vs-rest macro average with more than two classes); "
     "absent when the test rows hold a single class. Alias: roc_auc."},
    {"log_loss", "log_loss", CLS, "Cross-entropy of the predicted probabilities."},
    {"rmse", "rmse", REG, "Root mean squared error."},
    {"mae", "mae", REG, "Mean absolute error."},
    {"r2", "r2", REG, "Coefficient of determination (R^2)."},
    {"mse", "mse", REG, "Mean squared error."},
    /* aliases after the canonical names */
    {"roc_auc", "auc", CLS, NULL},
};

#define NCOLS ((int)(sizeof catalogue / sizeof catalogue[0]))
#define NMETRICS (NCOLS - 1)
#define BASELINE_PREFIX "baseline_"

int sl_metric_known_count(void)
{
    return NMETRICS;
}

const char *sl_metric_known_at(int i)
{
    return i >= 0 && i < NMETRICS ? catalogue[i].name : NULL;
}

static int catalogue_find(const char *name)
{
    for (int i = 0; name && i < NCOLS; i++)
        if (!strcmp(catalogue[i].name, name))
            return i;
    return -1;
}

const char *sl_metric_canonical(const char *name)
{
    int i = catalogue_find(name);
    return i < 0 ? NULL : catalogue[i].canonical;
}

sl_task sl_metric_task(const char *name)
{
    int i = catalogue_find(name);
    return i < 0 ? SL_TASK_NONE : catalogue[i].task;
}

const char *sl_metric_closest(const char *name)
{
    const char *names[NCOLS + 1];
    for (int i = 0; i < NCOLS; i++)
        names[i] = catalogue[i].name;
    names[NCOLS] = NULL;
    return sl_closest_name(names, name);
}

void sl_metric_doc_md(FILE *out)
{
    fputs("| metric | task | meaning |\n| --- | --- | --- |\n", out);
    for (int i = 0; i < NMETRICS; i++)
        fprintf(out, "| `%s` | %s | %s |\n", catalogue[i].name,
                sl_task_name(catalogue[i].task), catalogue[i].doc);
}

/* ---- the gate ---- */

struct sl_gate {
    char *text;     /* as written */
    char *bound;    /* rewritten: baseline.x -> baseline_x */
    sl_expr *e;
    sl_schema *schema;
    int uses_baseline;
    int nused;
    const char *used[NCOLS];        /* canonical names, first use order */
    unsigned char cur[NCOLS], base[NCOLS]; /* per used[i]: read as is / as baseline */
};

static int ident_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_';
}

static int ident_start(char c)
{
    return ident_char(c) && !(c >= '0' && c <= '9');
}

/* baseline.x -> baseline_x outside string literals and `quoted` names.
 * The length does not change, so expression columns stay valid. */
static void rewrite_baseline(char *s)
{
    static const char kw[] = "baseline";
    const size_t kn = sizeof kw - 1;
    char quote = 0;
    for (size_t i = 0; s[i]; i++) {
        char c = s[i];
        if (quote) {
            if (c == quote)
                quote = 0;
            continue;
        }
        if (c == '\'' || c == '"' || c == '`') {
            quote = c;
            continue;
        }
        if (!ident_start(c) || (i > 0 && (ident_char(s[i - 1]) || s[i - 1] == '.')))
            continue;
        if (!strncmp(s + i, kw, kn) && s[i + kn] == '.' && ident_start(s[i + kn + 1]))
            s[i + kn] = '_';
        while (ident_char(s[i + 1]))
            i++;
    }
}

static sl_schema *gate_schema(sl_err *err)
{
    sl_schema *s = sl_schema_new();
    char name[64];
    sl_rc rc = s ? SL_OK : SL_ENOMEM;
    for (int i = 0; rc == SL_OK && i < 2 * NCOLS; i++) {
        snprintf(name, sizeof name, "%s%s", i < NCOLS ? "" : BASELINE_PREFIX,
                 catalogue[i % NCOLS].name);
        rc = sl_schema_add(s, name, SL_FLOAT64, 1, err);
    }
    if (rc != SL_OK) {
        sl_schema_free(s);
        sl_err_set(err, rc, "out of memory");
        return NULL;
    }
    return s;
}

/* Rewrites an expression error into a gate error (keeps err->col). */
static sl_rc gate_error(sl_rc rc, sl_err *err)
{
    if (rc == SL_ENOMEM || !err)
        return rc;
    err->code = SL_ECONFIG;
    if (rc != SL_ESCHEMA || !err->field[0]) {
        sl_err_prefix(err, "gate");
        return SL_ECONFIG;
    }
    /* an unknown name: say "metric", and show baseline_x as written */
    char name[SL_ERR_FIELD_MAX], shown[SL_ERR_FIELD_MAX + 16], hint[128] = "";
    snprintf(name, sizeof name, "%s", err->field);
    size_t pn = strlen(BASELINE_PREFIX);
    int base = !strncmp(name, BASELINE_PREFIX, pn);
    const char *bare = base ? name + pn : name;
    const char *near = sl_metric_closest(bare);
    if (base)
        snprintf(shown, sizeof shown, "baseline.%s", bare);
    else
        snprintf(shown, sizeof shown, "%s", bare);
    if (near)
        snprintf(hint, sizeof hint, " (did you mean '%s%s'?)", base ? "baseline." : "", near);
    else
        snprintf(hint, sizeof hint, " (metrics: accuracy, f1, auc, ... or rmse, mae, r2; "
                                    "compare with baseline.<metric>)");
    snprintf(err->msg, sizeof err->msg, "gate: unknown metric '%s'%s", shown, hint);
    return SL_ECONFIG;
}

static void note_use(sl_gate *g, const char *col)
{
    size_t pn = strlen(BASELINE_PREFIX);
    int base = !strncmp(col, BASELINE_PREFIX, pn);
    const char *m = sl_metric_canonical(base ? col + pn : col);
    if (!m)
        return;
    int k = 0;
    while (k < g->nused && strcmp(g->used[k], m) != 0)
        k++;
    if (k == g->nused)
        g->used[g->nused++] = m;
    if (base) {
        g->base[k] = 1;
        g->uses_baseline = 1;
    } else {
        g->cur[k] = 1;
    }
}

sl_rc sl_gate_parse(const char *text, sl_gate **out, sl_err *err)
{
    sl_rc rc = SL_OK;
    sl_type t;
    *out = NULL;
    sl_gate *g = sl_calloc(1, sizeof *g);
    if (!g || !(g->text = sl_strdup(text)) || !(g->bound = sl_strdup(text))) {
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        goto out;
    }
    rewrite_baseline(g->bound);
    if (!(g->schema = gate_schema(err))) {
        rc = SL_ENOMEM;
        goto out;
    }
    if ((rc = sl_expr_parse(g->bound, &g->e, err)) != SL_OK ||
        (rc = sl_expr_bind(g->e, g->schema, &t, err)) != SL_OK) {
        rc = gate_error(rc, err);
        goto out;
    }
    if (t != SL_BOOL) {
        rc = sl_err_setloc(err, SL_ECONFIG, NULL, 0, 1,
                           "gate: the expression must be a condition (true or false), "
                           "like 'auc >= baseline.auc', but it is %s",
                           sl_type_name(t));
        goto out;
    }
    const char *const *cols;
    int n = sl_expr_columns(g->e, &cols);
    for (int i = 0; i < n; i++)
        note_use(g, cols[i]);
    *out = g;
    g = NULL;
out:
    sl_gate_free(g);
    return rc;
}

void sl_gate_free(sl_gate *g)
{
    if (!g)
        return;
    sl_expr_free(g->e);
    sl_schema_free(g->schema);
    sl_free(g->text);
    sl_free(g->bound);
    sl_free(g);
}

const char *sl_gate_text(const sl_gate *g)
{
    return g->text;
}

int sl_gate_uses_baseline(const sl_gate *g)
{
    return g->uses_baseline;
}

int sl_gate_metrics(const sl_gate *g, const char *const **names)
{
    *names = g->used;
    return g->nused;
}

static int metric_value(const sl_metric_set *s, const char *name, double *v)
{
    return s && sl_metric_set_get(s, name, v) == SL_OK && isfinite(*v);
}

static void detail_add(char *buf, size_t n, size_t *len, const char *prefix,
                       const char *name, const sl_metric_set *s)
{
    double v;
    if (*len >= n)
        return;
    int w = metric_value(s, name, &v)
                ? snprintf(buf + *len, n - *len, "%s%s%s=%.6g", *len ? ", " : "",
                           prefix, name, v)
                : snprintf(buf + *len, n - *len, "%s%s%s=n/a", *len ? ", " : "",
                           prefix, name);
    if (w > 0)
        *len += (size_t)w;
}

sl_rc sl_gate_eval(sl_gate *g, const sl_metric_set *cur,
                   const sl_metric_set *base, int *result, char *detail,
                   size_t n, sl_err *err)
{
    sl_rc rc = SL_OK;
    sl_column *res = NULL;
    sl_batch *b = sl_batch_new(g->schema, 1);
    *result = -1;
    if (!b) {
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; i < 2 * NCOLS && rc == SL_OK; i++) {
        double v;
        const sl_metric_set *s = i < NCOLS ? cur : base;
        if (metric_value(s, catalogue[i % NCOLS].canonical, &v))
            rc = sl_column_append_float64(b->cols[i], v);
        else
            rc = sl_column_append_null(b->cols[i]);
    }
    if (rc != SL_OK) {
        rc = sl_err_set(err, rc, "out of memory");
        goto out;
    }
    if ((rc = sl_batch_seal(b, err)) != SL_OK ||
        (rc = sl_expr_eval(g->e, b, &res, err)) != SL_OK) {
        sl_err_prefix(err, "gate");
        goto out;
    }
    if (sl_col_valid(res, 0))
        *result = sl_col_bool(res, 0) ? 1 : 0;
    if (detail && n) {
        size_t len = 0;
        detail[0] = '\0';
        for (int k = 0; k < g->nused; k++) {
            if (g->cur[k])
                detail_add(detail, n, &len, "", g->used[k], cur);
            if (g->base[k])
                detail_add(detail, n, &len, "baseline.", g->used[k], base);
        }
    }
out:
    sl_column_unref(res);
    sl_batch_unref(b);
    return rc;
}

sl_rc sl_gate_decide(sl_gate *g, const sl_metric_set *cur,
                     const sl_eval_baseline *base, int *blessed, int *result,
                     char *reason, size_t n, sl_err *err)
{
    char detail[512];
    int have_base = base && base->present;
    *blessed = 0;
    *result = -1;
    if (!g) {
        *blessed = 1;
        snprintf(reason, n, "no gate");
        return SL_OK;
    }
    if (g->uses_baseline && !have_base) {
        *blessed = 1;
        if (base && base->source[0])
            snprintf(reason, n, "no '%s' version yet to compare with, so the gate '%s' "
                                "is not applied",
                     base->source, g->text);
        else
            snprintf(reason, n, "no baseline to compare with, so the gate '%s' is not "
                                "applied",
                     g->text);
        return SL_OK;
    }
    sl_rc rc = sl_gate_eval(g, cur, have_base ? &base->metrics : NULL, result, detail,
                            sizeof detail, err);
    if (rc != SL_OK)
        return rc;
    *blessed = *result == 1;
    snprintf(reason, n, "%s '%s' (%s)",
             *result == 1   ? "gate holds:"
             : *result == 0 ? "gate fails:"
                            : "gate cannot be decided (a metric it reads is missing):",
             g->text, detail);
    return SL_OK;
}

/* ---- metrics.json ---- */

#define METRICS_FORMAT "sluice-metrics"
#define METRICS_VERSION 1

static json_t *num_or_null(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *metrics_obj(const sl_metric_set *s)
{
    json_t *o = json_object();
    for (int i = 0; o && i < s->n; i++)
        if (json_object_set_new(o, s->names[i], num_or_null(s->values[i])) != 0) {
            json_decref(o);
            return NULL;
        }
    return o;
}

/* Sets key to v (a new reference); a NULL v (allocation failure) marks
 * the whole document failed through *ok. */
static void put(json_t *o, const char *key, json_t *v, int *ok)
{
    if (!v || json_object_set_new(o, key, v) != 0)
        *ok = 0;
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *slices_json(const sl_eval_report *r, int *ok)
{
    json_t *a = json_array();
    for (int i = 0; a && i < r->nslices; i++) {
        const sl_eval_slice *s = &r->slices[i];
        json_t *o = json_object();
        if (!o || json_array_append_new(a, o) != 0) {
            *ok = 0;
            break;
        }
        put(o, "column", json_string(s->column), ok);
        put(o, "value", json_string(s->value), ok);
        put(o, "rows", json_integer(s->rows), ok);
        put(o, "metrics", metrics_obj(&s->metrics), ok);
    }
    return a;
}

static json_t *baseline_json(const sl_eval_report *r, int *ok)
{
    const sl_eval_baseline *b = r->baseline;
    if (!b || !b->present)
        return json_null();
    json_t *o = json_object();
    if (o) {
        put(o, "source", json_string(b->source), ok);
        put(o, "version", b->version > 0 ? json_integer(b->version) : json_null(), ok);
        put(o, "metrics", metrics_obj(&b->metrics), ok);
    }
    return o;
}

static json_t *gate_json(const sl_eval_report *r, int *ok)
{
    if (!r->gate)
        return json_null();
    json_t *o = json_object();
    if (o) {
        put(o, "expression", json_string(r->gate), ok);
        put(o, "result", r->gate_result < 0 ? json_null() : json_boolean(r->gate_result),
            ok);
    }
    return o;
}

json_t *sl_eval_report_json(const sl_eval_report *r)
{
    int ok = 1;
    json_t *o = json_object(), *rows = json_object(), *t = json_object();
    if (!o || !rows || !t) {
        json_decref(o);
        json_decref(rows);
        json_decref(t);
        return NULL;
    }
    put(o, "format", json_string(METRICS_FORMAT), &ok);
    put(o, "version", json_integer(METRICS_VERSION), &ok);
    put(o, "model", str_or_null(r->name), &ok);
    put(o, "model_version", json_integer(r->version), &ok);
    put(o, "model_type", str_or_null(r->model_type), &ok);
    put(o, "task", json_string(sl_task_name(r->task)), &ok);
    put(o, "target", str_or_null(r->target), &ok);
    put(o, "created", str_or_null(r->created), &ok);
    put(o, "spec", str_or_null(r->spec_file), &ok);
    put(o, "key_metric", str_or_null(r->key_metric), &ok);
    put(o, "metrics", metrics_obj(&r->metrics), &ok);
    put(o, "slices", slices_json(r, &ok), &ok);
    put(o, "baseline", baseline_json(r, &ok), &ok);
    put(o, "gate", gate_json(r, &ok), &ok);
    put(o, "blessed", json_boolean(r->blessed), &ok);
    put(o, "reason", str_or_null(r->reason), &ok);
    put(rows, "train", json_integer(r->rows_train), &ok);
    put(rows, "test", json_integer(r->rows_test), &ok);
    put(o, "rows", rows, &ok);
    put(t, "pipeline_seconds", json_real(r->seconds_pipeline), &ok);
    put(t, "fit_seconds", json_real(r->seconds_fit), &ok);
    put(t, "predict_seconds", json_real(r->seconds_predict), &ok);
    put(t, "total_seconds", json_real(r->seconds_total), &ok);
    put(o, "timings", t, &ok);
    put(o, "model_describe",
        r->describe ? json_deep_copy(r->describe) : json_null(), &ok);
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* ---- evaluation CSV ---- */

typedef struct text_buf {
    char *p;
    size_t n, cap;
    int failed;
} text_buf;

static void tb_printf(text_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void tb_printf(text_buf *b, const char *fmt, ...)
{
    va_list ap;
    for (int pass = 0; pass < 2 && !b->failed; pass++) {
        size_t room = b->cap - b->n;
        va_start(ap, fmt);
        int w = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? room : 0, fmt, ap);
        va_end(ap);
        if (w < 0) {
            b->failed = 1;
            return;
        }
        if ((size_t)w < room) {
            b->n += (size_t)w;
            return;
        }
        if (sl_grow((void **)&b->p, &b->cap, b->n + (size_t)w + 1, 1) != 0)
            b->failed = 1;
    }
}

/* A CSV field: quoted when it holds a separator, a quote or a newline. */
static void tb_field(text_buf *b, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        tb_printf(b, "%s", s);
        return;
    }
    tb_printf(b, "\"");
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            tb_printf(b, "\"\"");
        else
            tb_printf(b, "%c", *p);
    }
    tb_printf(b, "\"");
}

static void csv_rows(text_buf *b, const sl_metric_set *m, const char *slice,
                     const sl_metric_set *base)
{
    for (int i = 0; i < m->n; i++) {
        double v = m->values[i], bv;
        tb_field(b, m->names[i]);
        tb_printf(b, ",");
        tb_field(b, slice);
        if (isfinite(v))
            tb_printf(b, ",%.10g", v);
        else
            tb_printf(b, ",");
        if (metric_value(base, m->names[i], &bv)) {
            tb_printf(b, ",%.10g", bv);
            if (isfinite(v))
                tb_printf(b, ",%.10g", v - bv);
            else
                tb_printf(b, ",");
        } else {
            tb_printf(b, ",,");
        }
        tb_printf(b, "\n");
    }
}

sl_rc sl_eval_report_csv(const sl_eval_report *r, char **text, size_t *len,
                         sl_err *err)
{
    text_buf b = {0};
    const sl_eval_baseline *base = r->baseline && r->baseline->present ? r->baseline : NULL;
    *text = NULL;
    *len = 0;
    tb_printf(&b, "metric,slice,value,baseline,delta\n");
    csv_rows(&b, &r->metrics, "", base ? &base->metrics : NULL);
    for (int i = 0; i < r->nslices; i++) {
        const sl_eval_slice *s = &r->slices[i];
        size_t n = strlen(s->column) + strlen(s->value) + 2;
        char *name = sl_malloc(n);
        if (!name) {
            b.failed = 1;
            break;
        }
        snprintf(name, n, "%s=%s", s->column, s->value);
        csv_rows(&b, &s->metrics, name,
                 base ? sl_eval_baseline_slice(base, s->column, s->value) : NULL);
        sl_free(name);
    }
    if (b.failed) {
        sl_free(b.p);
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    }
    *text = b.p;
    *len = b.n;
    return SL_OK;
}

/* ---- reading a metrics.json back ---- */

static void metrics_from_json(const json_t *o, sl_metric_set *s)
{
    const char *key;
    json_t *v;
    memset(s, 0, sizeof *s);
    if (!json_is_object(o))
        return;
    json_object_foreach((json_t *)o, key, v) {
        const char *name = sl_metric_canonical(key);
        if (!name || !json_is_number(v) || s->n >= SL_METRICS_MAX)
            continue;
        s->names[s->n] = name;
        s->values[s->n++] = json_number_value(v);
    }
}

void sl_eval_baseline_clear(sl_eval_baseline *b)
{
    for (int i = 0; b->slices && i < b->nslices; i++) {
        sl_free((char *)b->slices[i].column);
        sl_free((char *)b->slices[i].value);
    }
    sl_free(b->slices);
    memset(b, 0, sizeof *b);
}

static sl_rc slices_from_json(const json_t *a, sl_eval_baseline *b, sl_err *err)
{
    size_t n = json_is_array(a) ? json_array_size(a) : 0;
    if (n == 0)
        return SL_OK;
    if (!(b->slices = sl_calloc(n, sizeof *b->slices)))
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const json_t *o = json_array_get(a, i);
        const char *col = json_string_value(json_object_get(o, "column"));
        const char *val = json_string_value(json_object_get(o, "value"));
        if (!col || !val)
            continue;
        sl_eval_slice *s = &b->slices[b->nslices];
        s->column = sl_strdup(col);
        s->value = sl_strdup(val);
        b->nslices++;
        if (!s->column || !s->value)
            return sl_err_set(err, SL_ENOMEM, "out of memory");
        json_int_t rows = json_integer_value(json_object_get(o, "rows"));
        s->rows = (int64_t)rows;
        metrics_from_json(json_object_get(o, "metrics"), &s->metrics);
    }
    return SL_OK;
}

sl_rc sl_eval_metrics_load(const char *path, sl_eval_baseline *out, sl_err *err)
{
    json_error_t jerr;
    sl_rc rc = SL_OK;
    FILE *f = fopen(path, "rb");
    memset(out, 0, sizeof *out);
    if (!f)
        return sl_err_setloc(err, SL_ENOTFOUND, path, 0, 0, "cannot read metrics file: %s",
                             strerror(errno));
    json_t *root = json_loadf(f, 0, &jerr);
    fclose(f);
    if (!root)
        return sl_err_setloc(err, SL_EPARSE, path, jerr.line, jerr.column,
                             "invalid metrics file: %s", jerr.text);
    const char *fmt = json_string_value(json_object_get(root, "format"));
    json_t *m = json_object_get(root, "metrics");
    if (!fmt || strcmp(fmt, METRICS_FORMAT) != 0 || !json_is_object(m)) {
        rc = sl_err_setloc(err, SL_EPARSE, path, 0, 0,
                           "not a sluice metrics file (expected \"format\": \"%s\" "
                           "and a \"metrics\" object)",
                           METRICS_FORMAT);
        goto out;
    }
    metrics_from_json(m, &out->metrics);
    json_t *ver = json_object_get(root, "model_version");
    out->version = json_is_integer(ver) ? (int)json_integer_value(ver) : 0;
    if ((rc = slices_from_json(json_object_get(root, "slices"), out, err)) != SL_OK)
        goto out;
    out->present = 1;
    snprintf(out->source, sizeof out->source, "%s", path);
out:
    json_decref(root);
    if (rc != SL_OK)
        sl_eval_baseline_clear(out);
    return rc;
}

const sl_metric_set *sl_eval_baseline_slice(const sl_eval_baseline *b,
                                            const char *column,
                                            const char *value)
{
    for (int i = 0; b && i < b->nslices; i++)
        if (!strcmp(b->slices[i].column, column) && !strcmp(b->slices[i].value, value))
            return &b->slices[i].metrics;
    return NULL;
}
