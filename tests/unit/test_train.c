/* Unit tests for training through the spec (src/spec/spec_train.c,
 * src/run/train.c, train_register.c, predict.c): spec errors with their
 * positions, a train -> registry -> predict round trip on generated data
 * (predictions equal the model's, metrics equal the predictions'), the gate
 * holding the blessed pointer back, a corrupt model file, regression. */
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

#include "sluice/csv.h"
#include "sluice/mem.h"
#include "sluice/model.h"
#include "sluice/plugin.h"
#include "sluice/registry.h"
#include "sluice/spec.h"
#include "sluice/train.h"

static char dir[] = "/tmp/sl_train_XXXXXX";
static char errbuf[2048];

static int setup(void **state)
{
    (void)state;
    sl_plugins_init();
    if (!mkdtemp(dir))
        return -1;
    char path[512];
    snprintf(path, sizeof path, "%s/data.csv", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    /* Two classes from a noisy linear rule, a city to slice by and a
     * numeric target for regression. */
    fputs("x1,x2,city,label,y\n", f);
    uint32_t s = 12345;
    static const char *const cities[] = {"oslo", "rome", "lima"};
    for (int i = 0; i < 400; i++) {
        s = s * 1103515245u + 12345u;
        double x1 = (double)(s >> 8 & 0xffff) / 65536.0 * 4 - 2;
        s = s * 1103515245u + 12345u;
        double x2 = (double)(s >> 8 & 0xffff) / 65536.0 * 4 - 2;
        s = s * 1103515245u + 12345u;
        double noise = (double)(s >> 8 & 0xffff) / 65536.0 - 0.5;
        fprintf(f, "%.4f,%.4f,%s,%s,%.4f\n", x1, x2, cities[i % 3],
                x1 + 0.5 * x2 + noise > 0 ? "yes" : "no", 2 * x1 - x2 + noise);
    }
    fclose(f);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* The spec text with @ replaced by the scratch directory. */
static sl_spec *load(const char *text, sl_rc want)
{
    char buf[4096];
    size_t n = 0;
    for (const char *p = text; *p && n + 600 < sizeof buf; p++) {
        if (*p == '@')
            n += (size_t)snprintf(buf + n, sizeof buf - n, "%s", dir);
        else
            buf[n++] = *p;
    }
    buf[n] = '\0';
    sl_spec *s = NULL;
    sl_err e;
    sl_err_clear(&e);
    sl_rc rc = sl_spec_load_string(buf, n, "t.yaml", &s, &e);
    sl_err_format(&e, errbuf, sizeof errbuf);
    if (rc != want)
        fail_msg("load: rc %d, want %d: %s", rc, want, errbuf);
    return s;
}

#define SRC "source: {type: csv, path: @/data.csv}\nsplit: {test: 0.25, seed: 7, stratify: label}\n"

static void expect(const char *text, const char *msg)
{
    assert_null(load(text, SL_ECONFIG));
    if (strcmp(errbuf, msg) != 0)
        fail_msg("got  '%s'\nwant '%s'", errbuf, msg);
}

static void test_spec_errors(void **state)
{
    (void)state;
    expect(SRC "model: {type: random_forst, target: label}\n",
           "t.yaml:3:15: unknown model type 'random_forst' (did you mean 'random_forest'?)");
    expect(SRC "model: {type: gbdt, target: label, num_leavs: 8}\n",
           "t.yaml:3:36: unknown key 'num_leavs' in model 'gbdt' (did you mean 'num_leaves'?)");
    expect(SRC "model: {type: gbdt, targt: label}\n",
           "t.yaml:3:21: unknown key 'targt' in model (did you mean 'target'?)");
    expect(SRC "model: {type: gbdt}\n", "t.yaml:3:8: missing required key 'target' in model");
    expect(SRC "model: {type: gbdt, target: y, learning_rate: 0}\n",
           "t.yaml:3:47: model 'gbdt': parameter 'learning_rate' must be a number in (0, 10], "
           "got '0'");
    expect(SRC "model: {type: linear_regression, target: label, task: classification}\n",
           "t.yaml:3:55: model 'linear_regression' does not do classification (use "
           "logistic_regression, random_forest, gbdt or mlp)");
    expect(SRC "model: [random_forest]\n",
           "t.yaml:3:8: key 'model': expected a mapping like {type: random_forest, target: "
           "label} (a model to train) or a registered model's path (to score with), got a "
           "list");
    expect(SRC "model: models/ml_models/m\nevaluate: {metrics: [accuracy]}\n",
           "t.yaml:4:11: 'evaluate' needs a model to train (model: {type: ..., target: ...}); "
           "'model: models/ml_models/m' names a registered model to score with");
    expect(SRC "model: {type: mlp, target: label, hidden_layers: {a: 1}}\n",
           "t.yaml:3:50: model parameter 'hidden_layers': expected a value, got a mapping");
    expect(SRC "model: {type: gbdt, target: label}\nevaluate: [accuracy, aucc]\n",
           "t.yaml:4:22: evaluate: unknown metric 'aucc' (did you mean 'auc'?)");
    expect(SRC "model: {type: gbdt, target: label, task: regression}\nevaluate: [auc]\n",
           "t.yaml:4:12: evaluate: metric 'auc' is a classification metric, but the model's "
           "task is regression");
    expect(SRC "model: {type: gbdt, target: label}\nevaluate: {gate: \"auc > baseline.aux\"}\n",
           "t.yaml:4:25: gate: unknown metric 'baseline.aux' (did you mean 'baseline.auc'?)");
    expect(SRC "model: {type: gbdt, target: label}\n"
               "evaluate: {gate: \"auc > baseline.auc\", baseline: none}\n",
           "t.yaml:4:19: gate: it reads baseline.<metric>, but baseline is none (set "
           "baseline: blessed, latest or a metrics.json)");
    expect(SRC "model: {type: gbdt, target: label}\nevaluate: {baseline: lastest}\n",
           "t.yaml:4:22: key 'baseline': expected blessed, latest, none or the path of a "
           "metrics.json, got 'lastest' (did you mean 'latest'?)");
    expect("source: {type: csv, path: x.csv}\nmodel: {type: gbdt, target: label}\n"
           "evaluate: [auc]\n",
           "t.yaml:3:11: evaluate: the model is evaluated on the test split, and the spec "
           "has none; add one, e.g. split: {test: 0.2}");
    expect(SRC "registry: x\n",
           "t.yaml:3:11: 'registry' needs a 'model' section (it stores the model the spec "
           "trains)");
    expect(SRC "model: {type: gbdt, target: label}\nregistry: {path: r, name: a/b}\n",
           "t.yaml:4:27: model name 'a/b' cannot name a registry directory (no '/', not '.' "
           "or '..'); set registry: {name: ...}");
    /* defaults of a model without evaluate/registry */
    sl_spec *s = load(SRC "model: {type: mlp, target: label, hidden_layers: [8, 4]}\n", SL_OK);
    assert_string_equal(s->model_spec->params[0].value, "8,4");
    assert_int_equal(s->evaluate_spec->given, 0);
    assert_int_equal(s->evaluate_spec->metrics.n, 0);
    assert_string_equal(s->registry_path, "models/ml_models");
    assert_string_equal(s->registry_name, "t");
    sl_spec_free(s);
}

static const char *train_spec =
    "name: demo\n" SRC
    "transforms:\n  - filter: \"x1 > -100\"\n"
    "sink: {type: csv, path: @/out}\n"
    "model: {type: random_forest, target: label, n_estimators: 12, features: [x1, x2]}\n"
    "evaluate:\n"
    "  metrics: [accuracy, auc]\n"
    "  slice_by: [city]\n"
    "  gate: \"%s\"\n"
    "registry: @/reg\n";

static int train(const char *gate, sl_train_result *res, sl_err *e)
{
    char text[2048];
    snprintf(text, sizeof text, train_spec, gate);
    sl_spec *s = load(text, SL_OK);
    sl_train_options opt = {.quiet = 1};
    sl_err_clear(e);
    sl_rc rc = sl_train_run(s, &opt, res, e);
    sl_spec_free(s);
    return rc;
}

static int exists(const char *rel)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    return access(path, F_OK) == 0;
}

static json_t *metrics_json(int version)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/reg/demo/%d/model_metrics/metrics.json", dir, version);
    json_t *j = json_load_file(path, 0, NULL);
    assert_non_null(j);
    return j;
}

/* Every batch of a CSV file, concatenated into one (small files only). */
static sl_batch *read_csv(const char *path, int *nbatches, sl_batch **all, int max)
{
    sl_csv_options o;
    sl_csv_options_init(&o);
    sl_csv_reader *r;
    sl_err e;
    sl_err_clear(&e);
    assert_int_equal(sl_csv_reader_open(path, &o, NULL, &r, &e), SL_OK);
    int n = 0;
    sl_batch *b;
    while (n < max && sl_csv_reader_next(r, &b, &e) == SL_OK)
        all[n++] = b;
    sl_csv_reader_close(r, NULL);
    *nbatches = n;
    return n ? all[0] : NULL;
}

static void test_train_predict(void **state)
{
    (void)state;
    sl_train_result res;
    sl_err e;
    assert_int_equal(train("auc >= baseline.auc - 0.001", &res, &e), SL_OK);
    assert_int_equal(res.version, 1);
    assert_int_equal(res.blessed, 1);
    assert_int_equal(res.task, SL_TASK_CLASSIFICATION);
    assert_int_equal(res.rows_train + res.rows_test, 400);
    assert_int_equal(res.rows_test, 100);
    assert_int_equal(res.metrics.n, 2);
    static const char *const files[] = {
        "reg/demo/latest", "reg/demo/blessed", "reg/demo/1/model_artifacts/model.slm",
        "reg/demo/1/transform.json", "reg/demo/1/model_config.yaml",
        "reg/demo/1/model_metrics/metrics.json", "reg/demo/1/evaluation_results/demo_1.csv",
        "out/train.csv", "out/test.csv", NULL};
    for (int i = 0; files[i]; i++)
        if (!exists(files[i]))
            fail_msg("missing %s", files[i]);
    json_t *m = metrics_json(1);
    assert_int_equal(json_array_size(json_object_get(m, "slices")), 3);
    assert_true(json_is_null(json_object_get(m, "baseline")));
    assert_string_equal(json_string_value(json_object_get(m, "key_metric")), "auc");
    double acc = json_real_value(json_object_get(json_object_get(m, "metrics"), "accuracy"));
    json_decref(m);

    /* predict the raw test rows: the model's own predictions, and their
     * accuracy is the recorded one */
    char in[1024], out[1024], model[1024];
    snprintf(in, sizeof in, "%s/out/test.csv", dir);
    snprintf(out, sizeof out, "%s/pred.csv", dir);
    snprintf(model, sizeof model, "%s/reg/demo", dir);
    sl_model_ref ref;
    sl_err_clear(&e);
    assert_int_equal(sl_model_ref_resolve(model, 0, &ref, &e), SL_OK);
    assert_int_equal(ref.version, 1);
    assert_string_equal(ref.name, "demo");
    sl_run_options ro = {.quiet = 1};
    sl_run_summary sum;
    assert_int_equal(sl_predict_file(ref.dir, in, out, "fail", NULL, &ro, &sum, &e), SL_OK);
    assert_int_equal(sum.rows_out, 100);

    sl_batch *pb[64], *tb[64];
    int np, nt;
    read_csv(out, &np, pb, 64);
    read_csv(in, &nt, tb, 64);
    assert_int_equal(np, 1);
    assert_int_equal(nt, 1);
    char mpath[1200];
    snprintf(mpath, sizeof mpath, "%s/%s", ref.dir, SL_REGISTRY_MODEL_FILE);
    sl_model *mdl;
    assert_int_equal(sl_model_load(mpath, &mdl, &e), SL_OK);
    sl_prediction p;
    assert_int_equal(sl_model_predict_batch(mdl, tb[0], &p, &e), SL_OK);
    int pi = sl_batch_find(pb[0], "prediction"), li = sl_batch_find(pb[0], "label");
    int yi = sl_batch_find(pb[0], "proba_yes");
    assert_true(pi >= 0 && li >= 0 && yi >= 0);
    const sl_labels *cl = sl_model_classes(mdl);
    int64_t right = 0;
    for (int64_t i = 0; i < pb[0]->nrows; i++) {
        size_t n1, n2;
        const char *pred = sl_col_str(pb[0]->cols[pi], i, &n1);
        const char *truth = sl_col_str(pb[0]->cols[li], i, &n2);
        const char *want = cl->names[p.label[i]];
        assert_true(n1 == strlen(want) && !memcmp(pred, want, n1));
        assert_true(sl_col_f64(pb[0]->cols[yi], i) == p.proba[i * 2 + 1]);
        right += n1 == n2 && !memcmp(pred, truth, n1);
    }
    assert_true(fabs((double)right / 100.0 - acc) < 1e-12);
    sl_prediction_free(&p);
    sl_model_free(mdl);
    for (int i = 0; i < np; i++)
        sl_batch_unref(pb[i]);
    for (int i = 0; i < nt; i++)
        sl_batch_unref(tb[i]);

    /* a stricter gate: latest moves, blessed stays */
    assert_int_equal(train("auc > baseline.auc + 1", &res, &e), SL_OK);
    assert_int_equal(res.version, 2);
    assert_int_equal(res.blessed, 0);
    assert_int_equal(res.previous_blessed, 1);
    int v;
    snprintf(model, sizeof model, "%s/reg", dir);
    assert_int_equal(sl_registry_get_pointer(model, "demo", "latest", &v, &e), SL_OK);
    assert_int_equal(v, 2);
    assert_int_equal(sl_registry_get_pointer(model, "demo", "blessed", &v, &e), SL_OK);
    assert_int_equal(v, 1);
    m = metrics_json(2);
    assert_true(json_is_false(json_object_get(m, "blessed")));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(m, "baseline"),
                                                        "version")),
                     1);
    assert_true(json_is_false(json_object_get(json_object_get(m, "gate"), "result")));
    json_decref(m);

    /* a corrupt model file is a clear error */
    snprintf(mpath, sizeof mpath, "%s/reg/demo/1/%s", dir, SL_REGISTRY_MODEL_FILE);
    assert_int_equal(truncate(mpath, 100), 0);
    sl_err_clear(&e);
    assert_int_equal(sl_predict_file(ref.dir, in, out, "fail", NULL, &ro, &sum, &e),
                     SL_EPARSE);
    assert_non_null(strstr(e.msg, "checksum mismatch"));
}

static void test_train_regression_no_split(void **state)
{
    (void)state;
    /* regression, default features (x1, x2: the numeric columns but y),
     * no split: no metrics, blessed without a gate */
    sl_spec *s = load("name: reg\nsource: {type: csv, path: @/data.csv}\n"
                      "model: {type: linear_regression, target: y}\nregistry: @/reg\n",
                      SL_OK);
    sl_train_options opt = {.quiet = 1};
    sl_train_result res;
    sl_err e;
    sl_err_clear(&e);
    assert_int_equal(sl_train_run(s, &opt, &res, &e), SL_OK);
    assert_int_equal(res.task, SL_TASK_REGRESSION);
    assert_int_equal(res.metrics.n, 0);
    assert_int_equal(res.blessed, 1);
    assert_string_equal(res.reason, "no gate");
    sl_spec_free(s);
    char path[1024];
    snprintf(path, sizeof path, "%s/reg/reg/1/model_config.yaml", dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char text[2048] = "";
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    assert_non_null(strstr(text, "model:\n  type: linear_regression\n  target: y\n"));

    /* with a split: rmse etc., and a target that is not a column */
    s = load("name: reg\nsource: {type: csv, path: @/data.csv}\nsplit: 0.25\n"
             "model: {type: linear_regression, target: yy}\nregistry: @/reg\n",
             SL_OK);
    sl_err_clear(&e);
    assert_int_equal(sl_train_run(s, &opt, &res, &e), SL_ECONFIG);
    sl_err_format(&e, errbuf, sizeof errbuf);
    assert_string_equal(errbuf, "t.yaml:4:42: model: target 'yy' is not a column after the "
                                "transforms (did you mean 'y'?)");
    sl_spec_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_errors),
        cmocka_unit_test(test_train_predict),
        cmocka_unit_test(test_train_regression_no_split),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
