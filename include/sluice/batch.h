/*
 * batch.h: columnar batches in Arrow memory layout.
 *
 * A column owns its buffers (heap memory from sl_malloc, 16-byte aligned):
 *   validity  bitmap, bit i (LSB first) set = row i is valid. May be NULL
 *             only while null_count == 0.
 *   values    SL_BOOL: bitmap; SL_INT64/SL_TIMESTAMP: int64_t[];
 *             SL_FLOAT64: double[]; SL_DATE: int32_t[]; SL_STRING: unused
 *             (NULL); SL_NULL: unused.
 *   offsets   SL_STRING only: int64_t[length + 1], offsets[0] == 0.
 *   data      SL_STRING only: the UTF-8 bytes.
 * The value slot of a null row is zero (strings: empty), so equal columns
 * have equal bytes.
 *
 * Columns and batches are reference counted so that select/rename and a
 * batch that goes to two sinks share buffers. A column with refcount > 1
 * must not be modified. A batch owns a scratch arena that lives as long as
 * the batch (expression temporaries, per-batch strings).
 */
#ifndef SLUICE_BATCH_H
#define SLUICE_BATCH_H

#include <stdint.h>
#include <string.h>

#include "arena.h"
#include "error.h"
#include "schema.h"

#define SL_BATCH_ROWS_DEFAULT 65536

typedef struct sl_column {
    sl_type type;
    int refcount;
    int64_t length;
    int64_t null_count;
    uint8_t *validity;
    void *values;
    int64_t *offsets;
    char *data;
    int64_t cap;      /* rows the fixed-width buffers hold */
    int64_t data_cap; /* bytes data holds */
} sl_column;

typedef struct sl_batch {
    int refcount;
    sl_schema *schema; /* owned; schema->n == number of columns */
    sl_column **cols;  /* one reference each */
    int cols_cap;
    int64_t nrows;
    sl_arena *arena;   /* scratch, freed with the batch */
} sl_batch;

/* ---- columns ---- */
sl_column *sl_column_new(sl_type t, int64_t capacity);
sl_column *sl_column_ref(sl_column *c);
void sl_column_unref(sl_column *c);
/* Ensure room for `rows` more rows and `bytes` more string bytes. */
sl_rc sl_column_reserve(sl_column *c, int64_t rows, int64_t bytes);
/* Checked appends (grow as needed). */
sl_rc sl_column_append_null(sl_column *c);
sl_rc sl_column_append_bool(sl_column *c, int v);
sl_rc sl_column_append_int64(sl_column *c, int64_t v); /* also TIMESTAMP */
sl_rc sl_column_append_int32(sl_column *c, int32_t v); /* DATE */
sl_rc sl_column_append_float64(sl_column *c, double v);
sl_rc sl_column_append_str(sl_column *c, const char *s, size_t n);
/* Append row i of src (same type). */
sl_rc sl_column_append_from(sl_column *c, const sl_column *src, int64_t i);
/* A new column with the rows whose keep[i] != 0. */
sl_column *sl_column_filter(const sl_column *c, const uint8_t *keep,
                            int64_t kept);
/* A deep copy (refcount 1). */
sl_column *sl_column_copy(const sl_column *c);
/* Mark row i (already appended) null and zero its slot. */
sl_rc sl_column_set_null(sl_column *c, int64_t i);
/* Drop rows from `length` on (rolls back a partially appended record). */
void sl_column_truncate(sl_column *c, int64_t length);
/* Column of `length` nulls of type t. */
sl_column *sl_column_new_nulls(sl_type t, int64_t length);

static inline int sl_bit_get(const uint8_t *bits, int64_t i)
{
    return (bits[i >> 3] >> (i & 7)) & 1;
}
static inline void sl_bit_set(uint8_t *bits, int64_t i)
{
    bits[i >> 3] |= (uint8_t)(1u << (i & 7));
}
static inline void sl_bit_clear(uint8_t *bits, int64_t i)
{
    bits[i >> 3] &= (uint8_t)~(1u << (i & 7));
}
static inline int sl_col_valid(const sl_column *c, int64_t i)
{
    return c->validity == NULL || sl_bit_get(c->validity, i);
}
static inline int sl_col_bool(const sl_column *c, int64_t i)
{
    return sl_bit_get((const uint8_t *)c->values, i);
}
static inline int64_t sl_col_i64(const sl_column *c, int64_t i)
{
    return ((const int64_t *)c->values)[i];
}
static inline int32_t sl_col_i32(const sl_column *c, int64_t i)
{
    return ((const int32_t *)c->values)[i];
}
static inline double sl_col_f64(const sl_column *c, int64_t i)
{
    return ((const double *)c->values)[i];
}
static inline const char *sl_col_str(const sl_column *c, int64_t i,
                                     size_t *len)
{
    *len = (size_t)(c->offsets[i + 1] - c->offsets[i]);
    /* data is NULL while every string so far is empty */
    return c->data ? c->data + c->offsets[i] : "";
}

/* ---- batches ---- */
/* Empty batch with one empty column per field, each reserving `capacity`. */
sl_batch *sl_batch_new(const sl_schema *s, int64_t capacity);
sl_batch *sl_batch_ref(sl_batch *b);
void sl_batch_unref(sl_batch *b);
/* Append a column (takes over the caller's reference; on failure the
 * reference is released). col->length must equal b->nrows unless the batch
 * has no columns yet. */
sl_rc sl_batch_add_column(sl_batch *b, const char *name, sl_column *col,
                          sl_err *err);
/* Replace column idx (takes over the reference); the field type follows. */
sl_rc sl_batch_set_column(sl_batch *b, int idx, sl_column *col);
sl_rc sl_batch_drop_column(sl_batch *b, int idx);
int sl_batch_find(const sl_batch *b, const char *name);
/* New batch of the rows with keep[i] != 0 (byte mask, nrows entries). */
sl_rc sl_batch_filter(const sl_batch *in, const uint8_t *keep,
                      sl_batch **out);
/* New batch sharing the listed columns, in order (select/rename). */
sl_rc sl_batch_project(const sl_batch *in, const int *idx, int n,
                       sl_batch **out);
/* Call after filling columns directly: sets nrows from the columns and
 * checks they agree. */
sl_rc sl_batch_seal(sl_batch *b, sl_err *err);
/* Total bytes held by the column buffers (for memory accounting). */
size_t sl_batch_bytes(const sl_batch *b);

#endif
