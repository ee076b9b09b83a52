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
 *   model: ... evaluate: ... registry: ... # reserved, kept as raw nodes
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
#include "node.h"
#include "plugin.h"

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
    /* Reserved sections, not validated here (NULL when absent). */
    const sl_node *model, *evaluate, *registry;
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

/* The generated spec reference (docs/user-guides/spec.md): top-level
 * keys, then every registered source, transform and sink with its summary,
 * example and settings table. Call sl_plugins_init() first. */
void sl_spec_docs_md(FILE *out);

#endif
