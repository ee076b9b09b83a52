/*
 * csv.h: streaming CSV reader and writer over columnar batches.
 *
 * The reader turns an RFC 4180 file (doubled quotes, newlines inside
 * quotes, CRLF or LF, optional UTF-8 BOM, any one-byte delimiter and
 * quote) into sl_batch columns, reading the file in fixed-size chunks so
 * memory is bounded by the chunk size, one batch and the inference sample,
 * never by the file size. Column types come from a partial override schema
 * where given and are inferred (value.h) from the first infer_rows records
 * otherwise; the sampled records are kept and parsed from memory, so no
 * byte is read twice.
 *
 * Text rules: a quoted field is never null (so "" is an empty string); an
 * unquoted field whose exact text is one of null_values is null. Blank
 * lines are skipped. Values parse with value.h's rules (no surrounding
 * spaces).
 *
 * Bad records (wrong field count, a value that does not parse as its
 * column's type, a null in a non-nullable override column, a character
 * after a closing quote, an unterminated quote at end of file) follow
 * on_error: fail returns SL_EPARSE with file, 1-based line of the record
 * start, column (byte within that line, when known) and column name in
 * the sl_err;
 * skip counts them; dlq counts them and writes each one (line, byte
 * offset, reason, raw text) to the rejects file. A record longer than
 * max_record_bytes is always fatal (SL_ELIMIT): past that point the
 * quoting cannot be trusted to find the next record.
 *
 * The writer quotes only when needed, writes nulls as empty unquoted
 * fields, floats as shortest round-trip text, and commits atomically: it
 * writes a temporary file beside the target and renames it over the target
 * on close, after fflush and fsync.
 */
#ifndef SLUICE_CSV_H
#define SLUICE_CSV_H

#include <stddef.h>
#include <stdint.h>

#include "batch.h"
#include "dlq.h"
#include "error.h"
#include "schema.h"

#define SL_CSV_INFER_ROWS_DEFAULT 10000
#define SL_CSV_MAX_RECORD_DEFAULT (16 * 1024 * 1024)
#define SL_CSV_READ_BYTES_DEFAULT (1024 * 1024)

typedef struct sl_csv_options {
    char delimiter;  /* ',' ; '\t' for TSV. Not CR, LF or the quote. */
    char quote;      /* '"' ; '\0' disables quoting (reader only) */
    int header;      /* 1: first record names the columns; 0: c1..cN */
    /* Unquoted texts that mean null. Default {"", "NA", "null"}; set
     * n_null_values = 0 for none. The strings are copied by open. */
    const char *const *null_values;
    int n_null_values;
    int64_t infer_rows;       /* records sampled for inference; 0 = all
                                 non-overridden columns are strings */
    int64_t batch_rows;       /* rows per batch (last one may be shorter) */
    sl_on_error on_error;     /* fail | skip | dlq */
    const char *rejects_path; /* dlq: rejects file (required for dlq) */
    int64_t max_record_bytes; /* longest accepted record, in bytes */
    size_t read_bytes;        /* bytes per read() call; tests use tiny
                                 values to put records across chunk edges */
} sl_csv_options;

/* Defaults as listed above. */
void sl_csv_options_init(sl_csv_options *o);

/* ---- reader ---- */
typedef struct sl_csv_reader sl_csv_reader;

/* Opens path, reads the header and the inference sample, and fixes the
 * schema. override may be NULL; its fields that name a CSV column force
 * that column's type and nullability (nullable = 0 makes a null a bad
 * record); an override field that names no column is an SL_ESCHEMA error.
 * An empty file (no header, no record) is SL_EPARSE. */
sl_rc sl_csv_reader_open(const char *path, const sl_csv_options *opts,
                         const sl_schema *override, sl_csv_reader **out,
                         sl_err *err);
/* Same over a caller-owned buffer that must outlive the reader; name is
 * used in messages and the rejects file (fuzzing, tests, embedded data). */
sl_rc sl_csv_reader_open_mem(const void *data, size_t n, const char *name,
                             const sl_csv_options *opts,
                             const sl_schema *override, sl_csv_reader **out,
                             sl_err *err);
/* Valid until close. */
const sl_schema *sl_csv_reader_schema(const sl_csv_reader *r);
/* 1 when the column's type was inferred (not set by the override). */
int sl_csv_reader_inferred(const sl_csv_reader *r, int col);
/* Records the inference looked at (<= infer_rows). */
int64_t sl_csv_reader_sampled(const sl_csv_reader *r);
/* *out gets a new batch of 1..batch_rows rows (caller unrefs), or NULL and
 * SL_EEOF when the input is exhausted. */
sl_rc sl_csv_reader_next(sl_csv_reader *r, sl_batch **out, sl_err *err);
/* Bytes parsed so far and the file size (-1 when unknown). */
void sl_csv_reader_progress(const sl_csv_reader *r, int64_t *done,
                            int64_t *total);
int64_t sl_csv_reader_rejected(const sl_csv_reader *r);
int64_t sl_csv_reader_rows(const sl_csv_reader *r); /* rows returned */
/* Flushes and fsyncs the rejects file, then frees r (r may be NULL). The
 * reader is freed even when an error is returned. */
sl_rc sl_csv_reader_close(sl_csv_reader *r, sl_err *err);

/* ---- writer ---- */
typedef struct sl_csv_writer sl_csv_writer;

/* Uses delimiter, quote (must be set), header and null_values (a string
 * equal to a null marker is written quoted so it reads back as a string).
 * Creates the temporary file at once, so an unwritable directory fails
 * here rather than after the work. */
sl_rc sl_csv_writer_open(const char *path, const sl_csv_options *opts,
                         const sl_schema *schema, sl_csv_writer **out,
                         sl_err *err);
/* The batch's columns must match the schema (count, names, types). */
sl_rc sl_csv_writer_write(sl_csv_writer *w, const sl_batch *b, sl_err *err);
/* Hand buffered rows to the temporary file (no fsync, no commit). */
sl_rc sl_csv_writer_flush(sl_csv_writer *w, sl_err *err);
/* Flush, fsync, rename over the target, fsync the directory, free w. On
 * failure the temporary file is removed and the target left untouched. */
sl_rc sl_csv_writer_close(sl_csv_writer *w, sl_err *err);
/* Discard everything written (the target is untouched) and free w. */
void sl_csv_writer_abort(sl_csv_writer *w);
int64_t sl_csv_writer_rows(const sl_csv_writer *w);

#endif
