/*
 * test_stream_metrics.c: the streaming runner's metrics in the Prometheus
 * registry (stream.h sl_stream_metrics_*) and the metrics endpoint
 * (metrics_http.h): counters that only go up whatever totals are
 * published, the commit latency histogram, per-partition lag series that
 * leave with their partition, label escaping, one run per pipeline name,
 * allocation failures; then GET /metrics, /healthz, /readyz on their own
 * and from a stream run with metrics_port against the dev broker, with
 * `promtool check metrics` on the text when promtool is installed.
 */
#include "kafka_test_util.h"

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>

#include "serving/http_common.h"
#include "sluice/kafka.h"
#include "sluice/metrics_http.h"
#include "sluice/pipeline.h"
#include "sluice/prom.h"
#include "sluice/spec.h"
#include "sluice/stream.h"
#include "sluice/train.h"

static int setup(void **state)
{
    (void)state;
    sl_log_setup(SL_LOG_ERROR, SL_LOG_TEXT);
    sl_plugins_init(); /* kafka included */
    return 0;
}

/* The registry's text, as GET /metrics renders it. */
static char *render(void)
{
    sl_strbuf b = {0};
    sl_err err;
    sl_err_clear(&err);
    assert_int_equal(sv_http_metrics_text(&b, &err), SL_OK);
    char *text = sl_sb_take(&b, NULL);
    assert_non_null(text);
    return text;
}

/* The registry's text has (or lacks, want == 0) this line. */
static void expect_line(int want, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void expect_line(int want, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    char *text = render();
    int has = strstr(text, line) != NULL;
    if (has != want)
        fail_msg("%s '%s' in:\n%s", want ? "missing" : "unexpected", line, text);
    sl_free(text);
}

/* The number after `prefix` in the registry's text (-1 if absent). */
static double value_of(const char *prefix)
{
    char *text = render();
    char *at = strstr(text, prefix);
    double v = at ? strtod(at + strlen(prefix), NULL) : -1;
    sl_free(text);
    return v;
}

/* A metrics snapshot as the runner keeps it. */
static sl_stream_metrics totals(int64_t in, int64_t out, int64_t dlq)
{
    sl_stream_metrics m;
    memset(&m, 0, sizeof m);
    m.records_in = in;
    m.records_out = out;
    m.records_dlq = dlq;
    m.lag = -1;
    return m;
}

static void *publish_elsewhere(void *arg)
{
    sl_stream_metrics m = totals(1000, 1000, 1000);
    sl_stream_metrics_publish(&m, arg, NULL, -1);
    return NULL;
}

static void test_counters(void **state)
{
    (void)state;
    sl_err err;
    sl_err_clear(&err);
    assert_int_equal(sl_stream_metrics_begin("orders", &err), SL_OK);
    /* every series is there from the start, the lag unknown */
    expect_line(1, "# TYPE sluice_stream_records_in_total counter\n"
                   "sluice_stream_records_in_total{pipeline=\"orders\"} 0\n");
    expect_line(1, "sluice_stream_consumer_lag{pipeline=\"orders\"} -1\n");
    expect_line(1, "# TYPE sluice_stream_commit_duration_seconds histogram\n");
    sl_stream_metrics m = totals(10, 8, 2);
    m.batches = 3;
    m.backpressure = 4;
    m.commit_errors = 1;
    m.aborts = 2;
    m.lag = 5;
    m.seconds = 1.5;
    sl_stream_metrics_publish(&m, "orders", NULL, -1);
    expect_line(1, "sluice_stream_records_in_total{pipeline=\"orders\"} 10\n");
    expect_line(1, "sluice_stream_records_out_total{pipeline=\"orders\"} 8\n");
    expect_line(1, "sluice_stream_records_dlq_total{pipeline=\"orders\"} 2\n");
    expect_line(1, "sluice_stream_batches_total{pipeline=\"orders\"} 3\n");
    expect_line(1, "sluice_stream_backpressure_total{pipeline=\"orders\"} 4\n");
    expect_line(1, "sluice_stream_commit_errors_total{pipeline=\"orders\"} 1\n");
    expect_line(1, "sluice_stream_transaction_aborts_total{pipeline=\"orders\"} 2\n");
    expect_line(1, "sluice_stream_consumer_lag{pipeline=\"orders\"} 5\n");
    expect_line(1, "sluice_stream_uptime_seconds{pipeline=\"orders\"} 1.5\n");
    /* publishing the same totals again adds nothing; new totals add the
     * difference */
    sl_stream_metrics_publish(&m, "orders", NULL, -1);
    m.records_in = 25;
    sl_stream_metrics_publish(&m, "orders", NULL, -1);
    expect_line(1, "sluice_stream_records_in_total{pipeline=\"orders\"} 25\n");
    /* a total that goes down never takes a counter down, and is not
     * counted twice when it climbs back */
    m.records_in = 20;
    sl_stream_metrics_publish(&m, "orders", NULL, -1);
    expect_line(1, "sluice_stream_records_in_total{pipeline=\"orders\"} 25\n");
    m.records_in = 30;
    sl_stream_metrics_publish(&m, "orders", NULL, -1);
    expect_line(1, "sluice_stream_records_in_total{pipeline=\"orders\"} 30\n");
    /* only the thread that began the run publishes for it */
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, publish_elsewhere, "orders"), 0);
    pthread_join(th, NULL);
    expect_line(1, "sluice_stream_records_in_total{pipeline=\"orders\"} 30\n");
    /* the end of the run hides its series; a new run starts from zero */
    sl_stream_metrics_end("orders");
    expect_line(0, "pipeline=\"orders\"");
    sl_stream_metrics_publish(&m, "orders", NULL, -1); /* not running: ignored */
    expect_line(0, "pipeline=\"orders\"");
    assert_int_equal(sl_stream_metrics_begin("orders", &err), SL_OK);
    expect_line(1, "sluice_stream_records_in_total{pipeline=\"orders\"} 0\n");
    expect_line(1, "sluice_stream_consumer_lag{pipeline=\"orders\"} -1\n");
    sl_stream_metrics_end("orders");
    sl_stream_metrics_end("never-began"); /* no-op */
}

static void test_one_run_per_pipeline(void **state)
{
    (void)state;
    sl_err err;
    sl_err_clear(&err);
    assert_int_equal(sl_stream_metrics_begin("dup", &err), SL_OK);
    assert_int_equal(sl_stream_metrics_begin("dup", &err), SL_ECONFIG);
    assert_string_equal(err.msg, "pipeline 'dup' is already streaming in this process: its "
                                 "metrics would mix with this run's (give the spec another "
                                 "`name:`)");
    /* the first run is untouched */
    sl_stream_metrics m = totals(7, 7, 0);
    sl_stream_metrics_publish(&m, "dup", NULL, -1);
    expect_line(1, "sluice_stream_records_in_total{pipeline=\"dup\"} 7\n");
    /* other names run side by side; NULL is the empty name */
    assert_int_equal(sl_stream_metrics_begin("other", &err), SL_OK);
    assert_int_equal(sl_stream_metrics_begin(NULL, &err), SL_OK);
    sl_stream_metrics_publish(&m, NULL, NULL, -1);
    expect_line(1, "sluice_stream_records_in_total{pipeline=\"\"} 7\n");
    expect_line(1, "sluice_stream_records_in_total{pipeline=\"other\"} 0\n");
    sl_stream_metrics_end(NULL);
    sl_stream_metrics_end("other");
    sl_stream_metrics_end("dup");
    assert_int_equal(sl_stream_metrics_begin("dup", &err), SL_OK);
    sl_stream_metrics_end("dup");
}

static void test_label_escaping(void **state)
{
    (void)state;
    sl_err err;
    const char *name = "a\"b\\c\nd";
    assert_int_equal(sl_stream_metrics_begin(name, &err), SL_OK);
    sl_stream_metrics m = totals(5, 0, 0);
    sl_stream_metrics_publish(&m, name, NULL, -1);
    expect_line(1, "sluice_stream_records_in_total{pipeline=\"a\\\"b\\\\c\\nd\"} 5\n");
    sl_stream_metrics_end(name);
}

static void test_commit_histogram(void **state)
{
    (void)state;
    sl_err err;
    const char *h = "sluice_stream_commit_duration_seconds";
    assert_int_equal(sl_stream_metrics_begin("h", &err), SL_OK);
    /* one checkpoint since the last publish: observed as it was */
    sl_stream_metrics m = totals(0, 0, 0);
    m.commits = 1;
    m.commit_seconds = m.last_commit_seconds = 0.003;
    sl_stream_metrics_publish(&m, "h", NULL, -1);
    expect_line(1, "%s_bucket{pipeline=\"h\",le=\"0.0025\"} 0\n", h);
    expect_line(1, "%s_bucket{pipeline=\"h\",le=\"0.005\"} 1\n", h);
    expect_line(1, "%s_count{pipeline=\"h\"} 1\n", h);
    expect_line(1, "sluice_stream_last_commit_seconds{pipeline=\"h\"} 0.003\n");
    /* three more: the last (40 ms) exactly, the two others at their mean
     * ((0.643 - 0.003 - 0.04) / 2 = 300 ms) */
    m.commits = 4;
    m.last_commit_seconds = 0.04;
    m.commit_seconds = 0.643;
    sl_stream_metrics_publish(&m, "h", NULL, -1);
    expect_line(1, "%s_bucket{pipeline=\"h\",le=\"0.05\"} 2\n", h);
    expect_line(1, "%s_bucket{pipeline=\"h\",le=\"0.25\"} 2\n", h);
    expect_line(1, "%s_bucket{pipeline=\"h\",le=\"0.5\"} 4\n", h);
    expect_line(1, "%s_bucket{pipeline=\"h\",le=\"+Inf\"} 4\n", h);
    expect_line(1, "%s_count{pipeline=\"h\"} 4\n", h);
    expect_line(1, "sluice_stream_commits_total{pipeline=\"h\"} 4\n");
    expect_line(1, "sluice_stream_commit_seconds_total{pipeline=\"h\"} 0.643\n");
    assert_true(fabs(value_of("sluice_stream_commit_duration_seconds_sum{pipeline=\"h\"} ") -
                     0.643) < 1e-9);
    /* a commit that took no time (a file sink commits once, after close,
     * untimed) counts, but is not observed */
    m.commits = 5;
    sl_stream_metrics_publish(&m, "h", NULL, -1);
    expect_line(1, "sluice_stream_commits_total{pipeline=\"h\"} 5\n");
    expect_line(1, "%s_count{pipeline=\"h\"} 4\n", h);
    /* a failed checkpoint adds time but no commit: nothing observed */
    m.commit_seconds = 1.0;
    sl_stream_metrics_publish(&m, "h", NULL, -1);
    expect_line(1, "%s_count{pipeline=\"h\"} 4\n", h);
    sl_stream_metrics_end("h");
}

static sl_kafka_partition_lag lag(const char *topic, int32_t partition, int64_t value)
{
    sl_kafka_partition_lag l;
    memset(&l, 0, sizeof l);
    snprintf(l.topic, sizeof l.topic, "%s", topic);
    l.partition = partition;
    l.lag = value;
    return l;
}

static void test_partition_lag(void **state)
{
    (void)state;
    sl_err err;
    const char *pl = "sluice_stream_partition_lag{pipeline=\"k\"";
    assert_int_equal(sl_stream_metrics_begin("k", &err), SL_OK);
    sl_stream_metrics m = totals(0, 0, 0);
    sl_kafka_partition_lag l[3] = {lag("in", 0, 5), lag("in", 1, -1), lag("other", 0, 7)};
    sl_stream_metrics_publish(&m, "k", l, 3);
    expect_line(1, "%s,topic=\"in\",partition=\"0\"} 5\n", pl);
    expect_line(1, "%s,topic=\"in\",partition=\"1\"} -1\n", pl);
    expect_line(1, "%s,topic=\"other\",partition=\"0\"} 7\n", pl);
    /* a rebalance took in/0 and other/0 away: their series leave */
    l[0] = lag("in", 1, 3);
    sl_stream_metrics_publish(&m, "k", l, 1);
    expect_line(1, "%s,topic=\"in\",partition=\"1\"} 3\n", pl);
    expect_line(0, "%s,topic=\"in\",partition=\"0\"}", pl);
    expect_line(0, "%s,topic=\"other\"", pl);
    /* no per-partition information this time: left as they are */
    sl_stream_metrics_publish(&m, "k", NULL, -1);
    expect_line(1, "%s,topic=\"in\",partition=\"1\"} 3\n", pl);
    /* in/0 is assigned again: back, with its new lag */
    l[0] = lag("in", 0, 2);
    l[1] = lag("in", 1, 0);
    sl_stream_metrics_publish(&m, "k", l, 2);
    expect_line(1, "%s,topic=\"in\",partition=\"0\"} 2\n", pl);
    expect_line(1, "%s,topic=\"in\",partition=\"1\"} 0\n", pl);
    /* nothing assigned */
    sl_stream_metrics_publish(&m, "k", l, 0);
    expect_line(0, "%s,", pl);
    sl_stream_metrics_publish(&m, "k", l, 2);
    sl_stream_metrics_end("k");
    expect_line(0, "%s,", pl);
}

static void test_alloc_failures(void **state)
{
    (void)state;
    sl_kafka_partition_lag l[2] = {lag("in", 0, 1), lag("in", 1, 2)};
    sl_stream_metrics m = totals(3, 2, 1);
    m.commits = 1;
    m.commit_seconds = m.last_commit_seconds = 0.01;
    int ok = 0;
    for (long n = 0; n < 400 && !ok; n++) {
        sl_err err;
        sl_err_clear(&err);
        sl_mem_fail_after(n);
        sl_rc rc = sl_stream_metrics_begin("af", &err);
        if (rc == SL_OK) {
            sl_stream_metrics_publish(&m, "af", l, 2); /* never fails */
            sl_stream_metrics_end("af");
        }
        sl_mem_fail_after(-1);
        if (rc != SL_OK) {
            assert_int_equal(rc, SL_ENOMEM);
            assert_string_equal(err.msg, "out of memory");
        }
        ok = rc == SL_OK;
    }
    assert_true(ok);
    /* nothing was left behind: the name is free */
    sl_err err;
    assert_int_equal(sl_stream_metrics_begin("af", &err), SL_OK);
    sl_stream_metrics_end("af");
}

/* ---- HTTP ---- */

typedef struct resp {
    int status;
    char head[2048];
    char *body; /* malloc'ed */
} resp;

static resp get(int port, const char *method, const char *path)
{
    resp r;
    memset(&r, 0, sizeof r);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        r.status = -1; /* nothing listens */
        r.body = strdup("");
        return r;
    }
    char req[512];
    int n = snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
                                      "Content-Length: 0\r\n\r\n", method, path);
    assert_int_equal(write(fd, req, (size_t)n), n);
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    ssize_t got;
    while ((got = read(fd, buf + len, cap - len - 1)) > 0)
        if ((len += (size_t)got) + 4096 > cap)
            buf = realloc(buf, cap *= 2);
    buf[len] = '\0';
    close(fd);
    sscanf(buf, "HTTP/1.1 %d", &r.status);
    char *sep = strstr(buf, "\r\n\r\n");
    snprintf(r.head, sizeof r.head, "%.*s", sep ? (int)(sep - buf) : 0, buf);
    r.body = strdup(sep ? sep + 4 : "");
    free(buf);
    return r;
}

static void expect(resp r, int status, const char *needle)
{
    if (r.status != status || (needle && !strstr(r.body, needle) && !strstr(r.head, needle)))
        fail_msg("got %d %s\n%s, want %d with '%s'", r.status, r.head, r.body, status,
                 needle ? needle : "");
    free(r.body);
}

/* `promtool check metrics` on text, when promtool is installed. */
static void promtool_check(const char *text)
{
    if (system("command -v promtool >/dev/null 2>&1") != 0) {
        fprintf(stderr, "promtool not installed: skipping `promtool check metrics`\n");
        return;
    }
    char out[256];
    snprintf(out, sizeof out, "/tmp/sl_promtool_%d.txt", (int)getpid());
    char cmd[400];
    snprintf(cmd, sizeof cmd, "promtool check metrics > %s 2>&1", out);
    FILE *p = popen(cmd, "w");
    assert_non_null(p);
    fputs(text, p);
    int st = pclose(p);
    char msg[4096] = "";
    FILE *f = fopen(out, "r");
    if (f) {
        size_t n = fread(msg, 1, sizeof msg - 1, f);
        msg[n] = '\0';
        fclose(f);
    }
    unlink(out);
    if (st != 0)
        fail_msg("promtool check metrics failed:\n%s", msg);
}

static void test_endpoint(void **state)
{
    (void)state;
    sl_metrics_http *h = NULL;
    sl_err err;
    sl_err_clear(&err);
    assert_int_equal(sl_metrics_http_start(NULL, 0, "--metrics-addr", &h, &err), SL_OK);
    int port = sl_metrics_http_port(h);
    assert_true(port > 0);
    expect(get(port, "GET", "/healthz"), 200, "{\"status\":\"ok\"}");
    expect(get(port, "GET", "/readyz"), 503, "{\"status\":\"starting\"}");
    sl_metrics_http_set_ready(h, 1);
    expect(get(port, "GET", "/readyz"), 200, "{\"status\":\"ready\"}");
    resp r = get(port, "GET", "/metrics");
    assert_non_null(strstr(r.head, "Content-Type: text/plain; version=0.0.4; charset=utf-8"));
    assert_non_null(strstr(r.body, "sluice_build_info{version=\"0.1.0\"} 1\n"));
    assert_non_null(strstr(r.body, "# TYPE sluice_process_start_time_seconds gauge\n"));
    promtool_check(r.body);
    expect(r, 200, NULL);
    r = get(port, "HEAD", "/metrics");
    assert_string_equal(r.body, "");
    expect(r, 200, NULL);
    expect(get(port, "POST", "/metrics"), 405, "Allow: GET, HEAD");
    expect(get(port, "GET", "/v1/models"), 404,
           "no route for /v1/models (try /metrics, /healthz, /readyz)");
    /* the port is taken now */
    sl_metrics_http *h2 = NULL;
    assert_int_equal(sl_metrics_http_start("127.0.0.1", port, "--metrics-addr", &h2, &err),
                     SL_EIO);
    char want[96];
    snprintf(want, sizeof want, "cannot listen on 127.0.0.1:%d (", port);
    assert_non_null(strstr(err.msg, want));
    assert_null(h2);
    sl_metrics_http_stop(h);
    expect(get(port, "GET", "/healthz"), -1, NULL);
    /* settings a user can get wrong */
    assert_int_equal(sl_metrics_http_start("no such host!", 0, "--metrics-addr", &h2, &err),
                     SL_ECONFIG);
    assert_non_null(strstr(err.msg, "--metrics-addr 'no such host!': "));
    assert_int_equal(sl_metrics_http_start(NULL, 70000, NULL, &h2, &err), SL_ECONFIG);
    assert_string_equal(err.msg, "port 70000: expected 0..65535");
    sl_metrics_http_stop(NULL);
    sl_metrics_http_set_ready(NULL, 1);
    /* IPv6 loopback, when the machine has it */
    if (sl_metrics_http_start("::1", 0, NULL, &h2, &err) == SL_OK)
        sl_metrics_http_stop(h2);
}

/* ---- a stream with its endpoint ---- */

typedef struct run_ctx {
    sl_pipeline_def def;
    sl_stream_options o;
    sl_stream_metrics m;
    sl_err err;
    sl_rc rc;
} run_ctx;

static void *run_stream(void *arg)
{
    run_ctx *c = arg;
    c->rc = sl_stream_run(&c->def, &c->o, &c->m, &c->err);
    return NULL;
}

/* GET path until the response has `needle` and not `unwanted` (NULL:
 * anything), or 30 s; returns the body. */
static char *wait_for(int port, const char *path, const char *needle, const char *unwanted)
{
    for (int i = 0; i < 300; i++) {
        resp r = get(port, "GET", path);
        if (r.status == 200 && strstr(r.body, needle) && !(unwanted && strstr(r.body, unwanted)))
            return r.body;
        free(r.body);
        usleep(100 * 1000);
    }
    fail_msg("GET %s never had '%s' without '%s'", path, needle, unwanted ? unwanted : "");
    return NULL;
}

static void test_stream_endpoint(void **state)
{
    (void)state;
    sl_dev_broker *b = NULL;
    sl_err err;
    sl_err_clear(&err);
    const char *topics[] = {"m-in", "m-out"};
    assert_int_equal(sl_dev_broker_start(0, 2, topics, 2, &b, &err), SL_OK);
    const char *bs = sl_dev_broker_bootstrap(b);
    produce_json(bs, "m-in", 0, 40, -1);
    char yaml[1024];
    snprintf(yaml, sizeof yaml,
             "name: mport\n"
             "source: {type: kafka, brokers: '%s', topics: m-in, group: mport,\n"
             "         properties: {session.timeout.ms: 6000, heartbeat.interval.ms: 500}}\n"
             "transforms: [{filter: \"id %% 2 == 0\"}]\n"
             "sink: {type: kafka, brokers: '%s', topic: m-out}\n",
             bs, bs);
    sl_spec *spec = NULL;
    if (sl_spec_load_string(yaml, strlen(yaml), "mport.yaml", &spec, &err) != SL_OK)
        fail_msg("spec: %s", err.msg);
    static run_ctx c;
    memset(&c, 0, sizeof c);
    assert_int_equal(sl_pipeline_def_from_spec(spec, &c.def, &err), SL_OK);
    /* a port nobody uses: one the endpoint itself was just given */
    sl_metrics_http *probe = NULL;
    assert_int_equal(sl_metrics_http_start(NULL, 0, NULL, &probe, &err), SL_OK);
    int port = sl_metrics_http_port(probe);
    sl_metrics_http_stop(probe);
    c.o = (sl_stream_options){.max_seconds = 60, .quiet = 1, .commit_ms = 200,
                              .metrics_port = port};
    sl_stream_reset_stop();
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, run_stream, &c), 0);

    free(wait_for(port, "/readyz", "\"ready\"", NULL));
    expect(get(port, "GET", "/healthz"), 200, "ok");
    /* everything read, both partitions' lag known, a commit observed
     * since (the runner publishes every second) */
    free(wait_for(port, "/metrics", "sluice_stream_records_in_total{pipeline=\"mport\"} 40\n",
                  NULL));
    free(wait_for(port, "/metrics",
                  "sluice_stream_partition_lag{pipeline=\"mport\",topic=\"m-in\","
                  "partition=\"1\"} 0\n", NULL));
    char *text = wait_for(port, "/metrics",
                          "sluice_stream_consumer_lag{pipeline=\"mport\"} 0\n",
                          "sluice_stream_commit_duration_seconds_count{pipeline=\"mport\"} 0\n");
    assert_non_null(strstr(text, "sluice_stream_records_out_total{pipeline=\"mport\"} 20\n"));
    assert_non_null(strstr(text, "sluice_stream_partition_lag{pipeline=\"mport\",topic=\"m-in\","
                                 "partition=\"0\"} 0\n"));
    assert_null(strstr(text, "sluice_stream_commits_total{pipeline=\"mport\"} 0\n"));
    assert_non_null(strstr(text, "sluice_build_info{version=\"0.1.0\"} 1\n"));
    promtool_check(text);
    free(text);

    sl_stream_request_stop();
    pthread_join(th, NULL);
    sl_stream_reset_stop();
    if (c.rc != SL_OK)
        fail_msg("run: %s", c.err.msg);
    assert_int_equal(c.m.stopped_by, 1);
    assert_int_equal(c.m.records_in, 40);
    assert_int_equal(c.m.records_out, 20);
    /* the endpoint ended with the run, and so did the run's series */
    expect(get(port, "GET", "/metrics"), -1, NULL);
    expect_line(0, "pipeline=\"mport\"");

    /* a port that is taken fails the run before it reads anything */
    sl_metrics_http *taken = NULL;
    assert_int_equal(sl_metrics_http_start(NULL, 0, NULL, &taken, &err), SL_OK);
    c.o.metrics_port = sl_metrics_http_port(taken);
    sl_err_clear(&c.err);
    assert_int_equal(sl_stream_run(&c.def, &c.o, &c.m, &c.err), SL_EIO);
    assert_non_null(strstr(c.err.msg, "cannot listen on 127.0.0.1:"));
    sl_metrics_http_stop(taken);
    expect_line(0, "pipeline=\"mport\"");

    sl_pipeline_def_clear(&c.def);
    sl_spec_free(spec);
    sl_dev_broker_stop(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counters),
        cmocka_unit_test(test_one_run_per_pipeline),
        cmocka_unit_test(test_label_escaping),
        cmocka_unit_test(test_commit_histogram),
        cmocka_unit_test(test_partition_lag),
        cmocka_unit_test(test_alloc_failures),
        cmocka_unit_test(test_endpoint),
        cmocka_unit_test(test_stream_endpoint),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
