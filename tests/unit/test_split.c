/* Unit tests for the seeded train/test split (src/processing/split.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sluice/batch.h"
#include "sluice/split.h"

/* A batch with column "y": label i % nclasses, or null every 7th row when
 * with_nulls. */
static sl_batch *labels(int64_t n, int nclasses, int with_nulls)
{
    sl_schema *s = sl_schema_new();
    sl_schema_add(s, "y", SL_STRING, 1, NULL);
    sl_batch *b = sl_batch_new(s, n);
    for (int64_t i = 0; i < n; i++) {
        char buf[8];
        if (with_nulls && i % 7 == 0) {
            sl_column_append_null(b->cols[0]);
            continue;
        }
        buf[0] = (char)('a' + i % nclasses);
        sl_column_append_str(b->cols[0], buf, 1);
    }
    sl_batch_seal(b, NULL);
    sl_schema_free(s);
    return b;
}

static int64_t run_split(sl_split *sp, sl_batch *b, uint8_t *mask)
{
    /* feed in two batches' worth to exercise state across calls */
    assert_int_equal(sl_split_count(sp, b, NULL), SL_OK);
    assert_int_equal(sl_split_plan(sp, NULL), SL_OK);
    assert_int_equal(sl_split_assign(sp, b, mask, NULL), SL_OK);
    int64_t t = 0;
    for (int64_t i = 0; i < b->nrows; i++)
        t += mask[i];
    return t;
}

static void test_exact_size_and_determinism(void **state)
{
    (void)state;
    sl_batch *b = labels(1461, 5, 0);
    uint8_t m1[1461], m2[1461], m3[1461];
    sl_split *a, *c, *d;
    assert_int_equal(sl_split_new(0.2, 42, NULL, &a, NULL), SL_OK);
    assert_int_equal(run_split(a, b, m1), 293); /* ceil(0.2 * 1461) */
    assert_int_equal(sl_split_test_total(a), 293);
    sl_split_reset(a);
    assert_int_equal(sl_split_assign(a, b, m2, NULL), SL_OK);
    assert_memory_equal(m1, m2, sizeof m1); /* same pass twice */
    assert_int_equal(sl_split_new(0.2, 42, NULL, &c, NULL), SL_OK);
    run_split(c, b, m2);
    assert_memory_equal(m1, m2, sizeof m1); /* same seed */
    assert_int_equal(sl_split_new(0.2, 7, NULL, &d, NULL), SL_OK);
    assert_int_equal(run_split(d, b, m3), 293);
    assert_memory_not_equal(m1, m3, sizeof m1); /* other seed */
    /* more rows than counted is an error, not a silent misassignment */
    sl_err e;
    sl_err_clear(&e);
    assert_int_equal(sl_split_assign(a, b, m2, &e), SL_EINTERNAL);
    assert_non_null(strstr(e.msg, "input changed between passes"));
    sl_split_free(a);
    sl_split_free(c);
    sl_split_free(d);
    sl_batch_unref(b);
}

static void test_stratified(void **state)
{
    (void)state;
    sl_batch *b = labels(1000, 4, 1);
    uint8_t m[1000];
    sl_split *sp;
    assert_int_equal(sl_split_new(0.25, 42, "y", &sp, NULL), SL_OK);
    assert_int_equal(run_split(sp, b, m), 250);
    /* each class (and the null stratum) gets its share within one row */
    int64_t n[5] = {0}, t[5] = {0};
    for (int64_t i = 0; i < 1000; i++) {
        int k = i % 7 == 0 ? 4 : (int)(i % 4);
        n[k]++;
        t[k] += m[i];
    }
    for (int k = 0; k < 5; k++) {
        double want = 0.25 * (double)n[k];
        assert_true((double)t[k] >= want - 1 && (double)t[k] <= want + 1);
    }
    sl_split_free(sp);
    sl_batch_unref(b);
}

static void test_errors(void **state)
{
    (void)state;
    sl_split *sp;
    sl_err e;
    sl_err_clear(&e);
    assert_int_equal(sl_split_new(1.5, 42, NULL, &sp, &e), SL_ECONFIG);
    assert_non_null(strstr(e.msg, "between 0 and 1"));
    sl_batch *b = labels(10, 2, 0);
    assert_int_equal(sl_split_new(0.2, 42, "label", &sp, NULL), SL_OK);
    assert_int_equal(sl_split_count(sp, b, &e), SL_ENOTFOUND);
    assert_non_null(strstr(e.msg, "stratify column 'label' not found"));
    sl_split_free(sp);
    sl_batch *one = labels(1, 1, 0);
    assert_int_equal(sl_split_new(0.2, 42, NULL, &sp, NULL), SL_OK);
    assert_int_equal(sl_split_count(sp, one, NULL), SL_OK);
    assert_int_equal(sl_split_plan(sp, &e), SL_ECONFIG);
    assert_non_null(strstr(e.msg, "one side would be empty"));
    sl_split_free(sp);
    sl_batch_unref(one);
    sl_batch_unref(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_size_and_determinism),
        cmocka_unit_test(test_stratified),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
