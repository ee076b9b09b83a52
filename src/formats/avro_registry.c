/*
 * avro_registry.c: a schema resolver for the Confluent wire format:
 * writer schemas by id from a local directory (<dir>/<id>.avsc) and,
 * optionally, from a Confluent Schema Registry (GET <url>/schemas/ids/<id>
 * -> {"schema": "<Avro schema JSON as a string>"}), cached for the
 * resolver's life since a registry never changes what an id names; and
 * registration of a writer's schema under a subject (POST
 * <url>/subjects/<subject>/versions -> {"id": n}) for the Kafka sink.
 *
 * The HTTP client is deliberately tiny (HTTP/1.1, one request per
 * connection, Connection: close, Content-Length or chunked bodies, basic
 * auth from user:password@ in the URL, no TLS, no redirects): the only
 * requests it makes are these two, so a dependency such as libcurl buys
 * little. Every step has a deadline (timeout_ms for the whole request),
 * and a response is bounded to 16 MiB.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "avro_internal.h"
#include "sluice/mem.h"

#define MAX_RESPONSE (16 * 1024 * 1024)

typedef struct entry {
    int32_t id;
    sl_avro_schema *s;
} entry;

struct sl_avro_registry {
    char *dir, *url;
    int timeout_ms;
    entry *e;
    size_t n, cap;
};

static sl_rc nomem(sl_err *err)
{
    return sl_err_set(err, SL_ENOMEM, "out of memory");
}

sl_rc sl_avro_registry_new(const char *dir, const char *url, int timeout_ms,
                           sl_avro_registry **out, sl_err *err)
{
    *out = NULL;
    if (url && strncmp(url, "http://", 7) != 0)
        return sl_err_set(err, SL_EUNSUPPORTED, "schema registry URL '%s': only http:// is "
                                                "supported (no TLS in this build)", url);
    sl_avro_registry *r = sl_calloc(1, sizeof *r);
    if (!r || (dir && !(r->dir = sl_strdup(dir))) || (url && !(r->url = sl_strdup(url)))) {
        sl_avro_registry_free(r);
        return nomem(err);
    }
    r->timeout_ms = timeout_ms > 0 ? timeout_ms : 10000;
    *out = r;
    return SL_OK;
}

void sl_avro_registry_free(sl_avro_registry *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++)
        sl_avro_schema_free(r->e[i].s);
    sl_free(r->e);
    sl_free(r->dir);
    sl_free(r->url);
    sl_free(r);
}

sl_rc sl_avro_registry_add(sl_avro_registry *r, int32_t id, sl_avro_schema *s, sl_err *err)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->e[i].id == id) {
            sl_avro_schema_free(r->e[i].s);
            r->e[i].s = s;
            return SL_OK;
        }
    void *v = r->e;
    if (sl_grow(&v, &r->cap, r->n + 1, sizeof *r->e) != 0) {
        sl_avro_schema_free(s);
        return nomem(err);
    }
    r->e = v;
    r->e[r->n].id = id;
    r->e[r->n++].s = s;
    return SL_OK;
}

/* ---- HTTP ---- */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for fd to be ready for ev until the deadline; 0 ok, -1 timeout. */
static int wait_fd(int fd, short ev, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left <= 0)
            return -1;
        struct pollfd p = {fd, ev, 0};
        int k = poll(&p, 1, (int)left);
        if (k > 0)
            return 0;
        if (k < 0 && errno != EINTR)
            return -1;
    }
}

static void base64(const char *in, size_t n, char *out)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)(uint8_t)in[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)(uint8_t)in[i + 1] << 8;
        if (i + 2 < n)
            v |= (uint8_t)in[i + 2];
        out[o++] = t[v >> 18];
        out[o++] = t[(v >> 12) & 63];
        out[o++] = i + 1 < n ? t[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? t[v & 63] : '=';
    }
    out[o] = '\0';
}

typedef struct url_parts {
    char host[256], port[16], path[1024], auth[512];
} url_parts;

static int parse_url(const char *url, url_parts *u)
{
    const char *p = url + 7, *slash = strchr(p, '/');
    size_t hl = slash ? (size_t)(slash - p) : strlen(p);
    char hostport[512];
    if (hl == 0 || hl >= sizeof hostport)
        return -1;
    memcpy(hostport, p, hl);
    hostport[hl] = '\0';
    snprintf(u->path, sizeof u->path, "%s", slash ? slash : "");
    size_t pl = strlen(u->path);
    while (pl > 0 && u->path[pl - 1] == '/')
        u->path[--pl] = '\0'; /* joined with "/schemas/..." */
    char *hp = hostport, *at = strrchr(hostport, '@');
    u->auth[0] = '\0';
    if (at) {
        *at = '\0';
        if (strlen(hostport) > 300)
            return -1;
        base64(hostport, strlen(hostport), u->auth);
        hp = at + 1;
    }
    snprintf(u->port, sizeof u->port, "80");
    if (hp[0] == '[') { /* [v6]:port */
        char *end = strchr(hp, ']');
        if (!end)
            return -1;
        *end = '\0';
        snprintf(u->host, sizeof u->host, "%s", hp + 1);
        if (end[1] == ':')
            snprintf(u->port, sizeof u->port, "%s", end + 2);
    } else {
        char *colon = strrchr(hp, ':');
        if (colon) {
            *colon = '\0';
            snprintf(u->port, sizeof u->port, "%s", colon + 1);
        }
        snprintf(u->host, sizeof u->host, "%s", hp);
    }
    return u->host[0] ? 0 : -1;
}

static int connect_to(const url_parts *u, int64_t deadline, char *why, size_t wn)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int g = getaddrinfo(u->host, u->port, &hints, &res);
    if (g != 0) {
        snprintf(why, wn, "cannot resolve %s: %s", u->host, gai_strerror(g));
        return -1;
    }
    int fd = -1;
    snprintf(why, wn, "cannot connect to %s:%s", u->host, u->port);
    for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
        if (fd < 0)
            continue;
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        if (connect(fd, a->ai_addr, a->ai_addrlen) != 0 &&
            (errno != EINPROGRESS || wait_fd(fd, POLLOUT, deadline) != 0 ||
             getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr != 0)) {
            snprintf(why, wn, "cannot connect to %s:%s: %s", u->host, u->port,
                     soerr ? strerror(soerr) : errno == EINPROGRESS ? "timed out" : strerror(errno));
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    return fd;
}

/* Decodes a chunked body in place; -1 when malformed. */
static int dechunk(char *b, size_t n, size_t *out)
{
    size_t r = 0, w = 0;
    for (;;) {
        char *end;
        if (r >= n)
            return -1;
        unsigned long long len = strtoull(b + r, &end, 16);
        char *crlf = memchr(b + r, '\n', n - r);
        if (!crlf || end == b + r)
            return -1;
        r = (size_t)(crlf - b) + 1;
        if (len == 0)
            break;
        if (len > n - r)
            return -1;
        memmove(b + w, b + r, (size_t)len);
        w += (size_t)len;
        r += (size_t)len;
        if (r + 1 < n && b[r] == '\r')
            r++;
        if (r < n && b[r] == '\n')
            r++;
    }
    *out = w;
    return 0;
}

static sl_rc send_all(int fd, const char *p, size_t n, int64_t deadline, const char *url,
                      sl_err *err)
{
    for (size_t sent = 0; sent < n;) {
        ssize_t k = send(fd, p + sent, n - sent, MSG_NOSIGNAL);
        if (k > 0)
            sent += (size_t)k;
        else if (k < 0 && errno != EAGAIN && errno != EINTR)
            return sl_err_set(err, SL_EIO, "schema registry: send failed: %s", strerror(errno));
        else if (k < 0 && wait_fd(fd, POLLOUT, deadline) != 0)
            return sl_err_set(err, SL_EIO, "schema registry %s: timed out", url);
    }
    return SL_OK;
}

/* GET url (payload NULL) or POST payload to it; *status and the response
 * body (NUL-terminated) in out. */
static sl_rc http_request(const char *url, const char *payload, int timeout_ms, int *status,
                          pq_buf *out, sl_err *err)
{
    url_parts u;
    char why[512], req[2048];
    int64_t deadline = now_ms() + timeout_ms;
    if (parse_url(url, &u) != 0)
        return sl_err_set(err, SL_ECONFIG, "invalid schema registry URL '%s'", url);
    int fd = connect_to(&u, deadline, why, sizeof why);
    if (fd < 0)
        return sl_err_set(err, SL_EIO, "schema registry: %s", why);
    char authh[600] = "", bodyh[128] = "";
    if (u.auth[0])
        snprintf(authh, sizeof authh, "Authorization: Basic %s\r\n", u.auth);
    if (payload)
        snprintf(bodyh, sizeof bodyh, "Content-Type: application/vnd.schemaregistry.v1+json\r\n"
                                      "Content-Length: %zu\r\n", strlen(payload));
    int rl = snprintf(req, sizeof req,
                      "%s %s HTTP/1.1\r\nHost: %s:%s\r\nAccept: application/vnd.schemaregistry.v1+json, "
                      "application/json\r\nUser-Agent: sluice\r\n%s%sConnection: close\r\n\r\n",
                      payload ? "POST" : "GET", u.path, u.host, u.port, authh, bodyh);
    out->len = 0;
    if (rl < 0 || (size_t)rl >= sizeof req) {
        close(fd);
        return sl_err_set(err, SL_ECONFIG, "schema registry URL '%.200s...' is too long", url);
    }
    sl_rc rc = send_all(fd, req, (size_t)rl, deadline, url, err);
    if (rc == SL_OK && payload)
        rc = send_all(fd, payload, strlen(payload), deadline, url, err);
    while (rc == SL_OK) {
        if (pq_buf_reserve(out, 65536) != 0) {
            rc = nomem(err);
            break;
        }
        ssize_t k = recv(fd, out->p + out->len, out->cap - out->len - 1, 0);
        if (k > 0) {
            out->len += (size_t)k;
            if (out->len > MAX_RESPONSE)
                rc = sl_err_set(err, SL_ELIMIT, "schema registry response exceeds 16 MiB");
        } else if (k == 0) {
            break;
        } else if (errno != EAGAIN && errno != EINTR) {
            rc = sl_err_set(err, SL_EIO, "schema registry: receive failed: %s", strerror(errno));
        } else if (wait_fd(fd, POLLIN, deadline) != 0) {
            rc = sl_err_set(err, SL_EIO, "schema registry %s: timed out after %d ms", url, timeout_ms);
        }
    }
    close(fd);
    if (rc != SL_OK)
        return rc;
    out->p[out->len] = '\0';
    char *b = (char *)out->p, *hdr_end = strstr(b, "\r\n\r\n");
    int major, minor;
    if (!hdr_end || sscanf(b, "HTTP/%d.%d %d", &major, &minor, status) != 3)
        return sl_err_set(err, SL_EPARSE, "schema registry %s: not an HTTP response", url);
    *hdr_end = '\0';
    char *body = hdr_end + 4;
    size_t n = out->len - (size_t)(body - b);
    int chunked = 0;
    long long clen = -1;
    for (char *line = strstr(b, "\r\n"); line; line = strstr(line + 2, "\r\n")) {
        if (!strncasecmp(line + 2, "content-length:", 15))
            clen = atoll(line + 17);
        else if (!strncasecmp(line + 2, "transfer-encoding:", 18) && strstr(line + 20, "chunked"))
            chunked = 1;
    }
    if (chunked && dechunk(body, n, &n) != 0)
        return sl_err_set(err, SL_EPARSE, "schema registry %s: malformed chunked body", url);
    if (!chunked && clen >= 0) {
        if ((size_t)clen > n)
            return sl_err_set(err, SL_EPARSE, "schema registry %s: truncated response", url);
        n = (size_t)clen;
    }
    memmove(out->p, body, n);
    out->len = n;
    out->p[n] = '\0';
    return SL_OK;
}

static sl_rc from_registry(sl_avro_registry *r, int32_t id, sl_avro_schema **out, sl_err *err)
{
    char url[2048];
    int status = 0;
    pq_buf body = {0};
    snprintf(url, sizeof url, "%s/schemas/ids/%d", r->url, (int)id);
    size_t ul = strlen(r->url);
    if (ul > 7 && r->url[ul - 1] == '/')
        snprintf(url, sizeof url, "%.*s/schemas/ids/%d", (int)(ul - 1), r->url, (int)id);
    sl_rc rc = http_request(url, NULL, r->timeout_ms, &status, &body, err);
    json_t *j = NULL;
    if (rc != SL_OK)
        goto out;
    if (status == 404) {
        rc = sl_err_set(err, SL_ENOTFOUND, "schema id %d is not in the schema registry at %s",
                        (int)id, r->url);
        goto out;
    }
    if (status != 200) {
        rc = sl_err_set(err, SL_EIO, "schema registry %s answered HTTP %d: %.200s", url, status,
                        (const char *)body.p);
        goto out;
    }
    j = json_loadb((const char *)body.p, body.len, 0, NULL);
    const char *text = json_string_value(json_object_get(j, "schema"));
    const char *type = json_string_value(json_object_get(j, "schemaType"));
    if (!text) {
        rc = sl_err_set(err, SL_EPARSE, "schema registry %s: the response has no \"schema\"", url);
    } else if (type && strcmp(type, "AVRO") != 0) {
        rc = sl_err_set(err, SL_EUNSUPPORTED, "schema id %d is a %s schema, not Avro", (int)id, type);
    } else {
        char what[64];
        snprintf(what, sizeof what, "schema id %d", (int)id);
        rc = sl_avro_schema_parse(text, json_string_length(json_object_get(j, "schema")), what, out,
                                  err);
    }
out:
    json_decref(j);
    pq_buf_free(&body);
    return rc;
}

sl_rc sl_avro_registry_get(sl_avro_registry *r, int32_t id, const sl_avro_schema **out,
                           sl_err *err)
{
    sl_avro_schema *s = NULL;
    sl_rc rc = SL_ENOTFOUND;
    for (size_t i = 0; i < r->n; i++)
        if (r->e[i].id == id) {
            *out = r->e[i].s;
            return SL_OK;
        }
    if (r->dir) {
        char path[4096];
        struct stat st;
        snprintf(path, sizeof path, "%s/%d.avsc", r->dir, (int)id);
        if (stat(path, &st) == 0 && (rc = sl_avro_schema_load(path, &s, err)) != SL_OK)
            return rc;
    }
    if (!s && r->url && (rc = from_registry(r, id, &s, err)) != SL_OK)
        return rc;
    if (!s)
        return sl_err_set(err, SL_ENOTFOUND, "schema id %d not found%s%s", (int)id,
                          r->dir ? " in " : "", r->dir ? r->dir : "");
    if ((rc = sl_avro_registry_add(r, id, s, err)) != SL_OK)
        return rc;
    *out = s;
    return SL_OK;
}

sl_rc sl_avro_registry_resolve(void *registry, int32_t id, const sl_avro_schema **out, sl_err *err)
{
    return sl_avro_registry_get(registry, id, out, err);
}

/* The registry's own explanation ({"error_code", "message"}) or the body. */
static const char *reason(const pq_buf *body, json_t *j)
{
    const char *m = json_string_value(json_object_get(j, "message"));
    return m ? m : (const char *)body->p;
}

sl_rc sl_avro_registry_register(sl_avro_registry *r, const char *subject, const sl_avro_schema *s,
                                int32_t *id, sl_err *err)
{
    char url[2048], *req = NULL;
    int status = 0;
    pq_buf body = {0};
    json_t *j = NULL;
    sl_rc rc = SL_OK;
    if (!r->url)
        return sl_err_set(err, SL_EINVAL, "registering a schema needs a schema registry URL");
    /* subject, percent-encoded: anything but unreserved characters */
    size_t ul = strlen(r->url), at;
    while (ul > 7 && r->url[ul - 1] == '/')
        ul--;
    at = (size_t)snprintf(url, sizeof url, "%.*s/subjects/", (int)ul, r->url);
    for (const char *p = subject; *p && at + 16 < sizeof url; p++) {
        unsigned char c = (unsigned char)*p;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            strchr("-._~", c))
            url[at++] = (char)c;
        else
            at += (size_t)snprintf(url + at, sizeof url - at, "%%%02X", c);
    }
    if (at + 16 >= sizeof url)
        return sl_err_set(err, SL_ECONFIG, "schema registry subject '%.200s' is too long", subject);
    snprintf(url + at, sizeof url - at, "/versions");
    json_t *rq = json_pack("{s:s}", "schema", sl_avro_schema_json(s));
    if (!rq || !(req = json_dumps(rq, JSON_COMPACT))) {
        json_decref(rq);
        return nomem(err);
    }
    json_decref(rq);
    if ((rc = http_request(url, req, r->timeout_ms, &status, &body, err)) != SL_OK)
        goto out;
    j = json_loadb((const char *)body.p, body.len, 0, NULL);
    json_t *jid = json_object_get(j, "id");
    if (status == 200 && json_is_integer(jid) && json_integer_value(jid) >= 0 &&
        json_integer_value(jid) <= INT32_MAX) {
        *id = (int32_t)json_integer_value(jid);
    } else if (status == 409) {
        rc = sl_err_set(err, SL_ECONFIG, "the schema registry at %s refuses the schema under "
                        "subject '%s' (incompatible with its earlier versions): %.300s",
                        r->url, subject, reason(&body, j));
    } else if (status == 422) {
        rc = sl_err_set(err, SL_ECONFIG, "the schema registry at %s rejects the schema as "
                        "invalid: %.300s", r->url, reason(&body, j));
    } else if (status == 401 || status == 403) {
        rc = sl_err_set(err, SL_ECONFIG, "the schema registry at %s refuses to register under "
                        "subject '%s' (HTTP %d, check the credentials): %.300s", r->url,
                        subject, status, reason(&body, j));
    } else {
        rc = sl_err_set(err, SL_EIO, "schema registry %s answered HTTP %d: %.300s", url, status,
                        reason(&body, j));
    }
out:
    json_decref(j);
    free(req); /* jansson's allocation */
    pq_buf_free(&body);
    return rc;
}
