/*
 * kafka_conf.c: librdkafka client configuration shared by the Kafka source,
 * sink and dead-letter producer: user properties with ${VAR} / @file
 * values, secrets kept out of logs and errors, rules for the properties
 * the plugins own, and librdkafka's logging routed to sl_log.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "ingestion/kafka_internal.h"
#include "sluice/log.h"
#include "sluice/mem.h"
#include "sluice/stream.h"

#define SECRET_FILE_MAX (4 * 1024 * 1024)

int64_t sl_kafka_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t sl_kafka_wait_deadline(int64_t start, int64_t timeout_ms, int64_t grace_ms,
                               int64_t *stop_seen)
{
    if (*stop_seen == 0 && sl_stream_stop_requested())
        *stop_seen = sl_kafka_now_ms();
    int64_t d = timeout_ms < 0 ? INT64_MAX : start + timeout_ms;
    if (*stop_seen && *stop_seen + grace_ms < d)
        d = *stop_seen + grace_ms;
    return d;
}

int sl_kafka_secret_key(const char *key)
{
    static const char *const words[] = {"password", "secret", "token", "jaas",
                                        ".pem", ".key", "credentials", NULL};
    char low[256];
    size_t i = 0;
    for (; key[i] && i + 1 < sizeof low; i++)
        low[i] = (char)tolower((unsigned char)key[i]);
    low[i] = '\0';
    for (int k = 0; words[k]; k++)
        if (strstr(low, words[k]))
            return 1;
    return 0;
}

static sl_rc read_value_file(const char *what, const char *path, char **out,
                             sl_err *err)
{
    sl_rc rc = SL_OK;
    char *buf = NULL;
    size_t n = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return sl_err_set(err, SL_ECONFIG, "property '%s': cannot read '@%s': %s", what,
                          path, strerror(errno));
    if (!(buf = sl_malloc(SECRET_FILE_MAX + 1))) {
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        goto out;
    }
    n = fread(buf, 1, SECRET_FILE_MAX + 1, f);
    if (ferror(f)) {
        rc = sl_err_set(err, SL_ECONFIG, "property '%s': cannot read '@%s': %s", what,
                        path, strerror(errno));
        goto out;
    }
    if (n > SECRET_FILE_MAX) {
        rc = sl_err_set(err, SL_ECONFIG, "property '%s': '@%s' is larger than %d bytes",
                        what, path, SECRET_FILE_MAX);
        goto out;
    }
    if (n > 0 && buf[n - 1] == '\n')
        n--;
    if (n > 0 && buf[n - 1] == '\r')
        n--;
    buf[n] = '\0';
    *out = buf;
    buf = NULL;
out:
    fclose(f);
    sl_free(buf);
    return rc;
}

sl_rc sl_kafka_resolve(const char *what, const char *raw, char **out,
                       int *secret, sl_err *err)
{
    *out = NULL;
    *secret = 0;
    if (raw[0] == '@' && raw[1] == '@')
        return (*out = sl_strdup(raw + 1)) ? SL_OK : sl_err_set(err, SL_ENOMEM, "out of memory");
    if (raw[0] == '@') {
        *secret = 1;
        return read_value_file(what, raw + 1, out, err);
    }
    /* ${VAR} expansion */
    size_t cap = strlen(raw) + 1, len = 0;
    char *d = sl_malloc(cap);
    if (!d)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    for (const char *p = raw; *p;) {
        if (p[0] == '$' && p[1] == '{') {
            const char *e = strchr(p + 2, '}');
            if (!e) {
                sl_free(d);
                return sl_err_set(err, SL_ECONFIG,
                                  "property '%s': '${' without a closing '}'", what);
            }
            char name[256];
            snprintf(name, sizeof name, "%.*s", (int)(e - p - 2), p + 2);
            const char *v = getenv(name);
            if (!v || (size_t)(e - p - 2) >= sizeof name) {
                sl_free(d);
                return sl_err_set(err, SL_ECONFIG,
                                  "property '%s': environment variable '%s' is not set",
                                  what, name);
            }
            size_t vn = strlen(v);
            if (sl_grow((void **)&d, &cap, len + vn + strlen(e + 1) + 1, 1) != 0) {
                sl_free(d);
                return sl_err_set(err, SL_ENOMEM, "out of memory");
            }
            memcpy(d + len, v, vn);
            len += vn;
            *secret = 1;
            p = e + 1;
        } else {
            d[len++] = *p++;
        }
    }
    d[len] = '\0';
    *out = d;
    return SL_OK;
}

sl_rc sl_kafka_conf_set(rd_kafka_conf_t *c, const char *key, const char *value,
                        int secret, sl_err *err)
{
    char es[512];
    rd_kafka_conf_res_t r = rd_kafka_conf_set(c, key, value, es, sizeof es);
    if (r == RD_KAFKA_CONF_OK)
        return SL_OK;
    if (r == RD_KAFKA_CONF_UNKNOWN)
        return sl_err_set(err, SL_ECONFIG,
                          "unknown librdkafka property '%s' (see librdkafka's "
                          "CONFIGURATION.md)", key);
    if (secret || sl_kafka_secret_key(key))
        return sl_err_set(err, SL_ECONFIG,
                          "invalid value for librdkafka property '%s' (the value is "
                          "secret and not shown)", key);
    return sl_err_set(err, SL_ECONFIG, "librdkafka property '%s': %s", key, es);
}

static int allowed_value(const char *allowed, const char *v)
{
    size_t vn = strlen(v);
    for (const char *p = allowed; p && *p;) {
        const char *e = strchr(p, '|');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n == vn && strncasecmp(p, v, n) == 0)
            return 1;
        p = e ? e + 1 : p + n;
    }
    return 0;
}

sl_rc sl_kafka_apply_props(rd_kafka_conf_t *c, const sl_strmap *props,
                           const sl_kafka_rule *rules,
                           const char *const *skip_prefixes,
                           const char *section, sl_err *err)
{
    sl_rc rc = SL_OK;
    for (int i = 0; props && i < props->n && rc == SL_OK; i++) {
        const char *k = props->keys[i];
        int skip = 0;
        for (int s = 0; skip_prefixes && skip_prefixes[s] && !skip; s++)
            skip = strncmp(k, skip_prefixes[s], strlen(skip_prefixes[s])) == 0;
        if (skip)
            continue;
        char *v = NULL;
        int secret = 0;
        if ((rc = sl_kafka_resolve(k, props->values[i], &v, &secret, err)) != SL_OK)
            break;
        for (int r = 0; rules && rules[r].key; r++) {
            if (strcmp(rules[r].key, k) != 0)
                continue;
            if (!rules[r].allowed || !allowed_value(rules[r].allowed, v))
                rc = sl_err_set(err, SL_ECONFIG, "properties: '%s' %s", k, rules[r].why);
            break;
        }
        if (rc == SL_OK)
            rc = sl_kafka_conf_set(c, k, v, secret, err);
        sl_free(v);
        if (rc != SL_OK && err) {
            sl_err_at(err, NULL, props->lines ? props->lines[i] : 0,
                      props->cols ? props->cols[i] : 0);
            sl_err_field(err, k);
        }
    }
    if (rc != SL_OK && err && section && !strstr(err->msg, section))
        sl_err_prefix(err, "%s", section);
    return rc;
}

static void log_cb(const rd_kafka_t *rk, int level, const char *fac,
                   const char *buf)
{
    /* librdkafka logs transient connection failures at LOG_ERR (3) */
    sl_log_level l = level <= 2 ? SL_LOG_ERROR
                     : level <= 4 ? SL_LOG_WARN
                     : level <= 6 ? SL_LOG_INFO
                                  : SL_LOG_DEBUG;
    sl_log(l, "kafka", "%s: %s: %s", rk ? rd_kafka_name(rk) : "?", fac, buf);
}

static void error_cb(rd_kafka_t *rk, int e, const char *reason, void *opaque)
{
    (void)opaque;
    /* Transient (all brokers down, connection refused, ...): librdkafka
     * retries on its own; fatal ones are checked where they matter. */
    sl_log(SL_LOG_WARN, "kafka", "%s: %s: %s", rd_kafka_name(rk),
           rd_kafka_err2name((rd_kafka_resp_err_t)e), reason);
}

sl_rc sl_kafka_conf_new(const char *brokers, const sl_strmap *props,
                        const sl_kafka_rule *rules,
                        const char *const *skip_prefixes,
                        const char *section, rd_kafka_conf_t **out,
                        sl_err *err)
{
    *out = NULL;
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    if (!c)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    rd_kafka_conf_set_log_cb(c, log_cb);
    rd_kafka_conf_set_error_cb(c, error_cb);
    sl_rc rc = sl_kafka_conf_set(c, "bootstrap.servers", brokers, 0, err);
    if (rc == SL_OK)
        rc = sl_kafka_apply_props(c, props, rules, skip_prefixes, section, err);
    if (rc != SL_OK) {
        rd_kafka_conf_destroy(c);
        return rc;
    }
    *out = c;
    return SL_OK;
}

sl_rc sl_kafka_client_new(rd_kafka_type_t type, rd_kafka_conf_t *conf,
                          const char *section, rd_kafka_t **out, sl_err *err)
{
    char es[512];
    *out = rd_kafka_new(type, conf, es, sizeof es);
    if (*out)
        return SL_OK;
    rd_kafka_conf_destroy(conf);
    return sl_err_set(err, SL_ECONFIG, "%s: cannot create the Kafka %s: %s",
                      section ? section : "kafka",
                      type == RD_KAFKA_CONSUMER ? "consumer" : "producer", es);
}

sl_rc sl_kafka_rc(rd_kafka_resp_err_t e)
{
    switch (e) {
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
    case RD_KAFKA_RESP_ERR_INVALID_CONFIG:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
        return SL_ECONFIG;
    default:
        return SL_EIO;
    }
}
