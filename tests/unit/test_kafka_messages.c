/*
 * test_kafka_messages.c: decoding sets of messages into batches
 * (src/formats/messages.h): JSON and CSV, bad messages reported with their
 * index and reason (never dropped silently), order preserved, the resume
 * protocol with many bad messages, schema inference, allocation failures.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "formats/messages.h"
#include "sluice/batch.h"
#include "sluice/log.h"
#include "sluice/mem.h"

typedef struct bad_log {
    int n;
    int64_t idx[4096];
    char why[8][SL_ERR_MSG_MAX];
    char field[8][SL_ERR_FIELD_MAX];
} bad_log;

static sl_rc on_bad(void *arg, int64_t idx, const sl_err *why, sl_err *err)
{
    (void)err;
    bad_log *l = arg;
    if (l->n < 8) {
        snprintf(l->why[l->n], sizeof l->why[0], "%s", why->msg);
        snprintf(l->field[l->n], sizeof l->field[0], "%s", why->field);
    }
    if (l->n < 4096)
        l->idx[l->n] = idx;
    l->n++;
    return SL_OK;
}

static sl_schema *schema3(void)
{
    sl_schema *s = sl_schema_new();
    assert_int_equal(sl_schema_add(s, "id", SL_INT64, 1, NULL), SL_OK);
    assert_int_equal(sl_schema_add(s, "name", SL_STRING, 1, NULL), SL_OK);
    assert_int_equal(sl_schema_add(s, "x", SL_FLOAT64, 1, NULL), SL_OK);
    return s;
}

static sl_msgs *make(sl_msg_format f, const sl_schema *s)
{
    sl_msgs_options o = {.format = f, .name = "test"};
    sl_msgs *m = NULL;
    sl_err err;
    sl_err_clear(&err);
    sl_rc rc = sl_msgs_new(s, &o, &m, &err);
    if (rc != SL_OK)
        fail_msg("sl_msgs_new: %s", err.msg);
    return m;
}

static void add_ok(sl_msgs *m, const char *v)
{
    sl_err why;
    sl_err_clear(&why);
    sl_rc rc = sl_msgs_add(m, v, strlen(v), &why);
    if (rc != SL_OK)
        fail_msg("add '%s': %s", v, why.msg);
}

static void add_rejected(sl_msgs *m, const char *v, const char *want)
{
    sl_err why;
    sl_err_clear(&why);
    assert_int_equal(sl_msgs_add(m, v, strlen(v), &why), SL_EPARSE);
    if (!strstr(why.msg, want))
        fail_msg("reason '%s' lacks '%s'", why.msg, want);
}

static sl_batch *decode(sl_msgs *m, bad_log *l)
{
    sl_batch *b = NULL;
    sl_err err;
    sl_err_clear(&err);
    memset(l, 0, sizeof *l);
    sl_rc rc = sl_msgs_decode(m, &b, on_bad, l, &err);
    if (rc != SL_OK)
        fail_msg("decode: %s", err.msg);
    return b;
}

static void test_json_good(void **state)
{
    (void)state;
    sl_log_setup(SL_LOG_ERROR, SL_LOG_TEXT);
    sl_schema *s = schema3();
    sl_msgs *m = make(SL_MSG_JSON, s);
    bad_log l;
    for (int round = 0; round < 2; round++) { /* the decoder is reusable */
        sl_msgs_clear(m);
        add_ok(m, "{\"id\": 1, \"name\": \"a\", \"x\": 1.5}");
        add_ok(m, "{\"x\": 2, \"id\": 2}");              /* any key order, missing key */
        add_ok(m, "{\n  \"id\": 3,\n  \"name\": \"c\"\n}"); /* pretty-printed */
        add_ok(m, "{\"id\": 4, \"extra\": [1, 2]}");     /* unknown key ignored */
        assert_int_equal(sl_msgs_count(m), 4);
        sl_batch *b = decode(m, &l);
        assert_int_equal(l.n, 0);
        assert_int_equal(b->nrows, 4);
        assert_int_equal(b->schema->n, 3);
        for (int i = 0; i < 4; i++)
            assert_int_equal(sl_col_i64(b->cols[0], i), i + 1);
        size_t n;
        assert_memory_equal(sl_col_str(b->cols[1], 2, &n), "c", 1);
        assert_false(sl_col_valid(b->cols[1], 1));
        assert_true(sl_col_f64(b->cols[2], 1) == 2.0);
        sl_batch_unref(b);
    }
    sl_msgs_free(m);
    sl_schema_free(s);
}

static void test_json_bad(void **state)
{
    (void)state;
    sl_schema *s = schema3();
    sl_msgs *m = make(SL_MSG_JSON, s);
    bad_log l;
    add_ok(m, "{\"id\": 1}");
    add_ok(m, "{\"id\": 2");                       /* 1: syntax */
    add_ok(m, "{\"id\": \"two\"}");                /* 2: wrong type */
    add_ok(m, "[1, 2]");                           /* 3: not an object */
    add_ok(m, "{\"id\": 5}");
    add_ok(m, "{\"id\": 6} trailing");             /* 5: garbage */
    add_ok(m, "{\"id\": 7}");
    add_rejected(m, "", "empty message");
    add_rejected(m, "  \n ", "empty message");
    add_rejected(m, "\xef\xbb\xbf", "empty message"); /* a byte order mark alone */
    add_rejected(m, "{\"name\": \"a\nb\"}", "line break inside a string");
    assert_int_equal(sl_msgs_count(m), 7);
    sl_batch *b = decode(m, &l);
    assert_int_equal(l.n, 4);
    assert_int_equal(l.idx[0], 1);
    assert_int_equal(l.idx[1], 2);
    assert_int_equal(l.idx[2], 3);
    assert_int_equal(l.idx[3], 5);
    assert_non_null(strstr(l.why[1], "id"));
    assert_string_equal(l.field[1], "id");
    assert_non_null(strstr(l.why[2], "JSON object"));
    assert_int_equal(b->nrows, 3);
    assert_int_equal(sl_col_i64(b->cols[0], 0), 1);
    assert_int_equal(sl_col_i64(b->cols[0], 1), 5);
    assert_int_equal(sl_col_i64(b->cols[0], 2), 7);
    sl_batch_unref(b);

    /* all bad, and nothing at all */
    sl_msgs_clear(m);
    add_ok(m, "nope");
    add_ok(m, "{");
    b = decode(m, &l);
    assert_int_equal(l.n, 2);
    assert_int_equal(b->nrows, 0);
    assert_int_equal(b->schema->n, 3);
    sl_batch_unref(b);
    sl_msgs_clear(m);
    b = decode(m, &l);
    assert_int_equal(l.n, 0);
    assert_int_equal(b->nrows, 0);
    sl_batch_unref(b);
    sl_msgs_free(m);
    sl_schema_free(s);
}

/* Every other message bad: each bad one found once, good ones in order. */
static void test_json_many_bad(void **state)
{
    (void)state;
    sl_schema *s = schema3();
    sl_msgs *m = make(SL_MSG_JSON, s);
    bad_log *l = calloc(1, sizeof *l);
    char v[64];
    for (int i = 0; i < 3000; i++) {
        if (i % 2)
            snprintf(v, sizeof v, "{\"id\": %d, \"x\": \"bad\"}", i);
        else
            snprintf(v, sizeof v, "{\"id\": %d}", i);
        add_ok(m, v);
    }
    sl_batch *b = decode(m, l);
    assert_int_equal(l->n, 1500);
    for (int i = 0; i < 1500; i++)
        assert_int_equal(l->idx[i], 2 * i + 1);
    assert_int_equal(b->nrows, 1500);
    for (int i = 0; i < 1500; i++)
        assert_int_equal(sl_col_i64(b->cols[0], i), 2 * i);
    sl_batch_unref(b);
    free(l);
    sl_msgs_free(m);
    sl_schema_free(s);
}

static void test_json_not_nullable(void **state)
{
    (void)state;
    sl_schema *s = sl_schema_new();
    assert_int_equal(sl_schema_add(s, "k", SL_STRING, 0, NULL), SL_OK);
    assert_int_equal(sl_schema_add(s, "t", SL_TIMESTAMP, 1, NULL), SL_OK);
    sl_msgs *m = make(SL_MSG_JSON, s);
    bad_log l;
    add_ok(m, "{\"k\": \"a\", \"t\": \"2024-01-02T03:04:05Z\"}");
    add_ok(m, "{\"t\": \"2024-01-02\"}");
    add_ok(m, "{\"k\": \"b\", \"t\": \"yesterday\"}");
    sl_batch *b = decode(m, &l);
    assert_int_equal(l.n, 2);
    assert_non_null(strstr(l.why[0], "not nullable"));
    assert_int_equal(l.idx[1], 2);
    assert_int_equal(b->nrows, 1);
    assert_int_equal(sl_col_i64(b->cols[1], 0), 1704164645000000LL);
    sl_batch_unref(b);
    sl_msgs_free(m);
    sl_schema_free(s);
}

static void test_csv(void **state)
{
    (void)state;
    sl_schema *s = schema3();
    sl_msgs *m = make(SL_MSG_CSV, s);
    bad_log l;
    add_ok(m, "1,a,1.5");
    add_ok(m, "2,\"multi\nline\",2\n");  /* newline inside quotes; trailing EOL */
    add_ok(m, "3,b");                     /* 2: too few fields */
    add_ok(m, "4,\"q\"\"uote\",4\r\n");
    add_ok(m, "x,c,5");                   /* 4: not an int */
    add_ok(m, "6,,");                     /* nulls */
    add_rejected(m, "7,a,1\n8,b,2", "more than one CSV record");
    add_rejected(m, "7,\"open,1", "unterminated quoted field");
    add_rejected(m, "\n", "empty message");
    sl_batch *b = decode(m, &l);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.idx[0], 2);
    assert_int_equal(l.idx[1], 4);
    assert_non_null(strstr(l.why[1], "x"));
    assert_int_equal(b->nrows, 4);
    size_t n;
    const char *p = sl_col_str(b->cols[1], 1, &n);
    assert_int_equal(n, 10);
    assert_memory_equal(p, "multi\nline", 10);
    p = sl_col_str(b->cols[1], 2, &n);
    assert_int_equal(n, 6);
    assert_memory_equal(p, "q\"uote", 6);
    assert_int_equal(sl_col_i64(b->cols[0], 3), 6);
    assert_false(sl_col_valid(b->cols[2], 3));
    sl_batch_unref(b);
    sl_msgs_free(m);
    sl_schema_free(s);
}

static void test_infer(void **state)
{
    (void)state;
    const char *v[] = {"{\"a\": 1, \"b\": \"x\"}", "garbage", "{\"a\": 2.5, \"c\": true}"};
    size_t lens[3];
    for (int i = 0; i < 3; i++)
        lens[i] = strlen(v[i]);
    sl_schema *s = NULL;
    sl_err err;
    sl_err_clear(&err);
    assert_int_equal(sl_msgs_infer_json((const void *const *)v, lens, 3, NULL, &s, &err), SL_OK);
    assert_int_equal(s->n, 3);
    assert_string_equal(s->fields[0].name, "a");
    assert_int_equal(s->fields[0].type, SL_FLOAT64);
    assert_int_equal(s->fields[2].type, SL_BOOL);
    sl_schema_free(s);
    assert_int_equal(sl_msgs_infer_json((const void *const *)v + 1, lens + 1, 1, NULL, &s, &err),
                     SL_EPARSE);
    assert_non_null(strstr(err.msg, "cannot infer"));
    assert_null(s);
}

static void test_put_str(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    assert_int_equal(sl_json_put_str(&buf, &len, &cap, "a\"b\\\n\x01\xff\xc3\xa9", 9), SL_OK);
    const char *want = "\"a\\\"b\\\\\\n\\u0001\\u00ff\xc3\xa9\"";
    assert_int_equal(len, strlen(want));
    assert_memory_equal(buf, want, len);
    sl_free(buf);
}

/* Allocation failures anywhere: an error, never a crash or a leak. */
static void test_alloc_failures(void **state)
{
    (void)state;
    sl_schema *s = schema3();
    for (int f = 0; f < 2; f++) {
        for (long n = 0; n < 400; n++) {
            sl_msgs_options o = {.format = f ? SL_MSG_CSV : SL_MSG_JSON};
            sl_msgs *m = NULL;
            sl_batch *b = NULL;
            bad_log l;
            memset(&l, 0, sizeof l);
            sl_mem_fail_after(n);
            sl_rc rc = sl_msgs_new(s, &o, &m, NULL);
            if (rc == SL_OK) {
                const char *good = f ? "1,a,2" : "{\"id\": 1}";
                const char *bad = f ? "z,a,2" : "{\"id\": true}";
                int added = (sl_msgs_add(m, good, strlen(good), NULL) == SL_OK) +
                            (sl_msgs_add(m, bad, strlen(bad), NULL) == SL_OK) * 10 +
                            (sl_msgs_add(m, good, strlen(good), NULL) == SL_OK);
                rc = sl_msgs_decode(m, &b, on_bad, &l, NULL);
                if (rc == SL_OK && added == 12)
                    assert_int_equal(b->nrows, 2);
            }
            sl_mem_fail_after(-1);
            sl_batch_unref(b);
            sl_msgs_free(m);
        }
    }
    sl_schema_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_good),
        cmocka_unit_test(test_json_bad),
        cmocka_unit_test(test_json_many_bad),
        cmocka_unit_test(test_json_not_nullable),
        cmocka_unit_test(test_csv),
        cmocka_unit_test(test_infer),
        cmocka_unit_test(test_put_str),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
