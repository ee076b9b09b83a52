/* Unit tests for batches -> matrix conversion (src/ml/matrix.c): label
 * encoding like sklearn's LabelEncoder, type and null errors, multi-batch
 * growth, fixed class lists. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sluice/batch.h"
#include "sluice/matrix.h"
#include "sluice/mem.h"

/* Batch with float64 "x", int64 "n", bool "b" and label column "y" of
 * type lt holding labels[i % nl]; every 5th x is null when xnull. */
static sl_batch *make(int64_t rows, sl_type lt, const char *const *labels,
                      int nl, int xnull, int64_t base)
{
    sl_schema *s = sl_schema_new();
    sl_schema_add(s, "x", SL_FLOAT64, 1, NULL);
    sl_schema_add(s, "n", SL_INT64, 0, NULL);
    sl_schema_add(s, "b", SL_BOOL, 0, NULL);
    sl_schema_add(s, "y", lt, 1, NULL);
    sl_batch *b = sl_batch_new(s, rows);
    for (int64_t i = 0; i < rows; i++) {
        int64_t g = base + i;
        if (xnull && g % 5 == 0)
            sl_column_append_null(b->cols[0]);
        else
            sl_column_append_float64(b->cols[0], (double)g / 2);
        sl_column_append_int64(b->cols[1], g);
        sl_column_append_bool(b->cols[2], (int)(g & 1));
        const char *l = labels[g % nl];
        if (lt == SL_STRING)
            sl_column_append_str(b->cols[3], l, strlen(l));
        else if (lt == SL_INT64)
            sl_column_append_int64(b->cols[3], strtoll(l, NULL, 10));
        else if (lt == SL_BOOL)
            sl_column_append_bool(b->cols[3], l[0] == 't');
        else
            sl_column_append_float64(b->cols[3], strtod(l, NULL));
    }
    sl_batch_seal(b, NULL);
    sl_schema_free(s);
    return b;
}

static sl_rc build(sl_batch **b, int n, const sl_matrix_spec *spec,
                   sl_matrix **m, sl_err *e)
{
    sl_err_clear(e);
    return sl_matrix_from_batches((const sl_batch *const *)b, n, spec, m, e);
}

static void test_string_labels_sorted(void **state)
{
    (void)state;
    const char *labs[] = {"zeta", "alpha", "Beta", "mu"};
    sl_batch *b[3] = {make(700, SL_STRING, labs, 4, 0, 0),
                      make(900, SL_STRING, labs, 4, 0, 700),
                      make(1, SL_STRING, labs, 4, 0, 1600)};
    sl_matrix_spec spec = {.target = "y"};
    sl_matrix *m;
    sl_err e;
    assert_int_equal(build(b, 3, &spec, &m, &e), SL_OK);
    assert_int_equal(m->task, SL_TASK_CLASSIFICATION);
    assert_int_equal(m->nrows, 1601);
    assert_int_equal(m->ncols, 3);
    assert_string_equal(m->names[0], "x");
    assert_string_equal(m->names[2], "b");
    /* byte order like numpy's sort of str: uppercase first */
    assert_int_equal(m->classes.n, 4);
    assert_string_equal(m->classes.names[0], "Beta");
    assert_string_equal(m->classes.names[1], "alpha");
    assert_string_equal(m->classes.names[2], "mu");
    assert_string_equal(m->classes.names[3], "zeta");
    for (int64_t i = 0; i < m->nrows; i++) {
        assert_string_equal(m->classes.names[m->y[i]], labs[i % 4]);
        assert_true(sl_matrix_at(m, i, 0) == (float)i / 2);
        assert_true(sl_matrix_at(m, i, 1) == (float)i);
        assert_true(sl_matrix_at(m, i, 2) == (float)(i & 1));
    }
    /* take */
    int64_t rows[2] = {1600, 3};
    sl_matrix *t;
    assert_int_equal(sl_matrix_take(m, rows, 2, &t, NULL), SL_OK);
    assert_true(sl_matrix_at(t, 0, 1) == 1600.0f);
    assert_int_equal(t->y[1], m->y[3]);
    assert_int_equal(t->classes.n, 4);
    sl_matrix_free(t);
    sl_matrix_free(m);
    for (int i = 0; i < 3; i++)
        sl_batch_unref(b[i]);
}

static void test_int_bool_labels(void **state)
{
    (void)state;
    const char *ints[] = {"10", "9", "-1"};
    sl_batch *b = make(30, SL_INT64, ints, 3, 0, 0);
    sl_matrix_spec spec = {.target = "y", .expected_rows = 10};
    sl_matrix *m;
    sl_err e;
    assert_int_equal(build(&b, 1, &spec, &m, &e), SL_OK);
    assert_int_equal(m->classes.type, SL_INT64);
    assert_int_equal(m->classes.ints[0], -1); /* numeric order */
    assert_int_equal(m->classes.ints[1], 9);
    assert_int_equal(m->classes.ints[2], 10);
    assert_string_equal(m->classes.names[2], "10");
    assert_int_equal(m->y[0], 2);
    /* test data against a fixed class list: an unseen label is an error */
    const char *more[] = {"9", "11"};
    sl_batch *c = make(4, SL_INT64, more, 2, 0, 0);
    sl_matrix_spec fixed = {.target = "y", .classes = &m->classes};
    sl_matrix *t;
    assert_int_equal(build(&c, 1, &fixed, &t, &e), SL_ESCHEMA);
    assert_non_null(strstr(e.msg, "label '11' (row 2) was not seen in "
                                  "training"));
    sl_batch_unref(c);
    const char *nine[] = {"9", "-1"};
    c = make(4, SL_INT64, nine, 2, 0, 0);
    assert_int_equal(build(&c, 1, &fixed, &t, &e), SL_OK);
    assert_int_equal(t->y[0], 1);
    assert_int_equal(t->y[1], 0);
    assert_int_equal(t->classes.n, 3);
    sl_matrix_free(t);
    sl_batch_unref(c);
    sl_matrix_free(m);
    sl_batch_unref(b);

    const char *bools[] = {"true", "false"};
    b = make(5, SL_BOOL, bools, 2, 0, 0);
    assert_int_equal(build(&b, 1, &spec, &m, &e), SL_OK);
    assert_string_equal(m->classes.names[0], "false");
    assert_string_equal(m->classes.names[1], "true");
    assert_int_equal(m->y[0], 1);
    sl_matrix_free(m);
    sl_batch_unref(b);
}

static void test_regression_target(void **state)
{
    (void)state;
    const char *v[] = {"1.5", "2.25"};
    sl_batch *b = make(6, SL_FLOAT64, v, 2, 0, 0);
    sl_matrix_spec spec = {.target = "y"};
    sl_matrix *m;
    sl_err e;
    assert_int_equal(build(&b, 1, &spec, &m, &e), SL_OK);
    assert_int_equal(m->task, SL_TASK_REGRESSION);
    assert_true(m->yv[1] == 2.25);
    sl_matrix_free(m);
    /* float labels cannot be classes */
    spec.task = SL_TASK_CLASSIFICATION;
    assert_int_equal(build(&b, 1, &spec, &m, &e), SL_ESCHEMA);
    assert_non_null(strstr(e.msg, "target column 'y' is float64, which "
                                  "cannot be a classification target"));
    /* int targets can be regression targets when asked */
    sl_batch_unref(b);
    const char *iv[] = {"3", "4"};
    b = make(6, SL_INT64, iv, 2, 0, 0);
    spec.task = SL_TASK_REGRESSION;
    assert_int_equal(build(&b, 1, &spec, &m, &e), SL_OK);
    assert_true(m->yv[0] == 3.0);
    sl_matrix_free(m);
    sl_batch_unref(b);
}

static void test_errors(void **state)
{
    (void)state;
    const char *labs[] = {"a", "b"};
    sl_batch *b = make(23, SL_STRING, labs, 2, 1, 0);
    sl_matrix_spec spec = {.target = "y"};
    sl_matrix *m = NULL;
    sl_err e;
    /* 23 rows, x null at 0, 5, 10, 15, 20 */
    assert_int_equal(build(&b, 1, &spec, &m, &e), SL_ESCHEMA);
    assert_null(m);
    assert_non_null(strstr(e.msg, "feature column 'x' has 5 null values in "
                                  "23 rows; fill them with the impute "
                                  "transform"));
    assert_string_equal(e.field, "x");
    /* a string feature */
    const char *feats[] = {"n", "y"};
    sl_matrix_spec s2 = {.target = "b", .features = feats, .nfeatures = 2};
    assert_int_equal(build(&b, 1, &s2, &m, &e), SL_ESCHEMA);
    assert_non_null(strstr(e.msg, "feature column 'y' is string; models take "
                                  "numeric features (bool, int64, float64): "
                                  "encode it with the onehot or vocabulary "
                                  "transform"));
    /* missing columns */
    const char *nope[] = {"n", "zz"};
    s2.features = nope;
    assert_int_equal(build(&b, 1, &s2, &m, &e), SL_ENOTFOUND);
    assert_non_null(strstr(e.msg, "feature column 'zz' not found"));
    sl_matrix_spec s3 = {.target = "label"};
    assert_int_equal(build(&b, 1, &s3, &m, &e), SL_ENOTFOUND);
    assert_non_null(strstr(e.msg, "target column 'label' not found"));
    const char *self[] = {"y"};
    sl_matrix_spec s4 = {.target = "y", .features = self, .nfeatures = 1};
    assert_int_equal(build(&b, 1, &s4, &m, &e), SL_EINVAL);
    assert_non_null(strstr(e.msg, "both the target and a feature"));
    /* no rows */
    sl_matrix_spec s5 = {.target = "y"};
    assert_int_equal(build(NULL, 0, &s5, &m, &e), SL_EINVAL);
    assert_non_null(strstr(e.msg, "no data"));
    sl_batch_unref(b);

    /* NaN feature and null label */
    sl_schema *s = sl_schema_new();
    sl_schema_add(s, "x", SL_FLOAT64, 1, NULL);
    sl_schema_add(s, "y", SL_STRING, 1, NULL);
    b = sl_batch_new(s, 4);
    sl_column_append_float64(b->cols[0], NAN);
    sl_column_append_float64(b->cols[0], 1);
    sl_column_append_str(b->cols[1], "a", 1);
    sl_column_append_null(b->cols[1]);
    sl_batch_seal(b, NULL);
    assert_int_equal(build(&b, 1, &spec, &m, &e), SL_ESCHEMA);
    assert_non_null(strstr(e.msg, "feature column 'x' has 1 NaN or infinite "
                                  "value in 2 rows"));
    sl_batch_unref(b);
    b = sl_batch_new(s, 4);
    sl_column_append_float64(b->cols[0], 0);
    sl_column_append_float64(b->cols[0], 1);
    sl_column_append_str(b->cols[1], "a", 1);
    sl_column_append_null(b->cols[1]);
    sl_batch_seal(b, NULL);
    assert_int_equal(build(&b, 1, &spec, &m, &e), SL_ESCHEMA);
    assert_non_null(strstr(e.msg, "target column 'y' has 1 null value in 2 "
                                  "rows; drop those rows (filter: \"y is "
                                  "not null\")"));
    sl_batch_unref(b);
    sl_schema_free(s);
}

static void test_scoring_matrix_and_alloc(void **state)
{
    (void)state;
    const char *labs[] = {"a", "b", "c"};
    sl_batch *b[2] = {make(1500, SL_STRING, labs, 3, 0, 0),
                      make(700, SL_STRING, labs, 3, 0, 1500)};
    const char *feats[] = {"b", "x"};
    sl_matrix_spec spec = {.features = feats, .nfeatures = 2};
    sl_matrix *m;
    sl_err e;
    assert_int_equal(build(b, 2, &spec, &m, &e), SL_OK);
    assert_int_equal(m->task, SL_TASK_NONE);
    assert_null(m->y);
    assert_true(sl_matrix_at(m, 2199, 1) == 2199.0f / 2);
    sl_matrix_free(m);
    sl_matrix_spec full = {.target = "y"};
    int done = 0;
    for (long n = 0; !done && n < 500; n++) {
        sl_mem_fail_after(n);
        sl_rc rc = build(b, 2, &full, &m, &e);
        sl_mem_fail_after(-1);
        if (rc == SL_OK) {
            done = 1;
            assert_int_equal(m->classes.n, 3);
            sl_matrix_free(m);
        } else {
            assert_int_equal(rc, SL_ENOMEM);
        }
    }
    assert_true(done);
    sl_task t;
    assert_int_equal(sl_task_parse("regressor", &t, NULL), SL_OK);
    assert_int_equal(t, SL_TASK_REGRESSION);
    assert_int_equal(sl_task_parse("ranking", &t, &e), SL_EINVAL);
    assert_non_null(strstr(e.msg, "unknown task 'ranking'"));
    sl_batch_unref(b[0]);
    sl_batch_unref(b[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_string_labels_sorted),
        cmocka_unit_test(test_int_bool_labels),
        cmocka_unit_test(test_regression_target),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_scoring_matrix_and_alloc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
