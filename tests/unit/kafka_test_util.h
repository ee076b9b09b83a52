/*
 * kafka_test_util.h: helpers for the Kafka tests (test_kafka_*.c): an
 * in-process mock cluster (librdkafka's rdkafka_mock), a plain producer and
 * a plain reader to put records in and read them back independently of the
 * code under test, and plugin instances configured from YAML text.
 * Static functions, marked unused, so each test file takes what it needs.
 */
#ifndef SL_KAFKA_TEST_UTIL_H
#define SL_KAFKA_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "sluice/config_map.h"
#include "sluice/log.h"
#include "sluice/mem.h"
#include "sluice/node.h"
#include "sluice/pipeline.h"
#include "sluice/plugin.h"
#include "sluice/spec.h"
#include "sluice/train.h"

#define UNUSED __attribute__((unused))

typedef struct mock {
    rd_kafka_t *host;
    rd_kafka_mock_cluster_t *mc;
    char bootstrap[256];
} mock;

static UNUSED void quiet_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk, (void)level, (void)fac, (void)buf;
}

static UNUSED void mock_start(mock *m)
{
    char es[256];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    rd_kafka_conf_set_log_cb(c, quiet_log);
    m->host = rd_kafka_new(RD_KAFKA_PRODUCER, c, es, sizeof es);
    assert_non_null(m->host);
    m->mc = rd_kafka_mock_cluster_new(m->host, 1);
    assert_non_null(m->mc);
    snprintf(m->bootstrap, sizeof m->bootstrap, "%s", rd_kafka_mock_cluster_bootstraps(m->mc));
}

static UNUSED void mock_topic(mock *m, const char *topic, int partitions)
{
    assert_int_equal(rd_kafka_mock_topic_create(m->mc, topic, partitions, 1), 0);
}

static UNUSED void mock_stop(mock *m)
{
    rd_kafka_mock_cluster_destroy(m->mc);
    rd_kafka_destroy(m->host);
}

/* Group setup/teardown of a test file: quiet logs, a scratch directory
 * (tmpdir, from a mkdtemp template such as "/tmp/sl_kafka_XXXXXX") and a
 * mock cluster; teardown removes both. */
static UNUSED void mock_group_setup(mock *m, char *tmpdir, size_t n, const char *template_)
{
    sl_log_setup(SL_LOG_ERROR, SL_LOG_TEXT);
    snprintf(tmpdir, n, "%s", template_);
    assert_non_null(mkdtemp(tmpdir));
    mock_start(m);
}

static UNUSED int mock_group_teardown(mock *m, const char *tmpdir)
{
    mock_stop(m);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static UNUSED rd_kafka_t *client(rd_kafka_type_t type, const char *bootstrap, ...)
{
    char es[256];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    rd_kafka_conf_set_log_cb(c, quiet_log);
    assert_int_equal(rd_kafka_conf_set(c, "bootstrap.servers", bootstrap, es, sizeof es), 0);
    va_list ap;
    va_start(ap, bootstrap);
    const char *k;
    while ((k = va_arg(ap, const char *)) != NULL) {
        const char *v = va_arg(ap, const char *);
        assert_int_equal(rd_kafka_conf_set(c, k, v, es, sizeof es), 0);
    }
    va_end(ap);
    rd_kafka_t *rk = rd_kafka_new(type, c, es, sizeof es);
    assert_non_null(rk);
    return rk;
}

/* Produce values (NULL value = tombstone) with keys "k<i>" (or no key),
 * to one partition (-1: by key). */
static UNUSED void produce(const char *bootstrap, const char *topic, const char *const *values,
                           int n, int partition, int with_keys)
{
    rd_kafka_t *p = client(RD_KAFKA_PRODUCER, bootstrap, "linger.ms", "1", NULL);
    for (int i = 0; i < n; i++) {
        char key[32];
        int kn = snprintf(key, sizeof key, "k%d", i);
        const void *kp = with_keys ? key : NULL;
        size_t kl = with_keys ? (size_t)kn : 0;
        int32_t part = partition < 0 ? RD_KAFKA_PARTITION_UA : partition;
        rd_kafka_resp_err_t e = rd_kafka_producev(
            p, RD_KAFKA_V_TOPIC(topic),
            RD_KAFKA_V_PARTITION(part),
            RD_KAFKA_V_VALUE((void *)values[i], values[i] ? strlen(values[i]) : 0),
            RD_KAFKA_V_KEY(kp, kl),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        assert_int_equal(e, 0);
    }
    assert_int_equal(rd_kafka_flush(p, 10000), 0);
    rd_kafka_destroy(p);
}

/* Produce n JSON objects {"id": i, "v": i * 0.5, "s": "str<i>"}. */
static UNUSED void produce_json(const char *bootstrap, const char *topic, int first, int n,
                                int partition)
{
    char **v = calloc((size_t)n, sizeof *v);
    for (int i = 0; i < n; i++) {
        v[i] = malloc(96);
        snprintf(v[i], 96, "{\"id\": %d, \"v\": %g, \"s\": \"str%d\"}", first + i,
                 (first + i) * 0.5, first + i);
    }
    produce(bootstrap, topic, (const char *const *)v, n, partition, 1);
    for (int i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* A read-back record. */
typedef struct rec {
    char *value, *key;
    int32_t partition;
    int64_t offset;
    char hdr[6][128]; /* sluice.error, .topic, .partition, .offset, .timestamp, custom "h1" */
} rec;

/* Read every record of topic (all partitions from the beginning) until n
 * are in or timeout_ms passed. Returns the count; caller frees. */
static UNUSED int read_topic(const char *bootstrap, const char *topic, int partitions, int n,
                             int timeout_ms, rec *out)
{
    rd_kafka_t *c = client(RD_KAFKA_CONSUMER, bootstrap, "group.id", "reader",
                           "enable.auto.commit", "false", NULL);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(partitions);
    for (int p = 0; p < partitions; p++)
        rd_kafka_topic_partition_list_add(l, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    assert_int_equal(rd_kafka_assign(c, l), 0);
    rd_kafka_topic_partition_list_destroy(l);
    static const char *const hn[] = {"sluice.error", "sluice.topic", "sluice.partition",
                                     "sluice.offset", "sluice.timestamp", "h1"};
    int got = 0;
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (got < n) {
        clock_gettime(CLOCK_MONOTONIC, &t);
        if ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 > timeout_ms)
            break;
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 100);
        if (!m)
            continue;
        if (!m->err) {
            rec *r = &out[got++];
            memset(r, 0, sizeof *r);
            r->value = m->payload ? strndup(m->payload, m->len) : NULL;
            r->key = m->key ? strndup(m->key, m->key_len) : NULL;
            r->partition = m->partition;
            r->offset = m->offset;
            rd_kafka_headers_t *h = NULL;
            if (rd_kafka_message_headers(m, &h) == 0 && h) {
                for (int k = 0; k < 6; k++) {
                    const void *v;
                    size_t vn;
                    if (rd_kafka_header_get_last(h, hn[k], &v, &vn) == 0 && v)
                        snprintf(r->hdr[k], sizeof r->hdr[k], "%.*s", (int)vn, (const char *)v);
                }
            }
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
    return got;
}

static UNUSED void free_recs(rec *r, int n)
{
    for (int i = 0; i < n; i++) {
        free(r[i].value);
        free(r[i].key);
    }
}

/* ---- specs for the streaming runner ---- */

typedef struct spec_def {
    sl_spec *spec;
    sl_pipeline_def def;
} spec_def;

/* A spec from YAML text (name: its file name in messages) and the
 * runner's definition of it. */
static UNUSED void spec_load(spec_def *sd, const char *name, const char *yaml)
{
    sl_err err;
    sl_err_clear(&err);
    if (sl_spec_load_string(yaml, strlen(yaml), name, &sd->spec, &err) != SL_OK ||
        sl_pipeline_def_from_spec(sd->spec, &sd->def, &err) != SL_OK)
        fail_msg("spec: %s", err.msg);
}

static UNUSED void spec_unload(spec_def *sd)
{
    sl_pipeline_def_clear(&sd->def);
    sl_spec_free(sd->spec);
}

/* ---- plugin instances from YAML ---- */

typedef struct pinst {
    const sl_plugin *p;
    sl_doc *doc;
    void *cfg;
    void *h;
    sl_ctx ctx;
    sl_schema *out;
} pinst;

/* init (and open with `schema` for sinks / NULL for sources) from YAML
 * text, printf-style. Returns the rc of init or open; err filled. */
static UNUSED sl_rc pinst_make(pinst *pi, const sl_plugin *p, const sl_schema *schema,
                               const sl_schema *hint, sl_err *err, const char *fmt, ...)
{
    char yaml[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(yaml, sizeof yaml, fmt, ap);
    va_end(ap);
    memset(pi, 0, sizeof *pi);
    pi->p = p;
    pi->ctx.schema_hint = hint;
    sl_err_clear(err);
    sl_rc rc = sl_yaml_load_string(yaml, strlen(yaml), "test.yaml", &pi->doc, err);
    if (rc != SL_OK)
        return rc;
    pi->cfg = calloc(1, p->config_size);
    static const char *const skip[] = {"type", NULL};
    rc = sl_config_apply_ex(p->config_map, pi->doc->root, pi->cfg, NULL, skip, err);
    if (rc != SL_OK)
        return rc;
    if ((rc = p->init(&pi->h, pi->cfg, &pi->ctx, err)) != SL_OK)
        return rc;
    if (p->kind == SL_PLUGIN_SOURCE)
        return p->open(pi->h, NULL, &pi->out, err);
    return p->open(pi->h, schema, NULL, err);
}

static UNUSED void pinst_free(pinst *pi)
{
    if (pi->h && pi->p->destroy)
        pi->p->destroy(pi->h);
    if (pi->cfg)
        sl_config_free(pi->p->config_map, pi->cfg);
    free(pi->cfg);
    sl_doc_free(pi->doc);
    sl_schema_free(pi->out);
    memset(pi, 0, sizeof *pi);
}

/* Read batches from a source instance until `want` rows or timeout. The
 * batches are kept (caller unrefs) when keep != NULL. */
static UNUSED int64_t drain(pinst *src, int64_t want, int timeout_ms, sl_batch **keep,
                            int *nkeep, int keep_max)
{
    int64_t rows = 0;
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (nkeep)
        *nkeep = 0;
    while (rows < want) {
        clock_gettime(CLOCK_MONOTONIC, &t);
        if ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 > timeout_ms)
            break;
        sl_batch *b = NULL;
        sl_err err;
        sl_err_clear(&err);
        sl_rc rc = src->p->next(src->h, &b, &err);
        if (rc != SL_OK)
            fail_msg("next: %s", err.msg);
        rows += b->nrows;
        if (keep && b->nrows > 0 && *nkeep < keep_max)
            keep[(*nkeep)++] = b;
        else
            sl_batch_unref(b);
    }
    return rows;
}

#endif
