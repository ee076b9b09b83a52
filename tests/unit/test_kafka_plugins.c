/*
 * test_kafka_plugins.c: the Kafka source and sink plugins against
 * librdkafka's mock cluster: configuration errors (secrets never shown),
 * produce -> source -> sink -> read back, metadata columns, the formats,
 * dead letters (topic with headers, and the rejects file), offsets
 * committed only by checkpoint (a consumer that stops without one leaves
 * its records to the next; after one it does not), and a sink that cannot
 * deliver failing its flush.
 */
#include "kafka_test_util.h"

#include <sys/stat.h>

#include "sluice/batch.h"
#include "sluice/kafka.h"
#include "sluice/schema.h"

static mock M;
static char tmpdir[256];

static int setup(void **state)
{
    (void)state;
    sl_log_setup(SL_LOG_ERROR, SL_LOG_TEXT);
    snprintf(tmpdir, sizeof tmpdir, "/tmp/sl_kafka_XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    mock_start(&M);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    mock_stop(&M);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static sl_schema *data_schema(void)
{
    sl_schema *s = sl_schema_new();
    sl_schema_add(s, "id", SL_INT64, 1, NULL);
    sl_schema_add(s, "v", SL_FLOAT64, 1, NULL);
    sl_schema_add(s, "s", SL_STRING, 1, NULL);
    return s;
}

static void expect_init_error(const sl_plugin *p, const char *want, const char *yaml)
{
    pinst pi;
    sl_err err;
    sl_schema *s = data_schema();
    sl_rc rc = pinst_make(&pi, p, s, s, &err, "%s", yaml);
    assert_int_equal(rc, SL_ECONFIG);
    if (!strstr(err.msg, want))
        fail_msg("error '%s' lacks '%s'", err.msg, want);
    pinst_free(&pi);
    sl_schema_free(s);
}

static void test_config_errors(void **state)
{
    (void)state;
    const sl_plugin *src = &sl_plugin_source_kafka, *snk = &sl_plugin_sink_kafka;
    expect_init_error(src, "missing required key 'group'", "{topics: [a]}");
    expect_init_error(src, "give `topics` or `pattern`", "{group: g}");
    expect_init_error(src, "pattern '(': ", "{group: g, pattern: '('}");
    expect_init_error(src, "'enable.auto.commit' must stay false",
                      "{group: g, topics: a, properties: {enable.auto.commit: 'true'}}");
    expect_init_error(src, "'group.id' is set by `group`",
                      "{group: g, topics: a, properties: {group.id: x}}");
    expect_init_error(src, "unknown librdkafka property 'no.such.thing'",
                      "{group: g, topics: a, properties: {no.such.thing: 1}}");
    unsetenv("SL_TEST_UNSET_VAR");
    expect_init_error(src, "environment variable 'SL_TEST_UNSET_VAR' is not set",
                      "{group: g, topics: a, properties: {sasl.password: '${SL_TEST_UNSET_VAR}'}}");
    expect_init_error(src, "cannot read '@/nonexistent/secret'",
                      "{group: g, topics: a, properties: {sasl.password: '@/nonexistent/secret'}}");
    /* a secret from the environment never shows in an error */
    setenv("SL_TEST_SECRET", "hunter2-secret", 1);
    pinst pi;
    sl_err err;
    assert_int_equal(pinst_make(&pi, src, NULL, NULL, &err,
                                "{group: g, topics: a, properties: {"
                                "security.protocol: '${SL_TEST_SECRET}'}}"),
                     SL_ECONFIG);
    assert_non_null(strstr(err.msg, "security.protocol"));
    assert_null(strstr(err.msg, "hunter2"));
    pinst_free(&pi);
    assert_int_equal(pinst_make(&pi, src, NULL, NULL, &err,
                                "{group: g, topics: a, properties: {"
                                "fetch.wait.max.ms: 'NOPE'}}"),
                     SL_ECONFIG);
    assert_non_null(strstr(err.msg, "librdkafka property 'fetch.wait.max.ms': "));
    pinst_free(&pi);
    expect_init_error(snk, "'enable.idempotence' cannot be changed",
                      "{topic: t, properties: {enable.idempotence: 'false'}}");
    expect_init_error(snk, "'acks' must be 'all'", "{topic: t, properties: {acks: '1'}}");
    expect_init_error(snk, "missing required key 'topic'", "{brokers: 'x:1'}");
    /* a key column that does not exist: did you mean */
    sl_schema *s = data_schema();
    assert_int_equal(pinst_make(&pi, snk, s, NULL, &err, "{topic: t, key: ids}"), SL_ECONFIG);
    assert_non_null(strstr(err.msg, "did you mean 'id'"));
    pinst_free(&pi);
    sl_schema_free(s);
}

/* produce -> source (schema, metadata) -> sink (key) -> read back */
static void test_roundtrip(void **state)
{
    (void)state;
    mock_topic(&M, "rt-in", 4);
    mock_topic(&M, "rt-out", 2);
    produce_json(M.bootstrap, "rt-in", 0, 1000, -1);
    sl_schema *s = data_schema();
    pinst src, snk;
    sl_err err;
    assert_int_equal(pinst_make(&src, &sl_plugin_source_kafka, NULL, s, &err,
                                "{brokers: '%s', topics: [rt-in], group: rt, metadata: true, "
                                "batch_rows: 300}", M.bootstrap),
                     SL_OK);
    assert_int_equal(src.out->n, 8);
    assert_string_equal(src.out->fields[3].name, "_topic");
    assert_int_equal(src.out->fields[6].type, SL_TIMESTAMP);
    assert_int_equal(pinst_make(&snk, &sl_plugin_sink_kafka, src.out, NULL, &err,
                                "{brokers: '%s', topic: rt-out, key: s, compression: lz4, "
                                "headers: {h1: hello}}", M.bootstrap),
                     SL_OK);
    sl_batch *keep[64];
    int nkeep = 0;
    int64_t rows = drain(&src, 1000, 30000, keep, &nkeep, 64);
    assert_int_equal(rows, 1000);
    char *seen = calloc(1000, 1);
    for (int b = 0; b < nkeep; b++) {
        sl_batch *x = keep[b];
        assert_true(x->nrows <= 300);
        for (int64_t i = 0; i < x->nrows; i++) {
            int64_t id = sl_col_i64(x->cols[0], i);
            assert_true(id >= 0 && id < 1000);
            seen[id]++;
            size_t n;
            const char *t = sl_col_str(x->cols[3], i, &n);
            assert_memory_equal(t, "rt-in", 5);
            const char *k = sl_col_str(x->cols[7], i, &n);
            char want[32];
            snprintf(want, sizeof want, "k%d", (int)id);
            assert_int_equal(n, strlen(want));
            assert_memory_equal(k, want, n);
            assert_true(sl_col_i64(x->cols[6], i) > 1600000000000000LL);
        }
        assert_int_equal(snk.p->write(snk.h, x, &err), SL_OK);
        sl_batch_unref(x);
    }
    for (int i = 0; i < 1000; i++)
        assert_int_equal(seen[i], 1);
    free(seen);
    assert_int_equal(snk.p->flush(snk.h, &err), SL_OK);
    sl_kafka_sink_stats st;
    sl_kafka_sink_stats_get(snk.h, &st);
    assert_int_equal(st.produced, 1000);
    assert_int_equal(st.delivered, 1000);
    assert_int_equal(src.p->checkpoint(src.h, &err), SL_OK);
    sl_kafka_source_stats ss;
    sl_kafka_source_stats_get(src.h, &ss);
    assert_int_equal(ss.records, 1000);
    assert_int_equal(ss.assigned, 4);
    assert_true(ss.commits >= 1);
    assert_int_equal(ss.lag, 0);

    rec *r = calloc(1100, sizeof *r);
    int got = read_topic(M.bootstrap, "rt-out", 2, 1000, 20000, r);
    assert_int_equal(got, 1000);
    int with_id7 = 0;
    for (int i = 0; i < got; i++) {
        assert_non_null(r[i].key);
        assert_string_equal(r[i].hdr[5], "hello");
        if (strcmp(r[i].key, "str7") == 0) {
            with_id7++;
            assert_non_null(strstr(r[i].value, "\"id\":7,\"v\":3.5,\"s\":\"str7\",\"_topic\":\"rt-in\""));
        }
    }
    assert_int_equal(with_id7, 1);
    free_recs(r, got);
    free(r);
    assert_int_equal(src.p->close(src.h, &err), SL_OK);
    assert_int_equal(snk.p->close(snk.h, &err), SL_OK);
    pinst_free(&src);
    pinst_free(&snk);
    sl_schema_free(s);
}

static const char *const bad_values[] = {
    "{\"id\": 1, \"v\": 1, \"s\": \"ok\"}",
    "{\"id\": 2, \"v\": ",                 /* truncated */
    "{\"id\": \"three\"}",                 /* wrong type */
    NULL,                                  /* tombstone */
    "",                                    /* empty */
    "{\"id\": 6}",
};

static void test_dlq_topic(void **state)
{
    (void)state;
    mock_topic(&M, "dq-in", 1);
    mock_topic(&M, "dq-dlq", 1);
    produce(M.bootstrap, "dq-in", bad_values, 6, 0, 1);
    sl_schema *s = data_schema();
    pinst src;
    sl_err err;
    assert_int_equal(pinst_make(&src, &sl_plugin_source_kafka, NULL, s, &err,
                                "{brokers: '%s', topics: dq-in, group: dq, dlq_topic: dq-dlq}",
                                M.bootstrap),
                     SL_OK);
    /* good rows come out; the rest are counted */
    int64_t rows = 0;
    for (int i = 0; i < 400 && (rows < 2 || src.p->rejected(src.h) < 4); i++)
        rows += drain(&src, 1, 100, NULL, NULL, 0);
    assert_int_equal(rows, 2);
    assert_int_equal(src.p->rejected(src.h), 4);
    assert_int_equal(src.p->checkpoint(src.h, &err), SL_OK); /* flushes the dead letters */
    rec r[8];
    int got = read_topic(M.bootstrap, "dq-dlq", 1, 4, 10000, r);
    assert_int_equal(got, 4);
    const int64_t offs[] = {1, 2, 3, 4};
    for (int i = 0; i < 4; i++) {
        assert_string_equal(r[i].hdr[1], "dq-in");
        assert_string_equal(r[i].hdr[2], "0");
        char o[16];
        snprintf(o, sizeof o, "%d", (int)offs[i]);
        assert_string_equal(r[i].hdr[3], o);
        assert_true(strlen(r[i].hdr[4]) > 0);
        snprintf(o, sizeof o, "k%d", (int)offs[i]);
        assert_string_equal(r[i].key, o);
    }
    assert_non_null(strstr(r[0].hdr[0], "byte"));
    assert_string_equal(r[0].value, bad_values[1]);
    assert_non_null(strstr(r[1].hdr[0], "id"));
    assert_non_null(strstr(r[2].hdr[0], "tombstone"));
    assert_null(r[2].value);
    assert_non_null(strstr(r[3].hdr[0], "empty message"));
    free_recs(r, got);
    assert_int_equal(src.p->close(src.h, &err), SL_OK);
    pinst_free(&src);
    sl_schema_free(s);
}

static void test_dlq_file_and_fail(void **state)
{
    (void)state;
    mock_topic(&M, "df-in", 1);
    produce(M.bootstrap, "df-in", bad_values, 6, 0, 0);
    sl_schema *s = data_schema();
    pinst src;
    sl_err err;
    char rej[300];
    snprintf(rej, sizeof rej, "%s/rejects.jsonl", tmpdir);
    assert_int_equal(pinst_make(&src, &sl_plugin_source_kafka, NULL, s, &err,
                                "{brokers: '%s', topics: df-in, group: df, rejects: '%s'}",
                                M.bootstrap, rej),
                     SL_OK);
    int64_t rows = 0;
    for (int i = 0; i < 400 && (rows < 2 || src.p->rejected(src.h) < 4); i++)
        rows += drain(&src, 1, 100, NULL, NULL, 0);
    assert_int_equal(rows, 2);
    assert_int_equal(src.p->checkpoint(src.h, &err), SL_OK);
    FILE *f = fopen(rej, "r");
    assert_non_null(f);
    char line[1024];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        assert_non_null(strstr(line, "{\"source\":\"kafka\",\"topic\":\"df-in\",\"partition\":0,"));
        assert_non_null(strstr(line, "\"key\":null"));
        if (n == 0)
            assert_non_null(strstr(line, "\"offset\":1,"));
        if (n == 2)
            assert_non_null(strstr(line, "\"record\":null"));
        n++;
    }
    fclose(f);
    assert_int_equal(n, 4);
    pinst_free(&src);

    /* on_error: fail stops at the first bad record, naming it */
    assert_int_equal(pinst_make(&src, &sl_plugin_source_kafka, NULL, s, &err,
                                "{brokers: '%s', topics: df-in, group: df2, on_error: fail}",
                                M.bootstrap),
                     SL_OK);
    sl_rc rc = SL_OK;
    for (int i = 0; i < 400 && rc == SL_OK; i++) {
        sl_batch *b = NULL;
        rc = src.p->next(src.h, &b, &err);
        sl_batch_unref(b);
    }
    assert_int_equal(rc, SL_EPARSE);
    assert_non_null(strstr(err.msg, "df-in [0] offset 1: "));
    pinst_free(&src);
    sl_schema_free(s);
}

/* Offsets move only with checkpoint(). */
static void test_commit_only_on_checkpoint(void **state)
{
    (void)state;
    mock_topic(&M, "cp-in", 1);
    produce_json(M.bootstrap, "cp-in", 0, 100, 0);
    sl_schema *s = data_schema();
    pinst src;
    sl_err err;
    /* a short session: the mock coordinator waits session.timeout.ms - 1 s
     * before it lets a new member into a group a member just left */
    const char *cfg = "{brokers: '%s', topics: cp-in, group: cp, batch_rows: 40, "
                      "properties: {session.timeout.ms: 6000, heartbeat.interval.ms: 500}}";
    /* 1: reads everything, no checkpoint, goes away ("killed") */
    assert_int_equal(pinst_make(&src, &sl_plugin_source_kafka, NULL, s, &err, cfg, M.bootstrap),
                     SL_OK);
    assert_int_equal(drain(&src, 100, 30000, NULL, NULL, 0), 100);
    pinst_free(&src);
    /* 2: sees the same 100 again; checkpoints after the first batch only */
    assert_int_equal(pinst_make(&src, &sl_plugin_source_kafka, NULL, s, &err, cfg, M.bootstrap),
                     SL_OK);
    sl_batch *keep[8];
    int nkeep = 0;
    assert_int_equal(drain(&src, 1, 30000, keep, &nkeep, 8), 40);
    assert_int_equal(sl_col_i64(keep[0]->cols[0], 0), 0);
    sl_batch_unref(keep[0]);
    assert_int_equal(src.p->checkpoint(src.h, &err), SL_OK);
    assert_int_equal(drain(&src, 60, 30000, NULL, NULL, 0), 60);
    pinst_free(&src);
    /* 3: resumes after the checkpointed batch: 60 records, from id 40 */
    assert_int_equal(pinst_make(&src, &sl_plugin_source_kafka, NULL, s, &err, cfg, M.bootstrap),
                     SL_OK);
    nkeep = 0;
    assert_int_equal(drain(&src, 60, 30000, keep, &nkeep, 8), 60);
    assert_int_equal(sl_col_i64(keep[0]->cols[0], 0), 40);
    for (int i = 0; i < nkeep; i++)
        sl_batch_unref(keep[i]);
    assert_int_equal(src.p->checkpoint(src.h, &err), SL_OK);
    pinst_free(&src);
    /* 4: everything committed: nothing comes */
    assert_int_equal(pinst_make(&src, &sl_plugin_source_kafka, NULL, s, &err, cfg, M.bootstrap),
                     SL_OK);
    sl_kafka_source_stats st;
    for (int i = 0; i < 200; i++) { /* wait for the assignment */
        drain(&src, 1, 50, NULL, NULL, 0);
        sl_kafka_source_stats_get(src.h, &st);
        if (st.assigned > 0)
            break;
    }
    assert_int_equal(st.assigned, 1);
    assert_int_equal(drain(&src, 1, 1500, NULL, NULL, 0), 0);
    pinst_free(&src);
    sl_schema_free(s);
}

static void test_formats_and_infer(void **state)
{
    (void)state;
    mock_topic(&M, "fm-json", 1);
    mock_topic(&M, "fm-csv", 1);
    produce_json(M.bootstrap, "fm-json", 0, 10, 0);
    const char *csv[] = {"1,2.5,a", "2,,\"b,c\"", "x,1,z"};
    produce(M.bootstrap, "fm-csv", csv, 3, 0, 0);
    pinst src;
    sl_err err;
    /* json, schema inferred from the first messages */
    assert_int_equal(pinst_make(&src, &sl_plugin_source_kafka, NULL, NULL, &err,
                                "{brokers: '%s', topics: fm-json, group: fm1}", M.bootstrap),
                     SL_OK);
    assert_int_equal(src.out->n, 3);
    assert_int_equal(src.out->fields[0].type, SL_INT64);
    assert_int_equal(src.out->fields[1].type, SL_FLOAT64);
    assert_int_equal(drain(&src, 10, 20000, NULL, NULL, 0), 10);
    pinst_free(&src);
    /* raw */
    assert_int_equal(pinst_make(&src, &sl_plugin_source_kafka, NULL, NULL, &err,
                                "{brokers: '%s', topics: fm-csv, group: fm2, format: raw}",
                                M.bootstrap),
                     SL_OK);
    assert_int_equal(src.out->n, 1);
    assert_string_equal(src.out->fields[0].name, "value");
    assert_int_equal(drain(&src, 3, 20000, NULL, NULL, 0), 3);
    pinst_free(&src);
    /* csv with a schema file */
    char path[300];
    snprintf(path, sizeof path, "%s/schema.json", tmpdir);
    sl_schema *s = data_schema();
    assert_int_equal(sl_schema_save_json(s, "t", path, &err), SL_OK);
    assert_int_equal(pinst_make(&src, &sl_plugin_source_kafka, NULL, NULL, &err,
                                "{brokers: '%s', topics: fm-csv, group: fm3, format: csv, "
                                "schema: '%s', on_error: skip}", M.bootstrap, path),
                     SL_OK);
    sl_batch *keep[4];
    int nkeep = 0;
    assert_int_equal(drain(&src, 2, 20000, keep, &nkeep, 4), 2);
    size_t n;
    assert_memory_equal(sl_col_str(keep[0]->cols[2], 1, &n), "b,c", 3);
    assert_false(sl_col_valid(keep[0]->cols[1], 1));
    for (int i = 0; i < nkeep; i++)
        sl_batch_unref(keep[i]);
    for (int i = 0; i < 50 && src.p->rejected(src.h) < 1; i++)
        drain(&src, 1, 50, NULL, NULL, 0);
    assert_int_equal(src.p->rejected(src.h), 1);
    pinst_free(&src);
    /* csv without a schema is a config error */
    assert_int_equal(pinst_make(&src, &sl_plugin_source_kafka, NULL, NULL, &err,
                                "{brokers: '%s', topics: fm-csv, group: fm4, format: csv}",
                                M.bootstrap),
                     SL_ECONFIG);
    assert_non_null(strstr(err.msg, "format csv needs a schema"));
    pinst_free(&src);
    sl_schema_free(s);
}

/* CSV values from the sink read back by a CSV source. */
static void test_sink_csv(void **state)
{
    (void)state;
    mock_topic(&M, "sc-out", 1);
    sl_schema *s = data_schema();
    sl_batch *b = sl_batch_new(s, 4);
    sl_column_append_int64(b->cols[0], 1);
    sl_column_append_float64(b->cols[1], 0.1);
    sl_column_append_str(b->cols[2], "a,\"b\"", 5);
    sl_column_append_null(b->cols[0]);
    sl_column_append_null(b->cols[1]);
    sl_column_append_str(b->cols[2], "NA", 2);
    sl_err err;
    assert_int_equal(sl_batch_seal(b, &err), SL_OK);
    pinst snk;
    assert_int_equal(pinst_make(&snk, &sl_plugin_sink_kafka, s, NULL, &err,
                                "{brokers: '%s', topic: sc-out, format: csv, key: id, "
                                "compression: zstd}", M.bootstrap),
                     SL_OK);
    assert_int_equal(snk.p->write(snk.h, b, &err), SL_OK);
    assert_int_equal(snk.p->checkpoint(snk.h, &err), SL_OK);
    rec r[4];
    assert_int_equal(read_topic(M.bootstrap, "sc-out", 1, 2, 10000, r), 2);
    assert_string_equal(r[0].value, "1,0.1,\"a,\"\"b\"\"\"");
    assert_string_equal(r[0].key, "1");
    assert_string_equal(r[1].value, ",,\"NA\"");
    assert_null(r[1].key);
    free_recs(r, 2);
    sl_batch_unref(b);
    pinst_free(&snk);
    sl_schema_free(s);
}

/* Nothing can be delivered: flush fails and says so. */
static void test_sink_undeliverable(void **state)
{
    (void)state;
    sl_schema *s = data_schema();
    sl_batch *b = sl_batch_new(s, 1);
    sl_column_append_int64(b->cols[0], 1);
    sl_column_append_float64(b->cols[1], 1);
    sl_column_append_str(b->cols[2], "x", 1);
    sl_err err;
    assert_int_equal(sl_batch_seal(b, &err), SL_OK);
    pinst snk;
    assert_int_equal(pinst_make(&snk, &sl_plugin_sink_kafka, s, NULL, &err,
                                "{brokers: '127.0.0.1:1', topic: t, flush_timeout_ms: 3000, "
                                "properties: {message.timeout.ms: 500}}"),
                     SL_OK);
    assert_int_equal(snk.p->write(snk.h, b, &err), SL_OK);
    assert_int_equal(snk.p->flush(snk.h, &err), SL_EIO);
    assert_non_null(strstr(err.msg, "1 messages to 't' were not delivered"));
    sl_kafka_sink_stats st;
    sl_kafka_sink_stats_get(snk.h, &st);
    assert_int_equal(st.failed, 1);
    /* and later writes fail at once */
    assert_int_equal(snk.p->write(snk.h, b, &err), SL_EIO);
    sl_batch_unref(b);
    pinst_free(&snk);
    sl_schema_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_dlq_topic),
        cmocka_unit_test(test_dlq_file_and_fail),
        cmocka_unit_test(test_commit_only_on_checkpoint),
        cmocka_unit_test(test_formats_and_infer),
        cmocka_unit_test(test_sink_csv),
        cmocka_unit_test(test_sink_undeliverable),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
