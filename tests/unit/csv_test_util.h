/*
 * csv_test_util.h: helpers shared by the CSV unit tests (header-only, all
 * static): scratch files, reading a whole file into one text table, and
 * rendering cells as text so assertions stay readable.
 */
#ifndef SLUICE_CSV_TEST_UTIL_H
#define SLUICE_CSV_TEST_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sluice/csv.h"
#include "sluice/value.h"

static char scratch_dir[256];

static inline int scratch_setup(void **state)
{
    (void)state;
    snprintf(scratch_dir, sizeof scratch_dir, "/tmp/sl_csv_test_XXXXXX");
    return mkdtemp(scratch_dir) ? 0 : -1;
}

static inline int scratch_teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", scratch_dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Path of a scratch file (static buffer rotation: up to 4 live names). */
static inline const char *spath(const char *name)
{
    static char bufs[4][400];
    static int k;
    char *b = bufs[k++ % 4];
    snprintf(b, 400, "%s/%s", scratch_dir, name);
    return b;
}

static inline const char *write_file(const char *name, const char *data, size_t n)
{
    const char *p = spath(name);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
    return p;
}
#define WRITE(name, lit) write_file(name, lit, sizeof(lit) - 1)

static inline char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t cap = 0, len = 0;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            cap = (len + 4096 + 1) * 2;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
        size_t r = fread(buf + len, 1, cap - len - 1, f);
        if (r == 0)
            break;
        len += r;
    }
    fclose(f);
    buf[len] = '\0';
    if (n)
        *n = len;
    return buf;
}

/* Cell as text: "NULL" for null, else the value.h formatting. */
static inline void cell(const sl_batch *b, int col, int64_t row, char *out, size_t cap)
{
    const sl_column *c = b->cols[col];
    char tmp[SL_FMT_MAX];
    if (!sl_col_valid(c, row)) {
        snprintf(out, cap, "NULL");
        return;
    }
    switch (c->type) {
    case SL_BOOL:
        snprintf(out, cap, "%s", sl_col_bool(c, row) ? "true" : "false");
        return;
    case SL_INT64:
        sl_format_int64(sl_col_i64(c, row), tmp);
        break;
    case SL_FLOAT64:
        sl_format_float64(sl_col_f64(c, row), tmp);
        break;
    case SL_DATE:
        sl_format_date(sl_col_i32(c, row), tmp);
        break;
    case SL_TIMESTAMP:
        sl_format_timestamp(sl_col_i64(c, row), tmp);
        break;
    case SL_STRING: {
        size_t n;
        const char *s = sl_col_str(c, row, &n);
        snprintf(out, cap, "[%.*s]", (int)n, s);
        return;
    }
    default:
        snprintf(out, cap, "?");
        return;
    }
    snprintf(out, cap, "%s", tmp);
}

/* Whole input rendered as "name:type,...\nv|v|v\n..." for comparisons. */
typedef struct table {
    char *text;
    size_t len, cap;
    int64_t rows, batches;
    sl_rc rc;       /* open or the failing next() */
    sl_err err;
    int64_t rejected;
} table;

static inline void tput(table *t, const char *s)
{
    size_t n = strlen(s);
    if (t->len + n + 1 > t->cap) {
        t->cap = (t->len + n + 1) * 2;
        t->text = realloc(t->text, t->cap);
        assert_non_null(t->text);
    }
    memcpy(t->text + t->len, s, n + 1);
    t->len += n;
}

static inline void render_schema(table *t, const sl_schema *s)
{
    for (int i = 0; i < s->n; i++) {
        char b[300];
        snprintf(b, sizeof b, "%s%s:%s", i ? "," : "", s->fields[i].name,
                 sl_type_name(s->fields[i].type));
        tput(t, b);
    }
    tput(t, "\n");
}

static inline void render_batch(table *t, const sl_batch *b)
{
    for (int64_t r = 0; r < b->nrows; r++) {
        for (int c = 0; c < b->schema->n; c++) {
            char v[512];
            cell(b, c, r, v, sizeof v);
            if (c)
                tput(t, "|");
            tput(t, v);
        }
        tput(t, "\n");
    }
}

/* Read everything from an open reader into t (reader closed here). */
static inline void drain(table *t, sl_csv_reader *r)
{
    sl_batch *b;
    render_schema(t, sl_csv_reader_schema(r));
    while ((t->rc = sl_csv_reader_next(r, &b, &t->err)) == SL_OK) {
        assert_true(b->nrows > 0);
        t->rows += b->nrows;
        t->batches++;
        render_batch(t, b);
        sl_batch_unref(b);
    }
    if (t->rc == SL_EEOF)
        t->rc = SL_OK;
    t->rejected = sl_csv_reader_rejected(r);
    assert_true(sl_csv_reader_rows(r) == t->rows);
    sl_err e2;
    assert_int_equal(sl_csv_reader_close(r, &e2), SL_OK);
}

static inline table read_table(const char *path, const sl_csv_options *o,
                        const sl_schema *override)
{
    table t;
    memset(&t, 0, sizeof t);
    sl_err_clear(&t.err);
    tput(&t, "");
    sl_csv_reader *r = NULL;
    t.rc = sl_csv_reader_open(path, o, override, &r, &t.err);
    if (t.rc != SL_OK) {
        assert_null(r);
        return t;
    }
    drain(&t, r);
    return t;
}

static inline table read_mem(const char *data, size_t n, const sl_csv_options *o)
{
    table t;
    memset(&t, 0, sizeof t);
    sl_err_clear(&t.err);
    tput(&t, "");
    sl_csv_reader *r = NULL;
    t.rc = sl_csv_reader_open_mem(data, n, "mem.csv", o, NULL, &r, &t.err);
    if (t.rc == SL_OK)
        drain(&t, r);
    return t;
}

static inline const char *errtext(const table *t)
{
    static char buf[2048];
    sl_err_format(&t->err, buf, sizeof buf);
    return buf;
}

static inline void table_free(table *t)
{
    free(t->text);
    t->text = NULL;
}

#define assert_contains(hay, needle)                                           \
    do {                                                                       \
        if (!strstr((hay), (needle)))                                          \
            fail_msg("'%s' does not contain '%s'", (hay), (needle));           \
    } while (0)

#endif
