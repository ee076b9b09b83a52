/*
 * file_plugin.h: the lifecycle shared by the file-format source and sink
 * plugins (internal to src/formats/). A format supplies an ops table that
 * turns its config into reader/writer options and forwards to its reader or
 * writer; the functions below are what its sl_plugin vtable points at, so
 * instance ownership, the rejects/hint copies and the atomic-commit rule
 * (destroy without close aborts) live in one place.
 */
#ifndef SL_FILE_PLUGIN_H
#define SL_FILE_PLUGIN_H

#include <stdint.h>

#include "sluice/plugin.h"

struct sl_file_reader_ops;
struct sl_file_writer_ops;

/* A source instance; the ops read cfg and own r (and aux). */
typedef struct sl_file_source {
    const struct sl_file_reader_ops *ops;
    const void *cfg;
    char *rejects;   /* only when ops->dlq */
    sl_schema *hint; /* only when ops->dlq */
    void *aux;       /* format state kept across passes, freed by aux_free */
    void *r;
} sl_file_source;

typedef struct sl_file_reader_ops {
    /* Reader takes on_error: dlq and the spec's schema override, so init
     * copies the rejects path and schema hint (both may outlive ctx). */
    int dlq;
    /* Builds the options from s->cfg and opens s->r. */
    sl_rc (*open)(sl_file_source *s, sl_err *err);
    const sl_schema *(*schema)(const void *r);
    sl_rc (*next)(void *r, sl_batch **out, sl_err *err);
    void (*progress)(const void *r, int64_t *done, int64_t *total);
    int64_t (*rejected)(const void *r); /* NULL unless dlq */
    sl_rc (*close)(void *r, sl_err *err); /* NULL r ok */
    void (*aux_free)(void *aux);          /* NULL when aux is unused */
} sl_file_reader_ops;

/* rejects: the config's own rejects path (wins over ctx), or NULL. */
sl_rc sl_file_source_init(void **inst, const sl_file_reader_ops *ops,
                          const void *cfg, const char *rejects,
                          const sl_ctx *ctx, sl_err *err);
sl_rc sl_file_source_open(void *inst, const sl_schema *in, sl_schema **out,
                          sl_err *err);
sl_rc sl_file_source_next(void *inst, sl_batch **out, sl_err *err);
sl_rc sl_file_source_close(void *inst, sl_err *err);
void sl_file_source_destroy(void *inst);
void sl_file_source_progress(void *inst, int64_t *done, int64_t *total);
int64_t sl_file_source_rejected(void *inst);

/* A sink instance; path is ctx->sink_path or the config's path. */
typedef struct sl_file_sink {
    const struct sl_file_writer_ops *ops;
    const void *cfg;
    char *path;
    void *w;
} sl_file_sink;

typedef struct sl_file_writer_ops {
    const char *no_path; /* error message when neither path is set */
    /* Validates cfg before anything is allocated; may be NULL. */
    sl_rc (*check)(const void *cfg, sl_err *err);
    /* Builds the options from k->cfg and opens k->w on k->path. */
    sl_rc (*open)(sl_file_sink *k, const sl_schema *in, sl_err *err);
    sl_rc (*write)(void *w, const sl_batch *b, sl_err *err);
    sl_rc (*flush)(void *w, sl_err *err); /* NULL when not supported */
    sl_rc (*close)(void *w, sl_err *err);
    void (*abort)(void *w); /* NULL w ok */
} sl_file_writer_ops;

sl_rc sl_file_sink_init(void **inst, const sl_file_writer_ops *ops,
                        const void *cfg, const char *path, const sl_ctx *ctx,
                        sl_err *err);
sl_rc sl_file_sink_open(void *inst, const sl_schema *in, sl_schema **out,
                        sl_err *err);
sl_rc sl_file_sink_write(void *inst, sl_batch *in, sl_err *err);
sl_rc sl_file_sink_flush(void *inst, sl_err *err);
sl_rc sl_file_sink_close(void *inst, sl_err *err);
void sl_file_sink_destroy(void *inst);

#endif
