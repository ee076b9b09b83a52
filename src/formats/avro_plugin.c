/*
 * avro_plugin.c: the `avro` source and sink plugins over sluice/avro.h.
 * The config tables below are the user reference for both
 * (docs/user-guides/spec.md is generated from them).
 */
#include <stddef.h>
#include <string.h>

#include "sluice/avro.h"
#include "sluice/mem.h"
#include "sluice/plugin.h"

/* ---- source ---- */

typedef struct src_cfg {
    char *path;
    sl_strlist columns;
    char *reader_schema;
    int64_t batch_rows;
} src_cfg;

static const sl_config_entry src_map[] = {
    {"path", SL_CFG_STR, NULL, SL_CFG_REQUIRED, NULL, offsetof(src_cfg, path),
     "An Avro object container file, or a directory whose `*.avro` files (sorted by name; names "
     "starting with `.` or `_` are ignored) are read in turn. Codecs: null, deflate, snappy, "
     "zstandard."},
    {"columns", SL_CFG_STRLIST, NULL, 0, NULL, offsetof(src_cfg, columns),
     "Columns to read, in this order (default: all); the other fields are skipped without being "
     "decoded."},
    {"reader_schema", SL_CFG_STR, NULL, 0, NULL, offsetof(src_cfg, reader_schema),
     "Schema evolution: an Avro schema (`.avsc`) the data is resolved to with Avro's rules (fields "
     "by name or alias, defaults for missing fields, int -> long -> float -> double), or a sluice "
     "schema JSON file (columns picked by name, missing nullable columns read as null)."},
    {"batch_rows", SL_CFG_INT, "65536", 0, NULL, offsetof(src_cfg, batch_rows),
     "Rows per batch (batches may span Avro blocks)."},
    {0}};

typedef struct src {
    const src_cfg *cfg;
    sl_avro_schema *reader;
    sl_avro_reader *r;
} src;

static sl_rc src_init(void **inst, void *config, const sl_ctx *ctx, sl_err *err)
{
    src *s = sl_calloc(1, sizeof *s);
    if (!s)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    s->cfg = config;
    *inst = s;
    (void)ctx;
    return SL_OK;
}

static sl_rc src_open(void *inst, const sl_schema *in, sl_schema **out, sl_err *err)
{
    src *s = inst;
    sl_avro_read_options o;
    sl_rc rc;
    (void)in;
    sl_avro_read_options_init(&o);
    o.batch_rows = s->cfg->batch_rows;
    o.columns = s->cfg->columns.n ? (const char *const *)s->cfg->columns.items : NULL;
    o.ncolumns = s->cfg->columns.n;
    /* the runner reopens sources for every pass: load the schema once */
    if (s->cfg->reader_schema && !s->reader &&
        (rc = sl_avro_schema_load(s->cfg->reader_schema, &s->reader, err)) != SL_OK) {
        sl_err_prefix(err, "reader_schema");
        return rc;
    }
    o.reader_schema = s->reader;
    sl_avro_reader_close(s->r);
    s->r = NULL;
    if ((rc = sl_avro_reader_open(s->cfg->path, &o, &s->r, err)) != SL_OK)
        return rc;
    if (!(*out = sl_schema_copy(sl_avro_reader_schema(s->r))))
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    return SL_OK;
}

static sl_rc src_next(void *inst, sl_batch **out, sl_err *err)
{
    return sl_avro_reader_next(((src *)inst)->r, out, err);
}

static sl_rc src_close(void *inst, sl_err *err)
{
    src *s = inst;
    sl_avro_reader_close(s->r);
    s->r = NULL;
    (void)err;
    return SL_OK;
}

static void src_destroy(void *inst)
{
    src *s = inst;
    if (!s)
        return;
    sl_avro_reader_close(s->r);
    sl_avro_schema_free(s->reader);
    sl_free(s);
}

static void src_progress(void *inst, int64_t *done, int64_t *total)
{
    src *s = inst;
    *done = 0;
    *total = -1;
    if (s->r)
        sl_avro_reader_progress(s->r, done, total);
}

const sl_plugin sl_plugin_source_avro = {
    .abi_version = SL_PLUGIN_ABI_VERSION,
    .name = "avro",
    .kind = SL_PLUGIN_SOURCE,
    .summary = "Read Avro object container files or directories of parts (schema evolution with "
               "a reader schema; logical types; nested values as JSON text).",
    .example = "source: { type: avro, path: data/raw/events.avro, reader_schema: "
               "models/data_models/events.avsc }",
    .config_map = src_map,
    .config_size = sizeof(src_cfg),
    .init = src_init,
    .open = src_open,
    .next = src_next,
    .close = src_close,
    .destroy = src_destroy,
    .progress = src_progress,
};

/* ---- sink ---- */

typedef struct sink_cfg {
    char *path;
    int codec;
    int64_t level, block_rows, block_bytes;
    char *record_name;
} sink_cfg;

/* same order as sl_avro_codec */
static const char codec_choices[] = "null|deflate|snappy|zstandard";

static const sl_config_entry sink_map[] = {
    {"path", SL_CFG_STR, NULL, 0, NULL, offsetof(sink_cfg, path),
     "Output file (the pipeline's sink directory sets it when the spec names a directory). "
     "Written to a temporary file beside it and renamed when complete."},
    {"codec", SL_CFG_ENUM, "deflate", 0, codec_choices, offsetof(sink_cfg, codec),
     "Block compression. deflate is readable by every Avro implementation; zstandard (Avro 1.9+, "
     "fastavro, Spark) writes about 7x faster and smaller files."},
    {"level", SL_CFG_INT, "0", 0, NULL, offsetof(sink_cfg, level),
     "Compression level; 0 = the codec's default (deflate 6, zstandard 3)."},
    {"block_rows", SL_CFG_INT, "65536", 0, NULL, offsetof(sink_cfg, block_rows),
     "End a block at this many rows."},
    {"block_bytes", SL_CFG_INT, "1048576", 0, NULL, offsetof(sink_cfg, block_bytes),
     "... or once its encoded rows reach this many bytes (before compression)."},
    {"record_name", SL_CFG_STR, "sluice.Row", 0, NULL, offsetof(sink_cfg, record_name),
     "Full name of the Avro record (namespace.name)."},
    {0}};

typedef struct sink {
    const sink_cfg *cfg;
    char *path;
    sl_avro_writer *w;
} sink;

static sl_rc sink_init(void **inst, void *config, const sl_ctx *ctx, sl_err *err)
{
    const sink_cfg *c = config;
    const char *path = ctx && ctx->sink_path ? ctx->sink_path : c->path;
    if (!path)
        return sl_err_set(err, SL_ECONFIG, "missing required key 'path' in sink 'avro'");
    sink *s = sl_calloc(1, sizeof *s);
    if (!s || !(s->path = sl_strdup(path))) {
        sl_free(s);
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    }
    s->cfg = c;
    *inst = s;
    return SL_OK;
}

static sl_rc sink_open(void *inst, const sl_schema *in, sl_schema **out, sl_err *err)
{
    sink *s = inst;
    sl_avro_write_options o;
    sl_avro_write_options_init(&o);
    o.codec = (sl_avro_codec)s->cfg->codec;
    o.level = (int)s->cfg->level;
    o.block_rows = s->cfg->block_rows;
    o.block_bytes = s->cfg->block_bytes;
    o.record_name = s->cfg->record_name;
    (void)out;
    return sl_avro_writer_open(s->path, in, &o, &s->w, err);
}

static sl_rc sink_write(void *inst, sl_batch *in, sl_err *err)
{
    return sl_avro_writer_write(((sink *)inst)->w, in, err);
}

static sl_rc sink_close(void *inst, sl_err *err)
{
    sink *s = inst;
    sl_rc rc = sl_avro_writer_close(s->w, err);
    s->w = NULL;
    return rc;
}

static void sink_destroy(void *inst)
{
    sink *s = inst;
    if (!s)
        return;
    sl_avro_writer_abort(s->w); /* not closed: nothing appears */
    sl_free(s->path);
    sl_free(s);
}

const sl_plugin sl_plugin_sink_avro = {
    .abi_version = SL_PLUGIN_ABI_VERSION,
    .name = "avro",
    .kind = SL_PLUGIN_SINK,
    .summary = "Write an Avro object container file (nullable columns as [\"null\", T] unions, "
               "timestamp-micros and date logical types).",
    .example = "sink: { type: avro, path: data/processed/churn/, codec: zstandard }",
    .config_map = sink_map,
    .config_size = sizeof(sink_cfg),
    .init = sink_init,
    .open = sink_open,
    .write = sink_write,
    .close = sink_close,
    .destroy = sink_destroy,
};
