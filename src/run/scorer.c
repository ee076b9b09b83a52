/*
 * scorer.c: scoring batches with a registered model version (scorer.h),
 * the one implementation behind `sluice predict`, the server and the
 * streaming runner.
 *
 * A scorer owns the loaded model, the version's input schema and a pool
 * of opened transform chains. A chain is transform.json loaded and opened
 * on one input schema, plus what follows from that schema: whether the
 * target has to be added, each model feature's column index after the
 * chain, and the output schema. Chains are matched to batches by
 * sl_schema_equal (names and types in order), so a chain's column indices
 * are valid for every batch it is used on; a batch of a new schema gets a
 * chain of its own (checked against the input schema first).
 *
 * Invariants: the scorer is immutable after open except the pool (under
 * mu); a chain is used by one call at a time (taken off the free list for
 * the call); every chain in the pool passed the feature checks.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run/internal.h"
#include "sluice/mem.h"
#include "sluice/registry.h"
#include "sluice/scorer.h"

/* One opened transform chain for one input schema. */
typedef struct chain {
    sl_transform_file tf; /* zeroed without transform.json */
    sl_schema *in;        /* the schema it was opened on */
    int add_target;       /* `in` lacks the target: added as nulls */
    int *feat;            /* model feature j's column after the chain */
    sl_schema *out;       /* output schema for `in` (options.keep) */
    struct chain *next;   /* free list */
} chain;

struct sl_scorer {
    char *dir;
    char *transform_path; /* NULL without transform.json */
    sl_model *model;
    sl_schema *input;     /* see sl_scorer_input_schema */
    int target;           /* index of the target in input, or -1 */
    sl_scorer_keep keep;
    char *row_name;       /* NULL: count bad values per batch */
    sl_rc transform_rc;
    int mu_init;
    pthread_mutex_t mu;
    chain *pool;          /* free chains */
};

static sl_rc oom(sl_err *err)
{
    return sl_err_set(err, SL_ENOMEM, "out of memory");
}

/* `filter` selects training rows; scoring owes a prediction per row. */
static int skipped(const sl_inst *t)
{
    return strcmp(t->p->name, "filter") == 0;
}

/* ---- input checks ---- */

/* "date (date), wind (float64), weather (string, may be left out)" into
 * buf, cut with "..." when long. */
static void describe_input(const sl_scorer *s, char *buf, size_t n)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int k = 0; k < s->input->n && len < n; k++) {
        const sl_field *f = &s->input->fields[k];
        int w = snprintf(buf + len, n - len, "%s%s (%s%s)", k ? ", " : "", f->name,
                         sl_type_name(f->type), k == s->target ? ", may be left out" : "");
        len += w > 0 ? (size_t)w : 0;
    }
    if (len >= n && n > 4)
        memcpy(buf + n - 4, "...", 4);
}

/* Every column of the input schema but the target must be in `in`: with
 * transform.json of the training type, without it (raw features) numeric. */
static sl_rc check_input(const sl_scorer *s, const sl_schema *in, sl_err *err)
{
    char list[512];
    for (int k = 0; k < s->input->n; k++) {
        const sl_field *f = &s->input->fields[k];
        if (k == s->target)
            continue; /* optional, passed through as read */
        int idx = sl_schema_find(in, f->name);
        sl_rc rc = SL_OK;
        if (idx < 0) {
            describe_input(s, list, sizeof list);
            rc = sl_err_setloc(err, SL_ESCHEMA, s->dir, 0, 0,
                               "input column '%s' (%s) is missing; this model version "
                               "reads %s: %s", f->name, sl_type_name(f->type),
                               s->transform_path ? "its training input schema"
                                                 : "the model's features",
                               list);
        } else if (s->transform_path ? in->fields[idx].type != f->type
                                     : !sl_type_is_numeric(in->fields[idx].type)) {
            rc = sl_err_setloc(err, SL_ESCHEMA, s->dir, 0, 0,
                               "input column '%s' is %s; this model version expects %s",
                               f->name, sl_type_name(in->fields[idx].type),
                               s->transform_path ? sl_type_name(f->type)
                                                 : "a number (bool, int64 or float64)");
        }
        if (rc != SL_OK) {
            sl_err_field(err, f->name);
            return rc;
        }
    }
    return SL_OK;
}

/* Each model feature's column in the chain's output, which must be
 * numeric. */
static sl_rc find_features(const sl_scorer *s, chain *c, const sl_schema *cur, sl_err *err)
{
    const char *const *f = sl_model_features(s->model);
    const char *where = s->transform_path ? s->transform_path : s->dir;
    for (int j = 0; j < sl_model_nfeatures(s->model); j++) {
        int idx = c->feat[j] = sl_schema_find(cur, f[j]);
        sl_rc rc = SL_OK;
        if (idx < 0)
            rc = sl_err_setloc(err, SL_ESCHEMA, where, 0, 0,
                               "the transforms do not produce feature '%s' that the model "
                               "needs (model and transform.json do not match)", f[j]);
        else if (!sl_type_is_numeric(cur->fields[idx].type))
            rc = sl_err_setloc(err, SL_ESCHEMA, where, 0, 0,
                               "feature '%s' comes out of the transforms as %s; the model "
                               "needs a number", f[j], sl_type_name(cur->fields[idx].type));
        if (rc != SL_OK) {
            sl_err_field(err, f[j]);
            return rc;
        }
    }
    return SL_OK;
}

/* The kept columns (options.keep), then the model's prediction columns,
 * nullable, as the appended columns of an output batch are. The
 * prediction columns are taken from an empty prediction batch, so they
 * are those of sl_prediction_to_batch by construction. */
static sl_rc output_schema(const sl_scorer *s, const chain *c, const sl_schema *cur,
                           sl_schema **out, sl_err *err)
{
    const sl_labels *cl = sl_model_classes(s->model);
    sl_task task = sl_model_task(s->model);
    sl_prediction none = {.task = task,
                          .nclasses = task == SL_TASK_CLASSIFICATION ? cl->n : 0};
    sl_batch *pb = NULL;
    sl_schema *o = s->keep == SL_SCORER_KEEP_NONE     ? sl_schema_new()
                   : s->keep == SL_SCORER_KEEP_INPUT ? sl_schema_copy(c->in)
                                                      : sl_schema_copy(cur);
    sl_rc rc = o ? SL_OK : oom(err);
    int ti = rc == SL_OK && s->keep == SL_SCORER_KEEP_TRANSFORMED && c->add_target
                 ? sl_schema_find(o, s->input->fields[s->target].name)
                 : -1;
    if (ti >= 0 && sl_schema_remove(o, ti) != SL_OK)
        rc = oom(err);
    if (rc == SL_OK)
        rc = sl_prediction_to_batch(s->model, &none, &pb, err);
    for (int j = 0; rc == SL_OK && j < pb->schema->n; j++)
        rc = sl_schema_add(o, pb->schema->fields[j].name, pb->schema->fields[j].type, 1, err);
    sl_batch_unref(pb);
    if (rc != SL_OK) {
        sl_schema_free(o);
        return rc;
    }
    *out = o;
    return SL_OK;
}

/* ---- chains ---- */

static void chain_free(chain *c)
{
    if (!c)
        return;
    sl_transform_file_free(&c->tf); /* closes the opened steps */
    sl_schema_free(c->in);
    sl_schema_free(c->out);
    sl_free(c->feat);
    sl_free(c);
}

/* A chain for input schema `in`. tf: transform.json already loaded (taken
 * over, also on failure), or NULL to load it here. */
static sl_rc chain_open(const sl_scorer *s, const sl_schema *in, sl_transform_file *tf,
                        chain **out, sl_err *err)
{
    chain *c = sl_calloc(1, sizeof *c);
    sl_schema *with_target = NULL;
    const sl_schema *cur = in;
    sl_rc rc = SL_OK;
    *out = NULL;
    if (c && tf)
        c->tf = *tf;
    else if (tf)
        sl_transform_file_free(tf);
    if (!c)
        return oom(err);
    if ((rc = check_input(s, in, err)) != SL_OK)
        goto out;
    if (!(c->in = sl_schema_copy(in)) ||
        !(c->feat = sl_calloc((size_t)sl_model_nfeatures(s->model) + 1, sizeof *c->feat))) {
        rc = oom(err);
        goto out;
    }
    if (s->transform_path && !tf &&
        (rc = sl_transform_file_load(s->transform_path, &c->tf, err)) != SL_OK)
        goto out;
    if (s->transform_path && s->target >= 0 &&
        sl_schema_find(in, s->input->fields[s->target].name) < 0) {
        const sl_field *t = &s->input->fields[s->target];
        c->add_target = 1;
        if (!(with_target = sl_schema_copy(in))) {
            rc = oom(err);
            goto out;
        }
        if ((rc = sl_schema_add(with_target, t->name, t->type, 1, err)) != SL_OK)
            goto out;
        cur = with_target;
    }
    for (int i = 0; i < c->tf.n; i++) {
        if (skipped(&c->tf.t[i]))
            continue;
        if ((rc = sl_inst_open(&c->tf.t[i], cur, err)) != SL_OK) {
            sl_err_at(err, s->transform_path, 0, 0);
            goto out;
        }
        cur = c->tf.t[i].out;
    }
    if ((rc = find_features(s, c, cur, err)) == SL_OK)
        rc = output_schema(s, c, cur, &c->out, err);
out:
    sl_schema_free(with_target);
    if (rc != SL_OK) {
        chain_free(c);
        return rc;
    }
    *out = c;
    return SL_OK;
}

/* A free chain opened on `in`'s names and types, else a new one (opened
 * outside the lock: it reads transform.json). */
static sl_rc chain_borrow(sl_scorer *s, const sl_schema *in, chain **out, sl_err *err)
{
    pthread_mutex_lock(&s->mu);
    chain **pp = &s->pool;
    while (*pp && !sl_schema_equal((*pp)->in, in))
        pp = &(*pp)->next;
    chain *c = *pp;
    if (c)
        *pp = c->next;
    pthread_mutex_unlock(&s->mu);
    if (!c)
        return chain_open(s, in, NULL, out, err);
    c->next = NULL;
    *out = c;
    return SL_OK;
}

static void chain_return(sl_scorer *s, chain *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&s->mu);
    c->next = s->pool;
    s->pool = c;
    pthread_mutex_unlock(&s->mu);
}

/* ---- scoring ---- */

/* A new batch sharing every column of b but column `skip` (-1: none). */
static sl_rc share_columns(const sl_batch *b, int skip, sl_batch **out, sl_err *err)
{
    int n = b->schema->n, k = 0;
    int *idx = sl_malloc((size_t)(n ? n : 1) * sizeof *idx);
    if (!idx)
        return oom(err);
    for (int i = 0; i < n; i++)
        if (i != skip)
            idx[k++] = i;
    sl_rc rc = sl_batch_project(b, idx, k, out);
    sl_free(idx);
    return rc == SL_OK ? SL_OK : sl_err_set(err, rc, "out of memory");
}

/* Steps 1 and 2 (scorer.h) on *b (consumed): *b becomes the transformed
 * batch (NULL when a step failed); the caller unrefs it either way. */
static sl_rc transform(const sl_scorer *s, chain *c, sl_batch **b, sl_err *err)
{
    int64_t n = (*b)->nrows;
    sl_rc rc = SL_OK;
    if (c->add_target) {
        const sl_field *t = &s->input->fields[s->target];
        sl_batch *w = NULL;
        sl_column *col = NULL;
        if ((rc = share_columns(*b, -1, &w, err)) == SL_OK &&
            !(col = sl_column_new_nulls(t->type, n)))
            rc = oom(err);
        if (rc == SL_OK)
            rc = sl_batch_add_column(w, t->name, col, err);
        sl_batch_unref(*b);
        *b = rc == SL_OK ? w : NULL;
        if (rc != SL_OK) {
            sl_batch_unref(w);
            return rc;
        }
    }
    for (int i = 0; i < c->tf.n && rc == SL_OK; i++)
        if (!skipped(&c->tf.t[i]))
            rc = sl_chain_apply(&c->tf.t[i], 1, b, err);
    if (rc != SL_OK) {
        if (s->transform_rc && rc != SL_ENOMEM && err)
            err->code = s->transform_rc;
        return s->transform_rc && rc != SL_ENOMEM ? s->transform_rc : rc;
    }
    if ((*b)->nrows != n)
        return sl_err_set(err, SL_EINTERNAL,
                          "the transforms changed the row count (%lld -> %lld)",
                          (long long)n, (long long)(*b)->nrows);
    return SL_OK;
}

/* Feature j's column: the index found when the chain opened (every batch
 * it transforms has the same schema), checked by name, else a lookup. */
static int feature_column(const sl_scorer *s, const chain *c, const sl_batch *b, int j)
{
    const char *name = sl_model_features(s->model)[j];
    int idx = c->feat[j];
    if (idx >= 0 && idx < b->schema->n && strcmp(b->schema->fields[idx].name, name) == 0)
        return idx;
    return sl_batch_find(b, name);
}

static sl_rc bad_value(const sl_scorer *s, const char *feat, const char *why, int64_t first,
                       int64_t count, int64_t n, sl_err *err)
{
    if (s->row_name)
        sl_err_set(err, SL_ESCHEMA,
                   "%s[%lld]: feature '%s' %s after the transforms, and the model needs a "
                   "value (send it, or impute it in the pipeline)",
                   s->row_name, (long long)first, feat, why);
    else
        sl_err_set(err, SL_ESCHEMA,
                   "feature '%s' %s after the transforms in %lld of %lld rows (the first is "
                   "row %lld of the batch); the model needs a value (impute it in the "
                   "pipeline)",
                   feat, why, (long long)count, (long long)n, (long long)first + 1);
    sl_err_field(err, feat);
    return SL_ESCHEMA;
}

/* Step 3: the model's input matrix from a transformed batch, converted
 * exactly as the matrix builder converts training data (value -> double
 * -> float), without its per-batch name lookups (at one row per request
 * those were ~10% of the server's CPU). x->x must be sl_free'd. */
static sl_rc build_matrix(const sl_scorer *s, const chain *c, const sl_batch *b, sl_matrix *x,
                          sl_err *err)
{
    int nf = sl_model_nfeatures(s->model);
    const char *const *feat = sl_model_features(s->model);
    int64_t n = b->nrows;
    memset(x, 0, sizeof *x);
    x->nrows = n;
    x->ncols = nf;
    x->names = (char **)feat; /* borrowed; never freed through x */
    if (!(x->x = sl_malloc((size_t)nf * (size_t)(n ? n : 1) * sizeof *x->x)))
        return oom(err);
    for (int j = 0; j < nf; j++) {
        int idx = feature_column(s, c, b, j);
        if (idx < 0)
            return sl_err_set(err, SL_EINTERNAL, "feature '%s' is missing after the transforms",
                              feat[j]);
        const sl_column *col = b->cols[idx];
        float *dst = x->x + (size_t)j * (size_t)n;
        const char *why = NULL;
        int64_t first = -1, count = 0;
        for (int64_t i = 0; i < n; i++) {
            const char *w = NULL;
            double d = 0;
            if (!sl_col_valid(col, i))
                w = "is null";
            else if (col->type == SL_FLOAT64) {
                d = sl_col_f64(col, i);
                if (!isfinite(d) || fabs(d) > 3.4e38)
                    w = "is not a finite number in float range";
            } else if (col->type == SL_INT64)
                d = (double)sl_col_i64(col, i);
            else
                d = sl_col_bool(col, i);
            if (w) {
                if (!why) {
                    why = w;
                    first = i;
                }
                count += w == why;
                if (s->row_name)
                    break; /* names the first row only */
            }
            dst[i] = (float)d;
        }
        if (why)
            return bad_value(s, feat[j], why, first, count, n, err);
    }
    return SL_OK;
}

/* Steps 1-4 on *b (consumed; *b is the transformed batch afterwards, or
 * NULL). */
static sl_rc score(const sl_scorer *s, chain *c, sl_batch **b, sl_prediction *p, sl_err *err)
{
    sl_matrix x = {0};
    sl_rc rc = transform(s, c, b, err);
    if (rc == SL_OK && (rc = build_matrix(s, c, *b, &x, err)) == SL_OK)
        rc = sl_model_predict(s->model, &x, p, err);
    sl_free(x.x);
    return rc;
}

sl_rc sl_scorer_predict(sl_scorer *s, sl_batch *in, sl_prediction *out, sl_err *err)
{
    chain *c = NULL;
    memset(out, 0, sizeof *out);
    sl_rc rc = chain_borrow(s, in->schema, &c, err);
    if (rc == SL_OK)
        rc = score(s, c, &in, out, err);
    chain_return(s, c);
    sl_batch_unref(in);
    return rc;
}

/* The output batch: the kept columns of `kept` (the transformed batch, or
 * the input; NULL for none), then the prediction columns of pb. */
static sl_rc assemble(const sl_scorer *s, const chain *c, const sl_batch *kept,
                      const sl_batch *pb, sl_batch **out, sl_err *err)
{
    sl_batch *o = NULL;
    sl_rc rc = SL_OK;
    int skip = kept && s->keep == SL_SCORER_KEEP_TRANSFORMED && c->add_target
                   ? sl_batch_find(kept, s->input->fields[s->target].name)
                   : -1;
    if (kept)
        rc = share_columns(kept, skip, &o, err);
    else if (!(o = sl_batch_new(NULL, 0)))
        rc = oom(err);
    for (int j = 0; rc == SL_OK && j < pb->schema->n; j++)
        rc = sl_batch_add_column(o, pb->schema->fields[j].name, sl_column_ref(pb->cols[j]),
                                 err);
    if (rc != SL_OK) {
        sl_batch_unref(o);
        return rc;
    }
    *out = o;
    return SL_OK;
}

sl_rc sl_scorer_apply(sl_scorer *s, sl_batch *in, sl_batch **out, sl_err *err)
{
    chain *c = NULL;
    sl_batch *input = s->keep == SL_SCORER_KEEP_INPUT ? sl_batch_ref(in) : NULL;
    sl_batch *pb = NULL;
    sl_prediction p;
    memset(&p, 0, sizeof p);
    *out = NULL;
    sl_rc rc = chain_borrow(s, in->schema, &c, err);
    if (rc == SL_OK)
        rc = score(s, c, &in, &p, err);
    if (rc == SL_OK)
        rc = sl_prediction_to_batch(s->model, &p, &pb, err);
    if (rc == SL_OK)
        rc = assemble(s, c, s->keep == SL_SCORER_KEEP_INPUT ? input
                            : s->keep == SL_SCORER_KEEP_NONE ? NULL : in,
                      pb, out, err);
    chain_return(s, c);
    sl_prediction_free(&p);
    sl_batch_unref(pb);
    sl_batch_unref(input);
    sl_batch_unref(in);
    return rc;
}

sl_rc sl_scorer_output_schema(sl_scorer *s, const sl_schema *in, sl_schema **out, sl_err *err)
{
    chain *c;
    *out = NULL;
    sl_rc rc = chain_borrow(s, in, &c, err);
    if (rc != SL_OK)
        return rc;
    if (!(*out = sl_schema_copy(c->out)))
        rc = oom(err);
    chain_return(s, c); /* the first apply on `in` uses it */
    return rc;
}

/* ---- open / close ---- */

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The input schema: transform.json's (with the target nullable) or the
 * model's features as float64. *tf gets transform.json when there is one
 * (zeroed otherwise). */
static sl_rc setup_input(sl_scorer *s, sl_transform_file *tf, sl_err *err)
{
    sl_rc rc = SL_OK;
    memset(tf, 0, sizeof *tf);
    if (s->transform_path) {
        if ((rc = sl_transform_file_load(s->transform_path, tf, err)) != SL_OK)
            return rc;
        if (!(s->input = sl_schema_copy(tf->in)))
            return oom(err);
    } else {
        if (!(s->input = sl_schema_new()))
            return oom(err);
        const char *const *f = sl_model_features(s->model);
        for (int j = 0; j < sl_model_nfeatures(s->model) && rc == SL_OK; j++)
            rc = sl_schema_add(s->input, f[j], SL_FLOAT64, 0, err);
        if (rc != SL_OK)
            return rc;
    }
    const char *target = sl_model_target(s->model);
    s->target = target ? sl_schema_find(s->input, target) : -1;
    if (s->target >= 0)
        s->input->fields[s->target].nullable = 1;
    return SL_OK;
}

sl_rc sl_scorer_open(const char *dir, const sl_scorer_options *o, sl_scorer **out, sl_err *err)
{
    static const sl_scorer_options defaults;
    char path[SL_PATH_MAX + 64];
    sl_transform_file tf;
    sl_rc rc = SL_OK;
    *out = NULL;
    memset(&tf, 0, sizeof tf);
    if (!o)
        o = &defaults;
    if (!is_dir(dir))
        return sl_err_setloc(err, SL_ENOTFOUND, dir, 0, 0,
                             "no model version here (expected a registry version directory "
                             "such as models/ml_models/NAME/1)");
    sl_scorer *s = sl_calloc(1, sizeof *s);
    if (!s)
        return oom(err);
    s->target = -1;
    s->keep = o->keep;
    s->transform_rc = o->transform_rc;
    if (!(s->dir = sl_strdup(dir)) || (o->row_name && !(s->row_name = sl_strdup(o->row_name))) ||
        pthread_mutex_init(&s->mu, NULL) != 0) {
        rc = oom(err);
        goto out;
    }
    s->mu_init = 1;
    snprintf(path, sizeof path, "%s/%s", dir, SL_REGISTRY_MODEL_FILE);
    if ((rc = sl_model_load(path, &s->model, err)) != SL_OK)
        goto out;
    if (!sl_model_fitted(s->model)) {
        rc = sl_err_setloc(err, SL_EINVAL, path, 0, 0, "the model is not fitted");
        goto out;
    }
    snprintf(path, sizeof path, "%s/%s", dir, SL_REGISTRY_TRANSFORM_FILE);
    if (access(path, F_OK) == 0 && !(s->transform_path = sl_strdup(path))) {
        rc = oom(err);
        goto out;
    }
    if ((rc = setup_input(s, &tf, err)) != SL_OK) {
        sl_transform_file_free(&tf);
        goto out;
    }
    /* Validate the version on its own input schema; the chain stays in
     * the pool for batches of that schema (the server's requests). */
    rc = chain_open(s, s->input, s->transform_path ? &tf : NULL, &s->pool, err);
out:
    if (rc != SL_OK) {
        sl_scorer_close(s);
        return rc;
    }
    *out = s;
    return SL_OK;
}

void sl_scorer_close(sl_scorer *s)
{
    if (!s)
        return;
    for (chain *c = s->pool, *next; c; c = next) {
        next = c->next;
        chain_free(c);
    }
    if (s->mu_init)
        pthread_mutex_destroy(&s->mu);
    sl_schema_free(s->input);
    sl_model_free(s->model);
    sl_free(s->transform_path);
    sl_free(s->row_name);
    sl_free(s->dir);
    sl_free(s);
}

/* ---- accessors ---- */

const sl_schema *sl_scorer_input_schema(const sl_scorer *s)
{
    return s->input;
}

int sl_scorer_target_index(const sl_scorer *s)
{
    return s->target;
}

sl_rc sl_scorer_source_hint(const sl_scorer *s, sl_schema **hint, sl_err *err)
{
    *hint = NULL;
    if (!s->transform_path)
        return SL_OK;
    if (!(*hint = sl_schema_copy(s->input)) ||
        (s->target >= 0 && sl_schema_remove(*hint, s->target) != SL_OK)) {
        sl_schema_free(*hint);
        *hint = NULL;
        return oom(err);
    }
    return SL_OK;
}

const sl_model *sl_scorer_model(const sl_scorer *s)
{
    return s->model;
}

const char *sl_scorer_dir(const sl_scorer *s)
{
    return s->dir;
}

const char *sl_scorer_transform_path(const sl_scorer *s)
{
    return s->transform_path;
}
