/*
 * parquet_rcol.h: the Parquet reader's per-column decoder (internal:
 * parquet_reader.c drives files, row groups and batches; parquet_rcol.c
 * turns one column chunk's pages into sluice column values).
 *
 * pq_classify() maps a schema leaf to a sluice type and a conversion (or
 * explains why it cannot). A pq_rcol then walks one column chunk at a time:
 * pq_rcol_start() takes the chunk bytes (bounds already checked by the
 * caller), pq_rcol_read() appends rows to an output column, loading and
 * decoding pages as needed (dictionary page, V1/V2 data pages, every
 * codec of codec.h and every encoding of parquet_encoding.h).
 */
#ifndef SL_PQ_RCOL_H
#define SL_PQ_RCOL_H

#include <stdint.h>

#include "codec.h"
#include "parquet_encoding.h"
#include "parquet_meta.h"
#include "sluice/batch.h"

/* Conversions from the physical values to the sluice representation. */
typedef enum pq_conv {
    CV_BOOL,      /* BOOLEAN -> bool */
    CV_I32,       /* INT32 -> int64 (sign-extended) */
    CV_U32,       /* INT32 UINT_8/16/32 -> int64 */
    CV_DATE,      /* INT32 DATE -> date */
    CV_I64,       /* INT64 -> int64 (also TIMESTAMP(MICROS)) */
    CV_U64,       /* INT64 UINT_64 -> int64, values > INT64_MAX rejected */
    CV_TS_MS,     /* INT64 TIMESTAMP(MILLIS) -> µs */
    CV_TS_NS,     /* INT64 TIMESTAMP(NANOS) -> µs (floor) */
    CV_INT96,     /* INT96 (Impala/Spark) -> µs */
    CV_F32,       /* FLOAT -> float64 */
    CV_F64,       /* DOUBLE */
    CV_F16,       /* FIXED_LEN_BYTE_ARRAY(2) FLOAT16 -> float64 */
    CV_DEC,       /* DECIMAL on INT32/INT64/FLBA/BYTE_ARRAY -> float64 */
    CV_STR,       /* annotated BYTE_ARRAY -> string */
    CV_STR_CHECK, /* BYTE_ARRAY without annotation: string if valid UTF-8 */
    CV_NULL       /* UNKNOWN (null) logical type: every value is null */
} pq_conv;

typedef struct pq_leaf_type {
    sl_type type;
    pq_conv conv;
    int ptype;
    int32_t type_length;
    int32_t scale;         /* DECIMAL */
} pq_leaf_type;

/* 0 and *out filled, or -1 with *why (static text naming the feature). */
int pq_classify(const pq_schema_elem *e, pq_leaf_type *out, const char **why);

/* Values of one page or of the dictionary, in sluice representation. */
typedef struct pq_vstore {
    pq_buf fixed;         /* int64/double/int32 values, or bool bytes */
    pq_view *views;       /* strings */
    size_t views_cap;
    const uint8_t *base;  /* strings: views are relative to it */
    int64_t n;
} pq_vstore;

typedef struct pq_rcol {
    const char *name;
    pq_leaf_type lt;
    int optional;         /* max_def > 0: pages carry definition levels */
    int max_def;          /* a row has a value iff its level == max_def */
    int max_rep;          /* repetition levels present when > 0 */
    int raw_levels;       /* a leaf of a nested field: levels kept as they
                             are, entries read with pq_rcol_peek/take_json */
    pq_codec *codec;      /* shared by the reader */
    /* chunk */
    const uint8_t *cp;    /* chunk bytes (file memory or chunk buffer) */
    size_t clen, cpos;
    size_t page_at;       /* chunk offset of the page being decoded */
    pq_buf chunkbuf;      /* the chunk's bytes when read from a file */
    int codec_id;
    int64_t values_left;  /* values the chunk metadata still promises */
    int seen_data;        /* a data page was read (no dictionary after) */
    /* dictionary */
    int has_dict;
    pq_buf dict_page;     /* owned copy of the decompressed dictionary */
    pq_vstore dict;
    /* current page */
    pq_buf page;          /* decompressed page (or values part for V2) */
    pq_buf tmp;           /* raw values rebuilt by DELTA / BYTE_STREAM_SPLIT */
    pq_buf tmp2;
    uint8_t *defs;        /* definition level per row (optional only) */
    uint8_t *reps;        /* repetition levels (nested leaves) */
    size_t reps_cap;
    uint32_t *idx;        /* dictionary indices */
    size_t defs_cap, idx_cap;
    int64_t page_n, page_pos;   /* rows in the page, next row */
    int64_t nn_pos;             /* next non-null value */
    int page_dict;              /* values are dictionary indices */
    int page_nulls;             /* the page has at least one null */
    pq_vstore vals;
    const char *why;            /* detail of the last decode failure */
} pq_rcol;

/* max_def: the leaf's maximum definition level (0 = required; more than
 * 1 for a leaf inside optional structs). */
void pq_rcol_init(pq_rcol *c, const char *name, const pq_leaf_type *lt,
                  int max_def, pq_codec *codec);
void pq_rcol_free(pq_rcol *c);
/* Starts a column chunk: bytes [cp, cp + n), num_values from metadata. */
void pq_rcol_start(pq_rcol *c, const uint8_t *cp, size_t n, int codec,
                   int64_t num_values);
/* Appends n rows to out (type lt.type, refcount 1). Errors name the
 * problem; the caller adds file, row group and column. */
sl_rc pq_rcol_read(pq_rcol *c, sl_column *out, int64_t n, sl_err *err);
/* Nested leaves: the levels of the next entry (1), or 0 at the end of the
 * chunk; loads pages as needed. */
int pq_rcol_peek(pq_rcol *c, int *rep, int *def, sl_err *err, sl_rc *rc);
/* Appends the next entry's value as JSON text (nothing when the entry
 * holds no value) and moves past it. Call after pq_rcol_peek returned 1. */
sl_rc pq_rcol_take_json(pq_rcol *c, pq_buf *out, sl_err *err);

/* Offset in the chunk of the page being decoded (for messages). */
static inline size_t pq_rcol_pos(const pq_rcol *c)
{
    return c->page_at;
}

/* Reads and decodes the footer of a file (fd >= 0) or buffer (mem). name
 * is for messages; *data_end = where the footer starts (column data must
 * end before it). */
sl_rc pq_footer_read(int fd, const uint8_t *mem, int64_t size, const char *name,
                     pq_file_meta **out, int64_t *data_end, sl_err *err);

/* 1 when the statistics of chunk cc (rows rows) prove that no row
 * satisfies p (parquet_stats.c). type_order: the file declares TYPE_ORDER
 * for the column (or no column orders at all). */
struct sl_parquet_pred;
int pq_pred_excludes(const struct sl_parquet_pred *p, const pq_leaf_type *lt,
                     const pq_column_chunk *cc, int64_t rows, int type_order);

/* UTF-8 validity (used for unannotated BYTE_ARRAY). */
int pq_utf8_valid(const uint8_t *p, size_t n);

#endif
