/*
 * kafka_source.c: the `kafka` source plugin (see kafka.h for the contract):
 * its configuration, the consumer's creation and subscription, the schema,
 * and the batches. The consumer-group side (partitions, rebalances,
 * offsets and their commits, backpressure, stats) is kafka_group.c; the
 * types both share are in kafka_source_internal.h.
 *
 * A batch is built in next(): messages are polled from the consumer queue
 * until batch_rows, batch_bytes or batch_ms is reached, then decoded in one
 * go (formats/messages.h for JSON and CSV, kafka_avro.c for Confluent
 * Avro; raw values need no decoding), and the metadata columns are
 * appended for the rows that decoded.
 *
 * Threading: every function, including the rebalance callback (served
 * inside rd_kafka_consume_batch_queue), runs on the caller's thread.
 */
#include <inttypes.h>
#include <regex.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/messages.h"
#include "ingestion/kafka_avro.h"
#include "ingestion/kafka_internal.h"
#include "ingestion/kafka_source_internal.h"
#include "sluice/dlq.h"
#include "sluice/kafka.h"
#include "sluice/log.h"
#include "sluice/mem.h"
#include "sluice/stream.h"
#include "sluice/value.h"

enum { FMT_JSON, FMT_CSV, FMT_RAW, FMT_AVRO };
enum { ON_FAIL, ON_SKIP, ON_DLQ };

static const sl_config_entry ksrc_map[] = {
    {"brokers", SL_CFG_STR, "127.0.0.1:9092", 0, NULL, offsetof(ksrc_cfg, brokers),
     "Bootstrap brokers, `host:port[,host:port...]` (librdkafka's "
     "`bootstrap.servers`)."},
    {"topics", SL_CFG_STRLIST, NULL, 0, NULL, offsetof(ksrc_cfg, topics),
     "Topics to consume (a name or a list). `topics` and/or `pattern` is "
     "required."},
    {"pattern", SL_CFG_STR, NULL, 0, NULL, offsetof(ksrc_cfg, pattern),
     "Regular expression (POSIX extended) of topics to consume; topics "
     "created later that match are picked up."},
    {"group", SL_CFG_STR, NULL, SL_CFG_REQUIRED, NULL, offsetof(ksrc_cfg, group),
     "Consumer group id. Workers with the same group share the partitions "
     "(cooperative-sticky rebalancing) and the committed offsets."},
    {"start", SL_CFG_ENUM, "earliest", 0, "earliest|latest", offsetof(ksrc_cfg, start),
     "Where a group with no committed offset for a partition starts reading. "
     "Once the group has committed, it always resumes from its commits."},
    {"start_time", SL_CFG_STR, NULL, 0, NULL, offsetof(ksrc_cfg, start_time),
     "Instead of `start`: a partition without a committed offset starts at "
     "its first message with a timestamp at or after this time (ISO 8601, "
     "`2026-12-01T00:00:00Z`, or milliseconds since 1970), like "
     "`kafka-consumer-groups --reset-offsets --to-datetime`; a partition "
     "with no message that recent starts at its end."},
    {"format", SL_CFG_ENUM, "json", 0, "json|csv|raw|avro", offsetof(ksrc_cfg, format),
     "Message value format: `json` (one JSON object per message, decoded by "
     "the JSON Lines parser), `csv` (one CSV record per message, columns in "
     "schema order, no header), `raw` (the bytes in a string column "
     "`value`) or `avro` (Confluent Schema Registry framing: magic byte 0, "
     "the 4-byte schema id, one Avro datum; the writer schema is fetched by "
     "id from `schema_registry` / `schema_dir` and cached)."},
    {"schema", SL_CFG_STR, NULL, 0, NULL, offsetof(ksrc_cfg, schema),
     "Schema JSON file of the decoded columns (models/data_models/*.json). "
     "Default: the spec's top-level `schema:`, else the input schema of "
     "`--transform`, else (json only) inferred from the first messages. "
     "Required for csv. For avro it is the reader schema every writer "
     "schema is resolved to: a sluice schema JSON (columns by name; a "
     "missing nullable column reads as null) or an Avro `.avsc` (Avro's "
     "rules: defaults, int -> long -> float -> double); a writer schema "
     "that cannot be resolved stops the run naming the field. Without any, "
     "the columns are the first message's writer schema."},
    {"schema_registry", SL_CFG_STR, NULL, 0, NULL, offsetof(ksrc_cfg, schema_registry),
     "format avro: Confluent Schema Registry URL (Kafka Connect's "
     "`value.converter.schema.registry.url`), e.g. `http://registry:8081`; "
     "writer schemas are fetched as `GET /schemas/ids/<id>`. http:// only; "
     "basic auth as `http://user:${SR_PASSWORD}@host:8081` (`${VAR}` and "
     "`@file` as for `properties`; the credentials are never shown). An "
     "unreachable registry stops the run; an id it does not have makes "
     "that message a dead letter."},
    {"schema_dir", SL_CFG_STR, NULL, 0, NULL, offsetof(ksrc_cfg, schema_dir),
     "format avro: directory of writer schemas named `<id>.avsc`, looked "
     "up before `schema_registry` (or instead of it)."},
    {"metadata", SL_CFG_BOOL, "false", 0, NULL, offsetof(ksrc_cfg, metadata),
     "Add the columns `_topic` (string), `_partition` (int64), `_offset` "
     "(int64), `_timestamp` (timestamp, the message's) and `_key` (string, "
     "null when the message has no key)."},
    {"header_columns", SL_CFG_STRLIST, NULL, 0, NULL, offsetof(ksrc_cfg, header_columns),
     "Message headers to add as string columns of the same name (the "
     "header's last value when it repeats; null when the message does not "
     "have it or it has no value), e.g. `[trace_id, tenant]`."},
    {"batch_rows", SL_CFG_INT, "65536", 0, NULL, offsetof(ksrc_cfg, batch_rows),
     "Most messages per batch."},
    {"batch_ms", SL_CFG_INT, "50", 0, NULL, offsetof(ksrc_cfg, batch_ms),
     "Longest wait for a batch to fill, in milliseconds: a batch is handed "
     "on when it is full or this much time has passed (an empty one when "
     "nothing arrived)."},
    {"batch_bytes", SL_CFG_INT, "67108864", 0, NULL, offsetof(ksrc_cfg, batch_bytes),
     "Most message bytes per batch (64 MiB); with librdkafka's "
     "`queued.max.messages.kbytes` it bounds the source's memory."},
    {"on_error", SL_CFG_ENUM, "dlq", 0, SL_ON_ERROR_CHOICES, offsetof(ksrc_cfg, on_error),
     "What to do with a message that cannot be decoded (invalid JSON or CSV, "
     "a value of the wrong type for its column, a missing non-nullable "
     "column, an empty value or tombstone; for avro also a value without "
     "the Confluent header, an unknown schema id or a corrupt datum): `dlq` sends it to `dlq_topic` "
     "(or the rejects file) with the reason, `skip` counts it, `fail` stops "
     "the stream (nothing after it is committed)."},
    {"dlq_topic", SL_CFG_STR, NULL, 0, NULL, offsetof(ksrc_cfg, dlq_topic),
     "Dead-letter topic: a bad message is copied there (same key, value and "
     "headers) with the headers `sluice.error`, `sluice.topic`, "
     "`sluice.partition`, `sluice.offset` and `sluice.timestamp`. Without "
     "it, dead letters are appended to the rejects file."},
    {"rejects", SL_CFG_STR, NULL, 0, NULL, offsetof(ksrc_cfg, rejects),
     "Rejects file (JSON Lines, appended to) when there is no `dlq_topic`. "
     "Default: the run's rejects path (`rejects.jsonl`)."},
    {"delimiter", SL_CFG_CHAR, ",", 0, NULL, offsetof(ksrc_cfg, delimiter),
     "Field separator of `csv` values."},
    {"max_record_bytes", SL_CFG_INT, "16777216", 0, NULL,
     offsetof(ksrc_cfg, max_record_bytes),
     "Longest accepted message value (16 MiB); a longer one is a bad record."},
    {"infer_wait_ms", SL_CFG_INT, "30000", 0, NULL, offsetof(ksrc_cfg, infer_wait_ms),
     "Without a schema: how long to wait for the first messages to infer it "
     "from before giving up."},
    {"ack_timeout_ms", SL_CFG_INT, "60000", 0, NULL, offsetof(ksrc_cfg, ack_timeout_ms),
     "How long a checkpoint waits for the dead-letter topic to acknowledge "
     "dead letters before failing, and the longest the last offset commit "
     "of a stream waits for the group coordinator (at most 5 s once a stop "
     "is requested); a last commit that fails is an error."},
    {"properties", SL_CFG_STRMAP, NULL, 0, NULL, offsetof(ksrc_cfg, properties),
     "librdkafka consumer properties, passed through (e.g. "
     "`security.protocol`, `sasl.mechanism`, `sasl.username`, "
     "`sasl.password: ${KAFKA_PASSWORD}`, `ssl.ca.location`). `${VAR}` "
     "takes a value from the environment and `@path` from a file; such "
     "values and secret properties are never logged. Also used by the "
     "dead-letter producer (consumer-only keys left out)."},
    {0}};

/* Properties the source sets itself. */
static const sl_kafka_rule ksrc_rules[] = {
    {"bootstrap.servers", NULL, "is set by `brokers`"},
    {"group.id", NULL, "is set by `group`"},
    {"auto.offset.reset", NULL, "is set by `start`"},
    {"enable.auto.commit", "false",
     "must stay false: sluice commits offsets itself, after the sink acknowledged"},
    {"enable.auto.offset.store", "false", "must stay false: sluice commits explicit offsets"},
    {NULL, NULL, NULL}};

/* ---- lifecycle ---- */

static void ksrc_destroy(void *inst);

static sl_rc make_consumer(ksrc *s, sl_err *err)
{
    const ksrc_cfg *c = s->c;
    rd_kafka_conf_t *conf = NULL;
    /* the pre-fetch queue's share of the budget: in bytes of payload, and
     * per fetch response (its buffer lives as long as any message from
     * it). librdkafka's per-message overhead (an op and a message header,
     * some hundred bytes) is not counted: capping the message count too
     * halved the throughput (docs/design/streaming.md) */
    char qkb[32], fmax[32];
    int64_t share = s->queue_kbytes * 1024;
    snprintf(qkb, sizeof qkb, "%lld", (long long)s->queue_kbytes);
    snprintf(fmax, sizeof fmax, "%lld", (long long)(share < 52428800 ? (share > 1048576 ? share
                                                                                : 1048576)
                                                                     : 52428800));
    sl_rc rc = sl_kafka_conf_new(c->brokers, NULL, NULL, NULL, "source 'kafka'", &conf, err);
    if (rc != SL_OK)
        return rc;
    const char *defaults[][2] = {
        {"group.id", c->group},
        {"client.id", "sluice"},
        {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},
        {"enable.partition.eof", "false"},
        {"auto.offset.reset", c->start ? "latest" : "earliest"},
        {"partition.assignment.strategy", "cooperative-sticky"},
        {s->queue_kbytes > 0 ? "queued.max.messages.kbytes" : NULL, qkb},
        {s->queue_kbytes > 0 ? "fetch.max.bytes" : NULL, fmax},
        {NULL, NULL}};
    for (int i = 0; defaults[i][0] && rc == SL_OK; i++)
        rc = sl_kafka_conf_set(conf, defaults[i][0], defaults[i][1], 0, err);
    if (rc == SL_OK)
        rc = sl_kafka_apply_props(conf, &c->properties, ksrc_rules, NULL, "source 'kafka'", err);
    if (rc != SL_OK) {
        rd_kafka_conf_destroy(conf);
        return rc;
    }
    rd_kafka_conf_set_opaque(conf, s);
    rd_kafka_conf_set_rebalance_cb(conf, sl_ksrc_rebalance_cb);
    if ((rc = sl_kafka_client_new(RD_KAFKA_CONSUMER, conf, "source 'kafka'", &s->rk, err)) != SL_OK)
        return rc;
    rd_kafka_poll_set_consumer(s->rk);
    if (!(s->q = rd_kafka_queue_get_consumer(s->rk)) || !(s->cq = rd_kafka_queue_new(s->rk)))
        return sl_err_set(err, SL_EINTERNAL, "source 'kafka': no consumer queue");
    return SL_OK;
}

static sl_rc ksrc_init(void **inst, void *config, const sl_ctx *ctx, sl_err *err)
{
    sl_rc rc = SL_OK;
    const ksrc_cfg *c = config;
    *inst = NULL;
    if (c->topics.n == 0 && !c->pattern)
        return sl_err_set(err, SL_ECONFIG, "source 'kafka': give `topics` or `pattern`");
    if (c->batch_rows < 1 || c->batch_ms < 1 || c->batch_bytes < 1 || c->max_record_bytes < 1 ||
        c->infer_wait_ms < 0 || c->ack_timeout_ms < 1)
        return sl_err_set(err, SL_ECONFIG,
                          "source 'kafka': batch_rows, batch_ms, batch_bytes, "
                          "max_record_bytes and ack_timeout_ms must be >= 1");
    if (c->pattern) {
        regex_t re;
        int e = regcomp(&re, c->pattern, REG_EXTENDED | REG_NOSUB);
        if (e != 0) {
            char msg[128];
            regerror(e, &re, msg, sizeof msg);
            return sl_err_set(err, SL_ECONFIG, "source 'kafka': pattern '%s': %s", c->pattern,
                              msg);
        }
        regfree(&re);
    }
    int64_t start_ms = -1;
    if (c->start_time) {
        int64_t us;
        char *end;
        long long ms = strtoll(c->start_time, &end, 10);
        if (*c->start_time && !*end && ms >= 0)
            start_ms = ms;
        else if (sl_parse_timestamp(c->start_time, strlen(c->start_time), &us) == 0 && us >= 0)
            start_ms = us / 1000;
        else
            return sl_err_set(err, SL_ECONFIG, "source 'kafka': start_time '%s': expected an "
                              "ISO 8601 time such as 2026-12-01T00:00:00Z, or milliseconds "
                              "since 1970", c->start_time);
    }
    ksrc *s = sl_calloc(1, sizeof *s);
    if (!s)
        return oom(err);
    s->c = c;
    s->start_ms = start_ms;
    /* the memory budget's split: an eighth for the pre-fetch queue (a
     * 32nd in payload bytes: librdkafka's per-message overhead, an op and
     * a header, roughly triples small JSON messages), at
     * most a sixteenth for the messages of the batch being built (the
     * batch lives about four times over at its peak: the messages, the
     * decoder's copy, the columns, the sink's encoding); the producer has
     * a quarter (kafka_sink.c) */
    s->batch_bytes = (size_t)c->batch_bytes;
    if (ctx && ctx->memory_budget > 0) {
        s->queue_kbytes = ctx->memory_budget / 32 / 1024;
        if ((int64_t)s->batch_bytes > ctx->memory_budget / 16)
            s->batch_bytes = (size_t)(ctx->memory_budget / 16);
    }
    const char *rej = c->rejects ? c->rejects : ctx && ctx->rejects_path ? ctx->rejects_path
                                                                          : "rejects.jsonl";
    if (!(s->rejects = sl_strdup(rej)) ||
        (ctx && ctx->schema_hint && !(s->hint = sl_schema_copy(ctx->schema_hint)))) {
        rc = oom(err);
        goto out;
    }
    sl_kavro_opts ao = {.section = "source 'kafka'", .registry = c->schema_registry,
                        .dir = c->schema_dir, .max_record_bytes = c->max_record_bytes};
    if ((rc = c->format == FMT_AVRO ? sl_kavro_src_new(&ao, &s->avro, err)
                                    : sl_kavro_check_unused(&ao, err)) != SL_OK)
        goto out;
    if ((rc = make_consumer(s, err)) != SL_OK)
        goto out;
    if (c->on_error == ON_DLQ &&
        (rc = sl_kdlq_open(c->dlq_topic, c->brokers, &c->properties, s->rejects, &s->dlq,
                           err)) != SL_OK)
        goto out;
out:
    if (rc != SL_OK)
        ksrc_destroy(s);
    else
        *inst = s;
    return rc;
}

static sl_rc subscribe(ksrc *s, sl_err *err)
{
    const ksrc_cfg *c = s->c;
    rd_kafka_topic_partition_list_t *l =
        rd_kafka_topic_partition_list_new(c->topics.n + 1);
    char pat[1024];
    if (!l)
        return oom(err);
    for (int i = 0; i < c->topics.n; i++)
        rd_kafka_topic_partition_list_add(l, c->topics.items[i], RD_KAFKA_PARTITION_UA);
    if (c->pattern) {
        /* librdkafka treats a subscription starting with '^' as a regex */
        snprintf(pat, sizeof pat, "%s%s", c->pattern[0] == '^' ? "" : "^", c->pattern);
        rd_kafka_topic_partition_list_add(l, pat, RD_KAFKA_PARTITION_UA);
    }
    rd_kafka_resp_err_t e = rd_kafka_subscribe(s->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (e)
        return sl_err_set(err, sl_kafka_rc(e), "source 'kafka': cannot subscribe: %s",
                          rd_kafka_err2str(e));
    return SL_OK;
}

/* A consumer-level error event: fatal ones stop the stream, the rest are
 * logged (librdkafka retries connections and metadata on its own). */
static void consumer_error(ksrc *s, const rd_kafka_message_t *m)
{
    char es[256];
    rd_kafka_resp_err_t fe = rd_kafka_fatal_error(s->rk, es, sizeof es);
    if (fe) {
        set_fatal(s, SL_EIO, "fatal consumer error", es);
        return;
    }
    switch (m->err) {
    case RD_KAFKA_RESP_ERR__PARTITION_EOF:
        return;
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
        set_fatal(s, SL_ECONFIG, "consumer", rd_kafka_message_errstr(m));
        return;
    default:
        sl_log(SL_LOG_WARN, "kafka", "consumer: %s%s%s", m->rkt ? rd_kafka_topic_name(m->rkt) : "",
               m->rkt ? ": " : "", rd_kafka_message_errstr(m));
    }
}

/* The first offset read from a partition since it was assigned. */
static void note_origin(ksrc *s, const rd_kafka_message_t *m)
{
    if (s->last_rkt == m->rkt && s->last_part == m->partition)
        return;
    s->last_rkt = m->rkt;
    s->last_part = m->partition;
    kpart *k = sl_ksrc_part_find(s, rd_kafka_topic_name(m->rkt), m->partition, 0);
    if (k && k->assigned && k->origin < 0)
        k->origin = m->offset;
}

/* The k messages just consumed into s->m + s->nm join the batch; error
 * events are handled and dropped. */
void sl_ksrc_take(ksrc *s, ssize_t k)
{
    for (ssize_t i = 0; i < k; i++) {
        rd_kafka_message_t *m = s->m[s->nm];
        if (m->err) {
            consumer_error(s, m);
            rd_kafka_message_destroy(m);
            memmove(s->m + s->nm, s->m + s->nm + 1, (size_t)(k - i - 1) * sizeof *s->m);
            continue;
        }
        s->bytes += m->len;
        s->nm++;
        note_origin(s, m);
    }
}

/* Poll until the batch is full or its time is up (or a stop request). */
static sl_rc fill(ksrc *s, int64_t wait_ms, sl_err *err)
{
    const ksrc_cfg *c = s->c;
    int64_t deadline = sl_kafka_now_ms() + wait_ms;
    if (s->paused)
        sl_kafka_source_resume(s);
    while (s->nm < c->batch_rows && s->bytes < s->batch_bytes && !s->fatal) {
        int64_t left = deadline - sl_kafka_now_ms();
        if (left <= 0 || sl_stream_stop_requested())
            break;
        size_t want = (size_t)(c->batch_rows - s->nm);
        if (want > 4096)
            want = 4096;
        if (sl_grow((void **)&s->m, &s->m_cap, (size_t)s->nm + want, sizeof *s->m) != 0)
            return oom(err);
        ssize_t k = rd_kafka_consume_batch_queue(s->q, (int)(left < 100 ? left : 100),
                                                 s->m + s->nm, want);
        if (k < 0)
            return sl_err_set(err, SL_EIO, "source 'kafka': consume: %s",
                              rd_kafka_err2str(rd_kafka_last_error()));
        sl_ksrc_take(s, k);
    }
    if (s->fatal && err)
        *err = s->ferr;
    return s->fatal;
}

/* format avro: the reader schema, else the writer schema of the first
 * message whose id is found (the messages stay for the first batch). */
static sl_rc load_avro_schema(ksrc *s, sl_err *err)
{
    const ksrc_cfg *c = s->c;
    int64_t deadline = sl_kafka_now_ms() + c->infer_wait_ms, i = 0;
    sl_rc rc = sl_kavro_src_reader(s->avro, c->schema, s->hint, err);
    while (rc == SL_OK && !sl_kavro_src_schema(s->avro)) {
        if (i < s->nm) {
            rc = sl_kavro_src_probe(s->avro, s->m[i]->payload, s->m[i]->len, err);
            i++;
        } else if (sl_kafka_now_ms() >= deadline || sl_stream_stop_requested() ||
                 s->nm >= c->batch_rows || s->bytes >= (size_t)c->batch_bytes) {
            rc = sl_err_set(err, SL_EIO, "source 'kafka': none of the %lld messages that "
                            "arrived within %lld ms has a schema id that is found, to take the "
                            "columns from; give `schema:`", (long long)s->nm,
                            (long long)c->infer_wait_ms);
        } else {
            rc = fill(s, 100, err);
        }
    }
    if (rc == SL_OK && !(s->data = sl_schema_copy(sl_kavro_src_schema(s->avro))))
        rc = oom(err);
    return rc;
}

static sl_rc load_schema(ksrc *s, sl_err *err)
{
    const ksrc_cfg *c = s->c;
    sl_rc rc = SL_OK;
    if (c->format == FMT_AVRO)
        return load_avro_schema(s, err);
    if (c->format == FMT_RAW) {
        if (!(s->data = sl_schema_new()))
            return oom(err);
        return sl_schema_add(s->data, "value", SL_STRING, 1, err);
    }
    if (c->schema)
        return sl_schema_load_json(c->schema, &s->data, err);
    if (s->hint)
        return (s->data = sl_schema_copy(s->hint)) ? SL_OK : oom(err);
    if (c->format == FMT_CSV)
        return sl_err_set(err, SL_ECONFIG,
                          "source 'kafka': format csv needs a schema (`schema:` with the "
                          "columns in field order)");
    /* JSON: infer from the first messages (kept for the first batch). */
    int64_t deadline = sl_kafka_now_ms() + c->infer_wait_ms;
    while (s->nm == 0 && sl_kafka_now_ms() < deadline && !sl_stream_stop_requested())
        if ((rc = fill(s, 100, err)) != SL_OK)
            return rc;
    if (s->nm == 0)
        return sl_err_set(err, SL_EIO,
                          "source 'kafka': no message arrived within %lld ms to infer the "
                          "schema from; give `schema:` (or --transform)",
                          (long long)c->infer_wait_ms);
    if ((rc = fill(s, c->batch_ms, err)) != SL_OK)
        return rc;
    const void **v = sl_calloc((size_t)s->nm, sizeof *v);
    size_t *lens = sl_calloc((size_t)s->nm, sizeof *lens);
    if (!v || !lens) {
        rc = oom(err);
    } else {
        for (int64_t i = 0; i < s->nm; i++) {
            v[i] = s->m[i]->payload;
            lens[i] = s->m[i]->payload ? s->m[i]->len : 0;
        }
        rc = sl_msgs_infer_json(v, lens, s->nm, NULL, &s->data, err);
        if (rc == SL_OK)
            sl_log(SL_LOG_INFO, "kafka", "schema inferred from %lld messages (%d columns)",
                   (long long)s->nm, s->data->n);
    }
    sl_free(v);
    sl_free(lens);
    return rc;
}

static const char *const meta_names[] = {"_topic", "_partition", "_offset", "_timestamp", "_key"};
static const sl_type meta_types[] = {SL_STRING, SL_INT64, SL_INT64, SL_TIMESTAMP, SL_STRING};

static sl_rc ksrc_open(void *inst, const sl_schema *in, sl_schema **out, sl_err *err)
{
    ksrc *s = inst;
    sl_rc rc;
    (void)in;
    if ((rc = subscribe(s, err)) != SL_OK || (rc = load_schema(s, err)) != SL_OK)
        return rc;
    if (!(s->out = sl_schema_copy(s->data)))
        return oom(err);
    for (int i = 0; s->c->metadata && i < 5; i++) {
        if (sl_schema_find(s->out, meta_names[i]) >= 0)
            return sl_err_set(err, SL_ECONFIG,
                              "source 'kafka': the data has a column '%s', which "
                              "`metadata: true` adds too", meta_names[i]);
        if ((rc = sl_schema_add(s->out, meta_names[i], meta_types[i], i >= 3, err)) != SL_OK)
            return rc;
    }
    for (int i = 0; i < s->c->header_columns.n; i++) {
        const char *h = s->c->header_columns.items[i];
        if (sl_schema_find(s->out, h) >= 0)
            return sl_err_set(err, SL_ECONFIG, "source 'kafka': header_columns: the data "
                              "already has a column '%s'", h);
        if ((rc = sl_schema_add(s->out, h, SL_STRING, 1, err)) != SL_OK)
            return rc;
    }
    if (s->c->format == FMT_JSON || s->c->format == FMT_CSV) {
        sl_msgs_options mo = {.format = s->c->format == FMT_CSV ? SL_MSG_CSV : SL_MSG_JSON,
                              .max_record_bytes = s->c->max_record_bytes,
                              .delimiter = s->c->delimiter,
                              .name = "kafka"};
        if ((rc = sl_msgs_new(s->data, &mo, &s->dec, err)) != SL_OK)
            return rc;
    }
    if (!(*out = sl_schema_copy(s->out)))
        return oom(err);
    return SL_OK;
}

/* ---- batches ---- */

/* A bad record (undecodable, or rejected later by the runner), per
 * on_error. */
static sl_rc reject_msg(ksrc *s, const rd_kafka_message_t *m, const char *reason, sl_err *err)
{
    s->rejected++;
    if (s->c->on_error == ON_FAIL)
        return sl_err_set(err, SL_EPARSE, "source 'kafka': %s [%" PRId32 "] offset %" PRId64 ": %s",
                          rd_kafka_topic_name(m->rkt), m->partition, m->offset, reason);
    if (!s->logged_reject) {
        s->logged_reject = 1;
        sl_log(SL_LOG_WARN, "kafka", "%s [%" PRId32 "] offset %" PRId64 ": %s (%s; further "
               "bad records are counted, not logged)", rd_kafka_topic_name(m->rkt),
               m->partition, m->offset, reason,
               s->c->on_error == ON_SKIP ? "skipped"
               : s->c->dlq_topic        ? "sent to the dead-letter topic"
                                        : "appended to the rejects file");
    }
    return s->c->on_error == ON_DLQ ? sl_kdlq_write(s->dlq, m, reason, err) : SL_OK;
}

/* A message of the batch being built that cannot be decoded. */
static sl_rc reject(ksrc *s, int64_t i, const char *reason, sl_err *err)
{
    s->bad[i] = 1;
    return reject_msg(s, s->m[i], reason, err);
}

/* Report the early rejects of messages before message `upto`. */
static sl_rc flush_early(ksrc *s, int64_t upto, sl_err *err)
{
    sl_rc rc = SL_OK;
    while (rc == SL_OK && s->early_pos < s->nearly && s->early[s->early_pos].i < upto) {
        struct early *e = &s->early[s->early_pos++];
        rc = reject(s, e->i, e->reason, err);
    }
    return rc;
}

static void clear_early(ksrc *s)
{
    for (int64_t k = 0; k < s->nearly; k++)
        sl_free(s->early[k].reason);
    s->nearly = s->early_pos = 0;
}

static sl_rc add_early(ksrc *s, int64_t i, const char *reason, sl_err *err)
{
    s->bad[i] = 1;
    if (sl_grow((void **)&s->early, &s->early_cap, (size_t)s->nearly + 1, sizeof *s->early) != 0)
        return oom(err);
    struct early *e = &s->early[s->nearly];
    e->i = i;
    if (!(e->reason = sl_strdup(reason)))
        return oom(err);
    s->nearly++;
    return SL_OK;
}

static sl_rc on_bad(void *arg, int64_t idx, const sl_err *why, sl_err *err)
{
    ksrc *s = arg;
    sl_rc rc = flush_early(s, s->midx[idx], err);
    if (rc != SL_OK)
        return rc;
    char reason[SL_ERR_MSG_MAX + SL_ERR_FIELD_MAX + 16];
    if (why->field[0] && !strstr(why->msg, why->field))
        snprintf(reason, sizeof reason, "column '%s': %s", why->field, why->msg);
    else
        snprintf(reason, sizeof reason, "%s", why->msg);
    return reject(s, s->midx[idx], reason, err);
}

static sl_rc on_avro_bad(void *arg, int64_t i, const char *why, sl_err *err)
{
    return reject(arg, i, why, err);
}

static sl_rc decode_values(ksrc *s, sl_batch **b, sl_err *err)
{
    sl_rc rc = SL_OK;
    sl_err why;
    int64_t k = 0;
    if (s->c->format == FMT_AVRO)
        return sl_kavro_src_decode(s->avro, s->m, s->nm, s->didx, on_avro_bad, s, b, err);
    if (s->c->format == FMT_RAW) {
        if (!(*b = sl_batch_new(s->data, s->nm ? s->nm : 1)))
            return oom(err);
        for (int64_t i = 0; i < s->nm && rc == SL_OK; i++) {
            const rd_kafka_message_t *m = s->m[i];
            rc = m->payload ? sl_column_append_str((*b)->cols[0], m->payload, m->len)
                            : sl_column_append_null((*b)->cols[0]);
        }
        if (rc == SL_OK)
            rc = sl_batch_seal(*b, err);
        return rc == SL_OK ? SL_OK : oom(err);
    }
    sl_msgs_clear(s->dec);
    for (int64_t i = 0; i < s->nm && rc == SL_OK; i++) {
        const rd_kafka_message_t *m = s->m[i];
        s->didx[i] = -1;
        if (!m->payload) {
            rc = add_early(s, i, "null message value (tombstone)", err);
            continue;
        }
        sl_err_clear(&why);
        sl_rc ar = sl_msgs_add(s->dec, m->payload, m->len, &why);
        if (ar == SL_OK) {
            s->didx[i] = k;
            s->midx[k++] = i;
        } else if (ar == SL_EPARSE) {
            rc = add_early(s, i, why.msg, err);
        } else {
            rc = oom(err);
        }
    }
    if (rc == SL_OK)
        rc = sl_msgs_decode(s->dec, b, on_bad, s, err);
    if (rc == SL_OK)
        rc = flush_early(s, s->nm, err);
    clear_early(s);
    return rc;
}

/* The header_columns of the messages that decoded. */
static sl_rc add_headers(ksrc *s, sl_batch *b, sl_err *err)
{
    sl_rc rc = SL_OK;
    for (int j = 0; j < s->c->header_columns.n && rc == SL_OK; j++) {
        const char *name = s->c->header_columns.items[j];
        sl_column *col = sl_column_new(SL_STRING, b->nrows ? b->nrows : 1);
        rc = col ? SL_OK : SL_ENOMEM;
        for (int64_t i = 0; i < s->nm && rc == SL_OK; i++) {
            if (s->bad[i])
                continue;
            rd_kafka_headers_t *h = NULL;
            const void *v = NULL;
            size_t vn = 0;
            if (rd_kafka_message_headers(s->m[i], &h) != RD_KAFKA_RESP_ERR_NO_ERROR ||
                rd_kafka_header_get_last(h, name, &v, &vn) != RD_KAFKA_RESP_ERR_NO_ERROR)
                v = NULL;
            rc = v ? sl_column_append_str(col, v, vn) : sl_column_append_null(col);
        }
        if (rc == SL_OK && col->length != b->nrows)
            rc = SL_EINTERNAL;
        if (rc == SL_OK)
            rc = sl_batch_add_column(b, name, col, err);
        else
            sl_column_unref(col);
    }
    if (rc == SL_ENOMEM)
        return oom(err);
    if (rc == SL_EINTERNAL)
        return sl_err_set(err, rc, "source 'kafka': header rows do not match the batch");
    return rc;
}

/* The metadata columns of the messages that decoded. */
static sl_rc add_metadata(ksrc *s, sl_batch *b, sl_err *err)
{
    sl_column *col[5];
    sl_rc rc = SL_OK;
    int64_t rows = b->nrows;
    for (int j = 0; j < 5; j++)
        col[j] = sl_column_new(meta_types[j], rows ? rows : 1);
    for (int j = 0; j < 5; j++)
        if (!col[j])
            rc = SL_ENOMEM;
    for (int64_t i = 0; i < s->nm && rc == SL_OK; i++) {
        const rd_kafka_message_t *m = s->m[i];
        if (s->bad[i])
            continue;
        rd_kafka_timestamp_type_t tt;
        int64_t ts = rd_kafka_message_timestamp(m, &tt);
        const char *t = rd_kafka_topic_name(m->rkt);
        if ((rc = sl_column_append_str(col[0], t, strlen(t))) != SL_OK ||
            (rc = sl_column_append_int64(col[1], m->partition)) != SL_OK ||
            (rc = sl_column_append_int64(col[2], m->offset)) != SL_OK ||
            (rc = ts >= 0 ? sl_column_append_int64(col[3], ts * 1000)
                          : sl_column_append_null(col[3])) != SL_OK)
            break;
        rc = m->key ? sl_column_append_str(col[4], m->key, m->key_len)
                    : sl_column_append_null(col[4]);
    }
    for (int j = 0; j < 5; j++) {
        if (rc == SL_OK && col[j] && col[j]->length != rows)
            rc = SL_EINTERNAL;
        if (rc == SL_OK) {
            rc = sl_batch_add_column(b, meta_names[j], col[j], err);
        } else {
            sl_column_unref(col[j]);
        }
    }
    if (rc == SL_ENOMEM)
        return oom(err);
    if (rc == SL_EINTERNAL)
        return sl_err_set(err, rc, "source 'kafka': metadata rows do not match the batch");
    return rc;
}

/* Every message of the batch is accounted for: move `emitted`. */
static void advance(ksrc *s)
{
    kpart *k = NULL;
    const rd_kafka_topic_t *rkt = NULL;
    int32_t part = -1;
    for (int64_t i = 0; i < s->nm; i++) {
        const rd_kafka_message_t *m = s->m[i];
        if (m->rkt != rkt || m->partition != part) {
            rkt = m->rkt;
            part = m->partition;
            k = sl_ksrc_part_find(s, rd_kafka_topic_name(rkt), part, 0);
        }
        if (k && k->assigned && m->offset + 1 > k->emitted)
            k->emitted = m->offset + 1;
    }
}

void sl_ksrc_drop_messages(ksrc *s)
{
    for (int64_t i = 0; i < s->nm; i++)
        rd_kafka_message_destroy(s->m[i]);
    s->nm = 0;
    s->bytes = 0;
}

void sl_ksrc_drop_last(ksrc *s)
{
    for (int64_t i = 0; i < s->nlast; i++)
        rd_kafka_message_destroy(s->last[i]);
    s->nlast = s->nrows_last = 0;
}

/* The batch's messages become the last batch's (the arrays swap, so
 * neither is reallocated in the steady state). */
static sl_rc keep_last(ksrc *s, int64_t nrows, sl_err *err)
{
    sl_ksrc_drop_last(s);
    if (sl_grow((void **)&s->rowmsg, &s->rowmsg_cap, (size_t)(nrows ? nrows : 1),
                sizeof *s->rowmsg) != 0) {
        sl_ksrc_drop_messages(s);
        return oom(err);
    }
    int64_t r = 0;
    for (int64_t i = 0; i < s->nm && r < nrows; i++)
        if (!s->bad[i])
            s->rowmsg[r++] = i;
    rd_kafka_message_t **t = s->last;
    size_t tc = s->last_cap;
    s->last = s->m;
    s->last_cap = s->m_cap;
    s->m = t;
    s->m_cap = tc;
    s->nlast = s->nm;
    s->nrows_last = r;
    s->nm = 0;
    s->bytes = 0;
    return SL_OK;
}

sl_rc sl_kafka_source_reject_row(void *source, int64_t row, const char *reason, sl_err *err)
{
    ksrc *s = source;
    if (row < 0 || row >= s->nrows_last)
        return sl_err_set(err, SL_EINVAL, "kafka: no row %lld in the last batch (%lld rows)",
                          (long long)row, (long long)s->nrows_last);
    return reject_msg(s, s->last[s->rowmsg[row]], reason, err);
}

static sl_rc ksrc_next(void *inst, sl_batch **out, sl_err *err)
{
    ksrc *s = inst;
    sl_batch *b = NULL;
    sl_rc rc;
    *out = NULL;
    sl_ksrc_drop_last(s);
    if ((rc = fill(s, s->c->batch_ms, err)) != SL_OK)
        return rc;
    size_t n = (size_t)(s->nm ? s->nm : 1);
    if (sl_grow((void **)&s->didx, &s->didx_cap, n, sizeof *s->didx) != 0 ||
        sl_grow((void **)&s->midx, &s->midx_cap, n, sizeof *s->midx) != 0 ||
        sl_grow((void **)&s->bad, &s->bad_cap, n, 1) != 0)
        return oom(err);
    memset(s->bad, 0, n);
    rc = decode_values(s, &b, err);
    if (rc == SL_OK && s->c->format != FMT_RAW)
        for (int64_t i = 0; i < s->nm; i++)
            s->bad[i] = s->didx[i] < 0 || s->bad[i];
    if (rc == SL_OK && s->c->metadata)
        rc = add_metadata(s, b, err);
    if (rc == SL_OK && s->c->header_columns.n > 0)
        rc = add_headers(s, b, err);
    if (rc != SL_OK) {
        /* nothing of this batch is emitted, so nothing of it is committed */
        sl_batch_unref(b);
        sl_ksrc_drop_messages(s);
        return rc;
    }
    s->records += s->nm;
    advance(s);
    if ((rc = keep_last(s, b->nrows, err)) != SL_OK) {
        sl_batch_unref(b);
        return rc;
    }
    *out = b;
    return SL_OK;
}

static sl_rc ksrc_close(void *inst, sl_err *err)
{
    ksrc *s = inst;
    sl_rc rc = sl_kdlq_close(s->dlq, s->c->ack_timeout_ms, err);
    s->dlq = NULL;
    if (s->q) {
        rd_kafka_queue_destroy(s->q);
        s->q = NULL;
    }
    sl_ksrc_drop_messages(s);
    sl_ksrc_drop_last(s);
    /* a commit still in flight (a failed run): its result if it comes soon */
    sl_ksrc_commit_wait(s, sl_kafka_now_ms(), SL_KSRC_COMMIT_WAIT_MS, NULL);
    /* leaves the group; commits nothing (auto-commit is off). Not while
     * librdkafka holds a commit: that would wait for it
     * (sl_ksrc_release_consumer) */
    rd_kafka_resp_err_t e = s->rk && !s->inflight ? rd_kafka_consumer_close(s->rk)
                                                  : RD_KAFKA_RESP_ERR_NO_ERROR;
    if (e && rc == SL_OK)
        sl_log(SL_LOG_WARN, "kafka", "consumer close: %s", rd_kafka_err2str(e));
    return rc;
}

static void ksrc_destroy(void *inst)
{
    ksrc *s = inst;
    if (!s)
        return;
    sl_ksrc_drop_messages(s);
    sl_ksrc_drop_last(s);
    sl_kdlq_close(s->dlq, 0, NULL);
    if (s->q)
        rd_kafka_queue_destroy(s->q);
    if (s->cq)
        rd_kafka_queue_destroy(s->cq);
    sl_ksrc_release_consumer(s);
    sl_msgs_free(s->dec);
    sl_kavro_src_free(s->avro);
    sl_schema_free(s->data);
    sl_schema_free(s->out);
    sl_schema_free(s->hint);
    for (int i = 0; i < s->nparts; i++)
        sl_free(s->parts[i].topic);
    sl_free(s->parts);
    sl_free(s->m);
    sl_free(s->last);
    sl_free(s->rowmsg);
    sl_free(s->didx);
    sl_free(s->midx);
    sl_free(s->bad);
    clear_early(s);
    sl_free(s->early);
    sl_free(s->rejects);
    sl_free(s);
}

static int64_t ksrc_rejected(void *inst)
{
    return ((ksrc *)inst)->rejected;
}

const sl_plugin sl_plugin_source_kafka = {
    .abi_version = SL_PLUGIN_ABI_VERSION,
    .name = "kafka",
    .kind = SL_PLUGIN_SOURCE,
    .summary = "Consume a Kafka topic (consumer group; JSON, CSV, raw or Confluent Avro values; "
               "at-least-once with `--stream`).",
    .example = "source: {type: kafka, brokers: \"127.0.0.1:9092\", topics: [weather], "
               "group: quickstart, schema: models/data_models/raw_data_schema.json, "
               "dlq_topic: weather-dlq}",
    .config_map = ksrc_map,
    .config_size = sizeof(ksrc_cfg),
    .init = ksrc_init,
    .open = ksrc_open,
    .next = ksrc_next,
    .checkpoint = sl_ksrc_checkpoint,
    .close = ksrc_close,
    .destroy = ksrc_destroy,
    .rejected = ksrc_rejected,
};
