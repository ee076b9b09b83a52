/*
 * csv_scan.h: the CSV reader's state and its record scanner, shared by
 * csv_scan.c (input buffer, record splitting) and csv_reader.c (schema,
 * conversion, errors). Internal to src/formats.
 *
 * Buffer invariants (kept by csv_refill):
 *  - buf[0, len) holds input bytes; buf[len] is a '\n' sentinel followed by
 *    SCAN_PAD zero bytes, so the unquoted-field scan needs no bounds check
 *    (it stops on the sentinel; p == end tells it from a real newline)
 *    and its 16-byte loads stay inside the allocation.
 *  - pos is the first byte of the next record, line its 1-based line,
 *    buf_off the file offset of buf[0]. A refill may drop bytes before the
 *    `keep` offset it is given, never bytes after it.
 */
#ifndef SLUICE_CSV_SCAN_H
#define SLUICE_CSV_SCAN_H

#include <stdint.h>

#include "csv_internal.h"
#include "sluice/value.h"

/* Bytes allocated past the sentinel: the SSE2 field scan loads 16 bytes
 * at a time and may read up to 15 past the sentinel that stops it. */
#define SCAN_PAD 16

typedef struct csv_field {
    const char *p; /* content (inside the quotes for quoted fields) */
    size_t n;
    int quoted;
    int escaped; /* contains doubled quotes */
} csv_field;

typedef struct csv_rec {
    size_t end;       /* offset just past the content (terminator excluded) */
    size_t next;      /* offset of the following record */
    int nf;           /* fields in the record (stored: min(nf, store_max)) */
    int64_t lines;    /* newlines consumed, the terminator's included */
    const char *stray; /* first byte after a closing quote that is not a
                          delimiter or line end, or NULL */
    int stray_field;
    const char *open_quote; /* SCAN_UNTERMINATED: the quote left open */
} csv_rec;

enum { SCAN_OK = 0, SCAN_MORE, SCAN_UNTERMINATED, SCAN_NOMEM };

struct sl_csv_reader {
    int fd; /* -1 for memory input */
    const char *mem;
    size_t mem_len, mem_pos;
    char *name;
    int64_t file_size;
    int eof;

    char *buf;
    size_t cap; /* usable bytes; the allocation adds 1 + SCAN_PAD */
    size_t len, pos;
    int64_t buf_off;
    int64_t line;

    sl_csv_options o;
    csv_nulls nulls;
    uint8_t stop[256]; /* bytes that end an unquoted field */

    sl_schema *schema;
    int ncols;
    sl_type *types;
    uint8_t *nullable, *inferred;
    int64_t sampled;
    int64_t next_cap; /* initial row capacity of the next batch */
    int64_t *str_bytes; /* per column: string bytes to reserve per batch */

    csv_field *fields;
    int fields_cap;

    sl_dlq *dlq;
    int64_t rejected, rows;
};

/* Read more input keeping bytes [keep, len) (moved to the front; pos
 * follows); *shift (may be NULL) gets how far they moved. */
sl_rc csv_refill(sl_csv_reader *r, size_t keep, size_t *shift, sl_err *err);
/* (Re)write the sentinel and pad after buf[len]. */
void csv_set_sentinel(sl_csv_reader *r);
/* Split the record at offset `from` into r->fields (at most store_max;
 * store_max < 0 grows the array, for the header). Does not consume. */
int csv_scan_record(sl_csv_reader *r, size_t from, csv_rec *rec,
                    int store_max);
/* An empty line (skipped everywhere). */
int csv_is_blank(const sl_csv_reader *r, size_t from, const csv_rec *rec);
int csv_grow_fields(sl_csv_reader *r, int need);
/* errno of a failed open/read as SL_ENOTFOUND or SL_EIO, naming the file. */
sl_rc csv_io_error(sl_csv_reader *r, sl_err *err, const char *what);

#endif
