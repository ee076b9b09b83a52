/* Unit tests for select, drop, rename and cast
 * (src/processing/transforms_basic.c) and the shared transform helpers
 * (transform_util.c, value_table.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "processing/transform_util.h"
#include "processing/value_table.h"
#include "tf_test_util.h"

static sl_batch *abc(void)
{
    return batch("a", I64(1, 2, 3), "b", F64(0.5, NUL_F, 2.5), "c",
                 STR("x", "y", NULL), NULL);
}

/* ---- select / drop ---- */

static void test_select_order_and_sharing(void **state)
{
    (void)state;
    tf t;
    sl_batch *in = abc();
    tf_ok(&t, &sl_plugin_select, "[c, a]");
    sl_batch *out = tf_apply_ok(&t, in);
    assert_int_equal(out->schema->n, 2);
    assert_string_equal(out->schema->fields[0].name, "c");
    assert_string_equal(out->schema->fields[1].name, "a");
    assert_ptr_equal(out->cols[0], in->cols[2]); /* shared, not copied */
    assert_ptr_equal(out->cols[1], in->cols[0]);
    assert_int_equal(out->nrows, 3);
    assert_null(t.p->analyze);
    sl_batch_unref(out);
    tf_free(&t);
    /* mapping form, one item as a scalar */
    tf_ok(&t, &sl_plugin_select, "{columns: b}");
    out = tf_apply_ok(&t, in);
    assert_int_equal(out->schema->n, 1);
    assert_string_equal(out->schema->fields[0].name, "b");
    sl_batch_unref(out);
    tf_free(&t);
    sl_batch_unref(in);
}

static void test_select_unknown_column_is_located(void **state)
{
    (void)state;
    tf t;
    sl_batch *in = abc(), *out;
    tf_ok(&t, &sl_plugin_select, "[a, bb]");
    assert_int_equal(tf_apply(&t, in, &out), SL_ECONFIG);
    assert_string_equal(t.err.msg,
                        "select: column 'bb' not found (did you mean 'b'?)");
    assert_string_equal(t.err.file, "spec.yaml");
    assert_int_equal(t.err.line, 1);
    assert_int_equal(t.err.col, 8); /* "t: [a, bb]" */
    assert_string_equal(t.err.field, "bb");
    tf_free(&t);
    /* nothing close: the columns are listed */
    tf_ok(&t, &sl_plugin_select, "[zzzzzz]");
    assert_int_equal(tf_apply(&t, in, &out), SL_ECONFIG);
    assert_err_has(&t.err, "not found (columns: a, b, c)");
    tf_free(&t);
    sl_batch_unref(in);
}

static void test_select_config_errors(void **state)
{
    (void)state;
    tf t;
    assert_int_equal(tf_new(&t, &sl_plugin_select, "[a, b, a]"), SL_ECONFIG);
    assert_string_equal(t.err.msg, "select: column 'a' is listed twice");
    assert_int_equal(t.err.col, 11);
    tf_free(&t);
    assert_int_equal(tf_new(&t, &sl_plugin_select, "[]"), SL_ECONFIG);
    assert_err_has(&t.err, "at least one column");
    tf_free(&t);
    assert_int_equal(tf_new(&t, &sl_plugin_select, "{colums: [a]}"),
                     SL_ECONFIG);
    assert_err_has(&t.err, "did you mean 'columns'");
    tf_free(&t);
}

static void test_select_empty_batch(void **state)
{
    (void)state;
    tf t;
    sl_batch *in = batch("a", I64(1), "b", F64(2.0), NULL);
    sl_batch *empty;
    uint8_t keep[1] = {0};
    assert_int_equal(sl_batch_filter(in, keep, &empty), SL_OK);
    tf_ok(&t, &sl_plugin_select, "[b]");
    sl_batch *out = tf_apply_ok(&t, empty);
    assert_int_equal(out->nrows, 0);
    assert_int_equal(out->schema->n, 1);
    sl_batch_unref(out);
    sl_batch_unref(empty);
    sl_batch_unref(in);
    tf_free(&t);
}

static void test_drop(void **state)
{
    (void)state;
    tf t;
    sl_batch *in = abc(), *out;
    tf_ok(&t, &sl_plugin_drop, "[b]");
    out = tf_apply_ok(&t, in);
    assert_int_equal(out->schema->n, 2);
    assert_string_equal(out->schema->fields[0].name, "a");
    assert_string_equal(out->schema->fields[1].name, "c");
    assert_ptr_equal(out->cols[1], in->cols[2]);
    sl_batch_unref(out);
    tf_free(&t);

    tf_ok(&t, &sl_plugin_drop, "[c, b, a]");
    assert_int_equal(tf_apply(&t, in, &out), SL_ECONFIG);
    assert_err_has(&t.err, "drop: this would remove every column");
    tf_free(&t);

    tf_ok(&t, &sl_plugin_drop, "[a, cc]");
    assert_int_equal(tf_apply(&t, in, &out), SL_ECONFIG);
    assert_string_equal(t.err.msg,
                        "drop: column 'cc' not found (did you mean 'c'?)");
    tf_free(&t);
    sl_batch_unref(in);
}

/* ---- rename ---- */

static void test_rename(void **state)
{
    (void)state;
    tf t;
    sl_batch *in = abc(), *out;
    tf_ok(&t, &sl_plugin_rename, "{a: alpha, c: gamma}");
    out = tf_apply_ok(&t, in);
    assert_string_equal(out->schema->fields[0].name, "alpha");
    assert_string_equal(out->schema->fields[1].name, "b");
    assert_string_equal(out->schema->fields[2].name, "gamma");
    assert_ptr_equal(out->cols[2], in->cols[2]);
    assert_string_equal(in->schema->fields[0].name, "a"); /* input intact */
    sl_batch_unref(out);
    tf_free(&t);

    /* a swap is fine */
    tf_ok(&t, &sl_plugin_rename, "{a: b, b: a}");
    out = tf_apply_ok(&t, in);
    assert_string_equal(out->schema->fields[0].name, "b");
    assert_string_equal(out->schema->fields[1].name, "a");
    assert_int_equal(out->schema->fields[0].type, SL_INT64);
    sl_batch_unref(out);
    tf_free(&t);
    sl_batch_unref(in);
}

static void test_rename_errors(void **state)
{
    (void)state;
    tf t;
    sl_batch *in = abc(), *out;
    tf_ok(&t, &sl_plugin_rename, "{a: b}");
    assert_int_equal(tf_apply(&t, in, &out), SL_ECONFIG);
    assert_string_equal(t.err.msg,
                        "rename: column 'a' cannot be renamed to 'b': the "
                        "output already has a column of that name");
    assert_int_equal(t.err.line, 1);
    assert_int_equal(t.err.col, 8); /* the value 'b' in "t: {a: b}" */
    tf_free(&t);

    tf_ok(&t, &sl_plugin_rename, "{aa: z, x: y}");
    assert_int_equal(tf_apply(&t, in, &out), SL_ECONFIG);
    assert_string_equal(t.err.msg,
                        "rename: column 'aa' not found (did you mean 'a'?)");
    tf_free(&t);

    assert_int_equal(tf_new(&t, &sl_plugin_rename, "{a: ''}"), SL_ECONFIG);
    assert_err_has(&t.err, "empty name");
    tf_free(&t);
    assert_int_equal(tf_new(&t, &sl_plugin_rename, "[a, b]"), SL_ECONFIG);
    tf_free(&t);
    sl_batch_unref(in);
}

/* ---- cast ---- */

static void test_cast_from_string(void **state)
{
    (void)state;
    tf t;
    sl_batch *in =
        batch("i", STR("1", NULL, "-42"), "f", STR("0.1", "nan", "1e3"), "b",
              STR("true", "FALSE", NULL), "d",
              STR("2024-01-31", "1969-12-31", NULL), "t",
              STR("2024-01-31T10:00:00Z", NULL, "1970-01-01 00:00:01.5"),
              NULL);
    tf_ok(&t, &sl_plugin_cast,
          "{i: int64, f: double, b: bool, d: date, t: timestamp}");
    sl_batch *out = tf_apply_ok(&t, in);
    EXPECT_I64(colnamed(out, "i"), 1, NUL_I, -42);
    EXPECT_F64(colnamed(out, "f"), 0.1, NAN, 1000.0);
    const sl_column *b = colnamed(out, "b");
    assert_int_equal(b->type, SL_BOOL);
    assert_true(sl_col_bool(b, 0));
    assert_false(sl_col_bool(b, 1));
    assert_false(sl_col_valid(b, 2));
    const sl_column *d = colnamed(out, "d");
    assert_int_equal(d->type, SL_DATE);
    assert_int_equal(sl_col_i32(d, 0), 19753);
    assert_int_equal(sl_col_i32(d, 1), -1);
    assert_false(sl_col_valid(d, 2));
    const sl_column *ts = colnamed(out, "t");
    assert_int_equal(ts->type, SL_TIMESTAMP);
    assert_int_equal(sl_col_i64(ts, 0), INT64_C(1706695200000000));
    assert_false(sl_col_valid(ts, 1));
    assert_int_equal(sl_col_i64(ts, 2), INT64_C(1500000));
    assert_int_equal(in->cols[0]->type, SL_STRING); /* shared input intact */
    sl_batch_unref(out);
    sl_batch_unref(in);
    tf_free(&t);
}

static void test_cast_bad_value(void **state)
{
    (void)state;
    tf t;
    sl_batch *in = batch("x", STR("1", "abc", "3"), NULL), *out;
    tf_ok(&t, &sl_plugin_cast, "{x: int64}");
    assert_int_equal(tf_apply(&t, in, &out), SL_EPARSE);
    assert_null(out);
    assert_string_equal(t.err.msg,
                        "cast: column 'x': cannot convert 'abc' to int64 "
                        "(row 1 of the batch)");
    assert_string_equal(t.err.field, "x");
    tf_free(&t);
    sl_batch_unref(in);

    in = batch("x", STR("99999999999999999999"), NULL);
    tf_ok(&t, &sl_plugin_cast, "{x: int}");
    assert_int_equal(tf_apply(&t, in, &out), SL_EPARSE);
    assert_err_has(&t.err, "cannot convert '99999999999999999999' to int64");
    tf_free(&t);
    sl_batch_unref(in);
}

static void test_cast_float_to_int(void **state)
{
    (void)state;
    tf t;
    sl_batch *in = batch("x", F64(2.7, -2.7, NAN, NUL_F, -0.0, 9.2e18), NULL);
    sl_batch *out;
    tf_ok(&t, &sl_plugin_cast, "{x: int64}");
    out = tf_apply_ok(&t, in);
    /* truncation toward zero; NaN (the float's missing value) -> null */
    EXPECT_I64(out->cols[0], 2, -2, NUL_I, NUL_I, 0, INT64_C(9200000000000000000));
    sl_batch_unref(out);
    sl_batch_unref(in);
    for (int k = 0; k < 3; k++) {
        static const double bad[] = {1e300, -INFINITY, 9223372036854775808.0};
        static const char *const txt[] = {"1e+300", "-inf",
                                          "9.223372036854776e+18"};
        in = batch("x", F64(1.0, bad[k]), NULL);
        assert_int_equal(tf_apply(&t, in, &out), SL_EPARSE);
        char want[128];
        snprintf(want, sizeof want,
                 "cast: column 'x': cannot convert '%s' to int64 (row 1 of "
                 "the batch)",
                 txt[k]);
        assert_string_equal(t.err.msg, want);
        sl_batch_unref(in);
    }
    /* the smallest int64 is exactly representable and in range */
    in = batch("x", F64(-9223372036854775808.0), NULL);
    out = tf_apply_ok(&t, in);
    EXPECT_I64(out->cols[0], INT64_MIN);
    sl_batch_unref(out);
    sl_batch_unref(in);
    tf_free(&t);
}

static void test_cast_to_string(void **state)
{
    (void)state;
    tf t;
    sl_batch *in = batch("i", I64(-7, NUL_I), "f", F64(0.1, 3.0), "g",
                         F64(NAN, 1e300), "b", BOOL(1, 0), "d",
                         DATE(0, NUL_I), "t", TS(1500000, -1), NULL);
    tf_ok(&t, &sl_plugin_cast,
          "{i: string, f: str, g: string, b: string, d: string, t: string}");
    sl_batch *out = tf_apply_ok(&t, in);
    EXPECT_STR(colnamed(out, "i"), "-7", NULL);
    EXPECT_STR(colnamed(out, "f"), "0.1", "3.0");
    EXPECT_STR(colnamed(out, "g"), "nan", "1e+300");
    EXPECT_STR(colnamed(out, "b"), "true", "false");
    EXPECT_STR(colnamed(out, "d"), "1970-01-01", NULL);
    EXPECT_STR(colnamed(out, "t"), "1970-01-01T00:00:01.500000Z",
               "1969-12-31T23:59:59.999999Z");
    sl_batch_unref(out);
    sl_batch_unref(in);
    tf_free(&t);
}

static void test_cast_numeric_and_temporal(void **state)
{
    (void)state;
    tf t;
    sl_batch *in = batch("b", BOOL(1, 0, NUL_I), "i", I64(0, 5, -1), "f",
                         F64(0.0, NAN, -0.5), "t",
                         TS(-1, 86400000000, NUL_I), "d", DATE(1, -1, 0),
                         "n", I64(19753, 0, NUL_I), NULL);
    tf_ok(&t, &sl_plugin_cast,
          "{b: float64, i: bool, f: bool, t: date, d: timestamp, n: date}");
    sl_batch *out = tf_apply_ok(&t, in);
    EXPECT_F64(colnamed(out, "b"), 1.0, 0.0, NUL_F);
    const sl_column *i = colnamed(out, "i");
    assert_int_equal(i->type, SL_BOOL);
    assert_false(sl_col_bool(i, 0));
    assert_true(sl_col_bool(i, 1));
    assert_true(sl_col_bool(i, 2));
    const sl_column *f = colnamed(out, "f");
    assert_false(sl_col_bool(f, 0));
    assert_false(sl_col_valid(f, 1)); /* NaN -> null */
    assert_true(sl_col_bool(f, 2));
    const sl_column *d = colnamed(out, "t");
    assert_int_equal(sl_col_i32(d, 0), -1); /* floor, not truncation */
    assert_int_equal(sl_col_i32(d, 1), 1);
    assert_false(sl_col_valid(d, 2));
    const sl_column *ts = colnamed(out, "d");
    assert_int_equal(ts->type, SL_TIMESTAMP);
    assert_int_equal(sl_col_i64(ts, 0), INT64_C(86400000000));
    assert_int_equal(sl_col_i64(ts, 1), -INT64_C(86400000000));
    assert_int_equal(colnamed(out, "n")->type, SL_DATE);
    sl_batch_unref(out);
    sl_batch_unref(in);
    tf_free(&t);
}

static void test_cast_in_place_and_same_type(void **state)
{
    (void)state;
    tf t;
    sl_batch *in = batch("a", I64(1, 2), "b", STR("3", "4"), NULL);
    sl_column *a = in->cols[0];
    tf_ok(&t, &sl_plugin_cast, "{a: int64, b: int64}");
    assert_int_equal(tf_open(&t, in->schema), SL_OK);
    sl_batch *out = NULL;
    /* the caller's only reference: the batch is modified in place */
    assert_int_equal(t.p->process(t.h, in, &out, &t.err), SL_OK);
    assert_ptr_equal(out, in);
    assert_ptr_equal(out->cols[0], a); /* same type: shared */
    EXPECT_I64(out->cols[1], 3, 4);
    assert_int_equal(out->schema->fields[1].type, SL_INT64);
    sl_batch_unref(out);
    tf_free(&t);
}

static void test_cast_config_errors(void **state)
{
    (void)state;
    tf t;
    sl_batch *in, *out;
    assert_int_equal(tf_new(&t, &sl_plugin_cast, "{a: flaot64}"), SL_ECONFIG);
    assert_string_equal(t.err.msg,
                        "cast: column 'a' cannot be cast to unknown type "
                        "'flaot64' (did you mean 'float64'?); types are "
                        "bool, int64, float64, string, timestamp, date");
    assert_int_equal(t.err.col, 8);
    tf_free(&t);

    in = batch("d", DATE(1), "b", BOOL(1), NULL);
    tf_ok(&t, &sl_plugin_cast, "{d: float64}");
    assert_int_equal(tf_apply(&t, in, &out), SL_ESCHEMA);
    assert_string_equal(t.err.msg,
                        "cast: column 'd' cannot be cast from date to "
                        "float64");
    tf_free(&t);
    tf_ok(&t, &sl_plugin_cast, "{b: timestamp}");
    assert_int_equal(tf_apply(&t, in, &out), SL_ESCHEMA);
    tf_free(&t);
    sl_batch_unref(in);
    in = abc();
    tf_ok(&t, &sl_plugin_cast, "{q: int64}");
    assert_int_equal(tf_apply(&t, in, &out), SL_ECONFIG);
    tf_free(&t);
    sl_batch_unref(in);
}

/* ---- helpers ---- */

static void test_murmur3_matches_spark(void **state)
{
    (void)state;
    /* Values computed by Spark's Murmur3_x86_32.hashUnsafeBytes(.., 42). */
    assert_int_equal(sl_murmur3_spark("", 0, 42), 142593372);
    assert_int_equal(sl_murmur3_spark("hello", 5, 42), -1008564952);
    assert_int_equal(sl_murmur3_spark("hello world!", 12, 42), -294328854);
    assert_int_equal(
        sl_murmur3_spark("0f42ad101c0e1c2243e1a0e87c600eb6f4e2a05a", 40, 42),
        -912688121);
    assert_int_equal(sl_pmod(-7, 5), 3);
    assert_int_equal(sl_pmod(7, 5), 2);
}

static void test_vtab_counts_and_orders(void **state)
{
    (void)state;
    sl_vtab t;
    sl_vtab_init(&t, SL_STRING);
    sl_column *c = STR("b", "a", NULL, "b", "c", "a", "b", "");
    assert_int_equal(sl_vtab_count_column(&t, c), SL_OK);
    assert_int_equal(t.n, 4);
    int64_t *ids;
    assert_int_equal(sl_vtab_sorted(&t, SL_VTAB_BY_COUNT, &ids), SL_OK);
    static const char *const by_count[] = {"b", "a", "", "c"};
    for (int k = 0; k < 4; k++) {
        sl_vkey key;
        sl_vtab_key(&t, ids[k], &key);
        assert_int_equal(key.len, strlen(by_count[k]));
        assert_memory_equal(key.s, by_count[k], key.len);
    }
    sl_free(ids);
    sl_vkey q = {0, "c", 1};
    assert_int_equal(t.ent[sl_vtab_find(&t, &q)].count, 1);
    q.s = "d";
    assert_int_equal(sl_vtab_find(&t, &q), -1);
    sl_vtab_free(&t);
    sl_column_unref(c);

    /* floats: -0.0 and 0.0 are one value, NaN is missing */
    sl_vtab_init(&t, SL_FLOAT64);
    c = F64(0.0, -0.0, NAN, 1.5, NUL_F);
    assert_int_equal(sl_vtab_count_column(&t, c), SL_OK);
    assert_int_equal(t.n, 2);
    assert_int_equal(t.ent[0].count, 2);
    sl_vtab_free(&t);
    sl_column_unref(c);

    /* many values: growth and rehash keep every count */
    sl_vtab_init(&t, SL_INT64);
    for (int64_t i = 0; i < 100000; i++) {
        sl_vkey k = {i % 5000, NULL, 0};
        assert_int_equal(sl_vtab_add(&t, &k, 1, NULL), SL_OK);
    }
    assert_int_equal(t.n, 5000);
    for (int64_t i = 0; i < 5000; i++) {
        sl_vkey k = {i, NULL, 0};
        assert_int_equal(t.ent[sl_vtab_find(&t, &k)].count, 20);
    }
    sl_vtab_free(&t);
}

static void test_vkey_json_roundtrip(void **state)
{
    (void)state;
    static const sl_type types[] = {SL_BOOL, SL_INT64, SL_FLOAT64, SL_DATE,
                                    SL_TIMESTAMP, SL_STRING};
    double big = 1e300, inf = INFINITY;
    sl_vkey keys[6];
    keys[0] = (sl_vkey){1, NULL, 0};
    keys[1] = (sl_vkey){INT64_MIN, NULL, 0};
    memcpy(&keys[2].i, &big, 8);
    keys[3] = (sl_vkey){-719468, NULL, 0}; /* 0000-03-01 */
    keys[4] = (sl_vkey){INT64_MAX, NULL, 0}; /* beyond year 9999: integer */
    keys[5] = (sl_vkey){0, "caf\xc3\xa9", 5};
    for (int k = 0; k < 6; k++) {
        json_t *j = sl_vkey_to_json(types[k], &keys[k]);
        assert_non_null(j);
        char *text = json_dumps(j, JSON_ENCODE_ANY);
        json_t *back = json_loads(text, JSON_DECODE_ANY, NULL);
        sl_vkey out;
        const char *why = NULL;
        assert_int_equal(sl_vkey_from_json(types[k], back, &out, &why), 0);
        sl_vkey copy = keys[k];
        assert_int_equal(sl_vkey_cmp(types[k], &copy, &out), 0);
        json_decref(back);
        json_decref(j);
        free(text);
    }
    sl_vkey ki;
    memcpy(&ki.i, &inf, 8);
    json_t *j = sl_vkey_to_json(SL_FLOAT64, &ki);
    assert_string_equal(json_string_value(j), "inf");
    json_decref(j);
    sl_vkey bad = {0, "\xff", 1};
    assert_null(sl_vkey_to_json(SL_STRING, &bad)); /* not UTF-8 */
}

static int by_last_digit(const void *ctx, int64_t a, int64_t b)
{
    (void)ctx;
    return (int)(a % 10) - (int)(b % 10);
}

static void test_sort_ids_stable(void **state)
{
    (void)state;
    enum { N = 1000 };
    int64_t ids[N], pos[N];
    for (int i = 0; i < N; i++)
        ids[i] = (i * 7919) % N; /* a permutation */
    for (int i = 0; i < N; i++)
        pos[ids[i]] = i;
    int64_t before[N];
    memcpy(before, ids, sizeof ids);
    assert_int_equal(sl_tu_sort_ids(ids, N, by_last_digit, NULL), SL_OK);
    for (int i = 1; i < N; i++) {
        assert_true(ids[i - 1] % 10 <= ids[i] % 10);
        if (ids[i - 1] % 10 == ids[i] % 10) /* stable */
            assert_true(pos[ids[i - 1]] < pos[ids[i]]);
    }
    (void)before;
}

/* ---- allocation failures ---- */

/* The whole lifecycle with the n-th allocation failing (and all after
 * it); everything is released whatever fails. */
static sl_rc run_with_failure(const sl_plugin *p, const char *yaml,
                              sl_batch *in, long n)
{
    char text[512];
    sl_doc *doc = NULL;
    void *cfg = calloc(1, p->config_size), *h = NULL, *h2 = NULL;
    sl_schema *out = NULL;
    sl_batch *ob = NULL;
    json_t *st = NULL;
    sl_err e;
    sl_ctx ctx = {.spec_file = "spec.yaml"};
    snprintf(text, sizeof text, "t: %s\n", yaml);
    assert_int_equal(sl_yaml_load_string(text, strlen(text), "spec.yaml",
                                         &doc, &e),
                     SL_OK);
    assert_int_equal(sl_config_apply(p->config_map, doc->root->items[0], cfg,
                                     &e),
                     SL_OK);
    sl_mem_fail_after(n);
    sl_rc rc = p->init(&h, cfg, &ctx, &e);
    if (rc == SL_OK && p->analyze) {
        rc = p->analyze(h, in, &e);
        if (rc == SL_OK)
            rc = p->analyze_end(h, &e);
        if (rc == SL_OK)
            rc = p->state_save(h, &st, &e);
        if (rc == SL_OK)
            rc = p->init(&h2, cfg, &ctx, &e);
        if (rc == SL_OK)
            rc = p->state_load(h2, st, &e);
    }
    void *use = h2 ? h2 : h;
    if (rc == SL_OK)
        rc = p->open(use, in->schema, &out, &e);
    if (rc == SL_OK)
        rc = p->process(use, sl_batch_ref(in), &ob, &e);
    sl_mem_fail_after(-1);
    if (rc != SL_OK)
        assert_true(e.msg[0] != '\0');
    sl_batch_unref(ob);
    sl_schema_free(out);
    json_decref(st);
    if (h)
        p->destroy(h);
    if (h2)
        p->destroy(h2);
    sl_config_free(p->config_map, cfg);
    free(cfg);
    sl_doc_free(doc);
    return rc;
}

static void test_alloc_failures(void **state)
{
    (void)state;
    static const struct {
        const sl_plugin *p;
        const char *yaml;
    } cases[] = {
        {&sl_plugin_select, "[c, a]"},
        {&sl_plugin_drop, "[b]"},
        {&sl_plugin_rename, "{a: z, b: a}"},
        {&sl_plugin_cast, "{a: string, d: float64, b: int64}"},
        {&sl_plugin_impute, "{columns: [b], strategy: median}"},
        {&sl_plugin_impute, "{columns: [c, a], strategy: most_frequent}"},
        {&sl_plugin_impute, "{columns: [c], strategy: constant}"},
        {&sl_plugin_scale, "[a, b]"},
        {&sl_plugin_scale, "{columns: [a, b], method: robust}"},
        {&sl_plugin_onehot, "{columns: [c, a], other_bucket: true}"},
        {&sl_plugin_vocabulary, "[c, d]"},
        {&sl_plugin_hash, "{columns: [c, b], buckets: 7}"},
        {&sl_plugin_bucketize, "{columns: [b], buckets: 2}"},
        {&sl_plugin_bucketize, "{columns: [a], boundaries: [1, 2]}"},
        {&sl_plugin_clip, "{columns: [a], min: 0, upper_quantile: 0.5}"},
    };
    sl_batch *in = batch("a", I64(1, 2, 3), "b", F64(0.5, NUL_F, 4), "c",
                         STR("x", "y", NULL), "d", STR("1", "2", NULL), NULL);
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        long n = 0;
        while (run_with_failure(cases[k].p, cases[k].yaml, in, n) != SL_OK) {
            n++;
            if (n > 5000)
                fail_msg("%s %s: never succeeds", cases[k].p->name,
                         cases[k].yaml);
        }
        assert_true(n > 0); /* something was allocated */
    }
    sl_batch_unref(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_select_order_and_sharing),
        cmocka_unit_test(test_select_unknown_column_is_located),
        cmocka_unit_test(test_select_config_errors),
        cmocka_unit_test(test_select_empty_batch),
        cmocka_unit_test(test_drop),
        cmocka_unit_test(test_rename),
        cmocka_unit_test(test_rename_errors),
        cmocka_unit_test(test_cast_from_string),
        cmocka_unit_test(test_cast_bad_value),
        cmocka_unit_test(test_cast_float_to_int),
        cmocka_unit_test(test_cast_to_string),
        cmocka_unit_test(test_cast_numeric_and_temporal),
        cmocka_unit_test(test_cast_in_place_and_same_type),
        cmocka_unit_test(test_cast_config_errors),
        cmocka_unit_test(test_murmur3_matches_spark),
        cmocka_unit_test(test_vtab_counts_and_orders),
        cmocka_unit_test(test_vkey_json_roundtrip),
        cmocka_unit_test(test_sort_ids_stable),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
