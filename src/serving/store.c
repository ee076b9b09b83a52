/*
 * store.c: the models a server serves, and their versions.
 *
 * A version (sv_version) is everything needed to answer a predict request:
 * a scorer (scorer.h: the model, the input schema requests are read
 * against, and a pool of opened transform chains, one per concurrent
 * request) and the pre-rendered class labels and metadata. It is
 * immutable once loaded (the scorer's pool has its own lock) and
 * reference counted: a request holds a reference from acquire to release,
 * a slot holds one on its current and pinned versions, and the last
 * release frees it. So the watcher can swap a new version in at any time;
 * requests that already hold the old one finish on it.
 *
 * Loading validates the whole version before it can serve (sl_scorer_open:
 * the model file, checksummed by model.c, transform.json, that the chain
 * opens on its input schema and that its output carries every model
 * feature as a numeric column). A version that fails is never swapped in.
 *
 * Scoring is the scorer's, the same code as `sluice predict` and the
 * streaming runner: transform.json minus its `filter` steps (a filter
 * selects training rows, while a server owes one prediction per
 * instance), then the model. The training target (in the input schema,
 * absent from requests) is read as an all-null column so transforms that
 * pass it through still see it.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "serving/internal.h"
#include "sluice/log.h"
#include "sluice/mem.h"
#include "sluice/registry.h"

#define SV_PATH_MAX 4096

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* ---- versions ---- */

static void version_free(sv_version *v)
{
    if (!v)
        return;
    for (int k = 0; v->class_json && k < v->nclasses; k++)
        sl_free(v->class_json[k]);
    sl_free(v->class_json);
    sl_free(v->class_series);
    sl_free(v->classes_json);
    sl_free(v->info_json);
    sl_scorer_close(v->scorer);
    sl_free(v->dir);
    sl_free(v->name);
    sl_free(v);
}

void sv_version_release(sv_version *v)
{
    if (v && atomic_fetch_sub(&v->refs, 1) == 1)
        version_free(v);
}

static sv_version *version_ref(sv_version *v)
{
    if (v)
        atomic_fetch_add(&v->refs, 1);
    return v;
}

/* Class labels as JSON values of the target's type, and their series. */
static sl_rc setup_classes(sv_version *v, sv_metrics *m, sl_err *err)
{
    const sl_labels *cl = sl_model_classes(v->model);
    sl_strbuf all = {0};
    int n = v->task == SL_TASK_CLASSIFICATION && cl ? cl->n : 0;
    v->nclasses = n;
    v->class_json = sl_calloc((size_t)n + 1, sizeof *v->class_json);
    v->class_series = sl_calloc((size_t)n + 1, sizeof *v->class_series);
    if (!v->class_json || !v->class_series)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    sl_sb_char(&all, '[');
    for (int k = 0; k < n; k++) {
        sl_strbuf one = {0};
        if (cl->type == SL_STRING)
            sl_sb_json_str(&one, cl->names[k], strlen(cl->names[k]));
        else
            sl_sb_str(&one, cl->names[k]); /* int64 digits, or false/true */
        if (!(v->class_json[k] = sl_sb_take(&one, NULL)))
            break;
        sl_sb_str(&all, k ? "," : "");
        sl_sb_str(&all, v->class_json[k]);
        v->class_series[k] = sl_prom_with(m->predictions, v->name, cl->names[k]);
    }
    sl_sb_char(&all, ']');
    if (v->task != SL_TASK_CLASSIFICATION)
        v->value_series = sl_prom_with(m->predictions, v->name, "");
    if (!(v->classes_json = sl_sb_take(&all, NULL)) || (n && !v->class_json[n - 1]))
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    return SL_OK;
}

/* {"version", "path", "model": describe, "input_schema", "transform",
 *  "metrics", "load_seconds"}: rendered once, served by GET. */
static sl_rc setup_info(sv_version *v, sl_err *err)
{
    char path[SV_PATH_MAX];
    json_t *o = json_object(), *metrics = NULL;
    sl_schema *req = sl_schema_copy(v->input.schema);
    sl_rc rc = SL_OK;
    if (!o || !req) {
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        goto out;
    }
    if (v->input.ignore_field >= 0)
        sl_schema_remove(req, v->input.ignore_field);
    snprintf(path, sizeof path, "%s/%s", v->dir, SL_REGISTRY_METRICS_FILE);
    if (file_exists(path) && !(metrics = json_load_file(path, 0, NULL)))
        sl_log(SL_LOG_WARN, "serve", "%s: unreadable, metadata will omit it", path);
    json_object_set_new(o, "version", json_integer(v->version));
    json_object_set_new(o, "path", json_string(v->dir));
    json_t *desc = sl_model_describe(v->model);
    json_object_set_new(o, "model", desc ? desc : json_null());
    json_t *schema = sl_schema_to_json(req, NULL);
    json_object_set_new(o, "input_schema", schema ? schema : json_null());
    json_object_set_new(o, "transform", sl_scorer_transform_path(v->scorer)
                                            ? json_string(SL_REGISTRY_TRANSFORM_FILE)
                                            : json_null());
    json_object_set_new(o, "metrics", metrics ? metrics : json_null());
    json_object_set_new(o, "load_seconds", json_real(v->load_seconds));
    char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!text || !(v->info_json = sl_strdup(text)))
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
    free(text); /* jansson's allocator */
out:
    sl_schema_free(req);
    json_decref(o);
    return rc;
}

static sl_rc load_version(sv_store *s, const char *name, int version,
                          sv_version **out, sl_err *err)
{
    char dir[SV_PATH_MAX];
    double t0 = now_seconds();
    sl_rc rc = SL_OK;
    *out = NULL;
    sl_registry_version_dir(s->root, name, version, dir, sizeof dir);
    if (!file_exists(dir))
        return sl_err_set(err, SL_ENOTFOUND, "model '%s' has no version %d", name, version);
    sv_version *v = sl_calloc(1, sizeof *v);
    if (!v)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    atomic_store(&v->refs, 1);
    v->version = version;
    v->input.unknown_error = s->unknown_error;
    v->input.max_instances = s->max_instances;
    if (!(v->name = sl_strdup(name)) || !(v->dir = sl_strdup(dir))) {
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        goto out;
    }
    /* Errors about a value name the instance; a transform failing on one
     * is the instance's fault (400), not the server's. */
    sl_scorer_options so = {.keep = SL_SCORER_KEEP_NONE, .row_name = "instances",
                            .transform_rc = SL_ESCHEMA};
    if ((rc = sl_scorer_open(dir, &so, &v->scorer, err)) != SL_OK)
        goto out;
    v->model = sl_scorer_model(v->scorer);
    v->task = sl_model_task(v->model);
    v->input.schema = sl_scorer_input_schema(v->scorer);
    v->input.ignore_field = sl_scorer_target_index(v->scorer);
    if ((rc = setup_classes(v, s->metrics, err)) != SL_OK)
        goto out;
    v->load_seconds = now_seconds() - t0;
    rc = setup_info(v, err);
out:
    if (rc != SL_OK) {
        sl_err_prefix(err, "model '%s' version %d", name, version);
        version_free(v);
        return rc;
    }
    *out = v;
    return SL_OK;
}

/* ---- predicting ---- */

static void count_predictions(const sv_version *v, const sl_prediction *p)
{
    if (p->task != SL_TASK_CLASSIFICATION) {
        sl_prom_add(v->value_series, (double)p->n);
        return;
    }
    int64_t small[64];
    if (v->nclasses <= 64) {
        memset(small, 0, sizeof small);
        for (int64_t i = 0; i < p->n; i++)
            if (p->label[i] >= 0 && p->label[i] < v->nclasses)
                small[p->label[i]]++;
        for (int k = 0; k < v->nclasses; k++)
            if (small[k])
                sl_prom_add(v->class_series[k], (double)small[k]);
        return;
    }
    for (int64_t i = 0; i < p->n; i++)
        if (p->label[i] >= 0 && p->label[i] < v->nclasses)
            sl_prom_inc(v->class_series[p->label[i]]);
}

sl_rc sv_version_predict(sv_version *v, sl_batch *b, sl_strbuf *body, sl_err *err)
{
    sl_prediction p;
    sl_rc rc = sl_scorer_predict(v->scorer, b, &p, err); /* consumes b */
    if (rc == SL_OK) {
        count_predictions(v, &p);
        sv_predictions_json(body, v, &p);
        if (body->failed)
            rc = sl_err_set(err, SL_ENOMEM, "out of memory");
    }
    sl_prediction_free(&p);
    return rc;
}

/* ---- slots ---- */

sv_version *sv_slot_acquire(sv_slot *slot)
{
    pthread_mutex_lock(&slot->mu);
    sv_version *v = version_ref(slot->current);
    pthread_mutex_unlock(&slot->mu);
    return v;
}

static sv_version *find_loaded(sv_slot *slot, int version)
{
    if (slot->current && slot->current->version == version)
        return version_ref(slot->current);
    for (int i = 0; i < SV_PINNED_MAX; i++)
        if (slot->pinned[i] && slot->pinned[i]->version == version)
            return version_ref(slot->pinned[i]);
    return NULL;
}

sl_rc sv_slot_acquire_version(sv_store *s, sv_slot *slot, int version,
                              sv_version **out, sl_err *err)
{
    pthread_mutex_lock(&slot->mu);
    *out = find_loaded(slot, version);
    pthread_mutex_unlock(&slot->mu);
    if (*out)
        return SL_OK;
    /* Load outside the lock (two requests may load the same version at
     * once; the second to finish uses the first one's copy). */
    sv_version *v;
    sl_rc rc = load_version(s, slot->name, version, &v, err);
    if (rc != SL_OK) /* a broken version is the server's problem, not the client's */
        return rc == SL_ENOTFOUND || rc == SL_ENOMEM ? rc : SL_EINTERNAL;
    pthread_mutex_lock(&slot->mu);
    *out = find_loaded(slot, version);
    sv_version *evicted = NULL;
    if (!*out) {
        /* Keep it for later requests; evict the oldest pinned version. */
        evicted = slot->pinned[0];
        memmove(slot->pinned, slot->pinned + 1, (SV_PINNED_MAX - 1) * sizeof *slot->pinned);
        slot->pinned[SV_PINNED_MAX - 1] = v;
        *out = version_ref(v);
        v = NULL;
    }
    pthread_mutex_unlock(&slot->mu);
    sv_version_release(evicted);
    sv_version_release(v);
    return SL_OK;
}

/* The version to serve: blessed, else latest, else the highest; 0 when
 * the model has no version yet. */
static int resolve_version(const char *root, const char *name)
{
    int v = 0;
    if (sl_registry_get_pointer(root, name, "blessed", &v, NULL) == SL_OK ||
        sl_registry_get_pointer(root, name, "latest", &v, NULL) == SL_OK)
        return v;
    int *vs = NULL, n = 0;
    if (sl_registry_list(root, name, &vs, &n, NULL) == SL_OK && n > 0)
        v = vs[n - 1];
    sl_free(vs);
    return v;
}

static void set_info_gauge(sv_store *s, sv_slot *slot, const sv_version *v)
{
    char ver[16];
    snprintf(ver, sizeof ver, "%d", v->version);
    sl_prom_series_remove(slot->info);
    slot->info = sl_prom_with(s->metrics->info, slot->name, ver,
                              sl_model_get_type(v->model)->name);
    sl_prom_set(slot->info, 1);
}

static void poll_slot(sv_store *s, sv_slot *slot)
{
    int want = resolve_version(s->root, slot->name);
    int have = slot->current ? slot->current->version : 0;
    if (want == 0 || want == have || want == slot->failed)
        return;
    sl_err err;
    sl_err_clear(&err);
    sv_version *v;
    char ver[16], old[16], secs[32], msg[SL_ERR_MSG_MAX + SL_ERR_FILE_MAX + 8];
    snprintf(ver, sizeof ver, "%d", want);
    snprintf(old, sizeof old, "%d", have);
    if (load_version(s, slot->name, want, &v, &err) != SL_OK) {
        pthread_mutex_lock(&slot->mu); /* metadata reads it */
        slot->failed = want;
        pthread_mutex_unlock(&slot->mu);
        sl_prom_inc(slot->reload_failed);
        sl_err_format(&err, msg, sizeof msg);
        sl_log_kv(SL_LOG_ERROR, "serve", have ? "new model version rejected; the old one "
                                                "keeps serving"
                                              : "model version failed to load",
                  "model", slot->name, "version", ver, "serving", have ? old : "none",
                  "error", msg, (const char *)NULL);
        return;
    }
    pthread_mutex_lock(&slot->mu);
    sv_version *prev = slot->current;
    slot->current = v;
    slot->failed = 0;
    pthread_mutex_unlock(&slot->mu);
    sl_prom_inc(slot->reload_ok);
    sl_prom_set(slot->load_s, v->load_seconds);
    sl_prom_set(slot->ready, 1);
    set_info_gauge(s, slot, v);
    snprintf(secs, sizeof secs, "%.3f", v->load_seconds);
    sl_log_kv(SL_LOG_INFO, "serve", prev ? "model reloaded" : "model loaded", "model",
              slot->name, "version", ver, "previous", prev ? old : "none", "load_seconds",
              secs, (const char *)NULL);
    sv_version_release(prev); /* freed when its last request finishes */
}

void sv_store_poll(sv_store *s)
{
    for (int i = 0; i < s->n; i++)
        poll_slot(s, &s->slots[i]);
}

int sv_store_ready(sv_store *s)
{
    int ready = 1;
    for (int i = 0; i < s->n && ready; i++) {
        pthread_mutex_lock(&s->slots[i].mu);
        ready = s->slots[i].current != NULL;
        pthread_mutex_unlock(&s->slots[i].mu);
    }
    return ready;
}

sv_slot *sv_store_find(sv_store *s, const char *name, size_t len)
{
    for (int i = 0; i < s->n; i++)
        if (strlen(s->slots[i].name) == len && memcmp(s->slots[i].name, name, len) == 0)
            return &s->slots[i];
    return NULL;
}

/* ---- metadata ---- */

static void put_pointer(sl_strbuf *b, const char *root, const char *name,
                        const char *key, const char *pointer)
{
    int v;
    sl_sb_printf(b, ",\"%s\":", key);
    if (sl_registry_get_pointer(root, name, pointer, &v, NULL) == SL_OK)
        sl_sb_printf(b, "%d", v);
    else
        sl_sb_str(b, "null");
}

sl_rc sv_slot_metadata(sv_store *s, sv_slot *slot, sl_strbuf *b, sl_err *err)
{
    int *vs = NULL, n = 0;
    sl_rc rc = sl_registry_list(s->root, slot->name, &vs, &n, err);
    if (rc != SL_OK)
        return rc;
    sv_version *cur = sv_slot_acquire(slot);
    sl_sb_str(b, "{\"name\":");
    sl_sb_json_str(b, slot->name, strlen(slot->name));
    put_pointer(b, s->root, slot->name, "blessed", "blessed");
    put_pointer(b, s->root, slot->name, "latest", "latest");
    if (cur)
        sl_sb_printf(b, ",\"serving_version\":%d", cur->version);
    else
        sl_sb_str(b, ",\"serving_version\":null");
    sl_sb_str(b, ",\"versions\":[");
    pthread_mutex_lock(&slot->mu);
    for (int i = 0; i < n; i++) {
        const char *state = "available";
        if (cur && vs[i] == cur->version)
            state = "serving";
        else if (vs[i] == slot->failed)
            state = "failed";
        else
            for (int k = 0; k < SV_PINNED_MAX; k++)
                if (slot->pinned[k] && slot->pinned[k]->version == vs[i])
                    state = "loaded";
        sl_sb_printf(b, "%s{\"version\":%d,\"state\":\"%s\"}", i ? "," : "", vs[i], state);
    }
    pthread_mutex_unlock(&slot->mu);
    sl_sb_str(b, "],\"serving\":");
    sl_sb_str(b, cur ? cur->info_json : "null");
    sl_sb_str(b, "}\n");
    sv_version_release(cur);
    sl_free(vs);
    return b->failed ? sl_err_set(err, SL_ENOMEM, "out of memory") : SL_OK;
}

/* ---- open / close ---- */

static sl_rc check_names(const char *root, char **names, int n, sl_err *err)
{
    char dir[SV_PATH_MAX];
    for (int i = 0; i < n; i++) {
        const char *nm = names[i];
        if (!*nm || strchr(nm, '/') || strcmp(nm, ".") == 0 || strcmp(nm, "..") == 0)
            return sl_err_set(err, SL_ECONFIG, "invalid model name '%s'", nm);
        snprintf(dir, sizeof dir, "%s/%s", root, nm);
        if (!file_exists(dir))
            return sl_err_set(err, SL_ENOTFOUND, "model '%s' not found in registry '%s'",
                              nm, root);
    }
    return SL_OK;
}

sl_rc sv_store_open(sv_store *s, const sl_server_options *o, sv_metrics *m,
                    sl_err *err)
{
    char **names = NULL;
    int n = 0;
    sl_rc rc = SL_OK;
    memset(s, 0, sizeof *s);
    s->metrics = m;
    s->unknown_error = !o->unknown_features_ignore;
    s->max_instances = o->max_instances;
    if (!(s->root = sl_strdup(o->registry)))
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    if (!file_exists(s->root)) {
        rc = sl_err_setloc(err, SL_ENOTFOUND, s->root, 0, 0,
                           "model registry not found (train a model first, or pass "
                           "--registry DIR)");
        goto out;
    }
    if (o->models && o->nmodels > 0) {
        names = sl_calloc((size_t)o->nmodels, sizeof *names);
        for (int i = 0; names && i < o->nmodels; i++)
            if ((names[n] = sl_strdup(o->models[i])) != NULL)
                n++;
        if (!names || n < o->nmodels) {
            rc = sl_err_set(err, SL_ENOMEM, "out of memory");
            goto out;
        }
    } else if ((rc = sl_registry_models(s->root, &names, &n, err)) != SL_OK) {
        goto out;
    }
    if (n == 0) {
        rc = sl_err_setloc(err, SL_ENOTFOUND, s->root, 0, 0, "no models in the registry");
        goto out;
    }
    if ((rc = check_names(s->root, names, n, err)) != SL_OK)
        goto out;
    if (!(s->slots = sl_calloc((size_t)n, sizeof *s->slots))) {
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; i < n; i++) {
        sv_slot *slot = &s->slots[s->n++];
        slot->name = names[i];
        names[i] = NULL;
        pthread_mutex_init(&slot->mu, NULL);
        slot->ready = sl_prom_with(m->ready, slot->name);
        slot->reload_ok = sl_prom_with(m->reloads, slot->name, "ok");
        slot->reload_failed = sl_prom_with(m->reloads, slot->name, "failed");
        slot->load_s = sl_prom_with(m->load_seconds, slot->name);
        slot->predict_ok = sl_prom_with(m->requests, slot->name, "predict", "200");
        slot->predict_latency = sl_prom_with(m->latency, slot->name, "predict");
        slot->instances = sl_prom_with(m->instances, slot->name);
        sl_prom_set(slot->ready, 0);
    }
out:
    for (int i = 0; names && i < n; i++)
        sl_free(names[i]);
    sl_free(names);
    if (rc != SL_OK)
        sv_store_close(s);
    return rc;
}

void sv_store_close(sv_store *s)
{
    for (int i = 0; i < s->n; i++) {
        sv_slot *slot = &s->slots[i];
        sv_version_release(slot->current);
        for (int k = 0; k < SV_PINNED_MAX; k++)
            sv_version_release(slot->pinned[k]);
        sl_prom_series_remove(slot->info);
        sl_prom_set(slot->ready, 0);
        pthread_mutex_destroy(&slot->mu);
        sl_free(slot->name);
    }
    sl_free(s->slots);
    sl_free(s->root);
    memset(s, 0, sizeof *s);
}
