/*
 * kafka.h: the Kafka source and sink plugins (librdkafka) and what the
 * streaming runner reads from their instances.
 *
 * Source `kafka`: a consumer in a consumer group (cooperative-sticky
 * rebalancing) subscribed to `topics` and/or a `pattern`; message values
 * decoded as JSON (the columnar JSON Lines parser), CSV lines, raw bytes
 * or Avro with Confluent Schema Registry framing (src/ingestion/
 * kafka_avro.h) into batches bounded by `batch_rows` and `batch_ms`; key,
 * partition, offset and timestamp as columns with `metadata: true`.
 * Offsets are never committed automatically. The source remembers, per
 * partition, the offset after the highest offset of every batch it
 * returned; checkpoint() (plugin.h) commits them. The runner calls it only
 * after the sink acknowledged every row of those batches, which is what
 * makes delivery at-least-once. Records that cannot be decoded go to the
 * dead-letter topic (`dlq_topic`) or the rejects file with the reason and
 * their topic/partition/offset, and count in rejected().
 *
 * Sink `kafka`: an idempotent producer (enable.idempotence, acks=all)
 * writing one message per row (JSON object, CSV line or framed Avro
 * record), optional key column, static headers and compression. write() only enqueues (waiting
 * for room when the producer queue is full: bounded memory); flush() and
 * checkpoint() return OK only once every message written so far has a
 * successful delivery report.
 *
 * The plugins are registered by sl_plugins_init() (src/core/plugin.c).
 */
#ifndef SLUICE_KAFKA_H
#define SLUICE_KAFKA_H

#include <stdint.h>

#include "plugin.h"

extern const sl_plugin sl_plugin_source_kafka;
extern const sl_plugin sl_plugin_sink_kafka;

/* Counters of a Kafka source instance (the `h` of an sl_plugin_source_kafka
 * instance). lag: sum over the assigned partitions of (high watermark -
 * next offset to read), from librdkafka's cached watermarks; -1 when not
 * known yet. */
typedef struct sl_kafka_source_stats {
    int64_t records;      /* messages consumed (decoded or not) */
    int64_t rejected;     /* sent to the dead-letter destination / skipped */
    int64_t commits;      /* successful offset commits */
    int64_t commit_errors;/* failed commits (retried at the next checkpoint) */
    int64_t lag;
    int assigned;         /* partitions assigned now */
    int64_t pauses;       /* times the partitions were paused because the
                             sink was full (backpressure) */
} sl_kafka_source_stats;

void sl_kafka_source_stats_get(void *inst, sl_kafka_source_stats *out);

/* Lag of the assigned partitions, one call per partition (at most max
 * entries): topic, partition, lag (-1 unknown). Returns the count. */
typedef struct sl_kafka_partition_lag {
    char topic[128];
    int32_t partition;
    int64_t lag;
} sl_kafka_partition_lag;

int sl_kafka_source_lags(void *inst, sl_kafka_partition_lag *out, int max);

typedef struct sl_kafka_sink_stats {
    int64_t produced;  /* messages enqueued */
    int64_t delivered; /* successful delivery reports */
    int64_t failed;    /* failed delivery reports */
    int64_t queue_full;/* times write() waited for room (backpressure) */
} sl_kafka_sink_stats;

void sl_kafka_sink_stats_get(void *inst, sl_kafka_sink_stats *out);

/* ---- backpressure ----
 * While the sink waits for room (sl_ctx.on_wait), the runner calls pause:
 * the first call pauses the assigned partitions that have delivered a
 * message since their assignment (pausing one whose fetch has not started
 * can lose the start in librdkafka), each call serves the consumer
 * (rebalances, the poll interval). resume undoes it; the source also
 * resumes by itself on its next next(), and resumes a partition before a
 * rebalance takes it away. */
void sl_kafka_source_pause(void *source);
void sl_kafka_source_resume(void *source);
/* The run is ending: the source's next checkpoint() is its last. It waits
 * for its offset commit (and one still in flight) at most ack_timeout_ms,
 * and at most 5 s after a stop request, instead of leaving it for a later
 * checkpoint; when an assigned partition is left uncommitted (the commit
 * failed or got no answer) it returns SL_EIO: the records after the last
 * commit will be read again. */
void sl_kafka_source_finishing(void *source);
/* Dead-letter row `row` of the batch the source's next() returned last
 * (valid until the next call), per the source's on_error, with reason:
 * the streaming runner's way to hand over a record its transforms or
 * model rejected. Counted as rejected; with on_error: fail, an SL_EPARSE
 * error naming the record's topic, partition and offset. */
sl_rc sl_kafka_source_reject_row(void *source, int64_t row, const char *reason, sl_err *err);

/* ---- exactly-once: a Kafka source and a transactional Kafka sink ----
 * (sink `transactional_id`). The runner calls sl_kafka_txn_checkpoint in
 * place of the two checkpoint() calls: the rows written since the last
 * checkpoint and the source offsets they came from are committed in one
 * transaction (send_offsets_to_transaction with the consumer's group
 * metadata, so a worker that lost its partitions cannot commit them:
 * KIP-447). When the transaction cannot be committed but can be aborted
 * (a rebalance took partitions away, a delivery failed, the group
 * generation moved), it is aborted and the source is rewound to the
 * committed offsets, so the aborted rows are produced again: *aborted = 1
 * and SL_OK. A fenced producer (a newer worker with the same
 * transactional_id) or any other fatal error fails.
 * source may be NULL (a non-Kafka source: the transaction only makes the
 * rows appear atomically). */
int sl_kafka_sink_transactional(void *sink);
/* 1 when partitions were revoked since the last checkpoint: the open
 * transaction must be aborted before anything else is written (call
 * sl_kafka_txn_checkpoint, which does it). */
int sl_kafka_source_revoked(void *source);
sl_rc sl_kafka_txn_checkpoint(void *source, void *sink, int *aborted,
                              sl_err *err);

#endif
