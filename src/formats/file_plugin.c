/*
 * file_plugin.c: the source and sink plugin lifecycle shared by the file
 * formats (see file_plugin.h). Close sets the reader/writer pointer to NULL
 * so that destroy after close, and a reopen for the next pass, never touch
 * a closed handle; a sink destroyed without a successful close aborts its
 * writer, which removes the temporary file (plugin.h's commit rule).
 */
#include "file_plugin.h"

#include "sluice/mem.h"

sl_rc sl_file_source_init(void **inst, const sl_file_reader_ops *ops,
                          const void *cfg, const char *rejects,
                          const sl_ctx *ctx, sl_err *err)
{
    sl_file_source *s = sl_calloc(1, sizeof *s);
    *inst = NULL;
    if (!s)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    s->ops = ops;
    s->cfg = cfg;
    if (ops->dlq) {
        const char *rej = rejects ? rejects : ctx ? ctx->rejects_path : NULL;
        if ((rej && !(s->rejects = sl_strdup(rej))) ||
            (ctx && ctx->schema_hint &&
             !(s->hint = sl_schema_copy(ctx->schema_hint)))) {
            sl_free(s->rejects);
            sl_free(s);
            return sl_err_set(err, SL_ENOMEM, "out of memory");
        }
    }
    *inst = s;
    return SL_OK;
}

sl_rc sl_file_source_open(void *inst, const sl_schema *in, sl_schema **out,
                          sl_err *err)
{
    sl_file_source *s = inst;
    (void)in;
    *out = NULL;
    sl_rc rc = s->ops->open(s, err);
    if (rc != SL_OK)
        return rc;
    if (!(*out = sl_schema_copy(s->ops->schema(s->r))))
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    return SL_OK;
}

sl_rc sl_file_source_next(void *inst, sl_batch **out, sl_err *err)
{
    sl_file_source *s = inst;
    return s->ops->next(s->r, out, err);
}

sl_rc sl_file_source_close(void *inst, sl_err *err)
{
    sl_file_source *s = inst;
    sl_rc rc = s->ops->close(s->r, err);
    s->r = NULL;
    return rc;
}

void sl_file_source_destroy(void *inst)
{
    sl_file_source *s = inst;
    if (!s)
        return;
    s->ops->close(s->r, NULL);
    if (s->ops->aux_free)
        s->ops->aux_free(s->aux);
    sl_schema_free(s->hint);
    sl_free(s->rejects);
    sl_free(s);
}

/* Before open (or after close) nothing is read and the size is unknown. */
void sl_file_source_progress(void *inst, int64_t *done, int64_t *total)
{
    sl_file_source *s = inst;
    *done = 0;
    *total = -1;
    if (s->r)
        s->ops->progress(s->r, done, total);
}

int64_t sl_file_source_rejected(void *inst)
{
    sl_file_source *s = inst;
    return s->r && s->ops->rejected ? s->ops->rejected(s->r) : 0;
}

sl_rc sl_file_sink_init(void **inst, const sl_file_writer_ops *ops,
                        const void *cfg, const char *path, const sl_ctx *ctx,
                        sl_err *err)
{
    sl_rc rc;
    *inst = NULL;
    if (ctx && ctx->sink_path)
        path = ctx->sink_path;
    if (!path)
        return sl_err_set(err, SL_ECONFIG, "%s", ops->no_path);
    if (ops->check && (rc = ops->check(cfg, err)) != SL_OK)
        return rc;
    sl_file_sink *k = sl_calloc(1, sizeof *k);
    if (!k || !(k->path = sl_strdup(path))) {
        sl_free(k);
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    }
    k->ops = ops;
    k->cfg = cfg;
    *inst = k;
    return SL_OK;
}

sl_rc sl_file_sink_open(void *inst, const sl_schema *in, sl_schema **out,
                        sl_err *err)
{
    sl_file_sink *k = inst;
    (void)out;
    return k->ops->open(k, in, err);
}

sl_rc sl_file_sink_write(void *inst, sl_batch *in, sl_err *err)
{
    sl_file_sink *k = inst;
    return k->ops->write(k->w, in, err);
}

sl_rc sl_file_sink_flush(void *inst, sl_err *err)
{
    sl_file_sink *k = inst;
    return k->w && k->ops->flush ? k->ops->flush(k->w, err) : SL_OK;
}

sl_rc sl_file_sink_close(void *inst, sl_err *err)
{
    sl_file_sink *k = inst;
    sl_rc rc = k->ops->close(k->w, err);
    k->w = NULL;
    return rc;
}

void sl_file_sink_destroy(void *inst)
{
    sl_file_sink *k = inst;
    if (!k)
        return;
    k->ops->abort(k->w);
    sl_free(k->path);
    sl_free(k);
}
