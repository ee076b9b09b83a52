/*
 * tf_test_util.h: helpers for the transform unit tests (test_transforms*.c):
 * build in-memory batches, configure a transform plugin from YAML text the
 * way a spec does, fit it, round-trip its state through JSON text, apply it
 * and compare batches bit for bit.
 *
 * Included by cmocka test files only (after <cmocka.h>).
 */
#ifndef TF_TEST_UTIL_H
#define TF_TEST_UTIL_H

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/batch.h"
#include "sluice/config_map.h"
#include "sluice/mem.h"
#include "sluice/node.h"
#include "sluice/plugin.h"

extern const sl_plugin sl_plugin_select, sl_plugin_drop, sl_plugin_rename,
    sl_plugin_cast, sl_plugin_impute, sl_plugin_scale, sl_plugin_onehot,
    sl_plugin_vocabulary, sl_plugin_hash, sl_plugin_bucketize, sl_plugin_clip;

/* Sentinels meaning "null" in the column builders below. */
#define NUL_F (-8.125e301)
#define NUL_I (INT64_MIN + 7)

static inline sl_column *col_f64(const double *v, int n)
{
    sl_column *c = sl_column_new(SL_FLOAT64, n);
    for (int i = 0; i < n; i++) {
        if (v[i] == NUL_F)
            assert_int_equal(sl_column_append_null(c), SL_OK);
        else
            assert_int_equal(sl_column_append_float64(c, v[i]), SL_OK);
    }
    return c;
}

static inline sl_column *col_i64t(sl_type t, const int64_t *v, int n)
{
    sl_column *c = sl_column_new(t, n);
    for (int i = 0; i < n; i++) {
        if (v[i] == NUL_I)
            assert_int_equal(sl_column_append_null(c), SL_OK);
        else if (t == SL_DATE)
            assert_int_equal(sl_column_append_int32(c, (int32_t)v[i]), SL_OK);
        else if (t == SL_BOOL)
            assert_int_equal(sl_column_append_bool(c, (int)v[i]), SL_OK);
        else
            assert_int_equal(sl_column_append_int64(c, v[i]), SL_OK);
    }
    return c;
}

static inline sl_column *col_str(const char *const *v, int n)
{
    sl_column *c = sl_column_new(SL_STRING, n);
    for (int i = 0; i < n; i++) {
        if (!v[i])
            assert_int_equal(sl_column_append_null(c), SL_OK);
        else
            assert_int_equal(sl_column_append_str(c, v[i], strlen(v[i])),
                             SL_OK);
    }
    return c;
}

#define NARGS(T, ...) ((int)(sizeof((T[]){__VA_ARGS__}) / sizeof(T)))
#define F64(...) col_f64((double[]){__VA_ARGS__}, NARGS(double, __VA_ARGS__))
#define I64(...)                                                             \
    col_i64t(SL_INT64, (int64_t[]){__VA_ARGS__}, NARGS(int64_t, __VA_ARGS__))
#define BOOL(...)                                                            \
    col_i64t(SL_BOOL, (int64_t[]){__VA_ARGS__}, NARGS(int64_t, __VA_ARGS__))
#define DATE(...)                                                            \
    col_i64t(SL_DATE, (int64_t[]){__VA_ARGS__}, NARGS(int64_t, __VA_ARGS__))
#define TS(...)                                                              \
    col_i64t(SL_TIMESTAMP, (int64_t[]){__VA_ARGS__},                         \
             NARGS(int64_t, __VA_ARGS__))
#define STR(...)                                                             \
    col_str((const char *[]){__VA_ARGS__}, NARGS(const char *, __VA_ARGS__))

/* batch("a", col, "b", col, NULL): takes over the column references. */
static inline sl_batch *batch(const char *name, ...)
{
    va_list ap;
    sl_batch *b = sl_batch_new(NULL, 0);
    assert_non_null(b);
    va_start(ap, name);
    for (const char *n = name; n; n = va_arg(ap, const char *)) {
        sl_column *c = va_arg(ap, sl_column *);
        assert_int_equal(sl_batch_add_column(b, n, c, NULL), SL_OK);
    }
    va_end(ap);
    return b;
}

/* A transform instance configured from YAML, e.g. tf_new(&t, &sl_plugin_
 * impute, "{columns: [x], strategy: median}"). The text is the value of
 * the plugin's key on line 1 of "spec.yaml", starting at column 4. */
typedef struct tf {
    const sl_plugin *p;
    sl_doc *doc;
    void *cfg;
    void *h;
    sl_schema *out;
    int opened;
    sl_err err;
} tf;

static inline sl_rc tf_new(tf *t, const sl_plugin *p, const char *yaml)
{
    char text[4096];
    memset(t, 0, sizeof *t);
    t->p = p;
    snprintf(text, sizeof text, "t: %s\n", yaml);
    sl_rc rc = sl_yaml_load_string(text, strlen(text), "spec.yaml", &t->doc,
                                   &t->err);
    if (rc != SL_OK)
        return rc;
    t->cfg = calloc(1, p->config_size);
    rc = sl_config_apply(p->config_map, t->doc->root->items[0], t->cfg,
                         &t->err);
    if (rc != SL_OK)
        return rc;
    sl_ctx ctx = {.spec_file = "spec.yaml"};
    return p->init(&t->h, t->cfg, &ctx, &t->err);
}

static inline void tf_free(tf *t)
{
    if (t->h && t->p->destroy)
        t->p->destroy(t->h);
    if (t->cfg)
        sl_config_free(t->p->config_map, t->cfg);
    free(t->cfg);
    sl_doc_free(t->doc);
    sl_schema_free(t->out);
    memset(t, 0, sizeof *t);
}

/* tf_new that must succeed. */
static inline void tf_ok(tf *t, const sl_plugin *p, const char *yaml)
{
    sl_rc rc = tf_new(t, p, yaml);
    if (rc != SL_OK)
        fail_msg("%s: %s", p->name, t->err.msg);
}

/* analyze over the batches (not consumed) + analyze_end. */
static inline sl_rc tf_fit(tf *t, sl_batch *const *bs, int n)
{
    for (int i = 0; i < n; i++) {
        sl_rc rc = t->p->analyze(t->h, bs[i], &t->err);
        if (rc != SL_OK)
            return rc;
    }
    return t->p->analyze_end(t->h, &t->err);
}

static inline void tf_fit_ok(tf *t, sl_batch *const *bs, int n)
{
    if (tf_fit(t, bs, n) != SL_OK)
        fail_msg("fit %s: %s", t->p->name, t->err.msg);
}

static inline sl_rc tf_open(tf *t, const sl_schema *in)
{
    sl_schema_free(t->out);
    t->out = NULL;
    sl_rc rc = t->p->open(t->h, in, &t->out, &t->err);
    t->opened = rc == SL_OK;
    return rc;
}

/* Opens (once) on b's schema and processes a new reference of b. */
static inline sl_rc tf_apply(tf *t, sl_batch *b, sl_batch **out)
{
    *out = NULL;
    if (!t->opened) {
        sl_rc rc = tf_open(t, b->schema);
        if (rc != SL_OK)
            return rc;
    }
    return t->p->process(t->h, sl_batch_ref(b), out, &t->err);
}

static inline sl_batch *tf_apply_ok(tf *t, sl_batch *b)
{
    sl_batch *out = NULL;
    if (tf_apply(t, b, &out) != SL_OK)
        fail_msg("apply %s: %s", t->p->name, t->err.msg);
    assert_true(sl_schema_equal(out->schema, t->out));
    return out;
}

/* Dumps the state of `from` to JSON text (jansson's default: 17 digits). */
static inline char *tf_state_text(tf *from)
{
    json_t *state = NULL;
    if (from->p->state_save(from->h, &state, &from->err) != SL_OK)
        fail_msg("state_save %s: %s", from->p->name, from->err.msg);
    char *text = json_dumps(state, JSON_COMPACT);
    assert_non_null(text);
    json_decref(state);
    return text;
}

/* A new instance `to` with the same YAML, loaded from JSON text. */
static inline sl_rc tf_load_text(tf *to, const sl_plugin *p, const char *yaml,
                          const char *text)
{
    json_error_t jerr;
    tf_ok(to, p, yaml);
    json_t *state = json_loads(text, JSON_DECODE_ANY, &jerr);
    if (!state)
        fail_msg("bad JSON in test: %s: %s", jerr.text, text);
    sl_rc rc = p->state_load(to->h, state, &to->err);
    json_decref(state);
    return rc;
}

/* Save -> text -> load into a fresh instance. */
static inline void tf_roundtrip(tf *from, tf *to, const char *yaml)
{
    char *text = tf_state_text(from);
    if (tf_load_text(to, from->p, yaml, text) != SL_OK)
        fail_msg("state_load %s: %s\nstate: %s", from->p->name, to->err.msg,
                 text);
    free(text);
}

/* ---- comparing ---- */

static inline void assert_columns_identical(const sl_column *a, const sl_column *b)
{
    assert_int_equal(a->type, b->type);
    assert_int_equal(a->length, b->length);
    assert_int_equal(a->null_count, b->null_count);
    for (int64_t i = 0; i < a->length; i++) {
        assert_int_equal(sl_col_valid(a, i), sl_col_valid(b, i));
        switch (a->type) {
        case SL_BOOL:
            assert_int_equal(sl_col_bool(a, i), sl_col_bool(b, i));
            break;
        case SL_INT64:
        case SL_TIMESTAMP:
        case SL_FLOAT64: /* bit patterns */
            assert_memory_equal((const char *)a->values + 8 * i,
                                (const char *)b->values + 8 * i, 8);
            break;
        case SL_DATE:
            assert_int_equal(sl_col_i32(a, i), sl_col_i32(b, i));
            break;
        case SL_STRING: {
            size_t la, lb;
            const char *sa = sl_col_str(a, i, &la), *sb = sl_col_str(b, i, &lb);
            assert_int_equal(la, lb);
            if (la)
                assert_memory_equal(sa, sb, la);
            break;
        }
        default:
            break;
        }
    }
}

static inline void assert_batches_identical(const sl_batch *a, const sl_batch *b)
{
    assert_true(sl_schema_equal(a->schema, b->schema));
    assert_int_equal(a->nrows, b->nrows);
    for (int j = 0; j < a->schema->n; j++)
        assert_columns_identical(a->cols[j], b->cols[j]);
}

static inline const sl_column *colnamed(const sl_batch *b, const char *name)
{
    int j = sl_batch_find(b, name);
    if (j < 0)
        fail_msg("no column '%s'", name);
    return b->cols[j];
}

/* Expected float64 values (NUL_F = null; NaN compares as NaN), exactly. */
static inline void expect_f64(const sl_column *c, const double *v, int n)
{
    assert_int_equal(c->type, SL_FLOAT64);
    assert_int_equal(c->length, n);
    for (int i = 0; i < n; i++) {
        if (v[i] == NUL_F) {
            assert_false(sl_col_valid(c, i));
            continue;
        }
        assert_true(sl_col_valid(c, i));
        double x = sl_col_f64(c, i);
        if (isnan(v[i]))
            assert_true(isnan(x));
        else if (x != v[i])
            fail_msg("row %d: got %.17g, want %.17g", i, x, v[i]);
    }
}

/* Within a relative tolerance (for values computed by numpy). */
static inline void expect_f64_near(const sl_column *c, const double *v, int n,
                            double rel)
{
    assert_int_equal(c->type, SL_FLOAT64);
    assert_int_equal(c->length, n);
    for (int i = 0; i < n; i++) {
        if (v[i] == NUL_F) {
            assert_false(sl_col_valid(c, i));
            continue;
        }
        double x = sl_col_f64(c, i);
        if (fabs(x - v[i]) > rel * (fabs(v[i]) > 1 ? fabs(v[i]) : 1))
            fail_msg("row %d: got %.17g, want %.17g", i, x, v[i]);
    }
}

static inline void expect_i64(const sl_column *c, const int64_t *v, int n)
{
    assert_int_equal(c->type, SL_INT64);
    assert_int_equal(c->length, n);
    for (int i = 0; i < n; i++) {
        if (v[i] == NUL_I) {
            assert_false(sl_col_valid(c, i));
            continue;
        }
        assert_true(sl_col_valid(c, i));
        if (sl_col_i64(c, i) != v[i])
            fail_msg("row %d: got %lld, want %lld", i,
                     (long long)sl_col_i64(c, i), (long long)v[i]);
    }
}

static inline void expect_str(const sl_column *c, const char *const *v, int n)
{
    assert_int_equal(c->type, SL_STRING);
    assert_int_equal(c->length, n);
    for (int i = 0; i < n; i++) {
        if (!v[i]) {
            assert_false(sl_col_valid(c, i));
            continue;
        }
        size_t len;
        const char *s = sl_col_str(c, i, &len);
        if (len != strlen(v[i]) || memcmp(s, v[i], len) != 0)
            fail_msg("row %d: got '%.*s', want '%s'", i, (int)len, s, v[i]);
    }
}

#define EXPECT_F64(c, ...)                                                   \
    expect_f64((c), (double[]){__VA_ARGS__}, NARGS(double, __VA_ARGS__))
#define EXPECT_F64_NEAR(c, rel, ...)                                         \
    expect_f64_near((c), (double[]){__VA_ARGS__}, NARGS(double, __VA_ARGS__), \
                    (rel))
#define EXPECT_I64(c, ...)                                                   \
    expect_i64((c), (int64_t[]){__VA_ARGS__}, NARGS(int64_t, __VA_ARGS__))
#define EXPECT_STR(c, ...)                                                   \
    expect_str((c), (const char *[]){__VA_ARGS__},                           \
               NARGS(const char *, __VA_ARGS__))

/* The error message contains `sub`. */
#define assert_err_has(e, sub)                                               \
    do {                                                                     \
        if (!strstr((e)->msg, (sub)))                                        \
            fail_msg("error '%s' lacks '%s'", (e)->msg, (sub));              \
    } while (0)

/* Fit on bs, apply to `apply`, also through a saved/loaded state, and check
 * both outputs are bit-identical; returns the first output. */
static inline sl_batch *fit_apply_roundtrip(const sl_plugin *p, const char *yaml,
                                     sl_batch *const *bs, int n,
                                     sl_batch *apply)
{
    tf a, b;
    tf_ok(&a, p, yaml);
    tf_fit_ok(&a, bs, n);
    sl_batch *o1 = tf_apply_ok(&a, apply);
    tf_roundtrip(&a, &b, yaml);
    sl_batch *o2 = tf_apply_ok(&b, apply);
    assert_true(sl_schema_equal(a.out, b.out));
    assert_batches_identical(o1, o2);
    sl_batch_unref(o2);
    tf_free(&a);
    tf_free(&b);
    return o1;
}

/* The state text after fitting on bs. */
static inline char *fitted_state(const sl_plugin *p, const char *yaml,
                          sl_batch *const *bs, int n)
{
    tf a;
    tf_ok(&a, p, yaml);
    tf_fit_ok(&a, bs, n);
    char *text = tf_state_text(&a);
    tf_free(&a);
    return text;
}

/* Loading `state` (JSON text) fails with a message containing `sub`. */
static inline void expect_bad_state(const sl_plugin *p, const char *yaml,
                             const char *state, const char *sub)
{
    tf t;
    sl_rc rc = tf_load_text(&t, p, yaml, state);
    if (rc == SL_OK)
        fail_msg("state accepted: %s", state);
    assert_err_has(&t.err, sub);
    assert_err_has(&t.err, p->name);
    tf_free(&t);
}

#endif
