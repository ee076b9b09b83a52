/*
 * serving_fixture.c: builds model registries for tests/integration/
 * test_serving.sh and the serving benchmark, and computes reference
 * predictions through the C API, until `sluice train` / `sluice predict`
 * exist. Compiled by those scripts against libsluice.a.
 *
 *   serving_fixture train REGISTRY NAME DATA_DIR TARGET TYPE [k=v ...]
 *       fit TYPE on DATA_DIR/train.csv (every column but TARGET is a
 *       feature), register a new version of NAME: model.slm,
 *       DATA_DIR/transform.json, metrics.json (accuracy or r2 on
 *       DATA_DIR/test.csv); point `latest` at it; print the version.
 *   serving_fixture bless REGISTRY NAME VERSION
 *   serving_fixture predict MODEL.slm FEATURES.csv
 *       print {"predictions": [...], "probabilities": [[...]]} with every
 *       double in 17 significant digits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/csv.h"
#include "sluice/matrix.h"
#include "sluice/metrics.h"
#include "sluice/model.h"
#include "sluice/registry.h"

static int die(const char *what, const sl_err *e)
{
    fprintf(stderr, "serving_fixture: %s: %s%s%s\n", what, e->file, e->file[0] ? ": " : "",
            e->msg);
    return 1;
}

static sl_rc load(const char *path, const sl_matrix_spec *spec, sl_matrix **m, sl_err *e)
{
    sl_csv_options o;
    sl_csv_options_init(&o);
    sl_csv_reader *r;
    sl_batch *batch;
    sl_matrix_builder *b;
    sl_rc rc = sl_csv_reader_open(path, &o, NULL, &r, e);
    if (rc != SL_OK)
        return rc;
    rc = sl_matrix_builder_new(spec, &b, e);
    while (rc == SL_OK && (rc = sl_csv_reader_next(r, &batch, e)) == SL_OK) {
        rc = sl_matrix_builder_add(b, batch, e);
        sl_batch_unref(batch);
    }
    if (rc == SL_EEOF)
        rc = sl_matrix_builder_finish(b, m, e);
    else if (rc != SL_OK && b)
        sl_matrix_builder_free(b);
    sl_csv_reader_close(r, NULL);
    return rc;
}

static int copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = in ? fopen(to, "wb") : NULL;
    char buf[65536];
    size_t n;
    int ok = in && out;
    while (ok && (n = fread(buf, 1, sizeof buf, in)) > 0)
        ok = fwrite(buf, 1, n, out) == n;
    if (in)
        fclose(in);
    if (out && fclose(out) != 0)
        ok = 0;
    return ok ? 0 : -1;
}

static int train(int argc, char **argv)
{
    const char *root = argv[2], *name = argv[3], *data = argv[4], *target = argv[5],
               *type = argv[6];
    char path[4096], dir[4096];
    sl_err e;
    sl_err_clear(&e);
    int np = argc - 7;
    sl_model_param *p = calloc((size_t)np + 1, sizeof *p);
    for (int i = 0; i < np; i++) {
        char *eq = strchr(argv[7 + i], '=');
        if (!eq) {
            fprintf(stderr, "serving_fixture: '%s' is not key=value\n", argv[7 + i]);
            return 2;
        }
        *eq = '\0';
        p[i].key = argv[7 + i];
        p[i].value = eq + 1;
    }
    sl_matrix *tr = NULL, *te = NULL;
    sl_matrix_spec spec = {.target = target};
    snprintf(path, sizeof path, "%s/train.csv", data);
    if (load(path, &spec, &tr, &e) != SL_OK)
        return die(path, &e);
    sl_model *m;
    if (sl_model_new(type, tr->task, p, np, &m, &e) != SL_OK || sl_model_fit(m, tr, &e) != SL_OK)
        return die("fit", &e);
    sl_matrix_spec tspec = {.target = target, .task = tr->task,
                            .features = sl_model_features(m),
                            .nfeatures = sl_model_nfeatures(m),
                            .classes = tr->task == SL_TASK_CLASSIFICATION ? sl_model_classes(m)
                                                                          : NULL};
    snprintf(path, sizeof path, "%s/test.csv", data);
    if (load(path, &tspec, &te, &e) != SL_OK)
        return die(path, &e);
    sl_prediction pr;
    sl_metric_set s;
    if (sl_model_predict(m, te, &pr, &e) != SL_OK || sl_metrics_compute(te, &pr, &s, &e) != SL_OK)
        return die("evaluate", &e);
    int version;
    if (sl_registry_new_version(root, name, &version, dir, sizeof dir, &e) != SL_OK)
        return die("registry", &e);
    snprintf(path, sizeof path, "%s/%s", dir, SL_REGISTRY_MODEL_FILE);
    if (sl_model_save(m, path, &e) != SL_OK)
        return die("save", &e);
    char from[4096];
    snprintf(from, sizeof from, "%s/transform.json", data);
    snprintf(path, sizeof path, "%s/%s", dir, SL_REGISTRY_TRANSFORM_FILE);
    if (copy_file(from, path) != 0) {
        fprintf(stderr, "serving_fixture: cannot copy %s\n", from);
        return 1;
    }
    snprintf(path, sizeof path, "%s/%s", dir, SL_REGISTRY_METRICS_FILE);
    FILE *f = fopen(path, "w");
    if (!f)
        return 1;
    fprintf(f, "{\"model\": \"%s\", \"test_rows\": %lld", type, (long long)te->nrows);
    for (int i = 0; i < s.n; i++)
        fprintf(f, ", \"%s\": %.17g", s.names[i], s.values[i]);
    fprintf(f, "}\n");
    fclose(f);
    if (sl_registry_set_pointer(root, name, "latest", version, &e) != SL_OK)
        return die("latest", &e);
    printf("%d\n", version);
    sl_prediction_free(&pr);
    sl_matrix_free(tr);
    sl_matrix_free(te);
    sl_model_free(m);
    free(p);
    return 0;
}

static int predict(const char *model_path, const char *csv)
{
    sl_err e;
    sl_err_clear(&e);
    sl_model *m;
    if (sl_model_load(model_path, &m, &e) != SL_OK)
        return die(model_path, &e);
    sl_matrix_spec spec = {.features = sl_model_features(m), .nfeatures = sl_model_nfeatures(m)};
    sl_matrix *x;
    sl_prediction p;
    if (load(csv, &spec, &x, &e) != SL_OK)
        return die(csv, &e);
    if (sl_model_predict(m, x, &p, &e) != SL_OK)
        return die("predict", &e);
    const sl_labels *cl = sl_model_classes(m);
    printf("{\"predictions\": [");
    for (int64_t i = 0; i < p.n; i++) {
        if (p.task == SL_TASK_CLASSIFICATION)
            printf(cl->type == SL_STRING ? "%s\"%s\"" : "%s%s", i ? ", " : "",
                   cl->names[p.label[i]]);
        else
            printf("%s%.17g", i ? ", " : "", p.value[i]);
    }
    printf("]");
    if (p.task == SL_TASK_CLASSIFICATION) {
        printf(", \"probabilities\": [");
        for (int64_t i = 0; i < p.n; i++) {
            printf("%s[", i ? ", " : "");
            for (int k = 0; k < p.nclasses; k++)
                printf("%s%.17g", k ? ", " : "", p.proba[i * p.nclasses + k]);
            printf("]");
        }
        printf("]");
    }
    printf("}\n");
    sl_prediction_free(&p);
    sl_matrix_free(x);
    sl_model_free(m);
    return 0;
}

int main(int argc, char **argv)
{
    sl_err e;
    sl_err_clear(&e);
    if (argc >= 7 && !strcmp(argv[1], "train"))
        return train(argc, argv);
    if (argc == 5 && !strcmp(argv[1], "bless")) {
        if (sl_registry_set_pointer(argv[2], argv[3], "blessed", atoi(argv[4]), &e) != SL_OK)
            return die("bless", &e);
        return 0;
    }
    if (argc == 4 && !strcmp(argv[1], "predict"))
        return predict(argv[2], argv[3]);
    fprintf(stderr, "usage: serving_fixture train REGISTRY NAME DATA_DIR TARGET TYPE [k=v ...]\n"
                    "       serving_fixture bless REGISTRY NAME VERSION\n"
                    "       serving_fixture predict MODEL.slm FEATURES.csv\n");
    return 2;
}
