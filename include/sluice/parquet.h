/*
 * parquet.h: Parquet reader and writer (our own implementation: Thrift
 * compact footer, PLAIN / dictionary / delta / byte-stream-split encodings,
 * UNCOMPRESSED / SNAPPY / GZIP / ZSTD / LZ4_RAW pages, DataPage V1 and V2).
 * See docs/design/parquet.md.
 *
 * Type mapping (write):  bool -> BOOLEAN, int64 -> INT64 (INT(64, signed)),
 *   float64 -> DOUBLE, string -> BYTE_ARRAY (STRING), timestamp -> INT64
 *   TIMESTAMP(MICROS, isAdjustedToUTC=true), date -> INT32 (DATE),
 *   null -> INT32 (UNKNOWN), all values null. Nullable fields are OPTIONAL,
 *   fields with nullable == 0 REQUIRED. The sluice schema is stored as JSON
 *   under the key/value metadata key "sluice.schema".
 * Type mapping (read): the above, plus INT32 / INT(8..32) / UINT(8..32) ->
 *   int64; UINT_64 -> int64 (a value above INT64_MAX is an error); FLOAT ->
 *   float64; FLOAT16 -> float64; INT96 and TIMESTAMP(MILLIS|NANOS) ->
 *   timestamp (µs; nanoseconds are truncated toward negative infinity);
 *   DECIMAL (INT32/INT64/FIXED_LEN_BYTE_ARRAY/BYTE_ARRAY) -> float64 (lossy
 *   beyond 15-17 significant digits); ENUM / JSON -> string; BYTE_ARRAY
 *   without annotation -> string when every value is valid UTF-8, else an
 *   error naming the column. A struct of primitives reads as one column per
 *   leaf named "parent.child"; LIST, MAP and repeated fields (and structs
 *   holding them) read as JSON text in a string column (arrays, objects,
 *   maps as [{"key":..,"value":..}]), like nested values in JSON Lines.
 *   Rejected with a message naming the column (project it away with
 *   `columns`): TIME, INTERVAL, BSON, UUID, GEOMETRY, other
 *   FIXED_LEN_BYTE_ARRAY. Encrypted files and BROTLI/LZO pages are rejected.
 *
 * Every offset and length read from a file is checked before use; a
 * corrupt or truncated file fails with SL_EPARSE (or SL_EUNSUPPORTED for a
 * valid feature this build does not read) and a message naming the file,
 * and, where known, the row group and column.
 */
#ifndef SLUICE_PARQUET_H
#define SLUICE_PARQUET_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "batch.h"
#include "error.h"
#include "schema.h"

/* Compression codecs (Parquet's CompressionCodec numbers). */
typedef enum sl_parquet_codec {
    SL_PQ_UNCOMPRESSED = 0,
    SL_PQ_SNAPPY = 1,
    SL_PQ_GZIP = 2,
    SL_PQ_ZSTD = 6,
    SL_PQ_LZ4_RAW = 7
} sl_parquet_codec;

#define SL_PQ_ROW_GROUP_BYTES_DEFAULT (128 * 1024 * 1024)
#define SL_PQ_PAGE_BYTES_DEFAULT (1024 * 1024)
#define SL_PQ_DICT_BYTES_DEFAULT (1024 * 1024)
/* Bounds the reader enforces on untrusted files. */
#define SL_PQ_MAX_FOOTER_BYTES (256 * 1024 * 1024)
#define SL_PQ_MAX_PAGE_BYTES (1024 * 1024 * 1024)
#define SL_PQ_MAX_COLUMNS 65536

typedef struct sl_parquet_write_options {
    sl_parquet_codec codec;   /* default ZSTD */
    int level;                /* compression level, 0 = codec default
                                 (zstd 1, gzip 6) */
    int64_t row_group_bytes;  /* close a row group once its compressed
                                 pages reach this (default 128 MiB) */
    int64_t row_group_rows;   /* and/or at this many rows (0 = no limit,
                                 the default) */
    int64_t page_bytes;       /* target data page size (default 1 MiB) */
    int dictionary;           /* 1 = RLE_DICTIONARY where it pays (default) */
    int64_t dictionary_bytes; /* fall back to PLAIN for the rest of the
                                 column chunk when the dictionary grows
                                 beyond this (default 1 MiB) */
    int data_page_version;    /* 1 (default) or 2 */
    int statistics;           /* write min/max/null_count (default 1) */
    int threads;              /* 2 (default): columns are encoded and
                                 compressed on the caller and one worker
                                 thread; 1: the caller only */
} sl_parquet_write_options;

void sl_parquet_write_options_init(sl_parquet_write_options *o);
/* "uncompressed", "snappy", "gzip", "zstd", "lz4_raw" (any case). */
sl_rc sl_parquet_codec_parse(const char *name, sl_parquet_codec *out);

typedef struct sl_parquet_writer sl_parquet_writer;

/* Creates a temporary file beside path (nothing appears at path until
 * close succeeds). opts NULL = defaults. */
sl_rc sl_parquet_writer_open(const char *path, const sl_schema *schema,
                             const sl_parquet_write_options *opts,
                             sl_parquet_writer **out, sl_err *err);
/* Appends the rows of b, whose column names and types must match the
 * schema given at open. */
sl_rc sl_parquet_writer_write(sl_parquet_writer *w, const sl_batch *b,
                              sl_err *err);
/* Flushes the last row group, writes the footer, fsyncs, renames onto the
 * target and fsyncs the directory; frees w in every case. NULL ok. */
sl_rc sl_parquet_writer_close(sl_parquet_writer *w, sl_err *err);
/* Discards: removes the temporary file and frees. NULL ok. */
void sl_parquet_writer_abort(sl_parquet_writer *w);
int64_t sl_parquet_writer_rows(const sl_parquet_writer *w);

/* ---- reader ---- */

/* A predicate for row-group skipping: the reader skips a row group when
 * its statistics prove that no row satisfies the predicate. Rows of the
 * row groups that are read are NOT filtered: the caller still applies its
 * filter. Predicates are ANDed. */
typedef enum sl_parquet_op {
    SL_PQ_EQ, SL_PQ_NE, SL_PQ_LT, SL_PQ_LE, SL_PQ_GT, SL_PQ_GE,
    SL_PQ_IS_NULL, SL_PQ_IS_NOT_NULL
} sl_parquet_op;

typedef struct sl_parquet_pred {
    const char *column;
    sl_parquet_op op;
    sl_type type;      /* of the literal: INT64, FLOAT64, STRING, BOOL,
                          TIMESTAMP (µs), DATE (days) */
    int64_t i;         /* INT64, TIMESTAMP, DATE, BOOL */
    double f;          /* FLOAT64 */
    const char *s;     /* STRING (s[0..slen)) */
    size_t slen;
} sl_parquet_pred;

typedef struct sl_parquet_read_options {
    int64_t batch_rows;           /* default SL_BATCH_ROWS_DEFAULT */
    const char *const *columns;   /* projection, in output order; NULL =
                                     every column */
    int ncolumns;
    const sl_parquet_pred *preds; /* row-group skipping; may be NULL */
    int npreds;
    int threads;                  /* 2 (default): columns are decoded on the
                                     caller and one worker thread; 1: the
                                     caller only */
} sl_parquet_read_options;

void sl_parquet_read_options_init(sl_parquet_read_options *o);

typedef struct sl_parquet_reader sl_parquet_reader;

/* path is a file, or a directory whose *.parquet files (sorted by name;
 * names starting with '.' or '_' are ignored) are read in turn; every part
 * must have the schema of the first. opts NULL = defaults. */
sl_rc sl_parquet_reader_open(const char *path,
                             const sl_parquet_read_options *opts,
                             sl_parquet_reader **out, sl_err *err);
/* Reads from memory (kept by the caller until close); name is used in
 * messages. */
sl_rc sl_parquet_reader_open_mem(const void *data, size_t n, const char *name,
                                 const sl_parquet_read_options *opts,
                                 sl_parquet_reader **out, sl_err *err);
/* Schema of every batch (valid until close). */
const sl_schema *sl_parquet_reader_schema(const sl_parquet_reader *r);
/* *out = next batch of at most batch_rows rows (caller owns a reference);
 * SL_EEOF at the end. */
sl_rc sl_parquet_reader_next(sl_parquet_reader *r, sl_batch **out,
                             sl_err *err);
/* Bytes of column data consumed so far and in total (all parts). */
void sl_parquet_reader_progress(const sl_parquet_reader *r, int64_t *done,
                                int64_t *total);
/* Row groups skipped by statistics so far. */
int64_t sl_parquet_reader_skipped_row_groups(const sl_parquet_reader *r);
/* Total rows in all parts (from the footers). */
int64_t sl_parquet_reader_total_rows(const sl_parquet_reader *r);
void sl_parquet_reader_close(sl_parquet_reader *r);

/* ---- inspect ---- */

struct json_t;
/* A JSON description of one file's footer: {"file", "size", "num_rows",
 * "created_by", "version", "key_value_metadata": {...}, "schema": [{"name",
 * "physical_type", "logical_type", "repetition", "sluice_type" or
 * "unsupported"}], "row_groups": [{"num_rows", "total_byte_size",
 * "total_compressed_size", "file_offset", "columns": [{"path", "codec",
 * "encodings": [...], "num_values", "compressed_size",
 * "uncompressed_size", "data_page_offset", "dictionary_page_offset",
 * "statistics": {"null_count", "min", "max"}}]}]}. Caller decrefs. */
sl_rc sl_parquet_inspect_json(const char *path, struct json_t **out,
                              sl_err *err);
/* Human-readable summary of the same (schema, row groups, encodings,
 * codecs, statistics, row count). */
sl_rc sl_parquet_inspect_print(const char *path, FILE *out, sl_err *err);

#endif
