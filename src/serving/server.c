/*
 * server.c: the HTTP side of `sluice serve` (server.h) on libmicrohttpd.
 *
 * Threads: MHD runs a pool of `threads` epoll threads that accept, parse
 * HTTP and call on_request; a request is handled start to finish on one
 * of them (parse body, transforms, model, response), so there is no
 * queue to bound besides MHD's connection limit. The thread that called
 * sl_server_run is the watcher: it loads the models, then checks the
 * registry's pointers every reload_interval seconds and loads changes in
 * the background of the serving threads (store.c swaps them in).
 *
 * A request's life: first call (headers only) -> route, authenticate,
 * reject early what can be rejected (404, 405, 401, 413 from
 * Content-Length) -> body chunks appended up to max_body_bytes -> final
 * call: predict and queue the response -> on_completed records the
 * metrics and the (sampled) request log line, and frees the request.
 *
 * Bounds: body <= max_body_bytes (larger: 413; a chunked body that keeps
 * coming past 4x the limit closes the connection), instances <=
 * max_instances (413), connections <= max_connections, idle connections
 * close after timeout_seconds (slow clients). The bearer token is compared
 * in constant time and never logged.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <microhttpd.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "serving/http_common.h"
#include "serving/internal.h"
#include "sluice/log.h"
#include "sluice/mem.h"

#define SV_DEFAULT_BODY (8u << 20)
#define SV_DEFAULT_INSTANCES 10000
#define SV_URL_LOG_MAX 160

enum route {
    R_NOT_FOUND = 0,
    R_PREDICT,
    R_METADATA,
    R_VERSION_META,
    R_MODELS,
    R_HEALTH,
    R_READY,
    R_METRICS
};

static const char *const route_names[] = {"unknown", "predict", "metadata", "metadata",
                                          "models",  "healthz", "readyz",   "metrics"};

typedef struct server {
    const sl_server_options *o;
    sv_store store;
    sv_metrics m;
    char *token; /* NULL: no auth */
    size_t token_len;
    size_t max_body;
    struct MHD_Daemon *d;
} server;

typedef struct req {
    double t0;
    enum route route;
    sv_slot *slot;
    int version;      /* requested version, 0 = the served one */
    int model_version; /* version that answered, 0 = none */
    int64_t instances;
    char *body;
    size_t len, cap, seen;
    int status;
    char method[16];
    char path[SV_URL_LOG_MAX];
} req;

static atomic_int g_stop;
static atomic_int g_wake_fd = -1;

void sl_server_request_stop(void)
{
    atomic_store(&g_stop, 1);
    int fd = atomic_load(&g_wake_fd);
    if (fd >= 0) {
        ssize_t w = write(fd, "x", 1); /* async-signal-safe wake-up */
        (void)w;
    }
}

void sl_server_reset_stop(void)
{
    atomic_store(&g_stop, 0);
}

void sl_server_options_init(sl_server_options *o)
{
    memset(o, 0, sizeof *o);
    o->registry = "models/ml_models";
    o->host = "127.0.0.1";
    o->port = 8080;
    o->max_body_bytes = SV_DEFAULT_BODY;
    o->max_instances = SV_DEFAULT_INSTANCES;
    o->reload_interval = 2.0;
    o->timeout_seconds = 30;
    o->max_connections = 1024;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- metrics ---- */

sl_rc sv_metrics_init(sv_metrics *m, sl_err *err)
{
    static const char *const l_req[] = {"model", "route", "status", NULL};
    static const char *const l_lat[] = {"model", "route", NULL};
    static const char *const l_cls[] = {"model", "class", NULL};
    static const char *const l_model[] = {"model", NULL};
    static const char *const l_info[] = {"model", "version", "type", NULL};
    static const char *const l_reload[] = {"model", "result", NULL};
    struct {
        sl_prom_family **f;
        sl_prom_type t;
        const char *name, *help;
        const char *const *labels;
    } defs[] = {
        {&m->requests, SL_PROM_COUNTER, "sluice_http_requests_total",
         "HTTP requests answered, by model, route and status code.", l_req},
        {&m->latency, SL_PROM_HISTOGRAM, "sluice_http_request_duration_seconds",
         "Time from the request's headers to the response sent, by model and route.", l_lat},
        {&m->in_flight, SL_PROM_GAUGE, "sluice_http_requests_in_flight",
         "HTTP requests being handled now.", NULL},
        {&m->predictions, SL_PROM_COUNTER, "sluice_predictions_total",
         "Predictions returned, by model and predicted class (empty for regression).", l_cls},
        {&m->instances, SL_PROM_COUNTER, "sluice_predict_instances_total",
         "Instances received in predict requests that were answered.", l_model},
        {&m->load_seconds, SL_PROM_GAUGE, "sluice_model_load_seconds",
         "Time the served version took to load (model, transform.json, checks).", l_model},
        {&m->info, SL_PROM_GAUGE, "sluice_model_info",
         "The version being served (value 1), with its model type.", l_info},
        {&m->ready, SL_PROM_GAUGE, "sluice_model_ready",
         "1 when a version of the model is loaded and serving, else 0.", l_model},
        {&m->reloads, SL_PROM_COUNTER, "sluice_model_reloads_total",
         "Model version loads (the first one and hot reloads), by result (ok, failed).",
         l_reload},
    };
    for (size_t i = 0; i < sizeof defs / sizeof defs[0]; i++) {
        sl_rc rc = sl_prom_register(defs[i].t, defs[i].name, defs[i].help, defs[i].labels,
                                    NULL, 0, defs[i].f, err);
        if (rc != SL_OK)
            return rc;
    }
    m->in_flight_s = sl_prom_with(m->in_flight);
    return SL_OK;
}

/* ---- responses ---- */

static enum MHD_Result send_text(struct MHD_Connection *c, req *r, int status,
                                 const char *ctype, sl_strbuf *b, const char *allow)
{
    return sv_http_send(c, status, ctype, b, allow, &r->status);
}

static enum MHD_Result send_json(struct MHD_Connection *c, req *r, int status,
                                 sl_strbuf *b)
{
    return send_text(c, r, status, "application/json", b, NULL);
}

static enum MHD_Result send_error(struct MHD_Connection *c, req *r, int status,
                                  const char *code, const char *msg, const char *allow)
{
    sl_strbuf b = {0};
    sv_error_json(&b, code, msg);
    return send_text(c, r, status, "application/json", &b, allow);
}

/* ---- routing ---- */

/* "<digits>" -> version, 0 when not a valid version number. */
static int parse_version(const char *s, size_t n)
{
    if (n == 0 || n > 9)
        return 0;
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* Fills r->route, r->slot, r->version. Returns 0, or -1 when the path
 * names a model that is not served (r->route says what was asked). */
static int route(server *sv, const char *url, req *r)
{
    static const char prefix[] = "/v1/models";
    size_t plen = sizeof prefix - 1;
    if (!strcmp(url, "/healthz"))
        r->route = R_HEALTH;
    else if (!strcmp(url, "/readyz"))
        r->route = R_READY;
    else if (!strcmp(url, "/metrics"))
        r->route = R_METRICS;
    else if (!strcmp(url, prefix) || !strcmp(url, "/v1/models/"))
        r->route = R_MODELS;
    if (r->route != R_NOT_FOUND || strncmp(url, prefix, plen) != 0 || url[plen] != '/')
        return 0;
    const char *name = url + plen + 1, *end = name + strcspn(name, ":/");
    size_t nlen = (size_t)(end - name);
    const char *rest = end;
    int version = 0;
    if (!strncmp(rest, "/versions/", 10)) {
        const char *vs = rest + 10, *ve = vs + strcspn(vs, ":/");
        if (!(version = parse_version(vs, (size_t)(ve - vs))))
            return 0; /* not a version number: 404 */
        rest = ve;
    }
    if (!strcmp(rest, ":predict"))
        r->route = R_PREDICT;
    else if (!*rest || !strcmp(rest, "/metadata"))
        r->route = version ? R_VERSION_META : R_METADATA;
    else
        return 0;
    r->version = version;
    r->slot = sv_store_find(&sv->store, name, nlen);
    return r->slot ? 0 : -1;
}

static int authorized(server *sv, struct MHD_Connection *c)
{
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!h || strncasecmp(h, "Bearer ", 7) != 0)
        return 0;
    h += 7;
    while (*h == ' ')
        h++;
    size_t n = strlen(h);
    /* Constant time in the token's content: always walk the whole token. */
    unsigned diff = (unsigned)(n != sv->token_len);
    for (size_t i = 0; i < sv->token_len; i++)
        diff |= (unsigned)(unsigned char)sv->token[i] ^ (unsigned)(unsigned char)(i < n ? h[i] : 0);
    return diff == 0;
}

/* ---- handlers ---- */

static enum MHD_Result handle_ready(server *sv, struct MHD_Connection *c, req *r)
{
    sl_strbuf b = {0};
    int ok = sv_store_ready(&sv->store);
    sl_sb_str(&b, ok ? "{\"status\":\"ready\",\"models\":{" : "{\"status\":\"not ready\",\"models\":{");
    for (int i = 0; i < sv->store.n; i++) {
        sv_version *v = sv_slot_acquire(&sv->store.slots[i]);
        sl_sb_str(&b, i ? "," : "");
        sl_sb_json_str(&b, sv->store.slots[i].name, strlen(sv->store.slots[i].name));
        if (v)
            sl_sb_printf(&b, ":{\"state\":\"serving\",\"version\":%d}", v->version);
        else
            sl_sb_str(&b, ":{\"state\":\"loading\"}");
        sv_version_release(v);
    }
    sl_sb_str(&b, "}}\n");
    return send_json(c, r, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, &b);
}

static enum MHD_Result handle_models(server *sv, struct MHD_Connection *c, req *r)
{
    sl_strbuf b = {0};
    sl_sb_str(&b, "{\"models\":[");
    for (int i = 0; i < sv->store.n; i++) {
        sv_version *v = sv_slot_acquire(&sv->store.slots[i]);
        sl_sb_str(&b, i ? ",{\"name\":" : "{\"name\":");
        sl_sb_json_str(&b, sv->store.slots[i].name, strlen(sv->store.slots[i].name));
        if (v)
            sl_sb_printf(&b, ",\"serving_version\":%d}", v->version);
        else
            sl_sb_str(&b, ",\"serving_version\":null}");
        sv_version_release(v);
    }
    sl_sb_str(&b, "]}\n");
    return send_json(c, r, MHD_HTTP_OK, &b);
}

static enum MHD_Result fail(struct MHD_Connection *c, req *r, sl_rc rc, const sl_err *err)
{
    const char *code;
    int status = sv_status_for(rc, &code);
    if (status >= 500)
        sl_log_kv(SL_LOG_ERROR, "serve", "request failed", "url.path", r->path,
                  "error.message", err->msg, (const char *)NULL);
    return send_error(c, r, status, code, err->msg[0] ? err->msg : sl_rc_str(rc), NULL);
}

/* The version a predict/metadata request is for (a new reference). */
static sl_rc pick_version(server *sv, req *r, sv_version **v, sl_err *err)
{
    if (r->version)
        return sv_slot_acquire_version(&sv->store, r->slot, r->version, v, err);
    if (!(*v = sv_slot_acquire(r->slot)))
        return sl_err_set(err, SL_EUNSUPPORTED,
                          "model '%s' is not loaded yet (see /readyz)", r->slot->name);
    return SL_OK;
}

static enum MHD_Result handle_get(server *sv, struct MHD_Connection *c, req *r)
{
    sl_strbuf b = {0};
    sl_err err;
    sl_err_clear(&err);
    sl_rc rc;
    switch (r->route) {
    case R_HEALTH:
        sl_sb_str(&b, "{\"status\":\"ok\"}\n");
        return send_json(c, r, MHD_HTTP_OK, &b);
    case R_READY:
        return handle_ready(sv, c, r);
    case R_MODELS:
        return handle_models(sv, c, r);
    case R_METRICS:
        if ((rc = sv_http_metrics_text(&b, &err)) != SL_OK)
            return fail(c, r, rc, &err);
        return send_text(c, r, MHD_HTTP_OK, SL_PROM_CONTENT_TYPE, &b, NULL);
    case R_METADATA:
        if ((rc = sv_slot_metadata(&sv->store, r->slot, &b, &err)) != SL_OK) {
            sl_sb_free(&b);
            return fail(c, r, rc, &err);
        }
        return send_json(c, r, MHD_HTTP_OK, &b);
    case R_VERSION_META: {
        sv_version *v;
        if ((rc = pick_version(sv, r, &v, &err)) != SL_OK)
            return fail(c, r, rc, &err);
        r->model_version = v->version;
        sl_sb_str(&b, v->info_json);
        sl_sb_char(&b, '\n');
        sv_version_release(v);
        return send_json(c, r, MHD_HTTP_OK, &b);
    }
    default:
        return send_error(c, r, MHD_HTTP_NOT_FOUND, "not_found", "no such route", NULL);
    }
}

static enum MHD_Result handle_predict(server *sv, struct MHD_Connection *c, req *r)
{
    sl_strbuf b = {0};
    sl_err err;
    sl_err_clear(&err);
    sv_version *v = NULL;
    sl_batch *batch = NULL;
    sl_rc rc = pick_version(sv, r, &v, &err);
    if (rc == SL_EUNSUPPORTED)
        return send_error(c, r, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable", err.msg, NULL);
    if (rc != SL_OK)
        return fail(c, r, rc, &err);
    r->model_version = v->version;
    rc = sv_parse_request(&v->input, r->body ? r->body : "", r->len, &batch, &err);
    if (rc == SL_OK) {
        r->instances = batch->nrows;
        rc = sv_version_predict(v, batch, &b, &err); /* consumes batch */
    }
    sv_version_release(v);
    if (rc != SL_OK) {
        sl_sb_free(&b);
        return fail(c, r, rc, &err);
    }
    sl_prom_add(r->slot->instances, (double)r->instances);
    return send_json(c, r, MHD_HTTP_OK, &b);
}

/* ---- MHD callbacks ---- */

/* First call of a request: everything that can be decided from the
 * headers. Returns MHD_YES to wait for the body. */
static enum MHD_Result on_headers(server *sv, struct MHD_Connection *c, req *r,
                                  const char *url, const char *method)
{
    char msg[SV_URL_LOG_MAX + 64];
    int unknown_model = route(sv, url, r) != 0;
    int is_get = !strcmp(method, MHD_HTTP_METHOD_GET) || !strcmp(method, MHD_HTTP_METHOD_HEAD);
    int is_post = !strcmp(method, MHD_HTTP_METHOD_POST);
    if (sv->token && r->route != R_HEALTH && r->route != R_READY && !authorized(sv, c))
        return send_error(c, r, MHD_HTTP_UNAUTHORIZED, "unauthenticated",
                          "missing or invalid bearer token (Authorization: Bearer ...)", NULL);
    if (r->route == R_NOT_FOUND) {
        snprintf(msg, sizeof msg, "no route for %s", r->path);
        return send_error(c, r, MHD_HTTP_NOT_FOUND, "not_found", msg, NULL);
    }
    if (unknown_model) {
        snprintf(msg, sizeof msg, "no model is served under %s", r->path);
        return send_error(c, r, MHD_HTTP_NOT_FOUND, "not_found", msg, NULL);
    }
    if (r->route == R_PREDICT && !is_post)
        return send_error(c, r, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed",
                          "predict takes POST", "POST");
    if (r->route != R_PREDICT && !is_get)
        return send_error(c, r, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed",
                          "this route takes GET", "GET, HEAD");
    if (r->route != R_PREDICT)
        return handle_get(sv, c, r);
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl) {
        unsigned long long n = strtoull(cl, NULL, 10);
        if (n > sv->max_body) {
            snprintf(msg, sizeof msg, "request body of %llu bytes exceeds the limit of %zu "
                     "(--max-body-bytes)", n, sv->max_body);
            return send_error(c, r, MHD_HTTP_CONTENT_TOO_LARGE, "payload_too_large", msg, NULL);
        }
        if (n > 0 && !(r->body = sl_malloc((size_t)n + 1)))
            return send_error(c, r, MHD_HTTP_SERVICE_UNAVAILABLE, "resource_exhausted",
                              "out of memory", NULL);
        r->cap = n ? (size_t)n + 1 : 0;
    }
    return MHD_YES;
}

/* A body chunk: keep it while within the limit. */
static enum MHD_Result on_body(server *sv, req *r, const char *data, size_t n)
{
    r->seen += n;
    if (r->seen > sv->max_body) {
        /* Cannot answer mid-upload; drop the data, answer 413 at the end,
         * and close the connection if the client keeps sending. */
        sl_free(r->body);
        r->body = NULL;
        r->len = r->cap = 0;
        if (r->seen / 4 > sv->max_body) {
            r->status = MHD_HTTP_CONTENT_TOO_LARGE;
            return MHD_NO;
        }
        return MHD_YES;
    }
    if (r->len + n + 1 > r->cap) {
        size_t cap = r->cap ? r->cap : 4096;
        while (cap < r->len + n + 1)
            cap *= 2;
        char *p = sl_realloc(r->body, cap);
        if (!p)
            return MHD_NO;
        r->body = p;
        r->cap = cap;
    }
    memcpy(r->body + r->len, data, n);
    r->len += n;
    return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_size, void **con_cls)
{
    server *sv = cls;
    req *r = *con_cls;
    if (!r) {
        if (!(r = sl_calloc(1, sizeof *r)))
            return MHD_NO;
        r->t0 = now_seconds();
        snprintf(r->method, sizeof r->method, "%s", method);
        snprintf(r->path, sizeof r->path, "%s", url);
        *con_cls = r;
        sl_prom_add(sv->m.in_flight_s, 1);
        return on_headers(sv, c, r, url, method);
    }
    if (*upload_size) {
        size_t n = *upload_size;
        *upload_size = 0;
        return on_body(sv, r, upload, n);
    }
    if (r->seen > sv->max_body) {
        char msg[128];
        snprintf(msg, sizeof msg, "request body exceeds the limit of %zu bytes "
                 "(--max-body-bytes)", sv->max_body);
        return send_error(c, r, MHD_HTTP_CONTENT_TOO_LARGE, "payload_too_large", msg, NULL);
    }
    return handle_predict(sv, c, r);
}

/* Uniform in [0, 1), per thread (xorshift64*), for request log sampling. */
static double sample_unit(void)
{
    static _Thread_local uint64_t s;
    if (!s)
        s = ((uint64_t)(uintptr_t)&s * 0x9E3779B97F4A7C15ULL) ^ (uint64_t)time(NULL) ^ 1;
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return (double)((s * 0x2545F4914F6CDD1DULL) >> 11) / 9007199254740992.0;
}

static void log_request(server *sv, struct MHD_Connection *c, const req *r, double secs)
{
    int error = r->status >= 500;
    if (!error && !(sv->o->log_requests_sample > 0 &&
                    sample_unit() < sv->o->log_requests_sample))
        return;
    char status[16], dur[32], ver[16], inst[24], ip[INET6_ADDRSTRLEN] = "";
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr) {
        const struct sockaddr *sa = ci->client_addr;
        if (sa->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, ip,
                      sizeof ip);
        else if (sa->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
                      ip, sizeof ip);
    }
    snprintf(status, sizeof status, "%d", r->status);
    snprintf(dur, sizeof dur, "%.0f", secs * 1e9); /* ECS event.duration: ns */
    snprintf(ver, sizeof ver, "%d", r->model_version);
    snprintf(inst, sizeof inst, "%lld", (long long)r->instances);
    sl_log_kv(error ? SL_LOG_WARN : SL_LOG_INFO, "http", "request", "http.request.method",
              r->method, "url.path", r->path, "http.response.status_code",
              status, "event.duration", dur, "client.ip", ip, "model",
              r->slot ? r->slot->name : "", "model.version", r->model_version ? ver : "",
              "instances", inst, (const char *)NULL);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    server *sv = cls;
    req *r = *con_cls;
    (void)toe;
    if (!r)
        return;
    double secs = now_seconds() - r->t0;
    const char *model = r->slot ? r->slot->name : "";
    if (r->status && r->slot && r->route == R_PREDICT && r->status == MHD_HTTP_OK) {
        sl_prom_inc(r->slot->predict_ok);
        sl_prom_observe(r->slot->predict_latency, secs);
        log_request(sv, c, r, secs);
    } else if (r->status) {
        char status[16];
        snprintf(status, sizeof status, "%d", r->status);
        sl_prom_inc(sl_prom_with(sv->m.requests, model, route_names[r->route], status));
        sl_prom_observe(sl_prom_with(sv->m.latency, model, route_names[r->route]), secs);
        log_request(sv, c, r, secs);
    }
    sl_prom_add(sv->m.in_flight_s, -1);
    sl_free(r->body);
    sl_free(r);
    *con_cls = NULL;
}

/* ---- start / stop ---- */

/* Whole small file (token, PEM) into a NUL-terminated sl_malloc'ed buffer. */
static sl_rc read_small_file(const char *path, const char *what, char **out, sl_err *err)
{
    FILE *f = fopen(path, "rb");
    sl_strbuf b = {0};
    char chunk[4096];
    size_t n;
    *out = NULL;
    if (!f)
        return sl_err_setloc(err, SL_EIO, path, 0, 0, "cannot read the %s: %s", what,
                             strerror(errno));
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && b.n < (1u << 20))
        sl_sb_put(&b, chunk, n);
    fclose(f);
    sl_sb_ensure(&b);
    if (b.n >= (1u << 20)) {
        sl_sb_free(&b);
        return sl_err_setloc(err, SL_ELIMIT, path, 0, 0, "the %s is over 1 MiB", what);
    }
    if (!(*out = sl_sb_take(&b, NULL)))
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    return SL_OK;
}

static sl_rc load_token(server *sv, sl_err *err)
{
    sl_rc rc = read_small_file(sv->o->auth_token_file, "auth token file", &sv->token, err);
    if (rc != SL_OK)
        return rc;
    size_t n = strlen(sv->token);
    while (n && (sv->token[n - 1] == '\n' || sv->token[n - 1] == '\r' ||
                 sv->token[n - 1] == ' ' || sv->token[n - 1] == '\t'))
        sv->token[--n] = '\0';
    sv->token_len = n;
    if (n == 0)
        return sl_err_setloc(err, SL_ECONFIG, sv->o->auth_token_file, 0, 0,
                             "the auth token file is empty");
    return SL_OK;
}

static sl_rc check_options(const sl_server_options *o, sl_err *err)
{
    if (o->port < 0 || o->port > 65535)
        return sl_err_set(err, SL_ECONFIG, "--port %d: expected 0..65535", o->port);
    if (o->threads < 0 || o->threads > 1024)
        return sl_err_set(err, SL_ECONFIG, "--threads %d: expected 1..1024", o->threads);
    if (!(o->log_requests_sample >= 0 && o->log_requests_sample <= 1))
        return sl_err_set(err, SL_ECONFIG, "--log-requests-sample: expected 0..1");
    if (o->max_instances < 0)
        return sl_err_set(err, SL_ECONFIG, "--max-instances: expected a positive number");
    if ((o->tls_cert == NULL) != (o->tls_key == NULL))
        return sl_err_set(err, SL_ECONFIG, "TLS needs both --tls-cert and --tls-key");
    if (o->tls_cert && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
        return sl_err_set(err, SL_EUNSUPPORTED,
                          "this libmicrohttpd was built without TLS (GnuTLS); serve "
                          "plain HTTP behind a TLS proxy instead");
    return SL_OK;
}

static sl_rc start_daemon(server *sv, char *cert, char *key, int *bound, sl_err *err)
{
    const sl_server_options *o = sv->o;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned threads = o->threads > 0 ? (unsigned)o->threads : ncpu > 0 ? (unsigned)ncpu : 1;
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_TURBO;
    if (cert)
        flags |= MHD_USE_TLS;
    struct MHD_OptionItem ops[8];
    int k = 0;
    ops[k++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT,
                                       o->timeout_seconds ? o->timeout_seconds : 30, NULL};
    ops[k++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT,
                                       o->max_connections ? o->max_connections : 1024, NULL};
    ops[k++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, sv};
    if (threads > 1)
        ops[k++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, threads, NULL};
    if (cert) {
        ops[k++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, cert};
        ops[k++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, key};
    }
    ops[k] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    return sv_http_listen(o->host ? o->host : "127.0.0.1", o->port, "--host", flags,
                          on_request, sv, ops, &sv->d, bound, err);
}

/* The watcher: load, then re-check the pointers until asked to stop. */
static void watch(server *sv, int wake_fd)
{
    double interval = sv->o->reload_interval == 0 ? 2.0 : sv->o->reload_interval;
    while (!atomic_load(&g_stop)) {
        sv_store_poll(&sv->store);
        if (atomic_load(&g_stop))
            break;
        int wait_ms = interval < 0 ? (sv_store_ready(&sv->store) ? -1 : 2000)
                                   : (int)(interval * 1000);
        struct pollfd p = {.fd = wake_fd, .events = POLLIN};
        if (poll(&p, 1, wait_ms) > 0) {
            char buf[64];
            ssize_t got = read(wake_fd, buf, sizeof buf);
            (void)got;
        }
    }
}

sl_rc sl_server_run(const sl_server_options *opts, sl_err *err)
{
    server sv;
    char *cert = NULL, *key = NULL;
    int pipefd[2] = {-1, -1}, bound = 0;
    sl_rc rc;
    memset(&sv, 0, sizeof sv);
    sv.max_body = opts->max_body_bytes ? opts->max_body_bytes : SV_DEFAULT_BODY;
    sl_server_options o2 = *opts;
    if (!o2.max_instances)
        o2.max_instances = SV_DEFAULT_INSTANCES;
    if (!o2.registry)
        o2.registry = "models/ml_models";
    sv.o = &o2;
    if ((rc = check_options(&o2, err)) != SL_OK)
        return rc;
    if (o2.auth_token_file && (rc = load_token(&sv, err)) != SL_OK)
        goto out;
    if (o2.tls_cert && ((rc = read_small_file(o2.tls_cert, "TLS certificate", &cert, err)) != SL_OK ||
                        (rc = read_small_file(o2.tls_key, "TLS key", &key, err)) != SL_OK))
        goto out;
    if ((rc = sv_metrics_init(&sv.m, err)) != SL_OK)
        goto out;
    sv_register_process_metrics();
    if ((rc = sv_store_open(&sv.store, &o2, &sv.m, err)) != SL_OK)
        goto out;
    if (pipe(pipefd) != 0) {
        rc = sl_err_set(err, SL_EIO, "pipe: %s", strerror(errno));
        goto out;
    }
    fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
    fcntl(pipefd[1], F_SETFL, O_NONBLOCK);
    atomic_store(&g_wake_fd, pipefd[1]);
    if ((rc = start_daemon(&sv, cert, key, &bound, err)) != SL_OK)
        goto out;
    char port[16];
    snprintf(port, sizeof port, "%d", bound);
    sl_log_kv(SL_LOG_INFO, "serve", "listening", "url.scheme", cert ? "https" : "http",
              "server.address", o2.host ? o2.host : "127.0.0.1", "server.port", port,
              "registry", o2.registry, "auth", sv.token ? "bearer" : "none",
              (const char *)NULL);
    if (o2.on_listen)
        o2.on_listen(o2.on_listen_arg, bound);
    watch(&sv, pipefd[0]);
    sl_log(SL_LOG_INFO, "serve", "stopping");
out:
    if (sv.d)
        MHD_stop_daemon(sv.d);
    atomic_store(&g_wake_fd, -1);
    if (pipefd[0] >= 0) {
        close(pipefd[0]);
        close(pipefd[1]);
    }
    if (sv.store.slots)
        sv_store_close(&sv.store);
    if (sv.token) {
        memset(sv.token, 0, sv.token_len);
        sl_free(sv.token);
    }
    if (key) {
        memset(key, 0, strlen(key));
        sl_free(key);
    }
    sl_free(cert);
    return rc;
}
