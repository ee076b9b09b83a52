/*
 * stream_metrics.c: the streaming runner's counters in the Prometheus text
 * exposition format (version 0.0.4), for --metrics-file. The serving
 * module will expose the same text on /metrics; until then the runner
 * rewrites the file atomically every few seconds, so a scraper (or
 * node_exporter's textfile collector) never sees half a file.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sluice/stream.h"

/* Appends to buf at *at (never past n; *at keeps counting like snprintf). */
static void put(char *buf, size_t n, size_t *at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void put(char *buf, size_t n, size_t *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(*at < n ? buf + *at : NULL, *at < n ? n - *at : 0, fmt, ap);
    va_end(ap);
    if (k > 0)
        *at += (size_t)k;
}

/* A label value with \, " and newlines escaped (Prometheus rules). */
static void label(char *dst, size_t cap, const char *s)
{
    size_t k = 0;
    for (; s && *s && k + 3 < cap; s++) {
        if (*s == '\\' || *s == '"') {
            dst[k++] = '\\';
            dst[k++] = *s;
        } else if (*s == '\n') {
            dst[k++] = '\\';
            dst[k++] = 'n';
        } else {
            dst[k++] = *s;
        }
    }
    dst[k] = '\0';
}

int sl_stream_metrics_text(const sl_stream_metrics *m, const char *pipeline,
                           char *buf, size_t n)
{
    char pl[256];
    size_t at = 0;
    label(pl, sizeof pl, pipeline ? pipeline : "");
    if (n > 0)
        buf[0] = '\0';
    struct {
        const char *name, *type, *help;
        int is_int;
        int64_t i;
        double d;
    } rows[] = {
        {"sluice_stream_records_in_total", "counter", "Records the source decoded into batches.",
         1, m->records_in, 0},
        {"sluice_stream_records_out_total", "counter", "Rows written to the sink.", 1,
         m->records_out, 0},
        {"sluice_stream_records_dlq_total", "counter",
         "Records sent to the dead-letter destination (or skipped).", 1, m->records_dlq, 0},
        {"sluice_stream_batches_total", "counter", "Batches read from the source.", 1,
         m->batches, 0},
        {"sluice_stream_commits_total", "counter",
         "Checkpoints: sink acknowledged, then source offsets committed.", 1, m->commits, 0},
        {"sluice_stream_commit_errors_total", "counter",
         "Offset commits the broker refused (retried at the next checkpoint).", 1,
         m->commit_errors, 0},
        {"sluice_stream_commit_seconds_total", "counter", "Time spent in checkpoints.", 0, 0,
         m->commit_seconds},
        {"sluice_stream_last_commit_seconds", "gauge", "Duration of the last checkpoint.", 0, 0,
         m->last_commit_seconds},
        {"sluice_stream_backpressure_total", "counter",
         "Times the sink waited for room in the producer queue.", 1, m->backpressure, 0},
        {"sluice_stream_consumer_lag", "gauge",
         "Records in the assigned partitions not read yet (-1: unknown).", 1, m->lag, 0},
        {"sluice_stream_uptime_seconds", "gauge", "Seconds since the stream started.", 0, 0,
         m->seconds},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        put(buf, n, &at, "# HELP %s %s\n# TYPE %s %s\n", rows[i].name, rows[i].help,
            rows[i].name, rows[i].type);
        if (rows[i].is_int)
            put(buf, n, &at, "%s{pipeline=\"%s\"} %" PRId64 "\n", rows[i].name, pl, rows[i].i);
        else
            put(buf, n, &at, "%s{pipeline=\"%s\"} %.6f\n", rows[i].name, pl, rows[i].d);
    }
    return (int)at;
}
