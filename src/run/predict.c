/*
 * predict.c: `sluice predict` (train.h): score a file with a registered
 * model version.
 *
 * The version's transform chain and model run as one extra stage (a
 * private transform plugin, "predict") behind the file source of
 * sl_run_file_job, so reading, rejects, progress and the atomic output
 * are exactly those of `sluice apply`. What the stage does matches the
 * server (src/serving/store.c): the input is read with the training input
 * schema, the target may be missing (a null column of its type stands in
 * while the transforms run and is dropped again), `filter` steps are
 * skipped so every input row gets a prediction, and the model scores the
 * transformed rows by feature name.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run/internal.h"
#include "sluice/mem.h"
#include "sluice/model.h"
#include "sluice/registry.h"
#include "sluice/train.h"

typedef struct predictor {
    sl_transform_file tf; /* tf.n == 0 without transform.json */
    int has_tf;
    sl_model *model;
    const char *target;   /* the model's target, or NULL */
    sl_type target_type;  /* its type in the training input */
    int add_target;       /* the input lacks the target: add it (nulls) */
} predictor;

static int skipped(const sl_inst *t)
{
    return strcmp(t->p->name, "filter") == 0;
}

static sl_rc stage_init(void **inst, void *config, const sl_ctx *ctx, sl_err *err)
{
    (void)ctx;
    (void)err;
    *inst = config; /* the predictor, owned by sl_predict_file */
    return SL_OK;
}

/* The output schema: the transformed columns (without a target that was
 * added), then prediction and proba_<class>. */
static sl_rc out_schema(predictor *p, const sl_schema *cur, sl_schema **out, sl_err *err)
{
    sl_schema *s = sl_schema_copy(cur);
    char name[SL_ERR_FIELD_MAX];
    sl_rc rc = s ? SL_OK : SL_ENOMEM;
    int ti = p->add_target && s ? sl_schema_find(s, p->target) : -1;
    if (ti >= 0)
        rc = sl_schema_remove(s, ti);
    const sl_labels *cl = sl_model_classes(p->model);
    int cls = sl_model_task(p->model) == SL_TASK_CLASSIFICATION;
    if (rc == SL_OK)
        rc = sl_schema_add(s, "prediction", cls ? cl->type : SL_FLOAT64, 1, err);
    for (int k = 0; cls && rc == SL_OK && k < cl->n; k++) {
        snprintf(name, sizeof name, "proba_%s", cl->names[k]);
        rc = sl_schema_add(s, name, SL_FLOAT64, 1, err);
    }
    if (rc != SL_OK) {
        sl_schema_free(s);
        return rc == SL_ENOMEM ? sl_err_set(err, rc, "out of memory") : rc;
    }
    *out = s;
    return SL_OK;
}

static sl_rc check_features(predictor *p, const sl_schema *s, sl_err *err)
{
    const char *const *f = sl_model_features(p->model);
    for (int j = 0; j < sl_model_nfeatures(p->model); j++) {
        int idx = sl_schema_find(s, f[j]);
        if (idx < 0)
            return sl_err_set(err, SL_ESCHEMA,
                              "the model needs feature '%s', which the transforms do not "
                              "produce from this input (model and transform.json do not "
                              "match?)",
                              f[j]);
        if (!sl_type_is_numeric(s->fields[idx].type))
            return sl_err_set(err, SL_ESCHEMA,
                              "feature '%s' comes out of the transforms as %s; the model "
                              "needs a number",
                              f[j], sl_type_name(s->fields[idx].type));
    }
    return SL_OK;
}

static sl_rc stage_open(void *h, const sl_schema *in, sl_schema **out, sl_err *err)
{
    predictor *p = h;
    sl_schema *with_target = NULL;
    const sl_schema *cur = in;
    sl_rc rc = SL_OK;
    *out = NULL;
    if (p->target && sl_schema_find(in, p->target) < 0 && p->has_tf &&
        sl_schema_find(p->tf.in, p->target) >= 0) {
        p->add_target = 1;
        if (!(with_target = sl_schema_copy(in)))
            return sl_err_set(err, SL_ENOMEM, "out of memory");
        if ((rc = sl_schema_add(with_target, p->target, p->target_type, 1, err)) != SL_OK)
            goto out;
        cur = with_target;
    }
    for (int i = 0; i < p->tf.n; i++) {
        if (skipped(&p->tf.t[i]))
            continue;
        if ((rc = sl_inst_open(&p->tf.t[i], cur, err)) != SL_OK)
            goto out;
        cur = p->tf.t[i].out;
    }
    if ((rc = check_features(p, cur, err)) == SL_OK)
        rc = out_schema(p, cur, out, err);
out:
    sl_schema_free(with_target);
    return rc;
}

/* A batch this stage may change: b itself when nobody else holds it,
 * else a new batch sharing its columns. Consumes the reference. */
static sl_rc own_batch(sl_batch **b, sl_err *err)
{
    if ((*b)->refcount == 1)
        return SL_OK;
    int n = (*b)->schema->n;
    int *idx = sl_malloc((size_t)(n ? n : 1) * sizeof *idx);
    sl_batch *copy = NULL;
    if (!idx)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    for (int i = 0; i < n; i++)
        idx[i] = i;
    sl_rc rc = sl_batch_project(*b, idx, n, &copy);
    sl_free(idx);
    if (rc != SL_OK)
        return sl_err_set(err, rc, "out of memory");
    sl_batch_unref(*b);
    *b = copy;
    return SL_OK;
}

static sl_rc stage_process(void *h, sl_batch *in, sl_batch **out, sl_err *err)
{
    predictor *p = h;
    sl_batch *b = in, *pb = NULL;
    sl_prediction pred;
    sl_rc rc;
    int64_t n = in->nrows;
    memset(&pred, 0, sizeof pred);
    *out = NULL;
    if ((rc = own_batch(&b, err)) != SL_OK)
        goto out;
    if (p->add_target) {
        sl_column *c = sl_column_new_nulls(p->target_type, n);
        if (!c) {
            rc = sl_err_set(err, SL_ENOMEM, "out of memory");
            goto out;
        }
        if ((rc = sl_batch_add_column(b, p->target, c, err)) != SL_OK)
            goto out;
    }
    for (int i = 0; i < p->tf.n && rc == SL_OK; i++)
        if (!skipped(&p->tf.t[i]))
            rc = sl_chain_apply(&p->tf.t[i], 1, &b, err);
    if (rc != SL_OK)
        goto out;
    if (b->nrows != n) {
        rc = sl_err_set(err, SL_EINTERNAL, "the transforms changed the row count (%lld -> %lld)",
                        (long long)n, (long long)b->nrows);
        goto out;
    }
    if ((rc = sl_model_predict_batch(p->model, b, &pred, err)) != SL_OK ||
        (rc = sl_prediction_to_batch(p->model, &pred, &pb, err)) != SL_OK ||
        (rc = own_batch(&b, err)) != SL_OK)
        goto out;
    int ti = p->add_target ? sl_batch_find(b, p->target) : -1;
    if (ti >= 0 && (rc = sl_batch_drop_column(b, ti)) != SL_OK) {
        sl_err_set(err, rc, "out of memory");
        goto out;
    }
    for (int j = 0; j < pb->schema->n && rc == SL_OK; j++)
        rc = sl_batch_add_column(b, pb->schema->fields[j].name, sl_column_ref(pb->cols[j]),
                                 err);
    if (rc == SL_OK) {
        *out = b;
        b = NULL;
    }
out:
    sl_prediction_free(&pred);
    sl_batch_unref(pb);
    sl_batch_unref(b);
    return rc;
}

static const sl_plugin predict_stage = {
    .abi_version = SL_PLUGIN_ABI_VERSION,
    .name = "predict",
    .kind = SL_PLUGIN_TRANSFORM,
    .summary = "Transforms of a registered version, then its model.",
    .init = stage_init,
    .open = stage_open,
    .process = stage_process,
};

/* ---- model references --------------------------------------------------- */

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int parse_positive(const char *s)
{
    int v = 0;
    if (!*s || strlen(s) > 9)
        return 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return 0;
        v = v * 10 + (*s - '0');
    }
    return v;
}

sl_rc sl_model_ref_resolve(const char *path, int version, sl_model_ref *out, sl_err *err)
{
    char clean[SL_PATH_MAX], probe[SL_PATH_MAX + 64];
    memset(out, 0, sizeof *out);
    size_t len = strlen(path);
    while (len > 1 && path[len - 1] == '/')
        len--;
    if (len >= sizeof clean)
        return sl_err_set(err, SL_ELIMIT, "path too long: %s", path);
    snprintf(clean, sizeof clean, "%.*s", (int)len, path);
    const char *slash = strrchr(clean, '/');
    const char *base = slash ? slash + 1 : clean;
    snprintf(probe, sizeof probe, "%s/%s", clean, SL_REGISTRY_MODEL_FILE);
    if (access(probe, F_OK) == 0) {
        /* a version directory itself */
        if (version > 0)
            return sl_err_setloc(err, SL_EINVAL, clean, 0, 0,
                                 "--version needs a model directory (e.g. "
                                 "models/ml_models/NAME), not a version directory");
        snprintf(out->dir, sizeof out->dir, "%s", clean);
        out->version = parse_positive(base);
        return SL_OK;
    }
    if (!is_dir(clean))
        return sl_err_setloc(err, SL_ENOTFOUND, clean, 0, 0,
                             "no model here (expected a registry model directory such as "
                             "models/ml_models/NAME, or one of its version directories)");
    if (slash)
        snprintf(out->root, sizeof out->root, "%.*s", (int)(slash - clean), clean);
    else
        snprintf(out->root, sizeof out->root, ".");
    snprintf(out->name, sizeof out->name, "%s", base);
    int v = version;
    if (v <= 0 &&
        sl_registry_get_pointer(out->root, out->name, "blessed", &v, NULL) != SL_OK &&
        sl_registry_get_pointer(out->root, out->name, "latest", &v, NULL) != SL_OK)
        return sl_err_setloc(err, SL_ENOTFOUND, clean, 0, 0,
                             "model '%s' has no blessed or latest version (train it with "
                             "sluice train)",
                             out->name);
    out->version = v;
    sl_registry_version_dir(out->root, out->name, v, out->dir, sizeof out->dir);
    if (!is_dir(out->dir))
        return sl_err_setloc(err, SL_ENOTFOUND, out->dir, 0, 0, "model '%s' has no version %d",
                             out->name, v);
    return SL_OK;
}

/* ---- sl_predict_file ---------------------------------------------------- */

/* The training input schema without the target (it may be absent). */
static sl_rc input_hint(predictor *p, sl_schema **hint, sl_err *err)
{
    *hint = NULL;
    if (!p->has_tf)
        return SL_OK;
    if (!(*hint = sl_schema_copy(p->tf.in)))
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    int ti = p->target ? sl_schema_find(*hint, p->target) : -1;
    if (ti >= 0) {
        p->target_type = (*hint)->fields[ti].type;
        if (sl_schema_remove(*hint, ti) != SL_OK)
            return sl_err_set(err, SL_ENOMEM, "out of memory");
    }
    return SL_OK;
}

sl_rc sl_predict_file(const char *dir, const char *in_path, const char *out_path,
                      const char *on_error, const char *rejects_path,
                      const sl_run_options *opt, sl_run_summary *sum, sl_err *err)
{
    predictor p;
    sl_inst stage;
    sl_schema *hint = NULL;
    char path[SL_PATH_MAX + 64];
    sl_rc rc;
    memset(&p, 0, sizeof p);
    memset(&stage, 0, sizeof stage);
    memset(sum, 0, sizeof *sum);
    snprintf(path, sizeof path, "%s/%s", dir, SL_REGISTRY_MODEL_FILE);
    if ((rc = sl_model_load(path, &p.model, err)) != SL_OK)
        goto out;
    if (!sl_model_fitted(p.model)) {
        rc = sl_err_setloc(err, SL_EINVAL, path, 0, 0, "the model is not fitted");
        goto out;
    }
    p.target = sl_model_target(p.model);
    snprintf(path, sizeof path, "%s/%s", dir, SL_REGISTRY_TRANSFORM_FILE);
    if (access(path, F_OK) == 0) {
        if ((rc = sl_transform_file_load(path, &p.tf, err)) != SL_OK)
            goto out;
        p.has_tf = 1;
        snprintf(sum->transform_path, sizeof sum->transform_path, "%s", path);
    }
    if ((rc = input_hint(&p, &hint, err)) != SL_OK)
        goto out;
    sl_ctx ctx = {.quiet = opt->quiet};
    if ((rc = sl_inst_init(&stage, &predict_stage, &p, NULL, &ctx, err)) != SL_OK)
        goto out;
    rc = sl_run_file_job(in_path, out_path, hint, &stage, 1, on_error, rejects_path, opt,
                         "predict", sum, err);
out:
    {
        sl_err ignored;
        sl_err_clear(&ignored);
        sl_inst_close(&stage, &ignored);
        sl_inst_destroy(&stage);
    }
    sl_schema_free(hint);
    if (p.has_tf)
        sl_transform_file_free(&p.tf);
    sl_model_free(p.model);
    return rc;
}
