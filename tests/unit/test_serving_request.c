/* Unit tests for the predict request parser (src/serving/request.c): both
 * body shapes, every value type, and every error a client can cause, with
 * the exact message (instance index + feature), plus the response and
 * error JSON writers (src/serving/response.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serving/internal.h"
#include "sluice/mem.h"
#include "sluice/value.h"

static sl_schema *g_schema;
static sv_input g_in;

static int setup(void **state)
{
    (void)state;
    sl_schema *s = sl_schema_new();
    assert_non_null(s);
    assert_int_equal(sl_schema_add(s, "color", SL_STRING, 0, NULL), SL_OK);
    assert_int_equal(sl_schema_add(s, "x1", SL_FLOAT64, 1, NULL), SL_OK);
    assert_int_equal(sl_schema_add(s, "x2", SL_FLOAT64, 0, NULL), SL_OK);
    assert_int_equal(sl_schema_add(s, "n", SL_INT64, 0, NULL), SL_OK);
    assert_int_equal(sl_schema_add(s, "flag", SL_BOOL, 1, NULL), SL_OK);
    assert_int_equal(sl_schema_add(s, "when", SL_DATE, 1, NULL), SL_OK);
    assert_int_equal(sl_schema_add(s, "ts", SL_TIMESTAMP, 1, NULL), SL_OK);
    assert_int_equal(sl_schema_add(s, "label", SL_STRING, 0, NULL), SL_OK);
    g_schema = s;
    g_in.schema = s;
    g_in.ignore_field = 7;
    g_in.unknown_error = 1;
    g_in.max_instances = 5;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sl_schema_free(g_schema);
    return 0;
}

static sl_batch *parse_ok(const char *body)
{
    sl_batch *b = NULL;
    sl_err e;
    sl_err_clear(&e);
    sl_rc rc = sv_parse_request(&g_in, body, strlen(body), &b, &e);
    if (rc != SL_OK)
        fail_msg("unexpected error %d: %s", rc, e.msg);
    assert_non_null(b);
    return b;
}

/* Parse must fail with rc and a message containing msg (and the field). */
static void parse_fails(const char *body, sl_rc rc, const char *msg, const char *field)
{
    sl_batch *b = (sl_batch *)1;
    sl_err e;
    sl_err_clear(&e);
    sl_rc got = sv_parse_request(&g_in, body, strlen(body), &b, &e);
    if (got != rc || !strstr(e.msg, msg))
        fail_msg("body %s: got %d '%s', want %d '%s'", body, got, e.msg, rc, msg);
    assert_null(b);
    if (field)
        assert_string_equal(e.field, field);
}

static void test_instances(void **state)
{
    (void)state;
    sl_batch *b = parse_ok(
        "{\"instances\": ["
        "{\"color\": \"red\", \"x1\": 1.5, \"x2\": 2, \"n\": 3, \"flag\": true,"
        " \"when\": \"2024-01-31\", \"ts\": \"2024-01-31T10:00:00Z\", \"label\": \"a\"},"
        "{\"n\": 4.0, \"x2\": -1e3, \"color\": 7, \"x1\": null},"
        "{\"color\": true, \"x2\": 0, \"n\": -9223372036854775808, \"when\": \"2024/02/01\"}"
        "], \"signature_name\": \"serving_default\"}");
    assert_int_equal(b->nrows, 3);
    assert_int_equal(b->schema->n, 8);
    size_t len;
    const char *s = sl_col_str(b->cols[0], 0, &len);
    assert_int_equal(len, 3);
    assert_memory_equal(s, "red", 3);
    s = sl_col_str(b->cols[0], 1, &len); /* a number read as its text */
    assert_memory_equal(s, "7", 1);
    s = sl_col_str(b->cols[0], 2, &len);
    assert_memory_equal(s, "true", 4);
    assert_true(sl_col_f64(b->cols[1], 0) == 1.5);
    assert_false(sl_col_valid(b->cols[1], 1)); /* explicit null */
    assert_false(sl_col_valid(b->cols[1], 2)); /* missing nullable */
    assert_true(sl_col_f64(b->cols[2], 1) == -1000);
    assert_int_equal(sl_col_i64(b->cols[3], 0), 3);
    assert_int_equal(sl_col_i64(b->cols[3], 1), 4);
    assert_true(sl_col_i64(b->cols[3], 2) == INT64_MIN);
    assert_true(sl_col_bool(b->cols[4], 0));
    assert_false(sl_col_valid(b->cols[4], 1));
    int32_t d;
    assert_int_equal(sl_parse_date("2024-01-31", 10, &d), 0);
    assert_int_equal(sl_col_i32(b->cols[5], 0), d);
    assert_int_equal(sl_col_i32(b->cols[5], 2), d + 1);
    int64_t t;
    assert_int_equal(sl_parse_timestamp("2024-01-31T10:00:00Z", 20, &t), 0);
    assert_true(sl_col_i64(b->cols[6], 0) == t);
    /* the target is never read: always null, nullable */
    assert_int_equal(b->cols[7]->null_count, 3);
    assert_true(b->schema->fields[7].nullable);
    sl_batch_unref(b);
}

static void test_inputs(void **state)
{
    (void)state;
    sl_batch *b = parse_ok("{\"inputs\": {\"color\": [\"a\", \"b\"], \"x2\": [1, 2.5],"
                           " \"n\": [1, 2], \"label\": [\"x\", \"y\"]}}");
    assert_int_equal(b->nrows, 2);
    assert_true(sl_col_f64(b->cols[2], 1) == 2.5);
    assert_int_equal(b->cols[1]->null_count, 2); /* missing nullable column */
    assert_int_equal(b->cols[7]->null_count, 2);
    sl_batch_unref(b);
    parse_fails("{\"inputs\": {\"color\": [\"a\"], \"x2\": [1, 2], \"n\": [1]}}", SL_EINVAL,
                "inputs.x2: 2 values, but inputs.color has 1 (every feature needs one value "
                "per instance)", "x2");
    parse_fails("{\"inputs\": {\"color\": [\"a\"], \"n\": [1]}}", SL_ESCHEMA,
                "inputs: missing feature 'x2' (not nullable)", "x2");
    parse_fails("{\"inputs\": {\"color\": [\"a\"], \"x2\": [\"z\"], \"n\": [1]}}", SL_ESCHEMA,
                "inputs.x2[0]: expected a number, got \"z\"", "x2");
    parse_fails("{\"inputs\": {\"color\": \"a\"}}", SL_EINVAL,
                "inputs.color: expected a list of values, got \"a\"", "color");
    parse_fails("{\"inputs\": {}}", SL_EINVAL, "inputs: no features (an empty object)", NULL);
    parse_fails("{\"inputs\": {\"color\": []}}", SL_EINVAL, "inputs: no instances", NULL);
    parse_fails("{\"inputs\": [1]}", SL_EINVAL,
                "inputs: expected an object {\"feature\": [values...]}, got a list", NULL);
    parse_fails("{\"inputs\": {\"colour\": [1]}}", SL_ESCHEMA,
                "inputs: unknown feature 'colour' (did you mean 'color'?)", "colour");
    parse_fails("{\"inputs\": {\"color\": [1,2,3,4,5,6]}}", SL_ELIMIT,
                "inputs: 6 instances exceed the limit of 5", NULL);
}

static void test_type_errors(void **state)
{
    (void)state;
    parse_fails("{\"instances\": [{\"color\": \"r\", \"x2\": 1, \"n\": 1},"
                " {\"color\": \"r\", \"x2\": 1, \"n\": 1},"
                " {\"color\": \"r\", \"x2\": 1, \"n\": 1},"
                " {\"color\": \"r\", \"x2\": \"abc\", \"n\": 1}]}",
                SL_ESCHEMA, "instances[3].x2: expected a number, got \"abc\"", "x2");
    parse_fails("{\"instances\": [{\"color\": \"r\", \"x2\": 1, \"n\": 1.5}]}", SL_ESCHEMA,
                "instances[0].n: expected an integer, got 1.5", "n");
    parse_fails("{\"instances\": [{\"color\": \"r\", \"x2\": 1, \"n\": 1e300}]}", SL_ESCHEMA,
                "instances[0].n: expected an integer, got 1e+300", "n");
    parse_fails("{\"instances\": [{\"color\": \"r\", \"x2\": 1, \"n\": \"1\"}]}", SL_ESCHEMA,
                "instances[0].n: expected an integer, got \"1\"", "n");
    parse_fails("{\"instances\": [{\"color\": \"r\", \"x2\": 1, \"n\": 1, \"flag\": 1}]}",
                SL_ESCHEMA, "instances[0].flag: expected true or false, got 1", "flag");
    parse_fails("{\"instances\": [{\"color\": [1], \"x2\": 1, \"n\": 1}]}", SL_ESCHEMA,
                "instances[0].color: expected a string, got a list", "color");
    parse_fails("{\"instances\": [{\"color\": {}, \"x2\": 1, \"n\": 1}]}", SL_ESCHEMA,
                "instances[0].color: expected a string, got an object", "color");
    parse_fails("{\"instances\": [{\"color\": \"r\", \"x2\": 1, \"n\": 1, \"when\": "
                "\"2024-13-01\"}]}",
                SL_ESCHEMA, "instances[0].when: expected a date (YYYY-MM-DD), got \"2024-13-01\"",
                "when");
    parse_fails("{\"instances\": [{\"color\": \"r\", \"x2\": 1, \"n\": 1, \"ts\": 5}]}",
                SL_ESCHEMA, "instances[0].ts: expected a timestamp", "ts");
    parse_fails("{\"instances\": [{\"color\": \"r\", \"x2\": null, \"n\": 1}]}", SL_ESCHEMA,
                "instances[0].x2: null, but the feature is not nullable", "x2");
    parse_fails("{\"instances\": [{\"color\": \"r\", \"n\": 1}]}", SL_ESCHEMA,
                "instances[0].x2: missing, but the feature is not nullable", "x2");
    /* long strings are cut in the message, control bytes escaped */
    parse_fails("{\"instances\": [{\"color\": \"r\", \"x2\": \"0123456789012345678901234567890"
                "123456789012345678901234567890\\u0001\", \"n\": 1}]}",
                SL_ESCHEMA,
                "got \"0123456789012345678901234567890123456789...\"", "x2");
    parse_fails("{\"instances\": [{\"color\": \"r\", \"x2\": \"\\u0001\", \"n\": 1}]}",
                SL_ESCHEMA, "got \"\\u0001\"", "x2");
}

static void test_shape_errors(void **state)
{
    (void)state;
    parse_fails("{\"instances\": [", SL_EPARSE, "invalid JSON at line 1, column", NULL);
    parse_fails("", SL_EPARSE, "invalid JSON", NULL);
    parse_fails("{\"instances\": [{\"color\": \"r\", \"color\": \"b\"}]}", SL_EPARSE,
                "duplicate object key", NULL);
    parse_fails("[1]", SL_EINVAL,
                "request: expected an object {\"instances\": [...]} or {\"inputs\": {...}}, "
                "got a list",
                NULL);
    parse_fails("\"x\"", SL_EPARSE, "invalid JSON", NULL); /* jansson wants a container */
    parse_fails("{}", SL_EINVAL, "request: expected {\"instances\": [...]} or {\"inputs\"",
                NULL);
    parse_fails("{\"rows\": []}", SL_EINVAL,
                "request: unknown key 'rows' (expected \"instances\" or \"inputs\")", NULL);
    parse_fails("{\"instances\": [], \"inputs\": {}}", SL_EINVAL,
                "both \"instances\" and \"inputs\" given", NULL);
    parse_fails("{\"instances\": {}}", SL_EINVAL,
                "instances: expected a list of objects, got an object", NULL);
    parse_fails("{\"instances\": []}", SL_EINVAL, "instances: no instances (an empty list)",
                NULL);
    parse_fails("{\"instances\": [1, 2, 3, 4, 5, 6]}", SL_ELIMIT,
                "instances: 6 instances exceed the limit of 5", NULL);
    parse_fails("{\"instances\": [{\"color\": \"r\", \"x2\": 1, \"n\": 1}, [1]]}", SL_EINVAL,
                "instances[1]: expected an object of features, got a list", NULL);
    parse_fails("{\"instances\": [{\"color\": \"r\", \"x2\": 1, \"n\": 1, \"qqqqqq\": 1}]}",
                SL_ESCHEMA, "instances[0]: unknown feature 'qqqqqq'", "qqqqqq");
}

/* A body with far more values than the instance limit allows is refused
 * before jansson builds its (memory-hungry) tree. */
static void test_prescan(void **state)
{
    (void)state;
    size_t n = 20000;
    char *body = malloc(n * 3 + 64);
    size_t k = (size_t)sprintf(body, "{\"instances\": [");
    for (size_t i = 0; i < n; i++)
        k += (size_t)sprintf(body + k, "%s{}", i ? "," : "");
    sprintf(body + k, "]}");
    parse_fails(body, SL_ELIMIT, "request: the body holds more values than 5 instances can",
                NULL);
    k = (size_t)sprintf(body, "[");
    for (size_t i = 0; i < n; i++)
        k += (size_t)sprintf(body + k, "%s1", i ? "," : "");
    sprintf(body + k, "]");
    parse_fails(body, SL_ELIMIT, "the instance limit", NULL);
    /* brackets and commas inside strings do not count */
    k = (size_t)sprintf(body, "{\"instances\": [{\"color\": \"");
    for (size_t i = 0; i < n; i++)
        body[k++] = i % 2 ? ',' : '[';
    sprintf(body + k, "\\\"\", \"x2\": 1, \"n\": 1}]}");
    sl_batch *b = parse_ok(body);
    size_t len;
    sl_col_str(b->cols[0], 0, &len);
    assert_int_equal(len, n + 1);
    sl_batch_unref(b);
    free(body);
}

static void test_unknown_ignore(void **state)
{
    (void)state;
    g_in.unknown_error = 0;
    sl_batch *b = parse_ok("{\"instances\": [{\"color\": \"r\", \"x2\": 1, \"n\": 1, "
                           "\"extra\": {\"deep\": [1]}}]}");
    assert_int_equal(b->nrows, 1);
    sl_batch_unref(b);
    b = parse_ok("{\"inputs\": {\"color\": [\"r\"], \"x2\": [1], \"n\": [1], \"extra\": 5}}");
    assert_int_equal(b->nrows, 1);
    sl_batch_unref(b);
    g_in.unknown_error = 1;
}

static void test_alloc_failures(void **state)
{
    (void)state;
    const char *bodies[] = {
        ("{\"instances\": [{\"color\": \"red\", \"x1\": 1.5, \"x2\": 2, \"n\": 3},"
         " {\"color\": \"blue\", \"x2\": 2, \"n\": 4, \"when\": \"2024-01-01\"}]}"),
        "{\"inputs\": {\"color\": [\"a\", \"b\"], \"x2\": [1, 2.5], \"n\": [1, 2]}}",
        "{\"instances\": [{\"colr\": 1}]}",
    };
    for (size_t k = 0; k < sizeof bodies / sizeof bodies[0]; k++) {
        for (long n = 0; n < 200; n++) {
            sl_batch *b = NULL;
            sl_err e;
            sl_err_clear(&e);
            sl_mem_fail_after(n);
            sl_rc rc = sv_parse_request(&g_in, bodies[k], strlen(bodies[k]), &b, &e);
            sl_mem_fail_after(-1);
            if (rc == SL_ENOMEM) {
                assert_null(b);
                assert_string_equal(e.msg, "out of memory");
                continue;
            }
            assert_true(rc == SL_OK || k == 2);
            sl_batch_unref(b);
            break;
        }
    }
}

static void test_response_json(void **state)
{
    (void)state;
    sl_strbuf b = {0};
    sv_error_json(&b, "invalid_argument", "instances[3].age: expected a number, got \"abc\"");
    char *p = sl_sb_take(&b, NULL);
    assert_string_equal(p, "{\"error\":{\"code\":\"invalid_argument\",\"message\":"
                           "\"instances[3].age: expected a number, got \\\"abc\\\"\"}}\n");
    sl_free(p);
    const char *code;
    assert_int_equal(sv_status_for(SL_EPARSE, &code), 400);
    assert_string_equal(code, "invalid_json");
    assert_int_equal(sv_status_for(SL_ESCHEMA, &code), 400);
    assert_string_equal(code, "invalid_argument");
    assert_int_equal(sv_status_for(SL_ELIMIT, &code), 413);
    assert_int_equal(sv_status_for(SL_ENOTFOUND, &code), 404);
    assert_int_equal(sv_status_for(SL_ENOMEM, &code), 503);
    assert_int_equal(sv_status_for(SL_EIO, &code), 500);
    assert_string_equal(code, "internal");

    /* predictions: classification and regression */
    sv_version v;
    memset(&v, 0, sizeof v);
    char c0[] = "\"no\"", c1[] = "\"yes\"";
    char *cj[] = {c0, c1};
    v.name = (char *)"m";
    v.version = 7;
    v.class_json = cj;
    v.nclasses = 2;
    v.classes_json = (char *)"[\"no\",\"yes\"]";
    int32_t label[] = {1, 0};
    double proba[] = {0.25, 0.75, 1, 0};
    sl_prediction pr = {.n = 2, .task = SL_TASK_CLASSIFICATION, .nclasses = 2, .label = label,
                        .proba = proba};
    sv_predictions_json(&b, &v, &pr);
    p = sl_sb_take(&b, NULL);
    assert_string_equal(p, "{\"predictions\":[\"yes\",\"no\"],\"probabilities\":[[0.25,0.75],"
                           "[1.0,0.0]],\"classes\":[\"no\",\"yes\"],\"model_name\":\"m\","
                           "\"model_version\":7}\n");
    sl_free(p);
    double val[] = {1.5, -0.1};
    sl_prediction rg = {.n = 2, .task = SL_TASK_REGRESSION, .value = val};
    sv_predictions_json(&b, &v, &rg);
    p = sl_sb_take(&b, NULL);
    assert_string_equal(p, "{\"predictions\":[1.5,-0.1],\"model_name\":\"m\","
                           "\"model_version\":7}\n");
    sl_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_instances),    cmocka_unit_test(test_inputs),
        cmocka_unit_test(test_type_errors),  cmocka_unit_test(test_shape_errors),
        cmocka_unit_test(test_unknown_ignore), cmocka_unit_test(test_alloc_failures),
        cmocka_unit_test(test_prescan),
        cmocka_unit_test(test_response_json),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
