/*
 * expr_bench.c: throughput of the expression evaluator on 64K-row batches.
 *
 *   cc -O2 -Iinclude bench/micro/expr_bench.c build/libsluice.a \
 *      $(pkg-config --libs yaml-0.1 jansson) -lm -lpthread -o expr_bench
 *   ./expr_bench [seconds-per-case [expression]]
 *
 * Prints rows/s per expression (one "value" = one row of the result). Not
 * part of the test suite: timings are machine-dependent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sluice/batch.h"
#include "sluice/expr.h"

#define ROWS 65536

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static sl_batch *make(int with_nulls)
{
    sl_schema *s = sl_schema_new();
    sl_schema_add(s, "a", SL_INT64, 1, NULL);
    sl_schema_add(s, "b", SL_INT64, 1, NULL);
    sl_schema_add(s, "x", SL_FLOAT64, 1, NULL);
    sl_schema_add(s, "y", SL_FLOAT64, 1, NULL);
    sl_schema_add(s, "s", SL_STRING, 1, NULL);
    sl_batch *b = sl_batch_new(s, ROWS);
    sl_schema_free(s);
    uint64_t st = 42;
    static const char *words[] = {"alpha", "beta", "gamma", "delta", "epsilon"};
    for (int64_t i = 0; i < ROWS; i++) {
        st = st * 6364136223846793005ull + 1442695040888963407ull;
        int r = (int)(st >> 33);
        if (with_nulls && r % 10 == 0)
            sl_column_append_null(b->cols[0]);
        else
            sl_column_append_int64(b->cols[0], r % 100);
        sl_column_append_int64(b->cols[1], (r >> 8) % 50);
        sl_column_append_float64(b->cols[2], (r % 1000) / 7.0);
        sl_column_append_float64(b->cols[3], (r >> 10) % 100 / 3.0);
        const char *w = words[(r >> 4) % 5];
        sl_column_append_str(b->cols[4], w, strlen(w));
    }
    sl_batch_seal(b, NULL);
    return b;
}

static void run(const sl_batch *b, const char *text, double secs)
{
    sl_expr *e = NULL;
    sl_err err;
    if (sl_expr_parse(text, &e, &err) || sl_expr_bind(e, b->schema, NULL, &err)) {
        fprintf(stderr, "%s: %s\n", text, err.msg);
        exit(1);
    }
    int64_t rows = 0;
    double t0 = now(), t;
    do {
        for (int k = 0; k < 16; k++) {
            sl_column *c = NULL;
            if (sl_expr_eval(e, b, &c, &err) != SL_OK) {
                fprintf(stderr, "%s\n", err.msg);
                exit(1);
            }
            sl_column_unref(c);
            rows += b->nrows;
        }
        t = now() - t0;
    } while (t < secs);
    printf("%-44s %8.1f M rows/s  %6.2f ns/row\n", text, (double)rows / t / 1e6,
           t * 1e9 / (double)rows);
    sl_expr_free(e);
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 1.0;
    const char *exprs[] = {
        "a * 2 + b > 10", "a + b",        "a * b",
        "x * 2.0 + y > 10", "a > 10",     "x / y",
        "a > 10 and b < 20", "coalesce(a, 0)", "if(a > 50, x, y)",
        "s = 'gamma'",      "contains(s, 'ta')", "round(x, 2)",
        "log(x + 1)",
    };
    if (argc > 2) { /* one expression, e.g. for perf */
        sl_batch *b = make(0);
        run(b, argv[2], secs);
        sl_batch_unref(b);
        return 0;
    }
    for (int nulls = 0; nulls < 2; nulls++) {
        sl_batch *b = make(nulls);
        printf("-- %s\n", nulls ? "10% nulls in a" : "no nulls");
        for (size_t k = 0; k < sizeof exprs / sizeof exprs[0]; k++)
            run(b, exprs[k], secs);
        sl_batch_unref(b);
    }
    return 0;
}
