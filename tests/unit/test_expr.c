/*
 * test_expr.c: the expression language (expr.h): lexing and parsing
 * (precedence, associativity, literals, quoting), binding (types, exact
 * error positions and messages), and evaluation of every operator and
 * function including nulls, overflow, division by zero, dates and strings.
 * Results are compared as rendered text ("[1, null, 3]") after checking the
 * column invariants of batch.h (null_count, zeroed null slots).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/batch.h"
#include "sluice/expr.h"
#include "sluice/mem.h"
#include "sluice/value.h"
#include "processing/expr_internal.h"

/* ---- fixture: one 5-row batch with a column of every type ---- */

static sl_batch *T;

static int64_t ts(const char *s)
{
    int64_t v = 0;
    assert_int_equal(sl_parse_timestamp(s, strlen(s), &v), 0);
    return v;
}

static int32_t dt(const char *s)
{
    int32_t v = 0;
    assert_int_equal(sl_parse_date(s, strlen(s), &v), 0);
    return v;
}

static sl_column *col(sl_batch *b, const char *name)
{
    int i = sl_batch_find(b, name);
    assert_true(i >= 0);
    return b->cols[i];
}

static sl_batch *make_fixture(void)
{
    static const struct {
        const char *name;
        sl_type t;
    } f[] = {{"i", SL_INT64},     {"j", SL_INT64},    {"f", SL_FLOAT64},
             {"s", SL_STRING},    {"b", SL_BOOL},     {"p", SL_BOOL},
             {"d", SL_DATE},      {"t", SL_TIMESTAMP}, {"col with space", SL_INT64},
             {"nul", SL_NULL},    {"age", SL_INT64},  {"a`b", SL_INT64}};
    sl_schema *s = sl_schema_new();
    assert_non_null(s);
    for (size_t k = 0; k < sizeof f / sizeof f[0]; k++)
        assert_int_equal(sl_schema_add(s, f[k].name, f[k].t, 1, NULL), 0);
    sl_batch *b = sl_batch_new(s, 8);
    sl_schema_free(s);
    assert_non_null(b);
    sl_column *c;
    c = col(b, "i");
    sl_column_append_int64(c, 1);
    sl_column_append_int64(c, 2);
    sl_column_append_null(c);
    sl_column_append_int64(c, -4);
    sl_column_append_int64(c, INT64_MAX);
    c = col(b, "j");
    sl_column_append_int64(c, 3);
    sl_column_append_int64(c, 0);
    sl_column_append_int64(c, 5);
    sl_column_append_int64(c, -2);
    sl_column_append_null(c);
    c = col(b, "f");
    sl_column_append_float64(c, 1.5);
    sl_column_append_float64(c, -2.0);
    sl_column_append_null(c);
    sl_column_append_float64(c, 0.0);
    sl_column_append_float64(c, 1e300);
    c = col(b, "s");
    sl_column_append_str(c, "abc", 3);
    sl_column_append_str(c, "Hello", 5);
    sl_column_append_null(c);
    sl_column_append_str(c, "", 0);
    sl_column_append_str(c, "h\xc3\xa9llo", 6);
    c = col(b, "b");
    sl_column_append_bool(c, 1);
    sl_column_append_bool(c, 0);
    sl_column_append_null(c);
    sl_column_append_bool(c, 1);
    sl_column_append_bool(c, 0);
    c = col(b, "p");
    sl_column_append_bool(c, 1);
    sl_column_append_null(c);
    sl_column_append_null(c);
    sl_column_append_bool(c, 0);
    sl_column_append_bool(c, 1);
    c = col(b, "d");
    sl_column_append_int32(c, dt("2024-01-31"));
    sl_column_append_int32(c, dt("2000-02-29"));
    sl_column_append_null(c);
    sl_column_append_int32(c, dt("1969-12-31"));
    sl_column_append_int32(c, dt("2024-12-31"));
    c = col(b, "t");
    sl_column_append_int64(c, ts("2024-01-31T13:45:30.5Z"));
    sl_column_append_int64(c, ts("2000-02-29T00:00:00Z"));
    sl_column_append_null(c);
    sl_column_append_int64(c, ts("1969-12-31T23:59:59Z"));
    sl_column_append_int64(c, ts("1970-01-01T00:00:00Z"));
    c = col(b, "col with space");
    for (int k = 1; k <= 5; k++)
        sl_column_append_int64(c, k * 10);
    c = col(b, "nul");
    for (int k = 0; k < 5; k++)
        sl_column_append_null(c);
    c = col(b, "age");
    for (int k = 0; k < 5; k++)
        sl_column_append_int64(c, 15 + k);
    c = col(b, "a`b");
    for (int k = 0; k < 5; k++)
        sl_column_append_int64(c, 7);
    assert_int_equal(sl_batch_seal(b, NULL), 0);
    return b;
}

static int setup(void **state)
{
    (void)state;
    T = make_fixture();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sl_batch_unref(T);
    return 0;
}

/* ---- rendering and invariant checks ---- */

static void check_invariants(const sl_column *c, int64_t n)
{
    assert_int_equal(c->length, n);
    int64_t nulls = 0;
    for (int64_t i = 0; i < n; i++) {
        if (sl_col_valid(c, i))
            continue;
        nulls++;
        switch (c->type) {
        case SL_BOOL: assert_int_equal(sl_col_bool(c, i), 0); break;
        case SL_INT64:
        case SL_TIMESTAMP: assert_true(sl_col_i64(c, i) == 0); break;
        case SL_DATE: assert_int_equal(sl_col_i32(c, i), 0); break;
        case SL_FLOAT64: {
            uint64_t bits;
            double v = sl_col_f64(c, i);
            memcpy(&bits, &v, 8);
            assert_true(bits == 0);
            break;
        }
        case SL_STRING:
            assert_true(c->offsets[i + 1] == c->offsets[i]);
            break;
        default: break;
        }
    }
    assert_int_equal(c->null_count, nulls);
    if (c->type == SL_STRING)
        assert_true(c->offsets[0] == 0);
}

static void render_value(const sl_column *c, int64_t i, char *out, size_t n)
{
    char buf[SL_FMT_MAX + 1];
    if (!sl_col_valid(c, i) || c->type == SL_NULL) {
        snprintf(out, n, "null");
        return;
    }
    switch (c->type) {
    case SL_BOOL: snprintf(out, n, "%s", sl_col_bool(c, i) ? "true" : "false"); return;
    case SL_INT64: snprintf(out, n, "%lld", (long long)sl_col_i64(c, i)); return;
    case SL_FLOAT64: {
        int k = sl_format_float64(sl_col_f64(c, i), buf);
        snprintf(out, n, "%.*s", k, buf);
        return;
    }
    case SL_DATE: {
        int k = sl_format_date(sl_col_i32(c, i), buf);
        snprintf(out, n, "%.*s", k, buf);
        return;
    }
    case SL_TIMESTAMP: {
        int k = sl_format_timestamp(sl_col_i64(c, i), buf);
        snprintf(out, n, "%.*s", k, buf);
        return;
    }
    case SL_STRING: {
        size_t len = 0;
        const char *s = c->data ? sl_col_str(c, i, &len) : "";
        snprintf(out, n, "'%.*s'", (int)len, s);
        return;
    }
    default: snprintf(out, n, "?"); return;
    }
}

static char *render(const sl_column *c)
{
    static char out[4096];
    size_t k = 0;
    out[k++] = '[';
    for (int64_t i = 0; i < c->length; i++) {
        char v[256];
        render_value(c, i, v, sizeof v);
        k += (size_t)snprintf(out + k, sizeof out - k, "%s%s", i ? ", " : "", v);
    }
    snprintf(out + k, sizeof out - k, "]");
    return out;
}

/* Parse, bind against b's schema, evaluate over b; returns the rendering
 * and the result type. */
static char *ev_on(sl_batch *b, const char *text, sl_type *type)
{
    sl_err err;
    sl_err_clear(&err);
    sl_expr *e = NULL;
    sl_type t = SL_TYPE_COUNT;
    sl_column *c = NULL;
    if (sl_expr_parse(text, &e, &err) != SL_OK ||
        sl_expr_bind(e, b->schema, &t, &err) != SL_OK ||
        sl_expr_eval(e, b, &c, &err) != SL_OK)
        fail_msg("'%s': %s (col %lld)", text, err.msg, (long long)err.col);
    assert_int_equal(c->type, t);
    check_invariants(c, b->nrows);
    if (!sl_expr_nullable(e))
        assert_int_equal(c->null_count, 0);
    char *r = render(c);
    sl_column_unref(c);
    sl_expr_free(e);
    if (type)
        *type = t;
    return r;
}

static char *ev(const char *text) { return ev_on(T, text, NULL); }

#define EV(text, want) assert_string_equal(ev(text), want)

static sl_type type_of(const char *text)
{
    sl_type t;
    ev_on(T, text, &t);
    return t;
}

/* Expect parse or bind to fail with code, position and message text. */
static void expect_err(const char *text, sl_rc code, int64_t col,
                       const char *msg)
{
    sl_err err;
    sl_err_clear(&err);
    sl_expr *e = NULL;
    sl_rc rc = sl_expr_parse(text, &e, &err);
    if (rc == SL_OK) {
        rc = sl_expr_bind(e, T->schema, NULL, &err);
        sl_expr_free(e);
    }
    if (rc == SL_OK)
        fail_msg("'%s' unexpectedly bound", text);
    if (rc != code || err.col != col || !strstr(err.msg, msg))
        fail_msg("'%s': got rc %d col %lld '%s'; want rc %d col %lld '%s'",
                 text, rc, (long long)err.col, err.msg, code, (long long)col,
                 msg);
}

/* ---- parser ---- */

static void test_precedence(void **state)
{
    (void)state;
    EV("1 + 2 * 3", "[7, 7, 7, 7, 7]");
    EV("(1 + 2) * 3", "[9, 9, 9, 9, 9]");
    EV("2 - 3 - 4", "[-5, -5, -5, -5, -5]");      /* left associative */
    EV("2 - (3 - 4)", "[3, 3, 3, 3, 3]");
    EV("8 / 4 / 2", "[1.0, 1.0, 1.0, 1.0, 1.0]"); /* left associative */
    EV("2 * 3 % 4", "[2, 2, 2, 2, 2]");
    EV("-2 * 3", "[-6, -6, -6, -6, -6]");
    EV("- - 2", "[2, 2, 2, 2, 2]");
    EV("2 - -2", "[4, 4, 4, 4, 4]");
    EV("-i * 2", "[-2, -4, null, 8, null]");
    EV("not true and false", "[false, false, false, false, false]");
    EV("not (true and false)", "[true, true, true, true, true]");
    EV("true or false and false", "[true, true, true, true, true]");
    EV("(true or false) and false", "[false, false, false, false, false]");
    EV("not 1 > 2", "[true, true, true, true, true]");
    EV("1 + 2 > 2 and 3 < 4", "[true, true, true, true, true]");
    EV("not i is null", "[true, true, false, true, true]");
    EV("i + 1 is null", "[false, false, true, false, true]");
}

static void test_literals(void **state)
{
    (void)state;
    EV("42", "[42, 42, 42, 42, 42]");
    EV("3.5", "[3.5, 3.5, 3.5, 3.5, 3.5]");
    EV("1e-3", "[0.001, 0.001, 0.001, 0.001, 0.001]");
    EV(".5 + 1.", "[1.5, 1.5, 1.5, 1.5, 1.5]");
    EV("2E2", "[200.0, 200.0, 200.0, 200.0, 200.0]");
    EV("-9223372036854775808", "[-9223372036854775808, -9223372036854775808, "
                               "-9223372036854775808, -9223372036854775808, "
                               "-9223372036854775808]");
    EV("'text'", "['text', 'text', 'text', 'text', 'text']");
    EV("\"text\"", "['text', 'text', 'text', 'text', 'text']");
    EV("'it''s'", "['it's', 'it's', 'it's', 'it's', 'it's']");
    EV("'say \"hi\"'", "['say \"hi\"', 'say \"hi\"', 'say \"hi\"', "
                       "'say \"hi\"', 'say \"hi\"']");
    EV("'a\\tb' = 'a\tb'", "[true, true, true, true, true]");
    EV("len('a\\\\b\\'c\\\"d\\n')", "[8, 8, 8, 8, 8]");
    EV("''", "['', '', '', '', '']");
    EV("true", "[true, true, true, true, true]");
    EV("TRUE and False", "[false, false, false, false, false]");
    EV("null", "[null, null, null, null, null]");
    assert_int_equal(type_of("null"), SL_NULL);
    EV("NULL is null", "[true, true, true, true, true]");
}

static void test_identifiers(void **state)
{
    (void)state;
    EV("`col with space` + 1", "[11, 21, 31, 41, 51]");
    EV("`a``b`", "[7, 7, 7, 7, 7]");
    EV("`i` * 1", "[1, 2, null, -4, 9223372036854775807]");
    EV("i IS NOT NULL", "[true, true, false, true, true]"); /* keywords */
    EV("LOWER(s)", "['abc', 'hello', null, '', 'h\xc3\xa9llo']");
    expect_err("I + 1", SL_ESCHEMA, 1, "unknown column 'I' at col 1, did you mean 'i'?");

    sl_expr *e = NULL;
    assert_int_equal(sl_expr_parse("i + j * i + len(s) + `col with space`",
                                   &e, NULL),
                     SL_OK);
    const char *const *names;
    assert_int_equal(sl_expr_columns(e, &names), 4);
    assert_string_equal(names[0], "i");
    assert_string_equal(names[1], "j");
    assert_string_equal(names[2], "s");
    assert_string_equal(names[3], "col with space");
    assert_null(names[4]);
    sl_expr_free(e);
    assert_int_equal(sl_expr_parse("1 + 2", &e, NULL), SL_OK);
    assert_int_equal(sl_expr_columns(e, &names), 0);
    sl_expr_free(e);
}

static void test_parse_errors(void **state)
{
    (void)state;
    expect_err("(1 + 2", SL_EPARSE, 7, "expected ')' at col 7, got end of expression");
    expect_err("(i + 2 j", SL_EPARSE, 8, "expected ')' at col 8, got 'j'");
    expect_err("1 +", SL_EPARSE, 4, "expected an expression at col 4, got end of expression");
    expect_err("", SL_EPARSE, 1, "empty expression");
    expect_err("   ", SL_EPARSE, 4, "expected an expression at col 4");
    expect_err("1 2", SL_EPARSE, 3, "unexpected '2' at col 3");
    expect_err("i ) ", SL_EPARSE, 3, "unexpected ')' at col 3");
    expect_err("i < j < 3", SL_EPARSE, 7, "comparisons cannot be chained at col 7");
    expect_err("i is null = true", SL_EPARSE, 11, "cannot be chained");
    expect_err("i is 5", SL_EPARSE, 6, "expected 'null' or 'not null' after 'is' at col 6");
    expect_err("i is not 5", SL_EPARSE, 10, "expected 'null' after 'is not'");
    expect_err("s = 'abc", SL_EPARSE, 5, "unterminated string starting at col 5");
    expect_err("`abc + 1", SL_EPARSE, 1, "unterminated `name` starting at col 1");
    expect_err("`` + 1", SL_EPARSE, 1, "empty `name` at col 1");
    expect_err("'a\\qb'", SL_EPARSE, 3, "unknown escape sequence at col 3");
    expect_err("1e+", SL_EPARSE, 1, "invalid number '1e+' at col 1");
    expect_err("i + 12abc", SL_EPARSE, 5, "invalid number '12abc' at col 5");
    expect_err("1.2.3", SL_EPARSE, 1, "invalid number");
    expect_err("i $ 2", SL_EPARSE, 3, "unexpected character '$' at col 3");
    expect_err("i ! 2", SL_EPARSE, 3, "unexpected '!'");
    expect_err("abs(i,", SL_EPARSE, 7, "expected an expression at col 7");
    expect_err("abs(i 2)", SL_EPARSE, 7, "expected ',' or ')' at col 7, got '2'");
    expect_err("99999999999999999999 + i", SL_EPARSE, 1,
               "integer 99999999999999999999 out of range at col 1");
    expect_err("9223372036854775808", SL_EPARSE, 1, "out of range");
    expect_err("1e999", SL_EPARSE, 1, "number 1e999 out of range at col 1");
    expect_err("* 2", SL_EPARSE, 1, "expected an expression at col 1, got '*'");
    /* columns count characters, not bytes: 'é' is one column */
    expect_err("'\xc3\xa9' + $", SL_EPARSE, 7, "unexpected character '$' at col 7");
    expect_err("s = '\xc3\xa9\xc3\xa9' or zzzzz", SL_ESCHEMA, 13, "unknown column 'zzzzz' at col 13");
}

static char *repeat(const char *a, int n, const char *mid, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), lm = strlen(mid);
    char *s = malloc(la * (size_t)n + lb * (size_t)n + lm + 1);
    size_t k = 0;
    for (int i = 0; i < n; i++, k += la)
        memcpy(s + k, a, la);
    memcpy(s + k, mid, lm);
    k += lm;
    for (int i = 0; i < n; i++, k += lb)
        memcpy(s + k, b, lb);
    s[k] = '\0';
    return s;
}

static void test_depth_limit(void **state)
{
    (void)state;
    sl_err err;
    sl_expr *e = NULL;
    char *s = repeat("(", 100, "i", ")");
    assert_int_equal(sl_expr_parse(s, &e, NULL), SL_OK); /* fine */
    sl_expr_free(e);
    free(s);
    const char *deep[][3] = {{"(", "i", ")"},      {"-", "i", ""},
                             {"not ", "b", ""},    {"abs(", "i", ")"},
                             {"", "i", " + 1"},    {"1 + (", "i", ")"},
                             {"", "b", " and b"}};
    for (size_t k = 0; k < sizeof deep / sizeof deep[0]; k++) {
        s = repeat(deep[k][0], 300, deep[k][1], deep[k][2]);
        e = NULL;
        sl_err_clear(&err);
        assert_int_equal(sl_expr_parse(s, &e, &err), SL_EPARSE);
        assert_non_null(strstr(err.msg, "nested too deeply"));
        assert_null(e);
        free(s);
    }
    /* a long flat list of arguments is bounded too */
    s = repeat("i, ", 70, "i", "");
    char *call = malloc(strlen(s) + 16);
    sprintf(call, "coalesce(%s)", s);
    assert_int_equal(sl_expr_parse(call, &e, &err), SL_EPARSE);
    assert_non_null(strstr(err.msg, "too many arguments"));
    free(call);
    free(s);
    /* and the text length */
    s = repeat(" ", 70000, "1", "");
    assert_int_equal(sl_expr_parse(s, &e, &err), SL_EPARSE);
    free(s);
}

/* ---- binder ---- */

static void test_bind_errors(void **state)
{
    (void)state;
    expect_err("agee >= 18", SL_ESCHEMA, 1,
               "unknown column 'agee' at col 1, did you mean 'age'?");
    expect_err("i + zzzzzz", SL_ESCHEMA, 5, "unknown column 'zzzzzz' at col 5");
    expect_err("lenn(s)", SL_ESCHEMA, 1,
               "unknown function 'lenn' at col 1, did you mean 'len'?");
    expect_err("uper(s)", SL_ESCHEMA, 1, "did you mean 'upper'?");
    expect_err("i + frobnicate(s)", SL_ESCHEMA, 5, "unknown function 'frobnicate' at col 5");
    expect_err("s + 1", SL_ESCHEMA, 1, "operand of '+' at col 1 is string, expected a number");
    expect_err("1 + b", SL_ESCHEMA, 5, "operand of '+' at col 5 is bool, expected a number");
    expect_err("i * (s)", SL_ESCHEMA, 6, "operand of '*' at col 6 is string");
    expect_err("d - 1", SL_ESCHEMA, 1, "operand of '-' at col 1 is date");
    expect_err("i % t", SL_ESCHEMA, 5, "operand of '%' at col 5 is timestamp");
    expect_err("-s", SL_ESCHEMA, 2, "operand of '-' at col 2 is string");
    expect_err("not i", SL_ESCHEMA, 5, "operand of 'not' at col 5 is int64, expected bool");
    expect_err("b and i", SL_ESCHEMA, 7, "operand of 'and' at col 7 is int64, expected bool");
    expect_err("s or b", SL_ESCHEMA, 1, "operand of 'or' at col 1 is string");
    expect_err("i = s", SL_ESCHEMA, 3, "cannot compare int64 with string at col 3");
    expect_err("b < 1", SL_ESCHEMA, 3, "cannot compare bool with int64");
    expect_err("d = i", SL_ESCHEMA, 3, "cannot compare date with int64");
    expect_err("d > '2024-13-01'", SL_ESCHEMA, 5,
               "invalid date literal '2024-13-01' at col 5 (expected YYYY-MM-DD)");
    expect_err("t <= 'yesterday'", SL_ESCHEMA, 6,
               "invalid timestamp literal 'yesterday' at col 6");
    expect_err("round(s)", SL_ESCHEMA, 7,
               "round() argument 1 at col 7 is string, expected a number");
    expect_err("round(f, 1, 2)", SL_ESCHEMA, 1, "round() at col 1 takes 1 to 2 arguments, got 3");
    expect_err("round(f, i)", SL_ESCHEMA, 10, "round() argument 2 at col 10 must be an integer constant");
    expect_err("round(f, 1.5)", SL_ESCHEMA, 10, "integer constant");
    expect_err("abs()", SL_ESCHEMA, 1, "abs() at col 1 takes 1 argument, got 0");
    expect_err("coalesce()", SL_ESCHEMA, 1, "coalesce() at col 1 takes at least 1 argument, got 0");
    expect_err("coalesce(i, s)", SL_ESCHEMA, 13,
               "coalesce() argument 2 at col 13 is string, expected int64");
    expect_err("coalesce('x', i)", SL_ESCHEMA, 10,
               "coalesce() argument 1 at col 10 is string, expected int64");
    expect_err("if(i, 1, 2)", SL_ESCHEMA, 4, "if() argument 1 at col 4 is int64, expected bool");
    expect_err("if(b, 1, 'x')", SL_ESCHEMA, 10, "if() argument 3 at col 10 is string, expected int64");
    expect_err("contains(s, 1)", SL_ESCHEMA, 13, "contains() argument 2 at col 13 is int64, expected string");
    expect_err("lower(i)", SL_ESCHEMA, 7, "lower() argument 1 at col 7 is int64, expected string");
    expect_err("year(i)", SL_ESCHEMA, 6, "year() argument 1 at col 6 is int64, expected timestamp or date");
    expect_err("month('soon')", SL_ESCHEMA, 7, "invalid timestamp literal 'soon'");
    expect_err("log(b)", SL_ESCHEMA, 5, "log() argument 1 at col 5 is bool");
}

static void test_types(void **state)
{
    (void)state;
    assert_int_equal(type_of("i + j"), SL_INT64);
    assert_int_equal(type_of("i + 1.0"), SL_FLOAT64);
    assert_int_equal(type_of("i / 1"), SL_FLOAT64);
    assert_int_equal(type_of("i % j"), SL_INT64);
    assert_int_equal(type_of("i * f"), SL_FLOAT64);
    assert_int_equal(type_of("i > f"), SL_BOOL);
    assert_int_equal(type_of("i + null"), SL_INT64);
    assert_int_equal(type_of("null + null"), SL_NULL);
    assert_int_equal(type_of("null / null"), SL_FLOAT64);
    assert_int_equal(type_of("nul + 1.5"), SL_FLOAT64);
    assert_int_equal(type_of("nul"), SL_NULL);
    assert_int_equal(type_of("coalesce(i, f)"), SL_FLOAT64);
    assert_int_equal(type_of("coalesce(d, t)"), SL_TIMESTAMP);
    assert_int_equal(type_of("coalesce(d, '2024-01-01')"), SL_DATE);
    assert_int_equal(type_of("coalesce(null, 'x')"), SL_STRING);
    assert_int_equal(type_of("if(b, i, f)"), SL_FLOAT64);
    assert_int_equal(type_of("abs(i)"), SL_INT64);
    assert_int_equal(type_of("abs(f)"), SL_FLOAT64);
    assert_int_equal(type_of("round(i)"), SL_INT64);
    assert_int_equal(type_of("round(f, 1)"), SL_FLOAT64);
    assert_int_equal(type_of("floor(i)"), SL_INT64);
    assert_int_equal(type_of("sqrt(i)"), SL_FLOAT64);
    assert_int_equal(type_of("len(s)"), SL_INT64);
    assert_int_equal(type_of("upper(s)"), SL_STRING);
    assert_int_equal(type_of("starts_with(s, 'a')"), SL_BOOL);
    assert_int_equal(type_of("month(t)"), SL_INT64);
    assert_int_equal(type_of("d"), SL_DATE);
}

static void test_rebind(void **state)
{
    (void)state;
    sl_expr *e = NULL;
    sl_type t;
    sl_err err;
    assert_int_equal(sl_expr_parse("x + 1", &e, NULL), SL_OK);
    sl_schema *a = sl_schema_new(), *b = sl_schema_new();
    sl_schema_add(a, "x", SL_INT64, 1, NULL);
    sl_schema_add(b, "y", SL_INT64, 1, NULL);
    sl_schema_add(b, "x", SL_FLOAT64, 0, NULL);
    assert_int_equal(sl_expr_bind(e, a, &t, NULL), SL_OK);
    assert_int_equal(t, SL_INT64);
    assert_int_equal(sl_expr_nullable(e), 1); /* overflow */
    assert_int_equal(sl_expr_bind(e, b, &t, NULL), SL_OK);
    assert_int_equal(t, SL_FLOAT64);
    assert_int_equal(sl_expr_nullable(e), 0);
    /* evaluating against a batch whose column has another type fails */
    sl_column *c = NULL;
    sl_err_clear(&err);
    assert_int_equal(sl_expr_eval(e, T, &c, &err), SL_ESCHEMA);
    assert_non_null(strstr(err.msg, "column 'x' (col 1) is not in the batch"));
    sl_expr_free(e);
    assert_int_equal(sl_expr_parse("i + 1", &e, NULL), SL_OK);
    sl_schema *fl = sl_schema_new();
    sl_schema_add(fl, "i", SL_FLOAT64, 1, NULL);
    assert_int_equal(sl_expr_bind(e, fl, &t, NULL), SL_OK);
    assert_int_equal(sl_expr_eval(e, T, &c, &err), SL_ESCHEMA);
    assert_non_null(strstr(err.msg, "is int64 in the batch but the expression was checked against float64"));
    /* unbound */
    sl_expr_free(e);
    assert_int_equal(sl_expr_parse("1", &e, NULL), SL_OK);
    assert_int_equal(sl_expr_eval(e, T, &c, &err), SL_EINVAL);
    sl_expr_free(e);
    sl_schema_free(a);
    sl_schema_free(b);
    sl_schema_free(fl);
}

/* ---- evaluation ---- */

static void test_arith_int(void **state)
{
    (void)state;
    EV("i + 1", "[2, 3, null, -3, null]"); /* INT64_MAX + 1 overflows */
    EV("1 + i", "[2, 3, null, -3, null]");
    EV("i + j", "[4, 2, null, -6, null]");
    EV("i - j", "[-2, 2, null, -2, null]");
    EV("i - i", "[0, 0, null, 0, 0]");
    EV("0 - i", "[-1, -2, null, 4, -9223372036854775807]");
    EV("i - 9223372036854775807 - 2", "[-9223372036854775808, -9223372036854775807, null, null, -2]");
    EV("i * 2", "[2, 4, null, -8, null]");
    EV("i * j", "[3, 0, null, 8, null]");
    EV("-3 * i", "[-3, -6, null, 12, null]");
    EV("i % 3", "[1, 2, null, -1, 1]");
    EV("i % j", "[1, null, null, 0, null]"); /* % 0 is null */
    EV("7 % j", "[1, null, 2, 1, null]");
    EV("i % -1", "[0, 0, null, 0, 0]");
    EV("(-9223372036854775808) % -1", "[0, 0, 0, 0, 0]");
    EV("i % 0", "[null, null, null, null, null]");
    EV("-i", "[-1, -2, null, 4, -9223372036854775807]");
    EV("-(i - 9223372036854775807 - 1)",
       "[9223372036854775807, 9223372036854775806, null, null, 1]");
    EV("-(-9223372036854775807 - 1)", "[null, null, null, null, null]");
    EV("9223372036854775807 + 1", "[null, null, null, null, null]");
}

static void test_arith_float(void **state)
{
    (void)state;
    EV("f * 2", "[3.0, -4.0, null, 0.0, 2e+300]");
    EV("f + i", "[2.5, 0.0, null, -4.0, 1e+300]");
    EV("f - 0.5", "[1.0, -2.5, null, -0.5, 1e+300]");
    EV("f * f", "[2.25, 4.0, null, 0.0, inf]"); /* float overflow is inf */
    EV("i / 2", "[0.5, 1.0, null, -2.0, 4.611686018427388e+18]");
    EV("i / j", "[0.3333333333333333, null, null, 2.0, null]");
    EV("1 / 0", "[null, null, null, null, null]");
    EV("f / 0", "[null, null, null, null, null]");
    EV("f / f", "[1.0, 1.0, null, null, 1.0]");
    EV("1 / f", "[0.6666666666666666, -0.5, null, null, 1e-300]");
    EV("f % 1", "[0.5, -0.0, null, 0.0, 0.0]");
    EV("f % 0.0", "[null, null, null, null, null]");
    EV("7.5 % f", "[0.0, 1.5, null, null, 7.5]");
    EV("-f", "[-1.5, 2.0, null, -0.0, -1e+300]");
    EV("i + null", "[null, null, null, null, null]");
    EV("nul * 2", "[null, null, null, null, null]");
}

static void test_compare(void **state)
{
    (void)state;
    EV("i > 1", "[false, true, null, false, true]");
    EV("1 < i", "[false, true, null, false, true]");
    EV("i >= 2", "[false, true, null, false, true]");
    EV("2 >= i", "[true, true, null, true, false]");
    EV("i = 2", "[false, true, null, false, false]");
    EV("i == 2", "[false, true, null, false, false]");
    EV("i != 2", "[true, false, null, true, true]");
    EV("i <> 2", "[true, false, null, true, true]");
    EV("i <= j", "[true, false, null, true, null]");
    EV("i < j", "[true, false, null, true, null]");
    EV("i > j", "[false, true, null, false, null]");
    EV("i = j", "[false, false, null, false, null]");
    EV("i = 1.0", "[true, false, null, false, false]");
    EV("f < i", "[false, true, null, false, false]");
    EV("f >= 0", "[true, false, null, true, true]");
    EV("i = null", "[null, null, null, null, null]");
    EV("null <> null", "[null, null, null, null, null]");
    /* strings: bytewise, a shorter prefix first */
    EV("s < 'abd'", "[true, true, null, true, false]");
    EV("s = ''", "[false, false, null, true, false]");
    EV("s >= 'ab'", "[true, false, null, false, true]");
    EV("'Hello' = s", "[false, true, null, false, false]");
    EV("s = s", "[true, true, null, true, true]");
    EV("s > lower(s)", "[false, false, null, false, false]");
    EV("s < lower(s)", "[false, true, null, false, false]");
    /* bool: false < true */
    EV("b = true", "[true, false, null, true, false]");
    EV("b < p", "[false, null, null, false, true]");
    EV("b >= p", "[true, null, null, true, false]");
    EV("b != p", "[false, null, null, true, true]");
    EV("false < b", "[true, false, null, true, false]");
    /* dates and timestamps, literals parsed at bind time */
    EV("d > '2000-01-01'", "[true, true, null, false, true]");
    EV("d = '2000/02/29'", "[false, true, null, false, false]");
    EV("'2000-02-29' <= d", "[true, true, null, false, true]");
    EV("d < '2024-01-31 12:00'", "[true, true, null, true, false]");
    EV("t >= '2024-01-31'", "[true, false, null, false, false]");
    EV("t < '1970-01-01T00:00:00Z'", "[false, false, null, true, false]");
    EV("t > '2000-02-28T23:00:00-02:00'", "[true, false, null, false, false]");
    EV("d = t", "[false, true, null, false, false]");
    EV("t >= d", "[true, true, null, true, false]");
    EV("coalesce(d, '1999-01-01') < '2000-01-01'", "[false, false, true, true, false]");
}

static void test_logic(void **state)
{
    (void)state;
    /* b = [T, F, N, T, F], p = [T, N, N, F, T] */
    EV("b and p", "[true, false, null, false, false]");
    EV("b or p", "[true, null, null, true, true]");
    EV("not b", "[false, true, null, false, true]");
    EV("not p", "[false, null, null, true, false]");
    EV("b and null", "[null, false, null, null, false]");
    EV("null and b", "[null, false, null, null, false]");
    EV("b or null", "[true, null, null, true, null]");
    EV("b and true", "[true, false, null, true, false]");
    EV("b or false", "[true, false, null, true, false]");
    EV("b and false", "[false, false, false, false, false]");
    EV("p or true", "[true, true, true, true, true]");
    EV("null and false", "[false, false, false, false, false]");
    EV("null or true", "[true, true, true, true, true]");
    EV("null or false", "[null, null, null, null, null]");
    EV("not null", "[null, null, null, null, null]");
    EV("nul and b", "[null, false, null, null, false]");
    EV("i > 0 and s != ''", "[true, true, null, false, true]");
    EV("i > 0 or j > 0", "[true, true, true, false, true]");
    EV("i is null", "[false, false, true, false, false]");
    EV("i is not null", "[true, true, false, true, true]");
    EV("s is null or s = ''", "[false, false, true, true, false]");
    EV("nul is null", "[true, true, true, true, true]");
    EV("nul is not null", "[false, false, false, false, false]");
    EV("null is not null", "[false, false, false, false, false]");
    EV("1 is null", "[false, false, false, false, false]");
    EV("(i / j) is null", "[false, true, true, false, true]");
}

static void test_functions_math(void **state)
{
    (void)state;
    EV("abs(i)", "[1, 2, null, 4, 9223372036854775807]");
    EV("abs(-9223372036854775807 - 1 + i * 0)", "[null, null, null, null, null]");
    EV("abs(f)", "[1.5, 2.0, null, 0.0, 1e+300]");
    EV("log(f)", "[0.4054651081081644, null, null, null, 690.7755278982137]");
    EV("log(i)", "[0.0, 0.6931471805599453, null, null, 43.66827237527655]");
    EV("exp(0)", "[1.0, 1.0, 1.0, 1.0, 1.0]");
    EV("exp(f * 0)", "[1.0, 1.0, null, 1.0, 1.0]");
    EV("sqrt(f)", "[1.224744871391589, null, null, 0.0, 1e+150]");
    EV("sqrt(-1)", "[null, null, null, null, null]");
    EV("log(0)", "[null, null, null, null, null]");
    EV("floor(f)", "[1.0, -2.0, null, 0.0, 1e+300]");
    EV("ceil(f)", "[2.0, -2.0, null, 0.0, 1e+300]");
    EV("floor(-1.5)", "[-2.0, -2.0, -2.0, -2.0, -2.0]");
    EV("ceil(-1.5)", "[-1.0, -1.0, -1.0, -1.0, -1.0]");
    EV("floor(i)", "[1, 2, null, -4, 9223372036854775807]");
    EV("ceil(i)", "[1, 2, null, -4, 9223372036854775807]");
    /* round: half away from zero, on the decimal the user sees */
    EV("round(f)", "[2.0, -2.0, null, 0.0, 1e+300]");
    EV("round(2.5)", "[3.0, 3.0, 3.0, 3.0, 3.0]");
    EV("round(-2.5)", "[-3.0, -3.0, -3.0, -3.0, -3.0]");
    EV("round(0.5)", "[1.0, 1.0, 1.0, 1.0, 1.0]");
    EV("round(2.675, 2)", "[2.68, 2.68, 2.68, 2.68, 2.68]");
    EV("round(1.005, 2)", "[1.01, 1.01, 1.01, 1.01, 1.01]");
    EV("round(-1.005, 2)", "[-1.01, -1.01, -1.01, -1.01, -1.01]");
    EV("round(0.285, 2)", "[0.29, 0.29, 0.29, 0.29, 0.29]");
    EV("round(9.995, 2)", "[10.0, 10.0, 10.0, 10.0, 10.0]");
    EV("round(1.23456, 3)", "[1.235, 1.235, 1.235, 1.235, 1.235]");
    EV("round(1234.5678, -2)", "[1200.0, 1200.0, 1200.0, 1200.0, 1200.0]");
    EV("round(1250.0, -2)", "[1300.0, 1300.0, 1300.0, 1300.0, 1300.0]");
    EV("round(0.0004, 3)", "[0.0, 0.0, 0.0, 0.0, 0.0]");
    EV("round(f, 400)", "[1.5, -2.0, null, 0.0, 1e+300]");
    EV("round(f, -400)", "[0.0, -0.0, null, 0.0, 0.0]");
    EV("round(i)", "[1, 2, null, -4, 9223372036854775807]");
    EV("round(i, 3)", "[1, 2, null, -4, 9223372036854775807]");
    EV("round(i * 5 + 10, -1)", "[20, 20, null, -10, null]");
    EV("round(15, -1)", "[20, 20, 20, 20, 20]");
    EV("round(-15, -1)", "[-20, -20, -20, -20, -20]");
    EV("round(14, -1)", "[10, 10, 10, 10, 10]");
    EV("round(i, -1)", "[0, 0, null, 0, null]"); /* INT64_MAX rounds up: overflow */
    EV("round(i, -19)", "[0, 0, null, 0, null]");
    EV("round(i, -25)", "[0, 0, null, 0, 0]");
    EV("round(f, null)", "[null, null, null, null, null]");
}

static void test_functions_string(void **state)
{
    (void)state;
    EV("lower(s)", "['abc', 'hello', null, '', 'h\xc3\xa9llo']");
    EV("upper(s)", "['ABC', 'HELLO', null, '', 'H\xc3\xa9LLO']");
    EV("upper('mIxEd 123_@[`{')", "['MIXED 123_@[`{', 'MIXED 123_@[`{', 'MIXED 123_@[`{', "
                                   "'MIXED 123_@[`{', 'MIXED 123_@[`{']");
    EV("len(s)", "[3, 5, null, 0, 5]");
    EV("len('h\xc3\xa9llo')", "[5, 5, 5, 5, 5]");
    EV("contains(s, 'l')", "[false, true, null, false, true]");
    EV("contains(s, 'llo')", "[false, true, null, false, true]");
    EV("contains(s, '')", "[true, true, null, true, true]");
    EV("contains(s, 'abcd')", "[false, false, null, false, false]");
    EV("contains('xxabc', s)", "[true, false, null, true, false]");
    EV("starts_with(s, 'H')", "[false, true, null, false, false]");
    EV("starts_with(s, '')", "[true, true, null, true, true]");
    EV("ends_with(s, 'lo')", "[false, true, null, false, true]");
    EV("ends_with(s, s)", "[true, true, null, true, true]");
    EV("starts_with(lower(s), lower('HE'))", "[false, true, null, false, false]");
    EV("contains(s, null)", "[null, null, null, null, null]");
    EV("lower(null)", "[null, null, null, null, null]");
    EV("coalesce(s, 'none')", "['abc', 'Hello', 'none', '', 'h\xc3\xa9llo']");
}

static void test_functions_time(void **state)
{
    (void)state;
    /* d = 2024-01-31, 2000-02-29, null, 1969-12-31, 2024-12-31 */
    EV("year(d)", "[2024, 2000, null, 1969, 2024]");
    EV("month(d)", "[1, 2, null, 12, 12]");
    EV("day(d)", "[31, 29, null, 31, 31]");
    EV("dayofweek(d)", "[2, 1, null, 2, 1]"); /* Wed, Tue, -, Wed, Tue */
    EV("dayofyear(d)", "[31, 60, null, 365, 366]");
    EV("hour(d)", "[0, 0, null, 0, 0]");
    /* t = 2024-01-31T13:45:30.5Z, 2000-02-29T00:00Z, null,
     *     1969-12-31T23:59:59Z, 1970-01-01T00:00Z */
    EV("year(t)", "[2024, 2000, null, 1969, 1970]");
    EV("month(t)", "[1, 2, null, 12, 1]");
    EV("day(t)", "[31, 29, null, 31, 1]");
    EV("hour(t)", "[13, 0, null, 23, 0]");
    EV("minute(t)", "[45, 0, null, 59, 0]");
    EV("second(t)", "[30, 0, null, 59, 0]");
    EV("dayofweek(t)", "[2, 1, null, 2, 3]");
    EV("dayofyear(t)", "[31, 60, null, 365, 1]");
    EV("year('2021-06-15')", "[2021, 2021, 2021, 2021, 2021]");
    EV("hour('2021-06-15 08:30')", "[8, 8, 8, 8, 8]");
    EV("month(nul)", "[null, null, null, null, null]");
}

static void test_coalesce_if(void **state)
{
    (void)state;
    EV("coalesce(i, 0)", "[1, 2, 0, -4, 9223372036854775807]");
    EV("coalesce(j, i, 99)", "[3, 0, 5, -2, 9223372036854775807]");
    EV("coalesce(i + 1, j, -1)", "[2, 3, 5, -3, -1]");
    EV("coalesce(i, j)", "[1, 2, 5, -4, 9223372036854775807]");
    EV("coalesce(null, i)", "[1, 2, null, -4, 9223372036854775807]");
    EV("coalesce(nul, null, 7)", "[7, 7, 7, 7, 7]");
    EV("coalesce(f, i)", "[1.5, -2.0, null, 0.0, 1e+300]");
    EV("coalesce(i, f)", "[1.0, 2.0, null, -4.0, 9.223372036854776e+18]");
    EV("coalesce(p, b)", "[true, false, null, false, true]");
    EV("coalesce(d, t)", "[2024-01-31T00:00:00Z, 2000-02-29T00:00:00Z, null, "
                         "1969-12-31T00:00:00Z, 2024-12-31T00:00:00Z]");
    EV("coalesce(d, '1999-01-01')", "[2024-01-31, 2000-02-29, 1999-01-01, 1969-12-31, 2024-12-31]");
    EV("coalesce(i)", "[1, 2, null, -4, 9223372036854775807]");
    EV("coalesce(age, 0)", "[15, 16, 17, 18, 19]");
    EV("if(b, 1, 2)", "[1, 2, 2, 1, 2]"); /* a null condition takes the else branch */
    EV("if(b, i, j)", "[1, 0, 5, -4, null]");
    EV("if(i > 0, i, null)", "[1, 2, null, null, 9223372036854775807]");
    EV("if(b, s, 'none')", "['abc', 'none', 'none', '', 'none']");
    EV("if(p, 'yes', s)", "['yes', 'Hello', null, '', 'yes']");
    EV("if(b, f, 0)", "[1.5, 0.0, 0.0, 0.0, 0.0]");
    EV("if(b, d, '2000-01-01')", "[2024-01-31, 2000-01-01, 2000-01-01, 1969-12-31, 2000-01-01]");
    EV("if(b, p, not p)", "[true, null, null, false, false]");
    EV("if(true, i, j)", "[1, 2, null, -4, 9223372036854775807]");
    EV("if(null, i, j)", "[3, 0, 5, -2, null]");
    EV("if(age > 0, 'all', 'none')", "['all', 'all', 'all', 'all', 'all']");
    EV("if(age < 0, 'all', s)", "['abc', 'Hello', null, '', 'h\xc3\xa9llo']");
    EV("if(b, null, null)", "[null, null, null, null, null]");
    /* fuzz finding: an all-null column as the condition */
    EV("if(nul, s, 'yt')", "['yt', 'yt', 'yt', 'yt', 'yt']");
    EV("coalesce(nul, nul)", "[null, null, null, null, null]");
    EV("if(b, nul, nul)", "[null, null, null, null, null]");
}

/* Constant subtrees are evaluated once at bind time (white-box: the
 * bound tree is inspected through the internal header). */
static const ex_node *bound_root(const char *text, sl_expr **e)
{
    assert_int_equal(sl_expr_parse(text, e, NULL), SL_OK);
    assert_int_equal(sl_expr_bind(*e, T->schema, NULL, NULL), SL_OK);
    return (*e)->bound;
}

static void test_folding(void **state)
{
    (void)state;
    sl_expr *e;
    const ex_node *r = bound_root("1 + 2 * 3 - 4 / 2", &e);
    assert_int_equal(r->kind, EX_LIT);
    assert_true(r->lit.f == 5.0);
    sl_expr_free(e);
    r = bound_root("i + (2 * 3)", &e);
    assert_int_equal(r->kind, EX_ARITH);
    assert_int_equal(r->args[1]->kind, EX_LIT);
    assert_true(r->args[1]->lit.i == 6);
    sl_expr_free(e);
    r = bound_root("upper('ab') = 'AB' and len('xyz') = 3", &e);
    assert_int_equal(r->kind, EX_LIT);
    assert_int_equal(r->lit.i, 1);
    sl_expr_free(e);
    r = bound_root("i * f", &e); /* int64 operand cast to float64 */
    assert_int_equal(r->args[0]->kind, EX_CAST);
    sl_expr_free(e);
    r = bound_root("i * 2.5 > f + (i / 0)", &e); /* i / 0 is a null constant */
    assert_int_equal(r->kind, EX_LIT);
    assert_int_equal(r->lit.null, 1);
    sl_expr_free(e);
    r = bound_root("d > '2024-01-01'", &e); /* the literal became a date */
    assert_int_equal(r->args[1]->kind, EX_LIT);
    assert_int_equal(r->args[1]->lit.type, SL_DATE);
    sl_expr_free(e);
    r = bound_root("coalesce(null, i, 3, j)", &e); /* nulls and unreachable args dropped */
    assert_int_equal(r->nargs, 2);
    sl_expr_free(e);
    EV("1 + 2 * 3 - 4 / 2", "[5.0, 5.0, 5.0, 5.0, 5.0]");
}

/* A wider batch with nulls everywhere checks the bitmap loops at every
 * offset against a per-row reference. */
static void test_random_vs_reference(void **state)
{
    (void)state;
    const int64_t n = 1000 + 3;
    sl_schema *s = sl_schema_new();
    sl_schema_add(s, "a", SL_INT64, 1, NULL);
    sl_schema_add(s, "x", SL_FLOAT64, 1, NULL);
    sl_schema_add(s, "q", SL_BOOL, 1, NULL);
    sl_batch *b = sl_batch_new(s, n);
    sl_schema_free(s);
    uint64_t st = 12345;
    for (int64_t i = 0; i < n; i++) {
        st = st * 6364136223846793005ull + 1442695040888963407ull;
        int r = (int)(st >> 33);
        if (r % 7 == 0)
            sl_column_append_null(b->cols[0]);
        else
            sl_column_append_int64(b->cols[0], (r % 2001) - 1000);
        if (r % 5 == 0)
            sl_column_append_null(b->cols[1]);
        else
            sl_column_append_float64(b->cols[1], ((r >> 3) % 1000) / 10.0);
        if (r % 3 == 0)
            sl_column_append_null(b->cols[2]);
        else
            sl_column_append_bool(b->cols[2], (r >> 5) & 1);
    }
    assert_int_equal(sl_batch_seal(b, NULL), 0);
    sl_expr *e = NULL;
    sl_column *c = NULL;
    assert_int_equal(sl_expr_parse("a * 3 + 7 > x and not q or a % 4 = 1", &e, NULL), 0);
    assert_int_equal(sl_expr_bind(e, b->schema, NULL, NULL), 0);
    assert_int_equal(sl_expr_eval(e, b, &c, NULL), 0);
    check_invariants(c, n);
    for (int64_t i = 0; i < n; i++) {
        /* three-valued reference: -1 = null */
        const sl_column *A = b->cols[0], *X = b->cols[1], *Q = b->cols[2];
        int cmp = (sl_col_valid(A, i) && sl_col_valid(X, i))
                      ? (double)(sl_col_i64(A, i) * 3 + 7) > sl_col_f64(X, i)
                      : -1;
        int nq = sl_col_valid(Q, i) ? !sl_col_bool(Q, i) : -1;
        int and_ = (cmp == 0 || nq == 0) ? 0 : (cmp == 1 && nq == 1) ? 1 : -1;
        int mod = sl_col_valid(A, i) ? sl_col_i64(A, i) % 4 == 1 : -1;
        int want = (and_ == 1 || mod == 1) ? 1 : (and_ == 0 && mod == 0) ? 0 : -1;
        int got = sl_col_valid(c, i) ? sl_col_bool(c, i) : -1;
        assert_int_equal(got, want);
    }
    sl_column_unref(c);
    /* empty batch */
    sl_batch *empty = sl_batch_new(b->schema, 0);
    assert_int_equal(sl_batch_seal(empty, NULL), 0);
    assert_int_equal(sl_expr_eval(e, empty, &c, NULL), 0);
    assert_int_equal(c->length, 0);
    sl_column_unref(c);
    sl_batch_unref(empty);
    sl_expr_free(e);
    sl_batch_unref(b);
}

/* Every allocation failure is reported as SL_ENOMEM without leaks or
 * crashes (the sanitizer build checks the leaks). */
static void test_alloc_failure(void **state)
{
    (void)state;
    const char *texts[] = {
        "coalesce(i + 1, j, -1) * 2 > f and lower(s) = 'abc' or b",
        "if(b, upper(s), 'x') = 'ABC' or year(d) > 2000 and contains(s, 'l')",
        "round(f, 2) + log(f) + abs(i) > len(coalesce(s, 'z')) / sqrt(i)",
        "agee > 1",
    };
    for (size_t k = 0; k < sizeof texts / sizeof texts[0]; k++) {
        int ok = 0;
        for (long fail = 0; fail < 500 && !ok; fail++) {
            sl_expr *e = NULL;
            sl_column *c = NULL;
            sl_err err;
            sl_err_clear(&err);
            sl_mem_fail_after(fail);
            sl_rc rc = sl_expr_parse(texts[k], &e, &err);
            if (rc == SL_OK)
                rc = sl_expr_bind(e, T->schema, NULL, &err);
            if (rc == SL_OK)
                rc = sl_expr_eval(e, T, &c, &err);
            sl_mem_fail_after(-1);
            if (rc == SL_OK || rc == SL_ESCHEMA)
                ok = 1;
            else if (rc != SL_ENOMEM)
                fail_msg("%s: fail after %ld: rc %d: %s", texts[k], fail, rc, err.msg);
            sl_column_unref(c);
            sl_expr_free(e);
        }
        assert_true(ok);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_precedence),
        cmocka_unit_test(test_literals),
        cmocka_unit_test(test_identifiers),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_bind_errors),
        cmocka_unit_test(test_types),
        cmocka_unit_test(test_rebind),
        cmocka_unit_test(test_arith_int),
        cmocka_unit_test(test_arith_float),
        cmocka_unit_test(test_compare),
        cmocka_unit_test(test_logic),
        cmocka_unit_test(test_functions_math),
        cmocka_unit_test(test_functions_string),
        cmocka_unit_test(test_functions_time),
        cmocka_unit_test(test_coalesce_if),
        cmocka_unit_test(test_folding),
        cmocka_unit_test(test_random_vs_reference),
        cmocka_unit_test(test_alloc_failure),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
