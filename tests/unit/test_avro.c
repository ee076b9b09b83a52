/*
 * test_avro.c: Avro object container files: write -> read round trips of
 * every type with nulls for every codec (blocks and batches crossing),
 * hand-built files for what our writer never writes (int, float, bytes,
 * enum, fixed, decimal, logical types, nested values, unions, non-record
 * top levels, recursion), schema evolution (Avro reader schemas and
 * sluice schemas), projection, directories of parts, corrupt and truncated
 * files, inspect, the plugins, and allocation-failure loops.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "avro_test_util.h"
#include "sluice/avro.h"
#include "sluice/mem.h"
#include "sluice/node.h"
#include "sluice/plugin.h"

static char tmpdir[256];

static int setup_dir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/sl_avro_test.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *tpath(const char *name)
{
    static char paths[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(paths[k], sizeof paths[k], "%s/%s", tmpdir, name);
    return paths[k];
}

/* Reads all of mem (one batch of up to 1000 rows) with options o. */
static sl_rc read_mem(const buf *f, const sl_avro_read_options *o, sl_batch **out, sl_err *e)
{
    sl_avro_reader *r;
    sl_rc rc = sl_avro_reader_open_mem(f->b, f->n, "t.avro", o, &r, e);
    *out = NULL;
    if (rc != SL_OK)
        return rc;
    rc = sl_avro_reader_next(r, out, e);
    if (rc == SL_OK) {
        sl_batch *extra;
        sl_rc rc2 = sl_avro_reader_next(r, &extra, e);
        if (rc2 == SL_OK) {
            sl_batch_unref(extra);
            rc2 = SL_EINTERNAL;
        }
        if (rc2 != SL_EEOF) {
            sl_batch_unref(*out);
            *out = NULL;
            rc = rc2;
        }
    }
    sl_avro_reader_close(r);
    return rc;
}

static const char *str_at(const sl_batch *b, int col, int64_t row, char *tmp)
{
    size_t n;
    const char *s = sl_col_str(b->cols[col], row, &n);
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    return tmp;
}

/* ---- round trips through our writer ---- */

static sl_schema *all_types_schema(void)
{
    sl_schema *s = sl_schema_new();
    assert_int_equal(sl_schema_add(s, "b", SL_BOOL, 1, NULL), SL_OK);
    assert_int_equal(sl_schema_add(s, "i", SL_INT64, 1, NULL), SL_OK);
    assert_int_equal(sl_schema_add(s, "f", SL_FLOAT64, 1, NULL), SL_OK);
    assert_int_equal(sl_schema_add(s, "s", SL_STRING, 1, NULL), SL_OK);
    assert_int_equal(sl_schema_add(s, "ts", SL_TIMESTAMP, 1, NULL), SL_OK);
    assert_int_equal(sl_schema_add(s, "d", SL_DATE, 1, NULL), SL_OK);
    assert_int_equal(sl_schema_add(s, "req", SL_INT64, 0, NULL), SL_OK);
    assert_int_equal(sl_schema_add(s, "n", SL_NULL, 1, NULL), SL_OK);
    assert_int_equal(sl_schema_add(s, "odd name.x", SL_STRING, 0, NULL), SL_OK);
    return s;
}

static sl_batch *all_types_batch(const sl_schema *s, int64_t first, int64_t n)
{
    sl_batch *b = sl_batch_new(s, n);
    char txt[64];
    for (int64_t r = first; r < first + n; r++) {
        int null = r % 5 == 3;
        sl_column **c = b->cols;
        null ? sl_column_append_null(c[0]) : sl_column_append_bool(c[0], r & 1);
        null ? sl_column_append_null(c[1]) : sl_column_append_int64(c[1], r % 7 == 0 ? INT64_MIN + r : r * 1000003);
        null ? sl_column_append_null(c[2]) : sl_column_append_float64(c[2], r % 11 == 0 ? NAN : r * 0.25 - 3);
        snprintf(txt, sizeof txt, "row %lld é", (long long)r);
        null ? sl_column_append_null(c[3]) : sl_column_append_str(c[3], txt, r % 9 == 0 ? 0 : strlen(txt));
        null ? sl_column_append_null(c[4]) : sl_column_append_int64(c[4], r * 86400000000LL - 5);
        null ? sl_column_append_null(c[5]) : sl_column_append_int32(c[5], (int32_t)(r - 20000));
        sl_column_append_int64(c[6], -r);
        sl_column_append_null(c[7]);
        sl_column_append_str(c[8], "k", 1);
    }
    assert_int_equal(sl_batch_seal(b, NULL), SL_OK);
    return b;
}

static void check_row(const sl_batch *b, int64_t i, int64_t r)
{
    int null = r % 5 == 3;
    char tmp[128], txt[64];
    for (int j = 0; j < 6; j++)
        assert_int_equal(sl_col_valid(b->cols[j], i), !null);
    assert_false(sl_col_valid(b->cols[7], i));
    assert_int_equal(sl_col_i64(b->cols[6], i), -r);
    assert_string_equal(str_at(b, 8, i, tmp), "k");
    if (null)
        return;
    assert_int_equal(sl_col_bool(b->cols[0], i), r & 1);
    assert_int_equal(sl_col_i64(b->cols[1], i), r % 7 == 0 ? INT64_MIN + r : r * 1000003);
    if (r % 11 == 0)
        assert_true(isnan(sl_col_f64(b->cols[2], i)));
    else
        assert_true(sl_col_f64(b->cols[2], i) == r * 0.25 - 3);
    snprintf(txt, sizeof txt, "row %lld é", (long long)r);
    assert_string_equal(str_at(b, 3, i, tmp), r % 9 == 0 ? "" : txt);
    assert_int_equal(sl_col_i64(b->cols[4], i), r * 86400000000LL - 5);
    assert_int_equal(sl_col_i32(b->cols[5], i), (int32_t)(r - 20000));
}

/* Reads path with batch_rows and checks rows [0, n). */
static void check_file(const char *path, int64_t n, int64_t batch_rows)
{
    sl_avro_read_options o;
    sl_avro_read_options_init(&o);
    o.batch_rows = batch_rows;
    sl_avro_reader *r;
    sl_err e;
    assert_int_equal(sl_avro_reader_open(path, &o, &r, &e), SL_OK);
    sl_schema *want = all_types_schema();
    assert_true(sl_schema_equal(sl_avro_reader_schema(r), want));
    for (int j = 0; j < want->n; j++)
        assert_int_equal(sl_avro_reader_schema(r)->fields[j].nullable, want->fields[j].nullable);
    sl_schema_free(want);
    int64_t seen = 0;
    sl_batch *b;
    sl_rc rc;
    while ((rc = sl_avro_reader_next(r, &b, &e)) == SL_OK) {
        assert_true(b->nrows <= batch_rows);
        for (int64_t i = 0; i < b->nrows; i++)
            check_row(b, i, seen + i);
        seen += b->nrows;
        sl_batch_unref(b);
    }
    assert_int_equal(rc, SL_EEOF);
    assert_int_equal(seen, n);
    int64_t done, total;
    sl_avro_reader_progress(r, &done, &total);
    assert_int_equal(done, total);
    sl_avro_reader_close(r);
}

static void write_file(const char *path, sl_avro_codec codec, int64_t block_rows, int64_t n)
{
    sl_schema *s = all_types_schema();
    sl_avro_write_options o;
    sl_avro_write_options_init(&o);
    o.codec = codec;
    o.block_rows = block_rows;
    sl_avro_writer *w;
    sl_err e;
    unlink(path);
    assert_int_equal(sl_avro_writer_open(path, s, &o, &w, &e), SL_OK);
    for (int64_t r = 0; r < n; r += 700) {
        sl_batch *b = all_types_batch(s, r, n - r < 700 ? n - r : 700);
        assert_int_equal(sl_avro_writer_write(w, b, &e), SL_OK);
        sl_batch_unref(b);
    }
    assert_int_equal(sl_avro_writer_rows(w), n);
    assert_int_equal(access(path, F_OK), -1); /* nothing before close */
    assert_int_equal(sl_avro_writer_close(w, &e), SL_OK);
    sl_schema_free(s);
}

static void test_round_trip_codecs(void **state)
{
    (void)state;
    const sl_avro_codec codecs[] = {SL_AVRO_NULL, SL_AVRO_DEFLATE, SL_AVRO_SNAPPY,
                                    SL_AVRO_ZSTANDARD};
    for (int c = 0; c < 4; c++) {
        const char *path = tpath("rt.avro");
        write_file(path, codecs[c], 333, 2500);
        check_file(path, 2500, 1000);
        check_file(path, 2500, 7);
        write_file(path, codecs[c], 100000, 10);
        check_file(path, 10, 65536);
        write_file(path, codecs[c], 10, 0); /* empty file: header only */
        check_file(path, 0, 100);
    }
}

static void test_block_bytes(void **state)
{
    (void)state;
    sl_schema *s = all_types_schema();
    sl_avro_write_options o;
    sl_avro_write_options_init(&o);
    o.block_bytes = 1000;
    o.codec = SL_AVRO_NULL;
    const char *path = tpath("bb.avro");
    sl_avro_writer *w;
    assert_int_equal(sl_avro_writer_open(path, s, &o, &w, NULL), SL_OK);
    sl_batch *b = all_types_batch(s, 0, 700);
    assert_int_equal(sl_avro_writer_write(w, b, NULL), SL_OK);
    sl_batch_unref(b);
    assert_int_equal(sl_avro_writer_close(w, NULL), SL_OK);
    json_t *j;
    assert_int_equal(sl_avro_inspect_json(path, &j, NULL), SL_OK);
    assert_int_equal(json_integer_value(json_object_get(j, "rows")), 700);
    assert_true(json_integer_value(json_object_get(j, "blocks")) > 20);
    assert_true(json_integer_value(json_object_get(j, "max_block_bytes")) < 1200);
    assert_string_equal(json_string_value(json_object_get(j, "codec")), "null");
    json_decref(j);
    check_file(path, 700, 64);
    sl_schema_free(s);
}

static void test_writer_errors(void **state)
{
    (void)state;
    sl_schema *s = all_types_schema();
    sl_err e;
    sl_avro_writer *w;
    sl_avro_write_options o;
    sl_avro_write_options_init(&o);
    o.block_rows = 0;
    assert_int_equal(sl_avro_writer_open(tpath("x.avro"), s, &o, &w, &e), SL_ECONFIG);
    assert_int_equal(sl_avro_writer_open("/nonexistent/dir/x.avro", s, NULL, &w, &e), SL_ENOTFOUND);
    assert_non_null(strstr(e.msg, "cannot create"));
    /* a null in a non-nullable column names the column and row */
    assert_int_equal(sl_avro_writer_open(tpath("x.avro"), s, NULL, &w, &e), SL_OK);
    sl_batch *b = all_types_batch(s, 0, 3);
    sl_column_set_null(b->cols[8], 2);
    assert_int_equal(sl_avro_writer_write(w, b, &e), SL_ESCHEMA);
    assert_non_null(strstr(e.msg, "column 'odd name.x' is not nullable, but row 3 is null"));
    sl_batch_unref(b);
    /* a batch of another schema */
    sl_schema *t = sl_schema_new();
    sl_schema_add(t, "b", SL_STRING, 1, NULL);
    b = sl_batch_new(t, 1);
    assert_int_equal(sl_avro_writer_write(w, b, &e), SL_ESCHEMA);
    assert_non_null(strstr(e.msg, "columns"));
    sl_batch_unref(b);
    sl_avro_writer_abort(w);
    assert_int_equal(access(tpath("x.avro"), F_OK), -1);
    sl_avro_codec c;
    assert_int_equal(sl_avro_codec_parse("ZSTD", &c), SL_OK);
    assert_int_equal(c, SL_AVRO_ZSTANDARD);
    assert_int_equal(sl_avro_codec_parse("xz", &c), SL_ENOTFOUND);
    sl_schema_free(t);
    sl_schema_free(s);
}

/* ---- hand-built files: every Avro type ---- */

static void test_all_avro_types(void **state)
{
    (void)state;
    const char *schema =
        "{\"type\":\"record\",\"name\":\"T\",\"namespace\":\"ns\",\"fields\":["
        "{\"name\":\"i\",\"type\":\"int\"},{\"name\":\"fl\",\"type\":\"float\"},"
        "{\"name\":\"by\",\"type\":\"bytes\"},"
        "{\"name\":\"e\",\"type\":{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\",\"B\"]}},"
        "{\"name\":\"fx\",\"type\":{\"type\":\"fixed\",\"name\":\"F\",\"size\":3}},"
        "{\"name\":\"dec\",\"type\":{\"type\":\"bytes\",\"logicalType\":\"decimal\",\"precision\":9,\"scale\":2}},"
        "{\"name\":\"fdec\",\"type\":{\"type\":\"fixed\",\"name\":\"D\",\"size\":2,\"logicalType\":\"decimal\",\"precision\":4,\"scale\":1}},"
        "{\"name\":\"tms\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}},"
        "{\"name\":\"tns\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-nanos\"}},"
        "{\"name\":\"lts\",\"type\":{\"type\":\"long\",\"logicalType\":\"local-timestamp-micros\"}},"
        "{\"name\":\"tim\",\"type\":{\"type\":\"int\",\"logicalType\":\"time-millis\"}},"
        "{\"name\":\"bad\",\"type\":{\"type\":\"int\",\"logicalType\":\"no-such-type\"}},"
        "{\"name\":\"arr\",\"type\":{\"type\":\"array\",\"items\":[\"null\",\"double\"]}},"
        "{\"name\":\"map\",\"type\":{\"type\":\"map\",\"values\":\"F\"}},"
        "{\"name\":\"rec\",\"type\":[\"null\",{\"type\":\"record\",\"name\":\"R\",\"fields\":["
        "{\"name\":\"x\",\"type\":\"E\"},{\"name\":\"ts\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-micros\"}}]}]},"
        "{\"name\":\"u\",\"type\":[\"long\",\"string\",\"null\"]},"
        "{\"name\":\"onlynull\",\"type\":[\"null\"]}]}";
    buf d = {.n = 0}, f;
    for (int r = 0; r < 2; r++) {
        b_long(&d, r ? -7 : 2147483647);
        float fl = 1.5f;
        b_raw(&d, &fl, 4);
        b_str(&d, r ? "bin" : "");
        b_long(&d, r);
        b_raw(&d, "xyz", 3);
        uint8_t dec[2] = {0xfb, 0x2e}; /* -1234 -> -12.34 */
        b_bytes(&d, dec, 2);
        uint8_t fdec[2] = {0x00, 0x7b}; /* 123 -> 12.3 */
        b_raw(&d, fdec, 2);
        b_long(&d, -1001);           /* ms */
        b_long(&d, -1001);           /* ns: floor to -2 µs */
        b_long(&d, 42);
        b_long(&d, 3600000);
        b_long(&d, 5);
        b_long(&d, 2); /* array block of 2: null, 2.5 */
        b_long(&d, 0);
        b_long(&d, 1);
        b_double(&d, r ? INFINITY : 2.5);
        b_long(&d, 0);
        b_long(&d, -1); /* map block with byte size */
        b_long(&d, 7);
        b_str(&d, "k\"");
        b_raw(&d, "abc", 3);
        b_long(&d, 0);
        if (r) {
            b_long(&d, 0); /* rec: null */
            b_long(&d, 1); /* u: string */
            b_str(&d, "s");
        } else {
            b_long(&d, 1);
            b_long(&d, 1); /* E.B */
            b_long(&d, 86400000000LL);
            b_long(&d, 0); /* u: long */
            b_long(&d, -3);
        }
        b_long(&d, 0); /* onlynull */
    }
    container(&f, schema, &d, 2);
    sl_batch *b;
    sl_err e;
    assert_int_equal(read_mem(&f, NULL, &b, &e), SL_OK);
    const sl_schema *s = b->schema;
    const char *types[] = {"int64", "float64", "string", "string", "string", "float64", "float64",
                           "timestamp", "timestamp", "timestamp", "int64", "int64", "string",
                           "string", "string", "string", "null"};
    assert_int_equal(s->n, 17);
    for (int j = 0; j < s->n; j++)
        assert_string_equal(sl_type_name(s->fields[j].type), types[j]);
    assert_true(s->fields[14].nullable && !s->fields[13].nullable && s->fields[15].nullable);
    char t[256];
    assert_int_equal(sl_col_i64(b->cols[0], 0), 2147483647);
    assert_true(sl_col_f64(b->cols[1], 0) == 1.5);
    assert_string_equal(str_at(b, 2, 1, t), "bin");
    assert_string_equal(str_at(b, 3, 1, t), "B");
    assert_string_equal(str_at(b, 4, 0, t), "xyz");
    assert_true(fabs(sl_col_f64(b->cols[5], 0) + 12.34) < 1e-12);
    assert_true(fabs(sl_col_f64(b->cols[6], 0) - 12.3) < 1e-12);
    assert_int_equal(sl_col_i64(b->cols[7], 0), -1001000);
    assert_int_equal(sl_col_i64(b->cols[8], 0), -2);
    assert_int_equal(sl_col_i64(b->cols[9], 0), 42);
    assert_int_equal(sl_col_i64(b->cols[10], 0), 3600000);
    assert_string_equal(str_at(b, 12, 0, t), "[null,2.5]");
    assert_string_equal(str_at(b, 12, 1, t), "[null,null]");
    assert_string_equal(str_at(b, 13, 0, t), "{\"k\\\"\":\"abc\"}");
    assert_string_equal(str_at(b, 14, 0, t), "{\"x\":\"B\",\"ts\":\"1970-01-02T00:00:00Z\"}");
    assert_false(sl_col_valid(b->cols[14], 1));
    assert_string_equal(str_at(b, 15, 0, t), "-3");
    assert_string_equal(str_at(b, 15, 1, t), "\"s\"");
    assert_false(sl_col_valid(b->cols[16], 0));
    sl_batch_unref(b);

    /* projection: only the named columns, in that order */
    sl_avro_read_options o;
    sl_avro_read_options_init(&o);
    const char *cols[] = {"u", "i"};
    o.columns = cols;
    o.ncolumns = 2;
    assert_int_equal(read_mem(&f, &o, &b, &e), SL_OK);
    assert_int_equal(b->schema->n, 2);
    assert_string_equal(b->schema->fields[0].name, "u");
    assert_int_equal(sl_col_i64(b->cols[1], 1), -7);
    sl_batch_unref(b);
    const char *nope[] = {"zz"};
    o.columns = nope;
    o.ncolumns = 1;
    assert_int_equal(read_mem(&f, &o, &b, &e), SL_ENOTFOUND);
    assert_non_null(strstr(e.msg, "column 'zz' is not in the file's schema"));
}

static void test_bytes_not_utf8(void **state)
{
    (void)state;
    buf d = {.n = 0}, f;
    b_long(&d, 1);
    b_bytes(&d, "\xff\xfe", 2);
    container(&f, "{\"type\":\"record\",\"name\":\"T\",\"fields\":[{\"name\":\"x\",\"type\":\"long\"},"
                  "{\"name\":\"raw\",\"type\":\"bytes\"}]}",
              &d, 1);
    sl_batch *b;
    sl_err e;
    sl_err_clear(&e);
    assert_int_equal(read_mem(&f, NULL, &b, &e), SL_EPARSE);
    assert_non_null(strstr(e.msg, "field 'raw': bytes value is not valid UTF-8"));
    assert_non_null(strstr(e.msg, "record 0"));
    assert_string_equal(e.field, "raw");
    /* leaving it out reads the rest */
    sl_avro_read_options o;
    sl_avro_read_options_init(&o);
    const char *cols[] = {"x"};
    o.columns = cols;
    o.ncolumns = 1;
    assert_int_equal(read_mem(&f, &o, &b, &e), SL_OK);
    assert_int_equal(sl_col_i64(b->cols[0], 0), 1);
    sl_batch_unref(b);
}

static void test_duration(void **state)
{
    (void)state;
    buf d = {.n = 0}, f;
    const uint8_t dur[12] = {1, 0, 0, 0, 2, 0, 0, 0, 0x10, 0x27, 0, 0}; /* 1 month, 2 days, 10 s */
    b_long(&d, 1); /* union branch 1 */
    b_raw(&d, dur, 12);
    b_long(&d, 1); /* array block of one item */
    b_raw(&d, dur, 12);
    b_long(&d, 0);
    container(&f, "{\"type\":\"record\",\"name\":\"T\",\"fields\":[{\"name\":\"d\",\"type\":[\"null\","
                  "{\"type\":\"fixed\",\"name\":\"D\",\"size\":12,\"logicalType\":\"duration\"}]},"
                  "{\"name\":\"a\",\"type\":{\"type\":\"array\",\"items\":\"D\"}}]}",
              &d, 1);
    sl_batch *b;
    sl_err e;
    char t[128];
    assert_int_equal(read_mem(&f, NULL, &b, &e), SL_OK);
    assert_int_equal(b->schema->fields[0].type, SL_STRING);
    assert_string_equal(str_at(b, 0, 0, t), "{\"months\":1,\"days\":2,\"millis\":10000}");
    assert_string_equal(str_at(b, 1, 0, t), "[{\"months\":1,\"days\":2,\"millis\":10000}]");
    sl_batch_unref(b);
}

static void test_top_level_and_recursion(void **state)
{
    (void)state;
    buf d = {.n = 0}, f;
    b_long(&d, 5);
    b_long(&d, -6);
    container(&f, "\"long\"", &d, 2);
    sl_batch *b;
    sl_err e;
    assert_int_equal(read_mem(&f, NULL, &b, &e), SL_OK);
    assert_string_equal(b->schema->fields[0].name, "value");
    assert_int_equal(sl_col_i64(b->cols[0], 1), -6);
    sl_batch_unref(b);

    /* a linked list: {"v":1,"next":{"v":2,"next":null}} */
    const char *ll = "{\"type\":\"record\",\"name\":\"L\",\"fields\":[{\"name\":\"v\",\"type\":\"int\"},"
                     "{\"name\":\"next\",\"type\":[\"null\",\"L\"]}]}";
    d.n = 0;
    b_long(&d, 1);
    b_long(&d, 1);
    b_long(&d, 2);
    b_long(&d, 0);
    container(&f, ll, &d, 1);
    assert_int_equal(read_mem(&f, NULL, &b, &e), SL_OK);
    char t[256];
    assert_string_equal(str_at(b, 1, 0, t), "{\"v\":2,\"next\":null}");
    sl_batch_unref(b);
    /* 200 levels: an error, not a stack overflow */
    d.n = 0;
    b_long(&d, 1);
    for (int i = 0; i < 200; i++) {
        b_long(&d, 1);
        b_long(&d, i);
    }
    b_long(&d, 0);
    container(&f, ll, &d, 1);
    assert_int_equal(read_mem(&f, NULL, &b, &e), SL_EPARSE);
    assert_non_null(strstr(e.msg, "nested too deeply"));
}

/* ---- schema evolution ---- */

static const char *W_SCHEMA =
    "{\"type\":\"record\",\"name\":\"W\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"},"
    "{\"name\":\"b\",\"type\":\"string\"},{\"name\":\"c\",\"type\":[\"null\",\"long\"]},"
    "{\"name\":\"old\",\"type\":\"float\"},"
    "{\"name\":\"e\",\"type\":{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"X\",\"Y\",\"Z\"]}}]}";

static void evolution_file(buf *f)
{
    buf d = {.n = 0};
    for (int r = 0; r < 3; r++) {
        b_long(&d, r + 10);
        b_str(&d, "bee");
        if (r == 1) {
            b_long(&d, 0);
        } else {
            b_long(&d, 1);
            b_long(&d, r * 100);
        }
        float fl = 2.0f;
        b_raw(&d, &fl, 4);
        b_long(&d, r); /* X, Y, Z */
    }
    container(f, W_SCHEMA, &d, 3);
}

static sl_rc read_as(const buf *f, const char *reader, sl_batch **b, sl_err *e)
{
    sl_avro_schema *rs;
    sl_rc rc = sl_avro_schema_parse(reader, strlen(reader), "reader", &rs, e);
    if (rc != SL_OK)
        return rc;
    sl_avro_read_options o;
    sl_avro_read_options_init(&o);
    o.reader_schema = rs;
    rc = read_mem(f, &o, b, e);
    sl_avro_schema_free(rs);
    return rc;
}

static void test_evolution(void **state)
{
    (void)state;
    buf f;
    evolution_file(&f);
    sl_batch *b;
    sl_err e;
    char t[64];
    /* reorder, promote, alias, defaults, drop a field, enum with default */
    const char *r1 =
        "{\"type\":\"record\",\"name\":\"Other\",\"fields\":["
        "{\"name\":\"c\",\"type\":[\"null\",\"double\"]},{\"name\":\"a\",\"type\":\"long\"},"
        "{\"name\":\"bb\",\"aliases\":[\"b\"],\"type\":\"bytes\"},"
        "{\"name\":\"d\",\"type\":\"int\",\"default\":5},"
        "{\"name\":\"s\",\"type\":[\"null\",\"string\"],\"default\":null},"
        "{\"name\":\"t\",\"type\":\"string\",\"default\":\"dflt\"},"
        "{\"name\":\"j\",\"type\":{\"type\":\"array\",\"items\":\"int\"},\"default\":[1,2]},"
        "{\"name\":\"e\",\"type\":{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"Z\",\"X\",\"Q\"],\"default\":\"Q\"}}]}";
    assert_int_equal(read_as(&f, r1, &b, &e), SL_OK);
    assert_int_equal(b->schema->n, 8);
    assert_int_equal(b->schema->fields[0].type, SL_FLOAT64);
    assert_true(sl_col_f64(b->cols[0], 2) == 200.0);
    assert_false(sl_col_valid(b->cols[0], 1));
    assert_int_equal(sl_col_i64(b->cols[1], 2), 12);
    assert_string_equal(str_at(b, 2, 0, t), "bee");
    assert_int_equal(sl_col_i64(b->cols[3], 1), 5);
    assert_false(sl_col_valid(b->cols[4], 0));
    assert_string_equal(str_at(b, 5, 0, t), "dflt");
    assert_string_equal(str_at(b, 6, 0, t), "[1,2]");
    assert_string_equal(str_at(b, 7, 0, t), "X");
    assert_string_equal(str_at(b, 7, 1, t), "Q"); /* Y unknown -> default */
    assert_string_equal(str_at(b, 7, 2, t), "Z");
    sl_batch_unref(b);

    /* missing field without default */
    const char *r2 = "{\"type\":\"record\",\"name\":\"W\",\"fields\":[{\"name\":\"zz\",\"type\":\"int\"}]}";
    assert_int_equal(read_as(&f, r2, &b, &e), SL_ESCHEMA);
    assert_non_null(strstr(e.msg, "field 'zz' of the reader schema is missing from the file's "
                                  "schema and has no default"));
    /* incompatible types name the field */
    const char *r3 = "{\"type\":\"record\",\"name\":\"W\",\"fields\":[{\"name\":\"b\",\"type\":\"long\"}]}";
    assert_int_equal(read_as(&f, r3, &b, &e), SL_ESCHEMA);
    assert_non_null(strstr(e.msg, "field 'b': the writer's string cannot be read as the reader's long"));
    /* a writer null read as non-nullable: an error only when a null comes */
    const char *r4 = "{\"type\":\"record\",\"name\":\"W\",\"fields\":[{\"name\":\"c\",\"type\":\"long\"}]}";
    assert_int_equal(read_as(&f, r4, &b, &e), SL_ESCHEMA);
    assert_non_null(strstr(e.msg, "record 1: field 'c': null value, but the reader's type is not "
                                  "nullable"));
    /* enum symbol unknown without default */
    const char *r5 = "{\"type\":\"record\",\"name\":\"W\",\"fields\":[{\"name\":\"e\",\"type\":"
                     "{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"X\"]}}]}";
    assert_int_equal(read_as(&f, r5, &b, &e), SL_ESCHEMA);
    assert_non_null(strstr(e.msg, "enum symbol 'Y' is not in the reader's enum 'E'"));
    /* named types must match below the top level */
    const char *r6 = "{\"type\":\"record\",\"name\":\"W\",\"fields\":[{\"name\":\"e\",\"type\":"
                     "{\"type\":\"enum\",\"name\":\"Other\",\"symbols\":[\"X\"]}}]}";
    assert_int_equal(read_as(&f, r6, &b, &e), SL_ESCHEMA);
    /* a reader union takes the writer's branch */
    const char *r7 = "{\"type\":\"record\",\"name\":\"W\",\"fields\":[{\"name\":\"a\",\"type\":"
                     "[\"null\",\"string\",\"double\"]}]}";
    assert_int_equal(read_as(&f, r7, &b, &e), SL_OK);
    assert_string_equal(str_at(b, 0, 0, t), "10.0");
    sl_batch_unref(b);
}

static void test_evolution_sluice_schema(void **state)
{
    (void)state;
    buf f;
    evolution_file(&f);
    sl_avro_schema *rs;
    sl_err e;
    const char *p = tpath("reader.json");
    write_text(p, "{\"fields\": [{\"name\": \"e\", \"type\": \"string\"},"
                  "{\"name\": \"a\", \"type\": \"float64\"},"
                  "{\"name\": \"missing\", \"type\": \"int64\"},"
                  "{\"name\": \"c\", \"type\": \"int64\"}]}");
    assert_int_equal(sl_avro_schema_load(p, &rs, &e), SL_OK);
    sl_avro_read_options o;
    sl_avro_read_options_init(&o);
    o.reader_schema = rs;
    sl_batch *b;
    assert_int_equal(read_mem(&f, &o, &b, &e), SL_OK);
    char t[64];
    assert_int_equal(b->schema->n, 4);
    assert_string_equal(str_at(b, 0, 1, t), "Y");
    assert_int_equal(b->schema->fields[1].type, SL_FLOAT64);
    assert_true(sl_col_f64(b->cols[1], 0) == 10.0);
    assert_false(sl_col_valid(b->cols[2], 0));
    assert_int_equal(sl_col_i64(b->cols[3], 2), 200);
    sl_batch_unref(b);
    sl_avro_schema_free(rs);

    write_text(p, "{\"fields\": [{\"name\": \"c\", \"type\": \"int64\", \"nullable\": false}]}");
    assert_int_equal(sl_avro_schema_load(p, &rs, &e), SL_OK);
    o.reader_schema = rs;
    assert_int_equal(read_mem(&f, &o, &b, &e), SL_ESCHEMA);
    assert_non_null(strstr(e.msg, "null value, but the reader's type is not nullable"));
    sl_avro_schema_free(rs);

    write_text(p, "{\"fields\": [{\"name\": \"b\", \"type\": \"int64\"}]}");
    assert_int_equal(sl_avro_schema_load(p, &rs, &e), SL_OK);
    o.reader_schema = rs;
    assert_int_equal(read_mem(&f, &o, &b, &e), SL_ESCHEMA);
    assert_non_null(strstr(e.msg, "field 'b': the file's string (string) cannot be read as int64"));
    sl_avro_schema_free(rs);

    write_text(p, "{\"fields\": [{\"name\": \"gone\", \"type\": \"int64\", \"nullable\": false}]}");
    assert_int_equal(sl_avro_schema_load(p, &rs, &e), SL_OK);
    o.reader_schema = rs;
    assert_int_equal(read_mem(&f, &o, &b, &e), SL_ESCHEMA);
    assert_non_null(strstr(e.msg, "column 'gone' of the reader schema is missing"));
    sl_avro_schema_free(rs);

    /* an .avsc file loads as an Avro schema */
    write_text(p, W_SCHEMA);
    assert_int_equal(sl_avro_schema_load(p, &rs, &e), SL_OK);
    sl_schema *ss;
    assert_int_equal(sl_avro_schema_to_sluice(rs, &ss, &e), SL_OK);
    assert_int_equal(ss->n, 5);
    sl_schema_free(ss);
    sl_avro_schema_free(rs);
    assert_int_equal(sl_avro_schema_load(tpath("nope.avsc"), &rs, &e), SL_ENOTFOUND);
}

static void test_invalid_schemas(void **state)
{
    (void)state;
    const char *bad[][2] = {
        {"{\"type\":\"record\",\"fields\":[]}", "needs a non-empty 'name'"},
        {"{\"type\":\"record\",\"name\":\"R\"}", "needs a 'fields' list"},
        {"\"Nope\"", "unknown type 'Nope'"},
        {"[\"null\",[\"int\"]]", "may not contain a union"},
        {"[]", "at least one branch"},
        {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"},"
         "{\"name\":\"a\",\"type\":\"int\"}]}", "duplicate field name 'a'"},
        {"[{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[]},{\"type\":\"enum\",\"name\":\"E\","
         "\"symbols\":[]}]", "defined twice"},
        {"{\"type\":\"fixed\",\"name\":\"F\"}", "needs a 'size'"},
        {"{\"type\":\"array\"}", "needs 'items'"},
        {"{nope", "not JSON"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sl_avro_schema *s;
        sl_err e;
        assert_int_equal(sl_avro_schema_parse(bad[i][0], strlen(bad[i][0]), "t", &s, &e), SL_ESCHEMA);
        if (!strstr(e.msg, bad[i][1]))
            fail_msg("schema %s: got '%s'", bad[i][0], e.msg);
    }
    /* 100 nested arrays: over the depth bound */
    char deep[4000] = "";
    for (int i = 0; i < 100; i++)
        strcat(deep, "{\"type\":\"array\",\"items\":");
    strcat(deep, "\"int\"");
    for (int i = 0; i < 100; i++)
        strcat(deep, "}");
    sl_avro_schema *s;
    sl_err e;
    assert_int_equal(sl_avro_schema_parse(deep, strlen(deep), "t", &s, &e), SL_ESCHEMA);
    assert_non_null(strstr(e.msg, "nested more than 64"));
}

/* ---- corrupt and truncated files ---- */

static void test_corrupt(void **state)
{
    (void)state;
    const char *path = tpath("c.avro");
    write_file(path, SL_AVRO_DEFLATE, 50, 120);
    FILE *fp = fopen(path, "rb");
    static uint8_t data[1 << 16];
    size_t n = fread(data, 1, sizeof data, fp);
    fclose(fp);
    sl_err e;
    /* every truncation fails cleanly (or, at a block boundary, reads fewer rows) */
    for (size_t k = 0; k < n; k++) {
        sl_avro_reader *r;
        sl_batch *b;
        sl_rc rc = sl_avro_reader_open_mem(data, k, "t", NULL, &r, &e);
        if (rc == SL_OK) {
            while ((rc = sl_avro_reader_next(r, &b, &e)) == SL_OK)
                sl_batch_unref(b);
            sl_avro_reader_close(r);
        }
        assert_true(rc == SL_EPARSE || rc == SL_EEOF || rc == SL_ESCHEMA);
    }
    /* every single-byte flip fails cleanly or reads something */
    for (size_t k = 0; k < n; k++) {
        uint8_t save = data[k];
        data[k] ^= 0x5a;
        sl_avro_reader *r;
        sl_batch *b;
        sl_rc rc = sl_avro_reader_open_mem(data, n, "t", NULL, &r, &e);
        if (rc == SL_OK) {
            while ((rc = sl_avro_reader_next(r, &b, &e)) == SL_OK)
                sl_batch_unref(b);
            sl_avro_reader_close(r);
        }
        assert_true(rc != SL_ENOMEM && rc != SL_EINTERNAL);
        data[k] = save;
    }
    sl_avro_reader *r;
    assert_int_equal(sl_avro_reader_open_mem("PAR1xxxx", 8, "t", NULL, &r, &e), SL_EPARSE);
    assert_non_null(strstr(e.msg, "not an Avro object container file"));
    /* a corrupt sync marker after the first block */
    buf d = {.n = 0}, f;
    b_long(&d, 7);
    container(&f, "\"long\"", &d, 1);
    f.b[f.n - 1] ^= 1;
    sl_batch *b;
    assert_int_equal(read_mem(&f, NULL, &b, &e), SL_EPARSE);
    assert_non_null(strstr(e.msg, "sync marker mismatch"));
    /* a block claiming more records than bytes */
    d.n = 0;
    b_long(&d, 7);
    container(&f, "\"long\"", &d, 1);
    buf g = {.n = 0};
    container(&g, "\"long\"", &d, 0);
    b_long(&g, 1000);
    b_long(&g, 1);
    b_long(&g, 7);
    b_raw(&g, SYNC, 16);
    assert_int_equal(read_mem(&g, NULL, &b, &e), SL_EPARSE);
    assert_non_null(strstr(e.msg, "more records than its bytes"));
    /* trailing bytes in a block */
    g.n = 0;
    container(&g, "\"long\"", &d, 0);
    b_long(&g, 1);
    b_long(&g, 2);
    b_long(&g, 7);
    b_long(&g, 7);
    b_raw(&g, SYNC, 16);
    assert_int_equal(read_mem(&g, NULL, &b, &e), SL_EPARSE);
    assert_non_null(strstr(e.msg, "bytes after its last record"));
    /* a string longer than its block */
    g.n = 0;
    d.n = 0;
    b_long(&d, 1000);
    container(&g, "\"string\"", &d, 1);
    assert_int_equal(read_mem(&g, NULL, &b, &e), SL_EPARSE);
    assert_non_null(strstr(e.msg, "length 1000 exceeds"));
    /* an array declaring 2^40 items */
    d.n = 0;
    b_long(&d, INT64_C(1) << 40);
    container(&g, "{\"type\":\"array\",\"items\":\"null\"}", &d, 1);
    assert_int_equal(read_mem(&g, NULL, &b, &e), SL_EPARSE);
    /* unsupported codec */
    g.n = 0;
    b_raw(&g, "Obj\x01", 4);
    b_long(&g, 2);
    b_str(&g, "avro.schema");
    b_str(&g, "\"long\"");
    b_str(&g, "avro.codec");
    b_str(&g, "xz");
    b_long(&g, 0);
    b_raw(&g, SYNC, 16);
    assert_int_equal(read_mem(&g, NULL, &b, &e), SL_EUNSUPPORTED);
    assert_non_null(strstr(e.msg, "codec 'xz' is not supported"));
    assert_int_equal(sl_avro_reader_open(tpath("none.avro"), NULL, &r, &e), SL_ENOTFOUND);
}

/* ---- directories, inspect, plugins ---- */

static void test_directory_parts(void **state)
{
    (void)state;
    const char *dir = tpath("parts");
    mkdir(dir, 0777);
    char p[600];
    /* part 1 has {a: int}, part 2 evolved to {a: int, b: string}: read with
     * part 1's schema, b is skipped */
    buf d = {.n = 0}, f;
    b_long(&d, 1);
    container(&f, "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"}]}",
              &d, 1);
    snprintf(p, sizeof p, "%s/part-0.avro", dir);
    FILE *fp = fopen(p, "wb");
    fwrite(f.b, 1, f.n, fp);
    fclose(fp);
    d.n = 0;
    b_long(&d, 2);
    b_str(&d, "y");
    container(&f, "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"},"
                  "{\"name\":\"b\",\"type\":\"string\",\"default\":\"x\"}]}",
              &d, 1);
    snprintf(p, sizeof p, "%s/part-1.avro", dir);
    fp = fopen(p, "wb");
    fwrite(f.b, 1, f.n, fp);
    fclose(fp);
    snprintf(p, sizeof p, "%s/_SUCCESS", dir);
    write_text(p, "");
    sl_avro_reader *r;
    sl_err e;
    sl_batch *b;
    /* without a reader schema, part 2 resolves against part 1's schema */
    assert_int_equal(sl_avro_reader_open(dir, NULL, &r, &e), SL_OK);
    int64_t sum = 0, rows = 0;
    sl_rc rc;
    while ((rc = sl_avro_reader_next(r, &b, &e)) == SL_OK) {
        assert_int_equal(b->schema->n, 1);
        for (int64_t i = 0; i < b->nrows; i++)
            sum += sl_col_i64(b->cols[0], i);
        rows += b->nrows;
        sl_batch_unref(b);
    }
    assert_int_equal(rc, SL_EEOF);
    assert_int_equal(rows, 2);
    assert_int_equal(sum, 3);
    sl_avro_reader_close(r);
    mkdir(tpath("empty"), 0777);
    assert_int_equal(sl_avro_reader_open(tpath("empty"), NULL, &r, &e), SL_ENOTFOUND);
    assert_non_null(strstr(e.msg, "no *.avro files"));
    /* a part that does not resolve against the first is an error naming it */
    d.n = 0;
    b_str(&d, "s");
    container(&f, "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"string\"}]}",
              &d, 1);
    snprintf(p, sizeof p, "%s/part-2.avro", dir);
    fp = fopen(p, "wb");
    fwrite(f.b, 1, f.n, fp);
    fclose(fp);
    sl_err_clear(&e);
    assert_int_equal(sl_avro_reader_open(dir, NULL, &r, &e), SL_OK);
    while ((rc = sl_avro_reader_next(r, &b, &e)) == SL_OK)
        sl_batch_unref(b);
    assert_int_equal(rc, SL_ESCHEMA);
    assert_non_null(strstr(e.file, "part-2.avro"));
    assert_non_null(strstr(e.msg, "field 'a': the writer's string cannot be read as the reader's int"));
    sl_avro_reader_close(r);
}

static void test_inspect(void **state)
{
    (void)state;
    const char *path = tpath("i.avro");
    write_file(path, SL_AVRO_SNAPPY, 40, 100);
    json_t *j;
    sl_err e;
    assert_int_equal(sl_avro_inspect_json(path, &j, &e), SL_OK);
    assert_int_equal(json_integer_value(json_object_get(j, "rows")), 100);
    assert_int_equal(json_integer_value(json_object_get(j, "blocks")), 3);
    assert_int_equal(json_integer_value(json_object_get(j, "min_block_rows")), 20);
    json_t *c = json_array_get(json_object_get(j, "columns"), 4);
    assert_string_equal(json_string_value(json_object_get(c, "sluice_type")), "timestamp");
    json_decref(j);
    char out[512];
    snprintf(out, sizeof out, "%s.txt", path);
    FILE *fp = fopen(out, "w");
    assert_int_equal(sl_avro_inspect_print(path, fp, &e), SL_OK);
    fclose(fp);
    fp = fopen(out, "r");
    char text[8192];
    size_t n = fread(text, 1, sizeof text - 1, fp);
    text[n] = '\0';
    fclose(fp);
    assert_non_null(strstr(text, "codec snappy"));
    assert_non_null(strstr(text, "rows: 100 in 3 blocks"));
    assert_non_null(strstr(text, "odd name.x"));
}

static void test_plugins(void **state)
{
    (void)state;
    extern const sl_plugin sl_plugin_source_avro, sl_plugin_sink_avro;
    const sl_plugin *src = &sl_plugin_source_avro, *snk = &sl_plugin_sink_avro;
    assert_string_equal(src->name, "avro");
    const char *path = tpath("plug.avro");
    void *cfg = calloc(1, snk->config_size), *inst;
    assert_int_equal(sl_config_defaults(snk->config_map, cfg, NULL), SL_OK);
    sl_ctx ctx = {.sink_path = path};
    sl_err e;
    assert_int_equal(snk->init(&inst, cfg, &ctx, &e), SL_OK);
    sl_schema *s = all_types_schema();
    assert_int_equal(snk->open(inst, s, NULL, &e), SL_OK);
    sl_batch *b = all_types_batch(s, 0, 50);
    assert_int_equal(snk->write(inst, b, &e), SL_OK);
    sl_batch_unref(b);
    assert_int_equal(snk->close(inst, &e), SL_OK);
    snk->destroy(inst);
    sl_config_free(snk->config_map, cfg);
    free(cfg);
    check_file(path, 50, 64);

    cfg = calloc(1, src->config_size);
    char yaml[700];
    snprintf(yaml, sizeof yaml, "{path: '%s', batch_rows: 16, columns: [b, i, f, s, ts, d, req, n, "
                                "'odd name.x']}", path);
    sl_doc *doc;
    assert_int_equal(sl_yaml_load_string(yaml, strlen(yaml), "spec", &doc, &e), SL_OK);
    assert_int_equal(sl_config_apply(src->config_map, doc->root, cfg, &e), SL_OK);
    sl_doc_free(doc);
    assert_int_equal(src->init(&inst, cfg, NULL, &e), SL_OK);
    sl_schema *out;
    for (int pass = 0; pass < 2; pass++) { /* the runner reopens sources */
        assert_int_equal(src->open(inst, NULL, &out, &e), SL_OK);
        assert_true(sl_schema_equal(out, s));
        sl_schema_free(out);
        int64_t rows = 0;
        while (src->next(inst, &b, &e) == SL_OK) {
            rows += b->nrows;
            sl_batch_unref(b);
        }
        assert_int_equal(rows, 50);
        int64_t done, total;
        src->progress(inst, &done, &total);
        assert_true(total > 0 && done == total);
        assert_int_equal(src->close(inst, &e), SL_OK);
    }
    src->destroy(inst);
    sl_config_free(src->config_map, cfg);
    free(cfg);
    sl_schema_free(s);
}

/* ---- allocation failures ---- */

static void test_alloc_failures(void **state)
{
    (void)state;
    sl_schema *s = all_types_schema();
    const char *path = tpath("oom.avro");
    sl_batch *b = all_types_batch(s, 0, 100);
    sl_avro_write_options o;
    sl_avro_write_options_init(&o);
    o.block_rows = 30;
    for (int codec = 0; codec < 4; codec++) {
        o.codec = (sl_avro_codec)codec;
        for (long n = 0; n < 100000; n++) {
            sl_mem_fail_after(n);
            sl_avro_writer *w;
            sl_rc rc = sl_avro_writer_open(path, s, &o, &w, NULL);
            if (rc == SL_OK) {
                rc = sl_avro_writer_write(w, b, NULL);
                if (rc == SL_OK)
                    rc = sl_avro_writer_close(w, NULL);
                else
                    sl_avro_writer_abort(w);
            }
            sl_mem_fail_after(-1);
            if (rc == SL_OK)
                break;
            assert_int_equal(rc, SL_ENOMEM);
        }
        for (long n = 0; n < 100000; n++) {
            sl_mem_fail_after(n);
            sl_avro_reader *r;
            sl_avro_read_options ro;
            sl_avro_read_options_init(&ro);
            ro.batch_rows = 40;
            sl_rc rc = sl_avro_reader_open(path, &ro, &r, NULL);
            if (rc == SL_OK) {
                sl_batch *got;
                while ((rc = sl_avro_reader_next(r, &got, NULL)) == SL_OK)
                    sl_batch_unref(got);
                sl_avro_reader_close(r);
            }
            sl_mem_fail_after(-1);
            if (rc == SL_EEOF)
                break;
            assert_int_equal(rc, SL_ENOMEM);
        }
        check_file(path, 100, 1000);
    }
    sl_batch_unref(b);
    sl_schema_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_codecs),
        cmocka_unit_test(test_block_bytes),
        cmocka_unit_test(test_writer_errors),
        cmocka_unit_test(test_all_avro_types),
        cmocka_unit_test(test_bytes_not_utf8),
        cmocka_unit_test(test_duration),
        cmocka_unit_test(test_top_level_and_recursion),
        cmocka_unit_test(test_evolution),
        cmocka_unit_test(test_evolution_sluice_schema),
        cmocka_unit_test(test_invalid_schemas),
        cmocka_unit_test(test_corrupt),
        cmocka_unit_test(test_directory_parts),
        cmocka_unit_test(test_inspect),
        cmocka_unit_test(test_plugins),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
