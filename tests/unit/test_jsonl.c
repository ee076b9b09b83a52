/* Unit tests for the JSON Lines reader (jsonl.h): inference, values,
 * errors, framing, chunk boundaries. Writer and plugins: test_jsonl_write.c. */
#include "jsonl_test_util.h"

/* ------------------------------------------------------------------ */
/* inference                                                           */

static void test_infer_basic(void **state)
{
    (void)state;
    expect_ok("{\"b\":true,\"i\":1,\"f\":1.5,\"s\":\"x\",\"n\":null}\n"
              "{\"b\":false,\"i\":-2,\"f\":2,\"s\":\"y\",\"n\":null}\n",
              "b:bool,i:int64,f:float64,s:string,n:null",
              "true|1|1.5|x|~\nfalse|-2|2.0|y|~\n");
}

static void test_infer_union_and_missing(void **state)
{
    (void)state;
    /* Keys in first-seen order; a key missing from a line is null. */
    expect_ok("{\"a\":1}\n{\"c\":\"z\",\"a\":2}\n{\"b\":true}\n",
              "a:int64,c:string,b:bool", "1|~|~\n2|z|~\n~|~|true\n");
}

static void test_infer_numbers(void **state)
{
    (void)state;
    /* An exponent, a fraction or an out-of-range integer makes float64. */
    expect_ok("{\"a\":1,\"b\":1,\"c\":1}\n{\"a\":1e2,\"b\":0.5,\"c\":9223372036854775808}\n",
              "a:float64,b:float64,c:float64",
              "1.0|1.0|1.0\n100.0|0.5|9.223372036854776e+18\n");
    expect_ok("{\"a\":9223372036854775807}\n{\"a\":-9223372036854775808}\n{\"a\":-0}\n",
              "a:int64", "9223372036854775807\n-9223372036854775808\n0\n");
}

static void test_infer_dates(void **state)
{
    (void)state;
    expect_ok("{\"d\":\"2024-01-31\",\"t\":\"2024-01-31T10:20:30Z\",\"m\":\"2024-01-31\"}\n"
              "{\"d\":\"2024-02-29\",\"t\":\"2024-01-31 10:20\",\"m\":\"2024-02-01T00:00:00.5Z\"}\n",
              "d:date,t:timestamp,m:timestamp",
              "2024-01-31|2024-01-31T10:20:30Z|2024-01-31T00:00:00Z\n"
              "2024-02-29|2024-01-31T10:20:00Z|2024-02-01T00:00:00.500000Z\n");
    /* One string that is not a date keeps the column a string. */
    expect_ok("{\"d\":\"2024-01-31\"}\n{\"d\":\"soon\"}\n", "d:string", "2024-01-31\nsoon\n");
}

static void test_infer_mixed_and_nested(void **state)
{
    (void)state;
    /* Mixed kinds become string; non-strings keep their JSON text, nested
     * values their exact bytes. */
    expect_ok("{\"m\":1,\"o\":{\"x\": [1, {\"y\":null}]},\"a\":[]}\n"
              "{\"m\":\"two\",\"o\":null,\"a\":[\"\\u00e9\"]}\n"
              "{\"m\":true,\"o\":{},\"a\":[1.5e3]}\n",
              "m:string,o:string,a:string",
              "1|{\"x\": [1, {\"y\":null}]}|[]\n"
              "two|~|[\"\\u00e9\"]\n"
              "true|{}|[1.5e3]\n");
}

static void test_infer_rows_limit(void **state)
{
    (void)state;
    /* Only the first infer_rows objects decide the type: the float in row
     * 3 then fails as a float in an int64 column. */
    sl_jsonl_options o;
    sl_jsonl_options_init(&o);
    o.infer_rows = 2;
    const char *text = "{\"a\":1}\n\n{\"a\":2}\n{\"a\":2.5}\n";
    result res;
    run_reader(text, strlen(text), &o, NULL, &res);
    assert_int_equal(res.rc, SL_ESCHEMA);
    assert_string_equal(res.schema, "a:int64");
    assert_int_equal(res.err.line, 4);
    assert_int_equal(res.err.col, 6);
    assert_string_equal(res.err.field, "a");
    assert_non_null(strstr(res.err.msg,
                           "column 'a': 2.5 is not an int64 (fraction or exponent); the type "
                           "was inferred from the first 2 rows; set the column to float64 in "
                           "the schema override"));
}

static void test_infer_ignores_bad_lines(void **state)
{
    (void)state;
    /* A malformed line adds no key and widens no type during inference. */
    sl_jsonl_options o;
    sl_jsonl_options_init(&o);
    o.on_error = SL_ON_ERROR_SKIP;
    const char *text = "{\"a\":1.5,\"zz\":1,}\n{\"a\":1}\n";
    result res;
    run_reader(text, strlen(text), &o, NULL, &res);
    assert_int_equal(res.rc, SL_OK);
    assert_string_equal(res.schema, "a:int64");
    assert_string_equal(res.rows, "1\n");
    assert_int_equal(res.rejected, 1);
}

static void test_override(void **state)
{
    (void)state;
    /* Forced types by name; a string column keeps the JSON text of a
     * number; an override column not in the sample is appended. */
    sl_schema *ovr = schema_of("id:string,x:float64,extra:date");
    const char *text = "{\"id\":42,\"x\":1,\"y\":true}\n{\"id\":\"a7\",\"x\":2.25,\"y\":false,"
                       "\"extra\":\"2020-05-06\"}\n";
    result res;
    run_reader(text, strlen(text), NULL, ovr, &res);
    assert_int_equal(res.rc, SL_OK);
    assert_string_equal(res.schema, "id:string,x:float64,y:bool,extra:date");
    assert_string_equal(res.rows, "42|1.0|true|~\na7|2.25|false|2020-05-06\n");
    sl_schema_free(ovr);

    /* A wrong value in an override column names the override. */
    ovr = schema_of("n:int64");
    text = "{\"n\":\"abc\"}\n";
    run_reader(text, strlen(text), NULL, ovr, &res);
    assert_int_equal(res.rc, SL_ESCHEMA);
    assert_string_equal(res.err.msg, "column 'n': expected int64, found string \"abc\"; "
                                     "the type comes from the schema override; use string");
    sl_schema_free(ovr);
}

static void test_not_nullable(void **state)
{
    (void)state;
    /* nullable: false in the override is enforced for null and missing. */
    sl_schema *ovr = sl_schema_new();
    assert_int_equal(sl_schema_add(ovr, "id", SL_INT64, 0, NULL), SL_OK);
    const char *text = "{\"id\":1,\"v\":2}\n{\"id\":null,\"v\":3}\n{\"v\":4}\n{\"v\":5,\"id\":6}\n";
    result res;
    run_reader(text, strlen(text), NULL, ovr, &res);
    assert_int_equal(res.rc, SL_ESCHEMA);
    assert_int_equal(res.err.line, 2);
    assert_int_equal(res.err.col, 7);
    assert_string_equal(res.err.field, "id");
    assert_string_equal(res.err.msg, "column 'id' is null but the schema says it is not nullable");
    sl_jsonl_options o;
    sl_jsonl_options_init(&o);
    o.on_error = SL_ON_ERROR_SKIP;
    run_reader(text, strlen(text), &o, ovr, &res);
    assert_int_equal(res.rc, SL_OK);
    assert_string_equal(res.rows, "1|2\n6|5\n");
    assert_int_equal(res.rejected, 2);
    text = "{\"id\":1}\n{\"v\":4 }\n";
    run_reader(text, strlen(text), NULL, ovr, &res);
    assert_int_equal(res.rc, SL_ESCHEMA);
    assert_int_equal(res.err.line, 2);
    assert_int_equal(res.err.col, 8);
    assert_string_equal(res.err.field, "id");
    assert_string_equal(res.err.msg, "column 'id' is missing but the schema says it is not nullable");
    /* The batches carry the flag. */
    sl_jsonl_reader *r;
    sl_batch *b;
    sl_err err;
    assert_int_equal(sl_jsonl_reader_open_mem("{\"id\":1}\n", 9, "t", NULL, ovr, &r, &err), SL_OK);
    assert_int_equal(sl_jsonl_reader_schema(r)->fields[0].nullable, 0);
    assert_int_equal(sl_jsonl_reader_next(r, &b, &err), SL_OK);
    assert_int_equal(b->schema->fields[0].nullable, 0);
    sl_batch_unref(b);
    sl_jsonl_reader_close(r, NULL);
    sl_schema_free(ovr);
}

static void test_infer_rows_zero(void **state)
{
    (void)state;
    /* infer_rows 0: the columns are exactly the override's. */
    sl_jsonl_options o;
    sl_jsonl_options_init(&o);
    o.infer_rows = 0;
    sl_schema *ovr = schema_of("b:int64");
    const char *text = "{\"a\":1,\"b\":2}\n{\"b\":3,\"a\":4,\"c\":5}\n";
    sl_jsonl_reader *r;
    sl_batch *b;
    sl_err err;
    assert_int_equal(sl_jsonl_reader_open_mem(text, strlen(text), "t", &o, ovr, &r, &err), SL_OK);
    assert_int_equal(sl_jsonl_reader_next(r, &b, &err), SL_OK);
    assert_int_equal(b->nrows, 2);
    assert_int_equal(b->schema->n, 1);
    sl_batch_unref(b);
    assert_int_equal(sl_jsonl_reader_next(r, &b, &err), SL_EEOF);
    /* Unknown keys are counted per key, in first-seen order. */
    int64_t n;
    assert_int_equal(sl_jsonl_reader_unknown_keys(r), 2);
    assert_string_equal(sl_jsonl_reader_unknown_key(r, 0, &n), "a");
    assert_int_equal(n, 2);
    assert_string_equal(sl_jsonl_reader_unknown_key(r, 1, &n), "c");
    assert_int_equal(n, 1);
    assert_null(sl_jsonl_reader_unknown_key(r, 2, &n));
    sl_jsonl_reader_close(r, NULL);
    sl_schema_free(ovr);
}

static void test_unknown_keys(void **state)
{
    (void)state;
    sl_jsonl_options o;
    sl_jsonl_options_init(&o);
    o.infer_rows = 1;
    o.on_error = SL_ON_ERROR_SKIP;
    /* Line 3 is rejected: its unknown key is not counted. */
    const char *text = "{\"a\":1}\n{\"a\":2,\"late\":[1,2]}\n{\"late\":1,\"a\":\"x\"}\n"
                       "{\"late\":null,\"other\":{}}\n";
    sl_jsonl_reader *r;
    sl_batch *b;
    sl_err err;
    assert_int_equal(sl_jsonl_reader_open_mem(text, strlen(text), "t", &o, NULL, &r, &err), SL_OK);
    assert_int_equal(sl_jsonl_reader_next(r, &b, &err), SL_OK);
    assert_int_equal(b->nrows, 3);
    sl_batch_unref(b);
    int64_t n;
    assert_int_equal(sl_jsonl_reader_unknown_keys(r), 2);
    assert_string_equal(sl_jsonl_reader_unknown_key(r, 0, &n), "late");
    assert_int_equal(n, 2);
    assert_string_equal(sl_jsonl_reader_unknown_key(r, 1, &n), "other");
    assert_int_equal(n, 1);
    assert_int_equal(sl_jsonl_reader_rejected(r), 1);
    sl_jsonl_reader_close(r, NULL);
}

static void test_unknown_overflow(void **state)
{
    (void)state;
    /* Beyond SL_JSONL_MAX_UNKNOWN distinct names, keys count under "*". */
    sl_jsonl_options o;
    sl_jsonl_options_init(&o);
    o.infer_rows = 1;
    size_t cap = 64 * (SL_JSONL_MAX_UNKNOWN + 10), len = 0;
    char *text = malloc(cap);
    len += (size_t)snprintf(text, cap, "{\"a\":1}\n");
    for (int i = 0; i < SL_JSONL_MAX_UNKNOWN + 5; i++)
        len += (size_t)snprintf(text + len, cap - len, "{\"k%d\":1,\"a\":2}\n", i);
    sl_jsonl_reader *r;
    sl_batch *b;
    sl_err err;
    assert_int_equal(sl_jsonl_reader_open_mem(text, len, "t", &o, NULL, &r, &err), SL_OK);
    assert_int_equal(sl_jsonl_reader_next(r, &b, &err), SL_OK);
    assert_int_equal(b->nrows, SL_JSONL_MAX_UNKNOWN + 6);
    sl_batch_unref(b);
    int64_t n;
    assert_int_equal(sl_jsonl_reader_unknown_keys(r), SL_JSONL_MAX_UNKNOWN + 1);
    assert_string_equal(sl_jsonl_reader_unknown_key(r, SL_JSONL_MAX_UNKNOWN, &n), "*");
    assert_int_equal(n, 5);
    sl_jsonl_reader_close(r, NULL);
    free(text);
}

/* ------------------------------------------------------------------ */
/* strings and numbers                                                 */

static void test_strings(void **state)
{
    (void)state;
    expect_ok("{\"s\":\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"}\n"
              "{\"s\":\"\\u0041\\u00e9\\u20AC\\ud83d\\ude00 caf\xC3\xA9 \xF0\x9F\x98\x80\"}\n"
              "{\"s\":\"\"}\n"
              "{\"s\":\"0123456789abcdefghijklmnopqrstuvwxyz long enough for the fast path\"}\n",
              "s:string",
              "a\"b\\c/d\b\f\n\r\t\n"
              "A\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80 caf\xC3\xA9 \xF0\x9F\x98\x80\n"
              "\n"
              "0123456789abcdefghijklmnopqrstuvwxyz long enough for the fast path\n");
    /* Escaped keys decode too. */
    expect_ok("{\"k\\u00e9y\":1,\"\\\"q\\\"\":2}\n", "k\xC3\xA9y:int64,\"q\":int64", "1|2\n");
}

static void test_string_errors(void **state)
{
    (void)state;
    expect_err("{\"s\":\"ab\\x\"}\n", SL_EPARSE, 1, 9, "s", "invalid escape '\\x' in string");
    expect_err("{\"s\":\"\\ud800\"}\n", SL_EPARSE, 1, 7, "s",
               "lone high surrogate \\uD800 in string");
    expect_err("{\"s\":\"\\ud800\\u0041\"}\n", SL_EPARSE, 1, 7, "s", "lone high surrogate");
    expect_err("{\"s\":\"x\\udc00\"}\n", SL_EPARSE, 1, 8, "s", "lone low surrogate \\uDC00");
    expect_err("{\"s\":\"\\u12G4\"}\n", SL_EPARSE, 1, 7, "s", "invalid \\u escape");
    expect_err("{\"s\":\"a\xC3(\"}\n", SL_EPARSE, 1, 8, "s", "invalid UTF-8 (byte 0xC3) in string");
    expect_err("{\"s\":\"\xED\xA0\x80\"}\n", SL_EPARSE, 1, 7, "s", "invalid UTF-8 (byte 0xED)");
    expect_err("{\"s\":\"\xC0\xAF\"}\n", SL_EPARSE, 1, 7, "s", "invalid UTF-8 (byte 0xC0)");
    expect_err("{\"s\":\"\xF4\x90\x80\x80\"}\n", SL_EPARSE, 1, 7, "s", "invalid UTF-8 (byte 0xF4)");
    expect_err("{\"s\":\"a\tb\"}\n", SL_EPARSE, 1, 8, "s",
               "control character 0x09 in string must be escaped");
    expect_err("{\"s\":\"abc\n", SL_EPARSE, 1, 10, "s", "unterminated string");
    expect_err("{\"s\":\"abc\\\n", SL_EPARSE, 1, 10, "s", "unterminated string");
    expect_err("{\"a\\u0000b\":1}\n", SL_EPARSE, 1, 2, "", "key contains a NUL character");
    expect_err("{\"k\xFF\":1}\n", SL_EPARSE, 1, 4, "", "invalid UTF-8 (byte 0xFF)");
}

static void test_numbers_exact(void **state)
{
    (void)state;
    /* Every double must be bit-identical to strtod's. */
    static const char *nums[] = {
        "0.1", "0.30000000000000004", "1e-320", "4.9e-324", "2.2250738585072011e-308",
        "1.7976931348623157e308", "1e309", "-1e309", "123456789012345678901234567890",
        "9007199254740993", "0.000000000000000000000000000001", "3.141592653589793238462643383279",
        "-0.0", "-0", "1E+2", "1e-2", "5e-324", "2.5e-323", "89255.0e-22", "8.98846567431158e307",
        "1.00000000000000011102230246251565404236316680908203125",
        "1.00000000000000011102230246251565404236316680908203124", "7.2057594037927933e16",
        "0.00000000000000000000000000000000000000000000000000000000000000000000000000001e-300",
    };
    char text[256];
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        snprintf(text, sizeof text, "{\"x\":1.5}\n{\"x\":%s}\n", nums[i]);
        sl_jsonl_reader *r;
        sl_batch *b;
        sl_err err;
        assert_int_equal(sl_jsonl_reader_open_mem(text, strlen(text), "t", NULL, NULL, &r, &err),
                         SL_OK);
        assert_int_equal(sl_jsonl_reader_next(r, &b, &err), SL_OK);
        assert_int_equal(b->cols[0]->type, SL_FLOAT64);
        double want = strtod(nums[i], NULL), got = sl_col_f64(b->cols[0], 1);
        if (memcmp(&want, &got, sizeof want) != 0)
            fail_msg("%s: got %.17g want %.17g", nums[i], got, want);
        sl_batch_unref(b);
        sl_jsonl_reader_close(r, NULL);
    }
}

static void test_number_errors(void **state)
{
    (void)state;
    expect_err("{\"n\":01}\n", SL_EPARSE, 1, 6, "n", "leading zeros are not allowed");
    expect_err("{\"n\":1.}\n", SL_EPARSE, 1, 6, "n", "digit expected after '.'");
    expect_err("{\"n\":.5}\n", SL_EPARSE, 1, 6, "n", "unexpected '.', a value expected");
    expect_err("{\"n\":-}\n", SL_EPARSE, 1, 6, "n", "invalid number");
    expect_err("{\"n\":1e}\n", SL_EPARSE, 1, 6, "n", "digit expected in exponent");
    expect_err("{\"n\":+1}\n", SL_EPARSE, 1, 6, "n", "unexpected '+', a value expected");
    expect_err("{\"n\":12abc}\n", SL_EPARSE, 1, 6, "n", "invalid number");
    expect_err("{\"n\":NaN}\n", SL_EPARSE, 1, 6, "n", "unexpected 'N', a value expected");
    expect_err("{\"n\":tru}\n", SL_EPARSE, 1, 6, "n", "invalid literal");
    expect_err("{\"n\":nulls}\n", SL_EPARSE, 1, 6, "n", "invalid literal");
}

/* ------------------------------------------------------------------ */
/* malformed lines                                                     */

static void test_syntax_errors(void **state)
{
    (void)state;
    expect_err("{\"a\":1}\n{\"a\" 2}\n", SL_EPARSE, 2, 6, "", "unexpected '2', ':' expected");
    expect_err("{\"a\":1}\n[1,2]\n", SL_EPARSE, 2, 1, "",
               "unexpected '[', '{' (each line must be a JSON object) expected");
    expect_err("{\"a\":1}\n42\n", SL_EPARSE, 2, 1, "", "'{' (each line must be a JSON object)");
    expect_err("{\"a\":1}\n{\"a\":1,}\n", SL_EPARSE, 2, 8, "", "unexpected '}', a key string expected");
    expect_err("{\"a\":1}\n{\"a\":1\n", SL_EPARSE, 2, 7, "", "unexpected end of line, ',' or '}' expected");
    expect_err("{\"a\":1}\n{\"a\":1} x\n", SL_EPARSE, 2, 9, "",
               "unexpected 'x', end of line after the object expected");
    expect_err("{\"a\":1}\n{\"a\":1}{}\n", SL_EPARSE, 2, 8, "", "end of line after the object");
    expect_err("{\"a\":1}\n{a:1}\n", SL_EPARSE, 2, 2, "", "unexpected 'a', a key string expected");
    expect_err("{\"a\":1}\n{\"a\":}\n", SL_EPARSE, 2, 6, "a", "unexpected '}', a value expected");
    expect_err("{\"a\":[1,2}\n", SL_EPARSE, 1, 10, "a", "unexpected '}', ',' or ']' expected");
    expect_err("{\"a\":{\"b\" 1}}\n", SL_EPARSE, 1, 11, "a", "':' expected");
    expect_err("{\"a\":1}\n{\"a\":1,\"a\":2}\n", SL_EPARSE, 2, 8, "a", "duplicate key 'a'");
    /* A NUL byte in a line. */
    result res;
    run_reader("{\"a\":1}\n{\"a\":1}\0{}\n", 20, NULL, NULL, &res);
    assert_int_equal(res.rc, SL_EPARSE);
    assert_int_equal(res.err.col, 8);
    assert_string_equal(res.err.msg, "unexpected byte 0x00, end of line after the object expected");
    run_reader("{\"a\":\"x\0\"}\n", 11, NULL, NULL, &res);
    assert_int_equal(res.rc, SL_EPARSE);
    assert_string_equal(res.err.msg, "control character 0x00 in string must be escaped");
    /* Duplicate unknown keys are caught too. */
    sl_jsonl_options o;
    sl_jsonl_options_init(&o);
    o.infer_rows = 1;
    const char *text = "{\"a\":1}\n{\"u\":1,\"a\":1,\"u\":2}\n";
    run_reader(text, strlen(text), &o, NULL, &res);
    assert_int_equal(res.rc, SL_EPARSE);
    assert_int_equal(res.err.line, 2);
    assert_int_equal(res.err.col, 14);
    assert_string_equal(res.err.field, "u");
    assert_string_equal(res.err.msg, "duplicate key 'u'");
    /* An escaped unknown key keeps its name in the error after its value
     * was decoded. */
    text = "{\"a\":1}\n{\"\\u0075v\":[\"long string value\",}\n";
    run_reader(text, strlen(text), &o, NULL, &res);
    assert_int_equal(res.rc, SL_EPARSE);
    assert_string_equal(res.err.field, "uv");
    assert_int_equal(res.err.col, 33);
}

static void test_deep_nesting(void **state)
{
    (void)state;
    size_t n = SL_JSONL_MAX_DEPTH + 10;
    char *text = malloc(2 * n + 32);
    strcpy(text, "{\"a\":");
    size_t len = strlen(text);
    memset(text + len, '[', n);
    memset(text + len + n, ']', n);
    strcpy(text + len + 2 * n, "}\n");
    result res;
    run_text(text, &res);
    assert_int_equal(res.rc, SL_EPARSE);
    assert_non_null(strstr(res.err.msg, "nesting deeper than 1024 levels"));
    assert_int_equal(res.err.col, 6 + SL_JSONL_MAX_DEPTH);
    /* Exactly the limit is fine. */
    memset(text + len, '[', SL_JSONL_MAX_DEPTH);
    memset(text + len + SL_JSONL_MAX_DEPTH, ']', SL_JSONL_MAX_DEPTH);
    strcpy(text + len + 2 * SL_JSONL_MAX_DEPTH, "}\n");
    run_text(text, &res);
    assert_int_equal(res.rc, SL_OK);
    assert_string_equal(res.schema, "a:string");
    free(text);
}

static void test_too_many_keys(void **state)
{
    (void)state;
    size_t cap = 16 * (SL_JSONL_MAX_COLUMNS + 2), len = 1;
    char *text = malloc(cap);
    text[0] = '{';
    for (int i = 0; i <= SL_JSONL_MAX_COLUMNS; i++)
        len += (size_t)snprintf(text + len, cap - len, "%s\"k%d\":1", i ? "," : "", i);
    len += (size_t)snprintf(text + len, cap - len, "}\n");
    result res;
    run_reader(text, len, NULL, NULL, &res);
    assert_int_equal(res.rc, SL_ELIMIT);
    assert_int_equal(res.err.line, 1);
    assert_string_equal(res.err.msg, "more than 16384 distinct keys in the sampled rows");
    free(text);
}

static void test_type_errors(void **state)
{
    (void)state;
    const char *head = "{\"i\":1,\"f\":1.5,\"b\":true,\"d\":\"2024-01-01\",\"t\":\"2024-01-01T00:00Z\",\"n\":null}\n";
    char text[512];
    struct {
        const char *line, *field, *msg;
        int col;
    } cases[] = {
        {"{\"i\":\"abc\"}", "i", "column 'i': expected int64, found string \"abc\"; the type was "
                                  "inferred from the first row; set the column to string in "
                                  "the schema override", 6},
        {"{\"i\":2.0}", "i", "column 'i': 2.0 is not an int64 (fraction or exponent)", 6},
        {"{\"i\":1e3}", "i", "column 'i': 1e3 is not an int64 (fraction or exponent)", 6},
        {"{\"i\":99999999999999999999}", "i", "99999999999999999999 is not an int64 (out of range)", 6},
        {"{\"i\":true}", "i", "column 'i': expected int64, found bool true", 6},
        {"{\"f\":\"1.5\"}", "f", "column 'f': expected float64, found string \"1.5\"", 6},
        {"{\"f\":[1]}", "f", "column 'f': expected float64, found array [1]", 6},
        {"{\"b\":1}", "b", "column 'b': expected bool, found number 1", 6},
        {"{\"b\":{\"x\":1}}", "b", "column 'b': expected bool, found object {\"x\":1}", 6},
        {"{\"d\":\"2024-02-30\"}", "d", "column 'd': \"2024-02-30\" is not a valid date (YYYY-MM-DD)", 6},
        {"{\"d\":20240101}", "d", "column 'd': expected date, found number 20240101", 6},
        {"{\"t\":\"yesterday\"}", "t", "column 't': \"yesterday\" is not a valid timestamp", 6},
        {"{\"n\":5}", "n", "column 'n': expected null, found number 5; the type was inferred from "
                           "the first row; set the column to another type", 6},
        {"{\"b\":false, \"i\" : \"x\"}", "i", "expected int64, found string \"x\"", 19},
    };
    g_infer_one = 1;
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        snprintf(text, sizeof text, "%s%s\n", head, cases[k].line);
        result res;
        run_text(text, &res);
        if (res.rc != SL_ESCHEMA || !strstr(res.err.msg, cases[k].msg))
            fail_msg("case %zu: rc %d: %s", k, res.rc, res.err.msg);
        assert_int_equal(res.err.line, 2);
        assert_int_equal(res.err.col, cases[k].col);
        assert_string_equal(res.err.field, cases[k].field);
        assert_int_equal(res.err.offset, (int64_t)strlen(head) + cases[k].col - 1);
    }
    /* An int in a float64 column and a date in a timestamp column are fine. */
    snprintf(text, sizeof text, "%s{\"f\":7,\"t\":\"2024-03-04\"}\n", head);
    result res;
    run_text(text, &res);
    g_infer_one = 0;
    assert_int_equal(res.rc, SL_OK);
    assert_string_equal(res.rows, "1|1.5|true|2024-01-01|2024-01-01T00:00:00Z|~\n"
                                  "~|7.0|~|~|2024-03-04T00:00:00Z|~\n");
}

static void test_message_format(void **state)
{
    (void)state;
    result res;
    g_infer_one = 1;
    run_text("{\"a\":1}\n\n{\"a\":\"x\"}\n", &res);
    g_infer_one = 0;
    char buf[1024];
    sl_err_format(&res.err, buf, sizeof buf);
    assert_string_equal(buf, "t.jsonl:3:6: column 'a': expected int64, found string \"x\"; the "
                             "type was inferred from the first row; set the column to "
                             "string in the schema override");
    assert_int_equal(res.err.offset, 14);
}

static void test_too_long(void **state)
{
    (void)state;
    sl_jsonl_options o;
    sl_jsonl_options_init(&o);
    o.max_record_bytes = 16;
    o.chunk_bytes = 4;
    const char *text = "{\"a\":1}\n{\"a\":\"0123456789abcdef\"}\n{\"a\":3}\r\n";
    result res;
    run_reader(text, strlen(text), &o, NULL, &res);
    assert_int_equal(res.rc, SL_ELIMIT);
    assert_int_equal(res.err.line, 2);
    assert_int_equal(res.err.offset, 8);
    assert_string_equal(res.err.msg, "line longer than max_record_bytes (16 bytes)");
    /* skip: the rest of the long line is dropped, counting goes on. */
    o.on_error = SL_ON_ERROR_SKIP;
    run_reader(text, strlen(text), &o, NULL, &res);
    assert_int_equal(res.rc, SL_OK);
    assert_string_equal(res.rows, "1\n3\n");
    assert_int_equal(res.rejected, 1);
    /* Exactly max bytes (plus CRLF) is accepted, also as the last line. */
    text = "{\"a\":1234567890}\r\n{\"a\":1234567891}";
    run_reader(text, strlen(text), &o, NULL, &res);
    assert_int_equal(res.rc, SL_OK);
    assert_string_equal(res.rows, "1234567890\n1234567891\n");
    /* A long last line without a newline. */
    text = "{\"a\":1}\n{\"a\":1234567890123}";
    run_reader(text, strlen(text), &o, NULL, &res);
    assert_int_equal(res.rc, SL_OK);
    assert_string_equal(res.rows, "1\n");
    assert_int_equal(res.rejected, 1);
}

static void test_skip(void **state)
{
    (void)state;
    sl_jsonl_options o;
    sl_jsonl_options_init(&o);
    o.on_error = SL_ON_ERROR_SKIP;
    o.infer_rows = 1;
    const char *text = "{\"a\":1,\"s\":\"x\"}\n{\"a\":\"bad\",\"s\":\"lost\"}\n{oops\n"
                       "{\"s\":\"y\",\"a\":3}\n";
    result res;
    run_reader(text, strlen(text), &o, NULL, &res);
    assert_int_equal(res.rc, SL_OK);
    assert_string_equal(res.rows, "1|x\n3|y\n");
    assert_int_equal(res.rejected, 2);
}

static void test_dlq(void **state)
{
    (void)state;
    sl_jsonl_options o;
    sl_jsonl_options_init(&o);
    o.on_error = SL_ON_ERROR_DLQ;
    o.infer_rows = 1;
    o.rejects = tpath("rejects.jsonl");
    unlink(o.rejects);
    const char *text = "{\"a\":1}\n{\"a\":2.5}\n{\"a\":3}\n{\"a\":\"q\\\"\"}\n";
    result res;
    run_reader(text, strlen(text), &o, NULL, &res);
    assert_int_equal(res.rc, SL_OK);
    assert_string_equal(res.rows, "1\n3\n");
    assert_int_equal(res.rejected, 2);
    char *got = read_file(o.rejects, NULL);
    assert_non_null(got);
    assert_non_null(strstr(got, "\"line\":2"));
    assert_non_null(strstr(got, "\"offset\":8"));
    assert_non_null(strstr(got, "col 6: column 'a': 2.5 is not an int64"));
    assert_non_null(strstr(got, "\"record\":\"{\\\"a\\\":2.5}\""));
    assert_non_null(strstr(got, "\"line\":4"));
    assert_non_null(strstr(got, "\"record\":\"{\\\"a\\\":\\\"q\\\\\\\"\\\"}\""));
    free(got);
    /* dlq without a rejects path is a usage error. */
    o.rejects = NULL;
    run_reader(text, strlen(text), &o, NULL, &res);
    assert_int_equal(res.rc, SL_EINVAL);
    assert_string_equal(res.err.msg, "on_error: dlq needs a rejects file path");
    /* A clean run leaves no rejects file. */
    o.rejects = tpath("rejects2.jsonl");
    run_reader("{\"a\":1}\n", 8, &o, NULL, &res);
    assert_int_equal(res.rc, SL_OK);
    assert_int_equal(access(o.rejects, F_OK), -1);
}

static void test_sticky_failure(void **state)
{
    (void)state;
    sl_jsonl_options o;
    sl_jsonl_options_init(&o);
    o.batch_rows = 1;
    const char *text = "{\"a\":1}\n{\"a\":x}\n{\"a\":3}\n";
    sl_jsonl_reader *r;
    sl_batch *b;
    sl_err err;
    assert_int_equal(sl_jsonl_reader_open_mem(text, strlen(text), "t", &o, NULL, &r, &err), SL_OK);
    assert_int_equal(sl_jsonl_reader_next(r, &b, &err), SL_OK);
    sl_batch_unref(b);
    assert_int_equal(sl_jsonl_reader_next(r, &b, &err), SL_EPARSE);
    assert_null(b);
    sl_err_clear(&err);
    assert_int_equal(sl_jsonl_reader_next(r, &b, &err), SL_EPARSE);
    assert_int_equal(err.line, 2);
    assert_non_null(strstr(err.msg, "unexpected 'x', a value expected"));
    assert_int_equal(sl_jsonl_reader_next(r, &b, NULL), SL_EPARSE);
    sl_jsonl_reader_close(r, NULL);
}

/* ------------------------------------------------------------------ */
/* framing                                                             */

static void test_framing(void **state)
{
    (void)state;
    /* BOM, CRLF, blank and whitespace-only lines, no final newline. */
    expect_ok("\xEF\xBB\xBF{\"a\":1}\r\n\r\n   \n\t{ \"a\" : 2 }  \r\n\n{\"a\":3}",
              "a:int64", "1\n2\n3\n");
    /* A BOM is only skipped at the start of the file. */
    expect_err("{\"a\":1}\n\xEF\xBB\xBF{\"a\":1}\n", SL_EPARSE, 2, 1, "", "unexpected byte 0xEF");
    /* Line numbers count blank lines; error offsets count the BOM. */
    result res;
    run_text("\xEF\xBB\xBF{\"a\":1}\n\n{\"a\":?}\n", &res);
    assert_int_equal(res.rc, SL_EPARSE);
    assert_int_equal(res.err.line, 3);
    assert_int_equal(res.err.col, 6);
    assert_int_equal(res.err.offset, 3 + 8 + 1 + 5);
    /* Empty input: no columns, no rows. */
    expect_ok("", "", "");
    expect_ok("\n\n", "", "");
    /* Objects without keys still count as rows. */
    result r2;
    run_text("{}\n{ }\n", &r2);
    assert_int_equal(r2.rc, SL_OK);
    assert_int_equal(r2.nrows, 2);
}

static void test_chunk_boundaries(void **state)
{
    (void)state;
    const char *text =
        "\xEF\xBB\xBF{\"id\":1,\"s\":\"caf\xC3\xA9 \\ud83d\\ude00 \\\"q\\\"\",\"f\":0.1,\"b\":true,"
        "\"d\":\"2024-01-02\",\"o\":{\"k\":[1,2,{\"z\":null}]}}\r\n"
        "\n"
        "{\"s\":\"a fairly long string value that spans several tiny chunks\",\"id\":2}\n"
        "{\"id\":3,\"f\":-1e-7,\"b\":false,\"n\":null}\n"
        "   \r\n"
        "{\"f\":12345678901234567890,\"id\":4,\"s\":\"\"}";
    sl_jsonl_options o;
    sl_jsonl_options_init(&o);
    result ref, res;
    run_reader(text, strlen(text), &o, NULL, &ref);
    assert_int_equal(ref.rc, SL_OK);
    assert_int_equal(ref.nrows, 4);
    for (size_t chunk = 1; chunk <= 70; chunk++) {
        for (int64_t batch = 1; batch <= 5; batch += 2) {
            o.chunk_bytes = chunk;
            o.batch_rows = batch;
            run_reader(text, strlen(text), &o, NULL, &res);
            assert_int_equal(res.rc, SL_OK);
            assert_string_equal(res.schema, ref.schema);
            assert_string_equal(res.rows, ref.rows);
            assert_int_equal(res.batches, (4 + batch - 1) / batch);
        }
    }
}

static void test_file_and_progress(void **state)
{
    (void)state;
    const char *path = tpath("p.jsonl");
    char text[4096] = "";
    for (int i = 0; i < 100; i++)
        snprintf(text + strlen(text), sizeof text - strlen(text), "{\"i\":%d}\n", i);
    write_file(path, text, strlen(text));
    sl_jsonl_options o;
    sl_jsonl_options_init(&o);
    o.batch_rows = 30;
    o.chunk_bytes = 64;
    sl_jsonl_reader *r;
    sl_batch *b;
    sl_err err;
    int64_t done, total, rows = 0;
    assert_int_equal(sl_jsonl_reader_open(path, &o, NULL, &r, &err), SL_OK);
    sl_jsonl_reader_progress(r, &done, &total);
    assert_int_equal(done, 0);
    assert_int_equal(total, (int64_t)strlen(text));
    int64_t last = 0;
    while (sl_jsonl_reader_next(r, &b, &err) == SL_OK) {
        assert_true(b->nrows <= 30);
        assert_int_equal(sl_col_i64(b->cols[0], 0), rows);
        rows += b->nrows;
        sl_batch_unref(b);
        sl_jsonl_reader_progress(r, &done, NULL);
        assert_true(done >= last);
        last = done;
    }
    assert_int_equal(rows, 100);
    sl_jsonl_reader_progress(r, &done, &total);
    assert_int_equal(done, total);
    assert_int_equal(sl_jsonl_reader_close(r, &err), SL_OK);

    /* Missing file and a directory. */
    sl_err_clear(&err);
    assert_int_equal(sl_jsonl_reader_open(tpath("nope.jsonl"), NULL, NULL, &r, &err), SL_ENOTFOUND);
    assert_null(r);
    assert_non_null(strstr(err.msg, "cannot open"));
    assert_non_null(strstr(err.file, "nope.jsonl"));
    assert_int_equal(sl_jsonl_reader_open(tmpdir, NULL, NULL, &r, &err), SL_EIO);
    assert_non_null(strstr(err.msg, "is a directory"));
}

static void test_options(void **state)
{
    (void)state;
    sl_jsonl_options o;
    sl_jsonl_reader *r;
    sl_err err;
    sl_jsonl_options_init(&o);
    assert_int_equal(o.infer_rows, 10000);
    assert_int_equal(o.batch_rows, 65536);
    assert_int_equal(o.max_record_bytes, 16 * 1024 * 1024);
    assert_int_equal(o.on_error, SL_ON_ERROR_FAIL);
    o.batch_rows = 0;
    assert_int_equal(sl_jsonl_reader_open_mem("", 0, "t", &o, NULL, &r, &err), SL_EINVAL);
    assert_string_equal(err.msg, "batch_rows must be >= 1");
    sl_jsonl_options_init(&o);
    o.infer_rows = -1;
    assert_int_equal(sl_jsonl_reader_open_mem("", 0, "t", &o, NULL, &r, &err), SL_EINVAL);
    sl_jsonl_options_init(&o);
    o.max_record_bytes = 0;
    assert_int_equal(sl_jsonl_reader_open_mem("", 0, "t", &o, NULL, &r, &err), SL_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_infer_basic),
        cmocka_unit_test(test_infer_union_and_missing),
        cmocka_unit_test(test_infer_numbers),
        cmocka_unit_test(test_infer_dates),
        cmocka_unit_test(test_infer_mixed_and_nested),
        cmocka_unit_test(test_infer_rows_limit),
        cmocka_unit_test(test_infer_ignores_bad_lines),
        cmocka_unit_test(test_override),
        cmocka_unit_test(test_not_nullable),
        cmocka_unit_test(test_infer_rows_zero),
        cmocka_unit_test(test_unknown_keys),
        cmocka_unit_test(test_unknown_overflow),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_string_errors),
        cmocka_unit_test(test_numbers_exact),
        cmocka_unit_test(test_number_errors),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_too_many_keys),
        cmocka_unit_test(test_type_errors),
        cmocka_unit_test(test_message_format),
        cmocka_unit_test(test_too_long),
        cmocka_unit_test(test_skip),
        cmocka_unit_test(test_dlq),
        cmocka_unit_test(test_sticky_failure),
        cmocka_unit_test(test_framing),
        cmocka_unit_test(test_chunk_boundaries),
        cmocka_unit_test(test_file_and_progress),
        cmocka_unit_test(test_options),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
