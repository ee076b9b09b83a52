/*
 * kafka_internal.h: what the Kafka source, sink and dead-letter code share
 * (kafka_conf.c, kafka_dlq.c). Internal to src/.
 *
 * Client configuration: every librdkafka property passes through from the
 * spec's `properties:` map. A value may be taken from the environment
 * (`${VAR}`, anywhere in the value) or from a file (`@path`: the whole
 * value is the file's content without its trailing newline; `@@x` is the
 * literal `@x`). Such values, and the values of properties whose name says
 * they are secret (password, secret, token, jaas, .pem, .key), are never
 * written to a log or an error message: errors name the property only.
 * librdkafka's own log lines go to sl_log (component "kafka").
 */
#ifndef SLUICE_KAFKA_INTERNAL_H
#define SLUICE_KAFKA_INTERNAL_H

#include <librdkafka/rdkafka.h>
#include <stdint.h>

#include "sluice/config_map.h"
#include "sluice/error.h"

/* Milliseconds of a monotonic clock. */
int64_t sl_kafka_now_ms(void);

/* How long waits for the broker (flushes, commits) may still go on after a
 * stop request (SIGTERM) when nothing else bounds them. */
#define SL_KAFKA_STOP_GRACE_MS 5000

/* The deadline of a wait for the broker begun at start (monotonic ms) that
 * may last timeout_ms (< 0: no limit), cut to grace_ms after the first stop
 * request seen (*stop_seen: when, 0 before; updated here). INT64_MAX when
 * nothing bounds it yet. Waits poll in short slices and call this each
 * time, so a stop is never missed for long. */
int64_t sl_kafka_wait_deadline(int64_t start, int64_t timeout_ms, int64_t grace_ms,
                               int64_t *stop_seen);

/* 1 when the property's value must never be shown. */
int sl_kafka_secret_key(const char *key);

/* Resolve ${VAR} and @file in raw (see above). *secret is set to 1 when
 * the value came from the environment or a file. what names the property
 * in errors. */
sl_rc sl_kafka_resolve(const char *what, const char *raw, char **out,
                       int *secret, sl_err *err);

/* rd_kafka_conf_set with an error that names the property, and shows the
 * value only when it is not secret. Errors are SL_ECONFIG. */
sl_rc sl_kafka_conf_set(rd_kafka_conf_t *c, const char *key, const char *value,
                        int secret, sl_err *err);

/* A rule for user properties: a key the plugin sets itself (the message
 * says which setting to use instead), or a key whose value must be one of
 * `allowed` ('|'-separated, case-insensitive; NULL = the key is refused). */
typedef struct sl_kafka_rule {
    const char *key;
    const char *allowed;
    const char *why;
} sl_kafka_rule;

/* Apply props through rules (NULL-key terminated, may be NULL). skip_prefixes
 * (NULL-terminated, may be NULL) leaves out keys that do not apply to this
 * client (consumer-only keys on the dead-letter producer). section names
 * the spec section in errors ("source 'kafka'"). */
sl_rc sl_kafka_apply_props(rd_kafka_conf_t *c, const sl_strmap *props,
                           const sl_kafka_rule *rules,
                           const char *const *skip_prefixes,
                           const char *section, sl_err *err);

/* New client configuration with logging to sl_log, `bootstrap.servers`
 * and the user properties; component names the client in log lines. */
sl_rc sl_kafka_conf_new(const char *brokers, const sl_strmap *props,
                        const sl_kafka_rule *rules,
                        const char *const *skip_prefixes,
                        const char *section, rd_kafka_conf_t **out,
                        sl_err *err);

/* rd_kafka_new; on failure err says why (SL_ECONFIG). conf is consumed
 * either way. */
sl_rc sl_kafka_client_new(rd_kafka_type_t type, rd_kafka_conf_t *conf,
                          const char *section, rd_kafka_t **out, sl_err *err);

/* Kafka error -> sl_rc: configuration and authorization problems are
 * SL_ECONFIG, the rest SL_EIO. */
sl_rc sl_kafka_rc(rd_kafka_resp_err_t e);

/* ---- dead letters (kafka_dlq.c) ----
 * Where the source sends records it cannot decode: a topic (the record's
 * key and value unchanged, its headers kept, plus sluice.error,
 * sluice.topic, sluice.partition, sluice.offset and sluice.timestamp
 * headers), or an append-only JSON Lines file
 *   {"source":"kafka","topic":...,"partition":...,"offset":...,
 *    "timestamp":...,"key":...,"reason":...,"record":...}
 * Both are made durable by sl_kdlq_sync (producer flush with every
 * delivery checked / fflush + fsync), which the source calls before it
 * commits offsets: a dead letter is never lost behind a committed offset. */
typedef struct sl_kdlq sl_kdlq;

/* topic != NULL: to that topic through a producer configured from brokers
 * and props; else to the file at path (created on the first record). */
sl_rc sl_kdlq_open(const char *topic, const char *brokers,
                   const sl_strmap *props, const char *path, sl_kdlq **out,
                   sl_err *err);
sl_rc sl_kdlq_write(sl_kdlq *d, const rd_kafka_message_t *m,
                    const char *reason, sl_err *err);
sl_rc sl_kdlq_sync(sl_kdlq *d, int64_t timeout_ms, sl_err *err);
int64_t sl_kdlq_count(const sl_kdlq *d);
/* Syncs, then frees. NULL ok. */
sl_rc sl_kdlq_close(sl_kdlq *d, int64_t timeout_ms, sl_err *err);

/* ---- exactly-once (kafka_txn.c) ----
 * The source and sink halves the transaction protocol needs. inst is the
 * plugin instance. */
/* kafka_group.c */
rd_kafka_t *sl_ksrc_consumer(void *inst);
sl_rc sl_ksrc_pending(void *inst, rd_kafka_topic_partition_list_t **out,
                      sl_err *err);
void sl_ksrc_committed(void *inst, const rd_kafka_topic_partition_list_t *l);
int sl_ksrc_revoked(void *inst);
sl_rc sl_ksrc_rewind(void *inst, sl_err *err);
/* kafka_sink.c. commit: send offsets (may be NULL/empty) to the open
 * transaction (one is begun when none is open) and commit it; on failure
 * *abortable says whether sl_ksink_txn_abort can recover. */
int sl_ksink_transactional(void *inst);
sl_rc sl_ksink_txn_commit(void *inst,
                          const rd_kafka_topic_partition_list_t *offsets,
                          const rd_kafka_consumer_group_metadata_t *md,
                          int *abortable, sl_err *err);
sl_rc sl_ksink_txn_abort(void *inst, sl_err *err);

#endif
