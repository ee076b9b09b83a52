/*
 * train.c: `sluice train` (train.h). Runs the spec's batch pipeline with
 * hooks (pipeline.h) that stream the transformed train rows into the
 * training matrix and the test rows into the test matrix (plus, per
 * `slice_by` column, the slice each test row belongs to), then fits,
 * predicts the test rows, computes the metrics and the gate decision, and
 * hands the result to train_register.c.
 *
 * The test matrix is built while the model does not exist yet, so it
 * collects its own class list; after the fit its labels are re-indexed to
 * the model's classes (a label the train rows never had is an error).
 * Memory: the two matrices (4 bytes per feature value) plus one int32 per
 * test row and slice column; the transformed batches are not kept.
 */
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "run/train_internal.h"
#include "sluice/log.h"
#include "sluice/mem.h"
#include "sluice/progress.h"
#include "sluice/registry.h"
#include "sluice/train.h"
#include "sluice/value.h"

/* Distinct values a slice column may have in the test rows. */
#define SLICE_VALUES_MAX 1000
#define SLICE_HASH 2048 /* power of two > 2 * SLICE_VALUES_MAX */

/* ---- spec -> pipeline --------------------------------------------------- */

static void step_def(sl_step_def *d, const sl_spec_step *s)
{
    d->plugin = s->plugin;
    d->config = s->config;
    d->node = s->node;
}

sl_rc sl_pipeline_def_from_spec(const sl_spec *s, sl_pipeline_def *def, sl_err *err)
{
    memset(def, 0, sizeof *def);
    def->name = s->name;
    def->spec_file = s->file;
    def->schema_path = s->schema_path;
    step_def(&def->source, &s->source);
    step_def(&def->sink, &s->sink);
    def->transforms = sl_calloc((size_t)(s->ntransforms ? s->ntransforms : 1),
                                sizeof *def->transforms);
    if (!def->transforms)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    def->ntransforms = s->ntransforms;
    for (int i = 0; i < s->ntransforms; i++)
        step_def(&def->transforms[i], &s->transforms[i]);
    def->has_split = s->has_split;
    def->split_test = s->split_test;
    def->split_seed = (uint64_t)s->split_seed;
    def->split_stratify = s->split_stratify;
    def->transform_output = s->transform_output;
    return SL_OK;
}

void sl_pipeline_def_clear(sl_pipeline_def *def)
{
    sl_free(def->transforms);
    memset(def, 0, sizeof *def);
}

/* ---- slices ------------------------------------------------------------- */

/* The slice of every test row for one slice_by column: values[row[i]]. */
typedef struct slicer {
    const char *column;
    char **values;
    int nvalues;
    int hash[SLICE_HASH]; /* value index + 1, 0 = empty slot */
    int32_t *row;
    int64_t nrows;
    size_t cap;
} slicer;

static void slicer_free(slicer *s)
{
    for (int i = 0; i < s->nvalues; i++)
        sl_free(s->values[i]);
    sl_free(s->values);
    sl_free(s->row);
}

static uint32_t hash_str(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

/* Index of value text v, added when new. */
static sl_rc slicer_intern(slicer *s, const char *v, int *out, sl_err *err)
{
    uint32_t h = hash_str(v) & (SLICE_HASH - 1);
    while (s->hash[h]) {
        if (!strcmp(s->values[s->hash[h] - 1], v)) {
            *out = s->hash[h] - 1;
            return SL_OK;
        }
        h = (h + 1) & (SLICE_HASH - 1);
    }
    if (s->nvalues >= SLICE_VALUES_MAX)
        return sl_err_set(err, SL_ELIMIT,
                          "evaluate: slice_by column '%s' has more than %d distinct "
                          "values in the test rows (slice by a column with few values, "
                          "e.g. a bucketized one)",
                          s->column, SLICE_VALUES_MAX);
    char **grown = sl_realloc(s->values, (size_t)(s->nvalues + 1) * sizeof *grown);
    if (!grown)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    s->values = grown;
    if (!(s->values[s->nvalues] = sl_strdup(v)))
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    s->hash[h] = ++s->nvalues;
    *out = s->nvalues - 1;
    return SL_OK;
}

/* Row i of c as slice text ("null" for a null). */
static void value_text(const sl_column *c, int64_t i, char *buf, size_t n)
{
    char tmp[SL_FMT_MAX + 1];
    int len = 0;
    if (!sl_col_valid(c, i)) {
        snprintf(buf, n, "null");
        return;
    }
    switch (c->type) {
    case SL_STRING: {
        size_t sl;
        const char *s = sl_col_str(c, i, &sl);
        snprintf(buf, n, "%.*s", (int)(sl < n ? sl : n - 1), s);
        return;
    }
    case SL_BOOL:
        snprintf(buf, n, "%s", sl_col_bool(c, i) ? "true" : "false");
        return;
    case SL_INT64:
        len = sl_format_int64(sl_col_i64(c, i), tmp);
        break;
    case SL_FLOAT64:
        len = sl_format_float64(sl_col_f64(c, i), tmp);
        break;
    case SL_DATE:
        len = sl_format_date(sl_col_i32(c, i), tmp);
        break;
    case SL_TIMESTAMP:
        len = sl_format_timestamp(sl_col_i64(c, i), tmp);
        break;
    default:
        break;
    }
    snprintf(buf, n, "%.*s", len, tmp);
}

static sl_rc slicer_add(slicer *s, const sl_batch *b, sl_err *err)
{
    char text[256];
    int idx = sl_batch_find(b, s->column);
    if (idx < 0)
        return sl_err_set(err, SL_EINTERNAL, "slice column '%s' vanished", s->column);
    if (sl_grow((void **)&s->row, &s->cap, (size_t)(s->nrows + b->nrows), sizeof *s->row))
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    for (int64_t i = 0; i < b->nrows; i++) {
        int k = 0;
        value_text(b->cols[idx], i, text, sizeof text);
        sl_rc rc = slicer_intern(s, text, &k, err);
        if (rc != SL_OK)
            return rc;
        s->row[s->nrows++] = k;
    }
    return SL_OK;
}

/* ---- the trainer (hooks) ------------------------------------------------ */

typedef struct trainer {
    const sl_spec *spec;
    sl_task task;
    const char **features; /* point into the schema copy / spec */
    int nfeatures;
    sl_schema *schema;     /* output schema of the transforms */
    sl_model *model;
    sl_matrix_builder *btrain, *btest;
    slicer *slices;
    int nslices;
    char *transform;
    size_t transform_len;
} trainer;

static sl_rc at_node(sl_err *err, const sl_node *at, sl_rc code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static sl_rc at_node(sl_err *err, const sl_node *at, sl_rc code, const char *fmt, ...)
{
    char msg[SL_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int64_t col = at ? at->col + (at->kind == SL_NODE_SCALAR && at->quoted == 1) : 0;
    return sl_err_setloc(err, code, at ? at->file : NULL, at ? at->line : 0, col, "%s", msg);
}

/* Position of list item i (for errors). */
static sl_node item_pos(const sl_node *section, const sl_strlist *l, int i)
{
    sl_node n = {.kind = SL_NODE_NULL};
    n.file = section ? section->file : NULL;
    n.line = l->lines[i];
    n.col = l->cols[i];
    return n;
}

/* " (did you mean 'x'?)" against the schema's columns, or "". */
static void column_hint(const sl_schema *s, const char *name, char *buf, size_t n)
{
    const char **names = sl_calloc((size_t)s->n + 1, sizeof *names);
    const char *best = NULL;
    buf[0] = '\0';
    if (names) {
        for (int i = 0; i < s->n; i++)
            names[i] = s->fields[i].name;
        best = sl_closest_name(names, name);
    }
    if (best) {
        snprintf(buf, n, " (did you mean '%s'?)", best);
    } else {
        size_t k = (size_t)snprintf(buf, n, " (columns:");
        for (int i = 0; i < s->n && k < n; i++)
            k += (size_t)snprintf(buf + k, n - k, "%s %s", i ? "," : "", s->fields[i].name);
        if (k < n)
            snprintf(buf + k, n - k, ")");
    }
    sl_free(names);
}

static sl_rc resolve_task(trainer *t, sl_type tt, sl_err *err)
{
    const sl_spec_model *m = t->spec->model_spec;
    const sl_node *tn = sl_node_get(m->node, "target");
    int cls_ok = tt == SL_STRING || tt == SL_INT64 || tt == SL_BOOL;
    int reg_ok = tt == SL_FLOAT64 || tt == SL_INT64 || tt == SL_BOOL;
    t->task = m->task;
    if (t->task == SL_TASK_NONE) {
        if (!cls_ok && !reg_ok)
            return at_node(err, tn, SL_ECONFIG,
                           "model: target '%s' is a %s column; a target must be a "
                           "string, bool or integer (classification) or a number "
                           "(regression)",
                           m->target, sl_type_name(tt));
        t->task = tt == SL_FLOAT64 ? SL_TASK_REGRESSION : SL_TASK_CLASSIFICATION;
    } else if (t->task == SL_TASK_CLASSIFICATION && !cls_ok) {
        return at_node(err, sl_node_get(m->node, "task"), SL_ECONFIG,
                       "model: classification needs a string, int64 or bool target, and "
                       "'%s' is %s (cast it, or use task: regression)",
                       m->target, sl_type_name(tt));
    } else if (t->task == SL_TASK_REGRESSION && !reg_ok) {
        return at_node(err, sl_node_get(m->node, "task"), SL_ECONFIG,
                       "model: regression needs a numeric target, and '%s' is %s",
                       m->target, sl_type_name(tt));
    }
    return SL_OK;
}

static sl_rc resolve_features(trainer *t, const sl_schema *out, int ti, sl_err *err)
{
    const sl_spec_model *m = t->spec->model_spec;
    const sl_strlist *l = &m->features;
    char hint[512];
    t->features = sl_calloc((size_t)out->n + (size_t)l->n + 1, sizeof *t->features);
    if (!t->features)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    if (l->n == 0) {
        for (int i = 0; i < out->n; i++)
            if (i != ti && sl_type_is_numeric(out->fields[i].type))
                t->features[t->nfeatures++] = out->fields[i].name;
        if (t->nfeatures == 0)
            return at_node(err, m->node, SL_ECONFIG,
                           "model: no numeric column besides the target '%s' to learn "
                           "from (encode string columns with onehot, vocabulary or hash)",
                           m->target);
        return SL_OK;
    }
    for (int i = 0; i < l->n; i++) {
        sl_node at = item_pos(m->node, l, i);
        int idx = sl_schema_find(out, l->items[i]);
        if (idx < 0) {
            column_hint(out, l->items[i], hint, sizeof hint);
            return at_node(err, &at, SL_ECONFIG,
                           "model: feature '%s' is not a column after the transforms%s",
                           l->items[i], hint);
        }
        if (idx == ti)
            return at_node(err, &at, SL_ECONFIG,
                           "model: '%s' is the target; it cannot also be a feature",
                           l->items[i]);
        if (!sl_type_is_numeric(out->fields[idx].type))
            return at_node(err, &at, SL_ECONFIG,
                           "model: feature '%s' is a %s column; features must be numbers (encode "
                           "it with onehot, vocabulary or hash, or derive a number)",
                           l->items[i], sl_type_name(out->fields[idx].type));
        for (int j = 0; j < i; j++)
            if (!strcmp(l->items[j], l->items[i]))
                return at_node(err, &at, SL_ECONFIG, "model: feature '%s' is listed twice",
                               l->items[i]);
        t->features[t->nfeatures++] = out->fields[idx].name;
    }
    return SL_OK;
}

/* With an inferred task, the metrics and the gate are checked here. */
static sl_rc check_task_metrics(trainer *t, sl_err *err)
{
    const sl_spec_evaluate *e = t->spec->evaluate_spec;
    for (int i = 0; i < e->metrics.n; i++) {
        if (sl_metric_task(e->metrics.items[i]) == t->task)
            continue;
        sl_node at = item_pos(e->node, &e->metrics, i);
        return at_node(err, &at, SL_ECONFIG,
                       "evaluate: metric '%s' is a %s metric, but the target '%s' makes "
                       "this a %s model",
                       e->metrics.items[i], sl_task_name(sl_metric_task(e->metrics.items[i])),
                       t->spec->model_spec->target, sl_task_name(t->task));
    }
    const char *const *used;
    int n = e->gate ? sl_gate_metrics(e->gate, &used) : 0;
    for (int i = 0; i < n; i++) {
        if (sl_metric_task(used[i]) == t->task)
            continue;
        sl_node at = {.file = e->node ? e->node->file : NULL,
                      .line = e->gate_text.line,
                      .col = e->gate_text.col};
        return at_node(err, &at, SL_ECONFIG,
                       "evaluate: the gate reads '%s', a %s metric, but the target '%s' "
                       "makes this a %s model",
                       used[i], sl_task_name(sl_metric_task(used[i])),
                       t->spec->model_spec->target, sl_task_name(t->task));
    }
    return SL_OK;
}

static sl_rc setup_slices(trainer *t, const sl_schema *out, sl_err *err)
{
    const sl_spec_evaluate *e = t->spec->evaluate_spec;
    char hint[512];
    if (!t->spec->has_split || e->slice_by.n == 0)
        return SL_OK;
    if (!(t->slices = sl_calloc((size_t)e->slice_by.n, sizeof *t->slices)))
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    for (int i = 0; i < e->slice_by.n; i++) {
        const char *col = e->slice_by.items[i];
        if (sl_schema_find(out, col) < 0) {
            sl_node at = item_pos(e->node, &e->slice_by, i);
            column_hint(out, col, hint, sizeof hint);
            return at_node(err, &at, SL_ECONFIG,
                           "evaluate: slice_by column '%s' is not a column after the "
                           "transforms%s",
                           col, hint);
        }
        t->slices[t->nslices++].column = col;
    }
    return SL_OK;
}

static sl_rc on_begin(void *ud, const sl_schema *out, sl_err *err)
{
    trainer *t = ud;
    const sl_spec_model *m = t->spec->model_spec;
    char hint[512];
    sl_rc rc;
    if (!(t->schema = sl_schema_copy(out)))
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    out = t->schema;
    int ti = sl_schema_find(out, m->target);
    if (ti < 0) {
        column_hint(out, m->target, hint, sizeof hint);
        return at_node(err, sl_node_get(m->node, "target"), SL_ECONFIG,
                       "model: target '%s' is not a column after the transforms%s",
                       m->target, hint);
    }
    if ((rc = resolve_task(t, out->fields[ti].type, err)) != SL_OK ||
        (rc = resolve_features(t, out, ti, err)) != SL_OK ||
        (rc = check_task_metrics(t, err)) != SL_OK ||
        (rc = setup_slices(t, out, err)) != SL_OK)
        return rc;
    if ((rc = sl_model_new(m->type, t->task, m->params, m->nparams, &t->model, err)) !=
        SL_OK) {
        sl_spec_model_error(t->spec, err);
        return rc == SL_ENOMEM ? rc : SL_ECONFIG;
    }
    sl_matrix_spec ms = {.target = m->target, .task = t->task,
                         .features = t->features, .nfeatures = t->nfeatures};
    if ((rc = sl_matrix_builder_new(&ms, &t->btrain, err)) != SL_OK)
        return rc;
    if (t->spec->has_split && (rc = sl_matrix_builder_new(&ms, &t->btest, err)) != SL_OK)
        return rc;
    return SL_OK;
}

static sl_rc on_batch(void *ud, int part, const sl_batch *b, sl_err *err)
{
    trainer *t = ud;
    sl_rc rc;
    if (part == 0)
        return sl_matrix_builder_add(t->btrain, b, err);
    if ((rc = sl_matrix_builder_add(t->btest, b, err)) != SL_OK)
        return rc;
    for (int i = 0; i < t->nslices && rc == SL_OK; i++)
        rc = slicer_add(&t->slices[i], b, err);
    return rc;
}

static sl_rc on_transform(void *ud, const char *json, size_t len, sl_err *err)
{
    trainer *t = ud;
    if (!(t->transform = sl_malloc(len + 1)))
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    memcpy(t->transform, json, len);
    t->transform[len] = '\0';
    t->transform_len = len;
    return SL_OK;
}

static void trainer_free(trainer *t)
{
    for (int i = 0; i < t->nslices; i++)
        slicer_free(&t->slices[i]);
    sl_free(t->slices);
    sl_free(t->features);
    sl_schema_free(t->schema);
    sl_model_free(t->model);
    sl_matrix_builder_free(t->btrain);
    sl_matrix_builder_free(t->btest);
    sl_free(t->transform);
}

/* ---- evaluation --------------------------------------------------------- */

/* Re-indexes the test labels to the model's class list. */
static sl_rc align_classes(const sl_model *m, sl_matrix *test, sl_err *err)
{
    const sl_labels *mc = sl_model_classes(m);
    sl_rc rc = SL_OK;
    if (test->task != SL_TASK_CLASSIFICATION)
        return SL_OK;
    int32_t *map = sl_calloc((size_t)test->classes.n + 1, sizeof *map);
    if (!map)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    for (int k = 0; k < test->classes.n; k++) {
        map[k] = sl_labels_find(mc, test->classes.names[k]);
        if (map[k] < 0) {
            rc = sl_err_set(err, SL_ESCHEMA,
                            "model: label '%s' of target '%s' is in the test rows but in "
                            "no train row, so the model cannot predict it (stratify the "
                            "split by the target: split: {stratify: %s})",
                            test->classes.names[k], test->target, test->target);
            goto out;
        }
    }
    for (int64_t i = 0; i < test->nrows; i++)
        test->y[i] = map[test->y[i]];
    sl_labels_clear(&test->classes);
    if (sl_labels_copy(&test->classes, mc) != SL_OK)
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
out:
    sl_free(map);
    return rc;
}

static void set_put(sl_metric_set *s, const char *name, const sl_metric_set *all)
{
    double v;
    for (int i = 0; i < s->n; i++)
        if (!strcmp(s->names[i], name))
            return;
    if (s->n >= SL_METRICS_MAX)
        return;
    s->names[s->n] = name;
    s->values[s->n++] = sl_metric_set_get(all, name, &v) == SL_OK ? v : NAN;
}

/* The recorded metrics: evaluate.metrics (default every metric of the
 * task), then the gate's. A metric that could not be computed is NaN. */
static void select_metrics(const sl_spec_evaluate *e, sl_task task, const sl_metric_set *all,
                           sl_metric_set *out)
{
    memset(out, 0, sizeof *out);
    if (e->metrics.n) {
        for (int i = 0; i < e->metrics.n; i++)
            set_put(out, sl_metric_canonical(e->metrics.items[i]), all);
    } else {
        for (int i = 0; i < sl_metric_known_count(); i++)
            if (sl_metric_task(sl_metric_known_at(i)) == task)
                set_put(out, sl_metric_known_at(i), all);
    }
    const char *const *used;
    int n = e->gate ? sl_gate_metrics(e->gate, &used) : 0;
    for (int i = 0; i < n; i++)
        set_put(out, used[i], all);
}

/* Metrics of the rows rows[0..n) of the test matrix. */
static sl_rc subset_metrics(const sl_matrix *test, const sl_prediction *p,
                            const int64_t *rows, int64_t n, sl_metric_set *out, sl_err *err)
{
    sl_matrix y = {.nrows = n, .task = test->task, .classes = test->classes};
    sl_prediction q = {.n = n, .task = p->task, .nclasses = p->nclasses};
    sl_rc rc = SL_OK;
    size_t k = (size_t)(p->nclasses > 0 ? p->nclasses : 1);
    if (test->task == SL_TASK_CLASSIFICATION) {
        y.y = sl_malloc((size_t)n * sizeof *y.y);
        q.label = sl_malloc((size_t)n * sizeof *q.label);
        q.proba = sl_malloc((size_t)n * k * sizeof *q.proba);
        if (!y.y || !q.label || !q.proba) {
            rc = sl_err_set(err, SL_ENOMEM, "out of memory");
            goto out;
        }
        for (int64_t i = 0; i < n; i++) {
            y.y[i] = test->y[rows[i]];
            q.label[i] = p->label[rows[i]];
            memcpy(q.proba + (size_t)i * k, p->proba + (size_t)rows[i] * k, k * sizeof *q.proba);
        }
    } else {
        y.yv = sl_malloc((size_t)n * sizeof *y.yv);
        q.value = sl_malloc((size_t)n * sizeof *q.value);
        if (!y.yv || !q.value) {
            rc = sl_err_set(err, SL_ENOMEM, "out of memory");
            goto out;
        }
        for (int64_t i = 0; i < n; i++) {
            y.yv[i] = test->yv[rows[i]];
            q.value[i] = p->value[rows[i]];
        }
    }
    rc = sl_metrics_compute(&y, &q, out, err);
out:
    sl_free(y.y);
    sl_free(y.yv);
    sl_prediction_free(&q);
    return rc;
}

typedef struct evaluation {
    sl_metric_set metrics;
    sl_eval_slice *slices;
    int nslices;
    double predict_seconds;
} evaluation;

static void evaluation_free(evaluation *ev)
{
    sl_free(ev->slices);
    memset(ev, 0, sizeof *ev);
}

static sl_rc evaluate_slices(trainer *t, const sl_matrix *test, const sl_prediction *p,
                             evaluation *ev, sl_err *err)
{
    int total = 0;
    sl_rc rc = SL_OK;
    for (int i = 0; i < t->nslices; i++)
        total += t->slices[i].nvalues;
    if (total == 0)
        return SL_OK;
    int64_t *rows = sl_malloc((size_t)test->nrows * sizeof *rows);
    ev->slices = sl_calloc((size_t)total, sizeof *ev->slices);
    if (!rows || !ev->slices) {
        sl_free(rows);
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    }
    for (int i = 0; i < t->nslices && rc == SL_OK; i++) {
        slicer *s = &t->slices[i];
        if (s->nrows != test->nrows) {
            rc = sl_err_set(err, SL_EINTERNAL, "slice rows (%lld) != test rows (%lld)",
                            (long long)s->nrows, (long long)test->nrows);
            break;
        }
        for (int v = 0; v < s->nvalues && rc == SL_OK; v++) {
            int64_t n = 0;
            for (int64_t r = 0; r < s->nrows; r++)
                if (s->row[r] == v)
                    rows[n++] = r;
            sl_metric_set all;
            sl_eval_slice *out = &ev->slices[ev->nslices++];
            out->column = s->column;
            out->value = s->values[v];
            out->rows = n;
            if ((rc = subset_metrics(test, p, rows, n, &all, err)) == SL_OK)
                select_metrics(t->spec->evaluate_spec, t->task, &all, &out->metrics);
            else
                sl_err_prefix(err, "evaluate: slice %s=%s", s->column, s->values[v]);
        }
    }
    sl_free(rows);
    return rc;
}

/* Predict the test matrix, metrics overall and per slice. */
static sl_rc evaluate_test(trainer *t, sl_matrix *test, evaluation *ev, sl_err *err)
{
    sl_prediction p;
    sl_metric_set all;
    sl_rc rc;
    memset(&p, 0, sizeof p);
    if (test->nrows == 0)
        return SL_OK;
    if ((rc = align_classes(t->model, test, err)) != SL_OK)
        return rc;
    double t0 = sl_now();
    if ((rc = sl_model_predict(t->model, test, &p, err)) != SL_OK)
        goto out;
    ev->predict_seconds = sl_now() - t0;
    if ((rc = sl_metrics_compute(test, &p, &all, err)) != SL_OK)
        goto out;
    select_metrics(t->spec->evaluate_spec, t->task, &all, &ev->metrics);
    rc = evaluate_slices(t, test, &p, ev, err);
out:
    sl_prediction_free(&p);
    return rc;
}

/* The first metric the gate reads, else the first recorded one. */
static const char *key_metric(const sl_spec_evaluate *e, const sl_metric_set *m)
{
    const char *const *used;
    if (e->gate && sl_gate_metrics(e->gate, &used) > 0)
        return used[0];
    return m->n ? m->names[0] : NULL;
}

static void utc_now(char *buf, size_t n)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- the run ------------------------------------------------------------ */

/* Fit, evaluate, decide and register (after the pipeline ran). */
static sl_rc fit_and_register(trainer *t, const char *root, const sl_train_options *opt,
                              sl_train_result *res, double t0, sl_err *err)
{
    const sl_spec *spec = t->spec;
    const sl_spec_evaluate *e = spec->evaluate_spec;
    sl_matrix *train = NULL, *test = NULL;
    sl_eval_baseline base;
    evaluation ev;
    json_t *desc = NULL;
    char created[32];
    sl_rc rc;
    memset(&base, 0, sizeof base);
    memset(&ev, 0, sizeof ev);
    rc = sl_matrix_builder_finish(t->btrain, &train, err);
    t->btrain = NULL;
    if (rc != SL_OK) {
        sl_err_prefix(err, "model: train rows");
        goto out;
    }
    if (t->btest) {
        rc = sl_matrix_builder_finish(t->btest, &test, err);
        t->btest = NULL;
        if (rc != SL_OK) {
            sl_err_prefix(err, "model: test rows");
            goto out;
        }
    }
    res->rows_train = train->nrows;
    res->rows_test = test ? test->nrows : 0;
    if (train->nrows == 0) {
        rc = sl_err_set(err, SL_EINVAL, "model: no train rows to fit on (did a filter drop "
                                        "every row?)");
        goto out;
    }
    if (!opt->quiet)
        sl_log(SL_LOG_DEBUG, "train", "fitting %s on %lld rows x %d features",
               spec->model_spec->type, (long long)train->nrows, train->ncols);
    double tf = sl_now();
    if ((rc = sl_model_fit(t->model, train, err)) != SL_OK)
        goto out;
    res->fit_seconds = sl_now() - tf;
    if (test && (rc = evaluate_test(t, test, &ev, err)) != SL_OK)
        goto out;
    if ((rc = sl_train_baseline(spec, root, res->name, &base, err)) != SL_OK)
        goto out;
    int blessed = 0, result = -1;
    if ((rc = sl_gate_decide(e->gate, &ev.metrics, &base, &blessed, &result, res->reason,
                             sizeof res->reason, err)) != SL_OK)
        goto out;
    if (!(desc = sl_model_describe(t->model))) {
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        goto out;
    }
    utc_now(created, sizeof created);
    sl_eval_report rep = {
        .name = res->name, .spec_file = spec->file, .created = created,
        .model_type = sl_model_get_type(t->model)->name, .task = t->task,
        .target = spec->model_spec->target, .key_metric = key_metric(e, &ev.metrics),
        .metrics = ev.metrics, .nslices = ev.nslices, .slices = ev.slices,
        .baseline = &base, .gate = e->gate ? sl_gate_text(e->gate) : NULL,
        .gate_result = result, .blessed = blessed, .reason = res->reason,
        .rows_train = res->rows_train, .rows_test = res->rows_test,
        .seconds_pipeline = res->run.seconds, .seconds_fit = res->fit_seconds,
        .seconds_predict = ev.predict_seconds, .describe = desc};
    rep.seconds_total = sl_now() - t0;
    sl_train_reg reg = {.spec = spec, .root = root, .name = res->name, .model = t->model,
                        .transform = t->transform, .transform_len = t->transform_len,
                        .report = &rep};
    if ((rc = sl_train_register(&reg, &res->version, res->dir, sizeof res->dir, err)) !=
        SL_OK)
        goto out;
    res->blessed = blessed;
    res->metrics = ev.metrics;
    res->model_type = rep.model_type;
out:
    json_decref(desc);
    sl_eval_baseline_clear(&base);
    evaluation_free(&ev);
    sl_matrix_free(train);
    sl_matrix_free(test);
    return rc;
}

sl_rc sl_train_run(const sl_spec *spec, const sl_train_options *opt,
                   sl_train_result *res, sl_err *err)
{
    trainer t;
    sl_pipeline_def def;
    double t0 = sl_now();
    sl_rc rc;
    memset(&t, 0, sizeof t);
    memset(res, 0, sizeof *res);
    memset(&def, 0, sizeof def);
    if (!spec->model_spec)
        return sl_err_setloc(err, SL_ECONFIG, spec->file, 0, 0,
                             "the spec has no 'model' section: nothing to train");
    t.spec = spec;
    snprintf(res->name, sizeof res->name, "%s", spec->registry_name);
    const char *root = opt->registry ? opt->registry : spec->registry_path;
    int prev = 0;
    if (sl_registry_get_pointer(root, res->name, "blessed", &prev, NULL) == SL_OK)
        res->previous_blessed = prev;
    if ((rc = sl_pipeline_def_from_spec(spec, &def, err)) != SL_OK)
        goto out;
    sl_run_hooks hooks = {.ud = &t, .begin = on_begin, .batch = on_batch,
                          .transform = on_transform};
    sl_run_options ro = {.quiet = opt->quiet, .progress = opt->progress, .hooks = &hooks};
    if ((rc = sl_pipeline_run(&def, &ro, &res->run, err)) != SL_OK)
        goto out;
    res->task = t.task;
    rc = fit_and_register(&t, root, opt, res, t0, err);
out:
    sl_pipeline_def_clear(&def);
    trainer_free(&t);
    res->seconds = sl_now() - t0;
    return rc;
}
