/*
 * metrics_http.c: the metrics endpoint of processes other than `sluice
 * serve` (metrics_http.h), on libmicrohttpd with one internal polling
 * thread. Every request is answered from its first call (headers only):
 * the routes take no body, and MHD discards one a client sends anyway.
 * The registry is thread-safe and rendered per scrape; readiness is one
 * atomic flag the owner sets.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "serving/http_common.h"
#include "serving/internal.h"
#include "sluice/mem.h"
#include "sluice/metrics_http.h"
#include "sluice/prom.h"

struct sl_metrics_http {
    struct MHD_Daemon *d;
    int port;
    atomic_int ready;
};

static enum MHD_Result send_json(struct MHD_Connection *c, int status, const char *json,
                                 const char *allow)
{
    sl_strbuf b = {0};
    sl_sb_str(&b, json);
    return sv_http_send(c, status, "application/json", &b, allow, NULL);
}

static enum MHD_Result send_error(struct MHD_Connection *c, int status, const char *code,
                                  const char *msg, const char *allow)
{
    sl_strbuf b = {0};
    sv_error_json(&b, code, msg);
    return sv_http_send(c, status, "application/json", &b, allow, NULL);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_size, void **con_cls)
{
    sl_metrics_http *h = cls;
    (void)version, (void)upload, (void)con_cls;
    if (*upload_size) { /* a body after the answer was queued: drop it */
        *upload_size = 0;
        return MHD_YES;
    }
    int metrics = !strcmp(url, "/metrics"), health = !strcmp(url, "/healthz"),
        ready = !strcmp(url, "/readyz");
    if (!metrics && !health && !ready) {
        char msg[200];
        snprintf(msg, sizeof msg, "no route for %.120s (try /metrics, /healthz, /readyz)", url);
        return send_error(c, MHD_HTTP_NOT_FOUND, "not_found", msg, NULL);
    }
    if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
        return send_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed",
                          "this route takes GET", "GET, HEAD");
    if (health)
        return send_json(c, MHD_HTTP_OK, "{\"status\":\"ok\"}\n", NULL);
    if (ready)
        return atomic_load(&h->ready)
                   ? send_json(c, MHD_HTTP_OK, "{\"status\":\"ready\"}\n", NULL)
                   : send_json(c, MHD_HTTP_SERVICE_UNAVAILABLE, "{\"status\":\"starting\"}\n",
                               NULL);
    sl_strbuf b = {0};
    sl_err err;
    sl_err_clear(&err);
    if (sv_http_metrics_text(&b, &err) != SL_OK)
        return send_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "resource_exhausted", err.msg, NULL);
    return sv_http_send(c, MHD_HTTP_OK, SL_PROM_CONTENT_TYPE, &b, NULL, NULL);
}

sl_rc sl_metrics_http_start(const char *host, int port, const char *what,
                            sl_metrics_http **out, sl_err *err)
{
    *out = NULL;
    sl_metrics_http *h = sl_calloc(1, sizeof *h);
    if (!h)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    atomic_init(&h->ready, 0);
    const struct MHD_OptionItem ops[] = {
        {MHD_OPTION_CONNECTION_TIMEOUT, 10, NULL},
        {MHD_OPTION_CONNECTION_LIMIT, 32, NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    sl_rc rc = sv_http_listen(host ? host : "127.0.0.1", port,
                              what ? what : "metrics address",
                              MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO, on_request, h, ops,
                              &h->d, &h->port, err);
    if (rc != SL_OK) {
        sl_free(h);
        return rc;
    }
    sv_register_process_metrics();
    *out = h;
    return SL_OK;
}

int sl_metrics_http_port(const sl_metrics_http *h)
{
    return h ? h->port : 0;
}

void sl_metrics_http_set_ready(sl_metrics_http *h, int ready)
{
    if (h)
        atomic_store(&h->ready, ready != 0);
}

void sl_metrics_http_stop(sl_metrics_http *h)
{
    if (!h)
        return;
    MHD_stop_daemon(h->d);
    sl_free(h);
}
