/*
 * jsonl_test_util.h: helpers shared by test_jsonl.c and test_jsonl_write.c
 * (temporary directory, files, rendering batches as text, reading a text
 * through the reader). Functions are static and marked unused so each test
 * file takes what it needs.
 */
#ifndef SL_JSONL_TEST_UTIL_H
#define SL_JSONL_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "sluice/batch.h"
#include "sluice/config_map.h"
#include "sluice/jsonl.h"
#include "sluice/log.h"
#include "sluice/mem.h"
#include "sluice/plugin.h"
#include "sluice/schema.h"
#include "sluice/value.h"

/* ------------------------------------------------------------------ */
/* helpers                                                             */

static char tmpdir[256];

static __attribute__((unused)) int setup_dir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/sl_jsonl_XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    sl_log_setup(SL_LOG_ERROR, SL_LOG_TEXT); /* keep expected warnings quiet */
    return 0;
}

static __attribute__((unused)) int teardown_dir(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static __attribute__((unused)) const char *tpath(const char *name)
{
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
    return buf[k];
}

static __attribute__((unused)) void write_file(const char *path, const char *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
}

static __attribute__((unused)) char *read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc(1 << 20);
    size_t k = fread(buf, 1, (1 << 20) - 1, f);
    buf[k] = '\0';
    fclose(f);
    if (n)
        *n = k;
    return buf;
}

/* Appends a readable rendering of every row of b to out: values separated
 * by '|', rows by '\n', null as "~". */
static __attribute__((unused)) void dump_batch(const sl_batch *b, char *out, size_t cap)
{
    size_t len = strlen(out);
    char v[SL_FMT_MAX + 8];
    for (int64_t i = 0; i < b->nrows; i++) {
        for (int j = 0; j < b->schema->n; j++) {
            const sl_column *c = b->cols[j];
            const char *s = v;
            size_t n;
            if (!sl_col_valid(c, i) || c->type == SL_NULL) {
                s = "~";
                n = 1;
            } else {
                switch (c->type) {
                case SL_BOOL: s = sl_col_bool(c, i) ? "true" : "false"; n = strlen(s); break;
                case SL_INT64: n = (size_t)sl_format_int64(sl_col_i64(c, i), v); break;
                case SL_FLOAT64: n = (size_t)sl_format_float64(sl_col_f64(c, i), v); break;
                case SL_DATE: n = (size_t)sl_format_date(sl_col_i32(c, i), v); break;
                case SL_TIMESTAMP: n = (size_t)sl_format_timestamp(sl_col_i64(c, i), v); break;
                default: s = sl_col_str(c, i, &n); break;
                }
            }
            if (len + n + 2 < cap) {
                if (j)
                    out[len++] = '|';
                memcpy(out + len, s, n);
                len += n;
            }
        }
        if (len + 1 < cap)
            out[len++] = '\n';
    }
    out[len] = '\0';
}

typedef struct result {
    sl_rc rc;   /* of open, or of the failing next, or SL_OK */
    sl_err err;
    char schema[512]; /* "a:int64,b:string" */
    char rows[8192];
    int64_t nrows, rejected, batches;
} result;

static __attribute__((unused)) void schema_str(const sl_schema *s, char *out, size_t cap)
{
    out[0] = '\0';
    for (int i = 0; i < s->n; i++) {
        size_t len = strlen(out);
        snprintf(out + len, cap - len, "%s%s:%s", i ? "," : "", s->fields[i].name,
                 sl_type_name(s->fields[i].type));
    }
}

/* Reads text from memory with the given options (NULL = defaults) and
 * override; fills res. */
static __attribute__((unused)) void run_reader(const char *text, size_t n, const sl_jsonl_options *o,
                       const sl_schema *ovr, result *res)
{
    sl_jsonl_reader *r = NULL;
    sl_batch *b;
    memset(res, 0, sizeof *res);
    sl_err_clear(&res->err);
    res->rc = sl_jsonl_reader_open_mem(text, n, "t.jsonl", o, ovr, &r, &res->err);
    if (res->rc != SL_OK)
        return;
    schema_str(sl_jsonl_reader_schema(r), res->schema, sizeof res->schema);
    sl_rc rc;
    while ((rc = sl_jsonl_reader_next(r, &b, &res->err)) == SL_OK) {
        assert_int_equal(b->schema->n, sl_jsonl_reader_schema(r)->n);
        for (int j = 0; j < b->schema->n; j++) {
            assert_int_equal(b->cols[j]->length, b->nrows);
            int64_t nulls = 0;
            for (int64_t i = 0; i < b->nrows; i++)
                nulls += !sl_col_valid(b->cols[j], i);
            assert_int_equal(nulls, b->cols[j]->null_count);
        }
        dump_batch(b, res->rows, sizeof res->rows);
        res->nrows += b->nrows;
        res->batches++;
        sl_batch_unref(b);
    }
    res->rc = rc == SL_EEOF ? SL_OK : rc;
    res->rejected = sl_jsonl_reader_rejected(r);
    assert_int_equal(sl_jsonl_reader_rows(r), res->nrows);
    sl_jsonl_reader_close(r, NULL);
}

/* Options of run_text: defaults, or infer_rows 1 so that values after the
 * first line can contradict the inferred types. */
static __attribute__((unused)) int g_infer_one;

static __attribute__((unused)) void run_text(const char *text, result *res)
{
    sl_jsonl_options o;
    sl_jsonl_options_init(&o);
    if (g_infer_one)
        o.infer_rows = 1;
    run_reader(text, strlen(text), &o, NULL, res);
}

static __attribute__((unused)) void expect_ok(const char *text, const char *schema, const char *rows)
{
    result res;
    run_text(text, &res);
    if (res.rc != SL_OK)
        fail_msg("unexpected error: %s (line %lld col %lld)", res.err.msg,
                 (long long)res.err.line, (long long)res.err.col);
    assert_string_equal(res.schema, schema);
    assert_string_equal(res.rows, rows);
}

/* The read fails with code at line:col naming field, and the message
 * contains want. */
static __attribute__((unused)) void expect_err(const char *text, sl_rc code, int64_t line, int64_t col,
                       const char *field, const char *want)
{
    result res;
    run_text(text, &res);
    if (res.rc != code || !strstr(res.err.msg, want))
        fail_msg("rc %d (want %d), message: %s (want: %s)", res.rc, code,
                 res.err.msg, want);
    assert_string_equal(res.err.file, "t.jsonl");
    assert_int_equal(res.err.line, line);
    assert_int_equal(res.err.col, col);
    assert_string_equal(res.err.field, field);
    assert_true(res.err.offset >= 0);
}

static __attribute__((unused)) sl_schema *schema_of(const char *spec)
{
    /* "a:int64,b:string" */
    sl_schema *s = sl_schema_new();
    char buf[256];
    snprintf(buf, sizeof buf, "%s", spec);
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        char *colon = strchr(tok, ':');
        *colon = '\0';
        sl_type t;
        assert_int_equal(sl_type_parse(colon + 1, &t), SL_OK);
        assert_int_equal(sl_schema_add(s, tok, t, 1, NULL), SL_OK);
    }
    return s;
}

#endif
