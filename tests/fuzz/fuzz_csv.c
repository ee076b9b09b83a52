/*
 * fuzz_csv.c: arbitrary bytes -> the CSV reader (from memory), with the
 * options taken from the first two bytes so delimiters, quoting, header,
 * tiny chunk and batch sizes, error policies and the record limit are all
 * exercised. Every batch is checked for the invariants batch.h promises
 * (lengths, offsets, null counts, zeroed null slots), so a reader bug that
 * does not crash still aborts.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_batch(const sl_batch *b)
{
    if (b->nrows <= 0)
        abort();
    for (int j = 0; j < b->schema->n; j++) {
        const sl_column *c = b->cols[j];
        int64_t nulls = 0;
        if (c->length != b->nrows || c->type != b->schema->fields[j].type)
            abort();
        for (int64_t i = 0; i < c->length; i++) {
            int valid = sl_col_valid(c, i);
            nulls += !valid;
            if (c->type == SL_STRING) {
                if (c->offsets[i + 1] < c->offsets[i] ||
                    c->offsets[i + 1] > c->data_cap ||
                    (!valid && c->offsets[i + 1] != c->offsets[i]))
                    abort();
            } else if (!valid) {
                if ((c->type == SL_INT64 || c->type == SL_TIMESTAMP) && sl_col_i64(c, i))
                    abort();
                if (c->type == SL_DATE && sl_col_i32(c, i))
                    abort();
                if (c->type == SL_BOOL && sl_col_bool(c, i))
                    abort();
            }
        }
        if (nulls != c->null_count || (c->type == SL_STRING && c->offsets[0] != 0))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char delims[4] = {',', '\t', ';', '|'};
    sl_csv_options o;
    sl_csv_reader *r = NULL;
    sl_batch *b;
    sl_err e;
    sl_csv_options_init(&o);
    if (size >= 2) {
        uint8_t a = data[0], c = data[1];
        o.header = a & 1;
        o.delimiter = delims[(a >> 1) & 3];
        o.quote = (a & 8) ? '\'' : '"';
        o.on_error = (a & 16) ? SL_ON_ERROR_SKIP : SL_ON_ERROR_FAIL;
        o.infer_rows = (a & 32) ? 2 : 10000;
        o.max_record_bytes = (a & 64) ? 64 : 4096;
        if (a & 128)
            o.n_null_values = 0;
        o.read_bytes = 1 + (size_t)(c & 63);
        o.batch_rows = 1 + (c >> 6) * 3;
        data += 2;
        size -= 2;
    }
    if (sl_csv_reader_open_mem(data, size, "fuzz.csv", &o, NULL, &r, &e) != SL_OK)
        return 0;
    if (!sl_csv_reader_schema(r) || sl_csv_reader_schema(r)->n < 1)
        abort();
    int64_t rows = 0;
    sl_rc rc;
    while ((rc = sl_csv_reader_next(r, &b, &e)) == SL_OK) {
        check_batch(b);
        rows += b->nrows;
        sl_batch_unref(b);
    }
    if (rc == SL_EEOF && rows != sl_csv_reader_rows(r))
        abort();
    int64_t done, total;
    sl_csv_reader_progress(r, &done, &total);
    if (rc == SL_EEOF && done != total)
        abort();
    sl_csv_reader_close(r, NULL);
    return 0;
}
