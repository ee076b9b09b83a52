/*
 * kafka_dlq.c: the Kafka source's dead letters (kafka_internal.h): a
 * dead-letter topic through an idempotent producer, or an append-only
 * JSON Lines file. Unlike the batch rejects file (dlq.c, rewritten by each
 * run), a stream's rejects file is appended to, so a restarted stream
 * never erases the dead letters of the previous run.
 *
 * Durability protocol: write() only enqueues / buffers; sync() returns OK
 * only when every dead letter written so far is acknowledged by the broker
 * (all delivery reports in, none failed) or fsynced to the file. The source
 * calls sync() before committing offsets.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "formats/messages.h"
#include "ingestion/kafka_internal.h"
#include "sluice/log.h"
#include "sluice/mem.h"

struct sl_kdlq {
    /* topic */
    rd_kafka_t *rk;
    char *topic;
    int64_t failed;       /* delivery reports with an error (producer thread) */
    char first_error[256];
    /* file */
    char *path;
    FILE *f;
    char *line;
    size_t line_cap;
    int64_t count;
};

/* Consumer-only keys do not apply to the dead-letter producer. */
static const char *const consumer_only[] = {
    "group.", "enable.auto.", "auto.", "fetch.", "isolation.level",
    "partition.assignment.strategy", "session.timeout.ms", "heartbeat.interval.ms",
    "max.poll.interval.ms", "queued.", "check.crcs", "enable.partition.eof",
    "allow.auto.create.topics", "consume.", "offset.store.", "coordinator.query",
    "group.protocol", NULL};

static const sl_kafka_rule dlq_rules[] = {
    {"enable.idempotence", "true", "cannot be changed: dead letters use an idempotent producer"},
    {"acks", "all|-1", "must be 'all': a dead letter counts only once every replica has it"},
    {NULL, NULL, NULL}};

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    sl_kdlq *d = opaque;
    if (m->err) {
        /* only this thread writes first_error, before failed becomes > 0 */
        if (__atomic_load_n(&d->failed, __ATOMIC_ACQUIRE) == 0)
            snprintf(d->first_error, sizeof d->first_error, "%s", rd_kafka_err2str(m->err));
        __atomic_add_fetch(&d->failed, 1, __ATOMIC_RELEASE);
    }
}

sl_rc sl_kdlq_open(const char *topic, const char *brokers,
                   const sl_strmap *props, const char *path, sl_kdlq **out,
                   sl_err *err)
{
    sl_rc rc = SL_OK;
    rd_kafka_conf_t *c = NULL;
    *out = NULL;
    sl_kdlq *d = sl_calloc(1, sizeof *d);
    if (!d)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    if (topic) {
        if (!(d->topic = sl_strdup(topic))) {
            rc = sl_err_set(err, SL_ENOMEM, "out of memory");
            goto out;
        }
        if ((rc = sl_kafka_conf_new(brokers, props, dlq_rules, consumer_only,
                                    "source 'kafka' (dead-letter producer)", &c, err)) != SL_OK)
            goto out;
        if ((rc = sl_kafka_conf_set(c, "enable.idempotence", "true", 0, err)) != SL_OK ||
            (rc = sl_kafka_conf_set(c, "client.id", "sluice-dlq", 0, err)) != SL_OK)
            goto out;
        rd_kafka_conf_set_opaque(c, d);
        rd_kafka_conf_set_dr_msg_cb(c, dr_cb);
        rc = sl_kafka_client_new(RD_KAFKA_PRODUCER, c, "source 'kafka' dead letters", &d->rk, err);
        c = NULL;
        if (rc != SL_OK)
            goto out;
    } else if (!(d->path = sl_strdup(path ? path : "rejects.jsonl"))) {
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
    }
out:
    if (c)
        rd_kafka_conf_destroy(c);
    if (rc != SL_OK)
        sl_kdlq_close(d, 0, NULL);
    else
        *out = d;
    return rc;
}

static sl_rc add_header(rd_kafka_headers_t *h, const char *name, const char *v)
{
    return rd_kafka_header_add(h, name, -1, v, -1) ? SL_ENOMEM : SL_OK;
}

static sl_rc write_topic(sl_kdlq *d, const rd_kafka_message_t *m,
                         const char *reason, sl_err *err)
{
    char num[32];
    rd_kafka_headers_t *src = NULL, *h = NULL;
    rd_kafka_timestamp_type_t tt;
    int64_t ts = rd_kafka_message_timestamp(m, &tt);
    if (rd_kafka_message_headers(m, &src) == RD_KAFKA_RESP_ERR_NO_ERROR && src)
        h = rd_kafka_headers_copy(src);
    else
        h = rd_kafka_headers_new(6);
    if (!h)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    sl_rc rc = add_header(h, "sluice.error", reason);
    if (rc == SL_OK)
        rc = add_header(h, "sluice.topic", rd_kafka_topic_name(m->rkt));
    snprintf(num, sizeof num, "%" PRId32, m->partition);
    if (rc == SL_OK)
        rc = add_header(h, "sluice.partition", num);
    snprintf(num, sizeof num, "%" PRId64, m->offset);
    if (rc == SL_OK)
        rc = add_header(h, "sluice.offset", num);
    snprintf(num, sizeof num, "%" PRId64, ts);
    if (rc == SL_OK)
        rc = add_header(h, "sluice.timestamp", num);
    if (rc != SL_OK) {
        rd_kafka_headers_destroy(h);
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    }
    for (;;) {
        rd_kafka_resp_err_t e = rd_kafka_producev(
            d->rk, RD_KAFKA_V_TOPIC(d->topic), RD_KAFKA_V_VALUE(m->payload, m->len),
            RD_KAFKA_V_KEY(m->key, m->key_len), RD_KAFKA_V_HEADERS(h),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
            break; /* h is owned by the message now */
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rd_kafka_headers_destroy(h);
            return sl_err_set(err, sl_kafka_rc(e), "dead-letter topic '%s': %s", d->topic,
                              rd_kafka_err2str(e));
        }
        rd_kafka_poll(d->rk, 100); /* backpressure: wait for deliveries */
    }
    rd_kafka_poll(d->rk, 0);
    return SL_OK;
}

static sl_rc put(sl_kdlq *d, size_t *len, const char *s)
{
    size_t n = strlen(s);
    if (sl_grow((void **)&d->line, &d->line_cap, *len + n + 1, 1) != 0)
        return SL_ENOMEM;
    memcpy(d->line + *len, s, n);
    *len += n;
    return SL_OK;
}

static sl_rc write_file(sl_kdlq *d, const rd_kafka_message_t *m,
                        const char *reason, sl_err *err)
{
    char num[160];
    size_t len = 0;
    rd_kafka_timestamp_type_t tt;
    const char *topic = rd_kafka_topic_name(m->rkt);
    sl_rc rc = put(d, &len, "{\"source\":\"kafka\",\"topic\":");
    if (rc == SL_OK)
        rc = sl_json_put_str(&d->line, &len, &d->line_cap, topic, strlen(topic));
    snprintf(num, sizeof num, ",\"partition\":%" PRId32 ",\"offset\":%" PRId64
             ",\"timestamp\":%" PRId64 ",\"key\":", m->partition, m->offset,
             rd_kafka_message_timestamp(m, &tt));
    if (rc == SL_OK)
        rc = put(d, &len, num);
    if (rc == SL_OK)
        rc = m->key ? sl_json_put_str(&d->line, &len, &d->line_cap, m->key, m->key_len)
                    : put(d, &len, "null");
    if (rc == SL_OK)
        rc = put(d, &len, ",\"reason\":");
    if (rc == SL_OK)
        rc = sl_json_put_str(&d->line, &len, &d->line_cap, reason, strlen(reason));
    if (rc == SL_OK)
        rc = put(d, &len, ",\"record\":");
    if (rc == SL_OK)
        rc = m->payload ? sl_json_put_str(&d->line, &len, &d->line_cap, m->payload, m->len)
                        : put(d, &len, "null");
    if (rc == SL_OK)
        rc = put(d, &len, "}\n");
    if (rc != SL_OK)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    if (!d->f && !(d->f = fopen(d->path, "a")))
        return sl_err_setloc(err, SL_EIO, d->path, 0, 0, "cannot open the rejects file: %s",
                             strerror(errno));
    if (fwrite(d->line, 1, len, d->f) != len)
        return sl_err_setloc(err, SL_EIO, d->path, 0, 0, "cannot write the rejects file: %s",
                             strerror(errno));
    return SL_OK;
}

sl_rc sl_kdlq_write(sl_kdlq *d, const rd_kafka_message_t *m,
                    const char *reason, sl_err *err)
{
    sl_rc rc = d->rk ? write_topic(d, m, reason, err) : write_file(d, m, reason, err);
    if (rc == SL_OK)
        d->count++;
    return rc;
}

sl_rc sl_kdlq_sync(sl_kdlq *d, int64_t timeout_ms, sl_err *err)
{
    if (!d)
        return SL_OK;
    if (d->f) {
        if (fflush(d->f) != 0 || fsync(fileno(d->f)) != 0)
            return sl_err_setloc(err, SL_EIO, d->path, 0, 0,
                                 "cannot write the rejects file: %s", strerror(errno));
        return SL_OK;
    }
    if (!d->rk)
        return SL_OK;
    /* in slices, so a stop request is seen: after one, the wait is cut
     * to SL_KAFKA_STOP_GRACE_MS (the records are read again:
     * at-least-once) */
    int64_t start = sl_kafka_now_ms(), stop_seen = 0;
    rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR__TIMED_OUT;
    for (;;) {
        int64_t left = sl_kafka_wait_deadline(start, timeout_ms, SL_KAFKA_STOP_GRACE_MS,
                                              &stop_seen) - sl_kafka_now_ms();
        if (left <= 0)
            break;
        if ((e = rd_kafka_flush(d->rk, (int)(left < 100 ? left : 100))) !=
            RD_KAFKA_RESP_ERR__TIMED_OUT)
            break;
    }
    if (e == RD_KAFKA_RESP_ERR__TIMED_OUT)
        return sl_err_set(err, SL_EIO,
                          "dead-letter topic '%s': %d records not acknowledged within %lld ms%s",
                          d->topic, rd_kafka_outq_len(d->rk),
                          (long long)(sl_kafka_now_ms() - start),
                          stop_seen ? " (stop requested)" : "");
    int64_t failed = __atomic_load_n(&d->failed, __ATOMIC_ACQUIRE);
    if (failed > 0)
        return sl_err_set(err, SL_EIO, "dead-letter topic '%s': %lld records failed: %s",
                          d->topic, (long long)failed, d->first_error);
    char es[256];
    e = rd_kafka_fatal_error(d->rk, es, sizeof es);
    if (e)
        return sl_err_set(err, SL_EIO, "dead-letter topic '%s': %s", d->topic, es);
    return SL_OK;
}

int64_t sl_kdlq_count(const sl_kdlq *d)
{
    return d ? d->count : 0;
}

sl_rc sl_kdlq_close(sl_kdlq *d, int64_t timeout_ms, sl_err *err)
{
    if (!d)
        return SL_OK;
    sl_rc rc = timeout_ms > 0 ? sl_kdlq_sync(d, timeout_ms, err) : SL_OK;
    if (d->f && fclose(d->f) != 0 && rc == SL_OK)
        rc = sl_err_setloc(err, SL_EIO, d->path, 0, 0, "cannot close the rejects file: %s",
                           strerror(errno));
    if (d->rk)
        rd_kafka_destroy(d->rk);
    sl_free(d->topic);
    sl_free(d->path);
    sl_free(d->line);
    sl_free(d);
    return rc;
}
