/*
 * fuzz_parquet.c: the whole Parquet read path over arbitrary bytes:
 * footer, schema mapping, page headers, codecs, every encoding, batches.
 * Any input must end in SL_EEOF or an error, never a crash, a hang or a
 * leak. The last byte picks a batch size so batches cross page and row
 * group boundaries in different places, and whether a second thread
 * decodes columns.
 */
#include <stddef.h>
#include <stdint.h>

#include "sluice/parquet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sl_parquet_read_options o;
    sl_parquet_reader *r;
    sl_batch *b;
    sl_parquet_read_options_init(&o);
    o.batch_rows = size > 0 ? 1 + data[size - 1] % 200 : 1;
    o.threads = size > 0 && (data[size - 1] & 1) ? 2 : 1;
    if (sl_parquet_reader_open_mem(data, size, "fuzz.parquet", &o, &r, NULL) != SL_OK)
        return 0;
    while (sl_parquet_reader_next(r, &b, NULL) == SL_OK)
        sl_batch_unref(b);
    sl_parquet_reader_close(r);
    return 0;
}
