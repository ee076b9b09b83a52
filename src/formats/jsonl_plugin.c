/*
 * jsonl_plugin.c: the `jsonl` source and sink plugins, thin adapters from
 * the plugin vtable (plugin.h) to the reader and writer of jsonl.h. The
 * config tables below are also the user reference for these sections of a
 * spec (docs/user-guides/spec.md is generated from them).
 */
#include <stddef.h>
#include <string.h>

#include "sluice/jsonl.h"
#include "sluice/mem.h"
#include "sluice/plugin.h"

/* ---- source ---- */

typedef struct src_cfg {
    char *path;
    int64_t infer_rows;
    int64_t batch_rows;
    int on_error;
    char *rejects;
    int64_t max_record_bytes;
} src_cfg;

static const sl_config_entry src_map[] = {
    {"path", SL_CFG_STR, NULL, SL_CFG_REQUIRED, NULL, offsetof(src_cfg, path),
     "JSON Lines file to read: one JSON object per line (UTF-8; CRLF line "
     "ends, blank lines and a leading byte order mark are accepted)."},
    {"infer_rows", SL_CFG_INT, "10000", 0, NULL, offsetof(src_cfg, infer_rows),
     "Number of objects sampled to infer the schema. Columns are the union "
     "of their keys in first-seen order; true/false is bool, integers are "
     "int64 (float64 when a sample has a fraction or exponent or is out of "
     "int64 range), strings are string, or date / timestamp when every "
     "sample parses as one; nested objects and arrays are kept as their "
     "JSON text in a string column; only nulls gives a null column; mixed "
     "kinds give string. The spec's `schema:` overrides types by name. A "
     "key first seen after the sample is ignored, counted and logged once. "
     "0 takes the columns from `schema:` only."},
    {"batch_rows", SL_CFG_INT, "65536", 0, NULL, offsetof(src_cfg, batch_rows),
     "Rows per batch handed to the transforms."},
    {"on_error", SL_CFG_ENUM, "fail", 0, SL_ON_ERROR_CHOICES,
     offsetof(src_cfg, on_error),
     "What to do with a malformed line (invalid JSON, not an object, "
     "duplicate key, a value that does not fit its column such as \"abc\" "
     "or 1.5 for int64, a null or missing key in a column the schema marks "
     "not nullable, trailing data, longer than max_record_bytes): "
     "`fail` stops with file:line:column and the field, `skip` drops and "
     "counts it, `dlq` writes it to the rejects file with line, offset and "
     "reason."},
    {"rejects", SL_CFG_STR, NULL, 0, NULL, offsetof(src_cfg, rejects),
     "Rejects file for `on_error: dlq` (JSON Lines, created on the first "
     "rejected line). Default: the run's rejects path."},
    {"max_record_bytes", SL_CFG_INT, "16777216", 0, NULL,
     offsetof(src_cfg, max_record_bytes),
     "Longest accepted line in bytes (16 MiB); a longer line is malformed. "
     "Bounds the reader's memory."},
    {0}};

typedef struct src_inst {
    const src_cfg *cfg;
    char *rejects;
    sl_schema *hint;
    sl_jsonl_reader *r;
} src_inst;

static sl_rc src_init(void **inst, void *config, const sl_ctx *ctx,
                      sl_err *err)
{
    src_inst *s = sl_calloc(1, sizeof *s);
    *inst = NULL;
    if (!s)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    s->cfg = config;
    const char *rej = s->cfg->rejects ? s->cfg->rejects : ctx ? ctx->rejects_path : NULL;
    if ((rej && !(s->rejects = sl_strdup(rej))) ||
        (ctx && ctx->schema_hint && !(s->hint = sl_schema_copy(ctx->schema_hint)))) {
        sl_free(s->rejects);
        sl_free(s);
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    }
    *inst = s;
    return SL_OK;
}

static sl_rc src_open(void *inst, const sl_schema *in, sl_schema **out,
                      sl_err *err)
{
    src_inst *s = inst;
    sl_jsonl_options o;
    sl_jsonl_options_init(&o);
    o.infer_rows = s->cfg->infer_rows;
    o.batch_rows = s->cfg->batch_rows;
    o.on_error = (sl_on_error)s->cfg->on_error;
    o.rejects = s->rejects;
    o.max_record_bytes = s->cfg->max_record_bytes;
    sl_rc rc = sl_jsonl_reader_open(s->cfg->path, &o, s->hint, &s->r, err);
    if (rc != SL_OK)
        return rc;
    *out = sl_schema_copy(sl_jsonl_reader_schema(s->r));
    if (!*out)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    return SL_OK;
}

static sl_rc src_next(void *inst, sl_batch **out, sl_err *err)
{
    return sl_jsonl_reader_next(((src_inst *)inst)->r, out, err);
}

static sl_rc src_close(void *inst, sl_err *err)
{
    src_inst *s = inst;
    sl_rc rc = sl_jsonl_reader_close(s->r, err);
    s->r = NULL;
    return rc;
}

static void src_destroy(void *inst)
{
    src_inst *s = inst;
    if (!s)
        return;
    sl_jsonl_reader_close(s->r, NULL);
    sl_schema_free(s->hint);
    sl_free(s->rejects);
    sl_free(s);
}

static void src_progress(void *inst, int64_t *done, int64_t *total)
{
    src_inst *s = inst;
    if (s->r) {
        sl_jsonl_reader_progress(s->r, done, total);
    } else {
        *done = 0;
        *total = -1;
    }
}

static int64_t src_rejected(void *inst)
{
    src_inst *s = inst;
    return s->r ? sl_jsonl_reader_rejected(s->r) : 0;
}

const sl_plugin sl_plugin_source_jsonl = {
    .abi_version = SL_PLUGIN_ABI_VERSION,
    .name = "jsonl",
    .kind = SL_PLUGIN_SOURCE,
    .summary = "Read a JSON Lines file (one object per line) with an "
               "inferred or overridden schema.",
    .example = "source: { type: jsonl, path: data/raw/events.jsonl, on_error: dlq }",
    .config_map = src_map,
    .config_size = sizeof(src_cfg),
    .init = src_init,
    .open = src_open,
    .next = src_next,
    .close = src_close,
    .destroy = src_destroy,
    .progress = src_progress,
    .rejected = src_rejected,
};

/* ---- sink ---- */

typedef struct sink_cfg {
    char *path;
} sink_cfg;

static const sl_config_entry sink_map[] = {
    {"path", SL_CFG_STR, NULL, 0, NULL, offsetof(sink_cfg, path),
     "Output file; in a pipeline the runner derives the files it writes "
     "from it (e.g. `<dir>/train.jsonl` when the data is split). One object "
     "per row, keys in column "
     "order; null as null; floats in shortest round-trip form (NaN and "
     "infinities as null, counted); dates and timestamps as ISO 8601 "
     "strings. Written to a temporary file and renamed when complete."},
    {0}};

typedef struct sink_inst {
    char *path;
    sl_jsonl_writer *w;
} sink_inst;

static sl_rc sink_init(void **inst, void *config, const sl_ctx *ctx,
                       sl_err *err)
{
    const sink_cfg *cfg = config;
    const char *path = ctx && ctx->sink_path ? ctx->sink_path : cfg->path;
    *inst = NULL;
    if (!path)
        return sl_err_set(err, SL_ECONFIG, "jsonl sink needs a 'path'");
    sink_inst *k = sl_calloc(1, sizeof *k);
    if (!k || !(k->path = sl_strdup(path))) {
        sl_free(k);
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    }
    *inst = k;
    return SL_OK;
}

static sl_rc sink_open(void *inst, const sl_schema *in, sl_schema **out,
                       sl_err *err)
{
    sink_inst *k = inst;
    return sl_jsonl_writer_open(k->path, in, &k->w, err);
}

static sl_rc sink_write(void *inst, sl_batch *in, sl_err *err)
{
    return sl_jsonl_writer_write(((sink_inst *)inst)->w, in, err);
}

static sl_rc sink_flush(void *inst, sl_err *err)
{
    sink_inst *k = inst;
    return k->w ? sl_jsonl_writer_flush(k->w, err) : SL_OK;
}

static sl_rc sink_close(void *inst, sl_err *err)
{
    sink_inst *k = inst;
    sl_rc rc = sl_jsonl_writer_close(k->w, err);
    k->w = NULL;
    return rc;
}

/* Without a successful close the temporary file is removed. */
static void sink_destroy(void *inst)
{
    sink_inst *k = inst;
    if (!k)
        return;
    sl_jsonl_writer_abort(k->w);
    sl_free(k->path);
    sl_free(k);
}

const sl_plugin sl_plugin_sink_jsonl = {
    .abi_version = SL_PLUGIN_ABI_VERSION,
    .name = "jsonl",
    .kind = SL_PLUGIN_SINK,
    .summary = "Write a JSON Lines file (one object per row), committed "
               "atomically.",
    .example = "sink: { type: jsonl, path: data/processed/events.jsonl }",
    .config_map = sink_map,
    .config_size = sizeof(sink_cfg),
    .init = sink_init,
    .open = sink_open,
    .write = sink_write,
    .flush = sink_flush,
    .close = sink_close,
    .destroy = sink_destroy,
};
