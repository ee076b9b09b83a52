/* Unit tests for quantiles (src/processing/quantile.c), the block-wise
 * mean/variance, impute (impute.c) and scale (scale.c).
 *
 * Reference values marked "numpy"/"sklearn" were computed offline with
 * numpy 2.4 and scikit-learn 1.9 on the same data (gen() below is
 * reproduced exactly in Python:
 * ((i * 2654435761 + seed) % 1000003) / 1000.0 - 500.0). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "processing/quantile.h"
#include "processing/transform_util.h"
#include "tf_test_util.h"

static double gen(int64_t i, int64_t seed)
{
    return (double)((i * INT64_C(2654435761) + seed) % 1000003) / 1000.0 -
           500.0;
}

/* Rows [from, to) of gen() as float64 column "x". */
static sl_batch *gen_batch(int64_t from, int64_t to)
{
    sl_column *c = sl_column_new(SL_FLOAT64, to - from);
    for (int64_t i = from; i < to; i++)
        assert_int_equal(sl_column_append_float64(c, gen(i, 0)), SL_OK);
    return batch("x", c, NULL);
}

/* The same 10000 rows as 1 batch and as batches of awkward sizes. */
typedef struct split10k {
    sl_batch *one[1];
    sl_batch *many[6];
} split10k;

static void split_make(split10k *s)
{
    static const int64_t cut[] = {0, 1, 8, 4103, 8199, 8200, 10000};
    s->one[0] = gen_batch(0, 10000);
    for (int k = 0; k < 6; k++)
        s->many[k] = gen_batch(cut[k], cut[k + 1]);
}

static void split_free(split10k *s)
{
    sl_batch_unref(s->one[0]);
    for (int k = 0; k < 6; k++)
        sl_batch_unref(s->many[k]);
}

/* Fitting on one batch or on many gives the same state text. */
static void expect_split_invariant(const sl_plugin *p, const char *yaml)
{
    split10k s;
    split_make(&s);
    char *a = fitted_state(p, yaml, s.one, 1);
    char *b = fitted_state(p, yaml, s.many, 6);
    assert_string_equal(a, b);
    free(a);
    free(b);
    split_free(&s);
}

static double state_num(const char *text, const char *col, const char *key)
{
    json_t *j = json_loads(text, 0, NULL);
    assert_non_null(j);
    json_t *v = json_object_get(json_object_get(json_object_get(j, "columns"),
                                                col),
                                key);
    double d;
    assert_int_equal(sl_tu_json_get_num(v, &d), 0);
    json_decref(j);
    return d;
}

/* ---- quantile ---- */

static void test_quantile_matches_numpy(void **state)
{
    (void)state;
    sl_quantile q;
    sl_quantile_init(&q);
    for (int64_t i = 0; i < 10000; i++)
        assert_int_equal(sl_quantile_add(&q, gen(i, 0)), SL_OK);
    assert_int_equal(sl_quantile_add(&q, NAN), SL_OK); /* ignored */
    sl_quantile_finish(&q);
    assert_int_equal(q.n, 10000);
    assert_false(sl_quantile_sampled(&q));
    /* numpy.quantile(x, q), default method='linear' */
    static const double p[] = {0, 0.01, 0.25, 0.5, 0.75, 0.99, 1, 1.0 / 3,
                               0.1};
    static const double want[] = {-500,
                                  -489.75364999999999,
                                  -249.50824999999998,
                                  0.72349999999997294,
                                  250.29825000000002,
                                  490.34864999999996,
                                  499.93799999999999,
                                  -166.42500000000001,
                                  -399.4495};
    for (size_t k = 0; k < sizeof p / sizeof p[0]; k++)
        if (sl_quantile_at(&q, p[k]) != want[k])
            fail_msg("q=%g: %.17g != %.17g", p[k], sl_quantile_at(&q, p[k]),
                     want[k]);
    assert_true(sl_quantile_median(&q) == 0.72349999999997294); /* numpy */
    sl_quantile_free(&q);

    double odd[9999];
    for (int i = 0; i < 9999; i++)
        odd[i] = gen(i, 0);
    sl_quantile_init(&q);
    for (int i = 0; i < 9999; i++)
        sl_quantile_add(&q, odd[i]);
    sl_quantile_finish(&q);
    assert_true(sl_quantile_median(&q) == 0.69099999999997408); /* numpy */
    sl_quantile_free(&q);
}

static void test_quantile_small_cases(void **state)
{
    (void)state;
    static const double one[] = {4.0};
    assert_true(sl_quantile_sorted(one, 1, 0.3) == 4.0);
    assert_true(sl_median_sorted(one, 1) == 4.0);
    static const double two[] = {1.0, 2.0};
    assert_true(sl_median_sorted(two, 2) == 1.5);
    assert_true(sl_quantile_sorted(two, 2, 0.25) == 1.25);
    static const double inf2[] = {INFINITY, INFINITY};
    assert_true(sl_quantile_sorted(inf2, 2, 0.5) == INFINITY);
    static const double big[] = {1.5e308, 1.7e308};
    assert_true(sl_median_sorted(big, 2) == 1.6e308); /* no overflow */
}

static void test_quantile_bounded_sampling(void **state)
{
    (void)state;
    sl_quantile a, b;
    sl_quantile_init_bounds(&a, 100, 10);
    sl_quantile_init_bounds(&b, 100, 10);
    sl_column *c1 = sl_column_new(SL_FLOAT64, 1000);
    for (int64_t i = 0; i < 1000; i++) {
        sl_column_append_float64(c1, gen(i, 0));
        assert_int_equal(sl_quantile_add(&a, gen(i, 0)), SL_OK);
    }
    /* same values through columns of other sizes */
    sl_column *c2 = sl_column_new(SL_FLOAT64, 10), *c3 = sl_column_new(SL_FLOAT64, 990);
    for (int64_t i = 0; i < 1000; i++)
        sl_column_append_float64(i < 10 ? c2 : c3, gen(i, 0));
    assert_int_equal(sl_quantile_add_column(&b, c2), SL_OK);
    assert_int_equal(sl_quantile_add_column(&b, c3), SL_OK);
    assert_true(sl_quantile_sampled(&a));
    assert_int_equal(a.n, 10);
    assert_int_equal(a.seen, 1000);
    assert_memory_equal(a.v, b.v, 10 * sizeof(double)); /* deterministic */
    /* every sampled value is one of the inputs */
    for (int k = 0; k < 10; k++) {
        int found = 0;
        for (int64_t i = 0; i < 1000 && !found; i++)
            found = a.v[k] == gen(i, 0);
        assert_true(found);
    }
    sl_quantile_finish(&a);
    double m = sl_quantile_median(&a);
    assert_true(m > -500 && m < 500);
    sl_quantile_free(&a);
    sl_quantile_free(&b);
    sl_column_unref(c1);
    sl_column_unref(c2);
    sl_column_unref(c3);
}

static void test_moments_block_invariance(void **state)
{
    (void)state;
    split10k s;
    split_make(&s);
    sl_tu_moments a, b;
    assert_int_equal(sl_tu_moments_init(&a), SL_OK);
    assert_int_equal(sl_tu_moments_init(&b), SL_OK);
    sl_tu_moments_add_column(&a, s.one[0]->cols[0]);
    for (int k = 0; k < 6; k++)
        sl_tu_moments_add_column(&b, s.many[k]->cols[0]);
    sl_tu_moments_finish(&a);
    sl_tu_moments_finish(&b);
    assert_int_equal(a.n, 10000);
    assert_memory_equal(&a.mean, &b.mean, sizeof a.mean);
    assert_memory_equal(&a.m2, &b.m2, sizeof a.m2);
    /* sklearn StandardScaler: mean_ 0.38567710000000083,
     * scale_ 288.68802593607904 */
    assert_true(fabs(a.mean - 0.38567710000000083) < 1e-12);
    assert_true(fabs(sqrt(a.m2 / a.n) - 288.68802593607904) < 1e-10);
    assert_true(a.min == -500.0 && a.max == 499.938);
    sl_tu_moments_free(&a);
    sl_tu_moments_free(&b);
    split_free(&s);
}

/* ---- impute ---- */

/* sklearn SimpleImputer on [1, nan, 7, 2, 7, nan, -3.5, 2]: mean
 * 2.5833333333333335, median 2, most_frequent 2. */
static sl_batch *imp_data(void)
{
    return batch("z", F64(1.0, NAN, 7.0, 2.0, 7.0, NUL_F, -3.5, 2.0), "s",
                 STR("b", "a", NULL, "c", "b", "a", NULL, NULL), "i",
                 I64(4, NUL_I, 1, 2, 2, 9, NUL_I, 4), NULL);
}

static void test_impute_mean_median_most_frequent(void **state)
{
    (void)state;
    sl_batch *d = imp_data(), *o;
    o = fit_apply_roundtrip(&sl_plugin_impute, "{columns: [z, i]}", &d, 1, d);
    EXPECT_F64(colnamed(o, "z"), 1.0, 2.5833333333333335, 7.0, 2.0, 7.0,
               2.5833333333333335, -3.5, 2.0);
    EXPECT_F64(colnamed(o, "i"), 4, 22.0 / 6, 1, 2, 2, 9, 22.0 / 6, 4);
    assert_int_equal(o->cols[1]->type, SL_STRING); /* untouched */
    sl_batch_unref(o);

    o = fit_apply_roundtrip(&sl_plugin_impute,
                            "{columns: [z, i], strategy: median}", &d, 1, d);
    EXPECT_F64(colnamed(o, "z"), 1, 2, 7, 2, 7, 2, -3.5, 2);
    EXPECT_F64(colnamed(o, "i"), 4, 3, 1, 2, 2, 9, 3, 4); /* (2 + 4) / 2 */
    sl_batch_unref(o);

    o = fit_apply_roundtrip(&sl_plugin_impute,
                            "{columns: [z, s, i], strategy: most_frequent}",
                            &d, 1, d);
    EXPECT_F64(colnamed(o, "z"), 1, 2, 7, 2, 7, 2, -3.5, 2); /* tie 2/7 */
    EXPECT_STR(colnamed(o, "s"), "b", "a", "a", "c", "b", "a", "a", "a");
    EXPECT_I64(colnamed(o, "i"), 4, 2, 1, 2, 2, 9, 2, 4); /* tie 2/4 */
    assert_int_equal(colnamed(o, "i")->null_count, 0);
    sl_batch_unref(o);
    sl_batch_unref(d);
}

static void test_impute_constant(void **state)
{
    (void)state;
    sl_batch *d = imp_data(), *o;
    o = fit_apply_roundtrip(&sl_plugin_impute,
                            "{columns: [z, s, i], strategy: constant}", &d, 1,
                            d);
    EXPECT_F64(colnamed(o, "z"), 1, 0, 7, 2, 7, 0, -3.5, 2);
    EXPECT_STR(colnamed(o, "s"), "b", "a", "missing_value", "c", "b", "a",
               "missing_value", "missing_value");
    EXPECT_I64(colnamed(o, "i"), 4, 0, 1, 2, 2, 9, 0, 4);
    sl_batch_unref(o);

    o = fit_apply_roundtrip(&sl_plugin_impute,
                            "{columns: [i], strategy: constant, value: -1}",
                            &d, 1, d);
    EXPECT_I64(colnamed(o, "i"), 4, -1, 1, 2, 2, 9, -1, 4);
    sl_batch_unref(o);

    tf t;
    tf_ok(&t, &sl_plugin_impute,
          "{columns: [z, i], strategy: constant, value: '1.5'}");
    assert_int_equal(tf_fit(&t, &d, 1), SL_ECONFIG);
    assert_string_equal(t.err.msg,
                        "impute: column 'i' has type int64: 'value' '1.5' is "
                        "not a valid int64");
    assert_int_equal(t.err.col, 18);
    tf_free(&t);
    assert_int_equal(tf_new(&t, &sl_plugin_impute, "{columns: [z], value: 1}"),
                     SL_ECONFIG);
    assert_err_has(&t.err, "'value' is only used with strategy: constant");
    tf_free(&t);
    sl_batch_unref(d);
}

static void test_impute_types_and_errors(void **state)
{
    (void)state;
    sl_batch *d = imp_data();
    tf t;
    tf_ok(&t, &sl_plugin_impute, "{columns: [z, s], strategy: median}");
    assert_int_equal(tf_fit(&t, &d, 1), SL_ESCHEMA);
    assert_string_equal(t.err.msg,
                        "impute: column 's' has type string; impute needs a "
                        "numeric column (bool, int64 or float64)");
    assert_int_equal(t.err.line, 1);
    assert_int_equal(t.err.col, 18);
    tf_free(&t);

    tf_ok(&t, &sl_plugin_impute, "[zz]");
    assert_int_equal(tf_fit(&t, &d, 1), SL_ECONFIG);
    assert_string_equal(t.err.msg,
                        "impute: column 'zz' not found (did you mean 'z'?)");
    tf_free(&t);

    /* all missing in training: refuse, naming the column */
    sl_batch *nulls = batch("z", F64(NUL_F, NAN), NULL);
    tf_ok(&t, &sl_plugin_impute, "{columns: [z], strategy: mean}");
    assert_int_equal(tf_fit(&t, &nulls, 1), SL_ESCHEMA);
    assert_err_has(&t.err, "impute: column 'z' has no non-missing value in "
                           "the training data");
    tf_free(&t);
    tf_ok(&t, &sl_plugin_impute, "{columns: [z], strategy: most_frequent}");
    assert_int_equal(tf_fit(&t, &nulls, 1), SL_ESCHEMA);
    tf_free(&t);
    /* no training batch at all */
    tf_ok(&t, &sl_plugin_impute, "{columns: [z]}");
    assert_int_equal(tf_fit(&t, NULL, 0), SL_ESCHEMA);
    assert_err_has(&t.err, "column 'z' has no training data");
    tf_free(&t);
    /* the type changes between fit and apply */
    tf_ok(&t, &sl_plugin_impute, "{columns: [z], strategy: most_frequent}");
    tf_fit_ok(&t, &d, 1);
    sl_batch *other = batch("z", STR("x"), NULL), *o;
    assert_int_equal(tf_apply(&t, other, &o), SL_ESCHEMA);
    assert_err_has(&t.err, "column 'z' has type string here but float64 "
                           "when the transform was fitted");
    tf_free(&t);
    /* inf in training makes the mean infinite */
    sl_batch *inf = batch("z", F64(1.0, INFINITY), NULL);
    tf_ok(&t, &sl_plugin_impute, "[z]");
    assert_int_equal(tf_fit(&t, &inf, 1), SL_ESCHEMA);
    assert_err_has(&t.err, "not finite");
    tf_free(&t);
    sl_batch_unref(inf);
    sl_batch_unref(other);
    sl_batch_unref(nulls);
    sl_batch_unref(d);
}

static void test_impute_batches_and_empty(void **state)
{
    (void)state;
    expect_split_invariant(&sl_plugin_impute, "[x]");
    expect_split_invariant(&sl_plugin_impute, "{columns: x, strategy: median}");
    expect_split_invariant(&sl_plugin_impute,
                           "{columns: x, strategy: most_frequent}");
    /* an empty batch in training and in apply */
    sl_batch *d = imp_data(), *empty, *o;
    uint8_t keep[8] = {0};
    assert_int_equal(sl_batch_filter(d, keep, &empty), SL_OK);
    sl_batch *bs[2] = {empty, d};
    o = fit_apply_roundtrip(&sl_plugin_impute, "{columns: [z, s], strategy: "
                                               "most_frequent}",
                            bs, 2, empty);
    assert_int_equal(o->nrows, 0);
    assert_int_equal(colnamed(o, "z")->type, SL_FLOAT64);
    sl_batch_unref(o);
    sl_batch_unref(empty);
    sl_batch_unref(d);
}

static void test_impute_state_format_and_corruption(void **state)
{
    (void)state;
    sl_batch *d = imp_data();
    const char *y = "{columns: [z, s], strategy: most_frequent}";
    char *text = fitted_state(&sl_plugin_impute, y, &d, 1);
    assert_string_equal(text,
                        "{\"strategy\":\"most_frequent\",\"columns\":{\"z\":{"
                        "\"type\":\"float64\",\"value\":2.0},\"s\":{\"type\":"
                        "\"string\",\"value\":\"a\"}}}");
    free(text);
    expect_bad_state(&sl_plugin_impute, y, "[1]", "expected a JSON object");
    expect_bad_state(&sl_plugin_impute, y, "{\"columns\":{}}",
                     "key 'strategy': missing");
    expect_bad_state(&sl_plugin_impute, y,
                     "{\"strategy\":\"mean\",\"columns\":{}}",
                     "fitted with 'mean' but the configuration says "
                     "'most_frequent'");
    expect_bad_state(&sl_plugin_impute, y,
                     "{\"strategy\":\"most_frequent\",\"columns\":[]}",
                     "key 'columns': expected an object");
    expect_bad_state(&sl_plugin_impute, y,
                     "{\"strategy\":\"most_frequent\",\"columns\":{\"z\":{"
                     "\"type\":\"float64\",\"value\":1}}}",
                     "no entry for column 's'");
    expect_bad_state(&sl_plugin_impute, y,
                     "{\"strategy\":\"most_frequent\",\"columns\":{\"z\":{"
                     "\"type\":\"float64\",\"value\":1},\"s\":{\"type\":"
                     "\"string\",\"value\":\"a\"},\"q\":{}}}",
                     "column 'q' is not in the transform's 'columns'");
    expect_bad_state(&sl_plugin_impute, y,
                     "{\"strategy\":\"most_frequent\",\"columns\":{\"z\":{"
                     "\"type\":\"flot\",\"value\":1},\"s\":{\"type\":"
                     "\"string\",\"value\":\"a\"}}}",
                     "key 'columns.z.type': unknown type 'flot'");
    expect_bad_state(&sl_plugin_impute, y,
                     "{\"strategy\":\"most_frequent\",\"columns\":{\"z\":{"
                     "\"type\":\"float64\",\"value\":\"x\"},\"s\":{\"type\":"
                     "\"string\",\"value\":\"a\"}}}",
                     "key 'columns.z.value': expected a number");
    expect_bad_state(&sl_plugin_impute, y,
                     "{\"strategy\":\"most_frequent\",\"columns\":{\"z\":{"
                     "\"type\":\"float64\",\"value\":1},\"s\":{\"type\":"
                     "\"string\",\"value\":3}}}",
                     "key 'columns.s.value': expected a string");
    expect_bad_state(&sl_plugin_impute, y,
                     "{\"strategy\":\"most_frequent\",\"columns\":{\"z\":{"
                     "\"type\":\"float64\"},\"s\":{\"type\":\"string\","
                     "\"value\":\"a\"}}}",
                     "key 'columns.z.value': missing");
    const char *ym = "{columns: [z], strategy: mean}";
    expect_bad_state(&sl_plugin_impute, ym,
                     "{\"strategy\":\"mean\",\"columns\":{\"z\":{\"type\":"
                     "\"string\",\"value\":1}}}",
                     "type string cannot use strategy mean");
    expect_bad_state(&sl_plugin_impute, ym,
                     "{\"strategy\":\"mean\",\"columns\":{\"z\":{\"type\":"
                     "\"float64\",\"value\":\"nan\"}}}",
                     "expected a finite number");
    /* a hand-edited but valid state is used as written */
    tf t;
    assert_int_equal(tf_load_text(&t, &sl_plugin_impute, ym,
                                  "{\"strategy\":\"mean\",\"columns\":{\"z\":"
                                  "{\"type\":\"float64\",\"value\":42}}}"),
                     SL_OK);
    sl_batch *o = tf_apply_ok(&t, d);
    EXPECT_F64(o->cols[0], 1, 42, 7, 2, 7, 42, -3.5, 2);
    sl_batch_unref(o);
    tf_free(&t);
    sl_batch_unref(d);
}

/* ---- scale ---- */

static void test_scale_zscore(void **state)
{
    (void)state;
    sl_batch *d = batch("a", F64(1, 2, NUL_F, 3, 4, NAN), "k", I64(5, 5, 5, 5, 5, 5),
                        NULL),
             *o;
    o = fit_apply_roundtrip(&sl_plugin_scale, "[a, k]", &d, 1, d);
    /* mean 2.5, population std sqrt(1.25) (StandardScaler); NaN stays NaN,
     * null stays null; a constant column only loses its mean */
    double sd = sqrt(1.25);
    EXPECT_F64(colnamed(o, "a"), -1.5 / sd, -0.5 / sd, NUL_F, 0.5 / sd,
               1.5 / sd, NAN);
    EXPECT_F64(colnamed(o, "k"), 0, 0, 0, 0, 0, 0);
    sl_batch_unref(o);
    sl_batch_unref(d);

    /* sklearn StandardScaler on gen(0..10000): first five outputs */
    split10k s;
    split_make(&s);
    o = fit_apply_roundtrip(&sl_plugin_scale, "[x]", s.many, 6, s.one[0]);
    double first5[5];
    memcpy(first5, o->cols[0]->values, sizeof first5);
    sl_batch *head = gen_batch(0, 5);
    sl_batch_unref(o);
    o = fit_apply_roundtrip(&sl_plugin_scale, "[x]", s.many, 6, head);
    EXPECT_F64_NEAR(o->cols[0], 1e-13, -1.7333094279802059,
                    -0.2514363970055068, 1.2304366339691921,
                    -0.7516476528473891, 0.73022537812730992);
    assert_memory_equal(o->cols[0]->values, first5, sizeof first5);
    sl_batch_unref(o);
    sl_batch_unref(head);
    split_free(&s);
    expect_split_invariant(&sl_plugin_scale, "[x]");
}

static void test_scale_minmax_maxabs_robust(void **state)
{
    (void)state;
    sl_batch *d = batch("a", F64(2, 4, 6, NUL_F, NAN), "b",
                        F64(0.1, 0.2, 0.3, 0.7, NUL_F), "c",
                        I64(-4, 2, 1, NUL_I, 0), NULL),
             *o;
    o = fit_apply_roundtrip(&sl_plugin_scale, "{columns: [a, b, c], method: minmax}",
                            &d, 1, d);
    EXPECT_F64(colnamed(o, "a"), 0, 0.5, 1, NUL_F, NAN);
    /* sklearn MinMaxScaler, bit for bit (x * scale_ + min_) */
    EXPECT_F64(colnamed(o, "b"), 0, 0.16666666666666669, 0.33333333333333331,
               1, NUL_F);
    /* sklearn MinMaxScaler on [-4, 2, 1, 0]: 0, 1, 0.83333333333333326,
     * 0.66666666666666663 (not 5/6 and 4/6: x * (1/6) + 4/6) */
    EXPECT_F64(colnamed(o, "c"), 0, 1, 0.83333333333333326, NUL_F,
               0.66666666666666663);
    sl_batch_unref(o);

    o = fit_apply_roundtrip(&sl_plugin_scale, "{columns: c, method: maxabs}",
                            &d, 1, d);
    EXPECT_F64(colnamed(o, "c"), -1, 0.5, 0.25, NUL_F, 0);
    sl_batch_unref(o);
    sl_batch_unref(d);

    d = batch("r", F64(1, 2, 3, 4, 100), "k", F64(7, 7, 7, 7, 7), NULL);
    o = fit_apply_roundtrip(&sl_plugin_scale, "{columns: [r, k], method: robust}",
                            &d, 1, d);
    EXPECT_F64(colnamed(o, "r"), -1, -0.5, 0, 0.5, 48.5);
    EXPECT_F64(colnamed(o, "k"), 0, 0, 0, 0, 0); /* IQR 0 -> divide by 1 */
    sl_batch_unref(o);
    o = fit_apply_roundtrip(&sl_plugin_scale, "{columns: [k], method: minmax}",
                            &d, 1, d);
    EXPECT_F64(colnamed(o, "k"), 0, 0, 0, 0, 0);
    sl_batch_unref(o);
    sl_batch_unref(d);

    /* sklearn RobustScaler on gen(0..10000): center_ 0.72349999999997294,
     * scale_ 499.80650000000003 (bit for bit: same quantile rule) */
    split10k s;
    split_make(&s);
    char *text = fitted_state(&sl_plugin_scale, "{columns: x, method: robust}",
                              s.many, 6);
    assert_true(state_num(text, "x", "center") == 0.72349999999997294);
    assert_true(state_num(text, "x", "scale") == 499.80650000000003);
    free(text);
    split_free(&s);
    expect_split_invariant(&sl_plugin_scale, "{columns: x, method: minmax}");
    expect_split_invariant(&sl_plugin_scale, "{columns: x, method: robust}");
}

static void test_scale_errors_and_state(void **state)
{
    (void)state;
    tf t;
    sl_batch *d = batch("a", F64(1, 2), "s", STR("x", "y"), "n",
                        F64(NUL_F, NAN), "i", F64(1, INFINITY), NULL);
    tf_ok(&t, &sl_plugin_scale, "{columns: [a, s]}");
    assert_int_equal(tf_fit(&t, &d, 1), SL_ESCHEMA);
    assert_string_equal(t.err.msg,
                        "scale: column 's' has type string; scale needs a "
                        "numeric column (bool, int64 or float64)");
    assert_int_equal(t.err.col, 18);
    tf_free(&t);
    tf_ok(&t, &sl_plugin_scale, "[n]");
    assert_int_equal(tf_fit(&t, &d, 1), SL_ESCHEMA);
    assert_err_has(&t.err, "scale: column 'n' has no non-missing value");
    tf_free(&t);
    tf_ok(&t, &sl_plugin_scale, "[i]");
    assert_int_equal(tf_fit(&t, &d, 1), SL_ESCHEMA);
    assert_err_has(&t.err, "not finite");
    tf_free(&t);
    assert_int_equal(tf_new(&t, &sl_plugin_scale, "{columns: [a], method: "
                                                  "z-score}"),
                     SL_ECONFIG);
    tf_free(&t);

    const char *y = "{columns: [a], method: zscore}";
    char *text = fitted_state(&sl_plugin_scale, y, &d, 1);
    assert_string_equal(text, "{\"method\":\"zscore\",\"columns\":{\"a\":{"
                              "\"mean\":1.5,\"scale\":0.5}}}");
    free(text);
    expect_bad_state(&sl_plugin_scale, y,
                     "{\"method\":\"minmax\",\"columns\":{\"a\":{}}}",
                     "key 'method': the state was fitted with 'minmax'");
    expect_bad_state(&sl_plugin_scale, y,
                     "{\"method\":\"zscore\",\"columns\":{\"a\":{\"mean\":1}}}",
                     "scale: state: key 'columns.a.scale': missing");
    expect_bad_state(&sl_plugin_scale, y,
                     "{\"method\":\"zscore\",\"columns\":{\"a\":{\"mean\":1,"
                     "\"scale\":0}}}",
                     "key 'columns.a.scale': must be a positive number");
    expect_bad_state(&sl_plugin_scale, y,
                     "{\"method\":\"zscore\",\"columns\":{\"a\":{\"mean\":"
                     "\"inf\",\"scale\":1}}}",
                     "key 'columns.a.mean': expected a finite number");
    expect_bad_state(&sl_plugin_scale, y,
                     "{\"method\":\"zscore\",\"columns\":{\"a\":{\"mean\":"
                     "true,\"scale\":1}}}",
                     "key 'columns.a.mean': expected a number");
    expect_bad_state(&sl_plugin_scale, "{columns: [a], method: minmax}",
                     "{\"method\":\"minmax\",\"columns\":{\"a\":{\"min\":2,"
                     "\"max\":1}}}",
                     "must not be below 'min'");
    sl_batch_unref(d);
}

static void test_scale_int_and_shared_input(void **state)
{
    (void)state;
    tf t;
    sl_batch *d = batch("i", I64(1, 3, NUL_I), "b", BOOL(1, 0, 1), NULL);
    tf_ok(&t, &sl_plugin_scale, "{columns: [i, b], method: minmax}");
    tf_fit_ok(&t, &d, 1);
    sl_batch *o = tf_apply_ok(&t, d); /* d stays referenced: not modified */
    EXPECT_F64(colnamed(o, "i"), 0, 1, NUL_F);
    EXPECT_F64(colnamed(o, "b"), 1, 0, 1);
    assert_int_equal(d->cols[0]->type, SL_INT64);
    assert_int_equal(d->schema->fields[0].type, SL_INT64);
    assert_int_equal(t.out->fields[0].type, SL_FLOAT64);
    sl_batch_unref(o);
    /* an empty batch, in training and in apply */
    uint8_t keep[3] = {0};
    sl_batch *empty;
    assert_int_equal(sl_batch_filter(d, keep, &empty), SL_OK);
    sl_batch *bs[2] = {empty, d};
    o = fit_apply_roundtrip(&sl_plugin_scale, "{columns: [i, b], method: "
                                              "robust}",
                            bs, 2, empty);
    assert_int_equal(o->nrows, 0);
    assert_int_equal(o->cols[0]->type, SL_FLOAT64);
    sl_batch_unref(o);
    sl_batch_unref(empty);
    sl_batch_unref(d);
    tf_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quantile_matches_numpy),
        cmocka_unit_test(test_quantile_small_cases),
        cmocka_unit_test(test_quantile_bounded_sampling),
        cmocka_unit_test(test_moments_block_invariance),
        cmocka_unit_test(test_impute_mean_median_most_frequent),
        cmocka_unit_test(test_impute_constant),
        cmocka_unit_test(test_impute_types_and_errors),
        cmocka_unit_test(test_impute_batches_and_empty),
        cmocka_unit_test(test_impute_state_format_and_corruption),
        cmocka_unit_test(test_scale_zscore),
        cmocka_unit_test(test_scale_minmax_maxabs_robust),
        cmocka_unit_test(test_scale_errors_and_state),
        cmocka_unit_test(test_scale_int_and_shared_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
