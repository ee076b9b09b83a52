/*
 * kafka_sink.c: the `kafka` sink plugin (see kafka.h for the contract).
 *
 * One message per row. JSON values are rendered by the JSON Lines writer
 * into memory (one line per row; its escaping guarantees no raw newline
 * inside a row, so the lines are the messages); CSV values by a small
 * record encoder with the CSV writer's rules (quote only when needed,
 * null as an empty unquoted field, floats as shortest round-trip text);
 * Avro values (Confluent framing, schema id settled at open) by
 * kafka_avro.c.
 *
 * Delivery accounting: produced counts messages handed to librdkafka;
 * the delivery-report callback (librdkafka's thread during poll/flush)
 * counts delivered and failed. flush()/checkpoint() succeed only when
 * every produced message has a report and none failed: that is the
 * acknowledgement the streaming runner waits for before it commits the
 * source's offsets. A failed delivery fails the run (librdkafka has
 * already retried it for message.timeout.ms): the offsets of the batches
 * since the last checkpoint stay uncommitted and are read again. A flush
 * therefore waits as long as librdkafka retries (a broker outage shorter
 * than message.timeout.ms is ridden out), in 100 ms slices that call the
 * runner's on_wait (the source stays paused and in its group); only once
 * a stop is requested does flush_timeout_ms bound the wait.
 *
 * Backpressure: when librdkafka's queue is full (queue.buffering.max.*,
 * a quarter of the run's memory budget, 64 MiB by default) write() serves
 * delivery reports until there is room, so a slow or absent broker stops
 * the pipeline instead of growing memory; meanwhile it calls the runner's
 * on_wait (plugin.h), which pauses the source's partitions and keeps its
 * consumer in the group.
 *
 * Transactions (`transactional_id`, exactly-once): write() begins a
 * transaction when none is open; sl_ksink_txn_commit (called by
 * kafka_txn.c at each checkpoint) adds the source offsets and commits.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "formats/jsonl_internal.h"
#include "ingestion/kafka_avro.h"
#include "ingestion/kafka_internal.h"
#include "sluice/kafka.h"
#include "sluice/expr.h"
#include "sluice/log.h"
#include "sluice/mem.h"
#include "sluice/stream.h"
#include "sluice/value.h"

enum { FMT_JSON, FMT_CSV, FMT_AVRO, FMT_RAW };

typedef struct ksink_cfg {
    char *brokers;
    char *topic;
    char *key;
    char *value;
    char *partition;
    sl_strlist header_columns;
    int format;
    char *schema_registry;
    char *schema_dir;
    int64_t schema_id;
    char *subject;
    int compression;
    sl_strmap headers;
    char delimiter;
    int64_t flush_timeout_ms;
    char *transactional_id;
    int64_t transaction_timeout_ms;
    sl_strmap properties;
} ksink_cfg;

static const char *const codecs[] = {"none", "gzip", "snappy", "lz4", "zstd"};

static const sl_config_entry ksink_map[] = {
    {"brokers", SL_CFG_STR, "127.0.0.1:9092", 0, NULL, offsetof(ksink_cfg, brokers),
     "Bootstrap brokers, `host:port[,host:port...]`."},
    {"topic", SL_CFG_STR, NULL, SL_CFG_REQUIRED, NULL, offsetof(ksink_cfg, topic),
     "Topic to write, one message per row."},
    {"key", SL_CFG_STR, NULL, 0, NULL, offsetof(ksink_cfg, key),
     "The message key, as text: a column name, or an expression over the "
     "columns (`lower(user)`, `id % 100`, as in `derive`). It picks the "
     "partition with the Java client's partitioner (murmur2 of the key, "
     "so Kafka Streams and Java producers put a key on the same "
     "partition; `properties: {partitioner: ...}` changes it). Rows where "
     "it is null, and all rows without `key`, have no key."},
    {"partition", SL_CFG_STR, NULL, 0, NULL, offsetof(ksink_cfg, partition),
     "An int64 column holding the partition to write each row to, "
     "overriding the key's partition; null: the partitioner decides. A "
     "partition the topic does not have fails the delivery."},
    {"header_columns", SL_CFG_STRLIST, NULL, 0, NULL, offsetof(ksink_cfg, header_columns),
     "Columns also sent as message headers, per row (`name: value as text`; "
     "a null is a header without value), after `headers`. They stay in the "
     "value too; `drop` them first to send them only as headers."},
    {"value", SL_CFG_STR, NULL, 0, NULL, offsetof(ksink_cfg, value),
     "format raw: the column whose bytes (strings) or text (other types) "
     "are the message value; a null value is sent as a null (a tombstone "
     "on compacted topics). Default: the only column."},
    {"format", SL_CFG_ENUM, "json", 0, "json|csv|avro|raw", offsetof(ksink_cfg, format),
     "Message value format: a JSON object per row (keys in column order), "
     "a CSV record per row (no header), or `avro`: one Avro record per row "
     "with Confluent Schema Registry framing (magic byte 0, 4-byte schema "
     "id), readable by Confluent's deserializers; the schema is derived "
     "from the columns (nullable columns as [\"null\", T], timestamps as "
     "timestamp-micros, dates as date), or `raw`: one column's bytes as "
     "they are (see `value`)."},
    {"schema_registry", SL_CFG_STR, NULL, 0, NULL, offsetof(ksink_cfg, schema_registry),
     "format avro: Confluent Schema Registry URL (`schema.registry.url`), "
     "e.g. `http://registry:8081`. Without `schema_id` the rows' schema is "
     "registered under `subject` when the sink opens (as Confluent "
     "serializers do with `auto.register.schemas`; the same schema gets "
     "the same id again, an incompatible one is refused and stops the run). "
     "http:// only; basic auth as `http://user:${SR_PASSWORD}@host:8081`, "
     "never shown."},
    {"schema_dir", SL_CFG_STR, NULL, 0, NULL, offsetof(ksink_cfg, schema_dir),
     "format avro, instead of (or besides) a registry: a directory of "
     "`<id>.avsc` files. Alone, the sink uses the id of a file there with "
     "the rows' schema, else writes the schema as the next free id "
     "(highest + 1); the source reads the same directory."},
    {"schema_id", SL_CFG_INT, NULL, 0, NULL, offsetof(ksink_cfg, schema_id),
     "format avro: write with this schema id instead of registering "
     "(`use.schema.id`). The schema it names in the registry or directory "
     "must have the rows' fields and types in order, or the sink does not "
     "open; with only `schema_dir`, a missing `<id>.avsc` is written."},
    {"subject", SL_CFG_STR, NULL, 0, NULL, offsetof(ksink_cfg, subject),
     "format avro: the subject the schema is registered under. Default "
     "`<topic>-value` (TopicNameStrategy)."},
    {"compression", SL_CFG_ENUM, "none", 0, "none|gzip|snappy|lz4|zstd",
     offsetof(ksink_cfg, compression), "Compression of the produced message batches."},
    {"headers", SL_CFG_STRMAP, NULL, 0, NULL, offsetof(ksink_cfg, headers),
     "Headers added to every message (`name: value`)."},
    {"delimiter", SL_CFG_CHAR, ",", 0, NULL, offsetof(ksink_cfg, delimiter),
     "Field separator of `csv` values."},
    {"flush_timeout_ms", SL_CFG_INT, "60000", 0, NULL, offsetof(ksink_cfg, flush_timeout_ms),
     "After a stop request (SIGTERM/SIGINT), how long the sink still waits "
     "for the broker to acknowledge the messages written before the run "
     "fails (their records are not committed, so they are read again). "
     "Until then a flush (before each offset commit) waits as long as "
     "librdkafka retries a message (`message.timeout.ms`, 300 s by "
     "default): a shorter broker outage is ridden out."},
    {"transactional_id", SL_CFG_STR, NULL, 0, NULL, offsetof(ksink_cfg, transactional_id),
     "Turns on exactly-once delivery: the producer is transactional with "
     "this `transactional.id`, and with a `kafka` source each checkpoint "
     "commits the rows written and the source offsets they came from in one "
     "transaction (consumers of the topic should read with "
     "`isolation.level=read_committed`). Give every worker its own stable id "
     "(`${VAR}` is taken from the environment, e.g. `features-${HOSTNAME}` "
     "in a Kubernetes StatefulSet): a restarted worker with the same id "
     "fences its predecessor and aborts its open transaction at once."},
    {"transaction_timeout_ms", SL_CFG_INT, "60000", 0, NULL,
     offsetof(ksink_cfg, transaction_timeout_ms),
     "With `transactional_id`: how long the broker keeps a transaction of a "
     "worker that died open before it aborts it (`transaction.timeout.ms`); "
     "must exceed the commit interval."},
    {"properties", SL_CFG_STRMAP, NULL, 0, NULL, offsetof(ksink_cfg, properties),
     "librdkafka producer properties, passed through (security, "
     "`linger.ms`, `batch.size`, `queue.buffering.max.kbytes`, ...); "
     "`${VAR}` and `@file` values as for the source. The producer is "
     "always idempotent with `acks=all`."},
    {0}};

static const sl_kafka_rule ksink_rules[] = {
    {"bootstrap.servers", NULL, "is set by `brokers`"},
    {"enable.idempotence", "true",
     "cannot be changed: the sink's producer is idempotent (no duplicates from retries)"},
    {"acks", "all|-1", "must be 'all': a row counts as delivered once every in-sync replica has it"},
    {"compression.type", NULL, "is set by `compression`"},
    {"compression.codec", NULL, "is set by `compression`"},
    {"transactional.id", NULL, "is set by `transactional_id`"},
    {"transaction.timeout.ms", NULL, "is set by `transaction_timeout_ms`"},
    {NULL, NULL, NULL}};

typedef struct ksink {
    const ksink_cfg *c;
    rd_kafka_t *rk;
    rd_kafka_topic_t *rkt;
    rd_kafka_headers_t *hdrs; /* template, copied into each message */
    sl_schema *schema;
    sl_kavro_sink *avro; /* format avro */
    int key_col;
    sl_expr *key_expr; /* `key` when it is not a column name */
    int value_col;     /* format raw */
    int part_col;      /* `partition`, or -1 */
    int *hcols;        /* `header_columns` */
    char num[SL_FMT_MAX + 1]; /* a formatted number (cell_text) */
    char vnum[SL_FMT_MAX + 1], hnum[SL_FMT_MAX + 1]; /* same, raw values and headers */
    char *buf; /* CSV record */
    size_t cap;
    int64_t produced, queue_full;
    int64_t stop_seen_ms; /* when a wait first saw the stop request (0: not yet) */
    int64_t delivered, failed; /* written by the delivery-report callback */
    char first_error[256];
    const sl_ctx *ctx; /* on_wait */
    char *txid;  /* transactional.id (resolved), NULL: not transactional */
    int in_txn;  /* a transaction is open */
    int64_t txn_commits, txn_aborts;
} ksink;

static sl_rc oom(sl_err *err)
{
    return sl_err_set(err, SL_ENOMEM, "out of memory");
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    ksink *k = opaque;
    if (m->err) {
        if (__atomic_load_n(&k->failed, __ATOMIC_ACQUIRE) == 0)
            snprintf(k->first_error, sizeof k->first_error, "%s", rd_kafka_err2str(m->err));
        __atomic_add_fetch(&k->failed, 1, __ATOMIC_RELEASE);
    } else {
        __atomic_add_fetch(&k->delivered, 1, __ATOMIC_RELAXED);
    }
}

static void ksink_destroy(void *inst);

/* transactional.id (with ${VAR} resolved) and the transaction timeout. */
static sl_rc txn_conf(ksink *k, rd_kafka_conf_t *conf, sl_err *err)
{
    const ksink_cfg *c = k->c;
    int secret = 0;
    char tmo[32];
    if (c->transaction_timeout_ms < 1000)
        return sl_err_set(err, SL_ECONFIG, "sink 'kafka': transaction_timeout_ms must be >= 1000");
    sl_rc rc = sl_kafka_resolve("transactional_id", c->transactional_id, &k->txid, &secret, err);
    if (rc != SL_OK)
        return rc;
    if (!k->txid[0])
        return sl_err_set(err, SL_ECONFIG, "sink 'kafka': transactional_id is empty (an unset "
                          "environment variable?)");
    snprintf(tmo, sizeof tmo, "%lld", (long long)c->transaction_timeout_ms);
    if ((rc = sl_kafka_conf_set(conf, "transactional.id", k->txid, 0, err)) == SL_OK)
        rc = sl_kafka_conf_set(conf, "transaction.timeout.ms", tmo, 0, err);
    return rc;
}

static sl_rc ksink_init(void **inst, void *config, const sl_ctx *ctx, sl_err *err)
{
    const ksink_cfg *c = config;
    rd_kafka_conf_t *conf = NULL;
    sl_rc rc;
    *inst = NULL;
    if (c->flush_timeout_ms < 1)
        return sl_err_set(err, SL_ECONFIG, "sink 'kafka': flush_timeout_ms must be >= 1");
    ksink *k = sl_calloc(1, sizeof *k);
    if (!k)
        return oom(err);
    k->c = c;
    k->ctx = ctx;
    k->key_col = k->value_col = k->part_col = -1;
    sl_kavro_opts ao = {.section = "sink 'kafka'", .registry = c->schema_registry,
                        .dir = c->schema_dir, .schema_id = c->schema_id,
                        .subject = c->subject, .topic = c->topic};
    if ((rc = c->format == FMT_AVRO ? sl_kavro_sink_new(&ao, &k->avro, err)
                                    : sl_kavro_check_unused(&ao, err)) != SL_OK)
        goto out;
    if ((rc = sl_kafka_conf_new(c->brokers, NULL, NULL, NULL, "sink 'kafka'", &conf, err)) != SL_OK)
        goto out;
    /* a quarter of the run's memory budget for the producer queue (bytes
     * of payload; librdkafka also caps it at 100000 messages) */
    char qkb[32];
    snprintf(qkb, sizeof qkb, "%lld", ctx && ctx->memory_budget > 0
             ? (long long)(ctx->memory_budget / 4 / 1024) : 65536LL);
    const char *defaults[][2] = {{"client.id", "sluice"},
                                 {"enable.idempotence", "true"},
                                 {"acks", "all"},
                                 {"compression.type", codecs[c->compression]},
                                 {"partitioner", "murmur2_random"},
                                 {"queue.buffering.max.kbytes", qkb},
                                 {NULL, NULL}};
    for (int i = 0; defaults[i][0] && rc == SL_OK; i++)
        rc = sl_kafka_conf_set(conf, defaults[i][0], defaults[i][1], 0, err);
    if (rc == SL_OK && c->transactional_id)
        rc = txn_conf(k, conf, err);
    if (rc == SL_OK)
        rc = sl_kafka_apply_props(conf, &c->properties, ksink_rules, NULL, "sink 'kafka'", err);
    if (rc != SL_OK)
        goto out;
    rd_kafka_conf_set_opaque(conf, k);
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    rc = sl_kafka_client_new(RD_KAFKA_PRODUCER, conf, "sink 'kafka'", &k->rk, err);
    conf = NULL;
    if (rc != SL_OK)
        goto out;
    if (!(k->rkt = rd_kafka_topic_new(k->rk, c->topic, NULL))) {
        rc = sl_err_set(err, SL_ECONFIG, "sink 'kafka': topic '%s': %s", c->topic,
                        rd_kafka_err2str(rd_kafka_last_error()));
        goto out;
    }
    if (c->headers.n > 0) {
        if (!(k->hdrs = rd_kafka_headers_new((size_t)c->headers.n))) {
            rc = oom(err);
            goto out;
        }
        for (int i = 0; i < c->headers.n; i++)
            if (rd_kafka_header_add(k->hdrs, c->headers.keys[i], -1, c->headers.values[i], -1)) {
                rc = oom(err);
                goto out;
            }
    }
out:
    if (conf)
        rd_kafka_conf_destroy(conf);
    if (rc != SL_OK)
        ksink_destroy(k);
    else
        *inst = k;
    return rc;
}

/* A bare column name (letters, digits, _), as opposed to an expression. */
static int is_name(const char *s)
{
    for (; *s; s++)
        if (!(*s == '_' || (*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') ||
              (*s >= 'A' && *s <= 'Z')))
            return 0;
    return 1;
}

static sl_rc find_col(const sl_schema *in, const char *what, const char *name, int *idx,
                      sl_err *err)
{
    if ((*idx = sl_schema_find(in, name)) >= 0)
        return SL_OK;
    const char **names = sl_calloc((size_t)in->n + 1, sizeof *names);
    if (!names)
        return oom(err);
    for (int i = 0; i < in->n; i++)
        names[i] = in->fields[i].name;
    const char *near = sl_closest_name(names, name);
    sl_rc rc = sl_err_set(err, SL_ECONFIG, "sink 'kafka': %s column '%s' is not in the data%s%s%s",
                          what, name, near ? " (did you mean '" : "", near ? near : "",
                          near ? "'?)" : "");
    sl_free(names);
    return rc;
}

static sl_rc ksink_open(void *inst, const sl_schema *in, sl_schema **out, sl_err *err)
{
    ksink *k = inst;
    (void)out;
    if (!(k->schema = sl_schema_copy(in)))
        return oom(err);
    if (k->txid) {
        /* registers the id with the coordinator, fencing an older producer
         * with the same id and aborting its open transaction */
        rd_kafka_error_t *e = rd_kafka_init_transactions(k->rk, (int)k->c->flush_timeout_ms);
        if (e) {
            sl_rc rc = sl_err_set(err, rd_kafka_error_code(e) == RD_KAFKA_RESP_ERR__TIMED_OUT
                                  ? SL_EIO : sl_kafka_rc(rd_kafka_error_code(e)),
                                  "sink 'kafka': transactions for transactional_id '%s': %s",
                                  k->txid, rd_kafka_error_string(e));
            rd_kafka_error_destroy(e);
            return rc;
        }
    }
    sl_rc rc = SL_OK;
    const ksink_cfg *c = k->c;
    if (c->key && (k->key_col = sl_schema_find(in, c->key)) < 0) {
        if (is_name(c->key))
            return find_col(in, "key", c->key, &k->key_col, err);
        sl_type t;
        sl_err why;
        sl_err_clear(&why);
        if (sl_expr_parse(c->key, &k->key_expr, &why) != SL_OK ||
            sl_expr_bind(k->key_expr, in, &t, &why) != SL_OK)
            return sl_err_set(err, SL_ECONFIG, "sink 'kafka': key '%s': %s", c->key, why.msg);
    }
    if (c->partition) {
        if ((rc = find_col(in, "partition", c->partition, &k->part_col, err)) != SL_OK)
            return rc;
        if (in->fields[k->part_col].type != SL_INT64)
            return sl_err_set(err, SL_ECONFIG, "sink 'kafka': partition column '%s' is %s, "
                              "expected int64", c->partition,
                              sl_type_name(in->fields[k->part_col].type));
    }
    if (c->value && c->format != FMT_RAW)
        return sl_err_set(err, SL_ECONFIG, "sink 'kafka': `value: %s` is for format raw "
                          "(the other formats write every column)", c->value);
    if (c->format == FMT_RAW) {
        if (c->value)
            rc = find_col(in, "value", c->value, &k->value_col, err);
        else if (in->n == 1)
            k->value_col = 0;
        else
            rc = sl_err_set(err, SL_ECONFIG, "sink 'kafka': format raw writes one column and "
                            "the data has %d: name it with `value: COLUMN`", in->n);
        if (rc != SL_OK)
            return rc;
    }
    if (c->header_columns.n > 0 &&
        !(k->hcols = sl_calloc((size_t)c->header_columns.n, sizeof *k->hcols)))
        return oom(err);
    for (int i = 0; i < c->header_columns.n && rc == SL_OK; i++)
        rc = find_col(in, "header", c->header_columns.items[i], &k->hcols[i], err);
    if (rc != SL_OK)
        return rc;
    return k->avro ? sl_kavro_sink_open(k->avro, in, err) : SL_OK;
}

/* Text of row i of column c: *p (valid until the next call), *n = its
 * length, -1 for null. */
static void cell_text(char *num, const sl_column *c, int64_t i, const char **p, int64_t *n)
{
    *p = num;
    if (!sl_col_valid(c, i)) {
        *n = -1;
        return;
    }
    switch (c->type) {
    case SL_BOOL:
        *p = sl_col_bool(c, i) ? "true" : "false";
        *n = (int64_t)strlen(*p);
        break;
    case SL_INT64:
        *n = sl_format_int64(sl_col_i64(c, i), num);
        break;
    case SL_FLOAT64:
        *n = sl_format_float64(sl_col_f64(c, i), num);
        break;
    case SL_DATE:
        *n = sl_format_date(sl_col_i32(c, i), num);
        break;
    case SL_TIMESTAMP:
        *n = sl_format_timestamp(sl_col_i64(c, i), num);
        break;
    case SL_STRING: {
        size_t len;
        *p = sl_col_str(c, i, &len);
        *n = (int64_t)len;
        break;
    }
    default:
        *n = -1;
    }
}

/* One CSV record (no EOL) for row i into k->buf; *len its length. */
static sl_rc csv_row(ksink *k, const sl_batch *b, int64_t i, size_t *len)
{
    char d = k->c->delimiter;
    size_t at = 0;
    for (int j = 0; j < b->schema->n; j++) {
        const char *p;
        int64_t n;
        cell_text(k->num, b->cols[j], i, &p, &n);
        size_t need = at + 2 * (size_t)(n > 0 ? n : 0) + 4;
        if (sl_grow((void **)&k->buf, &k->cap, need, 1) != 0)
            return SL_ENOMEM;
        if (j > 0)
            k->buf[at++] = d;
        if (n < 0)
            continue; /* null: empty, unquoted */
        /* quote when the text would not read back as itself: separators,
         * quotes, line breaks, an empty string or a null marker */
        int q = b->cols[j]->type == SL_STRING &&
                (n == 0 || memchr(p, d, (size_t)n) || memchr(p, '"', (size_t)n) ||
                 memchr(p, '\n', (size_t)n) || memchr(p, '\r', (size_t)n) ||
                 (n == 2 && memcmp(p, "NA", 2) == 0) || (n == 4 && memcmp(p, "null", 4) == 0));
        if (!q) {
            memcpy(k->buf + at, p, (size_t)n);
            at += (size_t)n;
            continue;
        }
        k->buf[at++] = '"';
        for (int64_t x = 0; x < n; x++) {
            if (p[x] == '"')
                k->buf[at++] = '"';
            k->buf[at++] = p[x];
        }
        k->buf[at++] = '"';
    }
    *len = at;
    return SL_OK;
}

/* A failed delivery ends an at-least-once run at once. In a transaction
 * it only dooms the transaction: the commit reports it as abortable. */
static sl_rc delivery_failed(ksink *k, sl_err *err)
{
    int64_t f = __atomic_load_n(&k->failed, __ATOMIC_ACQUIRE);
    if (f > 0 && !k->txid)
        return sl_err_set(err, SL_EIO, "sink 'kafka': %lld messages to '%s' were not delivered: %s",
                          (long long)f, k->c->topic, k->first_error);
    char es[256];
    if (rd_kafka_fatal_error(k->rk, es, sizeof es))
        return sl_err_set(err, SL_EIO, "sink 'kafka': fatal producer error: %s", es);
    return SL_OK;
}

/* A wait for the broker ends by itself only with a delivery report
 * (librdkafka retries a message for message.timeout.ms); once a stop is
 * requested, it also ends flush_timeout_ms later, with this error. */
static sl_rc stop_expired(ksink *k, sl_err *err)
{
    int64_t now = sl_kafka_now_ms();
    if (now < sl_kafka_wait_deadline(now, -1, k->c->flush_timeout_ms, &k->stop_seen_ms))
        return SL_OK;
    return sl_err_set(err, SL_EIO, "sink 'kafka': %d messages to '%s' still not acknowledged "
                      "%lld ms after the stop request (is the broker reachable?)",
                      rd_kafka_outq_len(k->rk), k->c->topic, (long long)k->c->flush_timeout_ms);
}

/* One message: value v (NULL: a null value) of n bytes, key (kn < 0: no
 * key), partition (RD_KAFKA_PARTITION_UA: the partitioner's), headers
 * copied from hdrs (may be NULL) for each attempt. */
static sl_rc produce(ksink *k, const char *v, size_t n, const char *key, int64_t kn,
                     int32_t part, const rd_kafka_headers_t *hdrs, sl_err *err)
{
    const void *kp = kn >= 0 ? key : NULL;
    size_t kl = kn >= 0 ? (size_t)kn : 0;
    for (;;) {
        rd_kafka_headers_t *h = hdrs ? rd_kafka_headers_copy(hdrs) : NULL;
        if (hdrs && !h)
            return oom(err);
        rd_kafka_resp_err_t e = rd_kafka_producev(
            k->rk, RD_KAFKA_V_RKT(k->rkt), RD_KAFKA_V_PARTITION(part),
            RD_KAFKA_V_VALUE((void *)v, n), RD_KAFKA_V_KEY(kp, kl),
            RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
            k->produced++;
            return SL_OK;
        }
        if (h)
            rd_kafka_headers_destroy(h);
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL)
            return sl_err_set(err, sl_kafka_rc(e), "sink 'kafka': produce to '%s': %s",
                              k->c->topic, rd_kafka_err2str(e));
        /* backpressure: serve delivery reports until there is room, and
         * let the runner pause the source meanwhile */
        k->queue_full++;
        if (k->ctx && k->ctx->on_wait)
            k->ctx->on_wait(k->ctx->wait_arg);
        rd_kafka_poll(k->rk, 100);
        sl_rc rc = delivery_failed(k, err);
        if (rc == SL_OK)
            rc = stop_expired(k, err);
        if (rc != SL_OK)
            return rc;
    }
}

/* ---- transactions (exactly-once; the protocol is in kafka_txn.c) ---- */

static sl_rc txn_error(ksink *k, const char *what, rd_kafka_error_t *e, sl_err *err)
{
    sl_rc rc;
    if (rd_kafka_error_is_fatal(e))
        rc = sl_err_set(err, SL_EIO, "sink 'kafka': %s (transactional_id '%s'): %s%s", what,
                        k->txid, rd_kafka_error_string(e),
                        rd_kafka_error_code(e) == RD_KAFKA_RESP_ERR__FENCED
                            ? " (a newer worker with the same id took over; this one "
                              "stops without committing)" : "");
    else
        rc = sl_err_set(err, SL_EIO, "sink 'kafka': %s (transactional_id '%s'): %s", what,
                        k->txid, rd_kafka_error_string(e));
    rd_kafka_error_destroy(e);
    return rc;
}

static sl_rc txn_begin(ksink *k, sl_err *err)
{
    rd_kafka_error_t *e = rd_kafka_begin_transaction(k->rk);
    if (e)
        return txn_error(k, "begin transaction", e, err);
    k->in_txn = 1;
    return SL_OK;
}

/* Retriable errors (timeouts, a coordinator moving) are retried for as
 * long as the broker stays away: the transaction stays open, nothing is
 * lost, and the second signal still kills the process. */
static int txn_retry(ksink *k, const char *what, rd_kafka_error_t *e)
{
    if (!rd_kafka_error_is_retriable(e) || rd_kafka_error_is_fatal(e) ||
        rd_kafka_error_txn_requires_abort(e))
        return 0;
    sl_log(SL_LOG_WARN, "kafka", "%s (transactional_id '%s'): %s; retrying", what, k->txid,
           rd_kafka_error_string(e));
    rd_kafka_error_destroy(e);
    return 1;
}

int sl_ksink_transactional(void *inst)
{
    return ((ksink *)inst)->txid != NULL;
}

sl_rc sl_ksink_txn_commit(void *inst, const rd_kafka_topic_partition_list_t *offsets,
                          const rd_kafka_consumer_group_metadata_t *md, int *abortable,
                          sl_err *err)
{
    ksink *k = inst;
    rd_kafka_error_t *e;
    int tmo = (int)k->c->flush_timeout_ms;
    sl_rc rc;
    *abortable = 0;
    if (!k->in_txn && (!offsets || offsets->cnt == 0))
        return SL_OK;
    if (!k->in_txn && (rc = txn_begin(k, err)) != SL_OK)
        return rc;
    if (offsets && offsets->cnt > 0) {
        while ((e = rd_kafka_send_offsets_to_transaction(k->rk, offsets, md, tmo)) &&
               txn_retry(k, "send offsets to transaction", e))
            ;
        if (e && rd_kafka_error_txn_requires_abort(e)) {
            *abortable = 1;
            return txn_error(k, "send offsets to transaction", e, err);
        }
        if (e)
            return txn_error(k, "send offsets to transaction", e, err);
    }
    /* commit flushes: every message of the transaction is acknowledged
     * before the commit marker is written */
    while ((e = rd_kafka_commit_transaction(k->rk, tmo)) && txn_retry(k, "commit", e))
        ;
    if (e) {
        *abortable = rd_kafka_error_txn_requires_abort(e);
        return txn_error(k, "commit", e, err);
    }
    k->in_txn = 0;
    k->txn_commits++;
    return SL_OK;
}

sl_rc sl_ksink_txn_abort(void *inst, sl_err *err)
{
    ksink *k = inst;
    rd_kafka_error_t *e;
    if (!k->in_txn)
        return SL_OK;
    while ((e = rd_kafka_abort_transaction(k->rk, (int)k->c->flush_timeout_ms)) &&
           txn_retry(k, "abort", e))
        ;
    if (e)
        return txn_error(k, "abort", e, err);
    k->in_txn = 0;
    k->txn_aborts++;
    /* the failed deliveries belonged to the aborted transaction */
    __atomic_store_n(&k->failed, 0, __ATOMIC_RELEASE);
    return SL_OK;
}

/* The headers of row i: `headers`, then `header_columns` as text. */
static sl_rc row_headers(ksink *k, const sl_batch *in, int64_t i, rd_kafka_headers_t **rh,
                         sl_err *err)
{
    if (*rh)
        rd_kafka_headers_destroy(*rh);
    *rh = k->hdrs ? rd_kafka_headers_copy(k->hdrs)
                  : rd_kafka_headers_new((size_t)k->c->header_columns.n);
    if (!*rh)
        return oom(err);
    for (int j = 0; j < k->c->header_columns.n; j++) {
        const char *p;
        int64_t n;
        cell_text(k->hnum, in->cols[k->hcols[j]], i, &p, &n);
        if (rd_kafka_header_add(*rh, k->c->header_columns.items[j], -1, n >= 0 ? p : NULL,
                                n >= 0 ? (ssize_t)n : 0))
            return oom(err);
    }
    return SL_OK;
}

static sl_rc ksink_write(void *inst, sl_batch *in, sl_err *err)
{
    ksink *k = inst;
    sl_column *kc = NULL;
    rd_kafka_headers_t *rh = NULL;
    sl_jsonl_writer *w = NULL;
    const char *text = NULL;
    size_t tlen = 0, pos = 0;
    sl_rc rc = delivery_failed(k, err);
    if (rc != SL_OK || in->nrows == 0)
        return rc;
    if (!sl_schema_equal(in->schema, k->schema))
        return sl_err_set(err, SL_ESCHEMA, "sink 'kafka': batch columns differ from the "
                          "schema the sink was opened with");
    if (k->txid && !k->in_txn && (rc = txn_begin(k, err)) != SL_OK)
        return rc;
    if (k->c->format == FMT_JSON) {
        if (jl_writer_open_mem(k->schema, &w) != SL_OK)
            return oom(err);
        if ((rc = sl_jsonl_writer_write(w, in, err)) != SL_OK)
            goto out;
        text = jl_writer_text(w, &tlen);
    }
    if (k->key_expr && (rc = sl_expr_eval(k->key_expr, in, &kc, err)) != SL_OK)
        goto out;
    const sl_column *keys = kc ? kc : k->key_col >= 0 ? in->cols[k->key_col] : NULL;
    for (int64_t i = 0; i < in->nrows && rc == SL_OK; i++) {
        const char *v, *key = NULL;
        size_t n;
        int64_t kn = -1;
        if (k->value_col >= 0) {
            int64_t vn;
            cell_text(k->vnum, in->cols[k->value_col], i, &v, &vn);
            n = vn >= 0 ? (size_t)vn : 0;
            if (vn < 0)
                v = NULL;
        } else if (w) {
            const char *nl = memchr(text + pos, '\n', tlen - pos);
            if (!nl) {
                rc = sl_err_set(err, SL_EINTERNAL, "sink 'kafka': JSON rows do not match the batch");
                break;
            }
            v = text + pos;
            n = (size_t)(nl - v);
            pos += n + 1;
        } else if (k->avro) {
            const uint8_t *m;
            if ((rc = sl_kavro_sink_encode(k->avro, in, i, &m, &n, err)) != SL_OK)
                break;
            v = (const char *)m;
        } else {
            if (csv_row(k, in, i, &n) != SL_OK) {
                rc = oom(err);
                break;
            }
            v = k->buf;
        }
        if (keys)
            cell_text(k->num, keys, i, &key, &kn);
        int32_t part = RD_KAFKA_PARTITION_UA;
        if (k->part_col >= 0 && sl_col_valid(in->cols[k->part_col], i)) {
            int64_t p = sl_col_i64(in->cols[k->part_col], i);
            part = p >= 0 && p <= INT32_MAX ? (int32_t)p : INT32_MAX; /* refused by the broker */
        }
        if (k->hcols) {
            if ((rc = row_headers(k, in, i, &rh, err)) != SL_OK)
                break;
            rc = produce(k, v, n, key, kn, part, rh, err);
        } else {
            rc = produce(k, v, n, key, kn, part, k->hdrs, err);
        }
    }
    rd_kafka_poll(k->rk, 0); /* serve delivery reports */
out:
    if (rh)
        rd_kafka_headers_destroy(rh);
    sl_column_unref(kc);
    sl_jsonl_writer_abort(w);
    return rc;
}

/* Every message produced so far acknowledged, none failed: flushed in
 * slices, the source kept paused and in its group between them, until
 * the queue is empty, a delivery fails, or a stop request expires. */
#define FLUSH_SLICE_MS 100

static sl_rc ksink_flush(void *inst, sl_err *err)
{
    ksink *k = inst;
    sl_rc rc;
    for (;;) {
        rd_kafka_resp_err_t e = rd_kafka_flush(k->rk, FLUSH_SLICE_MS);
        if ((rc = delivery_failed(k, err)) != SL_OK || e != RD_KAFKA_RESP_ERR__TIMED_OUT ||
            (rc = stop_expired(k, err)) != SL_OK)
            return rc;
        if (k->ctx && k->ctx->on_wait)
            k->ctx->on_wait(k->ctx->wait_arg);
    }
}

/* A transaction still open at close (a batch run, which has no
 * checkpoints) is committed: its rows appear all at once. */
static sl_rc ksink_close(void *inst, sl_err *err)
{
    ksink *k = inst;
    int abortable;
    if (k->txid && k->in_txn)
        return sl_ksink_txn_commit(k, NULL, NULL, &abortable, err);
    return ksink_flush(inst, err);
}

static void ksink_destroy(void *inst)
{
    ksink *k = inst;
    if (!k)
        return;
    if (k->rkt)
        rd_kafka_topic_destroy(k->rkt);
    if (k->rk && k->in_txn) {
        /* a failed run: abort now rather than leave read_committed
         * consumers waiting for transaction_timeout_ms */
        rd_kafka_error_t *e = rd_kafka_abort_transaction(k->rk, 5000);
        if (e)
            rd_kafka_error_destroy(e);
    }
    if (k->rk) {
        /* an unflushed producer is being discarded (failed run): drop what
         * is queued rather than wait */
        rd_kafka_purge(k->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_destroy(k->rk);
    }
    if (k->hdrs)
        rd_kafka_headers_destroy(k->hdrs);
    sl_expr_free(k->key_expr);
    sl_free(k->hcols);
    sl_schema_free(k->schema);
    sl_kavro_sink_free(k->avro);
    sl_free(k->buf);
    sl_free(k->txid);
    sl_free(k);
}

void sl_kafka_sink_stats_get(void *inst, sl_kafka_sink_stats *out)
{
    ksink *k = inst;
    out->produced = k->produced;
    out->delivered = __atomic_load_n(&k->delivered, __ATOMIC_RELAXED);
    out->failed = __atomic_load_n(&k->failed, __ATOMIC_RELAXED);
    out->queue_full = k->queue_full;
}

const sl_plugin sl_plugin_sink_kafka = {
    .abi_version = SL_PLUGIN_ABI_VERSION,
    .name = "kafka",
    .kind = SL_PLUGIN_SINK,
    .summary = "Produce one message per row to a Kafka topic (idempotent producer, "
               "acks=all; JSON, CSV, raw or Confluent Avro values).",
    .example = "sink: {type: kafka, brokers: \"127.0.0.1:9092\", topic: weather-features, "
               "key: date, compression: lz4}",
    .config_map = ksink_map,
    .config_size = sizeof(ksink_cfg),
    .init = ksink_init,
    .open = ksink_open,
    .write = ksink_write,
    .flush = ksink_flush,
    .checkpoint = ksink_flush,
    .close = ksink_close,
    .destroy = ksink_destroy,
};
