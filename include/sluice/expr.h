/*
 * expr.h: the expression language of `filter` and `derive`.
 *
 *   literals     42  3.5  1e-3  'text' "text"  true false null
 *   columns      age   `column with spaces`
 *   arithmetic   + - * / %  (unary -)   / always yields float64;
 *                division or modulo by zero yields null (as Spark does)
 *   comparison   = == != <> < <= > >=
 *   logic        and or not  (SQL three-valued logic with nulls)
 *   null tests   x is null, x is not null
 *   functions    coalesce(a, b, ...) abs(x) log(x) exp(x) sqrt(x)
 *                round(x[, digits]) floor(x) ceil(x) lower(s) upper(s)
 *                len(s) contains(s, sub) starts_with(s, p) ends_with(s, p)
 *                year(t) month(t) day(t) hour(t) minute(t) second(t)
 *                dayofweek(t) (0=Monday) dayofyear(t)   t: timestamp|date
 *                if(cond, a, b)
 * Precedence, low to high: or, and, not, comparison, + -, * / %, unary -.
 *
 * An expression is parsed once, bound (type-checked) against a schema
 * once, then evaluated a whole column at a time. Error positions (sl_err
 * col) are 1-based character offsets in the expression text. Syntax errors
 * (including the size and nesting bounds) are SL_EPARSE, binding errors
 * (unknown names, types) SL_ESCHEMA. An sl_expr keeps
 * reusable buffers between evaluations: use one from one thread at a time.
 * Full rules: docs/design/expressions.md.
 */
#ifndef SLUICE_EXPR_H
#define SLUICE_EXPR_H

#include "batch.h"
#include "error.h"
#include "schema.h"

typedef struct sl_expr sl_expr;

sl_rc sl_expr_parse(const char *text, sl_expr **out, sl_err *err);
/* Resolve columns and check types; *out_type is the result type. */
sl_rc sl_expr_bind(sl_expr *e, const sl_schema *s, sl_type *out_type,
                   sl_err *err);
/* Evaluate over every row of b (b's schema must equal the bound one by
 * names/types of referenced columns). *out: new column of b->nrows rows
 * (one reference for the caller; a bare column name yields b's column). */
sl_rc sl_expr_eval(sl_expr *e, const sl_batch *b, sl_column **out,
                   sl_err *err);
/* 1 when the bound result may hold nulls (a column that may be null, int64
 * overflow, division, log/sqrt, ...); 0 when it never does. 1 before
 * binding. */
int sl_expr_nullable(const sl_expr *e);
/* Names of the columns the expression reads (valid until free). */
int sl_expr_columns(const sl_expr *e, const char *const **names);
void sl_expr_free(sl_expr *e);

#endif
