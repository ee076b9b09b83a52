/*
 * spec.h: the pipeline spec (YAML), parsed and validated in one call.
 *
 *   name: quickstart                       # default: the file name's stem
 *   description: ...                       # optional
 *   schema: models/data_models/raw.json    # optional type override
 *   source: { type: csv, path: data.csv }  # required; type inferred from
 *                                          # the path's extension if absent
 *   transforms:                            # optional list of one-key maps
 *     - filter: "x > 0"
 *     - scale: { columns: [x], method: zscore }
 *   split: { test: 0.2, seed: 42, stratify: label }   # optional
 *   sink: { type: csv, path: out/ }        # optional (needed to run)
 *   transform_output: out/transform.json   # optional
 *   model: { type: random_forest, target: label, n_estimators: 200 }
 *                                          # or, for --stream scoring, a
 *                                          # registered model's path
 *   evaluate: { metrics: [accuracy, auc], gate: "auc >= baseline.auc" }
 *   registry: models/ml_models            # model/evaluate/registry: see
 *                                          # spec_train.c and train.h
 *
 * sl_spec_load checks everything that can be checked without data: the
 * YAML, every key (unknown keys name the closest valid one), every plugin
 * name and each plugin's settings through its config_map. Column names
 * and expressions are checked later against the data's schema by the
 * pipeline. Errors carry file:line:col of the offending node.
 *
 * The registry must be filled first (sl_plugins_init(), plus any
 * sl_plugin_register() calls): plugins are looked up by name.
 *
 * Paths are kept as written; the caller decides what they are relative to.
 * Every pointer in sl_spec lives until sl_spec_free.
 */
#ifndef SLUICE_SPEC_H
#define SLUICE_SPEC_H

#include <stdint.h>
#include <stdio.h>

#include "error.h"
#include "matrix.h"
#include "model.h"
#include "node.h"
#include "plugin.h"

struct sl_gate;

/* `model:` (training). The hyper-parameters are the section's other keys,
 * as text, checked by sl_model_new against the type's table. */
typedef struct sl_spec_model {
    char *type;             /* model type, e.g. "random_forest" */
    char *target;           /* target column */
    sl_task task;           /* SL_TASK_NONE: inferred from the target's type */
    sl_strlist features;    /* n == 0: every numeric column but the target */
    int nparams;
    sl_model_param *params; /* keys/values point into the document */
    const sl_node **param_keys;   /* key node of each parameter */
    const sl_node **param_values; /* value node of each parameter */
    const sl_node *node;          /* the section */
} sl_spec_model;

/* `evaluate:` (defaults filled in when the spec has a model but no
 * evaluate section; `given` tells them apart). */
typedef enum sl_baseline_kind {
    SL_BASELINE_BLESSED = 0,
    SL_BASELINE_LATEST,
    SL_BASELINE_NONE,
    SL_BASELINE_FILE
} sl_baseline_kind;

typedef struct sl_spec_evaluate {
    int given;
    sl_strlist metrics;     /* canonical names; n == 0: all of the task's */
    sl_strlist slice_by;    /* columns of the transformed data */
    sl_baseline_kind baseline;
    char *baseline_path;    /* SL_BASELINE_FILE: a metrics.json */
    sl_cfg_expr gate_text;  /* text NULL: no gate */
    struct sl_gate *gate;   /* parsed and bound gate (evaluate.h), or NULL */
    const sl_node *node;    /* the section, or NULL */
} sl_spec_evaluate;

/* One configured plugin use: the plugin, its settings node and the config
 * struct filled from it (calloc(plugin->config_size) + sl_config_apply). */
typedef struct sl_spec_step {
    const sl_plugin *plugin; /* NULL when the step is absent (no sink) */
    const sl_node *node;     /* sources/sinks: the mapping, `type` included;
                                transforms: the value under the plugin name
                                (may be NULL or a scalar/list shorthand) */
    void *config;            /* owned; NULL when absent */
    int64_t line, col;       /* where the step is written */
} sl_spec_step;

typedef struct sl_spec {
    sl_doc *doc;          /* the parsed YAML; nodes below point into it */
    const char *file;     /* spec file name (for messages) */
    char *name;           /* `name`, or the file name's stem */
    char *description;    /* or NULL */
    char *schema_path;    /* `schema`, or NULL */
    sl_spec_step source;
    sl_spec_step *transforms;
    int ntransforms;
    sl_spec_step sink;    /* sink.plugin == NULL when there is no sink */
    int has_split;        /* 1 when `split` is given */
    double split_test;    /* fraction of rows for the test set, 0 < t < 1 */
    int64_t split_seed;   /* >= 0 */
    char *split_stratify; /* column name, or NULL */
    char *transform_output; /* or NULL */
    /* Training sections as written (NULL when absent) ... */
    const sl_node *model, *evaluate, *registry;
    /* ... and validated (NULL / unset without `model:`). */
    sl_spec_model *model_spec;
    sl_spec_evaluate *evaluate_spec; /* non-NULL whenever model_spec is */
    char *registry_path;    /* `registry` or `registry.path` (default
                               models/ml_models) */
    char *registry_name;    /* `registry.name`, default the spec's name */
    /* `model: PATH` (a single value instead of a mapping): a registered
     * model to score with, not one to train: models/ml_models/NAME (its
     * blessed, else latest version) or a version directory. Only
     * `sluice run --stream` scores with it (see stream.h); NULL when
     * absent or when `model` is a training section. */
    char *model_ref;
} sl_spec;

/* Load and validate a spec file. On failure *out is NULL and err says
 * file:line:col: what is wrong. Every invalid spec, YAML syntax errors
 * included, is SL_ECONFIG; SL_EIO when the file cannot be read. */
sl_rc sl_spec_load(const char *path, sl_spec **out, sl_err *err);
/* Same from YAML text; name is used in messages and for the default
 * `name` (its stem). */
sl_rc sl_spec_load_string(const char *text, size_t n, const char *name,
                          sl_spec **out, sl_err *err);
/* Same from a parsed document; takes ownership of doc (freed on failure
 * too). */
sl_rc sl_spec_from_doc(sl_doc *doc, sl_spec **out, sl_err *err);
void sl_spec_free(sl_spec *s);

/* Points an sl_model_new error about s's model (err->field = the
 * parameter's key) at the spec: the key for unknown or repeated keys,
 * the value for a bad value, else the `task` or `type` key. Makes it
 * SL_ECONFIG (SL_ENOMEM stays). No-op when err already has a line. */
void sl_spec_model_error(const sl_spec *s, sl_err *err);

/* The generated spec reference (docs/user-guides/spec.md): top-level
 * keys, then every registered source, transform and sink with its summary,
 * example and settings table. Call sl_plugins_init() first. */
void sl_spec_docs_md(FILE *out);

#endif
