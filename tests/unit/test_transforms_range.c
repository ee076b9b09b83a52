/* Unit tests for bucketize and clip (src/processing/bucketize.c).
 * Reference values marked "numpy" were computed offline with numpy 2.4 on
 * gen() (reproduced exactly in Python, see test_transforms_stats.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "processing/transform_util.h"
#include "tf_test_util.h"

static double gen(int64_t i)
{
    return (double)((i * INT64_C(2654435761)) % 1000003) / 1000.0 - 500.0;
}

static sl_batch *gen_batch(int64_t from, int64_t to)
{
    sl_column *c = sl_column_new(SL_FLOAT64, to - from);
    for (int64_t i = from; i < to; i++)
        assert_int_equal(sl_column_append_float64(c, gen(i)), SL_OK);
    return batch("x", c, NULL);
}

static double *state_list(const char *text, const char *col, const char *key,
                          int *n)
{
    static double out[64];
    json_t *j = json_loads(text, 0, NULL);
    json_t *a = json_object_get(
        json_object_get(json_object_get(j, "columns"), col), key);
    *n = (int)json_array_size(a);
    for (int k = 0; k < *n && k < 64; k++)
        assert_int_equal(sl_tu_json_get_num(json_array_get(a, k), &out[k]), 0);
    json_decref(j);
    return out;
}

/* ---- bucketize ---- */

static void test_bucketize_fixed(void **state)
{
    (void)state;
    sl_batch *b = batch("x", F64(-1, 0, 0.5, 1, 2, 3, 9, NAN, NUL_F), "i",
                        I64(-1, 0, 0, 1, 2, 3, 9, 3, NUL_I), NULL);
    /* numpy.digitize([-1, 0, 0.5, 1, 2, 3, 9], [0, 1, 3]) =
     * [0, 1, 1, 2, 2, 3, 3] */
    sl_batch *o = fit_apply_roundtrip(
        &sl_plugin_bucketize, "{columns: [x, i], boundaries: [0, 1, 3]}", &b,
        1, b);
    EXPECT_I64(colnamed(o, "x"), 0, 1, 1, 2, 2, 3, 3, NUL_I, NUL_I);
    EXPECT_I64(colnamed(o, "i"), 0, 1, 1, 2, 2, 3, 3, 3, NUL_I);
    sl_batch_unref(o);
    /* fixed boundaries need no data */
    tf t;
    tf_ok(&t, &sl_plugin_bucketize, "{columns: [x], boundaries: [0.5]}");
    tf_fit_ok(&t, NULL, 0);
    o = tf_apply_ok(&t, b);
    EXPECT_I64(o->cols[0], 0, 0, 1, 1, 1, 1, 1, NUL_I, NUL_I);
    sl_batch_unref(o);
    tf_free(&t);
    /* an empty batch */
    uint8_t keep[9] = {0};
    sl_batch *empty;
    assert_int_equal(sl_batch_filter(b, keep, &empty), SL_OK);
    o = fit_apply_roundtrip(&sl_plugin_bucketize,
                            "{columns: [x, i], boundaries: [0, 1, 3]}", &b, 1,
                            empty);
    assert_int_equal(o->nrows, 0);
    assert_int_equal(o->cols[0]->type, SL_INT64);
    sl_batch_unref(o);
    o = fit_apply_roundtrip(&sl_plugin_clip, "{columns: [x, i], min: 0}", &b,
                            1, empty);
    assert_int_equal(o->nrows, 0);
    assert_int_equal(o->cols[1]->type, SL_INT64);
    sl_batch_unref(o);
    sl_batch_unref(empty);
    sl_batch_unref(b);
}

static void test_bucketize_quantiles(void **state)
{
    (void)state;
    sl_batch *all = gen_batch(0, 10000);
    sl_batch *parts[3] = {gen_batch(0, 3), gen_batch(3, 5000),
                          gen_batch(5000, 10000)};
    const char *y = "{columns: [x], buckets: 4}";
    char *a = fitted_state(&sl_plugin_bucketize, y, &all, 1);
    char *b = fitted_state(&sl_plugin_bucketize, y, parts, 3);
    assert_string_equal(a, b);
    int n;
    double *q = state_list(a, "x", "boundaries", &n);
    /* numpy.quantile(x, [0.25, 0.5, 0.75]) */
    assert_int_equal(n, 3);
    assert_true(q[0] == -249.50824999999998);
    assert_true(q[1] == 0.72349999999997294);
    assert_true(q[2] == 250.29825000000002);
    free(a);
    free(b);
    sl_batch *o = fit_apply_roundtrip(&sl_plugin_bucketize, y, parts, 3, all);
    int64_t count[4] = {0};
    for (int64_t i = 0; i < o->nrows; i++)
        count[sl_col_i64(o->cols[0], i)]++;
    for (int k = 0; k < 4; k++)
        assert_int_equal(count[k], 2500);
    sl_batch_unref(o);
    for (int k = 0; k < 3; k++)
        sl_batch_unref(parts[k]);
    sl_batch_unref(all);

    /* repeated quantiles collapse */
    sl_batch *sk = batch("x", I64(1, 1, 1, 1, 1, 2), NULL);
    a = fitted_state(&sl_plugin_bucketize, y, &sk, 1);
    assert_string_equal(a, "{\"columns\":{\"x\":{\"boundaries\":[1.0]}}}");
    free(a);
    o = fit_apply_roundtrip(&sl_plugin_bucketize, y, &sk, 1, sk);
    EXPECT_I64(o->cols[0], 1, 1, 1, 1, 1, 1);
    sl_batch_unref(o);
    sl_batch_unref(sk);
}

static void test_bucketize_errors(void **state)
{
    (void)state;
    tf t;
    assert_int_equal(tf_new(&t, &sl_plugin_bucketize,
                            "{columns: [x], boundaries: [0, 2, 1]}"),
                     SL_ECONFIG);
    assert_string_equal(t.err.msg,
                        "bucketize: boundaries must be strictly increasing "
                        "('1' follows '2')");
    assert_int_equal(t.err.col, 38);
    tf_free(&t);
    assert_int_equal(tf_new(&t, &sl_plugin_bucketize,
                            "{columns: [x], boundaries: [0, ten]}"),
                     SL_ECONFIG);
    assert_err_has(&t.err, "boundary 'ten' is not a finite number");
    tf_free(&t);
    assert_int_equal(tf_new(&t, &sl_plugin_bucketize,
                            "{columns: [x], boundaries: [0], buckets: 3}"),
                     SL_ECONFIG);
    assert_err_has(&t.err, "set exactly one of 'boundaries'");
    tf_free(&t);
    assert_int_equal(tf_new(&t, &sl_plugin_bucketize, "{columns: [x]}"),
                     SL_ECONFIG);
    tf_free(&t);
    assert_int_equal(tf_new(&t, &sl_plugin_bucketize,
                            "{columns: [x], buckets: 1}"),
                     SL_ECONFIG);
    assert_err_has(&t.err, "'buckets' must be at least 2");
    tf_free(&t);

    sl_batch *s = batch("x", STR("a", "b"), "n", F64(NUL_F, NAN), NULL);
    tf_ok(&t, &sl_plugin_bucketize, "{columns: [x], buckets: 3}");
    assert_int_equal(tf_fit(&t, &s, 1), SL_ESCHEMA);
    assert_err_has(&t.err, "bucketize: column 'x' has type string");
    tf_free(&t);
    tf_ok(&t, &sl_plugin_bucketize, "{columns: [n], buckets: 3}");
    assert_int_equal(tf_fit(&t, &s, 1), SL_ESCHEMA);
    assert_err_has(&t.err, "column 'n' has no non-missing value");
    tf_free(&t);
    sl_batch_unref(s);

    const char *y = "{columns: [x], buckets: 3}";
    expect_bad_state(&sl_plugin_bucketize, y,
                     "{\"columns\":{\"x\":{\"boundaries\":[2,1]}}}",
                     "key 'columns.x.boundaries[1]': boundaries must be "
                     "strictly increasing");
    expect_bad_state(&sl_plugin_bucketize, y,
                     "{\"columns\":{\"x\":{\"boundaries\":[\"inf\"]}}}",
                     "key 'columns.x.boundaries[0]': expected a finite "
                     "number");
    expect_bad_state(&sl_plugin_bucketize, y,
                     "{\"columns\":{\"x\":{\"boundaries\":1}}}",
                     "expected a list");
    expect_bad_state(&sl_plugin_bucketize, y, "{\"columns\":{}}",
                     "no entry for column 'x'");
    expect_bad_state(&sl_plugin_bucketize, "{columns: [x], boundaries: [1, 2]}",
                     "{\"columns\":{\"x\":{\"boundaries\":[1,3]}}}",
                     "key 'columns.x.boundaries': differs from the "
                     "configured boundaries");
}

/* ---- clip ---- */

static void test_clip_fixed(void **state)
{
    (void)state;
    sl_batch *b = batch("i", I64(-5, 3, 20, NUL_I), "f",
                        F64(-5, NAN, 20, NUL_F), "k", I64(-5, 3, 20, 1), NULL);
    sl_batch *o = fit_apply_roundtrip(
        &sl_plugin_clip, "{columns: [i, f], min: 0, max: 10}", &b, 1, b);
    EXPECT_I64(colnamed(o, "i"), 0, 3, 10, NUL_I); /* int stays int */
    EXPECT_F64(colnamed(o, "f"), 0, NAN, 10, NUL_F);
    sl_batch_unref(o);
    o = fit_apply_roundtrip(&sl_plugin_clip, "{columns: [i, k], max: 2.5}",
                            &b, 1, b);
    EXPECT_F64(colnamed(o, "i"), -5, 2.5, 2.5, NUL_F);
    EXPECT_F64(colnamed(o, "k"), -5, 2.5, 2.5, 1);
    sl_batch_unref(o);
    char *text = fitted_state(&sl_plugin_clip, "{columns: [i], min: -1}", &b,
                              1);
    assert_string_equal(text, "{\"columns\":{\"i\":{\"lower\":-1,\"upper\":"
                              "null}}}");
    free(text);
    sl_batch_unref(b);
}

static void test_clip_quantiles(void **state)
{
    (void)state;
    sl_batch *all = gen_batch(0, 10000);
    sl_batch *parts[2] = {gen_batch(0, 7777), gen_batch(7777, 10000)};
    const char *y = "{columns: [x], lower_quantile: 0.05, upper_quantile: 0.95}";
    char *a = fitted_state(&sl_plugin_clip, y, &all, 1);
    char *b = fitted_state(&sl_plugin_clip, y, parts, 2);
    assert_string_equal(a, b);
    /* numpy.quantile(x, 0.05), numpy.quantile(x, 0.95) */
    assert_string_equal(a, "{\"columns\":{\"x\":{\"lower\":-449.75725,"
                           "\"upper\":450.54724999999996}}}");
    free(a);
    free(b);
    sl_batch *ap = batch("x", F64(-500, 0, 500), NULL);
    sl_batch *o = fit_apply_roundtrip(&sl_plugin_clip, y, parts, 2, ap);
    EXPECT_F64(o->cols[0], -449.75725, 0, 450.54724999999996);
    sl_batch_unref(o);
    /* int column, fixed int min and fitted max: float64 */
    sl_batch *ib = batch("x", I64(-3, 1, 2, 3, 4), NULL);
    o = fit_apply_roundtrip(&sl_plugin_clip,
                            "{columns: [x], min: 0, upper_quantile: 0.5}", &ib,
                            1, ib);
    EXPECT_F64(o->cols[0], 0, 1, 2, 2, 2);
    sl_batch_unref(o);
    sl_batch_unref(ib);
    sl_batch_unref(ap);
    for (int k = 0; k < 2; k++)
        sl_batch_unref(parts[k]);
    sl_batch_unref(all);
}

static void test_clip_errors(void **state)
{
    (void)state;
    tf t;
    static const struct {
        const char *yaml, *msg;
    } bad[] = {
        {"{columns: [x], min: 0, lower_quantile: 0.1}",
         "clip: set 'min' or 'lower_quantile', not both"},
        {"{columns: [x], max: 0, upper_quantile: 0.1}",
         "clip: set 'max' or 'upper_quantile', not both"},
        {"{columns: [x]}", "clip: set a lower bound"},
        {"{columns: [x], min: 5, max: 1}",
         "clip: 'min' (5) is greater than 'max' (1)"},
        {"{columns: [x], upper_quantile: 1.5}",
         "clip: 'upper_quantile' must be a number between 0 and 1, got '1.5'"},
        {"{columns: [x], min: low}", "clip: 'min' must be a number, got 'low'"},
        {"{columns: [x], lower_quantile: 0.9, upper_quantile: 0.1}",
         "'lower_quantile' is greater than 'upper_quantile'"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        assert_int_equal(tf_new(&t, &sl_plugin_clip, bad[k].yaml), SL_ECONFIG);
        assert_err_has(&t.err, bad[k].msg);
        tf_free(&t);
    }
    const char *y = "{columns: [x], min: 0}";
    expect_bad_state(&sl_plugin_clip, y,
                     "{\"columns\":{\"x\":{\"upper\":3}}}",
                     "key 'columns.x.lower': missing, but the configuration "
                     "sets this bound");
    expect_bad_state(&sl_plugin_clip, y,
                     "{\"columns\":{\"x\":{\"lower\":0,\"upper\":3}}}",
                     "key 'columns.x.upper': set, but the configuration has "
                     "no such bound");
    expect_bad_state(&sl_plugin_clip, y,
                     "{\"columns\":{\"x\":{\"lower\":[0]}}}",
                     "key 'columns.x.lower': expected a number");
    expect_bad_state(&sl_plugin_clip, "{columns: [x], lower_quantile: 0.5, "
                                      "upper_quantile: 0.6}",
                     "{\"columns\":{\"x\":{\"lower\":2,\"upper\":1}}}",
                     "is greater than 'upper'");
    expect_bad_state(&sl_plugin_clip, "{columns: [x], min: 0, max: 1}",
                     "{\"columns\":{\"x\":{\"lower\":0,\"upper\":5}}}",
                     "key 'columns.x.upper': differs from the configured max "
                     "(1)");
    /* the configured bound decides integer-ness: an int column stays int */
    tf t2;
    assert_int_equal(tf_load_text(&t2, &sl_plugin_clip,
                                  "{columns: [x], min: 0, max: 1}",
                                  "{\"columns\":{\"x\":{\"lower\":0.0,"
                                  "\"upper\":1}}}"),
                     SL_OK);
    sl_batch *ib = batch("x", I64(-1, 5), NULL);
    sl_batch *o = tf_apply_ok(&t2, ib);
    EXPECT_I64(o->cols[0], 0, 1);
    sl_batch_unref(o);
    sl_batch_unref(ib);
    tf_free(&t2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bucketize_fixed),
        cmocka_unit_test(test_bucketize_quantiles),
        cmocka_unit_test(test_bucketize_errors),
        cmocka_unit_test(test_clip_fixed),
        cmocka_unit_test(test_clip_quantiles),
        cmocka_unit_test(test_clip_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
