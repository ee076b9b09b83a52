/*
 * stream.h: running a pipeline spec continuously (`sluice run --stream`),
 * and the embedded development broker (`sluice broker --dev`).
 *
 * The streaming runner reuses the spec: source -> transforms -> sink, one
 * batch at a time, with no passes and no split. Stateful transforms need
 * their fitted state from a batch run (a transform.json, opts->transform);
 * stateless chains run from the spec alone. With a model (opts->model)
 * every batch is also scored (streaming inference); a batch the chain or
 * the scorer rejects is retried row by row and the rows that fail go to
 * the dead-letter destination with the reason (see below).
 *
 * Loop: next batch (bounded by the source's batch_rows / batch_ms) ->
 * transforms -> sink write; every commit_ms (or every commit_batches
 * batches): sink checkpoint (Kafka sink: every delivery report in) ->
 * source checkpoint (commit the offsets of every batch read so far).
 * Offsets are therefore committed only for records the sink has
 * acknowledged: a crash at any point loses nothing; records after the last
 * commit are processed again on restart (at-least-once).
 *
 * A sink without a checkpoint function (the file sinks) is durable only
 * when closed (it renames its temporary file), so with such a sink the
 * offsets are committed once, after the sink closed successfully at the
 * end of a bounded or stopped run.
 *
 * Stop: sl_stream_request_stop() (async-signal-safe: the CLI calls it from
 * its SIGINT/SIGTERM handler), --max-records, --max-seconds, or the end of
 * a finite source. The runner stops reading, flushes, commits, closes and
 * returns SL_OK. On an error it returns at once without committing.
 */
#ifndef SLUICE_STREAM_H
#define SLUICE_STREAM_H

#include <stdint.h>

#include "error.h"
#include "pipeline.h"

typedef struct sl_stream_options {
    const char *transform_path; /* transform.json with fitted state, or NULL */
    const char *model;          /* streaming inference: a registered model
                                   (models/ml_models/NAME or a version
                                   directory, see sl_model_ref_resolve), or
                                   NULL. Each batch, after the spec's own
                                   transforms, is scored with the version's
                                   saved transforms and model (scorer.h):
                                   the sink gets the transformed columns
                                   plus `prediction` and `proba_<class>`,
                                   exactly what `sluice predict` writes.
                                   Excludes transform_path. */
    int model_version;          /* that model's version; 0 = blessed, else
                                   latest */
    int64_t max_records;        /* stop after this many source records
                                   (the batch holding the N-th is finished);
                                   0 = no limit */
    double max_seconds;         /* stop after this long; 0 = no limit */
    int64_t commit_ms;          /* commit interval; 0 = 1000 */
    int64_t commit_batches;     /* also commit every N batches; 0 = off */
    const char *metrics_file;   /* Prometheus text file, or NULL */
    int64_t metrics_ms;         /* how often the metrics are published (and
                                   the file rewritten); 0 = 1000 with a
                                   metrics port, else 5000 */
    int metrics_port;           /* serve GET /metrics, /healthz and /readyz
                                   on this port while the stream runs;
                                   0 = no endpoint, -1 = any free port (the
                                   address is logged) */
    const char *metrics_addr;   /* its listen address; NULL = "127.0.0.1" */
    const char *rejects_path;   /* dead letters file when the source has no
                                   dlq topic; NULL = "rejects.jsonl" */
    int64_t max_memory_mb;      /* memory budget of the run's buffers (source
                                   pre-fetch queue and batch, producer queue);
                                   0 = 256 */
    int quiet;
} sl_stream_options;

/* Counters of a run (also what the metrics file shows). */
typedef struct sl_stream_metrics {
    int64_t records_in;     /* records the source produced (decoded) */
    int64_t records_out;    /* rows written to the sink */
    int64_t records_dlq;    /* records sent to the dead-letter destination */
    int64_t batches;
    int64_t commits;        /* offset commits the broker accepted (Kafka
                               source; else successful checkpoints) */
    int64_t commit_errors;  /* commits the broker refused (retried) */
    double commit_seconds;  /* total time spent in checkpoints */
    double last_commit_seconds;
    int64_t lag;            /* consumer lag (Kafka source), -1 unknown */
    int64_t backpressure;   /* times the sink waited for room */
    int64_t aborts;         /* exactly-once: transactions aborted (their
                               rows are produced again after a rewind) */
    double seconds;
    int stopped_by;         /* 0 error, 1 stop request, 2 max-records,
                               3 max-seconds, 4 end of input */
} sl_stream_metrics;

sl_rc sl_stream_run(const sl_pipeline_def *def, const sl_stream_options *opts,
                    sl_stream_metrics *metrics, sl_err *err);

/* Ask running streams to stop gracefully (async-signal-safe). */
void sl_stream_request_stop(void);
int sl_stream_stop_requested(void);
/* Clear a stop request (before a new run in the same process). */
void sl_stream_reset_stop(void);

/* ---- metrics in the Prometheus registry (prom.h) ----
 * The runner publishes its sl_stream_metrics, labelled {pipeline="<name>"}:
 *   counters  sluice_stream_records_in_total, _records_out_total,
 *             _records_dlq_total, _batches_total, _commits_total,
 *             _commit_errors_total, _commit_seconds_total,
 *             _backpressure_total, _transaction_aborts_total
 *   histogram sluice_stream_commit_duration_seconds (successful checkpoints)
 *   gauges    sluice_stream_last_commit_seconds, _consumer_lag (-1 unknown),
 *             _uptime_seconds, and sluice_stream_partition_lag{pipeline,
 *             topic,partition} for the partitions assigned now.
 * sl_prom_render() gives the text (what --metrics-file and GET /metrics
 * show). */

/* Start a run's series: registers the families, shows the pipeline's
 * series from zero (a new run reads as a counter reset) with the lag
 * unknown. One run per pipeline name at a time in a process: SL_ECONFIG
 * if the name is already being published. The calling thread owns the run:
 * publish and end from other threads are ignored. */
sl_rc sl_stream_metrics_begin(const char *pipeline, sl_err *err);

/* Publish the run's totals: counters advance by what m adds to the totals
 * published before (they never go down); checkpoints since the last call
 * go into the latency histogram; gauges are set. lags: the lag of every
 * partition assigned now (nlags of them); partitions published before and
 * missing now are removed from the output. nlags < 0: no per-partition
 * information (not a Kafka source), leave those series alone. Never
 * fails: metrics do not stop a stream. */
struct sl_kafka_partition_lag;
void sl_stream_metrics_publish(const sl_stream_metrics *m, const char *pipeline,
                               const struct sl_kafka_partition_lag *lags, int nlags);

/* End the run: its series leave the output. */
void sl_stream_metrics_end(const char *pipeline);

/* ---- development broker (librdkafka's mock cluster) ----
 * A single-node Kafka-protocol broker in this process, for the quickstart
 * and tests; data lives in memory (each partition keeps its last 5 MB or
 * 100000 message sets) and is gone when it stops. Topics are created on
 * first use with 4 partitions (the mock cluster's default), or up front
 * with `partitions` partitions for the names in `topics`.
 * port > 0: also listen on 127.0.0.1:port and forward each connection to
 * the broker (the broker's own address, advertised in metadata, is a
 * random loopback port that clients then reach directly). */
typedef struct sl_dev_broker sl_dev_broker;

sl_rc sl_dev_broker_start(int port, int partitions, const char *const *topics,
                          int ntopics, sl_dev_broker **out, sl_err *err);
/* "127.0.0.1:PORT": the forwarding port when one was asked for, else the
 * broker's own. Valid until stop. */
const char *sl_dev_broker_bootstrap(const sl_dev_broker *b);
sl_rc sl_dev_broker_create_topic(sl_dev_broker *b, const char *topic,
                                 int partitions, sl_err *err);
void sl_dev_broker_stop(sl_dev_broker *b); /* NULL ok */

#endif
