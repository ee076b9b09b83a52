/* Unit tests for the Arrow C Data Interface export/import. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sluice/arrow.h"
#include "sluice/mem.h"

static sl_batch *sample(void)
{
    sl_schema *s = sl_schema_new();
    sl_schema_add(s, "b", SL_BOOL, 1, NULL);
    sl_schema_add(s, "i", SL_INT64, 1, NULL);
    sl_schema_add(s, "f", SL_FLOAT64, 1, NULL);
    sl_schema_add(s, "s", SL_STRING, 1, NULL);
    sl_schema_add(s, "t", SL_TIMESTAMP, 1, NULL);
    sl_schema_add(s, "d", SL_DATE, 1, NULL);
    sl_batch *b = sl_batch_new(s, 4);
    for (int r = 0; r < 20; r++) {
        if (r % 5 == 3) {
            for (int c = 0; c < 6; c++)
                sl_column_append_null(b->cols[c]);
            continue;
        }
        sl_column_append_bool(b->cols[0], r & 1);
        sl_column_append_int64(b->cols[1], r * 1000);
        sl_column_append_float64(b->cols[2], r / 3.0);
        char buf[16];
        int n = snprintf(buf, sizeof buf, "row%d", r);
        sl_column_append_str(b->cols[3], buf, (size_t)n);
        sl_column_append_int64(b->cols[4], (int64_t)r * 86400000000LL);
        sl_column_append_int32(b->cols[5], r);
    }
    sl_batch_seal(b, NULL);
    sl_schema_free(s);
    return b;
}

static void test_roundtrip(void **state)
{
    (void)state;
    sl_batch *b = sample();
    struct ArrowSchema sch;
    struct ArrowArray arr;
    assert_int_equal(sl_arrow_export(b, &sch, &arr, NULL), SL_OK);
    assert_string_equal(sch.format, "+s");
    assert_int_equal(sch.n_children, 6);
    assert_string_equal(sch.children[3]->format, "U");
    assert_string_equal(sch.children[4]->format, "tsu:UTC");
    assert_int_equal(arr.length, 20);
    /* zero-copy: the exported buffers are the column's own */
    assert_ptr_equal(arr.children[1]->buffers[1], b->cols[1]->values);
    assert_int_equal(arr.children[1]->null_count, 4);
    sl_batch *back;
    assert_int_equal(sl_arrow_import(&sch, &arr, &back, NULL), SL_OK);
    assert_int_equal(back->nrows, 20);
    assert_true(sl_schema_equal(b->schema, back->schema));
    for (int c = 0; c < 6; c++) {
        assert_int_equal(back->cols[c]->null_count, b->cols[c]->null_count);
        for (int64_t r = 0; r < 20; r++)
            assert_int_equal(sl_col_valid(back->cols[c], r), sl_col_valid(b->cols[c], r));
    }
    size_t n1, n2;
    const char *s1 = sl_col_str(b->cols[3], 7, &n1), *s2 = sl_col_str(back->cols[3], 7, &n2);
    assert_int_equal(n1, n2);
    assert_memory_equal(s1, s2, n1);
    assert_true(sl_col_f64(back->cols[2], 7) == 7 / 3.0);
    /* the batch stays alive until the consumer releases */
    sl_batch_unref(b);
    assert_int_equal(sl_col_i64(back->cols[1], 2), 2000);
    /* a consumer may move a child out and release it on its own */
    struct ArrowArray moved = *arr.children[0];
    arr.children[0]->release = NULL;
    arr.release(&arr);
    moved.release(&moved);
    sch.release(&sch);
    sl_batch_unref(back);
}

static void test_import_errors(void **state)
{
    (void)state;
    struct ArrowSchema child = {.format = "+l", .name = "x"};
    struct ArrowSchema *kids[] = {&child};
    struct ArrowSchema top = {.format = "+s", .n_children = 1, .children = kids};
    const void *bufs[2] = {NULL, NULL};
    struct ArrowArray ca = {.length = 1, .n_buffers = 2, .buffers = bufs};
    struct ArrowArray *akids[] = {&ca};
    struct ArrowArray ta = {.length = 1, .n_children = 1, .children = akids};
    sl_batch *b;
    sl_err e;
    sl_err_clear(&e);
    assert_int_equal(sl_arrow_import(&top, &ta, &b, &e), SL_EUNSUPPORTED);
    assert_non_null(strstr(e.msg, "column 'x': Arrow format '+l' is not supported"));
    top.format = "i";
    assert_int_equal(sl_arrow_import(&top, &ta, &b, &e), SL_EUNSUPPORTED);
}

static void test_export_alloc_failures(void **state)
{
    (void)state;
    sl_batch *b = sample();
    for (long n = 0; n < 40; n++) {
        struct ArrowSchema sch;
        struct ArrowArray arr;
        sl_mem_fail_after(n);
        sl_rc rc = sl_arrow_export(b, &sch, &arr, NULL);
        sl_mem_fail_after(-1);
        if (rc == SL_OK) {
            arr.release(&arr);
            sch.release(&sch);
        } else {
            assert_null(arr.release);
            assert_null(sch.release);
        }
    }
    assert_int_equal(b->refcount, 1);
    sl_batch_unref(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_import_errors),
        cmocka_unit_test(test_export_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
