/*
 * Fuzz target for the JSON Lines reader and writer.
 *
 * The first input byte picks reader options (chunk size, sample size,
 * on_error, batch size, record limit) so chunk boundaries and error paths
 * get explored; the rest is the file. Checks: no crash or leak, every
 * batch is well formed (lengths, null counts, offsets, valid UTF-8), and
 * whatever was read survives a write -> read round trip with the same
 * schema (infinities excepted: JSON writes them as null).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/jsonl_internal.h"
#include "sluice/jsonl.h"
#include "sluice/log.h"
#include "sluice/mem.h"

#define CHECK(x)                                                               \
    do {                                                                       \
        if (!(x))                                                              \
            abort();                                                           \
    } while (0)

static void check_batch(const sl_batch *b)
{
    for (int j = 0; j < b->schema->n; j++) {
        const sl_column *c = b->cols[j];
        int64_t nulls = 0;
        CHECK(c->length == b->nrows);
        for (int64_t i = 0; i < b->nrows; i++)
            nulls += !sl_col_valid(c, i);
        CHECK(nulls == c->null_count);
        if (c->type != SL_STRING)
            continue;
        CHECK(c->offsets[0] == 0);
        for (int64_t i = 0; i < b->nrows; i++) {
            CHECK(c->offsets[i] <= c->offsets[i + 1]);
            CHECK(sl_col_valid(c, i) || c->offsets[i] == c->offsets[i + 1]);
        }
        CHECK(c->offsets[b->nrows] <= c->data_cap);
        const unsigned char *s = (const unsigned char *)c->data;
        for (int64_t k = 0; k < c->offsets[b->nrows];) {
            int len = s[k] < 0x80 ? 1 : jl_utf8_len(s + k, (size_t)(c->offsets[b->nrows] - k));
            CHECK(len > 0);
            k += len;
        }
    }
}

static int value_equal(const sl_column *a, int64_t i, const sl_column *b,
                       int64_t k)
{
    int va = sl_col_valid(a, i), vb = sl_col_valid(b, k);
    if (va && a->type == SL_FLOAT64 && isinf(sl_col_f64(a, i)))
        va = 0; /* written as null */
    if (va != vb)
        return 0;
    if (!va)
        return 1;
    switch (a->type) {
    case SL_BOOL:
        return sl_col_bool(a, i) == sl_col_bool(b, k);
    case SL_INT64:
    case SL_TIMESTAMP:
        return sl_col_i64(a, i) == sl_col_i64(b, k);
    case SL_DATE:
        return sl_col_i32(a, i) == sl_col_i32(b, k);
    case SL_FLOAT64: {
        double x = sl_col_f64(a, i), y = sl_col_f64(b, k);
        return memcmp(&x, &y, sizeof x) == 0;
    }
    case SL_STRING: {
        size_t n1, n2;
        const char *s1 = sl_col_str(a, i, &n1), *s2 = sl_col_str(b, k, &n2);
        return n1 == n2 && memcmp(s1, s2, n1) == 0;
    }
    default:
        return 1;
    }
}

/* Writes the batches to memory and reads them back with their schema. */
static void round_trip(const sl_schema *schema, sl_batch **bs, int nb)
{
    sl_jsonl_writer *w;
    sl_err err;
    if (jl_writer_open_mem(schema, &w) != SL_OK)
        return;
    for (int i = 0; i < nb; i++)
        CHECK(sl_jsonl_writer_write(w, bs[i], &err) == SL_OK);
    size_t len;
    const char *text = jl_writer_text(w, &len);
    sl_jsonl_options o;
    sl_jsonl_options_init(&o);
    o.infer_rows = 0;
    sl_jsonl_reader *r;
    CHECK(sl_jsonl_reader_open_mem(text, len, "rt", &o, schema, &r, &err) == SL_OK);
    CHECK(sl_schema_equal(sl_jsonl_reader_schema(r), schema));
    int bi = 0;
    int64_t row = 0;
    sl_batch *b;
    sl_rc rc;
    while ((rc = sl_jsonl_reader_next(r, &b, &err)) == SL_OK) {
        for (int64_t k = 0; k < b->nrows; k++) {
            while (bi < nb && row == bs[bi]->nrows) {
                bi++;
                row = 0;
            }
            CHECK(bi < nb);
            for (int j = 0; j < schema->n; j++)
                CHECK(value_equal(bs[bi]->cols[j], row, b->cols[j], k));
            row++;
        }
        sl_batch_unref(b);
    }
    CHECK(rc == SL_EEOF);
    while (bi < nb && row == bs[bi]->nrows) {
        bi++;
        row = 0;
    }
    CHECK(bi == nb);
    CHECK(sl_jsonl_reader_unknown_keys(r) == 0);
    sl_jsonl_reader_close(r, NULL);
    sl_jsonl_writer_abort(w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int64_t infer[4] = {10000, 1, 2, 0};
    sl_log_setup(SL_LOG_OFF, SL_LOG_TEXT);
    if (size < 1)
        return 0;
    uint8_t ctl = data[0];
    data++;
    size--;
    sl_jsonl_options o;
    sl_jsonl_options_init(&o);
    o.chunk_bytes = (size_t)(ctl & 7) * 3; /* 0 = default */
    o.infer_rows = infer[(ctl >> 3) & 3];
    o.on_error = (ctl >> 5) & 1 ? SL_ON_ERROR_SKIP : SL_ON_ERROR_FAIL;
    o.batch_rows = (ctl >> 6) & 1 ? 2 : 65536;
    if (ctl >> 7)
        o.max_record_bytes = 64;

    sl_jsonl_reader *r;
    sl_err err;
    if (sl_jsonl_reader_open_mem(data, size, "fuzz", &o, NULL, &r, &err) != SL_OK)
        return 0;
    sl_batch **bs = NULL, *b;
    int nb = 0;
    sl_rc rc;
    while ((rc = sl_jsonl_reader_next(r, &b, &err)) == SL_OK) {
        check_batch(b);
        CHECK(sl_schema_equal(b->schema, sl_jsonl_reader_schema(r)));
        sl_batch **nbs = realloc(bs, (size_t)(nb + 1) * sizeof *bs);
        CHECK(nbs != NULL);
        bs = nbs;
        bs[nb++] = b;
    }
    CHECK(rc == SL_EEOF || rc == SL_EPARSE || rc == SL_ESCHEMA || rc == SL_ELIMIT);
    if (rc != SL_EEOF)
        CHECK(err.line > 0 && err.msg[0]);
    if (rc == SL_EEOF)
        round_trip(sl_jsonl_reader_schema(r), bs, nb);
    for (int i = 0; i < nb; i++)
        sl_batch_unref(bs[i]);
    free(bs);
    sl_jsonl_reader_close(r, NULL);
    return 0;
}
