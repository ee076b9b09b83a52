/*
 * scorer.h: score batches with a registered model version. This is the one
 * scoring path: `sluice predict` (src/run/predict.c), the HTTP server
 * (src/serving/store.c) and the streaming runner all go through it, so the
 * same rows get the same transforms, the same features and the same
 * predictions everywhere (no training/serving skew).
 *
 * A scorer is a version directory (registry.h) loaded once: the model
 * (model_artifacts/model.slm, which must be fitted) and, when present,
 * transform.json. Scoring a batch:
 *
 *   1. the training target, when the version's input schema has it and
 *      the batch does not, is added as an all-null column of its type;
 *   2. every step of transform.json except `filter` runs (a filter selects
 *      training rows; a scorer owes one prediction per row), with the
 *      fitted state saved at training;
 *   3. the model's features are taken from the transformed batch by name
 *      and converted as the training matrix converts them
 *      (value -> double -> float); a null, NaN, infinite or out-of-float-
 *      range feature value is an error (the model needs a value);
 *   4. the model predicts: `prediction` (the class in the target's type,
 *      or float64 for regression) and, for classification, one float64
 *      `proba_<class>` per class in class order.
 *
 * Input schema. Raw records must have the version's input schema
 * (sl_scorer_input_schema): the training input schema, in which the
 * target is nullable and may be left out; extra columns pass through.
 * Columns are matched by name; with transform.json each must have the
 * training type, without it (a model trained on raw features) every
 * model feature must be numeric. A source reading raw records should use
 * sl_scorer_source_hint as its schema hint so it reads them exactly as
 * the training data was read.
 *
 * Ownership follows the transform convention (plugin.h): apply and predict
 * consume the caller's reference to the input batch, also on failure;
 * *out gets a new reference.
 *
 * Thread safety: after sl_scorer_open, every function but sl_scorer_close
 * may be called from several threads at once on one scorer. Transform
 * instances keep per-call state, so each call borrows an opened chain from
 * the scorer's pool (a mutex around a free list) and returns it; the pool
 * grows to the peak number of concurrent calls per input schema. The model
 * is read-only while predicting.
 *
 * Errors: loading names the file or the version directory (the model
 * file's own errors, "<dir>/transform.json: the transforms do not produce
 * feature 'x' ..."); a batch that does not fit names the column and what
 * was expected ("<dir>: input column 'wind' (float64) is missing; ...",
 * SL_ESCHEMA); a bad feature value names the feature and the row; err->field
 * holds the column when one is to blame. Codes keep their classes:
 * SL_ENOTFOUND (no version directory), the model loader's codes for a
 * missing or corrupt model, SL_EINVAL (model not fitted), SL_ESCHEMA
 * (model and transforms or input do not match, bad feature values),
 * a transform's own code when its process() fails (see
 * sl_scorer_options.transform_rc), SL_ENOMEM.
 */
#ifndef SLUICE_SCORER_H
#define SLUICE_SCORER_H

#include "batch.h"
#include "error.h"
#include "model.h"
#include "schema.h"

typedef struct sl_scorer sl_scorer;

/* Which columns an output batch has, before `prediction` and `proba_*`. */
typedef enum sl_scorer_keep {
    SL_SCORER_KEEP_TRANSFORMED = 0, /* the transformed columns, minus a
                                       target the scorer added (what
                                       `sluice predict` writes) */
    SL_SCORER_KEEP_INPUT,           /* the input columns as given */
    SL_SCORER_KEEP_NONE             /* none: the predictions only */
} sl_scorer_keep;

typedef struct sl_scorer_options {
    sl_scorer_keep keep;
    /* How an error about one value names its row. NULL: counted per batch
     * ("feature 'wind' is null after the transforms in 3 of 500 rows (the
     * first is row 17 of the batch); ...", 1-based). A name, e.g. "instances":
     * the first such row as name[i], 0-based in the batch
     * ("instances[2]: feature 'wind' is null after the transforms, ..."),
     * which is what the server reports per request. */
    const char *row_name;
    /* 0: a transform failing in process() returns its own code (e.g. a
     * parse error stays SL_EPARSE). Non-zero: that code instead, except
     * SL_ENOMEM (the server uses SL_ESCHEMA: the instance's values are to
     * blame, not the server). */
    sl_rc transform_rc;
} sl_scorer_options;

/* Load the version in dir (a version directory, e.g. sl_model_ref.dir from
 * sl_model_ref_resolve) and validate it: the model is fitted, the
 * transforms open on the input schema and produce every model feature as
 * a numeric column. o may be NULL (defaults: zeroed options). */
sl_rc sl_scorer_open(const char *dir, const sl_scorer_options *o,
                     sl_scorer **out, sl_err *err);
void sl_scorer_close(sl_scorer *s); /* NULL is fine */

/* The schema raw records must have (see above): transform.json's
 * input_schema with the target marked nullable or, without
 * transform.json, the model's features as float64. Owned by s. */
const sl_schema *sl_scorer_input_schema(const sl_scorer *s);
/* Index of the training target in the input schema, or -1. */
int sl_scorer_target_index(const sl_scorer *s);
/* A source's schema hint for raw records (caller frees): the input schema
 * without the target, or NULL (and SL_OK) without transform.json, where
 * the source infers the types (any numeric feature type is accepted). */
sl_rc sl_scorer_source_hint(const sl_scorer *s, sl_schema **hint,
                            sl_err *err);
const sl_model *sl_scorer_model(const sl_scorer *s);
const char *sl_scorer_dir(const sl_scorer *s);
/* <dir>/transform.json, or NULL when the version has none. */
const char *sl_scorer_transform_path(const sl_scorer *s);

/* The schema of the batches sl_scorer_apply makes from batches of schema
 * in (caller frees): the kept columns (options.keep), then `prediction`
 * and `proba_<class>`, all nullable. Checks in against the input schema
 * and opens a chain on it (kept in the pool for the first apply). */
sl_rc sl_scorer_output_schema(sl_scorer *s, const sl_schema *in,
                              sl_schema **out, sl_err *err);

/* Score a batch (consumed): *out has the output schema for in->schema.
 * Every input row gets exactly one output row, in order. */
sl_rc sl_scorer_apply(sl_scorer *s, sl_batch *in, sl_batch **out,
                      sl_err *err);

/* Score a batch (consumed) into raw predictions (class indices into
 * sl_model_classes, probabilities, or values; free with
 * sl_prediction_free): the same steps as sl_scorer_apply without building
 * an output batch (the server renders JSON from it). */
sl_rc sl_scorer_predict(sl_scorer *s, sl_batch *in, sl_prediction *out,
                        sl_err *err);

#endif
