/* Unit tests for src/core: errors, arena, schema, columns, batches, dlq. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sluice/arena.h"
#include "sluice/batch.h"
#include "sluice/dlq.h"
#include "sluice/error.h"
#include "sluice/mem.h"
#include "sluice/schema.h"

static void test_err_format(void **state)
{
    (void)state;
    sl_err e;
    char buf[256];
    sl_err_clear(&e);
    sl_err_setloc(&e, SL_EPARSE, "a.csv", 3, 7, "bad %s", "value");
    sl_err_format(&e, buf, sizeof buf);
    assert_string_equal(buf, "a.csv:3:7: bad value");
    sl_err_prefix(&e, "column '%s'", "x");
    sl_err_format(&e, buf, sizeof buf);
    assert_string_equal(buf, "a.csv:3:7: column 'x': bad value");
    sl_err_clear(&e);
    sl_err_set(&e, SL_EIO, "gone");
    sl_err_at(&e, "b.csv", 9, 0);
    sl_err_at(&e, "c.csv", 10, 0); /* first location wins */
    sl_err_format(&e, buf, sizeof buf);
    assert_string_equal(buf, "b.csv:9: gone");
    assert_int_equal(sl_err_set(NULL, SL_ENOMEM, "x"), SL_ENOMEM);
}

static void test_arena(void **state)
{
    (void)state;
    sl_arena *a = sl_arena_new(64);
    assert_non_null(a);
    char *p = sl_arena_alloc(a, 10);
    assert_non_null(p);
    assert_int_equal((uintptr_t)p % 16, 0);
    char *big = sl_arena_alloc(a, 100000); /* larger than a block */
    assert_non_null(big);
    memset(big, 1, 100000);
    char *s = sl_arena_strndup(a, "hello world", 5);
    assert_string_equal(s, "hello");
    assert_true(sl_arena_used(a) >= 100000);
    sl_arena_reset(a);
    assert_int_equal(sl_arena_used(a), 0);
    assert_non_null(sl_arena_calloc(a, 32));
    sl_arena_free(a);
}

static void test_schema(void **state)
{
    (void)state;
    sl_schema *s = sl_schema_new();
    sl_err e;
    sl_err_clear(&e);
    assert_int_equal(sl_schema_add(s, "a", SL_INT64, 1, &e), SL_OK);
    assert_int_equal(sl_schema_add(s, "b", SL_STRING, 0, &e), SL_OK);
    assert_int_equal(sl_schema_add(s, "a", SL_FLOAT64, 1, &e), SL_ESCHEMA);
    assert_non_null(strstr(e.msg, "duplicate column name 'a'"));
    assert_int_equal(sl_schema_find(s, "b"), 1);
    assert_int_equal(sl_schema_find(s, "zz"), -1);
    sl_type t;
    assert_int_equal(sl_type_parse("Double", &t), SL_OK);
    assert_int_equal(t, SL_FLOAT64);
    assert_int_equal(sl_type_parse("decimal", &t), SL_ENOTFOUND);
    assert_string_equal(sl_type_arrow_format(SL_TIMESTAMP), "tsu:UTC");

    char path[] = "/tmp/sl_schema_XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    assert_int_equal(sl_schema_save_json(s, "raw", path, &e), SL_OK);
    sl_schema *r = NULL;
    assert_int_equal(sl_schema_load_json(path, &r, &e), SL_OK);
    assert_true(sl_schema_equal(s, r));
    assert_int_equal(r->fields[1].nullable, 0);
    sl_schema_free(r);

    FILE *f = fopen(path, "w");
    fputs("{\"fields\": [{\"name\": \"x\", \"type\": \"decimal\"}]}", f);
    fclose(f);
    assert_int_equal(sl_schema_load_json(path, &r, &e), SL_ESCHEMA);
    assert_non_null(strstr(e.msg, "unknown type 'decimal'"));
    f = fopen(path, "w");
    fputs("{\"fields\": [", f);
    fclose(f);
    assert_int_equal(sl_schema_load_json(path, &r, &e), SL_EPARSE);
    assert_int_equal(e.line, 1);
    unlink(path);
    sl_schema_free(s);
}

static void test_column_append_and_filter(void **state)
{
    (void)state;
    sl_column *c = sl_column_new(SL_STRING, 2);
    for (int i = 0; i < 100; i++) {
        if (i % 3 == 0)
            assert_int_equal(sl_column_append_null(c), SL_OK);
        else {
            char buf[16];
            int n = snprintf(buf, sizeof buf, "v%d", i);
            assert_int_equal(sl_column_append_str(c, buf, (size_t)n), SL_OK);
        }
    }
    assert_int_equal(c->length, 100);
    assert_int_equal(c->null_count, 34);
    size_t n;
    const char *s = sl_col_str(c, 5, &n);
    assert_int_equal(n, 2);
    assert_memory_equal(s, "v5", 2);
    assert_false(sl_col_valid(c, 3));
    uint8_t keep[100];
    for (int i = 0; i < 100; i++)
        keep[i] = (uint8_t)(i % 2 == 0);
    sl_column *f = sl_column_filter(c, keep, 50);
    assert_int_equal(f->length, 50);
    assert_false(sl_col_valid(f, 0)); /* row 0 null */
    s = sl_col_str(f, 1, &n);         /* row 2 */
    assert_memory_equal(s, "v2", 2);
    assert_int_equal(f->null_count, 17);
    sl_column_truncate(c, 10);
    assert_int_equal(c->null_count, 4);
    sl_column *cp = sl_column_copy(c);
    assert_int_equal(cp->length, 10);
    assert_int_equal(cp->null_count, 4);
    sl_column_unref(cp);
    sl_column_unref(f);
    sl_column_unref(c);

    sl_column *b = sl_column_new(SL_BOOL, 1);
    for (int i = 0; i < 20; i++)
        sl_column_append_bool(b, i & 1);
    sl_column_append_null(b);
    assert_int_equal(sl_col_bool(b, 3), 1);
    assert_int_equal(sl_col_bool(b, 4), 0);
    assert_true(sl_col_valid(b, 19));
    assert_false(sl_col_valid(b, 20));
    sl_column_unref(b);

    sl_column *z = sl_column_new_nulls(SL_FLOAT64, 1000);
    assert_int_equal(z->null_count, 1000);
    assert_true(sl_col_f64(z, 999) == 0.0);
    sl_column_unref(z);
}

static void test_batch(void **state)
{
    (void)state;
    sl_schema *s = sl_schema_new();
    sl_schema_add(s, "x", SL_INT64, 1, NULL);
    sl_schema_add(s, "y", SL_FLOAT64, 1, NULL);
    sl_batch *b = sl_batch_new(s, 4);
    for (int i = 0; i < 10; i++) {
        sl_column_append_int64(b->cols[0], i);
        sl_column_append_float64(b->cols[1], i * 0.5);
    }
    assert_int_equal(sl_batch_seal(b, NULL), SL_OK);
    assert_int_equal(b->nrows, 10);
    uint8_t keep[10] = {1, 0, 1, 0, 1, 0, 1, 0, 1, 0};
    sl_batch *f;
    assert_int_equal(sl_batch_filter(b, keep, &f), SL_OK);
    assert_int_equal(f->nrows, 5);
    assert_int_equal(sl_col_i64(f->cols[0], 4), 8);
    int idx[] = {1};
    sl_batch *p;
    assert_int_equal(sl_batch_project(b, idx, 1, &p), SL_OK);
    assert_int_equal(p->schema->n, 1);
    assert_ptr_equal(p->cols[0], b->cols[1]);
    assert_int_equal(b->cols[1]->refcount, 2);
    sl_err e;
    sl_err_clear(&e);
    sl_column *bad = sl_column_new(SL_INT64, 1);
    assert_int_equal(sl_batch_add_column(p, "z", bad, &e), SL_EINVAL);
    assert_int_equal(sl_batch_drop_column(b, 0), SL_OK);
    assert_int_equal(sl_batch_find(b, "y"), 0);
    assert_true(sl_batch_bytes(b) > 0);
    sl_batch_unref(p);
    sl_batch_unref(f);
    sl_batch_unref(b);
    sl_schema_free(s);
}

static void test_batch_alloc_failures(void **state)
{
    (void)state;
    sl_schema *s = sl_schema_new();
    sl_schema_add(s, "x", SL_STRING, 1, NULL);
    sl_schema_add(s, "y", SL_BOOL, 1, NULL);
    for (long n = 0; n < 40; n++) {
        sl_mem_fail_after(n);
        sl_batch *b = sl_batch_new(s, 2);
        if (!b)
            continue;
        for (int i = 0; i < 50; i++) {
            if (sl_column_append_str(b->cols[0], "abc", 3) != SL_OK)
                break;
            if (sl_column_append_null(b->cols[1]) != SL_OK)
                break;
        }
        sl_batch_unref(b);
    }
    sl_mem_fail_after(-1);
    sl_schema_free(s);
}

static void test_dlq(void **state)
{
    (void)state;
    char path[] = "/tmp/sl_dlq_XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    unlink(path);
    sl_dlq *d;
    sl_err e;
    assert_int_equal(sl_dlq_open(path, &d, &e), SL_OK);
    assert_null(sl_dlq_path(d));
    assert_int_equal(access(path, F_OK), -1); /* lazily created */
    const char rec[] = "a,\"b\n\xff";
    assert_int_equal(sl_dlq_write(d, "in.csv", 4, 17, "too many fields", rec,
                                  sizeof rec - 1, &e), SL_OK);
    assert_int_equal(sl_dlq_count(d), 1);
    assert_int_equal(sl_dlq_close(d, &e), SL_OK);
    FILE *f = fopen(path, "r");
    char line[512];
    assert_non_null(fgets(line, sizeof line, f));
    fclose(f);
    assert_string_equal(line, "{\"source\":\"in.csv\",\"line\":4,\"offset\":17,"
                              "\"reason\":\"too many fields\",\"record\":"
                              "\"a,\\\"b\\n\\u00ff\"}\n");
    unlink(path);
    assert_int_equal(sl_dlq_open(NULL, &d, &e), SL_OK);
    sl_dlq_write(d, "x", 1, 0, "r", "x", 1, &e);
    assert_int_equal(sl_dlq_count(d), 1);
    sl_dlq_close(d, &e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_err_format),
        cmocka_unit_test(test_arena),
        cmocka_unit_test(test_schema),
        cmocka_unit_test(test_column_append_and_filter),
        cmocka_unit_test(test_batch),
        cmocka_unit_test(test_batch_alloc_failures),
        cmocka_unit_test(test_dlq),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
