/*
 * transform_util.h: what the feature transforms (select ... clip) share.
 *
 *  - sl_tu_cols: a transform's `columns:` list resolved against a schema,
 *    with errors that name the transform, the column, the spec position of
 *    the list item and the closest existing column, and the column types
 *    remembered between analyze, the saved state and open.
 *  - Output helpers that replace or rebuild a batch's columns without
 *    touching shared (refcount > 1) columns or batches.
 *  - Streaming mean/variance (block-wise Chan merge: deterministic and
 *    independent of how the rows are split into batches).
 *  - Transform state (transform.json) helpers: every accessor validates
 *    the JSON shape and reports "<transform>: state: key '<path>': ...",
 *    never crashes on hand-edited input.
 */
#ifndef SL_TRANSFORM_UTIL_H
#define SL_TRANSFORM_UTIL_H

#include <jansson.h>
#include <stdint.h>

#include "sluice/batch.h"
#include "sluice/config_map.h"
#include "sluice/error.h"
#include "sluice/plugin.h"
#include "sluice/schema.h"

/* ---- column lists ---- */

typedef int (*sl_tu_type_ok)(sl_type t);

typedef struct sl_tu_cols {
    const char *tname;        /* transform name, prefixes every message */
    char *spec_file;          /* owned copy of ctx->spec_file, may be NULL */
    const sl_strlist *list;   /* the configured names (not owned) */
    int n;                    /* list->n */
    int *idx;                 /* field index in the open()ed schema */
    sl_type *type;            /* per column: type seen in analyze or read
                                 from the state; SL_TYPE_COUNT = unknown */
    sl_tu_type_ok type_ok;    /* NULL = any type */
    const char *type_need;    /* "a numeric column (bool, int64 or float64)" */
} sl_tu_cols;

/* Checks the list (non-empty, no duplicates) and allocates. */
sl_rc sl_tu_cols_init(sl_tu_cols *c, const char *tname, const sl_ctx *ctx,
                      const sl_strlist *list, sl_tu_type_ok ok,
                      const char *need, sl_err *err);
void sl_tu_cols_free(sl_tu_cols *c);

/* Resolve every listed column in s into idx (may be c->idx), checking the
 * type with type_ok and, when `fitted` is set, against the remembered
 * types (recording them where still unknown). */
sl_rc sl_tu_cols_resolve(sl_tu_cols *c, const sl_schema *s, int *idx,
                         int fitted, sl_err *err);

/* Error located at list item i (spec file, line, column; field = the
 * name): "<tname>: column '<name>' <message>", e.g. message "not found". */
sl_rc sl_tu_col_err(const sl_tu_cols *c, sl_err *err, int i, sl_rc code,
                    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Same helper for any string list of the config (boundaries, ...). */
sl_rc sl_tu_list_err(sl_err *err, sl_rc code, const char *spec_file,
                     const sl_strlist *list, int i, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

int sl_tu_is_numeric(sl_type t); /* bool, int64, float64 */
int sl_tu_is_any(sl_type t);     /* every type but SL_NULL */
#define SL_TU_NEED_NUMERIC "a numeric column (bool, int64 or float64)"

/* Numeric value of row i as a double (bool 0/1). */
static inline double sl_tu_num(const sl_column *c, int64_t i)
{
    switch (c->type) {
    case SL_FLOAT64:
        return sl_col_f64(c, i);
    case SL_INT64:
        return (double)sl_col_i64(c, i);
    case SL_BOOL:
        return sl_col_bool(c, i);
    default:
        return 0.0;
    }
}

/* ---- output columns and batches ---- */

/* New column of n rows (values zeroed, all valid) for fixed-width types. */
sl_column *sl_tu_col_zeroed(sl_type t, int64_t n);
/* Make the rows that are null in src null in c (c->length == src->length;
 * c must not be a string column). */
sl_rc sl_tu_col_copy_nulls(sl_column *c, const sl_column *src);

/* Consumes `in`. *out = in with column idx[k] replaced by repl[k] (the
 * references are taken over, also on failure). Modifies in place when the
 * caller held the only reference, else builds a new batch sharing the
 * untouched columns. */
sl_rc sl_tu_replace(sl_batch *in, const int *idx, sl_column **repl, int n,
                    sl_batch **out, sl_err *err);
/* New batch with schema s whose column j is cols[j] (references taken over,
 * also on failure). */
sl_rc sl_tu_build(const sl_schema *s, sl_column **cols, sl_batch **out,
                  sl_err *err);

/* Append a copy of field f to s (nullable and description kept), renamed
 * to `name` unless NULL, with type t. */
sl_rc sl_tu_schema_add(sl_schema *s, const sl_field *f, const char *name,
                       sl_type t, sl_err *err);

/* ---- mean and variance ---- */

#define SL_TU_MOMENT_BLOCK 4096

/* Values are buffered into blocks of SL_TU_MOMENT_BLOCK counted from the
 * first value, each block is reduced exactly like a two-pass algorithm
 * (sum / k, then sum of squared deviations) and merged into the running
 * totals with Chan et al.'s pairwise update. Block boundaries depend only
 * on the value sequence, so the result is bit-identical whatever the batch
 * sizes are. */
typedef struct sl_tu_moments {
    int64_t n;       /* values merged so far */
    double mean, m2; /* of the merged values */
    double min, max;
    double *blk;     /* pending values (owned) */
    int nblk;
} sl_tu_moments;

sl_rc sl_tu_moments_init(sl_tu_moments *m);
void sl_tu_moments_free(sl_tu_moments *m);
/* Adds every non-missing (non-null, non-NaN) value of a numeric column. */
void sl_tu_moments_add_column(sl_tu_moments *m, const sl_column *c);
/* Merges the pending block; call once before reading the totals. */
void sl_tu_moments_finish(sl_tu_moments *m);

/* ---- transform state (JSON) ---- */

/* A finite double as a JSON real; inf/-inf/nan as the strings "inf",
 * "-inf", "nan" (JSON has no such numbers). NULL on allocation failure. */
json_t *sl_tu_json_num(double v);
/* Inverse of sl_tu_json_num, also accepting JSON integers. 0 ok, -1 bad. */
int sl_tu_json_get_num(const json_t *j, double *out);

/* "<tname>: state: key '<key>': <message>" (SL_ECONFIG). */
sl_rc sl_tu_state_err(sl_err *err, const char *tname, const char *key,
                      const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Validates that `state` is an object with a "columns" object holding
 * exactly the configured columns (each an object); per[i] = the object of
 * list item i. */
sl_rc sl_tu_state_columns(const sl_tu_cols *c, const json_t *state,
                          const json_t **per, sl_err *err);
/* Member `key` of the column object of column i, of JSON type `jt`
 * (JSON_REAL accepts any number; -1 = any type). optional: a missing
 * member or JSON null gives *out = NULL and SL_OK. */
sl_rc sl_tu_state_member(const sl_tu_cols *c, int i, const json_t *obj,
                         const char *key, int jt, int optional,
                         const json_t **out, sl_err *err);
/* A number (sl_tu_json_get_num) member; must be finite unless allow_inf. */
sl_rc sl_tu_state_num(const sl_tu_cols *c, int i, const json_t *obj,
                      const char *key, int allow_inf, double *out,
                      sl_err *err);
/* The "type" member of column i, stored into c->type[i]. */
sl_rc sl_tu_state_type(sl_tu_cols *c, int i, const json_t *obj, sl_err *err);
/* Top-level enum member (e.g. "strategy") that must equal `want`. */
sl_rc sl_tu_state_enum(const char *tname, const json_t *state,
                       const char *key, const char *want, sl_err *err);
/* state = {"<key>": "<value>", "columns": {}} (key NULL: no first
 * member; it names the variant, e.g. "strategy", and comes first so the
 * file reads well); *cols_obj is the (borrowed) "columns" object. */
sl_rc sl_tu_state_new(json_t **state, json_t **cols_obj, const char *key,
                      const char *value, sl_err *err);
/* json_object_set_new with allocation-failure reporting (consumes v). */
sl_rc sl_tu_json_set(json_t *obj, const char *key, json_t *v, sl_err *err);

/* ---- misc ---- */

/* Stable merge sort of ids by cmp(ctx, a, b) (negative: a first). */
sl_rc sl_tu_sort_ids(int64_t *ids, int64_t n,
                     int (*cmp)(const void *ctx, int64_t a, int64_t b),
                     const void *ctx);

/* "a, b, c" list of config choice names for messages. */
const char *sl_tu_enum_name(const char *choices, int idx, char *buf,
                            size_t n);

#endif
