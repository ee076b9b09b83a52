/*
 * jsonl_plugin.c: the `jsonl` source and sink plugins, thin adapters from
 * the plugin vtable (plugin.h) to the reader and writer of jsonl.h. The
 * config tables below are also the user reference for these sections of a
 * spec (docs/user-guides/spec.md is generated from them).
 */
#include <stddef.h>

#include "sluice/jsonl.h"
#include "sluice/plugin.h"

#include "file_plugin.h"

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

static sl_rc rd_open(sl_file_source *s, sl_err *err)
{
    const src_cfg *c = s->cfg;
    sl_jsonl_options o;
    sl_jsonl_options_init(&o);
    o.infer_rows = c->infer_rows;
    o.batch_rows = c->batch_rows;
    o.on_error = (sl_on_error)c->on_error;
    o.rejects = s->rejects;
    o.max_record_bytes = c->max_record_bytes;
    sl_jsonl_reader *r = NULL;
    sl_rc rc = sl_jsonl_reader_open(c->path, &o, s->hint, &r, err);
    s->r = r;
    return rc;
}

/* Typed forwarders: the ops table holds void * handles. */
static const sl_schema *rd_schema(const void *r)
{
    return sl_jsonl_reader_schema(r);
}
static sl_rc rd_next(void *r, sl_batch **out, sl_err *err)
{
    return sl_jsonl_reader_next(r, out, err);
}
static void rd_progress(const void *r, int64_t *done, int64_t *total)
{
    sl_jsonl_reader_progress(r, done, total);
}
static int64_t rd_rejected(const void *r)
{
    return sl_jsonl_reader_rejected(r);
}
static sl_rc rd_close(void *r, sl_err *err)
{
    return sl_jsonl_reader_close(r, err);
}

static const sl_file_reader_ops reader_ops = {
    .dlq = 1, .open = rd_open, .schema = rd_schema, .next = rd_next,
    .progress = rd_progress, .rejected = rd_rejected, .close = rd_close};

static sl_rc src_init(void **inst, void *config, const sl_ctx *ctx,
                      sl_err *err)
{
    const src_cfg *c = config;
    return sl_file_source_init(inst, &reader_ops, c, c->rejects, ctx, err);
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
    .open = sl_file_source_open,
    .next = sl_file_source_next,
    .close = sl_file_source_close,
    .destroy = sl_file_source_destroy,
    .progress = sl_file_source_progress,
    .rejected = sl_file_source_rejected,
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

static sl_rc wr_open(sl_file_sink *k, const sl_schema *in, sl_err *err)
{
    sl_jsonl_writer *w = NULL;
    sl_rc rc = sl_jsonl_writer_open(k->path, in, &w, err);
    k->w = w;
    return rc;
}

static sl_rc wr_write(void *w, const sl_batch *b, sl_err *err)
{
    return sl_jsonl_writer_write(w, b, err);
}
static sl_rc wr_flush(void *w, sl_err *err)
{
    return sl_jsonl_writer_flush(w, err);
}
static sl_rc wr_close(void *w, sl_err *err)
{
    return sl_jsonl_writer_close(w, err);
}
static void wr_abort(void *w)
{
    sl_jsonl_writer_abort(w);
}

static const sl_file_writer_ops writer_ops = {
    .no_path = "jsonl sink needs a 'path'", .open = wr_open,
    .write = wr_write, .flush = wr_flush, .close = wr_close,
    .abort = wr_abort};

static sl_rc sink_init(void **inst, void *config, const sl_ctx *ctx,
                       sl_err *err)
{
    const sink_cfg *c = config;
    return sl_file_sink_init(inst, &writer_ops, c, c->path, ctx, err);
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
    .open = sl_file_sink_open,
    .write = sl_file_sink_write,
    .flush = sl_file_sink_flush,
    .close = sl_file_sink_close,
    .destroy = sl_file_sink_destroy,
};
