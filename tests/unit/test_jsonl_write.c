/* Unit tests for the JSON Lines writer, write -> read round trips,
 * allocation failures and the jsonl plugins (jsonl.h, plugin.h). */
#include "jsonl_test_util.h"

/* ------------------------------------------------------------------ */
/* writer                                                              */

static sl_batch *tricky_batch(void)
{
    sl_schema *s = schema_of("b:bool,i:int64,f:float64,s:string,d:date,t:timestamp,n:null");
    sl_batch *b = sl_batch_new(s, 8);
    sl_column **c = b->cols;
    static const char *strs[] = {"plain", "q\"uote\\back/slash", "ctl\x01\x1f\n\t\r\b\f\x7f",
                                 "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80", ""};
    for (int i = 0; i < 5; i++) {
        sl_column_append_bool(c[0], i & 1);
        sl_column_append_int64(c[1], i == 4 ? INT64_MIN : (int64_t)i * 1000000007);
        sl_column_append_float64(c[2], i == 0 ? 0.1 : i == 1 ? -0.0 : i == 2 ? 1e300 : i == 3 ? 5e-324 : 3.0);
        sl_column_append_str(c[3], strs[i], strlen(strs[i]));
        sl_column_append_int32(c[4], i == 4 ? -719162 : i * 10000);
        sl_column_append_int64(c[5], i == 4 ? -1 : (int64_t)i * 86400123456);
        sl_column_append_null(c[6]);
    }
    for (int j = 0; j < 6; j++) /* a row of nulls */
        sl_column_append_null(c[j]);
    sl_column_append_null(c[6]);
    assert_int_equal(sl_batch_seal(b, NULL), SL_OK);
    sl_schema_free(s);
    return b;
}

static void test_round_trip(void **state)
{
    (void)state;
    const char *path = tpath("rt.jsonl");
    sl_batch *b = tricky_batch();
    sl_jsonl_writer *w;
    sl_err err;
    assert_int_equal(sl_jsonl_writer_open(path, b->schema, &w, &err), SL_OK);
    assert_int_equal(access(path, F_OK), -1); /* nothing before close */
    assert_int_equal(sl_jsonl_writer_write(w, b, &err), SL_OK);
    assert_int_equal(sl_jsonl_writer_write(w, b, &err), SL_OK);
    assert_int_equal(sl_jsonl_writer_rows(w), 12);
    assert_int_equal(sl_jsonl_writer_close(w, &err), SL_OK);
    char *text = read_file(path, NULL);
    assert_non_null(text);
    const char *line1 = "{\"b\":false,\"i\":0,\"f\":0.1,\"s\":\"plain\",\"d\":\"1970-01-01\","
                        "\"t\":\"1970-01-01T00:00:00Z\",\"n\":null}\n";
    assert_memory_equal(text, line1, strlen(line1));
    assert_non_null(strstr(text, "\"s\":\"q\\\"uote\\\\back/slash\""));
    assert_non_null(strstr(text, "\"s\":\"ctl\\u0001\\u001f\\n\\t\\r\\u0008\\u000c\x7f\""));
    assert_non_null(strstr(text, "\"s\":\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\""));
    assert_non_null(strstr(text, "\"f\":-0.0,"));
    assert_non_null(strstr(text, "\"i\":-9223372036854775808,"));
    assert_non_null(strstr(text, "\"d\":\"0001-01-01\""));
    assert_non_null(strstr(text, "\"t\":\"1969-12-31T23:59:59.999999Z\""));
    assert_non_null(strstr(text, "{\"b\":null,\"i\":null,\"f\":null,\"s\":null,\"d\":null,"
                                 "\"t\":null,\"n\":null}\n"));
    free(text);

    /* Reading it back with the same schema gives the same values. */
    char want[4096] = "", got[4096] = "";
    dump_batch(b, want, sizeof want);
    dump_batch(b, want, sizeof want);
    sl_jsonl_reader *r;
    sl_batch *rb;
    assert_int_equal(sl_jsonl_reader_open(path, NULL, b->schema, &r, &err), SL_OK);
    assert_true(sl_schema_equal(sl_jsonl_reader_schema(r), b->schema));
    while (sl_jsonl_reader_next(r, &rb, &err) == SL_OK) {
        dump_batch(rb, got, sizeof got);
        /* -0.0 must survive bit for bit. */
        double z = sl_col_f64(rb->cols[2], 1);
        assert_true(z == 0.0 && signbit(z));
        sl_batch_unref(rb);
    }
    assert_string_equal(got, want);
    sl_jsonl_reader_close(r, NULL);
    /* Inference alone recovers every type but the all-null column's. */
    assert_int_equal(sl_jsonl_reader_open(path, NULL, NULL, &r, &err), SL_OK);
    char sch[256];
    schema_str(sl_jsonl_reader_schema(r), sch, sizeof sch);
    assert_string_equal(sch, "b:bool,i:int64,f:float64,s:string,d:date,t:timestamp,n:null");
    sl_jsonl_reader_close(r, NULL);
    sl_batch_unref(b);
}

static void test_writer_special(void **state)
{
    (void)state;
    const char *path = tpath("sp.jsonl");
    sl_schema *s = schema_of("f:float64,s:string");
    sl_batch *b = sl_batch_new(s, 4);
    sl_column_append_float64(b->cols[0], NAN);
    sl_column_append_float64(b->cols[0], -INFINITY);
    sl_column_append_float64(b->cols[0], 2.5);
    sl_column_append_str(b->cols[1], "bad\xFF\xC3", 5);
    sl_column_append_str(b->cols[1], "\xED\xA0\x80x", 4);
    sl_column_append_str(b->cols[1], "ok", 2);
    sl_batch_seal(b, NULL);
    sl_jsonl_writer *w;
    sl_err err;
    assert_int_equal(sl_jsonl_writer_open(path, s, &w, &err), SL_OK);
    assert_int_equal(sl_jsonl_writer_write(w, b, &err), SL_OK);
    assert_int_equal(sl_jsonl_writer_nonfinite(w), 2);
    assert_int_equal(sl_jsonl_writer_replaced(w), 5);
    assert_int_equal(sl_jsonl_writer_close(w, &err), SL_OK);
    char *text = read_file(path, NULL);
    assert_string_equal(text, "{\"f\":null,\"s\":\"bad\xEF\xBF\xBD\xEF\xBF\xBD\"}\n"
                              "{\"f\":null,\"s\":\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBDx\"}\n"
                              "{\"f\":2.5,\"s\":\"ok\"}\n");
    free(text);

    /* Keys are escaped; a schema mismatch is an error; abort leaves no
     * file and no temporary. */
    sl_schema *s2 = schema_of("a\"b:int64");
    assert_int_equal(sl_jsonl_writer_open(tpath("ab.jsonl"), s2, &w, &err), SL_OK);
    assert_int_equal(sl_jsonl_writer_write(w, b, &err), SL_ESCHEMA);
    assert_string_equal(err.msg, "batch has 2 columns, the output schema has 1");
    sl_jsonl_writer_abort(w);
    assert_int_equal(access(tpath("ab.jsonl"), F_OK), -1);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "ls '%s' | grep -q tmp", tmpdir);
    assert_int_not_equal(system(cmd), 0);
    sl_batch *b2 = sl_batch_new(s2, 1);
    sl_column_append_int64(b2->cols[0], 5);
    sl_batch_seal(b2, NULL);
    assert_int_equal(sl_jsonl_writer_open(tpath("ab.jsonl"), s2, &w, &err), SL_OK);
    assert_int_equal(sl_jsonl_writer_write(w, b2, &err), SL_OK);
    assert_int_equal(sl_jsonl_writer_close(w, &err), SL_OK);
    text = read_file(tpath("ab.jsonl"), NULL);
    assert_string_equal(text, "{\"a\\\"b\":5}\n");
    free(text);
    /* Same count, different column. */
    sl_schema *s3 = schema_of("f:float64,s:int64");
    assert_int_equal(sl_jsonl_writer_open(tpath("x.jsonl"), s3, &w, &err), SL_OK);
    assert_int_equal(sl_jsonl_writer_write(w, b, &err), SL_ESCHEMA);
    assert_string_equal(err.msg, "batch column 2 is 's' (string), the output schema has 's' (int64)");
    sl_jsonl_writer_abort(w);
    /* Unwritable target. */
    assert_int_equal(sl_jsonl_writer_open(tpath("no/such/dir.jsonl"), s, &w, &err), SL_ENOTFOUND);
    assert_non_null(strstr(err.msg, "cannot create"));
    sl_batch_unref(b);
    sl_batch_unref(b2);
    sl_schema_free(s);
    sl_schema_free(s2);
    sl_schema_free(s3);
}

static void test_writer_big_values(void **state)
{
    (void)state;
    /* A string larger than the write buffer, and many rows. */
    const char *path = tpath("big.jsonl");
    sl_schema *s = schema_of("s:string,i:int64");
    sl_batch *b = sl_batch_new(s, 16);
    size_t n = 3u << 20;
    char *big = malloc(n);
    for (size_t i = 0; i < n; i++)
        big[i] = (char)('a' + i % 26);
    big[7] = '\n';
    sl_column_append_str(b->cols[0], big, n);
    sl_column_append_int64(b->cols[1], 1);
    sl_batch_seal(b, NULL);
    sl_jsonl_writer *w;
    sl_err err;
    assert_int_equal(sl_jsonl_writer_open(path, s, &w, &err), SL_OK);
    for (int k = 0; k < 3; k++)
        assert_int_equal(sl_jsonl_writer_write(w, b, &err), SL_OK);
    assert_int_equal(sl_jsonl_writer_close(w, &err), SL_OK);
    sl_jsonl_reader *r;
    sl_batch *rb;
    int64_t rows = 0;
    assert_int_equal(sl_jsonl_reader_open(path, NULL, NULL, &r, &err), SL_OK);
    while (sl_jsonl_reader_next(r, &rb, &err) == SL_OK) {
        for (int64_t i = 0; i < rb->nrows; i++) {
            size_t len;
            const char *v = sl_col_str(rb->cols[0], i, &len);
            assert_int_equal(len, n);
            assert_memory_equal(v, big, n);
        }
        rows += rb->nrows;
        sl_batch_unref(rb);
    }
    assert_int_equal(rows, 3);
    sl_jsonl_reader_close(r, NULL);
    free(big);
    sl_batch_unref(b);
    sl_schema_free(s);
}

/* ------------------------------------------------------------------ */
/* allocation failures                                                 */

static void test_alloc_failures(void **state)
{
    (void)state;
    const char *path = tpath("af.jsonl");
    const char *text = "{\"a\":1,\"s\":\"x\\u00e9\",\"o\":{\"k\":[1]},\"d\":\"2024-01-01\"}\n"
                       "{\"a\":2,\"late\":1,\"s\":\"a longer string to grow data\"}\n"
                       "{\"a\":\"bad\"}\n{\"a\":4,\"late\":2,\"x\":3}\n";
    write_file(path, text, strlen(text));
    sl_jsonl_options o;
    sl_jsonl_options_init(&o);
    o.infer_rows = 2;
    o.batch_rows = 2;
    o.chunk_bytes = 16;
    o.on_error = SL_ON_ERROR_DLQ;
    o.rejects = tpath("af.rejects");
    int ok = 0;
    for (long n = 0; n < 400 && !ok; n++) {
        sl_jsonl_reader *r = NULL;
        sl_batch *b;
        sl_err err;
        sl_rc rc;
        int64_t rows = 0;
        sl_mem_fail_after(n);
        rc = sl_jsonl_reader_open(path, &o, NULL, &r, &err);
        if (rc == SL_OK) {
            while ((rc = sl_jsonl_reader_next(r, &b, &err)) == SL_OK) {
                rows += b->nrows;
                sl_batch_unref(b);
            }
            sl_rc crc = sl_jsonl_reader_close(r, &err);
            if (rc == SL_EEOF)
                rc = crc;
        }
        sl_mem_fail_after(-1);
        if (rc != SL_OK && rc != SL_ENOMEM)
            fail_msg("n=%ld: rc %d: %s", n, rc, err.msg);
        if (rc == SL_OK) {
            assert_int_equal(rows, 3);
            ok = 1;
        }
    }
    assert_true(ok);

    /* Writer. */
    sl_batch *b = tricky_batch();
    ok = 0;
    for (long n = 0; n < 100 && !ok; n++) {
        sl_jsonl_writer *w = NULL;
        sl_err err;
        sl_mem_fail_after(n);
        sl_rc rc = sl_jsonl_writer_open(tpath("afw.jsonl"), b->schema, &w, &err);
        if (rc == SL_OK)
            rc = sl_jsonl_writer_write(w, b, &err);
        if (rc == SL_OK)
            rc = sl_jsonl_writer_close(w, &err);
        else
            sl_jsonl_writer_abort(w);
        sl_mem_fail_after(-1);
        assert_true(rc == SL_OK || rc == SL_ENOMEM);
        ok = rc == SL_OK;
    }
    assert_true(ok);
    sl_batch_unref(b);
}

/* ------------------------------------------------------------------ */
/* plugins                                                             */

extern const sl_plugin sl_plugin_source_jsonl, sl_plugin_sink_jsonl;

static void test_plugins(void **state)
{
    (void)state;
    const char *in = tpath("pin.jsonl"), *out = tpath("pout.jsonl");
    const char *text = "{\"x\":1,\"y\":\"a\"}\n{\"x\":\"bad\"}\n{\"x\":3,\"y\":null}\n";
    write_file(in, text, strlen(text));
    const sl_plugin *src = &sl_plugin_source_jsonl, *sink = &sl_plugin_sink_jsonl;
    assert_int_equal(src->abi_version, SL_PLUGIN_ABI_VERSION);
    assert_string_equal(src->name, "jsonl");
    assert_int_equal(src->kind, SL_PLUGIN_SOURCE);
    assert_int_equal(sink->kind, SL_PLUGIN_SINK);
    /* Every key is documented; on_error offers the shared choices. */
    for (const sl_config_entry *e = src->config_map; e->key; e++) {
        assert_true(e->doc && strlen(e->doc) > 20);
        if (strcmp(e->key, "on_error") == 0) {
            assert_int_equal(e->type, SL_CFG_ENUM);
            assert_string_equal(e->choices, SL_ON_ERROR_CHOICES);
        }
    }
    assert_true(sink->config_map[0].doc != NULL);

    sl_err err;
    void *cfg = calloc(1, src->config_size);
    assert_int_equal(sl_config_defaults(src->config_map, cfg, &err), SL_OK);
    for (const sl_config_entry *e = src->config_map; e->key; e++)
        if (strcmp(e->key, "path") == 0)
            *(char **)((char *)cfg + e->offset) = strdup(in);
        else if (strcmp(e->key, "infer_rows") == 0)
            *(int64_t *)((char *)cfg + e->offset) = 1;
        else if (strcmp(e->key, "on_error") == 0)
            *(int *)((char *)cfg + e->offset) = SL_ON_ERROR_DLQ;
    sl_ctx ctx = {.rejects_path = tpath("prej.jsonl")};
    void *si, *ki;
    sl_schema *schema;
    assert_int_equal(src->init(&si, cfg, &ctx, &err), SL_OK);
    assert_int_equal(src->open(si, NULL, &schema, &err), SL_OK);
    char sch[128];
    schema_str(schema, sch, sizeof sch);
    assert_string_equal(sch, "x:int64,y:string");

    void *kcfg = calloc(1, sink->config_size);
    assert_int_equal(sl_config_defaults(sink->config_map, kcfg, &err), SL_OK);
    sl_ctx kctx = {.sink_path = out};
    assert_int_equal(sink->init(&ki, kcfg, &kctx, &err), SL_OK);
    assert_int_equal(sink->open(ki, schema, NULL, &err), SL_OK);
    sl_batch *b;
    while (src->next(si, &b, &err) == SL_OK) {
        assert_int_equal(sink->write(ki, b, &err), SL_OK);
        sl_batch_unref(b);
    }
    int64_t done, total;
    src->progress(si, &done, &total);
    assert_int_equal(done, total);
    assert_int_equal(src->rejected(si), 1);
    assert_int_equal(sink->flush(ki, &err), SL_OK);
    assert_int_equal(sink->close(ki, &err), SL_OK);
    sink->destroy(ki);
    assert_int_equal(src->close(si, &err), SL_OK);
    src->destroy(si);
    char *got = read_file(out, NULL);
    assert_string_equal(got, "{\"x\":1,\"y\":\"a\"}\n{\"x\":3,\"y\":null}\n");
    free(got);
    got = read_file(tpath("prej.jsonl"), NULL);
    assert_non_null(got);
    assert_non_null(strstr(got, "\"line\":2"));
    free(got);

    /* A sink destroyed without close leaves nothing behind. */
    unlink(out);
    assert_int_equal(sink->init(&ki, kcfg, &kctx, &err), SL_OK);
    assert_int_equal(sink->open(ki, schema, NULL, &err), SL_OK);
    sink->destroy(ki);
    assert_int_equal(access(out, F_OK), -1);
    /* A sink needs a path from somewhere. */
    sl_ctx none = {0};
    assert_int_equal(sink->init(&ki, kcfg, &none, &err), SL_ECONFIG);
    assert_string_equal(err.msg, "jsonl sink needs a 'path'");

    sl_schema_free(schema);
    sl_config_free(src->config_map, cfg);
    sl_config_free(sink->config_map, kcfg);
    free(cfg);
    free(kcfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_writer_special),
        cmocka_unit_test(test_writer_big_values),
        cmocka_unit_test(test_alloc_failures),
        cmocka_unit_test(test_plugins),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
