/*
 * serving/http_common.h: the libmicrohttpd pieces shared by the model
 * server (server.c) and the metrics endpoint of streams
 * (metrics_http.c): listening on host:port, MHD's log, queueing a
 * response from a strbuf, the registry's text, the process metrics.
 * Not installed.
 */
#ifndef SLUICE_SERVING_HTTP_COMMON_H
#define SLUICE_SERVING_HTTP_COMMON_H

#include <microhttpd.h>

#include "sluice/error.h"
#include "sluice/strbuf.h"

/* Start an MHD daemon listening on host:port (a name or an IPv4/IPv6
 * address; port 0 = any free port): flags | MHD_USE_ERROR_LOG (and
 * MHD_USE_IPv6 for an IPv6 address), MHD's log to sl_log at debug, then the
 * extra options (MHD_OPTION_END-terminated; NULL for none). `what` names
 * the setting in errors ("--host"). *bound: the port listened on.
 * SL_ECONFIG for a host that does not resolve, SL_EIO when the port cannot
 * be bound. */
sl_rc sv_http_listen(const char *host, int port, const char *what, unsigned flags,
                     MHD_AccessHandlerCallback handler, void *cls,
                     const struct MHD_OptionItem *extra, struct MHD_Daemon **out,
                     int *bound, sl_err *err);

/* Queue b's text (taken: b is left empty) as the response: status,
 * Content-Type, Allow when given, WWW-Authenticate: Bearer with 401. When b
 * ran out of memory, a 503 JSON error instead. *sent: the status queued
 * (unchanged when no response could be made). */
enum MHD_Result sv_http_send(struct MHD_Connection *c, int status, const char *ctype,
                             sl_strbuf *b, const char *allow, int *sent);

/* The registry's text (prom.h) into b, for GET /metrics. */
sl_rc sv_http_metrics_text(sl_strbuf *b, sl_err *err);

/* sluice_build_info{version} and sluice_process_start_time_seconds (set at
 * the first call: a restart shows as a new start time). */
void sv_register_process_metrics(void);

#endif
