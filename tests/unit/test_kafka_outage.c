/*
 * test_kafka_outage.c: the streaming runner (sl_stream_run) while a broker
 * is down, against librdkafka's mock cluster (one cluster per side, so the
 * source's and the sink's brokers go down separately):
 *   - a stop request while the source's broker is down returns within
 *     seconds (the final commit is bounded), with an error about that
 *     commit, and the records after the last commit are read again;
 *   - a sink broker down for longer than flush_timeout_ms is waited for
 *     (a flush gives up only flush_timeout_ms after a stop request), and
 *     every record is delivered once;
 *   - `commits` counts the source's successful offset commits, not
 *     checkpoints: failed ones and ones with nothing to commit are not
 *     counted, and one whose answer comes after the checkpoint stopped
 *     waiting is counted once.
 */
#include "kafka_test_util.h"

#include <pthread.h>

#include "sluice/kafka.h"
#include "sluice/spec.h"
#include "sluice/stream.h"
#include "sluice/train.h"

static mock M; /* the sink's cluster unless a test says otherwise */
static char tmpdir[256];

static int setup(void **state)
{
    (void)state;
    mock_group_setup(&M, tmpdir, sizeof tmpdir, "/tmp/sl_koutage_XXXXXX");
    if (getenv("SLDBG"))
        sl_log_setup(SL_LOG_DEBUG, SL_LOG_TEXT);
    sl_plugins_init();
    if (!sl_plugin_find(SL_PLUGIN_SOURCE, "kafka"))
        assert_int_equal(sl_plugin_register(&sl_plugin_source_kafka, NULL), SL_OK);
    if (!sl_plugin_find(SL_PLUGIN_SINK, "kafka"))
        assert_int_equal(sl_plugin_register(&sl_plugin_sink_kafka, NULL), SL_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return mock_group_teardown(&M, tmpdir);
}

static const char *tpath(const char *name)
{
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
    return buf[k];
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* A spec from YAML text (printf-style) with the schema of produce_json. */
static void load(spec_def *sd, const char *fmt, ...)
{
    char yaml[4096];
    const char *schema = tpath("schema.json");
    FILE *f = fopen(schema, "w");
    assert_non_null(f);
    fputs("{\"fields\": [{\"name\": \"id\", \"type\": \"int64\"}, "
          "{\"name\": \"v\", \"type\": \"float64\"}, {\"name\": \"s\", \"type\": \"string\"}]}",
          f);
    fclose(f);
    int n = snprintf(yaml, sizeof yaml, "schema: %s\n", schema);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(yaml + n, sizeof yaml - (size_t)n, fmt, ap);
    va_end(ap);
    spec_load(sd, "outage.yaml", yaml);
}

/* The group's committed offset of topic/partition (RD_KAFKA_OFFSET_INVALID
 * when none), asked without joining the group. */
static int64_t committed(const char *bootstrap, const char *group, const char *topic)
{
    rd_kafka_t *c = client(RD_KAFKA_CONSUMER, bootstrap, "group.id", group, NULL);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, topic, 0);
    assert_int_equal(rd_kafka_committed(c, l, 10000), 0);
    int64_t off = l->elems[0].offset;
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_destroy(c);
    return off;
}

/* Every id 0..n-1 exactly once among the keys of topic's records. */
static void assert_each_once(const char *bootstrap, const char *topic, int n)
{
    rec *r = calloc((size_t)n * 2, sizeof *r);
    int *seen = calloc((size_t)n, sizeof *seen);
    int got = read_topic(bootstrap, topic, 1, n * 2, 3000, r);
    assert_int_equal(got, n);
    for (int i = 0; i < got; i++) {
        int id = atoi(r[i].key);
        assert_true(id >= 0 && id < n);
        seen[id]++;
    }
    for (int i = 0; i < n; i++)
        assert_int_equal(seen[i], 1);
    free_recs(r, got);
    free(r);
    free(seen);
}

/* ---- (a) stop while the source's broker is down ---- */

typedef struct bounce {
    mock *down;           /* the cluster whose broker goes down (NULL: none,
                             only the stop request) */
    const char *wait_for; /* a line of the metrics file to wait for first */
    int up_after_ms;      /* then: broker down, up again this much later
                             (-1: stays down) ... */
    int stop_after_ms;    /* ... and a stop request this long after it went
                             down (-1: none) */
    double stopped_at;    /* when the stop was requested */
} bounce;

static void *bouncer(void *arg)
{
    bounce *b = arg;
    for (int i = 0; b->wait_for && i < 1200; i++) {
        char text[8192] = "";
        FILE *f = fopen(tpath("metrics.prom"), "r");
        if (f) {
            size_t n = fread(text, 1, sizeof text - 1, f);
            text[n] = '\0';
            fclose(f);
        }
        if (strstr(text, b->wait_for))
            break;
        usleep(50 * 1000);
    }
    if (b->down)
        rd_kafka_mock_broker_set_down(b->down->mc, 1);
    for (int t = 0;; t += 100) {
        if (t == b->stop_after_ms) {
            b->stopped_at = now_s();
            sl_stream_request_stop();
        }
        if (t == b->up_after_ms && b->down)
            rd_kafka_mock_broker_set_up(b->down->mc, 1);
        if (t >= b->stop_after_ms && t >= b->up_after_ms)
            break;
        usleep(100 * 1000);
    }
    return NULL;
}

/* The worker read and wrote 100 records but has not committed them (the
 * commit interval is long) when the source's broker goes down; a second
 * later it is asked to stop. The final commit cannot reach the group
 * coordinator: the run ends within seconds anyway (a blocking commit
 * would wait up to session.timeout.ms, 30 s), with an error saying so,
 * and the records are read again by the next worker of the group. */
static void test_stop_while_source_broker_down(void **state)
{
    (void)state;
    mock src;
    mock_start(&src);
    mock_topic(&src, "a-in", 1);
    mock_topic(&M, "a-out", 1);
    produce_json(src.bootstrap, "a-in", 0, 100, 0);
    spec_def sd;
    load(&sd,
         "name: outa\n"
         "source: {type: kafka, brokers: '%s', topics: a-in, group: outa, "
         "properties: {session.timeout.ms: 30000, heartbeat.interval.ms: 1000}}\n"
         "sink: {type: kafka, brokers: '%s', topic: a-out, key: id}\n",
         src.bootstrap, M.bootstrap);
    sl_stream_options o = {.max_seconds = 120, .commit_ms = 600000, .quiet = 1,
                           .metrics_ms = 50, .metrics_file = tpath("metrics.prom")};
    bounce b = {.down = &src,
                .wait_for = "sluice_stream_records_out_total{pipeline=\"outa\"} 100\n",
                .up_after_ms = -1, .stop_after_ms = 1000};
    sl_stream_metrics m;
    sl_err err;
    sl_err_clear(&err);
    sl_stream_reset_stop();
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, bouncer, &b), 0);
    sl_rc rc = sl_stream_run(&sd.def, &o, &m, &err);
    double returned = now_s();
    pthread_join(th, NULL);
    sl_stream_reset_stop();
    assert_int_equal(m.stopped_by, 1);
    assert_int_equal(m.records_out, 100);
    /* bounded shutdown: well under the 30 s session timeout (a generous
     * bound; this checks that the wait ends, not how fast) */
    assert_true(returned - b.stopped_at < 12.0);
    assert_true(m.seconds < 30.0);
    assert_int_equal(rc, SL_EIO);
    assert_non_null(strstr(err.msg, "final offset commit failed for 1 partition(s)"));
    assert_non_null(strstr(err.msg, "the records after the last commit will be read again"));
    assert_int_equal(m.commits, 0);

    /* nothing was committed, so the next worker reads the 100 again (the
     * mock coordinator admits it once the first member's session expired) */
    rd_kafka_mock_broker_set_up(src.mc, 1);
    assert_true(committed(src.bootstrap, "outa", "a-in") < 0);
    o = (sl_stream_options){.max_records = 100, .max_seconds = 90, .quiet = 1};
    sl_err_clear(&err);
    rc = sl_stream_run(&sd.def, &o, &m, &err);
    if (rc != SL_OK)
        fail_msg("run 2: %s", err.msg);
    assert_int_equal(m.stopped_by, 2);
    assert_int_equal(m.records_in, 100);
    assert_int_equal(committed(src.bootstrap, "outa", "a-in"), 100);
    spec_unload(&sd);
    mock_stop(&src);
}

/* Dead letters the DLQ topic will not take (every produce refused with a
 * retriable error, so librdkafka keeps retrying for ~40 s) when a stop
 * comes: the checkpoint's wait for them, up to ack_timeout_ms (60 s
 * here), is cut short by the stop, and the run fails saying so. The stop
 * comes 10 s after the start, well after the group join and the first
 * checkpoint (which blocks the runner, so its metrics cannot be the
 * trigger). */
static void test_stop_while_dead_letters_wait(void **state)
{
    (void)state;
    mock src;
    mock_start(&src);
    mock_topic(&src, "d-in", 1);
    mock_topic(&src, "d-dlq", 1);
    mock_topic(&M, "d-out", 1);
    const char *v[] = {"{\"id\": 1}", "bad 1", "bad 2", "{\"id\": 2}"};
    produce(src.bootstrap, "d-in", v, 4, 0, 0);
    rd_kafka_resp_err_t errs[400];
    for (int i = 0; i < 400; i++)
        errs[i] = RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS;
    rd_kafka_mock_push_request_errors_array(src.mc, 0 /* Produce */, 400, errs);
    spec_def sd;
    load(&sd,
         "name: outd\n"
         "source: {type: kafka, brokers: '%s', topics: d-in, group: outd, dlq_topic: d-dlq, "
         "ack_timeout_ms: 60000, properties: {session.timeout.ms: 6000}}\n"
         "sink: {type: kafka, brokers: '%s', topic: d-out}\n",
         src.bootstrap, M.bootstrap);
    sl_stream_options o = {.max_seconds = 120, .quiet = 1};
    bounce b = {.down = NULL, .wait_for = NULL, .up_after_ms = 0, .stop_after_ms = 10000};
    sl_stream_metrics m;
    sl_err err;
    sl_err_clear(&err);
    sl_stream_reset_stop();
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, bouncer, &b), 0);
    sl_rc rc = sl_stream_run(&sd.def, &o, &m, &err);
    double returned = now_s();
    pthread_join(th, NULL);
    sl_stream_reset_stop();
    assert_int_equal(rc, SL_EIO);
    assert_non_null(strstr(err.msg, "dead-letter topic 'd-dlq': "));
    assert_non_null(strstr(err.msg, "(stop requested)"));
    assert_int_equal(m.records_dlq, 2);
    /* ended by the stop (5 s of grace), not by the 60 s ack timeout */
    assert_true(returned - b.stopped_at < 12.0);
    spec_unload(&sd);
    mock_stop(&src);
}

/* ---- (b) the sink's broker down longer than flush_timeout_ms ---- */

/* The sink's broker is down for 6 s, three times flush_timeout_ms: the
 * flush before the first commit waits for it (librdkafka keeps retrying
 * for message.timeout.ms), the run succeeds, every record is delivered
 * once and committed. */
static void test_sink_broker_down_longer_than_flush_timeout(void **state)
{
    (void)state;
    mock snk;
    mock_start(&snk);
    mock_topic(&M, "b-in", 1);
    mock_topic(&snk, "b-out", 1);
    produce_json(M.bootstrap, "b-in", 0, 100, 0);
    spec_def sd;
    load(&sd,
         "name: outb\n"
         "source: {type: kafka, brokers: '%s', topics: b-in, group: outb, "
         "properties: {session.timeout.ms: 6000, heartbeat.interval.ms: 500, "
         "max.poll.interval.ms: 7000}}\n"
         "sink: {type: kafka, brokers: '%s', topic: b-out, key: id, flush_timeout_ms: 2000}\n",
         M.bootstrap, snk.bootstrap);
    bounce b = {.down = &snk, .up_after_ms = 6000, .stop_after_ms = -1};
    rd_kafka_mock_broker_set_down(snk.mc, 1);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, bouncer, &b), 0);
    sl_stream_options o = {.max_records = 100, .max_seconds = 60, .commit_batches = 1,
                           .quiet = 1};
    sl_stream_metrics m;
    sl_err err;
    sl_err_clear(&err);
    sl_rc rc = sl_stream_run(&sd.def, &o, &m, &err);
    pthread_join(th, NULL);
    if (rc != SL_OK)
        fail_msg("run: %s", err.msg);
    assert_int_equal(m.stopped_by, 2);
    assert_int_equal(m.records_out, 100);
    assert_true(m.seconds >= 5.0); /* it did wait for the broker */
    assert_each_once(snk.bootstrap, "b-out", 100);
    assert_int_equal(committed(M.bootstrap, "outb", "b-in"), 100);
    spec_unload(&sd);
    mock_stop(&snk);
}

/* Once a stop is requested, the flush waits flush_timeout_ms more and
 * then fails, naming what is undelivered; nothing is committed. */
static void test_sink_broker_down_at_stop(void **state)
{
    (void)state;
    mock snk;
    mock_start(&snk);
    mock_topic(&M, "b2-in", 1);
    mock_topic(&snk, "b2-out", 1);
    produce_json(M.bootstrap, "b2-in", 0, 20, 0);
    spec_def sd;
    load(&sd,
         "name: outb2\n"
         "source: {type: kafka, brokers: '%s', topics: b2-in, group: outb2, "
         "properties: {session.timeout.ms: 6000, heartbeat.interval.ms: 500}}\n"
         "sink: {type: kafka, brokers: '%s', topic: b2-out, key: id, flush_timeout_ms: 2000}\n",
         M.bootstrap, snk.bootstrap);
    bounce b = {.down = &snk, .up_after_ms = -1, .stop_after_ms = 4000};
    sl_stream_reset_stop();
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, bouncer, &b), 0);
    sl_stream_options o = {.max_seconds = 60, .commit_batches = 1, .quiet = 1};
    sl_stream_metrics m;
    sl_err err;
    sl_err_clear(&err);
    sl_rc rc = sl_stream_run(&sd.def, &o, &m, &err);
    double returned = now_s();
    pthread_join(th, NULL);
    sl_stream_reset_stop();
    rd_kafka_mock_broker_set_up(snk.mc, 1);
    assert_int_equal(rc, SL_EIO);
    assert_non_null(strstr(err.msg, "20 messages to 'b2-out' still not acknowledged 2000 ms "
                                    "after the stop request"));
    assert_true(returned - b.stopped_at >= 1.9);
    assert_true(returned - b.stopped_at < 10.0);
    assert_int_equal(m.commits, 0);
    assert_true(committed(M.bootstrap, "outb2", "b2-in") < 0);
    spec_unload(&sd);
    mock_stop(&snk);
}

/* ---- (c) commits = the source's successful commits ---- */

/* 10 records in one batch; a checkpoint after every (mostly empty) batch
 * for 5 s. The first two commits are refused, the third is accepted but
 * answered only after 2.5 s, longer than a checkpoint waits: it is taken
 * by a later checkpoint. One successful commit, two errors, however many
 * checkpoints ran. */
static void test_commits_count(void **state)
{
    (void)state;
    mock_topic(&M, "c-in", 1);
    mock_topic(&M, "c-out", 1);
    produce_json(M.bootstrap, "c-in", 0, 10, 0);
    spec_def sd;
    load(&sd,
         "name: outc\n"
         "source: {type: kafka, brokers: '%s', topics: c-in, group: outc, batch_rows: 10, "
         "batch_ms: 200, properties: {session.timeout.ms: 6000, heartbeat.interval.ms: 500}}\n"
         "sink: {type: kafka, brokers: '%s', topic: c-out, key: id}\n",
         M.bootstrap, M.bootstrap);
    rd_kafka_mock_broker_push_request_error_rtts(
        M.mc, 1, 8 /* OffsetCommit */, 3, RD_KAFKA_RESP_ERR_OFFSET_METADATA_TOO_LARGE, 0,
        RD_KAFKA_RESP_ERR_OFFSET_METADATA_TOO_LARGE, 0, RD_KAFKA_RESP_ERR_NO_ERROR, 2500);
    sl_stream_options o = {.max_seconds = 6, .commit_batches = 1, .quiet = 1};
    sl_stream_metrics m;
    sl_err err;
    sl_err_clear(&err);
    sl_rc rc = sl_stream_run(&sd.def, &o, &m, &err);
    if (rc != SL_OK)
        fail_msg("run: %s", err.msg);
    assert_int_equal(m.stopped_by, 3);
    assert_int_equal(m.records_out, 10);
    assert_true(m.batches > 10); /* many checkpoints ... */
    assert_int_equal(m.commits, 1); /* ... one commit */
    assert_int_equal(m.commit_errors, 2);
    assert_int_equal(committed(M.bootstrap, "outc", "c-in"), 10);
    /* the run kept its time bound although a commit took 2.5 s */
    assert_true(m.seconds < 10.0);
    spec_unload(&sd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_commits_count),
        cmocka_unit_test(test_sink_broker_down_longer_than_flush_timeout),
        cmocka_unit_test(test_sink_broker_down_at_stop),
        cmocka_unit_test(test_stop_while_source_broker_down),
        cmocka_unit_test(test_stop_while_dead_letters_wait),
    };
    /* SL_TEST_FILTER=test_commits_count runs one case (cmocka glob) */
    if (getenv("SL_TEST_FILTER"))
        cmocka_set_test_filter(getenv("SL_TEST_FILTER"));
    return cmocka_run_group_tests(tests, setup, teardown);
}
