/*
 * parquet_wcol.h: the Parquet writer's per-column state (internal to the
 * writer: parquet_writer.c drives files and row groups, parquet_wcol.c
 * turns column values into pages).
 *
 * A column accumulates one page at a time (definition levels as bytes,
 * values PLAIN-encoded or as dictionary indices) and appends finished pages
 * (header + compressed body) to its chunk buffer; at the end of a row group
 * the writer emits the dictionary page, then the chunk, and records offsets
 * and sizes. All buffers are reused across pages and row groups.
 */
#ifndef SL_PQ_WCOL_H
#define SL_PQ_WCOL_H

#include <stdint.h>

#include "codec.h"
#include "parquet_meta.h"
#include "sluice/batch.h"
#include "sluice/parquet.h"
#include "thrift_compact.h"

/* Shared page-building scratch (one writer is single-threaded). */
typedef struct pq_wscratch {
    pq_codec codec;
    pq_buf body, comp;
    tc_writer tw;
    const sl_parquet_write_options *o;
} pq_wscratch;

typedef struct pq_wcol {
    char *name;
    char *path[1];   /* path_in_schema for the footer */
    sl_type type;
    int ptype;       /* Parquet physical type */
    int optional;    /* 1 = OPTIONAL (definition levels written) */
    int can_dict;    /* the type is dictionary-encoded when enabled */

    /* current page */
    pq_buf vals;     /* PLAIN bytes, bool 0/1 bytes, or uint32 indices */
    pq_buf defs;     /* one definition level byte per row */
    int64_t pv;      /* rows in the page (values incl. nulls) */
    int64_t pn;      /* nulls in the page */

    /* dictionary (per column chunk) */
    int dict_on;     /* new values go to the dictionary */
    pq_buf dvals;    /* PLAIN-encoded entries: the dictionary page */
    uint64_t *dkeys; /* fixed width: the value bits; strings: offset of the
                        entry's length prefix in dvals */
    uint32_t *dhash; /* per entry */
    uint32_t *slots; /* open addressing: entry + 1, 0 = empty */
    uint32_t nslots; /* power of two, load <= 1/2 */
    uint32_t dn, dcap;

    /* column chunk (current row group) */
    pq_buf chunk;        /* finished data pages */
    int64_t chunk_unc;   /* uncompressed bytes incl. headers */
    int64_t chunk_values;
    int dict_pages;      /* data pages that use the dictionary */
    uint32_t enc;        /* encodings used (bit mask) */

    /* statistics (current row group) */
    int64_t nulls;
    int has_mm;          /* min/max seen (NaN never counts) */
    int64_t imin, imax;  /* INT64/TIMESTAMP/DATE/BOOL */
    double fmin, fmax;   /* DOUBLE */
    pq_buf smin, smax;   /* BYTE_ARRAY */
} pq_wcol;

sl_rc pq_wcol_init(pq_wcol *c, const sl_field *f, int dictionary, sl_err *err);
void pq_wcol_free(pq_wcol *c);
/* Appends rows [off, off + n) of src. */
sl_rc pq_wcol_append(pq_wcol *c, pq_wscratch *s, const sl_column *src,
                     int64_t off, int64_t n, sl_err *err);
/* Finishes the current page (no-op when empty). */
sl_rc pq_wcol_finish_page(pq_wcol *c, pq_wscratch *s, sl_err *err);
/* Encodes the dictionary page (header + body) into out when data pages
 * use it; *unc = uncompressed size incl. header. out->len == 0 = none. */
sl_rc pq_wcol_dict_page(pq_wcol *c, pq_wscratch *s, pq_buf *out, int64_t *unc,
                        sl_err *err);
/* Fills statistics (bytes copied into the arena). 0 or -1 (no memory). */
int pq_wcol_stats(const pq_wcol *c, sl_arena *a, pq_stats *st);
/* Resets chunk, dictionary and statistics for the next row group. */
void pq_wcol_reset_chunk(pq_wcol *c, int dictionary);
/* Bytes buffered for the current row group (pages + current page). */
int64_t pq_wcol_buffered(const pq_wcol *c);

#endif
