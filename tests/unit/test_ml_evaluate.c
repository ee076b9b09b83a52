/* Unit tests for src/ml/evaluate.c: the metric catalogue, the gate
 * (parse errors, evaluation with nulls, the blessing decision) and the
 * evaluation files (metrics.json, the CSV, reading a baseline back). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sluice/evaluate.h"
#include "sluice/mem.h"

static sl_metric_set set2(const char *a, double va, const char *b, double vb)
{
    sl_metric_set s;
    memset(&s, 0, sizeof s);
    if (a) {
        s.names[s.n] = a;
        s.values[s.n++] = va;
    }
    if (b) {
        s.names[s.n] = b;
        s.values[s.n++] = vb;
    }
    return s;
}

static void test_catalogue(void **state)
{
    (void)state;
    assert_int_equal(sl_metric_known_count(), 14);
    assert_string_equal(sl_metric_canonical("roc_auc"), "auc");
    assert_string_equal(sl_metric_canonical("rmse"), "rmse");
    assert_null(sl_metric_canonical("acc"));
    assert_int_equal(sl_metric_task("auc"), SL_TASK_CLASSIFICATION);
    assert_int_equal(sl_metric_task("r2"), SL_TASK_REGRESSION);
    assert_int_equal(sl_metric_task("nope"), SL_TASK_NONE);
    assert_string_equal(sl_metric_closest("acuracy"), "accuracy");
}

/* Parse failure: code, column in the gate text, message. */
static void expect_gate_error(const char *text, int64_t col, const char *msg)
{
    sl_gate *g = (sl_gate *)1;
    sl_err e;
    sl_err_clear(&e);
    assert_int_equal(sl_gate_parse(text, &g, &e), SL_ECONFIG);
    assert_null(g);
    if (!strstr(e.msg, msg))
        fail_msg("gate '%s': got '%s', want '%s'", text, e.msg, msg);
    assert_int_equal(e.col, col);
}

static void test_gate_parse_errors(void **state)
{
    (void)state;
    expect_gate_error("acuracy > 0.5", 1,
                      "gate: unknown metric 'acuracy' (did you mean 'accuracy'?)");
    expect_gate_error("auc >= baseline.acu - 0.001", 8,
                      "gate: unknown metric 'baseline.acu' (did you mean 'baseline.auc'?)");
    expect_gate_error("auc + 1", 1, "gate: the expression must be a condition");
    expect_gate_error("auc >= (", 9, "gate: ");
    expect_gate_error("zzzzzzzzzzzz > 1", 1, "gate: unknown metric 'zzzzzzzzzzzz' (metrics:");
}

static void test_gate_metrics_and_rewrite(void **state)
{
    (void)state;
    sl_gate *g;
    sl_err e;
    sl_err_clear(&e);
    assert_int_equal(sl_gate_parse("roc_auc >= baseline.auc - 0.001 and f1 > 0", &g, &e),
                     SL_OK);
    assert_string_equal(sl_gate_text(g), "roc_auc >= baseline.auc - 0.001 and f1 > 0");
    assert_int_equal(sl_gate_uses_baseline(g), 1);
    const char *const *used;
    assert_int_equal(sl_gate_metrics(g, &used), 2);
    assert_string_equal(used[0], "auc");
    assert_string_equal(used[1], "f1");
    sl_gate_free(g);
    /* baseline. inside a string literal is text, not a metric */
    assert_int_equal(sl_gate_parse("'baseline.x' = 'baseline.x' and accuracy > 0.5", &g, &e),
                     SL_OK);
    assert_int_equal(sl_gate_uses_baseline(g), 0);
    sl_metric_set cur = set2("accuracy", 0.9, NULL, 0);
    int r = -2;
    assert_int_equal(sl_gate_eval(g, &cur, NULL, &r, NULL, 0, &e), SL_OK);
    assert_int_equal(r, 1);
    sl_gate_free(g);
}

static void test_gate_eval(void **state)
{
    (void)state;
    sl_gate *g;
    sl_err e;
    char detail[256];
    int r;
    sl_err_clear(&e);
    assert_int_equal(sl_gate_parse("auc >= baseline.auc - 0.001", &g, &e), SL_OK);
    sl_metric_set cur = set2("accuracy", 0.8, "auc", 0.9305);
    sl_metric_set base = set2("auc", 0.9310, NULL, 0);
    assert_int_equal(sl_gate_eval(g, &cur, &base, &r, detail, sizeof detail, &e), SL_OK);
    assert_int_equal(r, 1);
    assert_string_equal(detail, "auc=0.9305, baseline.auc=0.931");
    base.values[0] = 0.9320;
    assert_int_equal(sl_gate_eval(g, &cur, &base, &r, detail, sizeof detail, &e), SL_OK);
    assert_int_equal(r, 0);
    /* no baseline value: null, not a pass */
    assert_int_equal(sl_gate_eval(g, &cur, NULL, &r, detail, sizeof detail, &e), SL_OK);
    assert_int_equal(r, -1);
    assert_string_equal(detail, "auc=0.9305, baseline.auc=n/a");
    /* a NaN metric (e.g. AUC of a one-class test set) is missing too */
    cur.values[1] = NAN;
    base.values[0] = 0.5;
    assert_int_equal(sl_gate_eval(g, &cur, &base, &r, NULL, 0, &e), SL_OK);
    assert_int_equal(r, -1);
    sl_gate_free(g);
}

static void test_gate_decide(void **state)
{
    (void)state;
    sl_gate *g;
    sl_err e;
    char why[512];
    int blessed, r;
    sl_err_clear(&e);
    sl_metric_set cur = set2("auc", 0.90, NULL, 0);
    sl_eval_baseline base;
    memset(&base, 0, sizeof base);

    assert_int_equal(sl_gate_decide(NULL, &cur, NULL, &blessed, &r, why, sizeof why, &e), SL_OK);
    assert_int_equal(blessed, 1);
    assert_string_equal(why, "no gate");

    assert_int_equal(sl_gate_parse("auc >= baseline.auc", &g, &e), SL_OK);
    snprintf(base.source, sizeof base.source, "blessed");
    assert_int_equal(sl_gate_decide(g, &cur, &base, &blessed, &r, why, sizeof why, &e), SL_OK);
    assert_int_equal(blessed, 1);
    assert_int_equal(r, -1);
    assert_string_equal(why, "no 'blessed' version yet to compare with, so the gate "
                             "'auc >= baseline.auc' is not applied");

    base.present = 1;
    base.metrics = set2("auc", 0.95, NULL, 0);
    assert_int_equal(sl_gate_decide(g, &cur, &base, &blessed, &r, why, sizeof why, &e), SL_OK);
    assert_int_equal(blessed, 0);
    assert_int_equal(r, 0);
    assert_string_equal(why, "gate fails: 'auc >= baseline.auc' (auc=0.9, baseline.auc=0.95)");

    base.metrics = set2("auc", 0.85, NULL, 0);
    assert_int_equal(sl_gate_decide(g, &cur, &base, &blessed, &r, why, sizeof why, &e), SL_OK);
    assert_int_equal(blessed, 1);
    assert_string_equal(why, "gate holds: 'auc >= baseline.auc' (auc=0.9, baseline.auc=0.85)");

    base.metrics = set2("f1", 0.85, NULL, 0); /* baseline lacks the metric */
    assert_int_equal(sl_gate_decide(g, &cur, &base, &blessed, &r, why, sizeof why, &e), SL_OK);
    assert_int_equal(blessed, 0);
    assert_int_equal(r, -1);
    assert_non_null(strstr(why, "gate cannot be decided"));
    sl_gate_free(g);

    /* a gate without baseline.* is applied even without a baseline */
    assert_int_equal(sl_gate_parse("auc > 0.95", &g, &e), SL_OK);
    assert_int_equal(sl_gate_decide(g, &cur, NULL, &blessed, &r, why, sizeof why, &e), SL_OK);
    assert_int_equal(blessed, 0);
    assert_int_equal(r, 0);
    sl_gate_free(g);
}

/* A report with two metrics, one slice, a baseline and a gate. */
static sl_eval_report sample_report(sl_eval_baseline *base, sl_eval_slice *slice,
                                    json_t *desc)
{
    memset(base, 0, sizeof *base);
    base->present = 1;
    base->version = 1;
    snprintf(base->source, sizeof base->source, "blessed");
    base->metrics = set2("accuracy", 0.75, "auc", 0.5);
    slice->column = "city";
    slice->value = "Oslo, NO";
    slice->rows = 10;
    slice->metrics = set2("accuracy", 0.5, "auc", NAN);
    sl_eval_report r = {
        .name = "demo", .version = 2, .spec_file = "train.yaml",
        .created = "2026-01-02T03:04:05Z", .model_type = "random_forest",
        .task = SL_TASK_CLASSIFICATION, .target = "label", .key_metric = "auc",
        .metrics = set2("accuracy", 0.875, "auc", 0.75), .nslices = 1, .slices = slice,
        .baseline = base, .gate = "auc >= baseline.auc", .gate_result = 1, .blessed = 1,
        .reason = "gate holds", .rows_train = 80, .rows_test = 20,
        .seconds_pipeline = 0.5, .seconds_fit = 0.25, .seconds_predict = 0.125,
        .seconds_total = 1, .describe = desc};
    return r;
}

static void test_report_json(void **state)
{
    (void)state;
    sl_eval_baseline base;
    sl_eval_slice slice;
    json_t *desc = json_pack("{s:s}", "type", "random_forest");
    sl_eval_report r = sample_report(&base, &slice, desc);
    json_t *j = sl_eval_report_json(&r);
    assert_non_null(j);
    static const char *const keys[] = {
        "format", "version", "model", "model_version", "model_type", "task", "target",
        "created", "spec", "key_metric", "metrics", "slices", "baseline", "gate", "blessed",
        "reason", "rows", "timings", "model_describe", NULL};
    size_t i = 0;
    const char *key;
    json_t *v;
    json_object_foreach(j, key, v) {
        assert_non_null(keys[i]);
        assert_string_equal(key, keys[i]);
        i++;
    }
    assert_null(keys[i]);
    assert_string_equal(json_string_value(json_object_get(j, "format")), "sluice-metrics");
    assert_true(json_real_value(json_object_get(json_object_get(j, "metrics"), "auc")) == 0.75);
    json_t *s0 = json_array_get(json_object_get(j, "slices"), 0);
    assert_string_equal(json_string_value(json_object_get(s0, "value")), "Oslo, NO");
    assert_true(json_is_null(json_object_get(json_object_get(s0, "metrics"), "auc")));
    json_t *b = json_object_get(j, "baseline");
    assert_string_equal(json_string_value(json_object_get(b, "source")), "blessed");
    assert_int_equal(json_integer_value(json_object_get(b, "version")), 1);
    assert_true(json_is_true(json_object_get(json_object_get(j, "gate"), "result")));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "rows"), "test")),
                     20);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(j, "model_describe"), "type")),
        "random_forest");
    json_decref(j);
    /* no baseline, no gate: both null */
    r.baseline = NULL;
    r.gate = NULL;
    j = sl_eval_report_json(&r);
    assert_true(json_is_null(json_object_get(j, "baseline")));
    assert_true(json_is_null(json_object_get(j, "gate")));
    json_decref(j);
    json_decref(desc);
}

static void test_report_csv(void **state)
{
    (void)state;
    sl_eval_baseline base;
    sl_eval_slice slice;
    sl_eval_report r = sample_report(&base, &slice, NULL);
    char *text;
    size_t len;
    sl_err e;
    sl_err_clear(&e);
    assert_int_equal(sl_eval_report_csv(&r, &text, &len, &e), SL_OK);
    assert_string_equal(text, "metric,slice,value,baseline,delta\n"
                              "accuracy,,0.875,0.75,0.125\n"
                              "auc,,0.75,0.5,0.25\n"
                              "accuracy,\"city=Oslo, NO\",0.5,,\n"
                              "auc,\"city=Oslo, NO\",,,\n");
    assert_int_equal(len, strlen(text));
    sl_free(text);
}

static void test_metrics_roundtrip(void **state)
{
    (void)state;
    char path[] = "/tmp/sl_eval_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    sl_eval_baseline base, back;
    sl_eval_slice slice;
    sl_eval_report r = sample_report(&base, &slice, NULL);
    json_t *j = sl_eval_report_json(&r);
    assert_int_equal(json_dump_file(j, path, JSON_INDENT(2)), 0);
    json_decref(j);
    sl_err e;
    sl_err_clear(&e);
    assert_int_equal(sl_eval_metrics_load(path, &back, &e), SL_OK);
    assert_int_equal(back.present, 1);
    assert_int_equal(back.version, 2);
    double v;
    assert_int_equal(sl_metric_set_get(&back.metrics, "auc", &v), SL_OK);
    assert_true(v == 0.75);
    assert_int_equal(back.nslices, 1);
    const sl_metric_set *sm = sl_eval_baseline_slice(&back, "city", "Oslo, NO");
    assert_non_null(sm);
    assert_int_equal(sm->n, 1); /* the null auc is not a value */
    assert_null(sl_eval_baseline_slice(&back, "city", "Bergen"));
    sl_eval_baseline_clear(&back);

    /* not a metrics file; a missing one */
    FILE *f = fopen(path, "w");
    fputs("{\"metrics\": {}}", f);
    fclose(f);
    assert_int_equal(sl_eval_metrics_load(path, &back, &e), SL_EPARSE);
    assert_non_null(strstr(e.msg, "not a sluice metrics file"));
    unlink(path);
    sl_err_clear(&e);
    assert_int_equal(sl_eval_metrics_load(path, &back, &e), SL_ENOTFOUND);
    assert_string_equal(e.file, path);
}

/* Every allocation failing in turn: an error or success, never a crash
 * or a leak (the ASan build checks the leaks). */
static void test_alloc_failures(void **state)
{
    (void)state;
    sl_eval_baseline base;
    sl_eval_slice slice;
    sl_eval_report r = sample_report(&base, &slice, NULL);
    int done = 0;
    for (long n = 0; n < 2000 && !done; n++) {
        sl_err e;
        sl_gate *g = NULL;
        char *text = NULL, why[256];
        size_t len;
        int blessed, res;
        sl_err_clear(&e);
        sl_mem_fail_after(n);
        sl_rc rc = sl_gate_parse("auc >= baseline.auc - 0.001 and accuracy > 0.5", &g, &e);
        if (rc == SL_OK)
            rc = sl_gate_decide(g, &r.metrics, &base, &blessed, &res, why, sizeof why, &e);
        if (rc == SL_OK)
            rc = sl_eval_report_csv(&r, &text, &len, &e);
        sl_mem_fail_after(-1);
        if (rc != SL_OK)
            assert_int_equal(rc, SL_ENOMEM);
        done = rc == SL_OK;
        if (done) {
            assert_int_equal(blessed, 1);
            assert_non_null(text);
        }
        sl_free(text);
        sl_gate_free(g);
    }
    assert_true(done);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_catalogue),
        cmocka_unit_test(test_gate_parse_errors),
        cmocka_unit_test(test_gate_metrics_and_rewrite),
        cmocka_unit_test(test_gate_eval),
        cmocka_unit_test(test_gate_decide),
        cmocka_unit_test(test_report_json),
        cmocka_unit_test(test_report_csv),
        cmocka_unit_test(test_metrics_roundtrip),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
