/*
 * test_spec.c: spec.h: loading good and bad pipeline specs. The test
 * registers small fake plugins (and never calls sl_plugins_init), so the
 * expected messages do not depend on the real plugins' settings.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sluice/mem.h"
#include "sluice/spec.h"

/* ---- fake plugins ------------------------------------------------------ */

typedef struct src_cfg {
    char *path;
    char delimiter;
    int64_t infer_rows;
    int on_error;
} src_cfg;

static const sl_config_entry src_map[] = {
    {"path", SL_CFG_STR, NULL, SL_CFG_REQUIRED, NULL, offsetof(src_cfg, path),
     "File to read."},
    {"delimiter", SL_CFG_CHAR, ",", 0, NULL, offsetof(src_cfg, delimiter),
     "Field separator."},
    {"infer_rows", SL_CFG_INT, "100", 0, NULL, offsetof(src_cfg, infer_rows),
     "Rows used to infer types."},
    {"on_error", SL_CFG_ENUM, "fail", 0, "fail|skip|dlq",
     offsetof(src_cfg, on_error), "Bad rows."},
    {0}};

typedef struct path_cfg {
    char *path;
} path_cfg;

static const sl_config_entry path_map[] = {
    {"path", SL_CFG_STR, NULL, SL_CFG_REQUIRED, NULL, offsetof(path_cfg, path),
     "File or directory."},
    {0}};

typedef struct filter_cfg {
    sl_cfg_expr expr;
} filter_cfg;

static const sl_config_entry filter_map[] = {
    {"expr", SL_CFG_EXPR, NULL, SL_CFG_REQUIRED | SL_CFG_SHORTHAND, NULL,
     offsetof(filter_cfg, expr), "Rows to keep."},
    {0}};

typedef struct derive_cfg {
    sl_strmap cols;
} derive_cfg;

static const sl_config_entry derive_map[] = {
    {"columns", SL_CFG_STRMAP, NULL, SL_CFG_REQUIRED | SL_CFG_WHOLE, NULL,
     offsetof(derive_cfg, cols), "name: expression."},
    {0}};

typedef struct cols_cfg {
    sl_strlist columns;
    int method;
} cols_cfg;

static const sl_config_entry select_map[] = {
    {"columns", SL_CFG_STRLIST, NULL, SL_CFG_REQUIRED | SL_CFG_SHORTHAND, NULL,
     offsetof(cols_cfg, columns), "Columns to keep."},
    {0}};

static const sl_config_entry scale_map[] = {
    {"columns", SL_CFG_STRLIST, NULL, SL_CFG_REQUIRED, NULL,
     offsetof(cols_cfg, columns), "Columns to scale."},
    {"method", SL_CFG_ENUM, "zscore", 0, "zscore|minmax",
     offsetof(cols_cfg, method), "Scaling."},
    {0}};

static const sl_config_entry onehot_map[] = {
    {"columns", SL_CFG_STRLIST, NULL, 0, NULL, offsetof(cols_cfg, columns),
     "Columns (default: every string column)."},
    {0}};

#define FAKE(var, kind_, name_, map_, type_, example_)                        \
    static const sl_plugin var = {.abi_version = SL_PLUGIN_ABI_VERSION,      \
                                  .name = name_,                              \
                                  .kind = kind_,                              \
                                  .summary = "Fake " name_ ".",               \
                                  .example = example_,                        \
                                  .config_map = map_,                         \
                                  .config_size = sizeof(type_)}

FAKE(src_csv, SL_PLUGIN_SOURCE, "csv", src_map, src_cfg,
     "source: { type: csv, path: data.csv }");
FAKE(src_jsonl, SL_PLUGIN_SOURCE, "jsonl", path_map, path_cfg, NULL);
FAKE(sink_csv, SL_PLUGIN_SINK, "csv", path_map, path_cfg, NULL);
FAKE(sink_jsonl, SL_PLUGIN_SINK, "jsonl", path_map, path_cfg, NULL);
FAKE(t_filter, SL_PLUGIN_TRANSFORM, "filter", filter_map, filter_cfg,
     "- filter: \"x > 0\"\n");
FAKE(t_derive, SL_PLUGIN_TRANSFORM, "derive", derive_map, derive_cfg, NULL);
FAKE(t_select, SL_PLUGIN_TRANSFORM, "select", select_map, cols_cfg, NULL);
FAKE(t_scale, SL_PLUGIN_TRANSFORM, "scale", scale_map, cols_cfg, NULL);
FAKE(t_onehot, SL_PLUGIN_TRANSFORM, "onehot", onehot_map, cols_cfg, NULL);
static const sl_plugin t_shuffle = {.abi_version = SL_PLUGIN_ABI_VERSION,
                                    .name = "shuffle",
                                    .kind = SL_PLUGIN_TRANSFORM,
                                    .summary = "Fake, no settings."};

static int setup_plugins(void **state)
{
    (void)state;
    const sl_plugin *all[] = {&src_csv,  &src_jsonl, &sink_csv, &sink_jsonl,
                              &t_filter, &t_derive,  &t_select, &t_scale,
                              &t_onehot, &t_shuffle};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (sl_plugin_register(all[i], NULL) != SL_OK)
            return -1;
    return 0;
}

/* ---- helpers ----------------------------------------------------------- */

static char errbuf[2048];
static sl_rc last_rc;

static sl_spec *load_named(const char *name, const char *text)
{
    sl_spec *s = NULL;
    sl_err e;
    sl_err_clear(&e);
    sl_rc rc = last_rc = sl_spec_load_string(text, strlen(text), name, &s, &e);
    errbuf[0] = '\0';
    if (rc != SL_OK) {
        sl_err_format(&e, errbuf, sizeof errbuf);
        assert_null(s);
    } else {
        assert_non_null(s);
    }
    return s;
}

static sl_spec *load(const char *text)
{
    return load_named("p.yaml", text);
}

/* Every invalid spec, bad YAML included, fails with SL_ECONFIG. */
static void expect(const char *text, const char *msg)
{
    assert_null(load(text));
    assert_string_equal(errbuf, msg);
    assert_int_equal(last_rc, SL_ECONFIG);
}

#define SRC "source: {type: csv, path: d.csv}\n"

/* ---- good specs -------------------------------------------------------- */

static void test_full_spec(void **state)
{
    (void)state;
    sl_spec *s = load("name: demo\n"
                      "description: A demo.\n"
                      "schema: models/data_models/raw.json\n"
                      "source:\n"
                      "  type: csv\n"
                      "  path: data/in.csv\n"
                      "  infer_rows: 500\n"
                      "  on_error: dlq\n"
                      "transforms:\n"
                      "  - filter: \"x > 0\"\n"
                      "  - derive: {r: a - b}\n"
                      "  - select: [a, r]\n"
                      "  - scale: {columns: [a], method: minmax}\n"
                      "  - onehot\n"
                      "  - shuffle:\n"
                      "split: {test: 0.25, seed: 7, stratify: label}\n"
                      "sink: {type: jsonl, path: out/}\n"
                      "transform_output: out/t.json\n"
                      "model: {type: random_forest, target: label, trees: 10}\n"
                      "evaluate: [auc, roc_auc, f1]\n"
                      "registry: models/ml_models\n");
    assert_non_null(s);
    assert_string_equal(s->file, "p.yaml");
    assert_string_equal(s->name, "demo");
    assert_string_equal(s->description, "A demo.");
    assert_string_equal(s->schema_path, "models/data_models/raw.json");

    assert_ptr_equal(s->source.plugin, &src_csv);
    assert_int_equal(s->source.line, 5);
    assert_int_equal(s->source.col, 3);
    assert_int_equal(s->source.node->kind, SL_NODE_MAP);
    assert_non_null(sl_node_get(s->source.node, "type")); /* kept */
    const src_cfg *sc = s->source.config;
    assert_string_equal(sc->path, "data/in.csv");
    assert_int_equal(sc->infer_rows, 500);
    assert_int_equal(sc->on_error, 2);
    assert_int_equal(sc->delimiter, ',');

    assert_int_equal(s->ntransforms, 6);
    assert_ptr_equal(s->transforms[0].plugin, &t_filter);
    assert_int_equal(s->transforms[0].line, 10);
    assert_int_equal(s->transforms[0].col, 5);
    const filter_cfg *fc = s->transforms[0].config;
    assert_string_equal(fc->expr.text, "x > 0");
    assert_int_equal(fc->expr.line, 10);
    assert_int_equal(fc->expr.col, 14);
    const derive_cfg *dc = s->transforms[1].config;
    assert_int_equal(dc->cols.n, 1);
    assert_string_equal(dc->cols.values[0], "a - b");
    const cols_cfg *cc = s->transforms[2].config;
    assert_int_equal(cc->columns.n, 2);
    assert_string_equal(cc->columns.items[1], "r");
    cc = s->transforms[3].config;
    assert_int_equal(cc->method, 1);
    assert_ptr_equal(s->transforms[4].plugin, &t_onehot);
    assert_null(s->transforms[4].node);
    assert_int_equal(s->transforms[4].line, 14);
    assert_ptr_equal(s->transforms[5].plugin, &t_shuffle);
    assert_non_null(s->transforms[5].config);

    assert_int_equal(s->has_split, 1);
    assert_true(s->split_test == 0.25);
    assert_int_equal(s->split_seed, 7);
    assert_string_equal(s->split_stratify, "label");
    assert_ptr_equal(s->sink.plugin, &sink_jsonl);
    assert_string_equal(((const path_cfg *)s->sink.config)->path, "out/");
    assert_string_equal(s->transform_output, "out/t.json");
    assert_int_equal(s->model->kind, SL_NODE_MAP);
    assert_int_equal(s->evaluate->kind, SL_NODE_SEQ);
    assert_string_equal(s->registry->value, "models/ml_models");
    /* the training sections, validated */
    assert_string_equal(s->model_spec->type, "random_forest");
    assert_string_equal(s->model_spec->target, "label");
    assert_int_equal(s->model_spec->task, SL_TASK_NONE);
    assert_int_equal(s->model_spec->features.n, 0);
    assert_int_equal(s->model_spec->nparams, 1);
    assert_string_equal(s->model_spec->params[0].key, "trees");
    assert_string_equal(s->model_spec->params[0].value, "10");
    assert_int_equal(s->evaluate_spec->given, 1);
    assert_int_equal(s->evaluate_spec->metrics.n, 2); /* roc_auc is auc */
    assert_string_equal(s->evaluate_spec->metrics.items[0], "auc");
    assert_string_equal(s->evaluate_spec->metrics.items[1], "f1");
    assert_int_equal(s->evaluate_spec->baseline, SL_BASELINE_BLESSED);
    assert_null(s->evaluate_spec->gate);
    assert_string_equal(s->registry_path, "models/ml_models");
    assert_string_equal(s->registry_name, "demo");
    sl_spec_free(s);
}

static void test_minimal_spec_and_defaults(void **state)
{
    (void)state;
    sl_spec *s = load_named("specs/my_pipe.yaml", SRC);
    assert_string_equal(s->name, "my_pipe");
    assert_null(s->description);
    assert_null(s->schema_path);
    assert_int_equal(s->ntransforms, 0);
    assert_int_equal(s->has_split, 0);
    assert_true(s->split_test == 0.2);
    assert_int_equal(s->split_seed, 42);
    assert_null(s->split_stratify);
    assert_null(s->sink.plugin);
    assert_null(s->sink.config);
    assert_null(s->transform_output);
    assert_null(s->model);
    assert_null(s->model_spec);
    assert_null(s->evaluate_spec);
    sl_spec_free(s);

    s = load_named("noext", SRC "transforms: []\nsplit:\n");
    assert_string_equal(s->name, "noext");
    assert_int_equal(s->ntransforms, 0);
    assert_int_equal(s->has_split, 1);
    assert_true(s->split_test == 0.2);
    sl_spec_free(s);

    s = load(SRC "transforms:\nsplit: 0.3\n");
    assert_int_equal(s->has_split, 1);
    assert_true(s->split_test == 0.3);
    assert_int_equal(s->split_seed, 42);
    sl_spec_free(s);
}

static void test_load_file(void **state)
{
    (void)state;
    char path[] = "/tmp/weather_XXXXXX.yaml";
    int fd = mkstemps(path, 5);
    assert_true(fd >= 0);
    const char *text = SRC "sink: {path: out/x.csv}\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    sl_spec *s = NULL;
    sl_err e;
    sl_err_clear(&e);
    assert_int_equal(sl_spec_load(path, &s, &e), SL_OK);
    char stem[64];
    snprintf(stem, sizeof stem, "%.*s", (int)(strlen(path) - 10), path + 5);
    assert_string_equal(s->name, stem);
    assert_string_equal(s->file, path);
    assert_ptr_equal(s->sink.plugin, &sink_csv);
    sl_spec_free(s);
    unlink(path);
    sl_err_clear(&e);
    assert_int_equal(sl_spec_load(path, &s, &e), SL_EIO);
    assert_null(s);
}

static void test_type_inference(void **state)
{
    (void)state;
    sl_spec *s = load("source: {path: d.CSV}\n");
    assert_ptr_equal(s->source.plugin, &src_csv);
    assert_int_equal(((const src_cfg *)s->source.config)->delimiter, ',');
    sl_spec_free(s);
    s = load("source: {path: d.tsv}\n");
    assert_ptr_equal(s->source.plugin, &src_csv);
    assert_int_equal(((const src_cfg *)s->source.config)->delimiter, '\t');
    sl_spec_free(s);
    /* An explicit delimiter wins over the extension. */
    s = load("source: {path: d.tsv, delimiter: ';'}\n");
    assert_int_equal(((const src_cfg *)s->source.config)->delimiter, ';');
    sl_spec_free(s);
    const char *jsonl[] = {"d.jsonl", "d.ndjson", "d.json"};
    for (int i = 0; i < 3; i++) {
        char text[64];
        snprintf(text, sizeof text, "source: {path: %s}\n", jsonl[i]);
        s = load(text);
        assert_ptr_equal(s->source.plugin, &src_jsonl);
        sl_spec_free(s);
    }
    /* An explicit type wins over the extension. */
    s = load("source: {type: jsonl, path: d.csv}\n");
    assert_ptr_equal(s->source.plugin, &src_jsonl);
    sl_spec_free(s);

    expect("source: {path: d.parquet}\n",
           "p.yaml:1:9: source has no 'type' and path 'd.parquet' does not "
           "tell it; add a 'type' key (available: csv, jsonl)");
    expect("source: {delimiter: ';'}\n",
           "p.yaml:1:9: missing required key 'type' in source (available: "
           "csv, jsonl)");
    expect(SRC "sink: {path: out/}\n",
           "p.yaml:2:7: sink has no 'type' and path 'out/' does not tell it; "
           "add a 'type' key (available: csv, jsonl)");
}

/* ---- bad specs --------------------------------------------------------- */

static void test_top_level_errors(void **state)
{
    (void)state;
    expect("", "p.yaml: the spec is empty: it needs at least a 'source'");
    expect("# nothing\n", "p.yaml: the spec is empty: it needs at least a "
                          "'source'");
    expect("- a\n", "p.yaml:1:1: expected a mapping of keys (name, source, "
                    "transforms, ...) at the top level, got a list");
    expect("just text\n", "p.yaml:1:1: expected a mapping of keys (name, "
                          "source, transforms, ...) at the top level, got a "
                          "single value");
    expect("name: x\n", "p.yaml:1:1: missing required key 'source' in the spec");
    expect(SRC "transfroms: []\n",
           "p.yaml:2:1: unknown key 'transfroms' in the spec (did you mean "
           "'transforms'?)");
    expect(SRC "sinks: {path: o.csv}\n",
           "p.yaml:2:1: unknown key 'sinks' in the spec (did you mean 'sink'?)");
    expect(SRC "outputs: 1\n",
           "p.yaml:2:1: unknown key 'outputs' in the spec (valid keys: name, "
           "description, schema, source, transforms, split, sink, "
           "transform_output, model, evaluate, registry)");
    expect(SRC "name: [a]\n",
           "p.yaml:2:7: key 'name': expected a string, got a list");
    /* YAML errors come through unchanged. */
    expect(SRC "name: a\nname: b\n",
           "p.yaml:3:1: duplicate key 'name' (first at line 2)");
    expect("source: {type: csv\n",
           "p.yaml:2:1: did not find expected ',' or '}' (while parsing a "
           "flow mapping at line 1)");
}

static void test_source_and_sink_errors(void **state)
{
    (void)state;
    expect("source: d.csv\n",
           "p.yaml:1:9: key 'source': expected a mapping like {type: csv, "
           "path: ...}, got a single value");
    expect("source:\n",
           "p.yaml:1:8: key 'source': expected a mapping like {type: csv, "
           "path: ...}, got an empty value");
    expect("source: [a]\n",
           "p.yaml:1:9: key 'source': expected a mapping like {type: csv, "
           "path: ...}, got a list");
    expect("source: {type: cvs, path: d.csv}\n",
           "p.yaml:1:16: unknown source type 'cvs' (did you mean 'csv'?)");
    expect("source: {type: parquet, path: d.pq}\n",
           "p.yaml:1:16: unknown source type 'parquet' (available: csv, "
           "jsonl)");
    expect("source: {type: [csv], path: d.csv}\n",
           "p.yaml:1:16: key 'type': expected a source plugin name, got a "
           "list");
    expect("source: {type: , path: d.csv}\n",
           "p.yaml:1:16: key 'type': expected a source plugin name, got an "
           "empty value");
    expect("source:\n  type: csv\n  infer_rows: abc\n  path: d.csv\n",
           "p.yaml:3:15: key 'infer_rows': expected an integer, got 'abc'");
    expect("source:\n  type: csv\n  path: d.csv\n  delimter: ';'\n",
           "p.yaml:4:3: unknown key 'delimter' in source 'csv' (did you mean "
           "'delimiter'?)");
    expect("source:\n  type: csv\n  delimiter: ';'\n",
           "p.yaml:2:3: missing required key 'path' in source 'csv'");
    expect("source: {type: csv, path: d.csv, on_error: skp}\n",
           "p.yaml:1:44: key 'on_error': expected one of fail, skip, dlq, got "
           "'skp' (did you mean 'skip'?)");
    expect(SRC "sink: {type: csvv, path: out/}\n",
           "p.yaml:2:14: unknown sink type 'csvv' (did you mean 'csv'?)");
    expect(SRC "sink:\n",
           "p.yaml:2:6: key 'sink': expected a mapping like {type: csv, path: "
           "...}, got an empty value");
    expect(SRC "sink: {type: csv}\n",
           "p.yaml:2:7: missing required key 'path' in sink 'csv'");
}

static void test_transform_errors(void **state)
{
    (void)state;
    expect(SRC "transforms: {filter: x}\n",
           "p.yaml:2:13: key 'transforms': expected a list of steps ('- "
           "filter: ...'), got a mapping");
    expect(SRC "transforms: filter\n",
           "p.yaml:2:13: key 'transforms': expected a list of steps ('- "
           "filter: ...'), got a single value");
    expect(SRC "transforms:\n  - filtr: x > 1\n",
           "p.yaml:3:5: unknown transform type 'filtr' (did you mean "
           "'filter'?)");
    expect(SRC "transforms:\n  - normalize: {}\n",
           "p.yaml:3:5: unknown transform type 'normalize' (available: "
           "filter, derive, select, scale, onehot, shuffle)");
    expect(SRC "transforms:\n  - scale:\n    columns: [a]\n",
           "p.yaml:3:5: transforms item 1 has 2 keys ('scale', 'columns'): "
           "indent the settings of 'scale' below it");
    expect(SRC "transforms:\n  - filter: x\n    select: [a]\n",
           "p.yaml:3:5: transforms item 1 has 2 keys ('filter', 'select'): "
           "each item is one plugin, start a new '- ' item for each");
    expect(SRC "transforms:\n  - {}\n",
           "p.yaml:3:5: transforms item 1: expected a one-key mapping "
           "'plugin: settings', got an empty mapping");
    expect(SRC "transforms:\n  - onehot\n  - [a]\n",
           "p.yaml:4:5: transforms item 2: expected a one-key mapping "
           "'plugin: settings', got a list");
    expect(SRC "transforms:\n  -\n",
           "p.yaml:3:4: transforms item 1: expected a one-key mapping "
           "'plugin: settings', got an empty value");
    expect(SRC "transforms:\n  - scale: {colums: [a]}\n",
           "p.yaml:3:13: unknown key 'colums' in transform 'scale' (did you "
           "mean 'columns'?)");
    expect(SRC "transforms:\n  - scale: {columns: [a], method: z}\n",
           "p.yaml:3:35: key 'method': expected one of zscore, minmax, got "
           "'z'");
    expect(SRC "transforms:\n  - scale:\n",
           "p.yaml:3:11: missing required key 'columns' in transform 'scale'");
    expect(SRC "transforms:\n  - filter: [a, b]\n",
           "p.yaml:3:13: transform 'filter': expected an expression, got a "
           "list");
    expect(SRC "transforms:\n  - derive: a + b\n",
           "p.yaml:3:13: transform 'derive': expected a mapping of names to "
           "strings, got 'a + b'");
    expect(SRC "transforms:\n  - shuffle: {seed: 1}\n",
           "p.yaml:3:15: unknown key 'seed' in transform 'shuffle' (it takes "
           "no settings)");
    expect(SRC "transforms:\n  - shuffle: 3\n",
           "p.yaml:3:14: transform 'shuffle': expected a mapping, got '3'");
}

static void test_split_errors(void **state)
{
    (void)state;
    expect(SRC "split: {test: 1.5}\n",
           "p.yaml:2:15: key 'test': expected a fraction between 0 and 1 "
           "(exclusive), got 1.5");
    expect(SRC "split: {test: 0}\n",
           "p.yaml:2:15: key 'test': expected a fraction between 0 and 1 "
           "(exclusive), got 0");
    expect(SRC "split: 1\n",
           "p.yaml:2:8: key 'test': expected a fraction between 0 and 1 "
           "(exclusive), got 1");
    expect(SRC "split: {test: .nan}\n",
           "p.yaml:2:15: key 'test': expected a fraction between 0 and 1 "
           "(exclusive), got nan");
    expect(SRC "split: {test: 0.2, seed: -1}\n",
           "p.yaml:2:26: key 'seed': expected an integer >= 0, got -1");
    expect(SRC "split: {test: 0.2, sed: 1}\n",
           "p.yaml:2:20: unknown key 'sed' in split (did you mean 'seed'?)");
    expect(SRC "split: {test: a}\n",
           "p.yaml:2:15: key 'test': expected a number, got 'a'");
    expect(SRC "split: [0.2]\n",
           "p.yaml:2:8: split: expected a number, got a list");
}

static void test_alloc_failures(void **state)
{
    (void)state;
    const char *text = "name: n\ndescription: d\nschema: s.json\n"
                       "source: {type: csv, path: d.tsv}\n"
                       "transforms:\n  - filter: x > 1\n  - derive: {a: b}\n"
                       "  - select: [a]\n  - onehot\n"
                       "split: {stratify: y}\nsink: {path: o.csv}\n"
                       "transform_output: t.json\n";
    int ok = 0;
    for (long i = 0; i < 300 && !ok; i++) {
        sl_spec *s = NULL;
        sl_mem_fail_after(i);
        sl_rc rc = sl_spec_load_string(text, strlen(text), "p.yaml", &s, NULL);
        sl_mem_fail_after(-1);
        assert_true(rc == SL_OK || rc == SL_ENOMEM);
        ok = rc == SL_OK;
        if (ok)
            assert_int_equal(s->ntransforms, 4);
        else
            assert_null(s);
        sl_spec_free(s);
    }
    assert_true(ok);
}

static void test_from_doc(void **state)
{
    (void)state;
    sl_doc *d = NULL;
    sl_spec *s = NULL;
    assert_int_equal(sl_yaml_load_string(SRC, strlen(SRC), "x.yml", &d, NULL),
                     SL_OK);
    assert_int_equal(sl_spec_from_doc(d, &s, NULL), SL_OK);
    assert_ptr_equal(s->doc, d);
    assert_string_equal(s->name, "x");
    sl_spec_free(s);
    /* Ownership is taken on failure too (the sanitizer checks). */
    assert_int_equal(sl_yaml_load_string("a: 1\n", 5, "x.yml", &d, NULL), SL_OK);
    assert_int_equal(sl_spec_from_doc(d, &s, NULL), SL_ECONFIG);
    assert_null(s);
    assert_int_equal(sl_spec_from_doc(NULL, &s, NULL), SL_EINVAL);
    sl_spec_free(NULL);
}

static void test_docs(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    sl_spec_docs_md(f);
    fclose(f);
    const char *want[] = {
        "# Pipeline spec reference\n",
        "\n## Top-level keys\n\n| key | type | default | description |\n",
        "| `source` | section | required | Where the rows come from",
        "\n## Split\n\n",
        "| `test` (shorthand) | number | `0.2` | Fraction of rows",
        "\n## Sources\n\n",
        ("\n### `csv`\n\nFake csv.\n\n```yaml\nsource: { type: csv, path: "
         "data.csv }\n```\n\n| key |"),
        "| `on_error` | one of `fail`, `skip`, `dlq` | `fail` | Bad rows. |\n",
        "\n## Transforms\n\n",
        "\n### `filter`\n\nFake filter.\n\n```yaml\n- filter: \"x > 0\"\n```\n",
        "\n### `shuffle`\n\nFake, no settings.\n\nNo settings.\n",
        "\n## Sinks\n\n",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(buf, want[i]))
            fail_msg("docs lack: %s", want[i]);
    /* Sections come in order. */
    assert_true(strstr(buf, "## Sources") < strstr(buf, "## Transforms"));
    assert_true(strstr(buf, "## Transforms") < strstr(buf, "## Sinks"));
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_spec),
        cmocka_unit_test(test_minimal_spec_and_defaults),
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_type_inference),
        cmocka_unit_test(test_top_level_errors),
        cmocka_unit_test(test_source_and_sink_errors),
        cmocka_unit_test(test_transform_errors),
        cmocka_unit_test(test_split_errors),
        cmocka_unit_test(test_alloc_failures),
        cmocka_unit_test(test_from_doc),
        cmocka_unit_test(test_docs),
    };
    return cmocka_run_group_tests(tests, setup_plugins, NULL);
}
