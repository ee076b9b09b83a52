/*
 * test_csv.c: the CSV reader: every parsing rule, inference, overrides,
 * every error a user can hit (with file:line and column in the message),
 * chunk and batch boundaries, skip/dlq accounting, allocation failures.
 * Writer, round trip and plugin tests are in test_csv_writer.c.
 */
#include "csv_test_util.h"

#include <jansson.h>

#include "sluice/mem.h"

static sl_csv_options opts(void)
{
    sl_csv_options o;
    sl_csv_options_init(&o);
    return o;
}

static void test_basic_types(void **state)
{
    (void)state;
    const char *p = WRITE("basic.csv",
                          "i,f,b,d,ts,s\n"
                          "1,1.5,true,2024-01-31,2024-01-31 10:00:00,hello\n"
                          "-2,3,FALSE,2024/02/29,2024-01-31T10:00:00.5+01:00,\"a,b\"\n"
                          ",NA,null,,,\n"
                          "4,nan,true,2000-01-01,2024-02-01,\"\"\n"
                          "5,-inf,false,1999-12-31,2024-02-01T00:00Z,\"NA\"\n");
    sl_csv_options o = opts();
    table t = read_table(p, &o, NULL);
    assert_int_equal(t.rc, SL_OK);
    assert_string_equal(
        t.text,
        "i:int64,f:float64,b:bool,d:date,ts:timestamp,s:string\n"
        "1|1.5|true|2024-01-31|2024-01-31T10:00:00Z|[hello]\n"
        "-2|3.0|false|2024-02-29|2024-01-31T09:00:00.500000Z|[a,b]\n"
        "NULL|NULL|NULL|NULL|NULL|NULL\n"
        "4|nan|true|2000-01-01|2024-02-01T00:00:00Z|[]\n"
        "5|-inf|false|1999-12-31|2024-02-01T00:00:00Z|[NA]\n");
    table_free(&t);
}

static void test_quoting_rules(void **state)
{
    (void)state;
    /* doubled quotes, embedded newlines (LF and CRLF) and delimiters,
     * CRLF record ends, quoted numbers, no final newline */
    const char *p = WRITE("quotes.csv",
                          "a,b\r\n"
                          "\"say \"\"hi\"\"\",\"1\"\r\n"
                          "\"line1\nline2\",2\r\n"
                          "\"x\r\ny\",3\r\n"
                          "\"\"\"\",\"4\"\r\n"
                          "plain\"quote,5");
    sl_csv_options o = opts();
    table t = read_table(p, &o, NULL);
    assert_int_equal(t.rc, SL_OK);
    assert_string_equal(t.text, "a:string,b:int64\n"
                                "[say \"hi\"]|1\n"
                                "[line1\nline2]|2\n"
                                "[x\r\ny]|3\n"
                                "[\"]|4\n"
                                "[plain\"quote]|5\n");
    table_free(&t);
}

static void test_bom_blank_lines_cr(void **state)
{
    (void)state;
    const char *p = WRITE("bom.csv", "\xEF\xBB\xBFx,y\n\n1,2\n\r\n3,4\n\n\n");
    sl_csv_options o = opts();
    table t = read_table(p, &o, NULL);
    assert_int_equal(t.rc, SL_OK);
    assert_string_equal(t.text, "x:int64,y:int64\n1|2\n3|4\n");
    table_free(&t);
    /* old Mac line ends */
    p = WRITE("cr.csv", "x,y\r1,2\r3,4\r");
    t = read_table(p, &o, NULL);
    assert_int_equal(t.rc, SL_OK);
    assert_string_equal(t.text, "x:int64,y:int64\n1|2\n3|4\n");
    table_free(&t);
    /* header only: schema, no rows */
    p = WRITE("hdr.csv", "x,y\n");
    t = read_table(p, &o, NULL);
    assert_int_equal(t.rc, SL_OK);
    assert_int_equal(t.rows, 0);
    assert_string_equal(t.text, "x:string,y:string\n");
    table_free(&t);
}

static void test_no_header_and_names(void **state)
{
    (void)state;
    sl_csv_options o = opts();
    o.header = 0;
    const char *p = WRITE("nohdr.csv", "1,a\n2,b\n");
    table t = read_table(p, &o, NULL);
    assert_int_equal(t.rc, SL_OK);
    assert_string_equal(t.text, "c1:int64,c2:string\n1|[a]\n2|[b]\n");
    table_free(&t);

    o = opts();
    p = WRITE("names.csv", "a,,a,\"q\"\"n\",a\n1,2,3,4,5\n");
    t = read_table(p, &o, NULL);
    assert_int_equal(t.rc, SL_OK);
    assert_string_equal(t.text, "a:int64,c2:int64,a_2:int64,q\"n:int64,a_3:int64\n"
                                "1|2|3|4|5\n");
    table_free(&t);
}

static void test_delimiter_quote_nulls(void **state)
{
    (void)state;
    sl_csv_options o = opts();
    o.delimiter = '\t';
    o.quote = '\'';
    static const char *const nulls[] = {"-", "N/A"};
    o.null_values = nulls;
    o.n_null_values = 2;
    const char *p = WRITE("tab.tsv", "a\tb\n'x\ty'\t-\nN/A\t''\n\tNA\n");
    table t = read_table(p, &o, NULL);
    assert_int_equal(t.rc, SL_OK);
    assert_string_equal(t.text, "a:string,b:string\n[x\ty]|NULL\nNULL|[]\n[]|[NA]\n");
    table_free(&t);

    /* no null markers at all; quoting disabled */
    o = opts();
    o.n_null_values = 0;
    o.quote = '\0';
    p = WRITE("nonull.csv", "a,b\n,\"x\"\n");
    t = read_table(p, &o, NULL);
    assert_int_equal(t.rc, SL_OK);
    assert_string_equal(t.text, "a:string,b:string\n[]|[\"x\"]\n");
    table_free(&t);
}

static void test_inference_rules(void **state)
{
    (void)state;
    const char *p = WRITE("inf.csv",
                          "a,b,c,d,e,f,g\n"
                          "1,1,true,2024-01-01,x,,1\n"
                          "2,2.5,1,2024-01-02 03:04,y,,\"2\"\n"
                          "3,3,false,2024-01-03,z,NA,\"3\"\"\"\n");
    sl_csv_options o = opts();
    table t = read_table(p, &o, NULL);
    assert_int_equal(t.rc, SL_OK);
    assert_string_equal(t.text,
                        "a:int64,b:float64,c:string,d:timestamp,e:string,"
                        "f:string,g:string\n"
                        "1|1.0|[true]|2024-01-01T00:00:00Z|[x]|NULL|[1]\n"
                        "2|2.5|[1]|2024-01-02T03:04:00Z|[y]|NULL|[2]\n"
                        "3|3.0|[false]|2024-01-03T00:00:00Z|[z]|NULL|[3\"]\n");
    table_free(&t);
    /* infer_rows = 0: everything is a string */
    o.infer_rows = 0;
    t = read_table(p, &o, NULL);
    assert_int_equal(t.rc, SL_OK);
    assert_true(strncmp(t.text, "a:string,b:string,c:string,d:string", 35) == 0);
    table_free(&t);
}

/* Builds "x\n1\n2\n...\n<n>\nabc\n": the bad value is on line n + 2. */
static const char *ints_then(const char *name, int n, const char *bad)
{
    size_t cap = (size_t)n * 12 + 64;
    char *s = malloc(cap);
    assert_non_null(s);
    size_t k = (size_t)snprintf(s, cap, "x,y\n");
    for (int i = 1; i <= n; i++)
        k += (size_t)snprintf(s + k, cap - k, "%d,s\n", i);
    k += (size_t)snprintf(s + k, cap - k, "%s,s\n", bad);
    const char *p = write_file(name, s, k);
    free(s);
    return p;
}

static void test_type_error_hint(void **state)
{
    (void)state;
    const char *p = ints_then("late.csv", 20, "abc");
    sl_csv_options o = opts();
    o.infer_rows = 5;
    table t = read_table(p, &o, NULL);
    assert_int_equal(t.rc, SL_EPARSE);
    char want[512];
    snprintf(want, sizeof want, "%s:22:1: column 'x': cannot parse 'abc' as int64", p);
    assert_contains(errtext(&t), want);
    assert_contains(errtext(&t),
                    "column 'x' was inferred as int64 from the first 5 rows; "
                    "set its type in the schema or raise infer_rows");
    assert_string_equal(t.err.field, "x");
    assert_int_equal(t.err.line, 22);
    table_free(&t);

    /* the same file with a bigger sample infers string and reads fine */
    o.infer_rows = 10000;
    t = read_table(p, &o, NULL);
    assert_int_equal(t.rc, SL_OK);
    assert_int_equal(t.rows, 21);
    table_free(&t);

    /* an overridden column says so instead */
    sl_schema *s = sl_schema_new();
    assert_int_equal(sl_schema_add(s, "x", SL_INT64, 1, NULL), SL_OK);
    t = read_table(p, &o, s);
    assert_int_equal(t.rc, SL_EPARSE);
    assert_contains(errtext(&t), "the schema sets column 'x' to int64");
    table_free(&t);
    sl_schema_free(s);
}

static void test_override(void **state)
{
    (void)state;
    const char *p = WRITE("ovr.csv", "zip,n,when\n02134,1,2024-01-01\n10001,,2024-01-02\n");
    sl_schema *s = sl_schema_new();
    assert_int_equal(sl_schema_add(s, "zip", SL_STRING, 1, NULL), SL_OK);
    assert_int_equal(sl_schema_add(s, "n", SL_FLOAT64, 1, NULL), SL_OK);
    sl_csv_options o = opts();
    table t = read_table(p, &o, s);
    assert_int_equal(t.rc, SL_OK);
    assert_string_equal(t.text, "zip:string,n:float64,when:date\n"
                                "[02134]|1.0|2024-01-01\n[10001]|NULL|2024-01-02\n");
    table_free(&t);

    /* a non-nullable column rejects a null */
    s->fields[1].nullable = 0;
    t = read_table(p, &o, s);
    assert_int_equal(t.rc, SL_EPARSE);
    assert_contains(errtext(&t), ":3:");
    assert_contains(errtext(&t), "column 'n' is null but the schema says it is not nullable");
    assert_string_equal(t.err.field, "n");
    table_free(&t);

    /* a column the file does not have */
    assert_int_equal(sl_schema_add(s, "zpi", SL_INT64, 1, NULL), SL_OK);
    t = read_table(p, &o, s);
    assert_int_equal(t.rc, SL_ESCHEMA);
    assert_contains(errtext(&t), "schema column 'zpi' is not in the file (its columns: zip, n, when)");
    table_free(&t);
    sl_schema_free(s);

    /* timestamp override reads dates too */
    s = sl_schema_new();
    assert_int_equal(sl_schema_add(s, "when", SL_TIMESTAMP, 1, NULL), SL_OK);
    t = read_table(p, &o, s);
    assert_int_equal(t.rc, SL_OK);
    assert_contains(t.text, "when:timestamp\n");
    assert_contains(t.text, "2024-01-02T00:00:00Z");
    table_free(&t);
    sl_schema_free(s);
}

static void test_field_count_errors(void **state)
{
    (void)state;
    const char *p = WRITE("count.csv", "a,b,c\n1,2,3\n\"multi\nline\",2,3\n4,5\n6,7,8,9\n");
    sl_csv_options o = opts();
    table t = read_table(p, &o, NULL);
    assert_int_equal(t.rc, SL_EPARSE);
    char want[400];
    snprintf(want, sizeof want, "%s:5: expected 3 fields, found 2", p);
    assert_string_equal(errtext(&t), want);
    assert_int_equal(t.err.offset, 29);
    table_free(&t);

    o.on_error = SL_ON_ERROR_SKIP;
    t = read_table(p, &o, NULL);
    assert_int_equal(t.rc, SL_OK);
    assert_int_equal(t.rows, 2);
    assert_int_equal(t.rejected, 2);
    table_free(&t);
}

static void test_quote_errors(void **state)
{
    (void)state;
    sl_csv_options o = opts();
    const char *p = WRITE("unterm.csv", "a,b\n1,2\n3,\"open\n4,5\n");
    table t = read_table(p, &o, NULL);
    assert_int_equal(t.rc, SL_EPARSE);
    char want[400];
    snprintf(want, sizeof want, "%s:3:3: unterminated quoted field", p);
    assert_contains(errtext(&t), want);
    table_free(&t);

    p = WRITE("stray.csv", "a,b\n1,\"x\"y\n");
    t = read_table(p, &o, NULL);
    assert_int_equal(t.rc, SL_EPARSE);
    snprintf(want, sizeof want, "%s:2:6: unexpected 'y' after the closing quote of field 2", p);
    assert_contains(errtext(&t), want);
    assert_string_equal(t.err.field, "b");
    table_free(&t);

    /* in the header these are fatal whatever on_error says */
    o.on_error = SL_ON_ERROR_SKIP;
    p = WRITE("hdrq.csv", "\"a\"x,b\n1,2\n");
    t = read_table(p, &o, NULL);
    assert_int_equal(t.rc, SL_EPARSE);
    assert_contains(errtext(&t), ":1:4: unexpected 'x'");
    table_free(&t);
    p = WRITE("hdru.csv", "\"a,b\n1,2\n");
    t = read_table(p, &o, NULL);
    assert_int_equal(t.rc, SL_EPARSE);
    assert_contains(errtext(&t), ":1:1: unterminated quoted field");
    table_free(&t);

    /* skip: the unterminated record swallows the rest and is counted once */
    p = WRITE("unterm2.csv", "a,b\n1,2\n3,\"open\n4,5\n");
    t = read_table(p, &o, NULL);
    assert_int_equal(t.rc, SL_OK);
    assert_int_equal(t.rows, 1);
    assert_int_equal(t.rejected, 1);
    table_free(&t);
}

static void test_record_too_long(void **state)
{
    (void)state;
    sl_csv_options o = opts();
    o.max_record_bytes = 64;
    o.read_bytes = 16;
    o.on_error = SL_ON_ERROR_SKIP; /* still fatal */
    char data[400];
    size_t k = (size_t)snprintf(data, sizeof data, "a,b\n1,2\n3,\"");
    memset(data + k, 'x', 200);
    k += 200;
    k += (size_t)snprintf(data + k, sizeof data - k, "\"\n5,6\n");
    const char *p = write_file("long.csv", data, k);
    table t = read_table(p, &o, NULL);
    assert_int_equal(t.rc, SL_ELIMIT);
    char want[400];
    snprintf(want, sizeof want, "%s:3: record is longer than max_record_bytes (64 bytes)", p);
    assert_contains(errtext(&t), want);
    table_free(&t);
    /* a complete record in the buffer is held to the same limit */
    o.read_bytes = 4096;
    t = read_table(p, &o, NULL);
    assert_int_equal(t.rc, SL_ELIMIT);
    assert_contains(errtext(&t), ":3: record is longer");
    table_free(&t);
    /* and so is the header */
    o.max_record_bytes = 2;
    t = read_table(p, &o, NULL);
    assert_int_equal(t.rc, SL_ELIMIT);
    assert_contains(errtext(&t), ":1: record is longer");
    table_free(&t);
}

static void test_open_errors(void **state)
{
    (void)state;
    sl_csv_options o = opts();
    table t = read_table(spath("missing.csv"), &o, NULL);
    assert_int_equal(t.rc, SL_ENOTFOUND);
    assert_contains(errtext(&t), "missing.csv': No such file or directory");
    table_free(&t);

    t = read_table(scratch_dir, &o, NULL);
    assert_int_equal(t.rc, SL_EIO);
    assert_contains(errtext(&t), "is a directory");
    table_free(&t);

    const char *p = WRITE("empty.csv", "");
    t = read_table(p, &o, NULL);
    assert_int_equal(t.rc, SL_EPARSE);
    assert_contains(errtext(&t), "empty file: expected a header row");
    table_free(&t);
    p = WRITE("blank.csv", "\n\r\n\n");
    t = read_table(p, &o, NULL);
    assert_int_equal(t.rc, SL_EPARSE);
    table_free(&t);

    p = WRITE("ok.csv", "a\n1\n");
    o.quote = ',';
    t = read_table(p, &o, NULL);
    assert_int_equal(t.rc, SL_ECONFIG);
    assert_contains(errtext(&t), "quote and delimiter must differ");
    table_free(&t);
    o = opts();
    o.delimiter = '\n';
    t = read_table(p, &o, NULL);
    assert_int_equal(t.rc, SL_ECONFIG);
    table_free(&t);
    o = opts();
    o.on_error = SL_ON_ERROR_DLQ;
    t = read_table(p, &o, NULL);
    assert_int_equal(t.rc, SL_ECONFIG);
    assert_contains(errtext(&t), "on_error: dlq needs a rejects file");
    table_free(&t);
    o = opts();
    o.batch_rows = 0;
    t = read_table(p, &o, NULL);
    assert_int_equal(t.rc, SL_ECONFIG);
    table_free(&t);
    o = opts();
    o.infer_rows = -1;
    t = read_table(p, &o, NULL);
    assert_int_equal(t.rc, SL_ECONFIG);
    table_free(&t);
}

/* The tricky file is read with every small chunk size and batch size and
 * must always give the same table as one big read. */
static void test_chunk_boundaries(void **state)
{
    (void)state;
    static const char data[] =
        "\xEF\xBB\xBF"
        "id,\"na,me\",v,t\r\n"
        "1,\"a \"\"b\"\"\r\nc\",1.25,2024-01-01T00:00:00Z\r\n"
        "2,,NA,\r\n"
        "\r\n"
        "3,\"\",-0.5e3,2024-01-01 01:02:03.456\r\n"
        "4,\"x,y\"\"\"\"\",7,2024-01-02\n"
        "5,last,8,2024-01-03";
    sl_csv_options o = opts();
    table ref = read_mem(data, sizeof data - 1, &o);
    assert_int_equal(ref.rc, SL_OK);
    assert_string_equal(ref.text,
                        "id:int64,na,me:string,v:float64,t:timestamp\n"
                        "1|[a \"b\"\r\nc]|1.25|2024-01-01T00:00:00Z\n"
                        "2|NULL|NULL|NULL\n"
                        "3|[]|-500.0|2024-01-01T01:02:03.456000Z\n"
                        "4|[x,y\"\"]|7.0|2024-01-02T00:00:00Z\n"
                        "5|[last]|8.0|2024-01-03T00:00:00Z\n");
    const char *p = write_file("chunks.csv", data, sizeof data - 1);
    for (size_t rb = 1; rb <= 70; rb++) {
        for (int64_t br = 1; br <= 6; br += (br < 3 ? 1 : 3)) {
            o.read_bytes = rb;
            o.batch_rows = br;
            table t = read_table(p, &o, NULL);
            assert_int_equal(t.rc, SL_OK);
            if (strcmp(t.text, ref.text) != 0)
                fail_msg("read_bytes=%zu batch_rows=%lld:\n%s", rb, (long long)br, t.text);
            assert_int_equal(t.batches, (5 + br - 1) / br);
            table_free(&t);
        }
    }
    table_free(&ref);
    /* an error line number is right whatever the chunking */
    static const char bad[] = "a,b\r\n\"1\r\n2\",3\r\n\r\n4,5,6\r\n";
    for (size_t rb = 1; rb <= 30; rb++) {
        o.read_bytes = rb;
        o.batch_rows = 1;
        table t = read_mem(bad, sizeof bad - 1, &o);
        assert_int_equal(t.rc, SL_EPARSE);
        assert_string_equal(errtext(&t), "mem.csv:5: expected 2 fields, found 3");
        assert_int_equal(t.err.offset, 17);
        table_free(&t);
    }
}

static void test_batches_and_progress(void **state)
{
    (void)state;
    const char *p = ints_then("many.csv", 999, "1000");
    sl_csv_options o = opts();
    o.batch_rows = 300;
    sl_csv_reader *r;
    sl_err e;
    assert_int_equal(sl_csv_reader_open(p, &o, NULL, &r, &e), SL_OK);
    int64_t done, total;
    sl_csv_reader_progress(r, &done, &total);
    assert_true(total > 0);
    assert_true(done >= 0 && done < total);
    assert_int_equal(sl_csv_reader_sampled(r), 1000);
    assert_true(sl_csv_reader_inferred(r, 0));
    assert_false(sl_csv_reader_inferred(r, 7));
    sl_batch *b;
    int64_t sizes[8], n = 0, expect = 1;
    while (sl_csv_reader_next(r, &b, &e) == SL_OK) {
        assert_true(n < 8);
        sizes[n++] = b->nrows;
        assert_int_equal(b->cols[0]->null_count, 0);
        assert_null(b->cols[0]->validity);
        for (int64_t i = 0; i < b->nrows; i++)
            assert_int_equal(sl_col_i64(b->cols[0], i), expect++);
        sl_batch_unref(b);
    }
    assert_int_equal(n, 4);
    assert_int_equal(sizes[0], 300);
    assert_int_equal(sizes[3], 100);
    assert_int_equal(sl_csv_reader_next(r, &b, &e), SL_EEOF);
    assert_null(b);
    sl_csv_reader_progress(r, &done, &total);
    assert_int_equal(done, total);
    assert_int_equal(sl_csv_reader_rows(r), 1000);
    assert_int_equal(sl_csv_reader_close(r, &e), SL_OK);
}

static void test_null_bitmap(void **state)
{
    (void)state;
    const char *p = WRITE("nulls.csv", "a,b,c\n1,,x\n,true,\n3,false,z\n");
    sl_csv_options o = opts();
    sl_csv_reader *r;
    sl_err e;
    sl_batch *b;
    assert_int_equal(sl_csv_reader_open(p, &o, NULL, &r, &e), SL_OK);
    assert_int_equal(sl_csv_reader_next(r, &b, &e), SL_OK);
    assert_int_equal(b->nrows, 3);
    for (int c = 0; c < 3; c++) {
        assert_int_equal(b->cols[c]->null_count, 1);
        assert_int_equal(b->cols[c]->length, 3);
    }
    assert_false(sl_col_valid(b->cols[0], 1));
    assert_int_equal(sl_col_i64(b->cols[0], 1), 0); /* null slot is zero */
    assert_false(sl_col_valid(b->cols[1], 0));
    assert_false(sl_col_bool(b->cols[1], 0));
    assert_int_equal(b->cols[2]->offsets[2], b->cols[2]->offsets[1]);
    assert_true(b->schema->fields[0].nullable);
    sl_batch_unref(b);
    assert_int_equal(sl_csv_reader_close(r, &e), SL_OK);
}

static void test_dlq(void **state)
{
    (void)state;
    const char *p = WRITE("dlq.csv", "a,b\n1,2\nx,3\n4\n5,6\n7,\"open");
    const char *rej = spath("rejects.jsonl");
    sl_csv_options o = opts();
    o.on_error = SL_ON_ERROR_DLQ;
    o.rejects_path = rej;
    o.infer_rows = 1;
    table t = read_table(p, &o, NULL);
    assert_int_equal(t.rc, SL_OK);
    assert_string_equal(t.text, "a:int64,b:int64\n1|2\n5|6\n");
    assert_int_equal(t.rejected, 3);
    table_free(&t);
    size_t n;
    char *text = slurp(rej, &n);
    assert_non_null(text);
    json_error_t je;
    const char *line = text;
    static const int64_t lines[] = {3, 4, 6};
    static const int64_t offsets[] = {8, 12, 18};
    static const char *records[] = {"x,3", "4", "7,\"open"};
    static const char *reasons[] = {"column 'a': cannot parse 'x' as int64",
                                    "expected 2 fields, found 1",
                                    "unterminated quoted field"};
    for (int i = 0; i < 3; i++) {
        json_t *j = json_loadb(line, strcspn(line, "\n"), 0, &je);
        assert_non_null(j);
        assert_string_equal(json_string_value(json_object_get(j, "source")), p);
        assert_int_equal(json_integer_value(json_object_get(j, "line")), lines[i]);
        assert_int_equal(json_integer_value(json_object_get(j, "offset")), offsets[i]);
        assert_string_equal(json_string_value(json_object_get(j, "record")), records[i]);
        assert_contains(json_string_value(json_object_get(j, "reason")), reasons[i]);
        json_decref(j);
        line = strchr(line, '\n');
        assert_non_null(line);
        line++;
    }
    assert_int_equal(*line, '\0');
    free(text);
    /* a clean file leaves no rejects file behind */
    const char *rej2 = spath("rejects2.jsonl");
    o.rejects_path = rej2;
    p = WRITE("clean.csv", "a\n1\n");
    t = read_table(p, &o, NULL);
    assert_int_equal(t.rc, SL_OK);
    assert_int_equal(access(rej2, F_OK), -1);
    table_free(&t);
}

static void test_alloc_failures(void **state)
{
    (void)state;
    const char *p = WRITE("alloc.csv",
                          "i,s,f,d\n1,\"a\"\"b\",1.5,2024-01-01\n,,,\n"
                          "3,c,x,2024-01-03\n4,d,2,bad\n");
    const char *rej = spath("alloc_rejects.jsonl");
    int succeeded = 0;
    for (long n = 0; n < 400 && !succeeded; n++) {
        sl_csv_options o = opts();
        o.on_error = SL_ON_ERROR_DLQ;
        o.rejects_path = rej;
        o.batch_rows = 2;
        o.read_bytes = 7;
        o.infer_rows = 2;
        sl_csv_reader *r = NULL;
        sl_batch *b;
        sl_err e;
        sl_rc rc;
        unlink(rej);
        sl_mem_fail_after(n);
        rc = sl_csv_reader_open(p, &o, NULL, &r, &e);
        if (rc == SL_OK) {
            while ((rc = sl_csv_reader_next(r, &b, &e)) == SL_OK)
                sl_batch_unref(b);
            sl_rc rc2 = sl_csv_reader_close(r, &e);
            if (rc == SL_EEOF)
                rc = rc2;
        } else {
            assert_null(r);
        }
        sl_mem_fail_after(-1);
        if (rc != SL_OK && rc != SL_EEOF && rc != SL_ENOMEM)
            fail_msg("n=%ld: rc=%d (%s)", n, rc, e.msg);
        if (rc == SL_ENOMEM)
            assert_string_equal(e.msg, "out of memory");
        succeeded = rc == SL_OK || rc == SL_EEOF;
    }
    assert_true(succeeded);
}

static void test_mem_reader(void **state)
{
    (void)state;
    sl_csv_options o = opts();
    table t = read_mem("a\n1\n", 4, &o);
    assert_int_equal(t.rc, SL_OK);
    assert_string_equal(t.text, "a:int64\n1\n");
    table_free(&t);
    t = read_mem(NULL, 0, &o);
    assert_int_equal(t.rc, SL_EPARSE);
    assert_contains(errtext(&t), "mem.csv: empty file");
    table_free(&t);
    /* defaults when opts is NULL */
    sl_csv_reader *r;
    sl_err e;
    assert_int_equal(sl_csv_reader_open_mem("x;y\n", 4, NULL, NULL, NULL, &r, &e), SL_OK);
    assert_int_equal(sl_csv_reader_schema(r)->n, 1);
    assert_string_equal(sl_csv_reader_schema(r)->fields[0].name, "x;y");
    assert_int_equal(sl_csv_reader_close(r, NULL), SL_OK);
    assert_int_equal(sl_csv_reader_close(NULL, NULL), SL_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_types),
        cmocka_unit_test(test_quoting_rules),
        cmocka_unit_test(test_bom_blank_lines_cr),
        cmocka_unit_test(test_no_header_and_names),
        cmocka_unit_test(test_delimiter_quote_nulls),
        cmocka_unit_test(test_inference_rules),
        cmocka_unit_test(test_type_error_hint),
        cmocka_unit_test(test_override),
        cmocka_unit_test(test_field_count_errors),
        cmocka_unit_test(test_quote_errors),
        cmocka_unit_test(test_record_too_long),
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_chunk_boundaries),
        cmocka_unit_test(test_batches_and_progress),
        cmocka_unit_test(test_null_bitmap),
        cmocka_unit_test(test_dlq),
        cmocka_unit_test(test_alloc_failures),
        cmocka_unit_test(test_mem_reader),
    };
    return cmocka_run_group_tests(tests, scratch_setup, scratch_teardown);
}
