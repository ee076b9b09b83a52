/*
 * fuzz_expr.c: parse + bind + evaluate arbitrary text against a fixed
 * batch with a column of every type (with nulls and edge values: INT64_MIN,
 * NaN, inf, empty and non-ASCII strings), and check the result column's
 * invariants (length, null_count, zeroed null slots). Any crash, sanitizer
 * report or broken invariant is a finding.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/batch.h"
#include "sluice/expr.h"
#include "sluice/mem.h"

#define ROWS 11

static sl_batch *fixture(void)
{
    static sl_batch *b;
    if (b)
        return b;
    sl_schema *s = sl_schema_new();
    sl_schema_add(s, "i", SL_INT64, 1, NULL);
    sl_schema_add(s, "j", SL_INT64, 0, NULL);
    sl_schema_add(s, "f", SL_FLOAT64, 1, NULL);
    sl_schema_add(s, "s", SL_STRING, 1, NULL);
    sl_schema_add(s, "b", SL_BOOL, 1, NULL);
    sl_schema_add(s, "d", SL_DATE, 1, NULL);
    sl_schema_add(s, "t", SL_TIMESTAMP, 1, NULL);
    sl_schema_add(s, "n", SL_NULL, 1, NULL);
    sl_schema_add(s, "x y", SL_STRING, 1, NULL);
    b = sl_batch_new(s, ROWS);
    sl_schema_free(s);
    static const int64_t iv[] = {0, 1, -1, 7, INT64_MAX, INT64_MIN, 42, -42, 3, 1000000007, 2};
    static const double fv[] = {0.0, -0.0, 1.5, -2.25, 1e308, -1e-308, 0.1, 3.0, 2.675, 1e15, 7.0};
    static const char *sv[] = {"", "a", "Hello", "h\xc3\xa9llo", "2024-01-31", "abcabc",
                               "ZZ", "x y", "'q'", "\xff\xfe", "2024-01-31 10:00"};
    for (int r = 0; r < ROWS; r++) {
        int null = r % 4 == 3;
        if (null)
            sl_column_append_null(b->cols[0]);
        else
            sl_column_append_int64(b->cols[0], iv[r]);
        sl_column_append_int64(b->cols[1], iv[(r + 3) % ROWS]);
        if (r == 6)
            sl_column_append_float64(b->cols[2], NAN);
        else if (r == 9)
            sl_column_append_float64(b->cols[2], -INFINITY);
        else if (r % 5 == 2)
            sl_column_append_null(b->cols[2]);
        else
            sl_column_append_float64(b->cols[2], fv[r]);
        if (r % 3 == 1)
            sl_column_append_null(b->cols[3]);
        else
            sl_column_append_str(b->cols[3], sv[r], strlen(sv[r]));
        if (r % 3 == 2)
            sl_column_append_null(b->cols[4]);
        else
            sl_column_append_bool(b->cols[4], r & 1);
        if (r == 5)
            sl_column_append_null(b->cols[5]);
        else
            sl_column_append_int32(b->cols[5], (int32_t)(iv[r] % 800000));
        if (r == 4)
            sl_column_append_null(b->cols[6]);
        else
            sl_column_append_int64(b->cols[6], iv[r] / 1000 * 997);
        sl_column_append_null(b->cols[7]);
        sl_column_append_str(b->cols[8], sv[ROWS - 1 - r], strlen(sv[ROWS - 1 - r]));
    }
    sl_batch_seal(b, NULL);
    return b;
}

static void check(const sl_column *c, sl_type t, int64_t n)
{
    if (c->type != t || c->length != n)
        abort();
    int64_t nulls = 0;
    for (int64_t i = 0; i < n; i++) {
        if (sl_col_valid(c, i))
            continue;
        nulls++;
        int bad = 0;
        switch (c->type) {
        case SL_BOOL: bad = sl_col_bool(c, i); break;
        case SL_INT64:
        case SL_TIMESTAMP: bad = sl_col_i64(c, i) != 0; break;
        case SL_DATE: bad = sl_col_i32(c, i) != 0; break;
        case SL_FLOAT64: {
            double v = sl_col_f64(c, i);
            uint64_t bits;
            memcpy(&bits, &v, 8);
            bad = bits != 0;
            break;
        }
        case SL_STRING: bad = c->offsets[i + 1] != c->offsets[i]; break;
        default: break;
        }
        if (bad)
            abort();
    }
    if (nulls != c->null_count)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sl_batch *b = fixture();
    if (size > 4096)
        size = 4096;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    sl_expr *e = NULL;
    sl_err err;
    sl_type t;
    if (sl_expr_parse(text, &e, &err) == SL_OK &&
        sl_expr_bind(e, b->schema, &t, &err) == SL_OK) {
        sl_column *c = NULL;
        if (sl_expr_eval(e, b, &c, &err) != SL_OK)
            abort(); /* a bound expression always evaluates */
        check(c, t, b->nrows);
        if (!sl_expr_nullable(e) && c->null_count)
            abort();
        sl_column_unref(c);
        /* a second batch reuses pooled temporaries */
        if (sl_expr_eval(e, b, &c, &err) != SL_OK)
            abort();
        check(c, t, b->nrows);
        sl_column_unref(c);
    }
    sl_expr_free(e);
    free(text);
    return 0;
}
