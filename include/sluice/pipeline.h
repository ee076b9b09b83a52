/*
 * pipeline.h: running a batch pipeline: source -> transforms -> sink(s).
 *
 * The runner owns the analyze -> apply order: stateful transforms are
 * fitted on the training rows only (after the split), each on the output
 * of the already-fitted transforms before it, and the fitted chain is
 * saved as transform.json; sl_pipeline_apply reloads that file and applies
 * the identical chain to new data (no training/serving skew).
 *
 * Data passes: (1) a counting pass when there is a split, (2) one analyze
 * pass per stateful transform, (3) the final pass that writes the outputs.
 * Sources are reopened for every pass, so memory stays bounded by the
 * batch size whatever the input size.
 */
#ifndef SLUICE_PIPELINE_H
#define SLUICE_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "node.h"
#include "plugin.h"

/* One configured plugin use in a pipeline. */
typedef struct sl_step_def {
    const sl_plugin *plugin; /* NULL = absent (e.g. no sink) */
    void *config;            /* filled config struct (owned by the caller) */
    const sl_node *node;     /* the config node (for transform.json and paths) */
} sl_step_def;

typedef struct sl_pipeline_def {
    const char *name;
    const char *spec_file;   /* for messages; may be NULL */
    const char *schema_path; /* partial type override for the source, or NULL */
    sl_step_def source;
    sl_step_def *transforms;
    int ntransforms;
    sl_step_def sink;
    int has_split;
    double split_test;
    uint64_t split_seed;
    const char *split_stratify; /* or NULL */
    const char *transform_output; /* transform.json path override, or NULL */
} sl_pipeline_def;

/* Optional callbacks into the final (write) pass, for work that needs
 * the transformed rows, such as training a model (train.h):
 *   begin      the output schema of the transform chain, before any row
 *              of the pass is read;
 *   batch      every transformed batch after the sink wrote it; part 0 is
 *              the train split (all rows without a split), 1 the test split;
 *   transform  the text of transform.json (the fitted chain), once the
 *              pass succeeded, whether or not the spec writes the file.
 * Any may be NULL; a failing callback fails the run with its error. */
typedef struct sl_run_hooks {
    void *ud;
    sl_rc (*begin)(void *ud, const sl_schema *out, sl_err *err);
    sl_rc (*batch)(void *ud, int part, const sl_batch *b, sl_err *err);
    sl_rc (*transform)(void *ud, const char *json, size_t len, sl_err *err);
} sl_run_hooks;

typedef struct sl_run_options {
    int quiet;    /* no progress bar */
    int progress; /* 1 = draw a progress bar on stderr (caller checks TTY) */
    const sl_run_hooks *hooks; /* sl_pipeline_run only; NULL = none */
} sl_run_options;

#define SL_PATH_MAX 4096

typedef struct sl_run_summary {
    int64_t rows_read;       /* rows the source produced (final pass) */
    int64_t rows_rejected;   /* malformed rows skipped / sent to rejects */
    int64_t rows_out;        /* rows written (train + test) */
    int64_t rows_train, rows_test;
    int64_t bytes_read;
    int passes;
    double seconds;
    char out_path[SL_PATH_MAX];       /* data file (no split) or train file */
    char test_path[SL_PATH_MAX];      /* "" without split */
    char transform_path[SL_PATH_MAX]; /* "" when nothing was written */
    char rejects_path[SL_PATH_MAX];   /* "" when no rejects file was written */
} sl_run_summary;

sl_rc sl_pipeline_run(const sl_pipeline_def *def, const sl_run_options *opt,
                      sl_run_summary *sum, sl_err *err);

/* Type-check without running: instantiate every plugin, read the source's
 * schema (when the input exists) and open the transforms up to the first
 * one whose output schema depends on fitted state. */
sl_rc sl_pipeline_check(const sl_pipeline_def *def, int *checked_transforms,
                        sl_err *err);

/* Apply a saved transform.json to in_path (format by extension), writing
 * out_path (format by extension). rejects_path/on_error as for sources
 * (on_error: "fail", "skip" or "dlq"). */
sl_rc sl_pipeline_apply(const char *transform_json, const char *in_path,
                        const char *out_path, const char *on_error,
                        const char *rejects_path, const sl_run_options *opt,
                        sl_run_summary *sum, sl_err *err);

/* Convert between file formats (by extension), same error policy. */
sl_rc sl_pipeline_convert(const char *in_path, const char *out_path,
                          const char *schema_path, const char *on_error,
                          const char *rejects_path, const sl_run_options *opt,
                          sl_run_summary *sum, sl_err *err);

/* Plugin name for a file path by extension ("csv", "jsonl"), or NULL. */
const char *sl_format_for_path(const char *path);

#endif
