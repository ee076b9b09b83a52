/*
 * stream_run.c: the streaming runner (stream.h): one pass that never ends
 * by itself, source -> transforms -> sink, with periodic checkpoints.
 *
 * Commit protocol (the at-least-once guarantee rests on it):
 *   1. every batch returned by the source's next() has been transformed and
 *      handed to the sink's write() before the next checkpoint starts (one
 *      thread, no read-ahead: a batch in flight would be committed unseen);
 *   2. sink checkpoint (Kafka: every delivery report in, none failed);
 *   3. only if 2 succeeded: source checkpoint (dead letters made durable,
 *      then the offsets past every returned batch committed).
 * A failure anywhere ends the run without step 3, so the uncommitted
 * records are read again by the next run or the next owner of their
 * partitions. Rows a filter dropped count as handled: they are committed
 * with the rest of their batch.
 *
 * Sinks without a checkpoint function (files) are durable only when they
 * close; their runs commit once, after a successful close.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "run/internal.h"
#include "sluice/kafka.h"
#include "sluice/log.h"
#include "sluice/mem.h"
#include "sluice/metrics_http.h"
#include "sluice/progress.h"
#include "sluice/prom.h"
#include "sluice/scorer.h"
#include "sluice/stream.h"
#include "sluice/train.h"

#define DEFAULT_COMMIT_MS 1000
#define DEFAULT_MAX_MEMORY_MB 256
#define DEFAULT_METRICS_MS 5000
#define LOG_EVERY_S 30.0

static volatile sig_atomic_t stop_flag;

void sl_stream_request_stop(void)
{
    stop_flag = 1;
}

int sl_stream_stop_requested(void)
{
    return stop_flag != 0;
}

void sl_stream_reset_stop(void)
{
    stop_flag = 0;
}

typedef struct srun {
    const sl_pipeline_def *def;
    sl_stream_options o;
    sl_stream_metrics *m;
    sl_schema *hint;
    sl_transform_file tf; /* when --transform */
    int use_tf;
    sl_inst *t; /* the transforms in use (tf.t or own) */
    sl_inst *own;
    int nt, nown;
    sl_scorer *sc; /* streaming inference (opts->model), after the chain */
    sl_schema *scored; /* the scorer's output schema: the sink's input */
    sl_inst src, sink;
    char sink_path[SL_PATH_MAX];
    int eos; /* exactly-once: Kafka source -> transactional Kafka sink */
    int64_t txn_in, txn_out; /* records in and out since the last commit */
    double t0, next_metrics, next_log;
} srun;

static int is_kafka_source(const srun *r)
{
    return r->src.p == &sl_plugin_source_kafka && r->src.h;
}

/* Refresh the counters the plugins keep and publish everything, with the
 * lag of each assigned partition, into the Prometheus registry
 * (stream_metrics.c), where --metrics-port and --metrics-file read it. */
static void refresh(srun *r)
{
    sl_stream_metrics *m = r->m;
    sl_kafka_partition_lag *lags = NULL;
    int nlags = -1; /* no per-partition lag (not a Kafka source) */
    m->seconds = sl_now() - r->t0;
    if (r->src.h && r->src.p->rejected)
        m->records_dlq = r->src.p->rejected(r->src.h);
    if (is_kafka_source(r)) {
        sl_kafka_source_stats st;
        sl_kafka_source_stats_get(r->src.h, &st);
        m->lag = st.lag;
        /* the source's own count: a checkpoint with nothing to commit, or
         * whose commit fails (maybe later, asynchronously), is not one */
        m->commits = st.commits;
        m->commit_errors = st.commit_errors;
        /* room for every partition assigned now, and a few more in case a
         * rebalance added some since (missing ones are hidden as revoked
         * until the next publish) */
        int cap = (st.assigned > 0 ? st.assigned : 0) + 16;
        if ((lags = sl_malloc((size_t)cap * sizeof *lags)) != NULL)
            nlags = sl_kafka_source_lags(r->src.h, lags, cap);
    }
    if (r->sink.p == &sl_plugin_sink_kafka && r->sink.h) {
        sl_kafka_sink_stats st;
        sl_kafka_sink_stats_get(r->sink.h, &st);
        m->backpressure = st.queue_full;
    }
    sl_stream_metrics_publish(m, r->def->name, lags, nlags);
    sl_free(lags);
}

/* Publish; with --metrics-file, also the whole registry into the file
 * (atomically: a scraper never sees half a file). */
static sl_rc write_metrics(srun *r, sl_err *err)
{
    refresh(r);
    if (!r->o.metrics_file)
        return SL_OK;
    char *text = NULL;
    size_t len = 0;
    sl_rc rc = sl_prom_render(&text, &len, err);
    if (rc == SL_OK)
        rc = sl_write_file_atomic(r->o.metrics_file, text, len, err);
    sl_free(text);
    return rc;
}

/* Steps 2 and 3 of the commit protocol; with exactly-once, one
 * transaction commit (or an abort and a rewind, kafka.h). */
static sl_rc checkpoint(srun *r, sl_err *err)
{
    double t = sl_now();
    sl_rc rc = SL_OK;
    int aborted = 0;
    if (r->eos) {
        rc = sl_kafka_txn_checkpoint(is_kafka_source(r) ? r->src.h : NULL, r->sink.h, &aborted,
                                     err);
        r->m->aborts += aborted;
        if (aborted) {
            /* the rewound records are read (and counted) again */
            r->m->records_in -= r->txn_in;
            r->m->records_out -= r->txn_out;
        }
        if (rc == SL_OK)
            r->txn_in = r->txn_out = 0;
    } else {
        if (r->sink.p->checkpoint)
            rc = r->sink.p->checkpoint(r->sink.h, err);
        if (rc == SL_OK && r->src.p->checkpoint)
            rc = r->src.p->checkpoint(r->src.h, err);
    }
    r->m->last_commit_seconds = sl_now() - t;
    r->m->commit_seconds += r->m->last_commit_seconds;
    if (rc == SL_OK && !is_kafka_source(r))
        r->m->commits++; /* a Kafka source counts its own (refresh) */
    return rc;
}

/* File sinks: <path> when it names a file, else <path>/data.<ext>. */
static sl_rc plan_sink(srun *r, sl_err *err)
{
    const sl_node *pn = r->def->sink.node ? sl_node_get(r->def->sink.node, "path") : NULL;
    if (!pn || pn->kind != SL_NODE_SCALAR)
        return SL_OK; /* a sink without a path (kafka) */
    if (sl_format_for_path(pn->value)) {
        snprintf(r->sink_path, sizeof r->sink_path, "%s", pn->value);
        return SL_OK;
    }
    sl_rc rc = sl_mkdirs(pn->value, err);
    if (rc == SL_OK)
        snprintf(r->sink_path, sizeof r->sink_path, "%s/data.%s", pn->value,
                 r->def->sink.plugin->name);
    return rc;
}

static sl_rc setup_transforms(srun *r, sl_err *err)
{
    const sl_pipeline_def *def = r->def;
    sl_rc rc;
    if (r->o.transform_path) {
        if ((rc = sl_transform_file_load(r->o.transform_path, &r->tf, err)) != SL_OK)
            return rc;
        r->use_tf = 1;
        r->t = r->tf.t;
        r->nt = r->tf.n;
        if (def->ntransforms > 0 && def->ntransforms != r->tf.n)
            sl_log(SL_LOG_WARN, "stream", "the spec lists %d transforms, %s has %d: running "
                   "the transform file's", def->ntransforms, r->o.transform_path, r->tf.n);
        return SL_OK;
    }
    for (int i = 0; i < def->ntransforms; i++)
        if (def->transforms[i].plugin->analyze)
            return sl_err_set(err, SL_ECONFIG,
                              "transform '%s' needs state fitted on training data: run the "
                              "pipeline in batch mode first and pass its transform.json "
                              "with --transform", def->transforms[i].plugin->name);
    r->own = sl_calloc((size_t)(def->ntransforms ? def->ntransforms : 1), sizeof *r->own);
    if (!r->own)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    sl_ctx ctx = {.spec_file = def->spec_file, .quiet = r->o.quiet};
    for (; r->nown < def->ntransforms; r->nown++) {
        const sl_step_def *s = &def->transforms[r->nown];
        if ((rc = sl_inst_init(&r->own[r->nown], s->plugin, s->config, s->node, &ctx, err)) !=
            SL_OK) {
            r->nown++;
            return rc;
        }
    }
    r->t = r->own;
    r->nt = r->nown;
    return SL_OK;
}

/* Streaming inference: the registered version's scorer, the same one
 * `sluice predict` and `sluice serve` use (no training/serving skew). */
static sl_rc open_scorer(srun *r, sl_err *err)
{
    if (!r->o.model)
        return SL_OK;
    sl_model_ref ref;
    sl_rc rc = sl_model_ref_resolve(r->o.model, r->o.model_version, &ref, err);
    if (rc != SL_OK)
        return rc;
    sl_scorer_options so = {.keep = SL_SCORER_KEEP_TRANSFORMED};
    if ((rc = sl_scorer_open(ref.dir, &so, &r->sc, err)) != SL_OK)
        return rc;
    if (!r->o.quiet)
        sl_log(SL_LOG_INFO, "stream", "%s: scoring with %s", r->def->name ? r->def->name :
               "stream", ref.dir);
    return SL_OK;
}

/* Backpressure: the sink's queue is full; stop fetching, stay in the
 * group. step() resumes once the write returns. */
static void sink_waits(void *arg)
{
    srun *r = arg;
    if (is_kafka_source(r))
        sl_kafka_source_pause(r->src.h);
}

static sl_rc open_all(srun *r, sl_err *err)
{
    const sl_pipeline_def *def = r->def;
    sl_rc rc;
    if (!def->sink.plugin)
        return sl_err_set(err, SL_ECONFIG, "a stream needs a `sink:` (e.g. {type: kafka, "
                          "topic: ...})");
    if (r->o.model && r->o.transform_path)
        return sl_err_set(err, SL_ECONFIG, "--transform %s and a model (%s): the model's "
                          "version applies its own saved transforms; drop --transform",
                          r->o.transform_path, r->o.model);
    if ((rc = setup_transforms(r, err)) != SL_OK || (rc = open_scorer(r, err)) != SL_OK)
        return rc;
    if (def->schema_path) {
        if ((rc = sl_schema_load_json(def->schema_path, &r->hint, err)) != SL_OK)
            return rc;
    } else if (r->use_tf && !(r->hint = sl_schema_copy(r->tf.in))) {
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    } else if (r->sc && r->nt == 0 && (rc = sl_scorer_source_hint(r->sc, &r->hint, err)) != SL_OK) {
        /* raw records straight into the scorer: read them exactly as the
         * training data was read */
        return rc;
    }
    int64_t budget = (r->o.max_memory_mb > 0 ? r->o.max_memory_mb : DEFAULT_MAX_MEMORY_MB) << 20;
    sl_ctx sctx = {.spec_file = def->spec_file, .schema_hint = r->hint,
                   .rejects_path = r->o.rejects_path, .quiet = r->o.quiet,
                   .memory_budget = budget};
    if ((rc = sl_inst_init(&r->src, def->source.plugin, def->source.config, def->source.node,
                           &sctx, err)) != SL_OK ||
        (rc = sl_inst_open(&r->src, NULL, err)) != SL_OK)
        return rc;
    const sl_schema *cur = r->src.out;
    for (int i = 0; i < r->nt; i++) {
        if ((rc = sl_inst_open(&r->t[i], cur, err)) != SL_OK)
            return rc;
        cur = r->t[i].out;
    }
    if (r->sc) {
        if ((rc = sl_scorer_output_schema(r->sc, cur, &r->scored, err)) != SL_OK)
            return rc;
        cur = r->scored;
    }
    if ((rc = plan_sink(r, err)) != SL_OK)
        return rc;
    sl_ctx kctx = {.spec_file = def->spec_file, .quiet = r->o.quiet,
                   .sink_path = r->sink_path[0] ? r->sink_path : NULL,
                   .on_wait = sink_waits, .wait_arg = r, .memory_budget = budget};
    if ((rc = sl_inst_init(&r->sink, def->sink.plugin, def->sink.config, def->sink.node, &kctx,
                           err)) != SL_OK ||
        (rc = sl_inst_open(&r->sink, cur, err)) != SL_OK)
        return rc;
    r->eos = r->sink.p == &sl_plugin_sink_kafka && sl_kafka_sink_transactional(r->sink.h);
    return SL_OK;
}

/* The chain, then the scorer: consumes *b, leaves the result (or NULL). */
static sl_rc process(srun *r, sl_batch **b, sl_err *err)
{
    sl_rc rc = sl_chain_apply(r->t, r->nt, b, err);
    if (rc == SL_OK && r->sc && (*b)->nrows > 0) {
        sl_batch *in = *b;
        *b = NULL;
        rc = sl_scorer_apply(r->sc, in, b, err);
    }
    return rc;
}

static sl_rc emit(srun *r, sl_batch *b, sl_err *err)
{
    if (b->nrows == 0)
        return SL_OK;
    r->m->records_out += b->nrows;
    r->txn_out += b->nrows;
    return r->sink.p->write(r->sink.h, b, err);
}

/* Errors that blame the records rather than the run. */
static int record_error(sl_rc rc)
{
    return rc == SL_EPARSE || rc == SL_ESCHEMA || rc == SL_EINVAL || rc == SL_ELIMIT;
}

/* Rows [lo, hi) of in as a batch of their own. */
static sl_rc slice(const sl_batch *in, int64_t lo, int64_t hi, sl_batch **out, sl_err *err)
{
    sl_batch *b = sl_batch_new(in->schema, hi - lo);
    sl_rc rc = b ? SL_OK : SL_ENOMEM;
    for (int j = 0; b && j < in->schema->n && rc == SL_OK; j++)
        for (int64_t i = lo; i < hi && rc == SL_OK; i++)
            rc = sl_column_append_from(b->cols[j], in->cols[j], i);
    if (rc == SL_OK)
        rc = sl_batch_seal(b, err);
    if (rc != SL_OK) {
        sl_batch_unref(b);
        return rc == SL_ENOMEM ? sl_err_set(err, SL_ENOMEM, "out of memory") : rc;
    }
    *out = b;
    return SL_OK;
}

/* A batch the chain or the model rejected: find the records to blame by
 * halving it (good halves are written whole, in order), and hand each one
 * to the source's dead-letter destination with the reason. One bad record
 * in n costs O(log n) chain runs; what is left is written as before. */
static sl_rc bisect(srun *r, const sl_batch *in, int64_t lo, int64_t hi, sl_err *err)
{
    sl_batch *b = NULL;
    sl_err why;
    sl_err_clear(&why);
    sl_rc rc = slice(in, lo, hi, &b, err);
    if (rc != SL_OK)
        return rc;
    rc = process(r, &b, &why);
    if (rc == SL_OK) {
        rc = emit(r, b, err);
    } else if (!record_error(rc)) {
        *err = why;
    } else if (hi - lo > 1) {
        int64_t mid = lo + (hi - lo) / 2;
        if ((rc = bisect(r, in, lo, mid, err)) == SL_OK)
            rc = bisect(r, in, mid, hi, err);
    } else {
        char reason[SL_ERR_MSG_MAX + SL_ERR_FIELD_MAX + 16];
        if (why.field[0] && !strstr(why.msg, why.field))
            snprintf(reason, sizeof reason, "column '%s': %s", why.field, why.msg);
        else
            snprintf(reason, sizeof reason, "%s", why.msg);
        /* a dead letter is not a record in */
        r->m->records_in--;
        r->txn_in--;
        rc = sl_kafka_source_reject_row(r->src.h, lo, reason, err);
    }
    sl_batch_unref(b);
    return rc;
}

/* One batch: source -> transforms (-> model) -> sink. *eof at the end of a
 * finite source. */
static sl_rc step(srun *r, int *eof, sl_err *err)
{
    sl_batch *b = NULL, *in = NULL;
    sl_rc rc = r->src.p->next(r->src.h, &b, err);
    if (rc == SL_EEOF) {
        *eof = 1;
        return SL_OK;
    }
    if (rc != SL_OK)
        return rc;
    r->m->batches++;
    r->m->records_in += b->nrows;
    r->txn_in += b->nrows;
    if (b->nrows > 0) {
        /* a Kafka source can take records back as dead letters: keep the
         * input for that (the transforms then copy what they change,
         * sharing the columns they do not) */
        if (is_kafka_source(r))
            in = sl_batch_ref(b);
        rc = process(r, &b, err);
        if (rc == SL_OK)
            rc = emit(r, b, err);
        else if (in && record_error(rc))
            rc = bisect(r, in, 0, in->nrows, err);
        if (is_kafka_source(r))
            sl_kafka_source_resume(r->src.h);
    }
    sl_batch_unref(in);
    sl_batch_unref(b);
    return rc;
}

static void log_progress(srun *r)
{
    refresh(r);
    sl_stream_metrics *m = r->m;
    char lag[32] = "unknown";
    if (m->lag >= 0)
        snprintf(lag, sizeof lag, "%" PRId64, m->lag);
    sl_log(SL_LOG_INFO, "stream",
           "%s: %" PRId64 " in, %" PRId64 " out, %" PRId64 " dead letters, %" PRId64
           " commits, lag %s",
           r->def->name ? r->def->name : "stream", m->records_in, m->records_out,
           m->records_dlq, m->commits, lag);
}

static sl_rc loop(srun *r, sl_err *err)
{
    sl_stream_metrics *m = r->m;
    double next_commit = sl_now() + r->o.commit_ms / 1000.0;
    int64_t since = 0;
    sl_rc rc = SL_OK;
    int can_ack = r->sink.p->checkpoint != NULL;
    for (;;) {
        double now = sl_now();
        if (sl_stream_stop_requested()) {
            m->stopped_by = 1;
            break;
        }
        if (r->o.max_records > 0 && m->records_in + m->records_dlq >= r->o.max_records) {
            m->stopped_by = 2;
            break;
        }
        if (r->o.max_seconds > 0 && now - r->t0 >= r->o.max_seconds) {
            m->stopped_by = 3;
            break;
        }
        int eof = 0;
        if ((rc = step(r, &eof, err)) != SL_OK)
            return rc;
        if (eof) {
            m->stopped_by = 4;
            break;
        }
        if (r->src.p->rejected)
            m->records_dlq = r->src.p->rejected(r->src.h);
        since++;
        now = sl_now();
        /* rows of revoked partitions may be in the open transaction:
         * abort it before the next batch joins them */
        int revoked = r->eos && is_kafka_source(r) && sl_kafka_source_revoked(r->src.h);
        if (can_ack && (revoked || now >= next_commit ||
                        (r->o.commit_batches > 0 && since >= r->o.commit_batches))) {
            if ((rc = checkpoint(r, err)) != SL_OK)
                return rc;
            next_commit = sl_now() + r->o.commit_ms / 1000.0;
            since = 0;
        }
        if (now >= r->next_metrics) {
            if ((rc = write_metrics(r, err)) != SL_OK)
                return rc;
            r->next_metrics = now + r->o.metrics_ms / 1000.0;
        }
        if (!r->o.quiet && now >= r->next_log) {
            log_progress(r);
            r->next_log = now + LOG_EVERY_S;
        }
    }
    return SL_OK;
}

/* Graceful end: final checkpoint, sink close (commits files), and for
 * sinks that are durable only once closed, the one source commit. */
static sl_rc finish(srun *r, sl_err *err)
{
    sl_rc rc = SL_OK;
    /* its last commit is bounded, and an error when it fails (kafka.h) */
    if (is_kafka_source(r))
        sl_kafka_source_finishing(r->src.h);
    if (r->sink.p->checkpoint)
        rc = checkpoint(r, err);
    else if (r->sink.p->flush)
        rc = r->sink.p->flush(r->sink.h, err);
    if (rc == SL_OK)
        rc = sl_inst_close(&r->sink, err);
    if (rc == SL_OK && !r->sink.p->checkpoint && r->src.p->checkpoint) {
        rc = r->src.p->checkpoint(r->src.h, err);
        if (rc == SL_OK && !is_kafka_source(r))
            r->m->commits++;
    }
    return rc;
}

sl_rc sl_stream_run(const sl_pipeline_def *def, const sl_stream_options *opts,
                    sl_stream_metrics *metrics, sl_err *err)
{
    srun r;
    sl_rc rc;
    memset(&r, 0, sizeof r);
    memset(metrics, 0, sizeof *metrics);
    metrics->lag = -1;
    r.def = def;
    r.m = metrics;
    if (opts)
        r.o = *opts;
    if (r.o.commit_ms <= 0)
        r.o.commit_ms = DEFAULT_COMMIT_MS;
    /* with an endpoint, publish every second: a scrape sees fresh numbers
     * and each checkpoint gets its own latency observation */
    if (r.o.metrics_ms <= 0)
        r.o.metrics_ms = r.o.metrics_port ? 1000 : DEFAULT_METRICS_MS;
    if (!r.o.rejects_path)
        r.o.rejects_path = "rejects.jsonl";
    r.t0 = sl_now();
    r.next_metrics = r.t0;
    r.next_log = r.t0 + LOG_EVERY_S;
    sl_metrics_http *http = NULL;
    int published = (rc = sl_stream_metrics_begin(def->name, err)) == SL_OK;
    if (rc == SL_OK && r.o.metrics_port &&
        (rc = sl_metrics_http_start(r.o.metrics_addr, r.o.metrics_port < 0 ? 0 : r.o.metrics_port,
                                    "--metrics-addr", &http, err)) == SL_OK) {
        const char *host = r.o.metrics_addr ? r.o.metrics_addr : "127.0.0.1";
        int v6 = strchr(host, ':') != NULL;
        sl_log(SL_LOG_INFO, "stream", "%s: metrics on http://%s%s%s:%d/metrics",
               def->name ? def->name : "stream", v6 ? "[" : "", host, v6 ? "]" : "",
               sl_metrics_http_port(http));
    }
    if (rc == SL_OK && (rc = open_all(&r, err)) == SL_OK) {
        sl_metrics_http_set_ready(http, 1); /* the source is open */
        sl_log(SL_LOG_INFO, "stream", "%s: running (%s -> %d transforms -> %s), commit every "
               "%lld ms", def->name ? def->name : "stream", def->source.plugin->name, r.nt,
               def->sink.plugin->name, (long long)r.o.commit_ms);
        if ((rc = loop(&r, err)) == SL_OK)
            rc = finish(&r, err);
    }
    /* the final numbers: into *metrics, the registry and the file */
    if (rc == SL_OK) {
        rc = write_metrics(&r, err);
        if (!r.o.quiet)
            log_progress(&r);
    } else {
        sl_err ignored;
        write_metrics(&r, &ignored);
    }
    sl_metrics_http_stop(http);
    if (published)
        sl_stream_metrics_end(def->name);
    /* On failure the sink is destroyed unclosed (a file sink discards its
     * temporary file; the Kafka sink drops what is unacknowledged) and the
     * source leaves its group without committing. */
    sl_err ignored;
    sl_err_clear(&ignored);
    sl_inst_close(&r.src, &ignored);
    sl_inst_destroy(&r.src);
    sl_inst_destroy(&r.sink);
    for (int i = 0; i < r.nown; i++) {
        sl_inst_close(&r.own[i], &ignored);
        sl_inst_destroy(&r.own[i]);
    }
    sl_free(r.own);
    if (r.use_tf)
        sl_transform_file_free(&r.tf);
    sl_schema_free(r.hint);
    sl_schema_free(r.scored);
    sl_scorer_close(r.sc);
    metrics->seconds = sl_now() - r.t0;
    return rc;
}
