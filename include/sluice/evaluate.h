/*
 * evaluate.h: what `sluice train` decides and records after fitting:
 * the metric catalogue, the blessing gate, and the evaluation files of a
 * registry version (model_metrics/metrics.json and
 * evaluation_results/<name>_<version>.csv).
 *
 * The gate is an expression of the project's expression language (expr.h)
 * over metric names and `baseline.<metric>`:
 *
 *     auc >= baseline.auc - 0.001 and accuracy > 0.8
 *
 * It is rewritten to plain column names (`baseline.auc` -> `baseline_auc`,
 * same length, so error columns still point into the written text), parsed
 * once and bound against a schema with one float64 column per known metric
 * and per `baseline_<metric>`. Evaluating it builds a one-row batch of the
 * current and baseline values; a metric that is absent (no baseline, AUC
 * of a one-class test set) is null, and a null result means "cannot tell",
 * which the caller treats as not passing.
 *
 * metrics.json (format "sluice-metrics", version 1) is written from an
 * sl_eval_report; sl_eval_metrics_load reads back the parts a later
 * version compares against (overall and per-slice metrics).
 */
#ifndef SLUICE_EVALUATE_H
#define SLUICE_EVALUATE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"
#include "matrix.h"
#include "metrics.h"

struct json_t;

/* ---- metric catalogue ---- */

/* Number of known metrics and the i-th canonical name (static string). */
int sl_metric_known_count(void);
const char *sl_metric_known_at(int i);
/* Canonical static name of a metric ("roc_auc" -> "auc"), or NULL when
 * name is not a known metric. */
const char *sl_metric_canonical(const char *name);
/* The task a metric belongs to (classification or regression). */
sl_task sl_metric_task(const char *name);
/* Closest known metric name (for "did you mean"), or NULL. */
const char *sl_metric_closest(const char *name);
/* Markdown table of the metrics (name, task, meaning). */
void sl_metric_doc_md(FILE *out);

/* ---- the gate ---- */

typedef struct sl_gate sl_gate;

/* Parses and type-checks a gate. Errors are SL_ECONFIG with err->col the
 * 1-based character offset in text and err->field the offending name:
 * "unknown metric 'acuracy' (did you mean 'accuracy'?)", "the gate must
 * be a condition (true/false), but it is float64", syntax errors as
 * expr.h reports them. */
sl_rc sl_gate_parse(const char *text, sl_gate **out, sl_err *err);
void sl_gate_free(sl_gate *g);
const char *sl_gate_text(const sl_gate *g);
/* 1 when the gate reads any baseline.<metric>. */
int sl_gate_uses_baseline(const sl_gate *g);
/* The metrics the gate reads (canonical names, each once, in order of
 * first use; baseline.<m> counts as m). Valid until sl_gate_free. */
int sl_gate_metrics(const sl_gate *g, const char *const **names);

/* Evaluates the gate on the current metrics and the baseline's (NULL =
 * no baseline). *result is 1 (holds), 0 (fails) or -1 (null: a metric it
 * reads is missing). detail (size n) gets the values it read, e.g.
 * "auc=0.9312, baseline.auc=0.9301" (missing ones as "n/a"). */
sl_rc sl_gate_eval(sl_gate *g, const sl_metric_set *cur,
                   const sl_metric_set *base, int *result, char *detail,
                   size_t n, sl_err *err);

/* ---- evaluation report ---- */

typedef struct sl_eval_slice {
    const char *column;
    const char *value; /* the slice value as text ("null" for nulls) */
    int64_t rows;
    sl_metric_set metrics;
} sl_eval_slice;

/* A baseline as read back from an earlier metrics.json. */
typedef struct sl_eval_baseline {
    int present;
    char source[512];  /* "blessed", "latest" or the file name */
    int version;       /* registry version, 0 for a file */
    sl_metric_set metrics;
    int nslices;
    sl_eval_slice *slices; /* owned: column/value strings are sl_strdup'ed */
} sl_eval_baseline;

void sl_eval_baseline_clear(sl_eval_baseline *b);
/* Reads the "metrics" and "slices" of a metrics.json (unknown metric
 * names are skipped). SL_ENOTFOUND when the file does not exist, SL_EPARSE
 * when it is not a metrics.json. */
sl_rc sl_eval_metrics_load(const char *path, sl_eval_baseline *out,
                           sl_err *err);
/* The baseline's metrics of one slice, or NULL. */
const sl_metric_set *sl_eval_baseline_slice(const sl_eval_baseline *b,
                                            const char *column,
                                            const char *value);

/* The blessing decision. No gate (g NULL): blessed. A gate that reads
 * baseline.* with no baseline present: blessed (nothing to compare with;
 * the first version).
 * Otherwise blessed only when the gate holds (a null result does not).
 * *result gets the gate's value (1, 0, -1; -1 also when it was not
 * evaluated); reason (size n) says why, with the values the gate read. */
sl_rc sl_gate_decide(sl_gate *g, const sl_metric_set *cur,
                     const sl_eval_baseline *base, int *blessed, int *result,
                     char *reason, size_t n, sl_err *err);

typedef struct sl_eval_report {
    const char *name;       /* registry model name */
    int version;
    const char *spec_file;
    const char *created;    /* ISO 8601 UTC time, or NULL to leave out */
    const char *model_type;
    sl_task task;
    const char *target;
    const char *key_metric; /* NULL = none */
    sl_metric_set metrics;  /* overall, on the test split */
    int nslices;
    const sl_eval_slice *slices;
    const sl_eval_baseline *baseline; /* NULL or !present = none */
    const char *gate;       /* gate text or NULL */
    int gate_result;        /* 1, 0, -1 (null); ignored without a gate */
    int blessed;
    const char *reason;     /* why (not) blessed */
    int64_t rows_train, rows_test;
    double seconds_pipeline, seconds_fit, seconds_predict, seconds_total;
    const struct json_t *describe; /* sl_model_describe, borrowed */
} sl_eval_report;

/* The metrics.json document (caller json_decref()s it); NULL on
 * allocation failure. Metrics that are not finite are written as null. */
struct json_t *sl_eval_report_json(const sl_eval_report *r);
/* The evaluation CSV: header "metric,slice,value,baseline,delta", one row
 * per overall metric (slice empty) then per slice metric (slice
 * "column=value"); baseline and delta are empty without a baseline value.
 * *text is sl_malloc'ed. */
sl_rc sl_eval_report_csv(const sl_eval_report *r, char **text, size_t *len,
                         sl_err *err);

#endif
