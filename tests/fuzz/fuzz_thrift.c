/*
 * fuzz_thrift.c: the Thrift compact decoders of the Parquet footer and
 * page headers over arbitrary bytes. Also a round-trip property: metadata
 * that decodes must encode and decode again to the same essentials.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/parquet_meta.h"
#include "formats/thrift_compact.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pq_file_meta *m, *m2;
    pq_page_header h;
    size_t used;
    tc_reader r;
    tc_reader_init(&r, data, size);
    tc_skip(&r, TC_STRUCT);
    pq_page_header_decode(data, size, &h, &used, NULL);
    if (pq_meta_decode(data, size, &m, NULL) != SL_OK)
        return 0;
    tc_writer w;
    tc_writer_init(&w);
    pq_meta_encode(&w, m);
    if (!w.failed) {
        if (pq_meta_decode(w.buf, w.len, &m2, NULL) != SL_OK)
            abort(); /* what we decode, we must be able to re-read */
        if (m2->nschema != m->nschema || m2->nrg != m->nrg || m2->num_rows != m->num_rows)
            abort();
        for (int i = 0; i < m->nschema; i++)
            if (strcmp(m->schema[i].name, m2->schema[i].name) != 0 ||
                m->schema[i].num_children != m2->schema[i].num_children)
                abort();
        pq_meta_free(m2);
    }
    tc_writer_free(&w);
    pq_meta_free(m);
    return 0;
}
