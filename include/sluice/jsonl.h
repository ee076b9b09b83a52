/*
 * jsonl.h: JSON Lines reader and writer (one JSON object per line).
 *
 * The reader is a specialized columnar parser: each line is parsed once and
 * its values are written straight into the columns of an sl_batch (no DOM,
 * no per-row structs, no per-value allocation). Input is read in chunks;
 * lines may span chunks; CRLF line ends are tolerated, blank lines are
 * skipped and a UTF-8 byte order mark at the start of the file is skipped.
 *
 * Schema: inferred from the first infer_rows objects (union of their keys in
 * first-seen order):
 *   true/false -> bool; integers -> int64, or float64 when any sample is
 *   fractional, has an exponent or is out of int64 range; strings -> string,
 *   or date / timestamp when every sample string parses as one
 *   (sl_parse_date / sl_parse_timestamp; a mix of dates and timestamps gives
 *   timestamp); only nulls -> null; mixed kinds -> string.
 * Nested objects and arrays are kept as their raw JSON text (exactly the
 * bytes of the input) in a string column; any other value in a string
 * column is kept as its JSON text too (42 -> "42"). A partial override
 * schema forces the types of the columns it names; a named column absent
 * from the sample is appended (all null until it appears). A key missing
 * from a line is null. A key that is not in the schema (it first appears
 * after the sample) is not an error: its values are counted per key, one
 * warning per key is logged, and the counts are available from
 * sl_jsonl_reader_unknown_key().
 *
 * Malformed lines (syntax error, not an object, duplicate key, a value of
 * the wrong type for its column, trailing garbage, a line longer than
 * max_record_bytes) fail the read (on_error fail: SL_EPARSE, SL_ESCHEMA or
 * SL_ELIMIT with file, line, byte column, byte offset and field), are
 * counted (skip) or go to the rejects file with line, offset, reason and the
 * raw line (dlq).
 *
 * The writer writes one object per row with keys in schema order; null as
 * null; floats via sl_format_float64 (NaN and infinities have no JSON form:
 * written as null, counted, one warning logged); dates and timestamps as ISO
 * strings via value.h; strings escaped minimally (", \, control characters
 * as \u00XX; valid non-ASCII UTF-8 is written as is, invalid UTF-8 bytes are
 * replaced by U+FFFD, counted and logged once). It writes a temporary file
 * beside the target and renames it on close after fsync.
 */
#ifndef SLUICE_JSONL_H
#define SLUICE_JSONL_H

#include <stddef.h>
#include <stdint.h>

#include "batch.h"
#include "dlq.h"
#include "error.h"
#include "schema.h"

#define SL_JSONL_INFER_ROWS_DEFAULT 10000
#define SL_JSONL_MAX_RECORD_DEFAULT (16 * 1024 * 1024)
#define SL_JSONL_CHUNK_DEFAULT (2 * 1024 * 1024)
/* Bounds on what the reader tracks (memory stays bounded on hostile input). */
#define SL_JSONL_MAX_COLUMNS 16384   /* distinct keys in the sample */
#define SL_JSONL_MAX_UNKNOWN 1024    /* distinct unknown keys counted by name */
#define SL_JSONL_MAX_DEPTH 1024      /* nesting of objects/arrays */

typedef struct sl_jsonl_options {
    int64_t infer_rows;       /* objects sampled for inference (>= 1) */
    int64_t batch_rows;       /* rows per batch (>= 1) */
    sl_on_error on_error;     /* fail | skip | dlq */
    const char *rejects;      /* rejects file for SL_ON_ERROR_DLQ */
    int64_t max_record_bytes; /* longest accepted line, without its EOL */
    size_t chunk_bytes;       /* read size; 0 = default. Tests use tiny
                                 values to exercise chunk boundaries. */
} sl_jsonl_options;

/* Defaults: infer_rows 10000, batch_rows 65536, fail, no rejects file,
 * max_record_bytes 16 MiB, chunk 2 MiB. */
void sl_jsonl_options_init(sl_jsonl_options *o);

/* ---- reader ---- */
typedef struct sl_jsonl_reader sl_jsonl_reader;

/* Opens path and infers the schema (reads the first infer_rows objects,
 * then rewinds: the input must be seekable). opts NULL = defaults;
 * override NULL = infer everything. */
sl_rc sl_jsonl_reader_open(const char *path, const sl_jsonl_options *opts,
                           const sl_schema *override, sl_jsonl_reader **out,
                           sl_err *err);
/* Same over a memory buffer (kept by the caller until close); name is
 * used in messages. Reads through the same chunked path as files. */
sl_rc sl_jsonl_reader_open_mem(const void *data, size_t n, const char *name,
                               const sl_jsonl_options *opts,
                               const sl_schema *override,
                               sl_jsonl_reader **out, sl_err *err);
/* The schema of every batch (valid until close). */
const sl_schema *sl_jsonl_reader_schema(const sl_jsonl_reader *r);
/* *out = next batch of at most batch_rows rows (caller owns a reference);
 * SL_EEOF at the end. After a failure every later call fails the same
 * way. */
sl_rc sl_jsonl_reader_next(sl_jsonl_reader *r, sl_batch **out, sl_err *err);
/* Bytes consumed so far and the input size (-1 if unknown). */
void sl_jsonl_reader_progress(const sl_jsonl_reader *r, int64_t *done,
                              int64_t *total);
/* Lines rejected so far (on_error skip or dlq). */
int64_t sl_jsonl_reader_rejected(const sl_jsonl_reader *r);
/* Rows delivered so far. */
int64_t sl_jsonl_reader_rows(const sl_jsonl_reader *r);
/* Keys seen outside the schema: number of distinct keys tracked, and the
 * name and number of values of key i (in first-seen order). Keys beyond
 * SL_JSONL_MAX_UNKNOWN are counted under the name "*" (one entry). */
int sl_jsonl_reader_unknown_keys(const sl_jsonl_reader *r);
const char *sl_jsonl_reader_unknown_key(const sl_jsonl_reader *r, int i,
                                        int64_t *count);
/* Closes the input and the rejects file (flushed and fsynced). NULL ok. */
sl_rc sl_jsonl_reader_close(sl_jsonl_reader *r, sl_err *err);

/* ---- writer ---- */
typedef struct sl_jsonl_writer sl_jsonl_writer;

/* Creates a temporary file beside path; nothing appears at path until
 * sl_jsonl_writer_close succeeds. */
sl_rc sl_jsonl_writer_open(const char *path, const sl_schema *schema,
                           sl_jsonl_writer **out, sl_err *err);
/* Appends the rows of b, whose column names and types must match the
 * schema given at open. */
sl_rc sl_jsonl_writer_write(sl_jsonl_writer *w, const sl_batch *b,
                            sl_err *err);
/* Writes buffered bytes to the file (no fsync). */
sl_rc sl_jsonl_writer_flush(sl_jsonl_writer *w, sl_err *err);
/* Flush, fsync, rename onto path, fsync the directory, free. On failure
 * the temporary file is removed and w is freed all the same. NULL ok. */
sl_rc sl_jsonl_writer_close(sl_jsonl_writer *w, sl_err *err);
/* Discard: remove the temporary file and free. NULL ok. */
void sl_jsonl_writer_abort(sl_jsonl_writer *w);
int64_t sl_jsonl_writer_rows(const sl_jsonl_writer *w);
/* Float values written as null because they were NaN or infinite. */
int64_t sl_jsonl_writer_nonfinite(const sl_jsonl_writer *w);
/* Invalid UTF-8 bytes in strings replaced by U+FFFD. */
int64_t sl_jsonl_writer_replaced(const sl_jsonl_writer *w);

#endif
