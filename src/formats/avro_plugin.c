/*
 * avro_plugin.c: the `avro` source and sink plugins over sluice/avro.h.
 * The config tables below are the user reference for both
 * (docs/user-guides/spec.md is generated from them).
 */
#include <stddef.h>

#include "sluice/avro.h"
#include "sluice/plugin.h"

#include "file_plugin.h"

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

static sl_rc rd_open(sl_file_source *s, sl_err *err)
{
    const src_cfg *c = s->cfg;
    sl_avro_read_options o;
    sl_rc rc;
    sl_avro_read_options_init(&o);
    o.batch_rows = c->batch_rows;
    o.columns = c->columns.n ? (const char *const *)c->columns.items : NULL;
    o.ncolumns = c->columns.n;
    /* the runner reopens sources for every pass: load the schema once */
    if (c->reader_schema && !s->aux) {
        sl_avro_schema *rs = NULL;
        rc = sl_avro_schema_load(c->reader_schema, &rs, err);
        s->aux = rs;
        if (rc != SL_OK) {
            sl_err_prefix(err, "reader_schema");
            return rc;
        }
    }
    o.reader_schema = s->aux;
    sl_avro_reader_close(s->r);
    s->r = NULL;
    sl_avro_reader *r = NULL;
    rc = sl_avro_reader_open(c->path, &o, &r, err);
    s->r = r;
    return rc;
}

/* Typed forwarders: the ops table holds void * handles. */
static const sl_schema *rd_schema(const void *r) { return sl_avro_reader_schema(r); }
static sl_rc rd_next(void *r, sl_batch **out, sl_err *err) { return sl_avro_reader_next(r, out, err); }
static void rd_progress(const void *r, int64_t *done, int64_t *total)
{
    sl_avro_reader_progress(r, done, total);
}
static sl_rc rd_close(void *r, sl_err *err)
{
    (void)err;
    sl_avro_reader_close(r);
    return SL_OK;
}
static void rd_aux_free(void *aux) { sl_avro_schema_free(aux); }

static const sl_file_reader_ops reader_ops = {
    .open = rd_open,         .schema = rd_schema, .next = rd_next,
    .progress = rd_progress, .close = rd_close,   .aux_free = rd_aux_free};

static sl_rc src_init(void **inst, void *config, const sl_ctx *ctx, sl_err *err)
{
    return sl_file_source_init(inst, &reader_ops, config, NULL, ctx, err);
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
    .open = sl_file_source_open,
    .next = sl_file_source_next,
    .close = sl_file_source_close,
    .destroy = sl_file_source_destroy,
    .progress = sl_file_source_progress,
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

static sl_rc wr_open(sl_file_sink *k, const sl_schema *in, sl_err *err)
{
    const sink_cfg *c = k->cfg;
    sl_avro_write_options o;
    sl_avro_write_options_init(&o);
    o.codec = (sl_avro_codec)c->codec;
    o.level = (int)c->level;
    o.block_rows = c->block_rows;
    o.block_bytes = c->block_bytes;
    o.record_name = c->record_name;
    sl_avro_writer *w = NULL;
    sl_rc rc = sl_avro_writer_open(k->path, in, &o, &w, err);
    k->w = w;
    return rc;
}

static sl_rc wr_write(void *w, const sl_batch *b, sl_err *err) { return sl_avro_writer_write(w, b, err); }
static sl_rc wr_close(void *w, sl_err *err) { return sl_avro_writer_close(w, err); }
static void wr_abort(void *w) { sl_avro_writer_abort(w); }

static const sl_file_writer_ops writer_ops = {.no_path = "missing required key 'path' in sink 'avro'",
                                              .open = wr_open,
                                              .write = wr_write,
                                              .close = wr_close,
                                              .abort = wr_abort};

static sl_rc sink_init(void **inst, void *config, const sl_ctx *ctx, sl_err *err)
{
    const sink_cfg *c = config;
    return sl_file_sink_init(inst, &writer_ops, c, c->path, ctx, err);
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
    .open = sl_file_sink_open,
    .write = sl_file_sink_write,
    .close = sl_file_sink_close,
    .destroy = sl_file_sink_destroy,
};
