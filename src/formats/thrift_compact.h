/*
 * thrift_compact.h: the Thrift compact protocol, reader and writer, for the
 * Parquet footer and page headers (internal to src/formats/).
 *
 * Reader: a cursor over a caller-owned byte range. Every read is bounded by
 * the range; nesting is bounded by TC_MAX_DEPTH; a binary's length must fit
 * in the bytes left and a list's count may not exceed the bytes left (every
 * element takes at least one byte), so a hostile header can neither read
 * out of bounds nor make the caller allocate more than O(input) memory.
 * Errors are sticky: the first failure sets r->error (a static string) and
 * r->error_at (byte offset); later calls fail at once. Callers check
 * r->error once at the end of a structure.
 *
 * Writer: appends to a growable buffer (sl_realloc). Also sticky: an
 * allocation failure or a depth overflow sets w->failed and later writes
 * are no-ops.
 *
 * Usage (reading a struct):
 *     tc_struct_begin(r);
 *     while (tc_field(r, &type, &fid) > 0) {
 *         if (fid == 1 && type == TC_I32) tc_i32(r, &x); else tc_skip(r, type);
 *     }
 *     tc_struct_end(r);
 */
#ifndef SL_THRIFT_COMPACT_H
#define SL_THRIFT_COMPACT_H

#include <stddef.h>
#include <stdint.h>

#define TC_MAX_DEPTH 64

/* Compact protocol type codes. */
enum {
    TC_STOP = 0,
    TC_TRUE = 1, /* boolean field whose value is true */
    TC_FALSE = 2,
    TC_BYTE = 3,
    TC_I16 = 4,
    TC_I32 = 5,
    TC_I64 = 6,
    TC_DOUBLE = 7,
    TC_BINARY = 8,
    TC_LIST = 9,
    TC_SET = 10,
    TC_MAP = 11,
    TC_STRUCT = 12
};

typedef struct tc_reader {
    const uint8_t *base, *p, *end;
    int depth;
    int16_t last[TC_MAX_DEPTH + 1]; /* last field id per struct level */
    const char *error;              /* NULL while no error */
    size_t error_at;                /* offset from base of the failure */
} tc_reader;

void tc_reader_init(tc_reader *r, const void *data, size_t n);
/* Bytes consumed so far. */
static inline size_t tc_pos(const tc_reader *r)
{
    return (size_t)(r->p - r->base);
}
/* Fails the reader with a static message (first failure wins). -1. */
int tc_fail(tc_reader *r, const char *msg);

int tc_struct_begin(tc_reader *r);
int tc_struct_end(tc_reader *r);
/* Next field header: 1 = a field (*type, *fid set), 0 = STOP, -1 = error. */
int tc_field(tc_reader *r, int *type, int *fid);
int tc_byte(tc_reader *r, int8_t *v);
int tc_i16(tc_reader *r, int16_t *v);
int tc_i32(tc_reader *r, int32_t *v);
int tc_i64(tc_reader *r, int64_t *v);
int tc_double(tc_reader *r, double *v);
/* *p points into the input; valid as long as the input is. */
int tc_binary(tc_reader *r, const uint8_t **p, uint32_t *n);
/* A bool: for a field, type is the field's type (TC_TRUE/TC_FALSE, no
 * byte follows); for a list element pass type 0 (one byte is read). */
int tc_bool(tc_reader *r, int type, int *v);
/* List or set header. *n <= bytes left. */
int tc_list(tc_reader *r, int *elem_type, uint32_t *n);
/* Skips one value of the given type (bounded recursion). */
int tc_skip(tc_reader *r, int type);
/* Reads an i32 field value of any integer type (byte/i16/i32); for enums
 * and counts written by lenient writers. */
int tc_int_any(tc_reader *r, int type, int32_t *v);

typedef struct tc_writer {
    uint8_t *buf;
    size_t len, cap;
    int depth;
    int16_t last[TC_MAX_DEPTH + 1];
    int failed;
} tc_writer;

void tc_writer_init(tc_writer *w);
void tc_writer_reset(tc_writer *w); /* len = 0, keeps the buffer */
void tc_writer_free(tc_writer *w);

void tc_w_struct_begin(tc_writer *w); /* top level or list element */
void tc_w_struct_end(tc_writer *w);   /* writes STOP */
void tc_w_field(tc_writer *w, int type, int fid);
void tc_w_i32(tc_writer *w, int fid, int32_t v);
void tc_w_i64(tc_writer *w, int fid, int64_t v);
void tc_w_i16(tc_writer *w, int fid, int16_t v);
void tc_w_byte(tc_writer *w, int fid, int8_t v);
void tc_w_double(tc_writer *w, int fid, double v);
void tc_w_bool(tc_writer *w, int fid, int v);
void tc_w_binary(tc_writer *w, int fid, const void *p, size_t n);
/* Field of type struct; follow with fields and tc_w_struct_end. */
void tc_w_struct_field(tc_writer *w, int fid);
/* A list field header; then n elements written with the raw writers. */
void tc_w_list_field(tc_writer *w, int fid, int elem_type, uint32_t n);
/* Raw values (list elements). */
void tc_w_raw_varint(tc_writer *w, uint64_t v);
void tc_w_raw_i32(tc_writer *w, int32_t v);
void tc_w_raw_i64(tc_writer *w, int64_t v);
void tc_w_raw_binary(tc_writer *w, const void *p, size_t n);
void tc_w_raw_bool(tc_writer *w, int v);
void tc_w_raw_bytes(tc_writer *w, const void *p, size_t n);

#endif
