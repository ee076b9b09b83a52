/*
 * train_cmd.c: `sluice train SPEC` (also `sluice run SPEC` for a spec with
 * a model section) and `sluice predict`. One library call each
 * (sl_train_run, sl_predict_file) and a summary on stdout:
 *
 *   quickstart: 1461 rows read -> train 1168 rows, test 293 rows [5 passes, 0.04 s]
 *   quickstart: random_forest version 2 (models/ml_models/quickstart/2):
 *     accuracy=0.8532 f1=0.7964 auc=0.9312; blessed (gate holds: ...)
 *
 * Not being blessed is a result, not a failure: the exit code is 0.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli/train_cmd.h"
#include "sluice/train.h"

static void print_run(const sl_spec *spec, const sl_run_summary *s)
{
    printf("%s: %" PRId64 " rows read", spec->name, s->rows_read);
    if (s->rows_rejected > 0)
        printf(", %" PRId64 " rejected%s%s%s", s->rows_rejected,
               s->rejects_path[0] ? " (" : "", s->rejects_path, s->rejects_path[0] ? ")" : "");
    if (spec->has_split)
        printf(" -> train %" PRId64 " rows, test %" PRId64 " rows", s->rows_train, s->rows_test);
    else
        printf(" -> %" PRId64 " rows", s->rows_out);
    if (s->out_path[0] && spec->sink.plugin)
        printf(" (%s%s%s)", s->out_path, s->test_path[0] ? ", " : "", s->test_path);
    printf(" [%d passes, %.2f s]\n", s->passes, s->seconds);
}

static void print_model(const sl_spec *spec, const sl_train_result *r)
{
    printf("%s: %s version %d (%s):", spec->name, r->model_type, r->version, r->dir);
    if (r->metrics.n == 0)
        printf(" no test split, no metrics;");
    for (int i = 0; i < r->metrics.n; i++) {
        double v = r->metrics.values[i];
        if (isfinite(v))
            printf(" %s=%.4f", r->metrics.names[i], v);
        else
            printf(" %s=n/a", r->metrics.names[i]);
        printf("%s", i + 1 == r->metrics.n ? ";" : "");
    }
    if (r->blessed)
        printf(" blessed (%s)", r->reason);
    else if (r->previous_blessed > 0)
        printf(" not blessed (%s); blessed stays version %d", r->reason, r->previous_blessed);
    else
        printf(" not blessed (%s)", r->reason);
    printf(" [fit %.2f s, total %.2f s]\n", r->fit_seconds, r->seconds);
}

static int train_spec(const sl_cli_args *a, const sl_spec *spec)
{
    sl_err err;
    sl_err_clear(&err);
    sl_train_options opt = {.quiet = a->quiet, .progress = a->progress,
                            .registry = a->registry};
    sl_train_result res;
    sl_rc rc = sl_train_run(spec, &opt, &res, &err);
    if (rc != SL_OK)
        return sl_cli_fail(rc, &err);
    if (!a->quiet) {
        print_run(spec, &res.run);
        print_model(spec, &res);
    }
    return 0;
}

int sl_cli_train(const sl_cli_args *a)
{
    if (a->npos != 2)
        return sl_cli_usage("train: expected one spec file, e.g. 'sluice train %s'",
                            "examples/quickstart/pipeline.yaml");
    sl_err err;
    sl_err_clear(&err);
    sl_spec *spec = NULL;
    sl_rc rc = sl_spec_load(a->pos[1], &spec, &err);
    if (rc != SL_OK)
        return sl_cli_fail(rc, &err);
    int code;
    if (spec->model_ref) {
        sl_err_setloc(&err, SL_ECONFIG, spec->file, spec->model->line, spec->model->col,
                      "'model: %.200s' names a registered model to score with, not one to "
                      "train (give model: {type: random_forest, target: label} to train)",
                      spec->model_ref);
        code = sl_cli_fail(SL_ECONFIG, &err);
    } else if (!spec->model_spec) {
        sl_err_setloc(&err, SL_ECONFIG, spec->file, 0, 0,
                      "the spec has no 'model' section, so there is nothing to train "
                      "(add one, e.g. model: {type: random_forest, target: label}, or "
                      "use sluice run)");
        code = sl_cli_fail(SL_ECONFIG, &err);
    } else {
        code = train_spec(a, spec);
    }
    sl_spec_free(spec);
    return code;
}

int sl_cli_run_or_train(const sl_cli_args *a)
{
    if (a->npos != 2)
        return sl_cli_run(a);
    sl_err err;
    sl_err_clear(&err);
    sl_spec *spec = NULL;
    sl_rc rc = sl_spec_load(a->pos[1], &spec, &err);
    if (rc != SL_OK)
        return sl_cli_fail(rc, &err);
    int code = spec->model_spec ? train_spec(a, spec) : -1;
    if (spec->model_ref) {
        /* scoring files is `sluice predict`; a batch run that silently
         * left the predictions out would surprise */
        sl_err_setloc(&err, SL_ECONFIG, spec->file, spec->model->line, spec->model->col,
                      "'model: %.200s' scores records in streaming runs (sluice run %s "
                      "--stream); to score a file use sluice predict --model %.200s IN OUT",
                      spec->model_ref, a->pos[1], spec->model_ref);
        code = sl_cli_fail(SL_ECONFIG, &err);
    }
    sl_spec_free(spec);
    return code >= 0 ? code : sl_cli_run(a);
}

int sl_cli_predict(const sl_cli_args *a)
{
    if (!a->model || a->npos != 3)
        return sl_cli_usage("predict: expected %s",
                            "--model models/ml_models/NAME [--version N] INPUT OUTPUT");
    sl_err err;
    sl_err_clear(&err);
    sl_model_ref ref;
    sl_rc rc = sl_model_ref_resolve(a->model, a->version, &ref, &err);
    if (rc != SL_OK)
        return sl_cli_fail(rc, &err);
    sl_run_options opt = {.quiet = a->quiet, .progress = a->progress};
    sl_run_summary sum;
    rc = sl_predict_file(ref.dir, a->pos[1], a->pos[2], a->on_error, a->rejects, &opt, &sum,
                         &err);
    if (rc != SL_OK)
        return sl_cli_fail(rc, &err);
    if (!a->quiet) {
        printf("%" PRId64 " rows read", sum.rows_read);
        if (sum.rows_rejected > 0)
            printf(", %" PRId64 " rejected", sum.rows_rejected);
        printf(" -> %" PRId64 " predictions (%s), model %s", sum.rows_out, sum.out_path,
               ref.dir);
        printf(" [%.2f s]\n", sum.seconds);
    }
    return 0;
}
