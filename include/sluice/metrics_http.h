/*
 * metrics_http.h: a small HTTP endpoint for processes that are not
 * `sluice serve` (a stream: `sluice run --stream --metrics-port N`):
 *
 *   GET /metrics   the Prometheus registry (prom.h), text format 0.0.4
 *   GET /healthz   200 {"status":"ok"} while the endpoint runs
 *   GET /readyz    200 {"status":"ready"} once the owner said so, else 503
 *
 * It also registers sluice_build_info and sluice_process_start_time_seconds.
 * HEAD works too; other methods get 405, other paths 404 (JSON errors).
 * One libmicrohttpd thread of its own (a scrape every few seconds needs no
 * more), at most 32 connections, idle ones closed after 10 s. No auth and
 * no TLS: bind it to loopback (the default) or a private interface, or
 * put a proxy in front.
 */
#ifndef SLUICE_METRICS_HTTP_H
#define SLUICE_METRICS_HTTP_H

#include "error.h"

typedef struct sl_metrics_http sl_metrics_http;

/* Listen on host:port (host NULL = "127.0.0.1"; port 0 = any free port)
 * and serve from a thread of its own until stopped. `what` names the
 * setting in errors (e.g. "--metrics-addr"; NULL = "metrics address").
 * SL_ECONFIG: a host that does not resolve, a port out of range; SL_EIO:
 * the port cannot be bound (in use, no permission). */
sl_rc sl_metrics_http_start(const char *host, int port, const char *what,
                            sl_metrics_http **out, sl_err *err);

/* The port listened on (the chosen one when started with 0). */
int sl_metrics_http_port(const sl_metrics_http *h);

/* What /readyz answers from now on (0 at start). NULL h: no-op. */
void sl_metrics_http_set_ready(sl_metrics_http *h, int ready);

/* Stop listening, finish the requests in flight, free h (NULL ok). */
void sl_metrics_http_stop(sl_metrics_http *h);

#endif
