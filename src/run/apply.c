/*
 * apply.c: `sluice apply` (a saved transform.json over new data) and
 * `sluice convert` (file to file). Both build their source and sink from
 * key/value settings through the plugins' own config maps, so a file read
 * here behaves exactly like the same file named in a spec.
 */
#include <jansson.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "run/internal.h"
#include "run/prefetch.h"
#include "sluice/config_map.h"
#include "sluice/mem.h"
#include "sluice/progress.h"

static int has_key(const sl_config_entry *map, const char *key)
{
    for (; map && map->key; map++)
        if (strcmp(map->key, key) == 0)
            return 1;
    return 0;
}

sl_rc sl_file_step_make(sl_file_step *fs, sl_plugin_kind kind,
                        const char *path, sl_err *err, ...)
{
    sl_rc rc = SL_OK;
    memset(fs, 0, sizeof *fs);
    const char *fmt = sl_format_for_path(path);
    if (!fmt)
        return sl_err_setloc(err, SL_EUNSUPPORTED, path, 0, 0,
                             "cannot tell the file format from the extension "
                             "(expected .csv, .tsv, .jsonl, .ndjson, .parquet or .avro)");
    fs->p = sl_plugin_find(kind, fmt);
    if (!fs->p)
        return sl_err_setloc(err, SL_EUNSUPPORTED, path, 0, 0,
                             "no %s plugin for format '%s' in this build",
                             sl_plugin_kind_name(kind), fmt);
    json_t *obj = json_object();
    if (!obj)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    json_object_set_new(obj, "path", json_string(path));
    if (strlen(path) > 4 && strcmp(path + strlen(path) - 4, ".tsv") == 0)
        json_object_set_new(obj, "delimiter", json_string("\t"));
    va_list ap;
    va_start(ap, err);
    const char *k;
    while ((k = va_arg(ap, const char *)) != NULL) {
        const char *v = va_arg(ap, const char *);
        /* settings a format does not have (e.g. on_error for Parquet,
         * whose reader has no bad-record policy) are left out */
        if (v && has_key(fs->p->config_map, k))
            json_object_set_new(obj, k, json_string(v));
    }
    va_end(ap);
    rc = sl_node_from_json(obj, path, &fs->doc, err);
    json_decref(obj);
    if (rc != SL_OK)
        goto fail;
    fs->config = sl_calloc(1, fs->p->config_size ? fs->p->config_size : 1);
    if (!fs->config) {
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        goto fail;
    }
    rc = sl_config_apply(fs->p->config_map, fs->doc->root, fs->config, err);
    if (rc != SL_OK)
        goto fail;
    return SL_OK;
fail:
    sl_file_step_free(fs);
    return rc;
}

void sl_file_step_free(sl_file_step *fs)
{
    if (fs->config && fs->p)
        sl_config_free(fs->p->config_map, fs->config);
    sl_free(fs->config);
    sl_doc_free(fs->doc);
    memset(fs, 0, sizeof *fs);
}

/* Stream src through the chain into sink; fills the summary counts. */
static sl_rc stream_all(sl_inst *src, sl_inst *t, int nt, sl_inst *sink,
                        const sl_run_options *opt, const char *label,
                        sl_run_summary *sum, sl_err *err)
{
    sl_progress pg;
    int64_t done = 0, total = -1;
    sl_rc rc = SL_OK;
    if (src->p->progress)
        src->p->progress(src->h, &done, &total);
    sl_progress_begin(&pg, opt->progress, label, total);
    sl_prefetch *pf = NULL;
    if ((rc = sl_prefetch_start(&pf, src->p, src->h, 2, err)) != SL_OK)
        return rc;
    for (;;) {
        sl_batch *b = NULL;
        rc = sl_prefetch_next(pf, &b, &done, &total, err);
        if (rc == SL_EEOF) {
            rc = SL_OK;
            break;
        }
        if (rc != SL_OK)
            break;
        sum->rows_read += b->nrows;
        sl_progress_update(&pg, sum->rows_read, done);
        if ((rc = sl_chain_apply(t, nt, &b, err)) == SL_OK) {
            sum->rows_out += b->nrows;
            rc = sink->p->write(sink->h, b, err);
        }
        sl_batch_unref(b);
        if (rc != SL_OK)
            break;
    }
    sl_progress_end(&pg);
    sl_prefetch_stop(pf);
    sum->bytes_read = done;
    if (rc == SL_OK && sink->p->flush)
        rc = sink->p->flush(sink->h, err);
    if (src->p->rejected)
        sum->rows_rejected = src->p->rejected(src->h);
    return rc;
}

static const sl_schema *open_chain(sl_inst *t, int nt, const sl_schema *in,
                                   sl_rc *rc, sl_err *err);

sl_rc sl_run_file_job(const char *in_path, const char *out_path,
                      const sl_schema *hint, sl_inst *t, int nt,
                      const char *on_error, const char *rejects_path,
                      const sl_run_options *opt, const char *label,
                      sl_run_summary *sum, sl_err *err)
{
    sl_file_step in_fs, out_fs;
    sl_inst src, sink;
    sl_rc rc;
    double t0 = sl_now();
    memset(&src, 0, sizeof src);
    memset(&sink, 0, sizeof sink);
    memset(&out_fs, 0, sizeof out_fs);
    char rejects[SL_PATH_MAX];
    if (rejects_path)
        snprintf(rejects, sizeof rejects, "%s", rejects_path);
    else
        snprintf(rejects, sizeof rejects, "%s.rejects.jsonl", out_path);
    rc = sl_file_step_make(&in_fs, SL_PLUGIN_SOURCE, in_path, err, "on_error",
                           on_error, "rejects", rejects, (const char *)NULL);
    if (rc != SL_OK)
        return rc;
    if ((rc = sl_file_step_make(&out_fs, SL_PLUGIN_SINK, out_path, err,
                                (const char *)NULL)) != SL_OK)
        goto out;
    sl_ctx sctx = {.schema_hint = hint, .rejects_path = rejects, .quiet = opt->quiet};
    if ((rc = sl_inst_init(&src, in_fs.p, in_fs.config, in_fs.doc->root, &sctx, err)) != SL_OK ||
        (rc = sl_inst_open(&src, NULL, err)) != SL_OK)
        goto out;
    const sl_schema *cur = open_chain(t, nt, src.out, &rc, err);
    if (rc != SL_OK)
        goto out;
    sl_ctx kctx = {.sink_path = out_path, .quiet = opt->quiet};
    if ((rc = sl_inst_init(&sink, out_fs.p, out_fs.config, out_fs.doc->root, &kctx, err)) != SL_OK ||
        (rc = sl_inst_open(&sink, cur, err)) != SL_OK)
        goto out;
    rc = stream_all(&src, t, nt, &sink, opt, label, sum, err);
    snprintf(sum->out_path, sizeof sum->out_path, "%s", out_path);
    if (sum->rows_rejected > 0 && access(rejects, F_OK) == 0)
        snprintf(sum->rejects_path, sizeof sum->rejects_path, "%s", rejects);
out:
    {
        sl_err ignored;
        sl_err_clear(&ignored);
        /* The sink commits its file only when everything succeeded. */
        if (sink.p) {
            /* close commits the output; destroy without close discards it */
            if (rc == SL_OK)
                rc = sl_inst_close(&sink, err);
            sl_inst_destroy(&sink);
        }
        if (src.p) {
            sl_inst_close(&src, &ignored);
            sl_inst_destroy(&src);
        }
    }
    sl_file_step_free(&in_fs);
    sl_file_step_free(&out_fs);
    sum->seconds = sl_now() - t0;
    return rc;
}

static const sl_schema *open_chain(sl_inst *t, int nt, const sl_schema *in,
                                   sl_rc *rc, sl_err *err)
{
    const sl_schema *cur = in;
    *rc = SL_OK;
    for (int i = 0; i < nt; i++) {
        if ((*rc = sl_inst_open(&t[i], cur, err)) != SL_OK)
            return NULL;
        cur = t[i].out;
    }
    return cur;
}

sl_rc sl_pipeline_apply(const char *transform_json, const char *in_path,
                        const char *out_path, const char *on_error,
                        const char *rejects_path, const sl_run_options *opt,
                        sl_run_summary *sum, sl_err *err)
{
    sl_transform_file tf;
    memset(sum, 0, sizeof *sum);
    sl_rc rc = sl_transform_file_load(transform_json, &tf, err);
    if (rc != SL_OK)
        return rc;
    /* The training input schema pins every column's type, so new data is
     * read exactly as the training data was. */
    rc = sl_run_file_job(in_path, out_path, tf.in, tf.t, tf.n, on_error,
                         rejects_path, opt, "apply", sum, err);
    snprintf(sum->transform_path, sizeof sum->transform_path, "%s", transform_json);
    sl_transform_file_free(&tf);
    return rc;
}

sl_rc sl_pipeline_convert(const char *in_path, const char *out_path,
                          const char *schema_path, const char *on_error,
                          const char *rejects_path, const sl_run_options *opt,
                          sl_run_summary *sum, sl_err *err)
{
    sl_schema *hint = NULL;
    memset(sum, 0, sizeof *sum);
    sl_rc rc = SL_OK;
    if (schema_path && (rc = sl_schema_load_json(schema_path, &hint, err)) != SL_OK)
        return rc;
    rc = sl_run_file_job(in_path, out_path, hint, NULL, 0, on_error,
                         rejects_path, opt, "convert", sum, err);
    sl_schema_free(hint);
    return rc;
}
