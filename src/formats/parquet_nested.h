/*
 * parquet_nested.h: reading a nested top-level field (LIST, MAP, repeated
 * primitive or group, and structs around them) as JSON text in a string
 * column, the same convention the JSON Lines reader uses for nested
 * values. Internal to the Parquet reader.
 *
 * JSON shape: a group is an object of its children; a repeated node is an
 * array of its elements; a LIST-annotated group is the array of its
 * repeated child, whose elements are unwrapped in the standard three-level
 * form (`list.element`); a MAP is the array of its key_value entries, each
 * {"key": k, "value": v}. Values: numbers, booleans, strings, dates and
 * timestamps as ISO strings, NaN/infinity as null. A null top-level field
 * is a null row (not the text "null").
 */
#ifndef SL_PQ_NESTED_H
#define SL_PQ_NESTED_H

#include "parquet_rcol.h"

typedef struct pq_nested pq_nested;

/* The field whose schema element is m->schema[at]; its first leaf is
 * column chunk `leaf`. Fails (naming the leaf) when a leaf has a type that
 * cannot be read. */
sl_rc pq_nested_new(const pq_file_meta *m, int at, int leaf, const char *name,
                    pq_codec *codec, pq_nested **out, sl_err *err);
void pq_nested_free(pq_nested *n);
int pq_nested_nleaves(const pq_nested *n);
int pq_nested_first_leaf(const pq_nested *n);
pq_rcol *pq_nested_leaf(pq_nested *n, int i);
/* The codec contexts the leaves decompress with (per reading thread). */
void pq_nested_set_codec(pq_nested *n, pq_codec *codec);
/* Appends `rows` rows (JSON text or null) to out (SL_STRING). */
sl_rc pq_nested_read(pq_nested *n, sl_column *out, int64_t rows, sl_err *err);

#endif
