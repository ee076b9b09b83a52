/*
 * test_csv_writer.c: the CSV writer (quoting, formatting, atomic commit,
 * errors, allocation failures), write -> read round trips, and the csv
 * source and sink plugins driven through their config maps.
 */
#include "csv_test_util.h"

#include <dirent.h>
#include <math.h>
#include <sys/stat.h>

#include "sluice/mem.h"
#include "sluice/node.h"
#include "sluice/plugin.h"

extern const sl_plugin sl_plugin_source_csv, sl_plugin_sink_csv;

static sl_csv_options opts(void)
{
    sl_csv_options o;
    sl_csv_options_init(&o);
    return o;
}

/* A batch with every type, nulls, and strings that need quoting. */
static sl_batch *sample_batch(void)
{
    sl_schema *s = sl_schema_new();
    assert_non_null(s);
    assert_int_equal(sl_schema_add(s, "b", SL_BOOL, 1, NULL), SL_OK);
    assert_int_equal(sl_schema_add(s, "i", SL_INT64, 1, NULL), SL_OK);
    assert_int_equal(sl_schema_add(s, "f", SL_FLOAT64, 1, NULL), SL_OK);
    assert_int_equal(sl_schema_add(s, "s", SL_STRING, 1, NULL), SL_OK);
    assert_int_equal(sl_schema_add(s, "d", SL_DATE, 1, NULL), SL_OK);
    assert_int_equal(sl_schema_add(s, "t", SL_TIMESTAMP, 1, NULL), SL_OK);
    assert_int_equal(sl_schema_add(s, "odd, \"name\"", SL_STRING, 1, NULL), SL_OK);
    sl_batch *b = sl_batch_new(s, 8);
    sl_schema_free(s);
    assert_non_null(b);
    static const char *strs[] = {"plain", "a,b", "say \"hi\"", "two\nlines",
                                 "cr\rhere", " lead", "trail ", "", "NA",
                                 "null", "ümlaut", "x"};
    static const double fl[] = {0.1, 3.0, -0.0, 1e300, 5e-324, NAN, INFINITY,
                                -INFINITY, 123456.789, 0.30000000000000004,
                                1e16, -2.5};
    for (int r = 0; r < 12; r++) {
        assert_int_equal(sl_column_append_bool(b->cols[0], r % 2), SL_OK);
        assert_int_equal(sl_column_append_int64(b->cols[1], r == 3 ? INT64_MIN : r * 1000 - 5), SL_OK);
        assert_int_equal(sl_column_append_float64(b->cols[2], fl[r]), SL_OK);
        assert_int_equal(sl_column_append_str(b->cols[3], strs[r], strlen(strs[r])), SL_OK);
        assert_int_equal(sl_column_append_int32(b->cols[4], 19000 + r * 400 - 3000), SL_OK);
        assert_int_equal(sl_column_append_int64(b->cols[5], (int64_t)r * 86400123457 - 1000000), SL_OK);
        assert_int_equal(sl_column_append_str(b->cols[6], strs[11 - r], strlen(strs[11 - r])), SL_OK);
    }
    /* one null row in every column */
    for (int c = 0; c < 7; c++) {
        assert_int_equal(sl_column_append_null(b->cols[c]), SL_OK);
    }
    assert_int_equal(sl_batch_seal(b, NULL), SL_OK);
    return b;
}

static void test_write_format(void **state)
{
    (void)state;
    sl_batch *b = sample_batch();
    const char *p = spath("out.csv");
    sl_csv_options o = opts();
    sl_csv_writer *w;
    sl_err e;
    assert_int_equal(sl_csv_writer_open(p, &o, b->schema, &w, &e), SL_OK);
    assert_int_equal(sl_csv_writer_write(w, b, &e), SL_OK);
    assert_int_equal(sl_csv_writer_rows(w), 13);
    assert_int_equal(sl_csv_writer_close(w, &e), SL_OK);
    char *text = slurp(p, NULL);
    assert_non_null(text);
    assert_string_equal(
        text,
        "b,i,f,s,d,t,\"odd, \"\"name\"\"\"\n"
        "false,-5,0.1,plain,2013-10-22,1969-12-31T23:59:59Z,x\n"
        "true,995,3.0,\"a,b\",2014-11-26,1970-01-01T23:59:59.123457Z,ümlaut\n"
        "false,1995,-0.0,\"say \"\"hi\"\"\",2015-12-31,1970-01-02T23:59:59.246914Z,\"null\"\n"
        "true,-9223372036854775808,1e+300,\"two\nlines\",2017-02-03,1970-01-03T23:59:59.370371Z,\"NA\"\n"
        "false,3995,5e-324,\"cr\rhere\",2018-03-10,1970-01-04T23:59:59.493828Z,\"\"\n"
        "true,4995,nan,\" lead\",2019-04-14,1970-01-05T23:59:59.617285Z,\"trail \"\n"
        "false,5995,inf,\"trail \",2020-05-18,1970-01-06T23:59:59.740742Z,\" lead\"\n"
        "true,6995,-inf,\"\",2021-06-22,1970-01-07T23:59:59.864199Z,\"cr\rhere\"\n"
        "false,7995,123456.789,\"NA\",2022-07-27,1970-01-08T23:59:59.987656Z,\"two\nlines\"\n"
        "true,8995,0.30000000000000004,\"null\",2023-08-31,1970-01-10T00:00:00.111113Z,\"say \"\"hi\"\"\"\n"
        "false,9995,1e+16,ümlaut,2024-10-04,1970-01-11T00:00:00.234570Z,\"a,b\"\n"
        "true,10995,-2.5,x,2025-11-08,1970-01-12T00:00:00.358027Z,plain\n"
        ",,,,,,\n");
    free(text);

    /* read back with the same types: identical table, nulls included */
    table back = read_table(p, &o, b->schema);
    assert_int_equal(back.rc, SL_OK);
    table want;
    memset(&want, 0, sizeof want);
    render_schema(&want, b->schema);
    render_batch(&want, b);
    assert_string_equal(back.text, want.text);
    table_free(&back);
    /* and inference finds the same types on its own */
    back = read_table(p, &o, NULL);
    assert_int_equal(back.rc, SL_OK);
    assert_string_equal(back.text, want.text);
    table_free(&back);
    table_free(&want);
    sl_batch_unref(b);
}

static void test_write_options(void **state)
{
    (void)state;
    sl_batch *b = sample_batch();
    sl_csv_options o = opts();
    o.delimiter = '\t';
    o.header = 0;
    o.n_null_values = 0; /* nothing reads as null: "" and NA stay bare */
    const char *p = spath("out.tsv");
    sl_csv_writer *w;
    sl_err e;
    assert_int_equal(sl_csv_writer_open(p, &o, b->schema, &w, &e), SL_OK);
    assert_int_equal(sl_csv_writer_write(w, b, &e), SL_OK);
    assert_int_equal(sl_csv_writer_write(w, b, &e), SL_OK);
    assert_int_equal(sl_csv_writer_flush(w, &e), SL_OK);
    assert_int_equal(sl_csv_writer_close(w, &e), SL_OK);
    char *text = slurp(p, NULL);
    assert_non_null(text);
    assert_true(strncmp(text, "false\t-5\t0.1\tplain\t", 19) == 0);
    assert_non_null(strstr(text, "\ta,b\t"));
    assert_non_null(strstr(text, "\tNA\t"));
    free(text);
    sl_batch_unref(b);
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *de;
    assert_non_null(d);
    while ((de = readdir(d)) != NULL)
        n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
    closedir(d);
    return n;
}

static void test_atomic_commit(void **state)
{
    (void)state;
    char dir[400];
    snprintf(dir, sizeof dir, "%s/atomic", scratch_dir);
    assert_int_equal(mkdir(dir, 0755), 0);
    char target[500];
    snprintf(target, sizeof target, "%s/t.csv", dir);
    sl_batch *b = sample_batch();
    sl_csv_options o = opts();
    sl_csv_writer *w;
    sl_err e;
    mode_t old_mask = umask(022);
    umask(old_mask);

    /* abort: nothing appears */
    assert_int_equal(sl_csv_writer_open(target, &o, b->schema, &w, &e), SL_OK);
    assert_int_equal(sl_csv_writer_write(w, b, &e), SL_OK);
    assert_int_equal(count_entries(dir), 1); /* the hidden temporary */
    assert_int_equal(access(target, F_OK), -1);
    sl_csv_writer_abort(w);
    assert_int_equal(count_entries(dir), 0);

    /* an existing target is replaced only on close */
    FILE *f = fopen(target, "w");
    fputs("old\n", f);
    fclose(f);
    assert_int_equal(sl_csv_writer_open(target, &o, b->schema, &w, &e), SL_OK);
    assert_int_equal(sl_csv_writer_write(w, b, &e), SL_OK);
    char *text = slurp(target, NULL);
    assert_string_equal(text, "old\n");
    free(text);
    assert_int_equal(sl_csv_writer_close(w, &e), SL_OK);
    assert_int_equal(count_entries(dir), 1);
    text = slurp(target, NULL);
    assert_true(strncmp(text, "b,i,f,", 6) == 0);
    free(text);
    struct stat st;
    assert_int_equal(stat(target, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0666 & ~old_mask); /* not 0600 */
    umask(old_mask);
    sl_batch_unref(b);
    sl_csv_writer_abort(NULL);
    assert_int_equal(sl_csv_writer_close(NULL, NULL), SL_OK);
}

static void test_write_errors(void **state)
{
    (void)state;
    sl_batch *b = sample_batch();
    sl_csv_options o = opts();
    sl_csv_writer *w = NULL;
    sl_err e;
    char bad[400];
    snprintf(bad, sizeof bad, "%s/no/such/dir/x.csv", scratch_dir);
    assert_int_equal(sl_csv_writer_open(bad, &o, b->schema, &w, &e), SL_EIO);
    assert_null(w);
    assert_contains(e.msg, "cannot create");
    assert_contains(e.msg, "No such file or directory");

    o.quote = '\0';
    assert_int_equal(sl_csv_writer_open(spath("q.csv"), &o, b->schema, &w, &e), SL_ECONFIG);
    o = opts();
    assert_int_equal(sl_csv_writer_open(NULL, &o, b->schema, &w, &e), SL_EINVAL);

    /* a batch that does not match the schema */
    sl_schema *s = sl_schema_new();
    assert_int_equal(sl_schema_add(s, "b", SL_BOOL, 1, NULL), SL_OK);
    assert_int_equal(sl_csv_writer_open(spath("m.csv"), &o, s, &w, &e), SL_OK);
    assert_int_equal(sl_csv_writer_write(w, b, &e), SL_ESCHEMA);
    assert_contains(e.msg, "batch has 7 columns, the file has 1");
    assert_int_equal(sl_schema_add(s, "x", SL_STRING, 1, NULL), SL_OK);
    sl_csv_writer_abort(w);
    sl_schema_free(s);
    sl_schema *s2 = sl_schema_copy(b->schema);
    s2->fields[2].type = SL_INT64;
    assert_int_equal(sl_csv_writer_open(spath("m.csv"), &o, s2, &w, &e), SL_OK);
    assert_int_equal(sl_csv_writer_write(w, b, &e), SL_ESCHEMA);
    assert_contains(e.msg, "column 3 is 'f' (float64), expected 'f' (int64)");
    sl_csv_writer_abort(w);
    sl_schema_free(s2);
    assert_int_equal(access(spath("m.csv"), F_OK), -1);
    sl_batch_unref(b);
}

static void test_write_alloc_failures(void **state)
{
    (void)state;
    sl_batch *b = sample_batch();
    const char *p = spath("alloc_out.csv");
    int ok = 0;
    for (long n = 0; n < 200 && !ok; n++) {
        sl_csv_options o = opts();
        sl_csv_writer *w = NULL;
        sl_err e;
        sl_mem_fail_after(n);
        sl_rc rc = sl_csv_writer_open(p, &o, b->schema, &w, &e);
        if (rc == SL_OK) {
            rc = sl_csv_writer_write(w, b, &e);
            if (rc == SL_OK)
                rc = sl_csv_writer_close(w, &e);
            else
                sl_csv_writer_abort(w);
        }
        sl_mem_fail_after(-1);
        assert_true(rc == SL_OK || rc == SL_ENOMEM);
        ok = rc == SL_OK;
    }
    assert_true(ok);
    sl_batch_unref(b);
}

/* Long strings (bigger than the write buffer) and many rows. */
static void test_write_large(void **state)
{
    (void)state;
    sl_schema *s = sl_schema_new();
    assert_int_equal(sl_schema_add(s, "s", SL_STRING, 1, NULL), SL_OK);
    assert_int_equal(sl_schema_add(s, "f", SL_FLOAT64, 1, NULL), SL_OK);
    sl_batch *b = sl_batch_new(s, 16);
    size_t big = (size_t)3 << 20;
    char *str = malloc(big);
    for (size_t i = 0; i < big; i++)
        str[i] = "ab\"c,\n"[i % 6];
    assert_int_equal(sl_column_append_str(b->cols[0], str, big), SL_OK);
    assert_int_equal(sl_column_append_float64(b->cols[1], 1.0 / 3), SL_OK);
    for (int i = 0; i < 50000; i++) {
        assert_int_equal(sl_column_append_str(b->cols[0], "q", 1), SL_OK);
        assert_int_equal(sl_column_append_float64(b->cols[1], i * 0.01), SL_OK);
    }
    assert_int_equal(sl_batch_seal(b, NULL), SL_OK);
    const char *p = spath("large.csv");
    sl_csv_options o = opts();
    sl_csv_writer *w;
    sl_err e;
    assert_int_equal(sl_csv_writer_open(p, &o, s, &w, &e), SL_OK);
    assert_int_equal(sl_csv_writer_write(w, b, &e), SL_OK);
    assert_int_equal(sl_csv_writer_close(w, &e), SL_OK);
    table t = read_table(p, &o, s);
    assert_int_equal(t.rc, SL_OK);
    assert_int_equal(t.rows, 50001);
    table want;
    memset(&want, 0, sizeof want);
    render_schema(&want, s);
    render_batch(&want, b);
    assert_true(t.len == want.len && memcmp(t.text, want.text, t.len) == 0);
    table_free(&t);
    table_free(&want);
    free(str);
    sl_batch_unref(b);
    sl_schema_free(s);
}

/* Drive a plugin through its config map from YAML text. */
static void *plugin_config(const sl_plugin *p, const char *yaml, sl_doc **doc)
{
    sl_err e;
    void *cfg = calloc(1, p->config_size);
    assert_int_equal(sl_yaml_load_string(yaml, strlen(yaml), "spec.yaml", doc, &e), SL_OK);
    if (sl_config_apply(p->config_map, (*doc)->root, cfg, &e) != SL_OK)
        fail_msg("config: %s", e.msg);
    return cfg;
}

static void test_plugins(void **state)
{
    (void)state;
    const char *in = WRITE("plug.tsv", "a\tb\n1\t-\nx\t2\n3\t4\n");
    const char *out = spath("plug_out.csv");
    const char *rej = spath("plug_rejects.jsonl");
    char yaml[1200];
    snprintf(yaml, sizeof yaml,
             "path: %s\ndelimiter: tab\nnull_values: ['-']\non_error: dlq\n"
             "infer_rows: 1\nbatch_rows: 1\n",
             in);
    sl_doc *doc, *doc2;
    void *cfg = plugin_config(&sl_plugin_source_csv, yaml, &doc);
    sl_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.rejects_path = rej;
    sl_schema *hint = sl_schema_new();
    assert_int_equal(sl_schema_add(hint, "b", SL_FLOAT64, 1, NULL), SL_OK);
    ctx.schema_hint = hint;
    void *src, *sink;
    sl_err e;
    sl_schema *schema = NULL;
    assert_int_equal(sl_plugin_source_csv.init(&src, cfg, &ctx, &e), SL_OK);
    sl_schema_free(hint); /* the instance keeps its own copy */
    assert_int_equal(sl_plugin_source_csv.open(src, NULL, &schema, &e), SL_OK);
    assert_int_equal(schema->fields[0].type, SL_INT64);
    assert_int_equal(schema->fields[1].type, SL_FLOAT64);

    void *scfg = plugin_config(&sl_plugin_sink_csv, "path: ignored.csv\nheader: false\n", &doc2);
    sl_ctx sctx;
    memset(&sctx, 0, sizeof sctx);
    sctx.sink_path = out;
    assert_int_equal(sl_plugin_sink_csv.init(&sink, scfg, &sctx, &e), SL_OK);
    assert_int_equal(sl_plugin_sink_csv.open(sink, schema, NULL, &e), SL_OK);
    sl_batch *b;
    int batches = 0;
    sl_rc rc;
    while ((rc = sl_plugin_source_csv.next(src, &b, &e)) == SL_OK) {
        assert_int_equal(sl_plugin_sink_csv.write(sink, b, &e), SL_OK);
        sl_batch_unref(b);
        batches++;
    }
    assert_int_equal(rc, SL_EEOF);
    assert_int_equal(batches, 2);
    int64_t done, total;
    sl_plugin_source_csv.progress(src, &done, &total);
    assert_int_equal(done, total);
    assert_int_equal(sl_plugin_source_csv.rejected(src), 1);
    assert_int_equal(sl_plugin_source_csv.close(src, &e), SL_OK);
    sl_plugin_source_csv.destroy(src);
    assert_int_equal(sl_plugin_sink_csv.flush(sink, &e), SL_OK);
    assert_int_equal(sl_plugin_sink_csv.close(sink, &e), SL_OK);
    sl_plugin_sink_csv.destroy(sink);
    char *text = slurp(out, NULL);
    assert_string_equal(text, "1,\n3,4.0\n");
    free(text);
    text = slurp(rej, NULL);
    assert_non_null(text);
    assert_contains(text, "\"line\":3");
    free(text);
    sl_schema_free(schema);
    sl_config_free(sl_plugin_source_csv.config_map, cfg);
    sl_config_free(sl_plugin_sink_csv.config_map, scfg);
    free(cfg);
    free(scfg);
    sl_doc_free(doc);
    sl_doc_free(doc2);

    /* an unknown key names the closest one */
    void *c3 = calloc(1, sl_plugin_source_csv.config_size);
    sl_doc *d3;
    assert_int_equal(sl_yaml_load_string("path: x\ndelimeter: ';'\n", 23, "s.yaml", &d3, &e), SL_OK);
    assert_int_equal(sl_config_apply(sl_plugin_source_csv.config_map, d3->root, c3, &e), SL_ECONFIG);
    assert_contains(e.msg, "delimiter");
    sl_config_free(sl_plugin_source_csv.config_map, c3);
    free(c3);
    sl_doc_free(d3);

    /* a sink destroyed without close leaves nothing behind */
    void *scfg2 = calloc(1, sl_plugin_sink_csv.config_size);
    assert_int_equal(sl_config_defaults(sl_plugin_sink_csv.config_map, scfg2, &e), SL_OK);
    sctx.sink_path = spath("never.csv");
    assert_int_equal(sl_plugin_sink_csv.init(&sink, scfg2, &sctx, &e), SL_OK);
    assert_int_equal(sl_plugin_sink_csv.open(sink, hint = sl_schema_new(), NULL, &e), SL_OK);
    sl_plugin_sink_csv.destroy(sink);
    assert_int_equal(access(spath("never.csv"), F_OK), -1);
    sctx.sink_path = NULL;
    assert_int_equal(sl_plugin_sink_csv.init(&sink, scfg2, &sctx, &e), SL_ECONFIG);
    sl_schema_free(hint);
    sl_config_free(sl_plugin_sink_csv.config_map, scfg2);
    free(scfg2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_write_format),
        cmocka_unit_test(test_write_options),
        cmocka_unit_test(test_atomic_commit),
        cmocka_unit_test(test_write_errors),
        cmocka_unit_test(test_write_alloc_failures),
        cmocka_unit_test(test_write_large),
        cmocka_unit_test(test_plugins),
    };
    return cmocka_run_group_tests(tests, scratch_setup, scratch_teardown);
}
