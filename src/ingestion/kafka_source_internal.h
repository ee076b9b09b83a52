/*
 * kafka_source_internal.h: what the two halves of the `kafka` source share,
 * kafka_source.c (configuration, consumer, schema, batches, plugin) and
 * kafka_group.c (partitions, rebalances, offsets and their commits,
 * backpressure, stats): the instance and configuration types and the
 * functions one half calls in the other. Private to those two files; the
 * rest of src/ reaches the source through sluice/kafka.h and the sl_ksrc_*
 * calls in kafka_internal.h.
 */
#ifndef SLUICE_KAFKA_SOURCE_INTERNAL_H
#define SLUICE_KAFKA_SOURCE_INTERNAL_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "formats/messages.h"
#include "ingestion/kafka_avro.h"
#include "ingestion/kafka_internal.h"
#include "sluice/config_map.h"
#include "sluice/error.h"
#include "sluice/schema.h"

typedef struct ksrc_cfg {
    char *brokers;
    sl_strlist topics;
    char *pattern;
    char *group;
    int start;
    char *start_time;
    int format;
    char *schema;
    char *schema_registry;
    char *schema_dir;
    int metadata;
    sl_strlist header_columns;
    int64_t batch_rows;
    int64_t batch_ms;
    int64_t batch_bytes;
    int on_error;
    char *dlq_topic;
    char *rejects;
    char delimiter;
    int64_t max_record_bytes;
    int64_t infer_wait_ms;
    int64_t ack_timeout_ms;
    sl_strmap properties;
} ksrc_cfg;

typedef struct kpart {
    char *topic;
    int32_t partition;
    int assigned;
    int64_t emitted, committed;
    int64_t origin; /* first offset read since assigned (-1: none yet):
                       where a rewind goes while nothing is committed */
    int paused;     /* paused by sl_kafka_source_pause */
} kpart;

typedef struct ksrc {
    const ksrc_cfg *c;
    char *rejects;
    sl_schema *hint;
    rd_kafka_t *rk;
    rd_kafka_queue_t *q;
    sl_schema *data, *out;
    sl_msgs *dec;
    sl_kavro_src *avro; /* format avro */
    sl_kdlq *dlq;
    rd_kafka_message_t **m; /* the batch being built */
    size_t m_cap;
    /* the messages of the batch next() returned last, kept until the next
     * call so the runner can dead-letter a row its transforms or model
     * reject (sl_kafka_source_reject_row); rowmsg[r] = message of row r */
    rd_kafka_message_t **last;
    size_t last_cap, rowmsg_cap;
    int64_t nlast, nrows_last;
    int64_t *rowmsg;
    int64_t nm;
    size_t bytes;
    int64_t *didx; /* per message: decoder index, -1 = rejected before */
    int64_t *midx; /* per decoder index: message index */
    uint8_t *bad;  /* per message */
    size_t didx_cap, midx_cap, bad_cap;
    /* messages rejected before decoding, reported in offset order with
     * the ones the decoder rejects (dead letters keep their order) */
    struct early {
        int64_t i;
        char *reason;
    } *early;
    size_t early_cap;
    int64_t nearly, early_pos;
    kpart *parts;
    int nparts;
    size_t parts_cap;
    int64_t records, rejected, commits, commit_errors, pauses;
    int revoked; /* partitions were revoked or lost since the last rewind */
    /* offset commits (see "offset commits" in kafka_group.c) */
    rd_kafka_queue_t *cq;   /* where commit results arrive */
    int inflight;           /* a commit was sent, its result is not in */
    int64_t epoch;          /* rebalances so far */
    int64_t inflight_epoch; /* epoch when the commit in flight was sent */
    int finishing;          /* the next checkpoint is the run's last */
    int64_t stop_seen_ms;   /* when a checkpoint first saw the stop request */
    char commit_err[160];   /* why the last commit failed ("": it did not) */
    int paused;  /* the assignment is paused (backpressure) */
    size_t batch_bytes;     /* batch_bytes, capped by the memory budget */
    int64_t queue_kbytes;   /* the consumer queue's share of the budget */
    const rd_kafka_topic_t *last_rkt; /* note_origin's last partition */
    int32_t last_part;
    int logged_reject;
    int64_t start_ms; /* start_time, or -1 */
    sl_rc fatal; /* set by the rebalance callback */
    sl_err ferr;
} ksrc;

static inline sl_rc oom(sl_err *err)
{
    return sl_err_set(err, SL_ENOMEM, "out of memory");
}

static inline void set_fatal(ksrc *s, sl_rc rc, const char *what, const char *why)
{
    if (s->fatal)
        return;
    s->fatal = rc;
    sl_err_set(&s->ferr, rc, "source 'kafka': %s: %s", what, why);
}

/* ---- kafka_group.c ---- */

/* A regular checkpoint's longest wait for a commit result, in ms (see
 * "offset commits" in kafka_group.c); close() waits as long for one still
 * in flight. */
#define SL_KSRC_COMMIT_WAIT_MS 1000

/* The bookkeeping of partition p of topic; with create, a new entry
 * (unassigned, no offsets) when there is none. NULL: not found, or out of
 * memory. */
kpart *sl_ksrc_part_find(ksrc *s, const char *topic, int32_t p, int create);
/* librdkafka's rebalance callback; opaque is the ksrc. */
void sl_ksrc_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t e,
                          rd_kafka_topic_partition_list_t *parts, void *opaque);
/* Take the result of the commit in flight (see kafka_group.c). */
sl_rc sl_ksrc_commit_wait(ksrc *s, int64_t start, int64_t max_ms, sl_err *err);
/* The plugin's checkpoint: commit the pending offsets. */
sl_rc sl_ksrc_checkpoint(void *inst, sl_err *err);
/* Destroy the consumer handle, on a detached thread while a commit is in
 * flight (see kafka_group.c). */
void sl_ksrc_release_consumer(ksrc *s);

/* ---- kafka_source.c ---- */

/* The k messages just consumed into s->m + s->nm join the batch. */
void sl_ksrc_take(ksrc *s, ssize_t k);
/* Destroy the messages of the batch being built / of the last batch. */
void sl_ksrc_drop_messages(ksrc *s);
void sl_ksrc_drop_last(ksrc *s);

#endif
