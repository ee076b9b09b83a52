/*
 * serving/internal.h: pieces shared by the server's files. Not installed.
 *
 *   request.c   request body (JSON) -> batch with the model's input schema
 *   response.c  predictions and errors -> JSON bodies
 *   store.c     model versions: loading (a scorer each), refcounts,
 *               metadata, the blessed-pointer watcher
 *   server.c    libmicrohttpd daemon, routing, auth, TLS, metrics, logs
 */
#ifndef SLUICE_SERVING_INTERNAL_H
#define SLUICE_SERVING_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "run/internal.h"
#include "sluice/batch.h"
#include "sluice/model.h"
#include "sluice/prom.h"
#include "sluice/scorer.h"
#include "sluice/server.h"
#include "sluice/strbuf.h"

/* ---- request.c ---- */

/* What a request body is read against. */
typedef struct sv_input {
    const sl_schema *schema; /* columns of the batch built (types pinned) */
    int ignore_field;        /* index of a field that is never read from the
                                request and always null (the training
                                target), or -1 */
    int unknown_error;       /* 1: an unknown feature is an error; 0: skip */
    int64_t max_instances;
} sv_input;

/* Parse a predict body: {"instances": [{feature: value, ...}, ...]} or
 * {"inputs": {feature: [values...], ...}} into *out (in->schema's columns,
 * one row per instance). Errors name the instance and the feature:
 *   SL_EPARSE  malformed JSON
 *   SL_EINVAL  wrong shape (no instances, not an object, ...)
 *   SL_ESCHEMA missing / unknown feature, wrong type, null not allowed
 *   SL_ELIMIT  more than max_instances instances
 *   SL_ENOMEM  out of memory
 * err->field is the feature when one is to blame. */
sl_rc sv_parse_request(const sv_input *in, const char *body, size_t len,
                       sl_batch **out, sl_err *err);

/* ---- store.c ---- */

/* One loaded model version: immutable after load (the scorer's chain pool
 * has its own lock); reference counted so a swap never frees a version a
 * request still uses. */
typedef struct sv_version {
    atomic_int refs;
    char *name;
    int version;
    char *dir;
    sl_scorer *scorer;       /* transforms + model (scorer.h), owned */
    const sl_model *model;   /* the scorer's */
    sl_task task;
    sv_input input;          /* schema = the scorer's input schema (target
                                nullable, never read from requests) */
    char **class_json;       /* each class as a JSON value ("rain", 3, true) */
    int nclasses;
    char *classes_json;      /* ["a","b"] */
    sl_prom_series **class_series; /* predictions_total per class */
    sl_prom_series *value_series;  /* regression predictions */
    double load_seconds;
    char *info_json;         /* {"version":..,"model":{describe},"metrics":..} */
} sv_version;

void sv_version_release(sv_version *v);

typedef struct sv_metrics {
    sl_prom_family *requests, *latency, *predictions, *load_seconds, *info,
        *ready, *reloads, *in_flight, *instances;
    sl_prom_series *in_flight_s;
} sv_metrics;

sl_rc sv_metrics_init(sv_metrics *m, sl_err *err);

#define SV_PINNED_MAX 4

/* A served model name: the version the registry's pointer names (blessed,
 * else latest, else the highest version), and a few other versions loaded
 * on demand for /versions/<v>:predict. */
typedef struct sv_slot {
    char *name;
    pthread_mutex_t mu;
    sv_version *current;             /* NULL until the first load */
    sv_version *pinned[SV_PINNED_MAX];
    int target;                      /* version the pointer named last */
    int failed;                      /* last version that failed to load */
    sl_prom_series *ready, *reload_ok, *reload_failed, *load_s;
    sl_prom_series *info;            /* info gauge of the current version */
    /* the per-request series of the common case, looked up once */
    sl_prom_series *predict_ok, *predict_latency, *instances;
} sv_slot;

typedef struct sv_store {
    char *root;
    sv_slot *slots;
    int n;
    int unknown_error;
    int64_t max_instances;
    int threads;                     /* chains pre-opened per version */
    sv_metrics *metrics;
} sv_store;

sl_rc sv_store_open(sv_store *s, const sl_server_options *o, sv_metrics *m,
                    sl_err *err);
void sv_store_close(sv_store *s);
sv_slot *sv_store_find(sv_store *s, const char *name, size_t len);
/* Check every slot's pointer and load what changed (the watcher's tick). */
void sv_store_poll(sv_store *s);
int sv_store_ready(sv_store *s);
/* A reference to the current version (NULL if none loaded), or to
 * version v (loading it if needed; SL_ENOTFOUND if it does not exist). */
sv_version *sv_slot_acquire(sv_slot *slot);
sl_rc sv_slot_acquire_version(sv_store *s, sv_slot *slot, int v,
                              sv_version **out, sl_err *err);

/* Predict a parsed batch (consumed): transforms, model, response body. */
sl_rc sv_version_predict(sv_version *v, sl_batch *b, sl_strbuf *body,
                         sl_err *err);
/* Metadata of a slot (GET /v1/models/<name>) into body. */
sl_rc sv_slot_metadata(sv_store *s, sv_slot *slot, sl_strbuf *body,
                       sl_err *err);

/* ---- response.c ---- */

/* {"error": {"code": "...", "message": "..."}} */
void sv_error_json(sl_strbuf *b, const char *code, const char *msg);
/* HTTP status and error code for a library error. */
int sv_status_for(sl_rc rc, const char **code);
/* Predictions of one batch. */
void sv_predictions_json(sl_strbuf *b, const sv_version *v,
                         const sl_prediction *p);

#endif
