/*
 * train.h: training a spec's model into the registry (`sluice train`) and
 * scoring files with a registered version (`sluice predict`).
 *
 * sl_train_run runs the spec's batch pipeline (count, analyze and write
 * passes as for `sluice run`, writing the sink when there is one) and,
 * through the runner's hooks (pipeline.h), turns the transformed train
 * rows into the training matrix and the transformed test rows into the
 * test matrix. Then: fit, predict the test rows, metrics overall and per
 * slice, baseline and gate (evaluate.h), and a new registry version
 * (registry.h) holding
 *
 *     model_artifacts/model.slm      the model (docs/design/ml.md)
 *     transform.json                 the fitted transform chain
 *     model_config.yaml              the spec's model/evaluate sections
 *     model_metrics/metrics.json     metrics, slices, baseline, gate, ...
 *     evaluation_results/<name>_<version>.csv
 *
 * `latest` then names the new version; `blessed` does too when the gate
 * holds (or there is no gate, or no baseline yet for a gate that reads
 * one). Nothing is registered when any step before fails; a failure
 * while writing the version removes its directory.
 *
 * sl_predict_file reads a file with the training input schema, applies
 * the version's transform.json except `filter` steps (as the server does:
 * every input row gets a prediction), predicts, and writes the
 * transformed columns followed by `prediction` and, for classification,
 * `proba_<class>` per class: the values the server returns for the same
 * rows. The target column may be absent from the input.
 */
#ifndef SLUICE_TRAIN_H
#define SLUICE_TRAIN_H

#include <stdint.h>

#include "error.h"
#include "metrics.h"
#include "pipeline.h"
#include "spec.h"

/* The batch pipeline of a spec. def->transforms is allocated (free with
 * sl_pipeline_def_clear); the rest points into the spec. */
sl_rc sl_pipeline_def_from_spec(const sl_spec *s, sl_pipeline_def *def,
                                sl_err *err);
void sl_pipeline_def_clear(sl_pipeline_def *def);

typedef struct sl_train_options {
    int quiet;
    int progress;         /* progress bar on stderr (caller checks TTY) */
    const char *registry; /* overrides the spec's registry path, or NULL */
} sl_train_options;

typedef struct sl_train_result {
    sl_run_summary run;     /* the data pipeline */
    char name[256];         /* model name in the registry */
    char dir[SL_PATH_MAX];  /* the new version's directory */
    int version;
    int blessed;
    int previous_blessed;   /* blessed version before this run, 0 = none */
    char reason[1024];      /* why it was (not) blessed */
    sl_task task;
    const char *model_type; /* static */
    sl_metric_set metrics;  /* recorded test metrics (n == 0 without split) */
    int64_t rows_train, rows_test;
    double fit_seconds;
    double seconds;         /* the whole run */
} sl_train_result;

/* Needs spec->model_spec. Errors about the spec are SL_ECONFIG with
 * file:line:col of the key to blame. */
sl_rc sl_train_run(const sl_spec *spec, const sl_train_options *opt,
                   sl_train_result *res, sl_err *err);

/* A registered model version named on the command line. */
typedef struct sl_model_ref {
    char root[SL_PATH_MAX]; /* registry directory ("" for a bare version dir) */
    char name[256];
    int version;            /* 0 for a bare version directory */
    char dir[SL_PATH_MAX];  /* the version directory */
} sl_model_ref;

/* path is a model directory <root>/<name> (version: the given one when
 * > 0, else `blessed`, else `latest`) or a version directory (one that
 * holds model_artifacts/model.slm). SL_ENOTFOUND names what is missing. */
sl_rc sl_model_ref_resolve(const char *path, int version, sl_model_ref *out,
                           sl_err *err);

/* Score in_path with the version in dir (see above), writing out_path;
 * on_error / rejects_path as for sl_pipeline_apply. */
sl_rc sl_predict_file(const char *dir, const char *in_path,
                      const char *out_path, const char *on_error,
                      const char *rejects_path, const sl_run_options *opt,
                      sl_run_summary *sum, sl_err *err);

#endif
