/*
 * model.h: trainable models behind one interface.
 *
 * A model type is a static, versioned vtable (sl_model_type) registered by
 * name: "random_forest", "gbdt", "logistic_regression",
 * "linear_regression", "mlp". A model (sl_model) is an instance: a type,
 * a task, its hyper-parameters, and after fitting, the feature names, the
 * class list and the fitted state.
 *
 * Typical use (what `sluice train` / `sluice predict` do):
 *
 *     sl_model_param p[] = {{"n_estimators", "200"}, {"max_depth", "12"}};
 *     sl_model *m;
 *     sl_model_new("random_forest", SL_TASK_CLASSIFICATION, p, 2, &m, err);
 *     sl_model_fit(m, train_matrix, err);          // see matrix.h
 *     sl_model_save(m, "model_artifacts/model.slm", err);
 *     ...
 *     sl_model_load("model_artifacts/model.slm", &m, err);
 *     sl_model_predict_batch(m, batch, &pred, err); // by feature name
 *     sl_prediction_to_batch(m, &pred, &out, err);  // prediction + proba_*
 *
 * Hyper-parameters are key/value text pairs, so a spec's `model:` mapping
 * can be passed through as it is written (after the caller removed its own
 * keys such as type, target and task). Each type has a parameter table
 * (sl_model_param_def) that parses, validates and documents them: an
 * unknown key is SL_ECONFIG "model 'gbdt': unknown parameter 'num_leaf'
 * (did you mean 'num_leaves'?)", a bad value names the parameter and what
 * is accepted; err->field holds the key so the caller can add the spec's
 * line and column.
 *
 * Determinism: a model fitted twice on the same matrix with the same
 * parameters saves to byte-identical files, whatever n_jobs (runtime-only
 * parameters such as n_jobs are not stored).
 *
 * Thread safety: a fitted model is read-only during prediction, so several
 * threads may predict with one model at once.
 */
#ifndef SLUICE_MODEL_H
#define SLUICE_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "batch.h"
#include "error.h"
#include "matrix.h"

#define SL_MODEL_ABI_VERSION 1

typedef struct sl_model_param {
    const char *key;
    const char *value;
} sl_model_param;

/* ---- parameter tables ---- */
typedef enum sl_mparam_kind {
    SL_MP_INT = 1,  /* int64_t; range [min, max] */
    SL_MP_FLOAT,    /* double; range [min, max] (min_open: (min, max]) */
    SL_MP_BOOL,     /* int: true/false/yes/no/on/off/1/0 */
    SL_MP_ENUM,     /* int: index into the '|'-separated choices */
    SL_MP_STR       /* char[SL_MP_STR_MAX], checked by the type's check() */
} sl_mparam_kind;

#define SL_MP_STR_MAX 128

/* flags */
#define SL_MP_RUNTIME 0x1  /* not stored in model files (e.g. n_jobs) */
#define SL_MP_MIN_OPEN 0x2 /* FLOAT: value must be > min, not >= */
#define SL_MP_NONE 0x4     /* INT: "none" / "null" mean 0 (no limit) */

typedef struct sl_model_param_def {
    const char *key;
    const char *alias;   /* another accepted key (e.g. "seed"), or NULL */
    sl_mparam_kind kind;
    const char *def;     /* default as text; NULL = depends on the task
                            (the type's check() fills it, doc says how) */
    double min, max;     /* INT / FLOAT range */
    const char *choices; /* ENUM: "gini|entropy" */
    int flags;
    size_t offset;       /* offsetof(the type's params struct, member) */
    const char *doc;     /* one or two sentences for the reference */
} sl_model_param_def;

/* ---- predictions ---- */
typedef struct sl_prediction {
    int64_t n;
    sl_task task;
    int nclasses;
    int32_t *label;  /* classification: class index (argmax of proba, the
                        lowest index on ties) */
    double *proba;   /* classification: n * nclasses, row-major */
    double *value;   /* regression: predicted value */
} sl_prediction;

void sl_prediction_free(sl_prediction *p); /* frees contents, zeroes p */

/* ---- model types ---- */
struct sl_wbuf; /* model-file writer / reader (src/ml/ml_internal.h) */
struct sl_rbuf;
struct json_t;

/* What a type's fit() and load() get besides their own parameters. */
typedef struct sl_model_info {
    sl_task task;
    int nfeatures;
    int nclasses; /* classification; 0 for regression */
} sl_model_info;

typedef struct sl_model_type {
    int abi_version;  /* SL_MODEL_ABI_VERSION */
    const char *name; /* registry key, also written into model files */
    const char *doc;
    unsigned tasks;   /* bit (1 << SL_TASK_x) for each supported task */
    uint32_t payload_version; /* version of this type's file payload */
    const sl_model_param_def *params; /* terminated by {0} */
    size_t params_size;               /* size of the params struct */
    /* Cross-parameter validation and task-dependent defaults, after the
     * table was applied. May be NULL. */
    sl_rc (*check)(void *params, sl_task task, sl_err *err);
    /* Fit on m (m->task matches info->task); *state gets the fitted state. */
    sl_rc (*fit)(const void *params, const sl_model_info *info,
                 const sl_matrix *m, void **state, sl_err *err);
    /* Fill out (allocated by the caller for x->nrows rows and info's
     * classes) from the features of x. */
    sl_rc (*predict_batch)(const void *params, const sl_model_info *info,
                           const void *state, const sl_matrix *x,
                           sl_prediction *out, sl_err *err);
    sl_rc (*save)(const void *params, const sl_model_info *info,
                  const void *state, struct sl_wbuf *w);
    /* Read a payload written by save() with payload_version <= the type's;
     * must validate every count and length against the buffer. */
    sl_rc (*load)(const void *params, const sl_model_info *info,
                  uint32_t payload_version, struct sl_rbuf *r, void **state,
                  sl_err *err);
    /* Add type-specific keys (tree counts, importances, ...) to obj. */
    sl_rc (*describe)(const void *params, const sl_model_info *info,
                      const void *state, struct json_t *obj);
    void (*free_state)(void *state);
} sl_model_type;

/* Registered types; NULL when the name is unknown. */
const sl_model_type *sl_model_type_find(const char *name);
int sl_model_type_count(void);
const sl_model_type *sl_model_type_at(int i);
/* Closest registered type name to `name` (for "did you mean"), or NULL. */
const char *sl_model_type_closest(const char *name);
/* Markdown reference of every type and its parameters. */
void sl_model_doc_md(FILE *out);

/* ---- models ---- */
typedef struct sl_model sl_model;

/* A new unfitted model; validates the parameters (see above). An unknown
 * type is SL_ENOTFOUND naming the known types; a task the type does not
 * support (e.g. linear_regression for classification) is SL_ECONFIG. */
sl_rc sl_model_new(const char *type, sl_task task,
                   const sl_model_param *params, int nparams,
                   sl_model **out, sl_err *err);
void sl_model_free(sl_model *m);

/* Fit on a matrix with labels of the model's task (matrix.h). Refitting
 * replaces the previous state. */
sl_rc sl_model_fit(sl_model *m, const sl_matrix *train, sl_err *err);

/* Predict the rows of x, whose columns must be the model's features in the
 * model's order (a matrix built with spec.features = sl_model_features).
 * *out is filled (free with sl_prediction_free). */
sl_rc sl_model_predict(const sl_model *m, const sl_matrix *x,
                       sl_prediction *out, sl_err *err);
/* Same from a batch: the feature columns are looked up by name (extra
 * columns are ignored, a missing one is an error naming it). */
sl_rc sl_model_predict_batch(const sl_model *m, const sl_batch *b,
                             sl_prediction *out, sl_err *err);
/* Output batch: "prediction" (the label in the target's type, or float64
 * for regression) and, for classification, "proba_<class>" float64
 * columns in class order. */
sl_rc sl_prediction_to_batch(const sl_model *m, const sl_prediction *p,
                             sl_batch **out, sl_err *err);

/* Model files (docs/design/ml.md). save writes a temporary file beside
 * path, fsyncs and renames it over path. */
sl_rc sl_model_save(const sl_model *m, const char *path, sl_err *err);
sl_rc sl_model_load(const char *path, sl_model **out, sl_err *err);
/* In-memory forms (the buffer is sl_malloc'ed; caller sl_frees it). */
sl_rc sl_model_save_mem(const sl_model *m, uint8_t **buf, size_t *len,
                        sl_err *err);
sl_rc sl_model_load_mem(const uint8_t *buf, size_t len, const char *name,
                        sl_model **out, sl_err *err);

/* A JSON object: type, task, target, features, classes, params (all, as
 * text, defaults resolved), fitted (bool) and type-specific keys such as
 * feature_importances or oob_score. Caller json_decref()s it. NULL on
 * allocation failure. */
struct json_t *sl_model_describe(const sl_model *m);

/* Accessors. */
const sl_model_type *sl_model_get_type(const sl_model *m);
sl_task sl_model_task(const sl_model *m);
int sl_model_fitted(const sl_model *m);
int sl_model_nfeatures(const sl_model *m);
const char *const *sl_model_features(const sl_model *m);
const char *sl_model_target(const sl_model *m); /* NULL before fit */
const sl_labels *sl_model_classes(const sl_model *m);
/* Parameter value as text ("" when the key is unknown). */
const char *sl_model_param_text(const sl_model *m, const char *key,
                                char *buf, size_t n);

#endif
