/*
 * run/internal.h: pieces shared by the runner's files (pipeline.c,
 * apply.c, transform_file.c). Not installed.
 */
#ifndef SLUICE_RUN_INTERNAL_H
#define SLUICE_RUN_INTERNAL_H

#include "sluice/fsutil.h"
#include "sluice/pipeline.h"

/* A live plugin instance. ctx is a copy that lives as long as the
 * instance (plugins may keep the pointer they get in init). */
typedef struct sl_inst {
    const sl_plugin *p;
    void *config;
    const sl_node *node;
    void *h;
    sl_ctx ctx;
    sl_schema *out; /* output schema after open (sources, transforms) */
    int opened;
} sl_inst;

sl_rc sl_inst_init(sl_inst *in, const sl_plugin *p, void *config,
                   const sl_node *node, const sl_ctx *ctx, sl_err *err);
sl_rc sl_inst_open(sl_inst *in, const sl_schema *schema, sl_err *err);
sl_rc sl_inst_close(sl_inst *in, sl_err *err);
void sl_inst_destroy(sl_inst *in);
sl_rc sl_chain_apply(sl_inst *t, int n, sl_batch **b, sl_err *err);

/* transform.json: the fitted chain. */
sl_rc sl_transform_file_save(const char *path, const char *pipeline,
                             const sl_schema *in, const sl_schema *out,
                             sl_inst *t, int n, sl_err *err);
/* The same document as text (sl_malloc'ed, ends with a newline). */
sl_rc sl_transform_file_text(const char *pipeline, const sl_schema *in,
                             const sl_schema *out, sl_inst *t, int n,
                             char **text, size_t *len, sl_err *err);

/* A loaded transform.json: the instances are initialised and their state
 * loaded (not opened). */
typedef struct sl_transform_file {
    sl_schema *in, *out;
    sl_inst *t;
    int n;
    sl_doc **docs;   /* config documents, one per transform */
    void **configs;  /* config structs, one per transform */
} sl_transform_file;

sl_rc sl_transform_file_load(const char *path, sl_transform_file *tf,
                             sl_err *err);
void sl_transform_file_free(sl_transform_file *tf);

/* A source or sink for a plain file, configured from key/value pairs
 * (NULL-terminated, values as text) through the plugin's config_map. */
typedef struct sl_file_step {
    const sl_plugin *p;
    sl_doc *doc;
    void *config;
} sl_file_step;

sl_rc sl_file_step_make(sl_file_step *fs, sl_plugin_kind kind,
                        const char *path, sl_err *err, ...);
void sl_file_step_free(sl_file_step *fs);

/* Read in_path (format by extension, column types pinned by hint),
 * push every batch through t[0..nt) and write out_path (format by
 * extension): the job behind sluice apply, convert and predict. label
 * names the progress bar. */
sl_rc sl_run_file_job(const char *in_path, const char *out_path,
                      const sl_schema *hint, sl_inst *t, int nt,
                      const char *on_error, const char *rejects_path,
                      const sl_run_options *opt, const char *label,
                      sl_run_summary *sum, sl_err *err);


#endif
