/*
 * http_common.c: libmicrohttpd plumbing shared by `sluice serve`
 * (server.c) and the streams' metrics endpoint (metrics_http.c), see
 * http_common.h. Both listen the same way (getaddrinfo on the host, so a
 * name, an IPv4 or an IPv6 address works), log MHD's messages the same way
 * and render the same registry on GET /metrics.
 */
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "serving/http_common.h"
#include "sluice/log.h"
#include "sluice/mem.h"
#include "sluice/prom.h"

#define SV_MAX_EXTRA_OPTIONS 16

static sl_rc resolve_host(const char *host, int port, const char *what,
                          struct sockaddr_storage *ss, int *ipv6, sl_err *err)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    int e = getaddrinfo(host, NULL, &hints, &res);
    if (e != 0 || !res)
        return sl_err_set(err, SL_ECONFIG, "%s '%s': %s", what, host, gai_strerror(e));
    memset(ss, 0, sizeof *ss);
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *ipv6 = res->ai_family == AF_INET6;
    if (*ipv6)
        ((struct sockaddr_in6 *)(void *)ss)->sin6_port = htons((uint16_t)port);
    else
        ((struct sockaddr_in *)(void *)ss)->sin_port = htons((uint16_t)port);
    freeaddrinfo(res);
    return SL_OK;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    (void)cls;
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    sl_log(SL_LOG_DEBUG, "http", "%s", msg);
}

sl_rc sv_http_listen(const char *host, int port, const char *what, unsigned flags,
                     MHD_AccessHandlerCallback handler, void *cls,
                     const struct MHD_OptionItem *extra, struct MHD_Daemon **out,
                     int *bound, sl_err *err)
{
    struct sockaddr_storage ss;
    int ipv6 = 0;
    *out = NULL;
    if (port < 0 || port > 65535)
        return sl_err_set(err, SL_ECONFIG, "port %d: expected 0..65535", port);
    sl_rc rc = resolve_host(host, port, what, &ss, &ipv6, err);
    if (rc != SL_OK)
        return rc;
    struct MHD_OptionItem ops[SV_MAX_EXTRA_OPTIONS + 3];
    int k = 0;
    /* the logger first: MHD logs options parsed before it to stderr */
    ops[k++] = (struct MHD_OptionItem){MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)on_mhd_log, NULL};
    ops[k++] = (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0, &ss};
    for (int i = 0; extra && extra[i].option != MHD_OPTION_END && i < SV_MAX_EXTRA_OPTIONS; i++)
        ops[k++] = extra[i];
    ops[k] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    flags |= MHD_USE_ERROR_LOG | (ipv6 ? MHD_USE_IPv6 : 0);
    errno = 0;
    *out = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, handler, cls, MHD_OPTION_ARRAY,
                            ops, MHD_OPTION_END);
    if (!*out)
        return sl_err_set(err, SL_EIO, "cannot listen on %s:%d (%s)", host, port,
                          errno ? strerror(errno) : "libmicrohttpd refused the options");
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(*out, MHD_DAEMON_INFO_BIND_PORT);
    *bound = di && di->port ? di->port : port;
    return SL_OK;
}

enum MHD_Result sv_http_send(struct MHD_Connection *c, int status, const char *ctype,
                             sl_strbuf *b, const char *allow, int *sent)
{
    static const char oom[] =
        "{\"error\":{\"code\":\"resource_exhausted\",\"message\":\"out of memory\"}}\n";
    struct MHD_Response *resp;
    size_t len;
    char *p = sl_sb_take(b, &len);
    if (p) {
        resp = MHD_create_response_from_buffer_with_free_callback(len, p, sl_free);
        if (!resp)
            sl_free(p);
    } else {
        status = MHD_HTTP_SERVICE_UNAVAILABLE;
        ctype = "application/json";
        resp = MHD_create_response_from_buffer(sizeof oom - 1, (void *)oom,
                                               MHD_RESPMEM_PERSISTENT);
    }
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    if (allow)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
    if (status == MHD_HTTP_UNAUTHORIZED)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, resp);
    MHD_destroy_response(resp);
    if (sent)
        *sent = status;
    return ret;
}

sl_rc sv_http_metrics_text(sl_strbuf *b, sl_err *err)
{
    char *text;
    size_t len;
    sl_rc rc = sl_prom_render(&text, &len, err);
    if (rc != SL_OK)
        return rc;
    sl_sb_free(b);
    *b = (sl_strbuf){.p = text, .n = len, .cap = len + 1};
    return SL_OK;
}

void sv_register_process_metrics(void)
{
    static const char *const l_build[] = {"version", NULL};
    sl_prom_family *f;
    if (sl_prom_register(SL_PROM_GAUGE, "sluice_build_info",
                         "Build information (value 1).", l_build, NULL, 0, &f, NULL) == SL_OK)
        sl_prom_set(sl_prom_with(f, "0.1.0"), 1);
    if (sl_prom_register(SL_PROM_GAUGE, "sluice_process_start_time_seconds",
                         "Start time of the server or stream since the Unix epoch.", NULL, NULL,
                         0, &f, NULL) == SL_OK)
        sl_prom_set(sl_prom_with(f), (double)time(NULL));
}
