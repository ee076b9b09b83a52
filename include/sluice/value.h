/*
 * value.h: parsing and formatting of scalar text values, and type
 * inference. Shared by every text format (CSV, JSON Lines, the expression
 * language's literals) so that "1.5" or "2024-01-31" means the same thing
 * everywhere.
 *
 * Accepted text:
 *   bool       true/false (any case), also "t"/"f" is NOT accepted (ambiguous)
 *   int64      [+-]?[0-9]+ within range
 *   float64    decimal or exponent form, "nan", "inf", "-inf" (any case);
 *              no hex floats, no leading/trailing spaces
 *   date       YYYY-MM-DD or YYYY/MM/DD (a valid calendar date)
 *   timestamp  YYYY-MM-DD[T ]HH:MM[:SS[.f{1,9}]][Z|+HH:MM|-HH:MM|+HHMM]
 *              (converted to UTC microseconds; no zone = UTC); a bare
 *              date also parses (midnight UTC), since inference widens
 *              date -> timestamp
 * All parsers take (pointer, length), never rely on NUL termination, and
 * return 0 on success, -1 if the text is not of that type.
 */
#ifndef SLUICE_VALUE_H
#define SLUICE_VALUE_H

#include <stddef.h>
#include <stdint.h>

#include "schema.h"

int sl_parse_bool(const char *s, size_t n, int *out);
int sl_parse_int64(const char *s, size_t n, int64_t *out);
int sl_parse_float64(const char *s, size_t n, double *out);
int sl_parse_date(const char *s, size_t n, int32_t *days_out);
int sl_parse_timestamp(const char *s, size_t n, int64_t *micros_out);

/* Formatting writes at most SL_FMT_MAX bytes (no NUL needed by callers
 * that use the returned length; a NUL is written when room allows). */
#define SL_FMT_MAX 48
/* Shortest text that parses back to the same double ("0.1", "1e+300",
 * "nan", "inf", "-inf"). Integral values print as "3.0" (like Python and
 * DuckDB) so a float column does not read back as int64. */
int sl_format_float64(double v, char *buf);
int sl_format_int64(int64_t v, char *buf);
int sl_format_date(int32_t days, char *buf);          /* YYYY-MM-DD */
int sl_format_timestamp(int64_t micros, char *buf);   /* YYYY-MM-DDTHH:MM:SS[.ffffff]Z */

/* Calendar helpers (proleptic Gregorian, UTC). */
int64_t sl_days_from_civil(int64_t y, unsigned m, unsigned d);
void sl_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);

/* Type inference: start with SL_NULL, feed every non-null sample value;
 * the state widens null -> bool | int64 -> float64 | date -> timestamp ->
 * string as needed. */
typedef struct sl_infer {
    sl_type type;  /* current guess; SL_NULL until a non-null value */
    int64_t seen;  /* non-null values seen */
} sl_infer;
void sl_infer_init(sl_infer *st);
void sl_infer_feed(sl_infer *st, const char *s, size_t n);
/* The final type (SL_NULL columns become SL_STRING). */
sl_type sl_infer_result(const sl_infer *st);

#endif
