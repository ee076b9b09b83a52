/*
 * stream_metrics.c: the streaming runner's numbers in the process-wide
 * Prometheus registry (prom.h), where `--metrics-port` serves them on
 * /metrics and `--metrics-file` renders them into a file.
 *
 * The runner keeps plain totals (sl_stream_metrics) and calls
 * sl_stream_metrics_publish() every metrics interval. The registry's
 * counter API only adds, so each published run keeps the highest totals
 * it published and adds the difference: counters never go down, however
 * often or rarely the runner publishes (a total that drops, as
 * exactly-once does when it aborts and replays a transaction, is counted
 * again only past its previous high). A run starts its series at zero
 * (sl_stream_metrics_begin), which Prometheus reads as a counter reset, as
 * for a restarted process, and hides them when it ends.
 *
 * Per-run state lives here, keyed by the pipeline name (the `pipeline`
 * label): the runner's functions only see their run, and the series are
 * per pipeline anyway. Invariants: at most one run per pipeline name at a
 * time in a process (a second begin fails rather than mixing two runs'
 * counters), and only the thread that began a run publishes for it (the
 * runner is single-threaded), so a run that failed to begin cannot touch
 * the other one's series.
 *
 * Commit latency: the runner times every checkpoint (sink acknowledgement
 * + offset commit) into commit_seconds and last_commit_seconds. When one
 * commit happened since the last publish, its duration is observed
 * exactly; when k > 1 did, the last one is observed exactly and the k - 1
 * others at their mean (so _sum and _count stay exact; only the bucket of
 * those k - 1 is approximated). The runner publishes every second when the
 * endpoint is on, as often as it commits by default.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "sluice/kafka.h"
#include "sluice/mem.h"
#include "sluice/prom.h"
#include "sluice/stream.h"

/* Commit latency buckets (seconds): a checkpoint waits for the delivery
 * reports of everything written since the last one and for one commit
 * round trip: milliseconds on a healthy cluster, seconds when it is not. */
static const double commit_buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                        0.25,  0.5,    1.0,   2.5,  5.0,   10.0, 30.0};
#define NCOMMIT_BUCKETS ((int)(sizeof commit_buckets / sizeof commit_buckets[0]))

enum { C_IN, C_OUT, C_DLQ, C_BATCHES, C_COMMITS, C_COMMIT_ERRORS, C_COMMIT_SECONDS,
       C_BACKPRESSURE, C_ABORTS, NCOUNTERS };
enum { G_LAST_COMMIT, G_LAG, G_UPTIME, NGAUGES };

static const struct {
    const char *name, *help;
} counter_defs[NCOUNTERS] = {
    [C_IN] = {"sluice_stream_records_in_total", "Records the source decoded into batches."},
    [C_OUT] = {"sluice_stream_records_out_total", "Rows written to the sink."},
    [C_DLQ] = {"sluice_stream_records_dlq_total",
               "Records sent to the dead-letter destination (or skipped)."},
    [C_BATCHES] = {"sluice_stream_batches_total", "Batches read from the source."},
    [C_COMMITS] = {"sluice_stream_commits_total",
                   "Checkpoints: sink acknowledged, then source offsets committed."},
    [C_COMMIT_ERRORS] = {"sluice_stream_commit_errors_total",
                         "Offset commits the broker refused (retried at the next checkpoint)."},
    [C_COMMIT_SECONDS] = {"sluice_stream_commit_seconds_total", "Time spent in checkpoints."},
    [C_BACKPRESSURE] = {"sluice_stream_backpressure_total",
                        "Times the sink waited for room in the producer queue."},
    [C_ABORTS] = {"sluice_stream_transaction_aborts_total",
                  "Exactly-once: transactions aborted (their rows are produced again after "
                  "a rewind)."},
};

static const struct {
    const char *name, *help;
} gauge_defs[NGAUGES] = {
    [G_LAST_COMMIT] = {"sluice_stream_last_commit_seconds", "Duration of the last checkpoint."},
    [G_LAG] = {"sluice_stream_consumer_lag",
               "Records in the assigned partitions not read yet (-1: unknown)."},
    [G_UPTIME] = {"sluice_stream_uptime_seconds", "Seconds since the stream started."},
};

#define COMMIT_HIST "sluice_stream_commit_duration_seconds"
#define PARTITION_LAG "sluice_stream_partition_lag"

/* One (topic, partition) whose lag series this run published. */
typedef struct part {
    char topic[sizeof ((sl_kafka_partition_lag *)0)->topic];
    int32_t partition;
    int shown; /* the series is in the output (assigned at the last publish) */
    int seen;  /* in the current publish's list */
    sl_prom_series *s;
} part;

/* A run being published. */
typedef struct pub {
    char *pipeline;
    pthread_t owner;
    sl_prom_series *counter[NCOUNTERS], *gauge[NGAUGES], *commit_hist;
    sl_prom_family *lag_family;
    double last[NCOUNTERS]; /* the highest totals published so far */
    part *parts;
    size_t nparts, cap;
} pub;

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pub **g_pubs;
static size_t g_npubs, g_cap;

static const char *label_of(const char *pipeline)
{
    return pipeline ? pipeline : "";
}

/* Index of pipeline's run in g_pubs, or -1. Caller holds g_mu. */
static int find(const char *pipeline)
{
    for (size_t i = 0; i < g_npubs; i++)
        if (strcmp(g_pubs[i]->pipeline, pipeline) == 0)
            return (int)i;
    return -1;
}

/* The run of pipeline if the calling thread owns it, else NULL. */
static pub *owned(const char *pipeline)
{
    pthread_mutex_lock(&g_mu);
    int i = find(label_of(pipeline));
    pub *p = i >= 0 && pthread_equal(g_pubs[i]->owner, pthread_self()) ? g_pubs[i] : NULL;
    pthread_mutex_unlock(&g_mu);
    return p;
}

/* Looks the series up again after hiding it, so it is shown from zero. */
static sl_prom_series *fresh(sl_prom_family *f, const char *const *values)
{
    sl_prom_series_remove(sl_prom_series_get(f, values));
    return sl_prom_series_get(f, values);
}

static sl_rc register_all(pub *p, sl_err *err)
{
    static const char *const l_pipeline[] = {"pipeline", NULL};
    static const char *const l_part[] = {"pipeline", "topic", "partition", NULL};
    const char *const v[] = {p->pipeline};
    sl_prom_family *f;
    sl_rc rc = SL_OK;
    for (int i = 0; rc == SL_OK && i < NCOUNTERS; i++)
        if ((rc = sl_prom_register(SL_PROM_COUNTER, counter_defs[i].name, counter_defs[i].help,
                                   l_pipeline, NULL, 0, &f, err)) == SL_OK)
            p->counter[i] = fresh(f, v);
    for (int i = 0; rc == SL_OK && i < NGAUGES; i++)
        if ((rc = sl_prom_register(SL_PROM_GAUGE, gauge_defs[i].name, gauge_defs[i].help,
                                   l_pipeline, NULL, 0, &f, err)) == SL_OK)
            p->gauge[i] = fresh(f, v);
    if (rc == SL_OK &&
        (rc = sl_prom_register(SL_PROM_HISTOGRAM, COMMIT_HIST,
                               "Duration of checkpoints (sink acknowledged, offsets committed) "
                               "that succeeded.",
                               l_pipeline, commit_buckets, NCOMMIT_BUCKETS, &f, err)) == SL_OK)
        p->commit_hist = fresh(f, v);
    if (rc == SL_OK)
        rc = sl_prom_register(SL_PROM_GAUGE, PARTITION_LAG,
                              "Records not read yet, per assigned partition (-1: unknown).",
                              l_part, NULL, 0, &p->lag_family, err);
    if (rc == SL_OK)
        sl_prom_set(p->gauge[G_LAG], -1);
    return rc;
}

/* Hides every series of the run (it ends, or failed to begin). */
static void hide_all(pub *p)
{
    for (int i = 0; i < NCOUNTERS; i++)
        sl_prom_series_remove(p->counter[i]);
    for (int i = 0; i < NGAUGES; i++)
        sl_prom_series_remove(p->gauge[i]);
    sl_prom_series_remove(p->commit_hist);
    for (size_t i = 0; i < p->nparts; i++)
        sl_prom_series_remove(p->parts[i].s);
}

static void pub_free(pub *p)
{
    if (!p)
        return;
    sl_free(p->parts);
    sl_free(p->pipeline);
    sl_free(p);
}

sl_rc sl_stream_metrics_begin(const char *pipeline, sl_err *err)
{
    const char *name = label_of(pipeline);
    sl_rc rc = SL_OK;
    pub *p = NULL;
    pthread_mutex_lock(&g_mu);
    if (find(name) >= 0) {
        rc = sl_err_set(err, SL_ECONFIG,
                        "pipeline '%s' is already streaming in this process: its metrics "
                        "would mix with this run's (give the spec another `name:`)", name);
        goto out;
    }
    if (!(p = sl_calloc(1, sizeof *p)) || !(p->pipeline = sl_strdup(name)) ||
        sl_grow((void **)&g_pubs, &g_cap, g_npubs + 1, sizeof *g_pubs) != 0) {
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        goto out;
    }
    p->owner = pthread_self();
    if ((rc = register_all(p, err)) != SL_OK) {
        hide_all(p);
        goto out;
    }
    g_pubs[g_npubs++] = p;
    p = NULL;
out:
    pthread_mutex_unlock(&g_mu);
    pub_free(p);
    return rc;
}

void sl_stream_metrics_end(const char *pipeline)
{
    pub *p = owned(pipeline);
    if (!p)
        return;
    pthread_mutex_lock(&g_mu);
    int i = find(p->pipeline);
    g_pubs[i] = g_pubs[--g_npubs];
    if (g_npubs == 0) {
        sl_free(g_pubs);
        g_pubs = NULL;
        g_cap = 0;
    }
    pthread_mutex_unlock(&g_mu);
    hide_all(p);
    pub_free(p);
}

/* The commits since the last publish into the latency histogram (see the
 * top of the file). Untimed commits (a file sink's single commit after
 * close) add no time and are not observed. */
static void observe_commits(pub *p, const sl_stream_metrics *m)
{
    double k = (double)m->commits - p->last[C_COMMITS];
    double secs = m->commit_seconds - p->last[C_COMMIT_SECONDS];
    if (!(k >= 1) || !(secs > 0))
        return;
    sl_prom_observe(p->commit_hist, m->last_commit_seconds);
    double rest = k > 1 ? (secs - m->last_commit_seconds) / (k - 1) : 0;
    for (double i = 1; i < k; i++)
        sl_prom_observe(p->commit_hist, rest > 0 ? rest : 0);
}

/* The lag of each partition in lags; partitions published before but not
 * assigned any more are removed from the output (a revoked partition's
 * last lag would otherwise stay on forever) and come back from their new
 * value if they are assigned again. */
static void publish_lags(pub *p, const sl_kafka_partition_lag *lags, int nlags)
{
    for (size_t i = 0; i < p->nparts; i++)
        p->parts[i].seen = 0;
    for (int k = 0; k < nlags; k++) {
        const sl_kafka_partition_lag *l = &lags[k];
        part *e = NULL;
        for (size_t i = 0; i < p->nparts && !e; i++)
            if (p->parts[i].partition == l->partition && !strcmp(p->parts[i].topic, l->topic))
                e = &p->parts[i];
        if (!e) {
            if (sl_grow((void **)&p->parts, &p->cap, p->nparts + 1, sizeof *p->parts) != 0)
                continue; /* out of memory: this partition is not shown */
            e = &p->parts[p->nparts++];
            memset(e, 0, sizeof *e);
            snprintf(e->topic, sizeof e->topic, "%s", l->topic);
            e->partition = l->partition;
        }
        if (!e->shown) {
            char num[16];
            snprintf(num, sizeof num, "%d", (int)l->partition);
            e->s = sl_prom_with(p->lag_family, p->pipeline, e->topic, num);
            e->shown = 1;
        }
        e->seen = 1;
        sl_prom_set(e->s, (double)l->lag);
    }
    for (size_t i = 0; i < p->nparts; i++)
        if (p->parts[i].shown && !p->parts[i].seen) {
            sl_prom_series_remove(p->parts[i].s);
            p->parts[i].shown = 0;
        }
}

void sl_stream_metrics_publish(const sl_stream_metrics *m, const char *pipeline,
                               const struct sl_kafka_partition_lag *lags, int nlags)
{
    pub *p = owned(pipeline);
    if (!p)
        return;
    const double now[NCOUNTERS] = {
        [C_IN] = (double)m->records_in,         [C_OUT] = (double)m->records_out,
        [C_DLQ] = (double)m->records_dlq,       [C_BATCHES] = (double)m->batches,
        [C_COMMITS] = (double)m->commits,       [C_COMMIT_ERRORS] = (double)m->commit_errors,
        [C_COMMIT_SECONDS] = m->commit_seconds, [C_BACKPRESSURE] = (double)m->backpressure,
        [C_ABORTS] = (double)m->aborts,
    };
    observe_commits(p, m);
    /* A total that went down (exactly-once takes back the records of an
     * aborted transaction, which are then read again) is not counted again
     * when it climbs back: last keeps the highest total published. */
    for (int i = 0; i < NCOUNTERS; i++)
        if (now[i] > p->last[i]) {
            sl_prom_add(p->counter[i], now[i] - p->last[i]);
            p->last[i] = now[i];
        }
    sl_prom_set(p->gauge[G_LAST_COMMIT], m->last_commit_seconds);
    sl_prom_set(p->gauge[G_LAG], (double)m->lag);
    sl_prom_set(p->gauge[G_UPTIME], m->seconds);
    if (nlags >= 0)
        publish_lags(p, lags, nlags);
}
