/*
 * run/train_internal.h: what train.c (fit and evaluate) hands to
 * train_register.c (baseline, registry version files). Not installed.
 */
#ifndef SLUICE_RUN_TRAIN_INTERNAL_H
#define SLUICE_RUN_TRAIN_INTERNAL_H

#include <stddef.h>

#include "sluice/evaluate.h"
#include "sluice/model.h"
#include "sluice/spec.h"

/* The baseline the spec's evaluate section names, read from the registry
 * (root/name) or a file. No pointer yet: out->present == 0, out->source
 * says which pointer. A pointer to a version without a readable
 * metrics.json, or a missing baseline file, is an error. */
sl_rc sl_train_baseline(const sl_spec *spec, const char *root,
                        const char *name, sl_eval_baseline *out, sl_err *err);

/* model_config.yaml: the spec's name, file, source path, and its model,
 * evaluate and registry sections as YAML (sl_malloc'ed text). */
sl_rc sl_train_model_config(const sl_spec *spec, const char *root,
                            const char *name, char **text, size_t *len,
                            sl_err *err);

typedef struct sl_train_reg {
    const sl_spec *spec;
    const char *root, *name;
    const sl_model *model;
    const char *transform; /* transform.json text */
    size_t transform_len;
    sl_eval_report *report; /* everything but version, which is set here */
} sl_train_reg;

/* Creates the next version of root/name, writes its files, then moves
 * `latest` (and `blessed` when report->blessed). On a failure before the
 * pointers moved, the version directory is removed again. */
sl_rc sl_train_register(const sl_train_reg *r, int *version, char *dir,
                        size_t n, sl_err *err);

#endif
