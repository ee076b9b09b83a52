/*
 * stream_cmd.c: the streaming commands (stream_cmd.h). SIGINT/SIGTERM ask
 * the stream (or the dev broker) to stop gracefully through
 * sl_stream_request_stop(); a second signal exits at once (status 130),
 * without the final commit, which at-least-once delivery tolerates.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/stream_cmd.h"
#include "sluice/mem.h"
#include "sluice/pipeline.h"
#include "sluice/spec.h"
#include "sluice/stream.h"
#include "sluice/train.h"

const char sl_cli_stream_usage[] =
    "  run SPEC --stream             run a spec continuously (Kafka in, Kafka out)\n"
    "  broker --dev [TOPIC...]       embedded Kafka-protocol broker for local work\n"
    "\n"
    "streaming options:\n"
    "  --transform PATH              fitted transform.json from a batch run\n"
    "  --model DIR                   score each record with a registered model\n"
    "                                (models/ml_models/NAME; default: the spec's\n"
    "                                'model: PATH'); --version N picks a version\n"
    "  --max-memory MB               memory budget of the run's buffers (default 256)\n"
    "  --max-records N               stop after N records (finishing the batch)\n"
    "  --max-seconds S               stop after S seconds\n"
    "  --commit-ms N                 offset commit interval (default 1000)\n"
    "  --metrics-port N              serve /metrics, /healthz, /readyz on port N (0: any)\n"
    "  --metrics-addr HOST           address of that endpoint (default 127.0.0.1)\n"
    "  --metrics-file PATH           rewrite Prometheus metrics there (atomically)\n"
    "  --metrics-ms N                publish metrics every N ms (default 1000 with\n"
    "                                --metrics-port, else 5000)\n"
    "  --port N                      broker: also accept on 127.0.0.1:N\n"
    "  --partitions N                broker: partitions of the named topics (4)\n"
    "  --bootstrap-file PATH         broker: write the bootstrap address there\n";

static int usage(const char *fmt, const char *arg)
{
    sl_cli_usage(fmt, arg);
    return -1;
}

static int parse_int(const char *opt, const char *v, int64_t lo, int64_t hi, int64_t *out)
{
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || end == v || *end || x < lo || x > hi) {
        char msg[256];
        snprintf(msg, sizeof msg, "%s: expected an integer from %lld to %lld, got '%.80s'", opt,
                 (long long)lo, (long long)hi, v);
        return usage("%s", msg);
    }
    *out = x;
    return 1;
}

int sl_cli_stream_option(sl_stream_cli *s, int argc, char **argv, int *i)
{
    const char *o = argv[*i];
    static const char *const with_value[] = {"--port", "--partitions", "--bootstrap-file",
                                             "--max-records", "--max-seconds", "--commit-ms",
                                             "--metrics-file", "--metrics-ms",
                                             "--metrics-port", "--metrics-addr",
                                             "--max-memory", NULL};
    if (!strcmp(o, "--stream")) {
        s->stream = 1;
        return 1;
    }
    if (!strcmp(o, "--dev")) {
        s->dev = 1;
        return 1;
    }
    int takes = 0;
    for (int k = 0; with_value[k]; k++)
        takes |= !strcmp(o, with_value[k]);
    if (!takes)
        return 0;
    if (*i + 1 >= argc)
        return usage("option %s needs a value", o);
    const char *v = argv[++*i];
    int64_t x = 0;
    int r = 1;
    if (!strcmp(o, "--port")) {
        if ((r = parse_int(o, v, 1, 65535, &x)) == 1)
            s->port = (int)x;
    } else if (!strcmp(o, "--partitions")) {
        if ((r = parse_int(o, v, 1, 10000, &x)) == 1)
            s->partitions = (int)x;
    } else if (!strcmp(o, "--max-records")) {
        if ((r = parse_int(o, v, 1, INT64_MAX, &x)) == 1)
            s->max_records = x;
    } else if (!strcmp(o, "--commit-ms")) {
        if ((r = parse_int(o, v, 1, 3600000, &x)) == 1)
            s->commit_ms = x;
    } else if (!strcmp(o, "--max-seconds")) {
        char *end;
        double d = strtod(v, &end);
        if (end == v || *end || !(d > 0) || d > 1e9)
            return usage("--max-seconds: expected a positive number of seconds, got '%s'", v);
        s->max_seconds = d;
    } else if (!strcmp(o, "--metrics-ms")) {
        if ((r = parse_int(o, v, 100, 3600000, &x)) == 1)
            s->metrics_ms = x;
    } else if (!strcmp(o, "--metrics-port")) {
        if ((r = parse_int(o, v, 0, 65535, &x)) == 1)
            s->metrics_port = x ? (int)x : -1;
    } else if (!strcmp(o, "--max-memory")) {
        if ((r = parse_int(o, v, 16, 1 << 20, &x)) == 1)
            s->max_memory_mb = x;
    } else if (!strcmp(o, "--metrics-addr")) {
        s->metrics_addr = v;
    } else if (!strcmp(o, "--bootstrap-file")) {
        s->bootstrap_file = v;
    } else {
        s->metrics_file = v;
    }
    return r;
}

/* ---- signals ---- */

static void on_signal(int sig)
{
    (void)sig;
    if (sl_stream_stop_requested())
        _exit(130); /* second signal: stop now */
    sl_stream_request_stop();
}

static void install_handlers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* ---- run --stream ---- */

static const char *stop_reason(int by)
{
    static const char *const why[] = {"error", "stop requested", "max records", "max seconds",
                                      "end of input"};
    return by >= 0 && by <= 4 ? why[by] : "?";
}

int sl_cli_stream(const sl_cli_args *a, const sl_stream_cli *s)
{
    if (a->npos != 2)
        return sl_cli_usage("run --stream: expected one spec file, e.g. 'sluice run %s --stream'",
                            "pipeline.yaml");
    if (s->metrics_addr && !s->metrics_port)
        return sl_cli_usage("--metrics-addr %s: also give the port, e.g. --metrics-port 9464",
                            s->metrics_addr);
    sl_err err;
    sl_err_clear(&err);
    sl_spec *spec = NULL;
    sl_pipeline_def def;
    memset(&def, 0, sizeof def);
    sl_rc rc = sl_spec_load(a->pos[1], &spec, &err);
    if (rc == SL_OK)
        rc = sl_pipeline_def_from_spec(spec, &def, &err);
    if (rc != SL_OK)
        goto out;
    if (spec->has_split)
        fprintf(stderr, "sluice: warning: %s: `split` is ignored by --stream (every record "
                        "goes to the sink)\n", spec->file);
    if (spec->model_spec)
        fprintf(stderr, "sluice: warning: %s: --stream does not train: the spec's model, "
                        "evaluate and registry sections are ignored%s\n", spec->file,
                a->model ? "" : " (score with a registered model: --model DIR)");
    const char *model = a->model ? a->model : spec->model_ref;
    if (a->version > 0 && !model) {
        rc = sl_err_set(&err, SL_ECONFIG, "--version %d: no model to take it from; give "
                        "--model models/ml_models/NAME", a->version);
        goto out;
    }
    sl_stream_options o = {.transform_path = a->transform,
                           .model = model,
                           .model_version = a->version,
                           .max_memory_mb = s->max_memory_mb,
                           .max_records = s->max_records,
                           .max_seconds = s->max_seconds,
                           .commit_ms = s->commit_ms,
                           .metrics_file = s->metrics_file,
                           .metrics_ms = s->metrics_ms,
                           .metrics_port = s->metrics_port,
                           .metrics_addr = s->metrics_addr,
                           .rejects_path = a->rejects,
                           .quiet = a->quiet};
    sl_stream_metrics m;
    install_handlers();
    rc = sl_stream_run(&def, &o, &m, &err);
    if (rc == SL_OK && !a->quiet) {
        printf("%s: %" PRId64 " records in, %" PRId64 " out, %" PRId64 " dead letters, %" PRId64
               " commits [%s, %.2f s]\n",
               spec->name, m.records_in, m.records_out, m.records_dlq, m.commits,
               stop_reason(m.stopped_by), m.seconds);
        fflush(stdout);
    }
out:
    sl_pipeline_def_clear(&def);
    sl_spec_free(spec);
    return rc == SL_OK ? 0 : sl_cli_fail(rc, &err);
}

/* ---- broker --dev ---- */

static int write_bootstrap(const char *path, const char *bs)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp-%d", path, (int)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f || fprintf(f, "%s\n", bs) < 0 || fclose(f) != 0 || rename(tmp, path) != 0) {
        fprintf(stderr, "sluice: error: cannot write %s: %s\n", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

int sl_cli_broker(const sl_cli_args *a, const sl_stream_cli *s)
{
    if (!s->dev)
        return sl_cli_usage("broker: only the embedded development broker exists: '%s'",
                            "sluice broker --dev");
    sl_err err;
    sl_err_clear(&err);
    sl_dev_broker *b = NULL;
    sl_rc rc = sl_dev_broker_start(s->port, s->partitions, (const char *const *)a->pos + 1,
                                   a->npos - 1, &b, &err);
    if (rc != SL_OK)
        return sl_cli_fail(rc, &err);
    const char *bs = sl_dev_broker_bootstrap(b);
    if (s->bootstrap_file && write_bootstrap(s->bootstrap_file, bs) != 0) {
        sl_dev_broker_stop(b);
        return 5;
    }
    install_handlers();
    printf("sluice dev broker: bootstrap %s (in memory; Ctrl-C stops it)\n", bs);
    fflush(stdout);
    while (!sl_stream_stop_requested())
        usleep(100 * 1000);
    sl_dev_broker_stop(b);
    if (s->bootstrap_file)
        unlink(s->bootstrap_file);
    return 0;
}
