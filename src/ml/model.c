/*
 * model.c: the model container, the registry of model types, prediction
 * output and the model file format (docs/design/ml.md).
 *
 * A model owns: its type (static vtable), task, parsed hyper-parameters,
 * and once fitted the feature names, target name, class list and the
 * type's fitted state. The container does everything that is the same for
 * every type (argmax labels, name lookups, file header, checksum, atomic
 * writes), so a type only implements fit / predict / payload I/O.
 *
 * File invariant: the header and payload are covered by a CRC-32 that is
 * verified before anything is parsed, and every count read afterwards is
 * still checked against the remaining bytes (sl_rbuf), so neither a flipped
 * bit nor a forged checksum can make load read out of bounds.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "ml_internal.h"
#include "sluice/config_map.h"
#include "sluice/fsutil.h"
#include "sluice/mem.h"

#define SLMD_MAGIC "SLMD"
#define SLMD_VERSION 1u
#define MAX_FEATURES (1 << 20)
#define MAX_CLASSES 4096
#define MAX_FILE_PARAMS 64

extern const sl_model_type sl_model_random_forest;
extern const sl_model_type sl_model_gbdt;
extern const sl_model_type sl_model_logistic_regression;
extern const sl_model_type sl_model_linear_regression;
extern const sl_model_type sl_model_mlp;

static const sl_model_type *const registry[] = {
    &sl_model_random_forest,      &sl_model_gbdt,
    &sl_model_logistic_regression, &sl_model_linear_regression,
    &sl_model_mlp,
};
#define NTYPES ((int)(sizeof registry / sizeof registry[0]))

struct sl_model {
    const sl_model_type *type;
    sl_model_info info;
    void *params;
    int nfeatures;
    char **features;
    char *target;
    sl_labels classes;
    void *state; /* NULL until fitted */
};

const sl_model_type *sl_model_type_find(const char *name)
{
    for (int i = 0; name && i < NTYPES; i++)
        if (strcmp(registry[i]->name, name) == 0)
            return registry[i];
    return NULL;
}

int sl_model_type_count(void)
{
    return NTYPES;
}

const sl_model_type *sl_model_type_at(int i)
{
    return i >= 0 && i < NTYPES ? registry[i] : NULL;
}

const char *sl_model_type_closest(const char *name)
{
    const char *names[NTYPES + 1];
    for (int i = 0; i < NTYPES; i++)
        names[i] = registry[i]->name;
    names[NTYPES] = NULL;
    return sl_closest_name(names, name);
}

static const char *kind_name(sl_mparam_kind k)
{
    switch (k) {
    case SL_MP_INT:
        return "integer";
    case SL_MP_FLOAT:
        return "number";
    case SL_MP_BOOL:
        return "bool";
    case SL_MP_ENUM:
        return "enum";
    default:
        return "string";
    }
}

void sl_model_doc_md(FILE *out)
{
    for (int i = 0; i < NTYPES; i++) {
        const sl_model_type *t = registry[i];
        fprintf(out, "### %s\n\n%s\n\n| parameter | type | default | "
                     "description |\n| --- | --- | --- | --- |\n",
                t->name, t->doc);
        for (const sl_model_param_def *d = t->params; d && d->key; d++) {
            fprintf(out, "| `%s`%s%s%s | %s", d->key, d->alias ? " (`" : "",
                    d->alias ? d->alias : "", d->alias ? "`)" : "",
                    kind_name(d->kind));
            /* '|' would end the table cell: list the choices with commas */
            if (d->choices)
                fputs(": ", out);
            for (const char *c = d->choices; c && *c; c++) {
                if (*c == '|')
                    fputs(", ", out);
                else
                    fputc(*c, out);
            }
            fprintf(out, " | %s | %s |\n", d->def ? d->def : "by task", d->doc);
        }
        fprintf(out, "\n");
    }
}

/* ---- lifecycle ---- */
static void free_fitted(sl_model *m)
{
    if (m->state && m->type->free_state)
        m->type->free_state(m->state);
    m->state = NULL;
    for (int j = 0; m->features && j < m->nfeatures; j++)
        sl_free(m->features[j]);
    sl_free(m->features);
    m->features = NULL;
    m->nfeatures = 0;
    sl_free(m->target);
    m->target = NULL;
    sl_labels_clear(&m->classes);
}

void sl_model_free(sl_model *m)
{
    if (!m)
        return;
    free_fitted(m);
    sl_free(m->params);
    sl_free(m);
}

static sl_rc new_model(const sl_model_type *t, sl_task task,
                       const sl_model_param *kv, int n, sl_model **out,
                       sl_err *err)
{
    sl_rc rc = SL_ENOMEM;
    sl_model *m = sl_calloc(1, sizeof *m);
    *out = NULL;
    if (!m || !(m->params = sl_calloc(1, t->params_size ? t->params_size : 1))) {
        sl_err_set(err, rc, "out of memory");
        goto out;
    }
    m->type = t;
    m->info.task = task;
    if (task != SL_TASK_CLASSIFICATION && task != SL_TASK_REGRESSION) {
        rc = sl_err_set(err, SL_EINVAL, "model '%s': task must be "
                        "classification or regression", t->name);
        goto out;
    }
    if (!(t->tasks & (1u << task))) {
        rc = sl_err_set(err, SL_ECONFIG, "model '%s' does not do %s%s",
                        t->name, sl_task_name(task),
                        task == SL_TASK_CLASSIFICATION
                            ? " (use logistic_regression, random_forest, "
                              "gbdt or mlp)"
                            : " (use linear_regression, random_forest, gbdt "
                              "or mlp)");
        goto out;
    }
    if ((rc = sl_mparams_apply(t, kv, n, m->params, err)) != SL_OK)
        goto out;
    if (t->check && (rc = t->check(m->params, task, err)) != SL_OK)
        goto out;
    rc = SL_OK;
out:
    if (rc == SL_OK)
        *out = m;
    else
        sl_model_free(m);
    return rc;
}

sl_rc sl_model_new(const char *type, sl_task task,
                   const sl_model_param *params, int nparams,
                   sl_model **out, sl_err *err)
{
    const sl_model_type *t = sl_model_type_find(type);
    *out = NULL;
    if (!t) {
        const char *best = sl_model_type_closest(type);
        char known[256];
        size_t k = 0;
        known[0] = '\0';
        for (int i = 0; i < NTYPES && k < sizeof known; i++)
            k += (size_t)snprintf(known + k, sizeof known - k, "%s%s",
                                  i ? ", " : "", registry[i]->name);
        if (best)
            return sl_err_set(err, SL_ENOTFOUND,
                              "unknown model type '%s' (did you mean '%s'?)",
                              type ? type : "", best);
        return sl_err_set(err, SL_ENOTFOUND,
                          "unknown model type '%s' (known: %s)",
                          type ? type : "", known);
    }
    if (t->abi_version != SL_MODEL_ABI_VERSION)
        return sl_err_set(err, SL_EINTERNAL, "model type '%s' has ABI %d",
                          t->name, t->abi_version);
    return new_model(t, task, params, nparams, out, err);
}

static sl_rc copy_names(char ***dst, char *const *src, int n)
{
    char **a = sl_calloc((size_t)n + 1, sizeof *a);
    if (!a)
        return SL_ENOMEM;
    for (int j = 0; j < n; j++) {
        if (!(a[j] = sl_strdup(src[j]))) {
            for (int i = 0; i < j; i++)
                sl_free(a[i]);
            sl_free(a);
            return SL_ENOMEM;
        }
    }
    *dst = a;
    return SL_OK;
}

sl_rc sl_model_fit(sl_model *m, const sl_matrix *train, sl_err *err)
{
    const char *tn = m->type->name;
    if (train->task != m->info.task)
        return sl_err_set(err, SL_EINVAL,
                          "model '%s' is for %s but the training matrix is "
                          "for %s",
                          tn, sl_task_name(m->info.task),
                          sl_task_name(train->task));
    if (train->nrows < 2 || train->ncols < 1)
        return sl_err_set(err, SL_EINVAL,
                          "model '%s': training needs at least 2 rows and 1 "
                          "feature (got %lld rows, %d features)",
                          tn, (long long)train->nrows, train->ncols);
    if (train->task == SL_TASK_CLASSIFICATION && train->classes.n < 2)
        return sl_err_set(err, SL_EINVAL,
                          "model '%s': target '%s' has a single class '%s'; "
                          "classification needs at least two",
                          tn, train->target ? train->target : "",
                          train->classes.n ? train->classes.names[0] : "");
    free_fitted(m);
    sl_rc rc = SL_ENOMEM;
    m->info.nfeatures = train->ncols;
    m->info.nclasses = train->task == SL_TASK_CLASSIFICATION ? train->classes.n
                                                            : 0;
    if (copy_names(&m->features, train->names, train->ncols) == SL_OK)
        m->nfeatures = train->ncols;
    if (!m->features ||
        (train->target && !(m->target = sl_strdup(train->target))) ||
        (m->info.nclasses &&
         sl_labels_copy(&m->classes, &train->classes) != SL_OK)) {
        sl_err_set(err, rc, "out of memory");
        goto out;
    }
    rc = m->type->fit(m->params, &m->info, train, &m->state, err);
    if (rc != SL_OK)
        sl_err_prefix(err, "model '%s'", tn);
out:
    if (rc != SL_OK)
        free_fitted(m);
    return rc;
}

/* ---- prediction ---- */
void sl_prediction_free(sl_prediction *p)
{
    if (!p)
        return;
    sl_free(p->label);
    sl_free(p->proba);
    sl_free(p->value);
    memset(p, 0, sizeof *p);
}

sl_rc sl_model_predict(const sl_model *m, const sl_matrix *x,
                       sl_prediction *out, sl_err *err)
{
    memset(out, 0, sizeof *out);
    if (!m->state)
        return sl_err_set(err, SL_EINVAL, "model '%s' is not fitted",
                          m->type->name);
    if (x->ncols != m->nfeatures)
        return sl_err_set(err, SL_ESCHEMA,
                          "model '%s' takes %d features, the matrix has %d",
                          m->type->name, m->nfeatures, x->ncols);
    int64_t n = x->nrows;
    size_t rows = (size_t)(n > 0 ? n : 1);
    int k = m->info.nclasses;
    sl_prediction p = {.n = n, .task = m->info.task, .nclasses = k};
    sl_rc rc = SL_ENOMEM;
    if (k) {
        p.label = sl_calloc(rows, sizeof *p.label);
        p.proba = sl_calloc(rows * (size_t)k, sizeof *p.proba);
        if (!p.label || !p.proba)
            goto out;
    } else if (!(p.value = sl_calloc(rows, sizeof *p.value))) {
        goto out;
    }
    rc = n > 0 ? m->type->predict_batch(m->params, &m->info, m->state, x, &p,
                                        err)
               : SL_OK;
    if (rc != SL_OK)
        goto out;
    for (int64_t i = 0; k && i < n; i++) {
        const double *pr = p.proba + (size_t)i * (size_t)k;
        int best = 0;
        for (int c = 1; c < k; c++)
            if (pr[c] > pr[best])
                best = c;
        p.label[i] = best;
    }
out:
    if (rc == SL_ENOMEM)
        sl_err_set(err, rc, "out of memory");
    if (rc != SL_OK)
        sl_prediction_free(&p);
    else
        *out = p;
    return rc;
}

sl_rc sl_model_predict_batch(const sl_model *m, const sl_batch *b,
                             sl_prediction *out, sl_err *err)
{
    memset(out, 0, sizeof *out);
    if (!m->state)
        return sl_err_set(err, SL_EINVAL, "model '%s' is not fitted",
                          m->type->name);
    sl_matrix_spec spec = {.features = (const char *const *)m->features,
                           .nfeatures = m->nfeatures,
                           .expected_rows = b->nrows};
    sl_matrix *x = NULL;
    sl_rc rc = sl_matrix_from_batches(&b, 1, &spec, &x, err);
    if (rc == SL_OK)
        rc = sl_model_predict(m, x, out, err);
    sl_matrix_free(x);
    return rc;
}

sl_rc sl_prediction_to_batch(const sl_model *m, const sl_prediction *p,
                             sl_batch **out, sl_err *err)
{
    sl_rc rc = SL_ENOMEM;
    sl_schema *s = sl_schema_new();
    sl_batch *b = NULL;
    *out = NULL;
    if (!s)
        goto out;
    sl_type pt = p->task == SL_TASK_CLASSIFICATION ? m->classes.type
                                                   : SL_FLOAT64;
    if ((rc = sl_schema_add(s, "prediction", pt, 0, err)) != SL_OK)
        goto out;
    for (int c = 0; c < p->nclasses; c++) {
        char name[SL_ERR_FIELD_MAX];
        snprintf(name, sizeof name, "proba_%s", m->classes.names[c]);
        if ((rc = sl_schema_add(s, name, SL_FLOAT64, 0, err)) != SL_OK)
            goto out;
    }
    rc = SL_ENOMEM;
    if (!(b = sl_batch_new(s, p->n)))
        goto out;
    for (int64_t i = 0; i < p->n; i++) {
        sl_column *c = b->cols[0];
        sl_rc r2;
        if (p->task == SL_TASK_REGRESSION) {
            r2 = sl_column_append_float64(c, p->value[i]);
        } else {
            int k = p->label[i];
            if (pt == SL_STRING)
                r2 = sl_column_append_str(c, m->classes.names[k],
                                          strlen(m->classes.names[k]));
            else if (pt == SL_BOOL)
                r2 = sl_column_append_bool(c, (int)m->classes.ints[k]);
            else
                r2 = sl_column_append_int64(c, m->classes.ints[k]);
        }
        for (int q = 0; r2 == SL_OK && q < p->nclasses; q++)
            r2 = sl_column_append_float64(
                b->cols[q + 1], p->proba[(size_t)i * (size_t)p->nclasses + (size_t)q]);
        if (r2 != SL_OK)
            goto out;
    }
    rc = sl_batch_seal(b, err);
out:
    if (rc == SL_ENOMEM)
        sl_err_set(err, rc, "out of memory");
    sl_schema_free(s);
    if (rc != SL_OK)
        sl_batch_unref(b);
    else
        *out = b;
    return rc;
}

/* ---- accessors ---- */
const sl_model_type *sl_model_get_type(const sl_model *m)
{
    return m->type;
}
sl_task sl_model_task(const sl_model *m)
{
    return m->info.task;
}
int sl_model_fitted(const sl_model *m)
{
    return m->state != NULL;
}
int sl_model_nfeatures(const sl_model *m)
{
    return m->nfeatures;
}
const char *const *sl_model_features(const sl_model *m)
{
    return (const char *const *)m->features;
}
const char *sl_model_target(const sl_model *m)
{
    return m->target;
}
const sl_labels *sl_model_classes(const sl_model *m)
{
    return &m->classes;
}

const char *sl_model_param_text(const sl_model *m, const char *key,
                                char *buf, size_t n)
{
    if (n)
        buf[0] = '\0';
    for (const sl_model_param_def *d = m->type->params; d && d->key; d++)
        if (strcmp(d->key, key) == 0 || (d->alias && strcmp(d->alias, key) == 0))
            sl_mparam_format(d, m->params, buf, n);
    return buf;
}

json_t *sl_model_describe(const sl_model *m)
{
    json_t *o = json_object(), *feats = json_array(), *cls = json_array(),
           *params = json_object();
    int ok = o && feats && cls && params;
    char buf[256];
    for (int j = 0; ok && j < m->nfeatures; j++)
        ok = json_array_append_new(feats, json_string(m->features[j])) == 0;
    for (int c = 0; ok && c < m->classes.n; c++)
        ok = json_array_append_new(cls, json_string(m->classes.names[c])) == 0;
    for (const sl_model_param_def *d = m->type->params; ok && d && d->key;
         d++) {
        sl_mparam_format(d, m->params, buf, sizeof buf);
        ok = json_object_set_new(params, d->key, json_string(buf)) == 0;
    }
    ok = ok && json_object_set_new(o, "type", json_string(m->type->name)) == 0 &&
         json_object_set_new(o, "task",
                             json_string(sl_task_name(m->info.task))) == 0 &&
         json_object_set_new(o, "fitted", json_boolean(m->state != NULL)) == 0 &&
         json_object_set_new(o, "target", m->target ? json_string(m->target)
                                                    : json_null()) == 0 &&
         json_object_set(o, "features", feats) == 0 &&
         (m->info.task != SL_TASK_CLASSIFICATION ||
          json_object_set(o, "classes", cls) == 0) &&
         json_object_set(o, "params", params) == 0;
    if (ok && m->state && m->type->describe)
        ok = m->type->describe(m->params, &m->info, m->state, o) == SL_OK;
    json_decref(feats);
    json_decref(cls);
    json_decref(params);
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* ---- files ---- */
sl_rc sl_model_save_mem(const sl_model *m, uint8_t **buf, size_t *len,
                        sl_err *err)
{
    sl_wbuf w = {0}, payload = {0};
    sl_rc rc;
    char text[256];
    *buf = NULL;
    *len = 0;
    if (!m->state)
        return sl_err_set(err, SL_EINVAL, "model '%s' is not fitted",
                          m->type->name);
    if ((rc = m->type->save(m->params, &m->info, m->state, &payload)) != SL_OK ||
        (rc = sl_wbuf_status(&payload, err)) != SL_OK)
        goto out;
    sl_wbuf_bytes(&w, SLMD_MAGIC, 4);
    sl_wbuf_u32(&w, SLMD_VERSION);
    sl_wbuf_str(&w, m->type->name);
    sl_wbuf_u32(&w, m->type->payload_version);
    sl_wbuf_u8(&w, (uint8_t)m->info.task);
    sl_wbuf_u64(&w, (uint64_t)m->nfeatures);
    for (int j = 0; j < m->nfeatures; j++)
        sl_wbuf_str(&w, m->features[j]);
    sl_wbuf_str(&w, m->target);
    sl_wbuf_u8(&w, (uint8_t)m->classes.type);
    sl_wbuf_u64(&w, (uint64_t)m->classes.n);
    for (int c = 0; c < m->classes.n; c++) {
        sl_wbuf_str(&w, m->classes.names[c]);
        if (m->classes.type != SL_STRING)
            sl_wbuf_u64(&w, (uint64_t)m->classes.ints[c]);
    }
    uint64_t np = 0;
    for (const sl_model_param_def *d = m->type->params; d && d->key; d++)
        np += !(d->flags & SL_MP_RUNTIME);
    sl_wbuf_u64(&w, np);
    for (const sl_model_param_def *d = m->type->params; d && d->key; d++) {
        if (d->flags & SL_MP_RUNTIME)
            continue;
        sl_mparam_format(d, m->params, text, sizeof text);
        sl_wbuf_str(&w, d->key);
        sl_wbuf_str(&w, text);
    }
    sl_wbuf_u64(&w, (uint64_t)payload.n);
    sl_wbuf_bytes(&w, payload.p, payload.n);
    sl_wbuf_u32(&w, sl_crc32(0, w.p, w.n));
    if ((rc = sl_wbuf_status(&w, err)) != SL_OK)
        goto out;
    *buf = w.p;
    *len = w.n;
    w.p = NULL;
out:
    sl_free(w.p);
    sl_free(payload.p);
    return rc;
}

static sl_rc load_labels(sl_rbuf *r, sl_task task, sl_labels *L)
{
    uint8_t type;
    uint64_t n;
    sl_rc rc;
    if ((rc = sl_rbuf_u8(r, &type)) || (rc = sl_rbuf_count(r, "class count",
                                                           MAX_CLASSES, 4, &n)))
        return rc;
    if (task == SL_TASK_CLASSIFICATION
            ? (n < 2 || (type != SL_STRING && type != SL_INT64 &&
                         type != SL_BOOL))
            : n != 0)
        return sl_rbuf_fail(r, "bad class list");
    L->type = (sl_type)type;
    L->names = sl_calloc((size_t)n + 1, sizeof *L->names);
    L->ints = type != SL_STRING ? sl_calloc((size_t)n + 1, sizeof *L->ints)
                                : NULL;
    if (!L->names || (type != SL_STRING && !L->ints))
        return sl_err_set(r->err, SL_ENOMEM, "out of memory");
    for (uint64_t c = 0; c < n; c++) {
        if ((rc = sl_rbuf_str(r, &L->names[c])) != SL_OK)
            return rc;
        L->n = (int)c + 1;
        uint64_t v;
        if (type != SL_STRING) {
            if ((rc = sl_rbuf_u64(r, &v)) != SL_OK)
                return rc;
            L->ints[c] = (int64_t)v;
        }
    }
    return SL_OK;
}

static sl_rc load_params(sl_rbuf *r, const sl_model_type *t, sl_task task,
                         sl_model **out, sl_err *err)
{
    uint64_t np;
    sl_model_param kv[MAX_FILE_PARAMS];
    char *texts[2 * MAX_FILE_PARAMS] = {0};
    sl_rc rc = sl_rbuf_count(r, "parameter count", MAX_FILE_PARAMS, 8, &np);
    for (uint64_t i = 0; rc == SL_OK && i < np; i++) {
        if ((rc = sl_rbuf_str(r, &texts[2 * i])) == SL_OK)
            rc = sl_rbuf_str(r, &texts[2 * i + 1]);
        kv[i].key = texts[2 * i];
        kv[i].value = texts[2 * i + 1];
    }
    if (rc == SL_OK) {
        rc = new_model(t, task, kv, (int)np, out, err);
        if (rc != SL_OK && rc != SL_ENOMEM)
            sl_err_prefix(err, "%s: corrupt model file", r->what);
        if (rc != SL_OK && rc != SL_ENOMEM)
            rc = SL_EPARSE;
    }
    for (int i = 0; i < 2 * MAX_FILE_PARAMS; i++)
        sl_free(texts[i]);
    return rc;
}

sl_rc sl_model_load_mem(const uint8_t *buf, size_t len, const char *name,
                        sl_model **out, sl_err *err)
{
    sl_rbuf r = {.p = buf, .n = len, .err = err, .what = name ? name : "model"};
    sl_model *m = NULL;
    char *tname = NULL;
    uint32_t ver, pver, crc;
    uint8_t task;
    uint64_t nf = 0, plen;
    sl_labels classes = {0};
    char **features = NULL;
    char *target = NULL;
    sl_rbuf pr;
    sl_rc rc;
    *out = NULL;
    if (len < 12 || memcmp(buf, SLMD_MAGIC, 4) != 0) {
        rc = sl_err_set(err, SL_EPARSE,
                        "%s: not a sluice model file (no SLMD header)", r.what);
        goto out;
    }
    r.pos = 4;
    sl_rbuf_u32(&r, &ver);
    if (ver != SLMD_VERSION) {
        rc = sl_err_set(err, SL_EUNSUPPORTED,
                        "%s: model file format version %u is not supported "
                        "(this sluice reads version %u)",
                        r.what, ver, SLMD_VERSION);
        goto out;
    }
    crc = (uint32_t)buf[len - 4] | (uint32_t)buf[len - 3] << 8 |
          (uint32_t)buf[len - 2] << 16 | (uint32_t)buf[len - 1] << 24;
    if (sl_crc32(0, buf, len - 4) != crc) {
        rc = sl_err_set(err, SL_EPARSE,
                        "%s: model file checksum mismatch (the file is "
                        "truncated or corrupt)",
                        r.what);
        goto out;
    }
    r.n = len - 4;
    if ((rc = sl_rbuf_str(&r, &tname)) != SL_OK)
        goto out;
    const sl_model_type *t = sl_model_type_find(tname);
    if (!t) {
        rc = sl_err_set(err, SL_EUNSUPPORTED,
                        "%s: unknown model type '%s' in model file", r.what,
                        tname);
        goto out;
    }
    if ((rc = sl_rbuf_u32(&r, &pver)) || (rc = sl_rbuf_u8(&r, &task)))
        goto out;
    if (pver == 0 || pver > t->payload_version) {
        rc = sl_err_set(err, SL_EUNSUPPORTED,
                        "%s: '%s' model payload version %u is not supported "
                        "(this sluice reads up to %u)",
                        r.what, t->name, pver, t->payload_version);
        goto out;
    }
    if (task != SL_TASK_CLASSIFICATION && task != SL_TASK_REGRESSION) {
        rc = sl_rbuf_fail(&r, "bad task %u", task);
        goto out;
    }
    /* parameters come after features and classes in the file but are
     * needed to create the model: parse the header fields into locals */
    if ((rc = sl_rbuf_count(&r, "feature count", MAX_FEATURES, 4, &nf)))
        goto out;
    if (nf == 0) {
        rc = sl_rbuf_fail(&r, "no features");
        goto out;
    }
    if (!(features = sl_calloc((size_t)nf + 1, sizeof *features))) {
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        goto out;
    }
    for (uint64_t j = 0; rc == SL_OK && j < nf; j++)
        rc = sl_rbuf_str(&r, &features[j]);
    if (rc == SL_OK)
        rc = sl_rbuf_str(&r, &target);
    if (rc == SL_OK)
        rc = load_labels(&r, (sl_task)task, &classes);
    if (rc == SL_OK)
        rc = load_params(&r, t, (sl_task)task, &m, err);
    if (rc == SL_OK) {
        m->features = features;
        m->nfeatures = (int)nf;
        m->target = target;
        m->classes = classes;
        features = NULL;
        target = NULL;
        memset(&classes, 0, sizeof classes);
        m->info.nfeatures = (int)nf;
        m->info.nclasses = m->classes.n;
    }
    if (rc != SL_OK)
        goto out;
    if ((rc = sl_rbuf_count(&r, "payload length", UINT64_MAX, 1, &plen)))
        goto out;
    pr = (sl_rbuf){.p = r.p + r.pos, .n = (size_t)plen, .err = err,
                   .what = r.what};
    if (plen != r.n - r.pos) {
        rc = sl_rbuf_fail(&r, "payload length %llu does not match the file",
                          (unsigned long long)plen);
        goto out;
    }
    rc = t->load(m->params, &m->info, pver, &pr, &m->state, err);
    if (rc == SL_OK && pr.pos != pr.n) {
        rc = sl_rbuf_fail(&pr, "%zu unexpected bytes after the payload",
                          pr.n - pr.pos);
    }
out:
    for (uint64_t j = 0; features && j < nf; j++)
        sl_free(features[j]);
    sl_free(features);
    sl_free(target);
    sl_labels_clear(&classes);
    sl_free(tname);
    if (rc != SL_OK)
        sl_model_free(m);
    else
        *out = m;
    return rc;
}

sl_rc sl_model_save(const sl_model *m, const char *path, sl_err *err)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    sl_rc rc = sl_model_save_mem(m, &buf, &len, err);
    if (rc == SL_OK)
        rc = sl_write_file_atomic(path, (const char *)buf, len, err);
    sl_free(buf);
    return rc;
}

sl_rc sl_model_load(const char *path, sl_model **out, sl_err *err)
{
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    sl_rc rc = SL_EIO;
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return sl_err_setloc(err, SL_EIO, path, 0, 0, "cannot open model: %s",
                             strerror(errno));
    for (;;) {
        if (len == cap) {
            void *p = buf;
            if (sl_grow(&p, &cap, len + 65536, 1) != 0) {
                rc = sl_err_set(err, SL_ENOMEM, "out of memory");
                goto out;
            }
            buf = p;
        }
        size_t k = fread(buf + len, 1, cap - len, f);
        len += k;
        if (k == 0)
            break;
    }
    if (ferror(f)) {
        sl_err_setloc(err, SL_EIO, path, 0, 0, "read failed");
        goto out;
    }
    rc = sl_model_load_mem(buf, len, path, out, err);
out:
    fclose(f);
    sl_free(buf);
    return rc;
}
