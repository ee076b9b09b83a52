/* Unit tests of the scorer (src/run/scorer.c, include/sluice/scorer.h):
 * version directories built in a temporary directory (a random forest
 * fitted with the model.h API on the features a hand-written
 * transform.json makes of raw rows; a linear regression on raw features
 * without transform.json), then: output schemas and batches for every
 * keep mode, predictions equal to the model's own on the features,
 * `filter` skipped, the target optional, shared input batches left
 * untouched, concurrent scoring, and the errors a user can hit (missing
 * version directory, corrupt model, model and transforms that do not
 * match, a batch lacking a column or with a wrong type, null feature
 * values), plus allocation failures. */
#include "jsonl_test_util.h" /* tmpdir, setup_dir, teardown_dir, write_file, read_file */

#include <pthread.h>

#include "sluice/matrix.h"
#include "sluice/model.h"
#include "sluice/registry.h"
#include "sluice/scorer.h"

static char g_dir[512];     /* forest + transform.json */
static char g_raw_dir[512]; /* linear regression, no transform.json */

/* Raw rows: city, temp (null every 20th row from 10 on: imputed), hum,
 * day (dropped by the transforms), outcome (the target). The transforms
 * make temp, hum, heat = 2 * temp, city_oslo, city_rome. */
static const char transform_json[] =
    "{\"format\": \"sluice-transform\", \"version\": 1, \"pipeline\": \"weather\",\n"
    " \"input_schema\": {\"fields\": [\n"
    "   {\"name\": \"city\", \"type\": \"string\", \"nullable\": false},\n"
    "   {\"name\": \"temp\", \"type\": \"float64\", \"nullable\": true},\n"
    "   {\"name\": \"hum\", \"type\": \"int64\", \"nullable\": false},\n"
    "   {\"name\": \"day\", \"type\": \"date\", \"nullable\": true},\n"
    "   {\"name\": \"outcome\", \"type\": \"string\", \"nullable\": false}]},\n"
    " \"output_schema\": {\"fields\": []},\n"
    " \"transforms\": [\n"
    "  {\"type\": \"filter\", \"config\": \"outcome is not null\", \"state\": null},\n"
    "  {\"type\": \"derive\", \"config\": {\"heat\": \"temp * 2\"}, \"state\": null},\n"
    "  {\"type\": \"impute\", \"config\": {\"columns\": [\"temp\", \"heat\"], "
    "\"strategy\": \"median\"},\n"
    "   \"state\": {\"strategy\": \"median\", \"columns\": {"
    "\"temp\": {\"type\": \"float64\", \"value\": 20.0},\n"
    "     \"heat\": {\"type\": \"float64\", \"value\": 40.0}}}},\n"
    "  {\"type\": \"onehot\", \"config\": {\"columns\": [\"city\"]},\n"
    "   \"state\": {\"columns\": {\"city\": {\"type\": \"string\", \"categories\": "
    "[\"oslo\", \"rome\"]}}}},\n"
    "  {\"type\": \"drop\", \"config\": [\"day\"], \"state\": null}]}\n";

typedef struct row {
    int oslo;
    double temp; /* the value the transforms end with */
    int temp_null;
    int64_t hum;
    const char *outcome;
} row;

static row row_of(int i)
{
    row r;
    r.oslo = i % 3 == 0;
    r.temp = 10 + i % 20;
    r.temp_null = i % 20 == 10; /* imputed: 20.0, the truth */
    r.hum = i % 7;
    r.outcome = r.temp + 2.0 * (double)r.hum + (r.oslo ? 5 : 0) > 30 ? "wet" : "dry";
    return r;
}

static void add_field(sl_schema *s, const char *name, sl_type t)
{
    assert_int_equal(sl_schema_add(s, name, t, 1, NULL), SL_OK);
}

/* What raw_batch's rows look like after the transforms (the training
 * matrix's columns), with the target when with_target. */
static sl_batch *feature_batch(int rows, int with_target)
{
    sl_schema *s = sl_schema_new();
    add_field(s, "temp", SL_FLOAT64);
    add_field(s, "hum", SL_INT64);
    add_field(s, "heat", SL_FLOAT64);
    add_field(s, "city_oslo", SL_INT64);
    add_field(s, "city_rome", SL_INT64);
    if (with_target)
        add_field(s, "outcome", SL_STRING);
    sl_batch *b = sl_batch_new(s, rows);
    for (int i = 0; i < rows; i++) {
        row r = row_of(i);
        sl_column_append_float64(b->cols[0], r.temp);
        sl_column_append_int64(b->cols[1], r.hum);
        sl_column_append_float64(b->cols[2], 2 * r.temp);
        sl_column_append_int64(b->cols[3], r.oslo);
        sl_column_append_int64(b->cols[4], !r.oslo);
        if (with_target)
            sl_column_append_str(b->cols[5], r.outcome, strlen(r.outcome));
    }
    assert_int_equal(sl_batch_seal(b, NULL), SL_OK);
    sl_schema_free(s);
    return b;
}

/* Raw rows 0..rows-1. with_target: add outcome; omit: leave that column
 * out; temp_type: SL_STRING to send temp with the wrong type; null_hum:
 * hum is null in rows 2 and 5. */
typedef struct raw_opts {
    int with_target;
    const char *omit;
    sl_type temp_type;
    int null_hum;
} raw_opts;

static sl_batch *raw_batch(int rows, raw_opts o)
{
    const char *names[] = {"city", "temp", "hum", "day", "outcome"};
    sl_type types[] = {SL_STRING, o.temp_type ? o.temp_type : SL_FLOAT64, SL_INT64, SL_DATE,
                       SL_STRING};
    sl_schema *s = sl_schema_new();
    int col[5];
    for (int k = 0; k < 5; k++) {
        col[k] = -1;
        if ((k == 4 && !o.with_target) || (o.omit && strcmp(o.omit, names[k]) == 0))
            continue;
        col[k] = s->n;
        add_field(s, names[k], types[k]);
    }
    sl_batch *b = sl_batch_new(s, rows);
    for (int i = 0; i < rows; i++) {
        row r = row_of(i);
        char text[32];
        if (col[0] >= 0)
            sl_column_append_str(b->cols[col[0]], r.oslo ? "oslo" : "rome", 4);
        if (col[1] >= 0 && r.temp_null)
            sl_column_append_null(b->cols[col[1]]);
        else if (col[1] >= 0 && types[1] == SL_STRING)
            sl_column_append_str(b->cols[col[1]], text,
                                 (size_t)snprintf(text, sizeof text, "%g", r.temp));
        else if (col[1] >= 0)
            sl_column_append_float64(b->cols[col[1]], r.temp);
        if (col[2] >= 0 && o.null_hum && (i == 2 || i == 5))
            sl_column_append_null(b->cols[col[2]]);
        else if (col[2] >= 0)
            sl_column_append_int64(b->cols[col[2]], r.hum);
        if (col[3] >= 0)
            sl_column_append_int32(b->cols[col[3]], 19000 + i);
        if (col[4] >= 0)
            sl_column_append_str(b->cols[col[4]], r.outcome, strlen(r.outcome));
    }
    assert_int_equal(sl_batch_seal(b, NULL), SL_OK);
    sl_schema_free(s);
    return b;
}

static void write_text(const char *dir, const char *file, const char *text)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    write_file(path, text, strlen(text));
}

/* A new version of `name` holding a model fitted on b (target `target`);
 * its directory into dir. */
static void add_version(const char *name, const char *type, sl_task task, sl_batch *b,
                        const char *target, char *dir, size_t n)
{
    char path[1024];
    int v;
    sl_err e;
    sl_err_clear(&e);
    assert_int_equal(sl_registry_new_version(tmpdir, name, &v, dir, n, &e), SL_OK);
    sl_matrix_spec spec = {.target = target, .task = task};
    sl_matrix *m;
    assert_int_equal(sl_matrix_from_batches((const sl_batch *const *)&b, 1, &spec, &m, &e), SL_OK);
    sl_model_param p[] = {{"random_state", "7"}, {"n_estimators", "12"}};
    int np = strcmp(type, "random_forest") == 0 ? 2 : 0;
    sl_model *model;
    assert_int_equal(sl_model_new(type, task, p, np, &model, &e), SL_OK);
    assert_int_equal(sl_model_fit(model, m, &e), SL_OK);
    snprintf(path, sizeof path, "%s/%s", dir, SL_REGISTRY_MODEL_FILE);
    assert_int_equal(sl_model_save(model, path, &e), SL_OK);
    sl_model_free(model);
    sl_matrix_free(m);
}

static int setup(void **state)
{
    sl_plugins_init();
    setup_dir(state);
    sl_log_setup(SL_LOG_OFF, SL_LOG_TEXT);
    sl_batch *b = feature_batch(160, 1);
    add_version("weather", "random_forest", SL_TASK_CLASSIFICATION, b, "outcome", g_dir,
                sizeof g_dir);
    write_text(g_dir, SL_REGISTRY_TRANSFORM_FILE, transform_json);
    sl_batch_unref(b);
    /* y = temp + 2 * hum on raw features */
    sl_schema *s = sl_schema_new();
    add_field(s, "temp", SL_FLOAT64);
    add_field(s, "hum", SL_FLOAT64);
    add_field(s, "y", SL_FLOAT64);
    b = sl_batch_new(s, 50);
    for (int i = 0; i < 50; i++) {
        sl_column_append_float64(b->cols[0], i % 13);
        sl_column_append_float64(b->cols[1], i % 5);
        sl_column_append_float64(b->cols[2], i % 13 + 2.0 * (i % 5));
    }
    assert_int_equal(sl_batch_seal(b, NULL), SL_OK);
    sl_schema_free(s);
    add_version("linear", "linear_regression", SL_TASK_REGRESSION, b, "y", g_raw_dir,
                sizeof g_raw_dir);
    sl_batch_unref(b);
    return 0;
}

/* ---- helpers ---- */

static sl_scorer *open_ok(const char *dir, sl_scorer_keep keep, const char *row_name)
{
    sl_scorer_options o = {.keep = keep, .row_name = row_name};
    sl_scorer *s = NULL;
    sl_err e;
    sl_err_clear(&e);
    if (sl_scorer_open(dir, &o, &s, &e) != SL_OK)
        fail_msg("sl_scorer_open(%s): %s", dir, e.msg);
    return s;
}

/* "file: message" of an error, for substring checks. */
static const char *errtext(const sl_err *e)
{
    static char buf[SL_ERR_MSG_MAX + SL_ERR_FILE_MAX + 8];
    sl_err_format(e, buf, sizeof buf);
    return buf;
}

static void assert_contains(const char *hay, const char *needle)
{
    if (!strstr(hay, needle))
        fail_msg("'%s' does not contain '%s'", hay, needle);
}

/* The scorer's output must carry exactly the model's own predictions on
 * the features of rows 0..n-1, in the last 3 columns. */
static void assert_predictions(const sl_scorer *s, const sl_batch *out, int n)
{
    sl_batch *f = feature_batch(n, 0);
    sl_prediction p;
    sl_err e;
    sl_err_clear(&e);
    assert_int_equal(sl_model_predict_batch(sl_scorer_model(s), f, &p, &e), SL_OK);
    const sl_labels *cl = sl_model_classes(sl_scorer_model(s));
    int pc = sl_batch_find(out, "prediction");
    assert_int_equal(pc, out->schema->n - 3);
    assert_string_equal(out->schema->fields[pc + 1].name, "proba_dry");
    assert_string_equal(out->schema->fields[pc + 2].name, "proba_wet");
    assert_int_equal(out->nrows, n);
    for (int i = 0; i < n; i++) {
        size_t len;
        const char *got = sl_col_str(out->cols[pc], i, &len);
        assert_int_equal(len, strlen(cl->names[p.label[i]]));
        assert_memory_equal(got, cl->names[p.label[i]], len);
        for (int k = 0; k < 2; k++)
            assert_true(sl_col_f64(out->cols[pc + 1 + k], i) == p.proba[i * 2 + k]);
    }
    sl_prediction_free(&p);
    sl_batch_unref(f);
}

/* Apply must produce the schema output_schema announced. */
static void assert_schema_as_announced(sl_scorer *s, const sl_schema *in, const sl_batch *out)
{
    sl_schema *want = NULL;
    sl_err e;
    sl_err_clear(&e);
    assert_int_equal(sl_scorer_output_schema(s, in, &want, &e), SL_OK);
    assert_true(sl_schema_equal(want, out->schema));
    for (int k = 0; k < want->n; k++)
        assert_int_equal(want->fields[k].nullable, out->schema->fields[k].nullable);
    sl_schema_free(want);
}

/* ---- tests ---- */

static void test_schemas(void **state)
{
    (void)state;
    sl_scorer *s = open_ok(g_dir, SL_SCORER_KEEP_TRANSFORMED, NULL);
    const sl_schema *in = sl_scorer_input_schema(s);
    assert_int_equal(in->n, 5);
    assert_int_equal(sl_scorer_target_index(s), 4);
    assert_string_equal(in->fields[4].name, "outcome");
    assert_int_equal(in->fields[4].nullable, 1); /* may be left out */
    assert_string_equal(sl_scorer_dir(s), g_dir);
    assert_non_null(strstr(sl_scorer_transform_path(s), "/transform.json"));
    sl_schema *hint = NULL;
    assert_int_equal(sl_scorer_source_hint(s, &hint, NULL), SL_OK);
    assert_int_equal(hint->n, 4);
    assert_int_equal(sl_schema_find(hint, "outcome"), -1);
    /* without the target: transformed columns (no target, no day), then
     * the predictions, all nullable */
    sl_schema *out = NULL;
    assert_int_equal(sl_scorer_output_schema(s, hint, &out, NULL), SL_OK);
    assert_int_equal(sl_schema_find(out, "outcome"), -1);
    assert_int_equal(sl_schema_find(out, "day"), -1);
    assert_true(sl_schema_find(out, "heat") >= 0 && sl_schema_find(out, "city_rome") >= 0);
    assert_string_equal(out->fields[out->n - 3].name, "prediction");
    assert_int_equal(out->fields[out->n - 3].type, SL_STRING);
    assert_int_equal(out->fields[out->n - 1].type, SL_FLOAT64);
    assert_int_equal(out->fields[out->n - 1].nullable, 1);
    sl_schema_free(out);
    /* with the target: it stays */
    assert_int_equal(sl_scorer_output_schema(s, in, &out, NULL), SL_OK);
    assert_true(sl_schema_find(out, "outcome") >= 0);
    sl_schema_free(out);
    sl_schema_free(hint);
    sl_scorer_close(s);
    sl_scorer_close(NULL);
}

static void test_apply_matches_model(void **state)
{
    (void)state;
    sl_scorer *s = open_ok(g_dir, SL_SCORER_KEEP_TRANSFORMED, NULL);
    sl_err e;
    sl_err_clear(&e);
    /* the target is absent: the filter `outcome is not null` would drop
     * every row, but filters do not run when scoring */
    for (int with_target = 0; with_target < 2; with_target++) {
        sl_batch *in = raw_batch(60, (raw_opts){.with_target = with_target});
        sl_schema *in_schema = sl_schema_copy(in->schema);
        sl_batch *out = NULL;
        assert_int_equal(sl_scorer_apply(s, in, &out, &e), SL_OK);
        assert_predictions(s, out, 60);
        assert_schema_as_announced(s, in_schema, out);
        assert_int_equal(sl_batch_find(out, "outcome") >= 0, with_target);
        /* imputed on the way: row 10's temp was null */
        int t = sl_batch_find(out, "temp");
        assert_true(sl_col_valid(out->cols[t], 10) && sl_col_f64(out->cols[t], 10) == 20.0);
        sl_batch_unref(out);
        sl_schema_free(in_schema);
    }
    /* empty batches are fine */
    sl_batch *in = raw_batch(0, (raw_opts){0}), *out = NULL;
    assert_int_equal(sl_scorer_apply(s, in, &out, &e), SL_OK);
    assert_int_equal(out->nrows, 0);
    assert_int_equal(sl_batch_find(out, "prediction"), out->schema->n - 3);
    sl_batch_unref(out);
    sl_scorer_close(s);
}

static void test_keep_modes(void **state)
{
    (void)state;
    sl_err e;
    sl_err_clear(&e);
    sl_scorer *s = open_ok(g_dir, SL_SCORER_KEEP_NONE, NULL);
    sl_batch *in = raw_batch(25, (raw_opts){0}), *out = NULL;
    assert_int_equal(sl_scorer_apply(s, in, &out, &e), SL_OK);
    assert_int_equal(out->schema->n, 3);
    assert_predictions(s, out, 25);
    sl_batch_unref(out);
    sl_scorer_close(s);

    /* the input columns as given; the caller's batch is not modified */
    s = open_ok(g_dir, SL_SCORER_KEEP_INPUT, NULL);
    in = raw_batch(25, (raw_opts){0});
    sl_batch *mine = sl_batch_ref(in);
    assert_int_equal(sl_scorer_apply(s, in, &out, &e), SL_OK);
    assert_int_equal(out->schema->n, 4 + 3);
    for (int k = 0; k < 4; k++)
        assert_string_equal(out->schema->fields[k].name, mine->schema->fields[k].name);
    assert_false(sl_col_valid(out->cols[1], 10)); /* temp as sent */
    assert_predictions(s, out, 25);
    assert_int_equal(mine->schema->n, 4);
    assert_false(sl_col_valid(mine->cols[1], 10));
    assert_schema_as_announced(s, mine->schema, out);
    sl_batch_unref(out);
    sl_scorer_close(s);

    /* a shared input is left alone when the transforms run on it too */
    s = open_ok(g_dir, SL_SCORER_KEEP_TRANSFORMED, NULL);
    assert_int_equal(sl_scorer_apply(s, sl_batch_ref(mine), &out, &e), SL_OK);
    assert_int_equal(mine->schema->n, 4);
    assert_false(sl_col_valid(mine->cols[1], 10));
    sl_batch_unref(out);
    sl_batch_unref(mine);
    sl_scorer_close(s);
}

static void test_predict_raw(void **state)
{
    (void)state;
    sl_scorer *s = open_ok(g_dir, SL_SCORER_KEEP_NONE, "instances");
    sl_batch *in = raw_batch(30, (raw_opts){0}), *out = NULL;
    sl_prediction p;
    sl_err e;
    sl_err_clear(&e);
    assert_int_equal(sl_scorer_predict(s, in, &p, &e), SL_OK);
    assert_int_equal(p.n, 30);
    assert_int_equal(p.nclasses, 2);
    assert_int_equal(sl_prediction_to_batch(sl_scorer_model(s), &p, &out, &e), SL_OK);
    assert_predictions(s, out, 30);
    sl_batch_unref(out);
    sl_prediction_free(&p);
    sl_scorer_close(s);
}

static void test_raw_features_no_transform(void **state)
{
    (void)state;
    sl_scorer *s = open_ok(g_raw_dir, SL_SCORER_KEEP_TRANSFORMED, NULL);
    assert_null(sl_scorer_transform_path(s));
    assert_int_equal(sl_scorer_target_index(s), -1);
    const sl_schema *in = sl_scorer_input_schema(s);
    assert_int_equal(in->n, 2);
    assert_int_equal(in->fields[1].type, SL_FLOAT64);
    sl_schema *hint = (sl_schema *)1;
    assert_int_equal(sl_scorer_source_hint(s, &hint, NULL), SL_OK);
    assert_null(hint); /* the source infers the types */
    /* an int64 feature is accepted, an extra column passes through */
    sl_schema *sch = sl_schema_new();
    add_field(sch, "id", SL_STRING);
    add_field(sch, "hum", SL_INT64);
    add_field(sch, "temp", SL_FLOAT64);
    sl_batch *b = sl_batch_new(sch, 3);
    for (int i = 0; i < 3; i++) {
        sl_column_append_str(b->cols[0], "r", 1);
        sl_column_append_int64(b->cols[1], i);
        sl_column_append_float64(b->cols[2], 4.0);
    }
    assert_int_equal(sl_batch_seal(b, NULL), SL_OK);
    sl_batch *out = NULL;
    sl_err e;
    sl_err_clear(&e);
    assert_int_equal(sl_scorer_apply(s, b, &out, &e), SL_OK);
    assert_int_equal(out->schema->n, 4);
    assert_string_equal(out->schema->fields[3].name, "prediction");
    assert_int_equal(out->schema->fields[3].type, SL_FLOAT64);
    for (int i = 0; i < 3; i++) /* y = temp + 2 hum */
        assert_true(fabs(sl_col_f64(out->cols[3], i) - (4.0 + 2.0 * i)) < 1e-3);
    sl_batch_unref(out);
    /* a string feature is not */
    sl_schema_free(sch);
    sch = sl_schema_new();
    add_field(sch, "hum", SL_STRING);
    add_field(sch, "temp", SL_FLOAT64);
    sl_schema *os = (sl_schema *)1;
    assert_int_equal(sl_scorer_output_schema(s, sch, &os, &e), SL_ESCHEMA);
    assert_null(os);
    assert_contains(errtext(&e), g_raw_dir);
    assert_contains(e.msg, "input column 'hum' is string; this model version expects a "
                           "number (bool, int64 or float64)");
    assert_string_equal(e.field, "hum");
    sl_schema_free(sch);
    sl_scorer_close(s);
}

static void test_open_errors(void **state)
{
    (void)state;
    char dir[1024], path[1200];
    sl_scorer *s = (sl_scorer *)1;
    sl_err e;
    sl_err_clear(&e);
    /* no version directory */
    snprintf(dir, sizeof dir, "%s/weather/99", tmpdir);
    assert_int_equal(sl_scorer_open(dir, NULL, &s, &e), SL_ENOTFOUND);
    assert_null(s);
    assert_contains(errtext(&e), dir);
    assert_contains(e.msg, "no model version here");

    /* a truncated model file */
    int v;
    assert_int_equal(sl_registry_new_version(tmpdir, "weather", &v, dir, sizeof dir, &e), SL_OK);
    snprintf(path, sizeof path, "%s/%s", g_dir, SL_REGISTRY_MODEL_FILE);
    size_t n;
    char *model = read_file(path, &n);
    assert_true(model && n > 300);
    snprintf(path, sizeof path, "%s/%s", dir, SL_REGISTRY_MODEL_FILE);
    write_file(path, model, 300);
    free(model);
    write_text(dir, SL_REGISTRY_TRANSFORM_FILE, transform_json);
    sl_err_clear(&e);
    assert_int_not_equal(sl_scorer_open(dir, NULL, &s, &e), SL_OK);
    assert_null(s);
    assert_contains(errtext(&e), path);
    assert_contains(e.msg, "checksum mismatch");
    /* not a model at all */
    write_file(path, "not a model", 11);
    sl_err_clear(&e);
    assert_int_not_equal(sl_scorer_open(dir, NULL, &s, &e), SL_OK);
    assert_contains(errtext(&e), path);

    /* transforms that do not make a feature the model needs */
    char good[1200];
    snprintf(good, sizeof good, "cp '%s/%s' '%s'", g_dir, SL_REGISTRY_MODEL_FILE, path);
    assert_int_equal(system(good), 0);
    char *tj = strdup(transform_json);
    char *drop = strstr(tj, "[\"day\"]");
    memcpy(drop, "[\"hum\"]", 7);
    write_text(dir, SL_REGISTRY_TRANSFORM_FILE, tj);
    free(tj);
    sl_err_clear(&e);
    assert_int_equal(sl_scorer_open(dir, NULL, &s, &e), SL_ESCHEMA);
    assert_contains(errtext(&e), "/transform.json");
    assert_contains(e.msg, "the transforms do not produce feature 'hum' that the model needs");
    assert_string_equal(e.field, "hum");
    /* a transform.json that is not one */
    write_text(dir, SL_REGISTRY_TRANSFORM_FILE, "{\"format\": 1}");
    sl_err_clear(&e);
    assert_int_not_equal(sl_scorer_open(dir, NULL, &s, &e), SL_OK);
    assert_contains(errtext(&e), "/transform.json");
}

static void test_batch_errors(void **state)
{
    (void)state;
    sl_scorer *s = open_ok(g_dir, SL_SCORER_KEEP_TRANSFORMED, NULL);
    sl_batch *out = (sl_batch *)1;
    sl_err e;
    sl_err_clear(&e);
    /* a missing column: which one, its type, and what the version reads */
    sl_batch *in = raw_batch(5, (raw_opts){.omit = "hum"});
    assert_int_equal(sl_scorer_apply(s, in, &out, &e), SL_ESCHEMA);
    assert_null(out);
    assert_contains(errtext(&e), g_dir);
    assert_contains(e.msg, "input column 'hum' (int64) is missing; this model version reads "
                           "its training input schema: city (string), temp (float64), hum "
                           "(int64), day (date), outcome (string, may be left out)");
    assert_string_equal(e.field, "hum");
    /* a wrong type */
    sl_err_clear(&e);
    in = raw_batch(5, (raw_opts){.temp_type = SL_STRING});
    assert_int_equal(sl_scorer_apply(s, in, &out, &e), SL_ESCHEMA);
    assert_contains(e.msg, "input column 'temp' is string; this model version expects float64");
    /* null feature values: counted per batch ... */
    sl_err_clear(&e);
    in = raw_batch(10, (raw_opts){.null_hum = 1});
    assert_int_equal(sl_scorer_apply(s, in, &out, &e), SL_ESCHEMA);
    assert_string_equal(e.msg, "feature 'hum' is null after the transforms in 2 of 10 rows (the "
                               "first is row 3 of the batch); the model needs a value (impute "
                               "it in the pipeline)");
    assert_string_equal(e.field, "hum");
    sl_scorer_close(s);
    /* ... or named per row, as the server reports them */
    s = open_ok(g_dir, SL_SCORER_KEEP_NONE, "instances");
    sl_prediction p;
    sl_err_clear(&e);
    in = raw_batch(10, (raw_opts){.null_hum = 1});
    assert_int_equal(sl_scorer_predict(s, in, &p, &e), SL_ESCHEMA);
    assert_contains(e.msg, "instances[2]: feature 'hum' is null after the transforms, and the "
                           "model needs a value");
    assert_null(p.label);
    /* the scorer still works after errors (the chains went back) */
    in = raw_batch(10, (raw_opts){0});
    assert_int_equal(sl_scorer_apply(s, in, &out, &e), SL_OK);
    assert_predictions(s, out, 10);
    sl_batch_unref(out);
    sl_scorer_close(s);
}

typedef struct worker {
    sl_scorer *s;
    int rows;
    int failures;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    for (int k = 0; k < 25; k++) {
        sl_batch *in = raw_batch(w->rows, (raw_opts){.with_target = k % 2}), *out = NULL;
        sl_err e;
        sl_err_clear(&e);
        if (sl_scorer_apply(w->s, in, &out, &e) != SL_OK || out->nrows != w->rows)
            w->failures++;
        sl_batch_unref(out);
    }
    return NULL;
}

static void test_concurrent(void **state)
{
    (void)state;
    sl_scorer *s = open_ok(g_dir, SL_SCORER_KEEP_NONE, NULL);
    pthread_t t[4];
    worker w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (worker){.s = s, .rows = 1 + 7 * i};
        assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(w[i].failures, 0);
    }
    /* same answers as one thread */
    sl_batch *out = NULL;
    assert_int_equal(sl_scorer_apply(s, raw_batch(40, (raw_opts){0}), &out, NULL), SL_OK);
    assert_predictions(s, out, 40);
    sl_batch_unref(out);
    sl_scorer_close(s);
}

static void test_alloc_failures(void **state)
{
    (void)state;
    sl_scorer_options o = {.keep = SL_SCORER_KEEP_TRANSFORMED};
    int done = 0;
    for (long n = 0; n < 5000 && !done; n++) {
        sl_scorer *s = NULL;
        sl_batch *in = raw_batch(12, (raw_opts){0}), *out = NULL;
        sl_schema *hint = NULL;
        sl_err e;
        sl_err_clear(&e);
        sl_mem_fail_after(n);
        sl_rc rc = sl_scorer_open(g_dir, &o, &s, &e);
        if (rc == SL_OK)
            rc = sl_scorer_source_hint(s, &hint, &e);
        if (rc == SL_OK)
            rc = sl_scorer_apply(s, in, &out, &e); /* opens a chain for this schema */
        else
            sl_batch_unref(in);
        sl_mem_fail_after(-1);
        if (rc == SL_OK) {
            assert_predictions(s, out, 12);
            done = 1;
        } else {
            assert_null(out);
            assert_true(e.msg[0] != '\0');
        }
        sl_batch_unref(out);
        sl_schema_free(hint);
        sl_scorer_close(s);
    }
    assert_true(done);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schemas),
        cmocka_unit_test(test_apply_matches_model),
        cmocka_unit_test(test_keep_modes),
        cmocka_unit_test(test_predict_raw),
        cmocka_unit_test(test_raw_features_no_transform),
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_batch_errors),
        cmocka_unit_test(test_concurrent),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, setup, teardown_dir);
}
