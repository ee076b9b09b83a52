/*
 * schema.h: logical types and schemas.
 *
 * Types map one-to-one onto Arrow C Data Interface formats so a batch can be
 * exported without copying:
 *   SL_BOOL "b" (bit-packed), SL_INT64 "l", SL_FLOAT64 "g",
 *   SL_STRING "U" (large utf8: int64 offsets), SL_TIMESTAMP "tsu:UTC"
 *   (int64 microseconds since the epoch, UTC), SL_DATE "tdD" (int32 days
 *   since the epoch), SL_NULL "n" (a column that is all null).
 *
 * A schema file (models/data_models/<name>.json) looks like
 *   {"name": "raw", "fields": [{"name": "x", "type": "float64",
 *    "nullable": true, "description": "..."}]}
 */
#ifndef SLUICE_SCHEMA_H
#define SLUICE_SCHEMA_H

#include "error.h"

typedef enum sl_type {
    SL_NULL = 0,
    SL_BOOL,
    SL_INT64,
    SL_FLOAT64,
    SL_STRING,
    SL_TIMESTAMP,
    SL_DATE,
    SL_TYPE_COUNT
} sl_type;

typedef struct sl_field {
    char *name;        /* owned */
    sl_type type;
    int nullable;      /* 1 = may hold nulls */
    char *description; /* owned, may be NULL */
} sl_field;

typedef struct sl_schema {
    int n;
    int cap;
    sl_field *fields;
} sl_schema;

/* "bool", "int64", "float64", "string", "timestamp", "date", "null". */
const char *sl_type_name(sl_type t);
/* Accepts the names above plus aliases: int, integer, long, double, float,
 * number, str, utf8, boolean, datetime. Returns SL_ENOTFOUND otherwise. */
sl_rc sl_type_parse(const char *name, sl_type *out);
/* Arrow C Data Interface format string for t. */
const char *sl_type_arrow_format(sl_type t);
int sl_type_is_numeric(sl_type t); /* bool, int64, float64 */

sl_schema *sl_schema_new(void);
void sl_schema_free(sl_schema *s);
sl_schema *sl_schema_copy(const sl_schema *s);
/* Fails with SL_ESCHEMA on a duplicate name. */
sl_rc sl_schema_add(sl_schema *s, const char *name, sl_type t, int nullable,
                    sl_err *err);
sl_rc sl_schema_remove(sl_schema *s, int idx);
sl_rc sl_schema_rename(sl_schema *s, int idx, const char *name, sl_err *err);
int sl_schema_find(const sl_schema *s, const char *name); /* -1 if absent */
int sl_schema_equal(const sl_schema *a, const sl_schema *b); /* names+types */

struct json_t;
/* {"name": ..., "fields": [...]} as a jansson object (name may be NULL). */
struct json_t *sl_schema_to_json(const sl_schema *s, const char *name);
/* what names the source of j in error messages (a file name). */
sl_rc sl_schema_from_json(const struct json_t *j, const char *what,
                          sl_schema **out, sl_err *err);

sl_rc sl_schema_load_json(const char *path, sl_schema **out, sl_err *err);
sl_rc sl_schema_save_json(const sl_schema *s, const char *name,
                          const char *path, sl_err *err);

#endif
