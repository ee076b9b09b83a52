/* Unit tests for onehot, vocabulary and hash
 * (src/processing/categorical.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "processing/value_table.h"
#include "tf_test_util.h"

static void expect_names(const sl_schema *s, const char *const *names, int n)
{
    assert_int_equal(s->n, n);
    for (int i = 0; i < n; i++)
        if (strcmp(s->fields[i].name, names[i]) != 0)
            fail_msg("field %d: got '%s', want '%s'", i, s->fields[i].name,
                     names[i]);
}
#define EXPECT_NAMES(s, ...)                                                 \
    expect_names((s), (const char *[]){__VA_ARGS__},                         \
                 NARGS(const char *, __VA_ARGS__))

static int64_t hb(const char *s, int64_t m)
{
    return sl_pmod(sl_murmur3_spark(s, strlen(s), 42), m);
}

/* ---- onehot ---- */

static sl_batch *weather_train(void)
{
    return batch("a", I64(1, 2, 3, 4, 5, 6), "weather",
                 STR("rain", "sun", "Fog", "drizzle", "sun", NULL), "b",
                 F64(1, 2, 3, 4, 5, 6), NULL);
}

static void test_onehot_strings(void **state)
{
    (void)state;
    sl_batch *tr = weather_train();
    sl_batch *ap = batch("a", I64(1, 2, 3, 4), "weather",
                         STR("sun", "snow", NULL, "Fog"), "b",
                         F64(0, 0, 0, 0), NULL);
    sl_batch *o = fit_apply_roundtrip(&sl_plugin_onehot, "[weather]", &tr, 1,
                                      ap);
    /* sklearn OneHotEncoder categories_: ['Fog', 'drizzle', 'rain', 'sun'];
     * the columns take the original's place */
    EXPECT_NAMES(o->schema, "a", "weather_Fog", "weather_drizzle",
                 "weather_rain", "weather_sun", "b");
    EXPECT_I64(colnamed(o, "weather_Fog"), 0, 0, 0, 1);
    EXPECT_I64(colnamed(o, "weather_drizzle"), 0, 0, 0, 0);
    EXPECT_I64(colnamed(o, "weather_rain"), 0, 0, 0, 0);
    EXPECT_I64(colnamed(o, "weather_sun"), 1, 0, 0, 0); /* unknown, null: 0 */
    assert_ptr_equal(colnamed(o, "a"), ap->cols[0]);
    assert_int_equal(o->schema->fields[1].nullable, 0);
    sl_batch_unref(o);
    sl_batch_unref(ap);

    char *text = fitted_state(&sl_plugin_onehot, "[weather]", &tr, 1);
    assert_string_equal(text,
                        "{\"columns\":{\"weather\":{\"type\":\"string\","
                        "\"categories\":[\"Fog\",\"drizzle\",\"rain\","
                        "\"sun\"]}}}");
    free(text);
    sl_batch_unref(tr);
}

static void test_onehot_other_types(void **state)
{
    (void)state;
    sl_batch *tr = batch("x", F64(3.5, -1.0, 10.0, 2.0, NAN, -0.0, 0.0), "m",
                         I64(12, 1, 3, 1, NUL_I, 1, 3), "f",
                         BOOL(1, 0, 1, 1, 1, 1, 1), "d",
                         DATE(0, 1, 0, 0, 0, 0, 0), NULL);
    sl_batch *o = fit_apply_roundtrip(&sl_plugin_onehot, "[x, m, f, d]", &tr,
                                      1, tr);
    /* floats shortest, -0.0 and 0.0 one category, NaN not a category */
    EXPECT_NAMES(o->schema, "x_-1.0", "x_0.0", "x_2.0", "x_3.5", "x_10.0",
                 "m_1", "m_3", "m_12", "f_false", "f_true", "d_1970-01-01",
                 "d_1970-01-02");
    EXPECT_I64(colnamed(o, "x_0.0"), 0, 0, 0, 0, 0, 1, 1);
    EXPECT_I64(colnamed(o, "x_3.5"), 1, 0, 0, 0, 0, 0, 0);
    EXPECT_I64(colnamed(o, "m_12"), 1, 0, 0, 0, 0, 0, 0);
    EXPECT_I64(colnamed(o, "f_false"), 0, 1, 0, 0, 0, 0, 0);
    EXPECT_I64(colnamed(o, "d_1970-01-02"), 0, 1, 0, 0, 0, 0, 0);
    sl_batch_unref(o);
    sl_batch_unref(tr);
}

static void test_onehot_max_categories(void **state)
{
    (void)state;
    sl_batch *tr = batch("c", STR("d", "a", "c", "b", "a", "e", "b", "c", "a"),
                         NULL);
    sl_batch *ap = batch("c", STR("a", "b", "c", "zz", NULL), NULL);
    /* a x3, b x2, c x2: keep a and b (the tie b/c goes to b) */
    sl_batch *o = fit_apply_roundtrip(
        &sl_plugin_onehot, "{columns: [c], max_categories: 2}", &tr, 1, ap);
    EXPECT_NAMES(o->schema, "c_a", "c_b");
    EXPECT_I64(o->cols[0], 1, 0, 0, 0, 0);
    EXPECT_I64(o->cols[1], 0, 1, 0, 0, 0);
    sl_batch_unref(o);
    o = fit_apply_roundtrip(
        &sl_plugin_onehot,
        "{columns: [c], max_categories: 2, other_bucket: true}", &tr, 1, ap);
    EXPECT_NAMES(o->schema, "c_a", "c_b", "c__other");
    EXPECT_I64(o->cols[2], 0, 0, 1, 1, 0); /* infrequent and unseen; null 0 */
    sl_batch_unref(o);

    tf t;
    tf_ok(&t, &sl_plugin_onehot,
          "{columns: [c], max_categories: 2, handle_unknown: error}");
    assert_int_equal(tf_fit(&t, &tr, 1), SL_ECONFIG);
    assert_string_equal(t.err.msg,
                        "onehot: column 'c' has 5 categories, more than "
                        "max_categories (2); with handle_unknown: error, set "
                        "other_bucket: true or raise max_categories");
    tf_free(&t);
    assert_int_equal(tf_new(&t, &sl_plugin_onehot,
                            "{columns: [c], max_categories: 0}"),
                     SL_ECONFIG);
    assert_err_has(&t.err, "max_categories must be at least 1");
    tf_free(&t);
    sl_batch_unref(ap);
    sl_batch_unref(tr);
}

static void test_onehot_handle_unknown_error(void **state)
{
    (void)state;
    tf t;
    sl_batch *tr = weather_train(), *o;
    sl_batch *ap = batch("a", I64(1, 2), "weather", STR(NULL, "snow"), "b",
                         F64(0, 0), NULL);
    tf_ok(&t, &sl_plugin_onehot, "{columns: [weather], handle_unknown: error}");
    tf_fit_ok(&t, &tr, 1);
    o = tf_apply_ok(&t, tr); /* training data itself is fine, null too */
    sl_batch_unref(o);
    assert_int_equal(tf_apply(&t, ap, &o), SL_EPARSE);
    assert_string_equal(t.err.msg,
                        "onehot: column 'weather': value 'snow' (row 1 of "
                        "the batch) was not seen in training; set "
                        "handle_unknown: ignore to encode it as all zeros");
    tf_free(&t);
    sl_batch_unref(ap);
    sl_batch_unref(tr);
}

static void test_onehot_errors(void **state)
{
    (void)state;
    tf t;
    sl_batch *tr = batch("c", STR("x", "y"), "c_x", I64(1, 2), NULL), *o;
    tf_ok(&t, &sl_plugin_onehot, "[c]");
    tf_fit_ok(&t, &tr, 1);
    assert_int_equal(tf_apply(&t, tr, &o), SL_ESCHEMA);
    assert_string_equal(t.err.msg,
                        "onehot: column 'c' would create column 'c_x', which "
                        "already exists; rename one of them");
    tf_free(&t);
    tf_ok(&t, &sl_plugin_onehot, "[cc]");
    assert_int_equal(tf_fit(&t, &tr, 1), SL_ECONFIG);
    assert_err_has(&t.err, "onehot: column 'cc' not found (did you mean 'c'?)");
    assert_int_equal(t.err.col, 5);
    tf_free(&t);
    sl_batch *nul = batch("c", STR(NULL, NULL), NULL);
    tf_ok(&t, &sl_plugin_onehot, "[c]");
    assert_int_equal(tf_fit(&t, &nul, 1), SL_ESCHEMA);
    assert_err_has(&t.err, "onehot: column 'c' has no non-missing value in "
                           "the training data");
    tf_free(&t);
    sl_batch_unref(nul);
    sl_batch_unref(tr);
}

static void test_onehot_batches_and_state(void **state)
{
    (void)state;
    sl_batch *all = batch("c", STR("b", "a", "c", "a", "d", "b", "a"), NULL);
    sl_batch *parts[3] = {batch("c", STR("b", "a"), NULL),
                          batch("c", STR("c", "a", "d"), NULL),
                          batch("c", STR("b", "a"), NULL)};
    uint8_t keep[7] = {0};
    sl_batch *empty;
    assert_int_equal(sl_batch_filter(all, keep, &empty), SL_OK);
    const char *y = "{columns: c, max_categories: 3, other_bucket: true}";
    char *a = fitted_state(&sl_plugin_onehot, y, &all, 1);
    char *b = fitted_state(&sl_plugin_onehot, y, parts, 3);
    assert_string_equal(a, b);
    free(a);
    free(b);
    sl_batch *o = fit_apply_roundtrip(&sl_plugin_onehot, y, parts, 3, empty);
    assert_int_equal(o->nrows, 0);
    EXPECT_NAMES(o->schema, "c_a", "c_b", "c_c", "c__other");
    sl_batch_unref(o);

    const char *yi = "[i]";
    expect_bad_state(&sl_plugin_onehot, yi, "{\"columns\":{\"i\":{\"type\":"
                                            "\"int64\",\"categories\":{}}}}",
                     "key 'columns.i.categories': expected a list");
    expect_bad_state(&sl_plugin_onehot, yi,
                     "{\"columns\":{\"i\":{\"type\":\"int64\",\"categories\":"
                     "[1,\"2\"]}}}",
                     "key 'columns.i.categories[1]': expected an integer");
    expect_bad_state(&sl_plugin_onehot, yi,
                     "{\"columns\":{\"i\":{\"type\":\"int64\",\"categories\":"
                     "[1,2,1]}}}",
                     "key 'columns.i.categories[2]': duplicate value");
    expect_bad_state(&sl_plugin_onehot, yi,
                     "{\"columns\":{\"i\":{\"categories\":[1]}}}",
                     "key 'columns.i.type': missing");
    expect_bad_state(&sl_plugin_onehot, yi, "{\"columns\":{\"i\":7}}",
                     "key 'columns.i': expected an object");
    expect_bad_state(&sl_plugin_onehot, yi, "null", "expected a JSON object");
    /* a loaded state is checked against the data's type at open */
    tf t;
    assert_int_equal(tf_load_text(&t, &sl_plugin_onehot, yi,
                                  "{\"columns\":{\"i\":{\"type\":\"int64\","
                                  "\"categories\":[1]}}}"),
                     SL_OK);
    sl_batch *strs = batch("i", STR("1"), NULL);
    assert_int_equal(tf_apply(&t, strs, &o), SL_ESCHEMA);
    assert_err_has(&t.err, "has type string here but int64 when the "
                           "transform was fitted");
    tf_free(&t);
    sl_batch_unref(strs);
    for (int k = 0; k < 3; k++)
        sl_batch_unref(parts[k]);
    sl_batch_unref(empty);
    sl_batch_unref(all);
}

/* ---- vocabulary ---- */

static void test_vocabulary(void **state)
{
    (void)state;
    sl_batch *tr = batch("s", STR("b", "a", "c", "b", "a", "b", NULL, "d"),
                         "k", I64(7, 7, 3, NUL_I, 3, 5, 5, 9), NULL);
    sl_batch *ap = batch("s", STR("a", "b", "zz", NULL, "d"), "k",
                         I64(3, 5, 7, 9, 100), NULL);
    /* frequency desc, ties by value asc: b a c d / 3 5 7 9 */
    sl_batch *o = fit_apply_roundtrip(&sl_plugin_vocabulary, "[s, k]", &tr, 1,
                                      ap);
    EXPECT_I64(colnamed(o, "s"), 1, 0, 4, NUL_I, 3);
    EXPECT_I64(colnamed(o, "k"), 0, 1, 2, 3, 4);
    sl_batch_unref(o);
    char *text = fitted_state(&sl_plugin_vocabulary, "[s, k]", &tr, 1);
    assert_string_equal(text, "{\"columns\":{\"s\":{\"type\":\"string\","
                              "\"vocabulary\":[\"b\",\"a\",\"c\",\"d\"]},"
                              "\"k\":{\"type\":\"int64\",\"vocabulary\":[3,5,"
                              "7,9]}}}");
    free(text);

    o = fit_apply_roundtrip(&sl_plugin_vocabulary,
                            "{columns: [s], top_k: 2, oov_buckets: 10}", &tr,
                            1, ap);
    EXPECT_I64(colnamed(o, "s"), 1, 0, 2 + hb("zz", 10), NUL_I,
               2 + hb("d", 10));
    sl_batch_unref(o);
    o = fit_apply_roundtrip(&sl_plugin_vocabulary,
                            "{columns: [s], min_frequency: 2, oov_buckets: 0}",
                            &tr, 1, ap);
    EXPECT_I64(colnamed(o, "s"), 1, 0, -1, NUL_I, -1);
    sl_batch_unref(o);
    o = fit_apply_roundtrip(&sl_plugin_vocabulary,
                            "{columns: [k], oov_buckets: 3}", &tr, 1, ap);
    EXPECT_I64(colnamed(o, "k"), 0, 1, 2, 3, 4 + hb("100", 3));
    sl_batch_unref(o);
    sl_batch_unref(ap);
    sl_batch_unref(tr);
}

static void test_vocabulary_errors(void **state)
{
    (void)state;
    tf t;
    assert_int_equal(tf_new(&t, &sl_plugin_vocabulary,
                            "{columns: [s], min_frequency: 0}"),
                     SL_ECONFIG);
    assert_err_has(&t.err, "vocabulary: 'min_frequency' must be at least 1");
    tf_free(&t);
    assert_int_equal(tf_new(&t, &sl_plugin_vocabulary,
                            "{columns: [s], oov_buckets: -1}"),
                     SL_ECONFIG);
    tf_free(&t);
    assert_int_equal(tf_new(&t, &sl_plugin_vocabulary,
                            "{columns: [s], top_k: many}"),
                     SL_ECONFIG);
    assert_err_has(&t.err, "expected an integer");
    tf_free(&t);
    expect_bad_state(&sl_plugin_vocabulary, "[s]",
                     "{\"columns\":{\"s\":{\"type\":\"string\","
                     "\"categories\":[]}}}",
                     "key 'columns.s.vocabulary': missing");
    expect_bad_state(&sl_plugin_vocabulary, "[s]",
                     "{\"columns\":{\"s\":{\"type\":\"string\","
                     "\"vocabulary\":[\"a\",\"a\"]}}}",
                     "duplicate value");
    /* an empty vocabulary is valid: everything is out of vocabulary */
    assert_int_equal(tf_load_text(&t, &sl_plugin_vocabulary, "[s]",
                                  "{\"columns\":{\"s\":{\"type\":\"string\","
                                  "\"vocabulary\":[]}}}"),
                     SL_OK);
    sl_batch *b = batch("s", STR("q"), NULL);
    sl_batch *o = tf_apply_ok(&t, b);
    EXPECT_I64(o->cols[0], 0);
    sl_batch_unref(o);
    sl_batch_unref(b);
    tf_free(&t);
}

static void test_vocabulary_batches_and_empty(void **state)
{
    (void)state;
    sl_batch *all = batch("s", STR("q", "p", NULL, "q", "r", "p", "q", "z"),
                          NULL);
    sl_batch *parts[3] = {batch("s", STR("q", "p", NULL), NULL),
                          batch("s", STR("q"), NULL),
                          batch("s", STR("r", "p", "q", "z"), NULL)};
    const char *y = "{columns: [s], top_k: 3}";
    char *a = fitted_state(&sl_plugin_vocabulary, y, &all, 1);
    char *b = fitted_state(&sl_plugin_vocabulary, y, parts, 3);
    assert_string_equal(a, b);
    assert_string_equal(a, "{\"columns\":{\"s\":{\"type\":\"string\","
                           "\"vocabulary\":[\"q\",\"p\",\"r\"]}}}");
    free(a);
    free(b);
    uint8_t keep[8] = {0};
    sl_batch *empty;
    assert_int_equal(sl_batch_filter(all, keep, &empty), SL_OK);
    sl_batch *o = fit_apply_roundtrip(&sl_plugin_vocabulary, y, parts, 3,
                                      empty);
    assert_int_equal(o->nrows, 0);
    assert_int_equal(o->cols[0]->type, SL_INT64);
    sl_batch_unref(o);
    sl_batch_unref(empty);
    for (int k = 0; k < 3; k++)
        sl_batch_unref(parts[k]);
    sl_batch_unref(all);
}

/* ---- hash ---- */

static void test_hash(void **state)
{
    (void)state;
    tf t;
    sl_batch *b = batch("s", STR("hello", "hello world!", "", NULL), "i",
                        I64(42, -1, 0, NUL_I), "f", F64(1.0, NAN, 0.1, NUL_F),
                        NULL);
    tf_ok(&t, &sl_plugin_hash, "{columns: [s, i, f], buckets: 1000}");
    assert_null(t.p->analyze);
    assert_null(t.p->state_save);
    sl_batch *o = tf_apply_ok(&t, b);
    /* Spark: pmod(hash('hello'), 1000) = pmod(-1008564952, 1000) = 48 */
    EXPECT_I64(colnamed(o, "s"), 48, 146, 372, NUL_I);
    EXPECT_I64(colnamed(o, "i"), hb("42", 1000), hb("-1", 1000),
               hb("0", 1000), NUL_I);
    EXPECT_I64(colnamed(o, "f"), hb("1.0", 1000), NUL_I, hb("0.1", 1000),
               NUL_I);
    sl_batch_unref(o);
    tf_free(&t);
    assert_int_equal(tf_new(&t, &sl_plugin_hash, "{columns: [s], buckets: 0}"),
                     SL_ECONFIG);
    assert_string_equal(t.err.msg, "hash: 'buckets' must be at least 1, got 0");
    tf_free(&t);
    assert_int_equal(tf_new(&t, &sl_plugin_hash, "[s]"), SL_ECONFIG);
    assert_err_has(&t.err, "missing required key 'buckets'");
    tf_free(&t);
    sl_batch_unref(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_onehot_strings),
        cmocka_unit_test(test_onehot_other_types),
        cmocka_unit_test(test_onehot_max_categories),
        cmocka_unit_test(test_onehot_handle_unknown_error),
        cmocka_unit_test(test_onehot_errors),
        cmocka_unit_test(test_onehot_batches_and_state),
        cmocka_unit_test(test_vocabulary),
        cmocka_unit_test(test_vocabulary_errors),
        cmocka_unit_test(test_vocabulary_batches_and_empty),
        cmocka_unit_test(test_hash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
