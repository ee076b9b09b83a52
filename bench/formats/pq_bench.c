/*
 * pq_bench.c: sluice's side of bench/formats/run.sh (built against
 * libsluice.a; not part of the library).
 *
 *   pq_bench write IN.csv OUT.parquet [--threads N] [--level L]
 *       Loads the CSV into batches in memory (untimed), then times writing
 *       them as one Parquet ZSTD file (open, write every batch, close with
 *       fsync). Prints {"rows", "load_s", "write_s", "bytes"}.
 *   pq_bench read FILE [--threads N]
 *       Times reading every batch of the file (all columns decoded into
 *       batches, then dropped). Prints {"rows", "read_s"}.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "sluice/csv.h"
#include "sluice/mem.h"
#include "sluice/parquet.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int fail(const sl_err *e)
{
    char buf[2048];
    sl_err_format(e, buf, sizeof buf);
    fprintf(stderr, "pq_bench: %s\n", buf);
    return 1;
}

static int opt_int(int argc, char **argv, const char *name, int def)
{
    for (int i = 0; i + 1 < argc; i++)
        if (!strcmp(argv[i], name))
            return atoi(argv[i + 1]);
    return def;
}

static int cmd_write(int argc, char **argv)
{
    sl_err e;
    sl_err_clear(&e);
    double t0 = now();
    sl_csv_options co;
    sl_csv_options_init(&co);
    sl_csv_reader *r;
    if (sl_csv_reader_open(argv[2], &co, NULL, &r, &e) != SL_OK)
        return fail(&e);
    sl_batch **bs = NULL;
    size_t n = 0, cap = 0;
    int64_t rows = 0;
    sl_batch *b;
    sl_rc rc;
    while ((rc = sl_csv_reader_next(r, &b, &e)) == SL_OK) {
        void *p = bs;
        if (sl_grow(&p, &cap, n + 1, sizeof *bs) != 0) {
            fprintf(stderr, "pq_bench: out of memory\n");
            return 1;
        }
        bs = p;
        bs[n++] = b;
        rows += b->nrows;
    }
    if (rc != SL_EEOF)
        return fail(&e);
    sl_schema *s = sl_schema_copy(sl_csv_reader_schema(r));
    sl_csv_reader_close(r, NULL);
    double t1 = now();

    sl_parquet_write_options o;
    sl_parquet_write_options_init(&o);
    o.codec = SL_PQ_ZSTD;
    o.threads = opt_int(argc, argv, "--threads", 2);
    o.level = opt_int(argc, argv, "--level", 0);
    sl_parquet_writer *w;
    if (sl_parquet_writer_open(argv[3], s, &o, &w, &e) != SL_OK)
        return fail(&e);
    for (size_t i = 0; i < n; i++)
        if (sl_parquet_writer_write(w, bs[i], &e) != SL_OK)
            return fail(&e);
    if (sl_parquet_writer_close(w, &e) != SL_OK)
        return fail(&e);
    double t2 = now();
    struct stat st;
    stat(argv[3], &st);
    printf("{\"rows\": %lld, \"load_s\": %.3f, \"write_s\": %.3f, \"bytes\": %lld}\n",
           (long long)rows, t1 - t0, t2 - t1, (long long)st.st_size);
    for (size_t i = 0; i < n; i++)
        sl_batch_unref(bs[i]);
    sl_free(bs);
    sl_schema_free(s);
    return 0;
}

static int cmd_read(int argc, char **argv)
{
    sl_err e;
    sl_err_clear(&e);
    double t0 = now();
    sl_parquet_read_options o;
    sl_parquet_read_options_init(&o);
    o.threads = opt_int(argc, argv, "--threads", 2);
    sl_parquet_reader *r;
    if (sl_parquet_reader_open(argv[2], &o, &r, &e) != SL_OK)
        return fail(&e);
    int64_t rows = 0;
    sl_batch *b;
    sl_rc rc;
    while ((rc = sl_parquet_reader_next(r, &b, &e)) == SL_OK) {
        rows += b->nrows;
        sl_batch_unref(b);
    }
    if (rc != SL_EEOF)
        return fail(&e);
    sl_parquet_reader_close(r);
    printf("{\"rows\": %lld, \"read_s\": %.3f}\n", (long long)rows, now() - t0);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 4 && !strcmp(argv[1], "write"))
        return cmd_write(argc, argv);
    if (argc >= 3 && !strcmp(argv[1], "read"))
        return cmd_read(argc, argv);
    fprintf(stderr, "usage: pq_bench write IN.csv OUT.parquet [--threads N] [--level L]\n"
                    "       pq_bench read FILE [--threads N]\n");
    return 2;
}
