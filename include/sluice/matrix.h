/*
 * matrix.h: the training / scoring matrix every model reads.
 *
 * Batches are converted once into a dense column-major float matrix
 * (x[j * nrows + i] is feature j of row i) plus, when a target column is
 * named, a label vector:
 *   classification  string, int64 or bool labels become class indices
 *                   0..nclasses-1; the class list is sorted like
 *                   scikit-learn's LabelEncoder (strings by byte order,
 *                   which for UTF-8 is code-point order; integers
 *                   numerically; false < true);
 *   regression      int64, float64 or bool targets become doubles.
 * Feature columns must be numeric (bool, int64, float64). A string, date or
 * timestamp feature is an SL_ESCHEMA error naming the column and pointing
 * at the onehot / vocabulary / derive transforms; a null or non-finite
 * (NaN, inf) feature value is an SL_ESCHEMA error naming the column and
 * the number of such rows and pointing at impute. Models never see missing
 * values: the trees do not handle NaN natively, on purpose, so that every
 * model type and the server accept exactly the same inputs (docs/design/
 * ml.md).
 *
 * Use: sl_matrix_builder_new, sl_matrix_builder_add for every batch (any
 * number, any sizes), sl_matrix_builder_finish. Memory: 4 bytes per
 * feature value plus 4 (class) or 8 (regression) per row; the builder grows
 * geometrically, so pass expected_rows when it is known.
 */
#ifndef SLUICE_MATRIX_H
#define SLUICE_MATRIX_H

#include <stdint.h>

#include "batch.h"
#include "error.h"

typedef enum sl_task {
    SL_TASK_NONE = 0,           /* no target (scoring input) */
    SL_TASK_CLASSIFICATION = 1,
    SL_TASK_REGRESSION = 2
} sl_task;

/* "classification", "regression" (and "none"). */
const char *sl_task_name(sl_task t);
/* Accepts "classification" / "classifier" and "regression" / "regressor".
 * Returns SL_EINVAL otherwise (err names the value). */
sl_rc sl_task_parse(const char *s, sl_task *out, sl_err *err);

/* The class list of a classification target, sorted like LabelEncoder. */
typedef struct sl_labels {
    sl_type type;  /* SL_STRING, SL_INT64 or SL_BOOL */
    int n;
    char **names;  /* text of each class: "setosa", "3", "false"/"true" */
    int64_t *ints; /* SL_INT64 / SL_BOOL: numeric value (bool 0/1); NULL
                      for strings */
} sl_labels;

void sl_labels_clear(sl_labels *l); /* frees the contents, zeroes l */
sl_rc sl_labels_copy(sl_labels *dst, const sl_labels *src);
/* Index of the class whose text is name, or -1. */
int sl_labels_find(const sl_labels *l, const char *name);

typedef struct sl_matrix {
    int64_t nrows;
    int ncols;
    float *x;        /* column-major, ncols * nrows floats (NULL if empty) */
    char **names;    /* ncols feature names */
    sl_task task;    /* SL_TASK_NONE when built without a target */
    char *target;    /* target column name or NULL */
    int32_t *y;      /* classification: class index per row */
    double *yv;      /* regression: target value per row */
    sl_labels classes; /* classification only */
} sl_matrix;

static inline float sl_matrix_at(const sl_matrix *m, int64_t i, int j)
{
    return m->x[(size_t)j * (size_t)m->nrows + (size_t)i];
}

typedef struct sl_matrix_spec {
    /* Target column, or NULL for a scoring matrix without labels. */
    const char *target;
    /* SL_TASK_NONE = infer from the target's type: float64 -> regression,
     * string/int64/bool -> classification. */
    sl_task task;
    /* Feature columns in order; NULL = every column except the target, in
     * batch order (fixed by the first batch). */
    const char *const *features;
    int nfeatures;
    /* Classification: a fixed class list (e.g. the model's, when building
     * test data); a label outside it is an error naming the label. NULL =
     * collect the classes from the data. */
    const sl_labels *classes;
    /* Rows expected in total (capacity hint), 0 if unknown. */
    int64_t expected_rows;
} sl_matrix_spec;

typedef struct sl_matrix_builder sl_matrix_builder;

sl_rc sl_matrix_builder_new(const sl_matrix_spec *spec,
                            sl_matrix_builder **out, sl_err *err);
/* Appends the batch's rows. Every batch must have the feature columns
 * (by name) with the same types as the first one. */
sl_rc sl_matrix_builder_add(sl_matrix_builder *b, const sl_batch *batch,
                            sl_err *err);
/* Finishes the matrix and frees the builder (also on failure). */
sl_rc sl_matrix_builder_finish(sl_matrix_builder *b, sl_matrix **out,
                               sl_err *err);
void sl_matrix_builder_free(sl_matrix_builder *b);

/* Convenience: a matrix from n batches. */
sl_rc sl_matrix_from_batches(const sl_batch *const *batches, int n,
                             const sl_matrix_spec *spec, sl_matrix **out,
                             sl_err *err);

/* A new matrix of the rows rows[0..n-1] of m (features and labels). */
sl_rc sl_matrix_take(const sl_matrix *m, const int64_t *rows, int64_t n,
                     sl_matrix **out, sl_err *err);

void sl_matrix_free(sl_matrix *m);

#endif
