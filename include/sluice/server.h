/*
 * server.h: `sluice serve`, the HTTP model server.
 *
 * Serves the models of a registry (registry.h) over HTTP/1.1 with
 * libmicrohttpd (a pool of epoll threads, keep-alive):
 *
 *   POST /v1/models/<name>:predict                 the served version
 *   POST /v1/models/<name>/versions/<v>:predict    a given version
 *        {"instances": [{"feature": value, ...}, ...]}   (rows), or
 *        {"inputs": {"feature": [value, ...], ...}}       (columns)
 *     -> {"model_name": ..., "model_version": v, "predictions": [...],
 *         "classes": [...], "probabilities": [[...], ...]}
 *   GET  /v1/models                 served models and their versions
 *   GET  /v1/models/<name>          versions, blessed, schema, metrics.json
 *   GET  /v1/models/<name>/versions/<v>
 *   GET  /healthz                   200 while the process runs
 *   GET  /readyz                    200 once every served model is loaded
 *   GET  /metrics                   Prometheus text format (prom.h)
 *
 * Raw instances go through the version's transform.json (the fitted
 * training transforms, minus row filters) before the model, so served
 * features are computed exactly as the training features were. The served
 * version follows the registry's `blessed` pointer (else `latest`, else the
 * highest version): a watcher checks it every reload_interval seconds,
 * loads a new version in the background and swaps it in atomically;
 * in-flight requests finish on the old version; a version that fails to
 * load is logged and counted, and the old one keeps serving.
 *
 * Errors are JSON: {"error": {"code": "invalid_argument", "message":
 * "instances[3].age: expected a number, got \"abc\""}} with 400 (bad
 * input), 401 (auth), 404 (route/model/version), 405, 413 (body or
 * instance count over the limit), 503 (model not loaded yet).
 */
#ifndef SLUICE_SERVER_H
#define SLUICE_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef struct sl_server_options {
    const char *registry;        /* root, default "models/ml_models" */
    const char *const *models;   /* names to serve; NULL = every model */
    int nmodels;
    const char *host;            /* listen address, default "127.0.0.1" */
    int port;                    /* default 8080; 0 = any free port */
    int threads;                 /* HTTP worker threads; 0 = CPU count */
    size_t max_body_bytes;       /* default 8 MiB */
    int64_t max_instances;       /* per request, default 10000 */
    int unknown_features_ignore; /* 1: skip unknown features; 0: 400 */
    double reload_interval;      /* seconds between pointer checks, default
                                    2; < 0 disables reloading */
    unsigned timeout_seconds;    /* idle connection timeout, default 30 */
    unsigned max_connections;    /* default 1024 */
    double log_requests_sample;  /* fraction of requests logged, 0..1 */
    const char *auth_token_file; /* bearer token required when set */
    const char *tls_cert;        /* PEM files: HTTPS when both are set */
    const char *tls_key;
    /* Called once the socket listens (before models finish loading) with
     * the bound port; may be NULL. */
    void (*on_listen)(void *arg, int port);
    void *on_listen_arg;
} sl_server_options;

/* Fill the defaults above. */
void sl_server_options_init(sl_server_options *o);

/* Run until sl_server_request_stop(). Fails at once (before listening) on
 * bad options, an unreadable token/certificate file, a registry without
 * the requested models, or a port that cannot be bound. */
sl_rc sl_server_run(const sl_server_options *opts, sl_err *err);

/* Ask a running server to stop (async-signal-safe, for SIGINT/SIGTERM
 * handlers). The request stays set until sl_server_reset_stop(). */
void sl_server_request_stop(void);
void sl_server_reset_stop(void);

#endif
