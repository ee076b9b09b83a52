/*
 * arrow_file.c: sl_arrow_read_file, a convenience for embedders (Python
 * through ctypes/cffi, see examples/arrow/): read a whole small file of
 * any supported format into one batch and export it through the Arrow C
 * Data Interface (zero-copy from there: the consumer owns the batch's
 * buffers until it calls the release callbacks).
 *
 * The format follows the extension as for `sluice convert`. Every row is
 * held in memory at once (bounded by max_rows), so this is for files that
 * fit comfortably in RAM; pipelines stream batches instead.
 */
#include <string.h>

#include "sluice/arrow.h"
#include "sluice/avro.h"
#include "sluice/csv.h"
#include "sluice/jsonl.h"
#include "sluice/mem.h"
#include "sluice/parquet.h"
#include "sluice/pipeline.h"

/* One reader behind a common face. */
typedef struct any_reader {
    void *r;
    const sl_schema *(*schema)(const void *r);
    sl_rc (*next)(void *r, sl_batch **out, sl_err *err);
    void (*close)(void *r);
} any_reader;

static const sl_schema *csv_schema(const void *r) { return sl_csv_reader_schema(r); }
static sl_rc csv_next(void *r, sl_batch **o, sl_err *e) { return sl_csv_reader_next(r, o, e); }
static void csv_close(void *r) { sl_csv_reader_close(r, NULL); }
static const sl_schema *jsonl_schema(const void *r) { return sl_jsonl_reader_schema(r); }
static sl_rc jsonl_next(void *r, sl_batch **o, sl_err *e) { return sl_jsonl_reader_next(r, o, e); }
static void jsonl_close(void *r) { sl_jsonl_reader_close(r, NULL); }
static const sl_schema *pq_schema(const void *r) { return sl_parquet_reader_schema(r); }
static sl_rc pq_next(void *r, sl_batch **o, sl_err *e) { return sl_parquet_reader_next(r, o, e); }
static void pq_close(void *r) { sl_parquet_reader_close(r); }
static const sl_schema *avro_schema(const void *r) { return sl_avro_reader_schema(r); }
static sl_rc avro_next(void *r, sl_batch **o, sl_err *e) { return sl_avro_reader_next(r, o, e); }
static void avro_close(void *r) { sl_avro_reader_close(r); }

static int has_ext(const char *path, const char *ext)
{
    size_t n = strlen(path), e = strlen(ext);
    return n > e && strcmp(path + n - e, ext) == 0;
}

static sl_rc open_any(const char *path, any_reader *a, sl_err *err)
{
    const char *fmt = sl_format_for_path(path);
    if (!fmt && has_ext(path, ".avro"))
        fmt = "avro"; /* until sl_format_for_path maps it */
    memset(a, 0, sizeof *a);
    if (!fmt)
        return sl_err_setloc(err, SL_EUNSUPPORTED, path, 0, 0,
                             "unknown file format (expected .csv, .jsonl, .parquet or .avro)");
    if (!strcmp(fmt, "csv")) {
        sl_csv_options o;
        sl_csv_options_init(&o);
        if (has_ext(path, ".tsv"))
            o.delimiter = '\t';
        *a = (any_reader){NULL, csv_schema, csv_next, csv_close};
        return sl_csv_reader_open(path, &o, NULL, (sl_csv_reader **)&a->r, err);
    }
    if (!strcmp(fmt, "jsonl")) {
        *a = (any_reader){NULL, jsonl_schema, jsonl_next, jsonl_close};
        return sl_jsonl_reader_open(path, NULL, NULL, (sl_jsonl_reader **)&a->r, err);
    }
    if (!strcmp(fmt, "parquet")) {
        *a = (any_reader){NULL, pq_schema, pq_next, pq_close};
        return sl_parquet_reader_open(path, NULL, (sl_parquet_reader **)&a->r, err);
    }
    if (!strcmp(fmt, "avro")) {
        *a = (any_reader){NULL, avro_schema, avro_next, avro_close};
        return sl_avro_reader_open(path, NULL, (sl_avro_reader **)&a->r, err);
    }
    return sl_err_setloc(err, SL_EUNSUPPORTED, path, 0, 0, "format '%s' cannot be read", fmt);
}

/* Appends every row of src to dst (same schema). */
static sl_rc append_batch(sl_batch *dst, const sl_batch *src, sl_err *err)
{
    for (int j = 0; j < dst->schema->n; j++) {
        sl_column *c = dst->cols[j];
        const sl_column *s = src->cols[j];
        int64_t bytes = s->type == SL_STRING ? s->offsets[s->length] : 0;
        if (sl_column_reserve(c, s->length, bytes) != SL_OK)
            return sl_err_set(err, SL_ENOMEM, "out of memory");
        for (int64_t i = 0; i < s->length; i++)
            if (sl_column_append_from(c, s, i) != SL_OK)
                return sl_err_set(err, SL_ENOMEM, "out of memory");
    }
    dst->nrows += src->nrows;
    return SL_OK;
}

/* A batch or column someone else holds must not be appended to. */
static int shared(const sl_batch *b)
{
    if (b->refcount > 1)
        return 1;
    for (int j = 0; j < b->schema->n; j++)
        if (b->cols[j]->refcount > 1)
            return 1;
    return 0;
}

sl_rc sl_arrow_read_file(const char *path, int64_t max_rows, struct ArrowSchema *schema,
                         struct ArrowArray *array, sl_err *err)
{
    any_reader a;
    sl_batch *all = NULL, *b = NULL;
    sl_rc rc = open_any(path, &a, err);
    if (rc != SL_OK)
        goto out;
    while ((rc = a.next(a.r, &b, err)) == SL_OK) {
        if (!all) {
            all = b; /* the common case, one batch: no copy at all */
        } else {
            if (shared(all)) {
                /* the first batch may be shared with the reader: copy it */
                sl_batch *own = sl_batch_new(all->schema, all->nrows + b->nrows);
                rc = own ? append_batch(own, all, err) : sl_err_set(err, SL_ENOMEM, "out of memory");
                sl_batch_unref(all);
                all = own;
            }
            if (rc == SL_OK)
                rc = append_batch(all, b, err);
            sl_batch_unref(b);
            if (rc != SL_OK)
                goto out;
        }
        b = NULL;
        if (all->nrows > max_rows) {
            rc = sl_err_setloc(err, SL_ELIMIT, path, 0, 0,
                               "more than %lld rows: too large to read into one batch",
                               (long long)max_rows);
            goto out;
        }
    }
    if (rc != SL_EEOF)
        goto out;
    if (!all && !(all = sl_batch_new(a.schema(a.r), 1))) {
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        goto out;
    }
    rc = sl_arrow_export(all, schema, array, err);
out:
    sl_batch_unref(all);
    if (a.close)
        a.close(a.r);
    return rc;
}
