/*
 * parquet_plugin.c: the `parquet` source and sink plugins over
 * sluice/parquet.h. The config tables below are the user reference for
 * both (docs/user-guides/spec.md is generated from them).
 */
#include <stddef.h>

#include "sluice/parquet.h"
#include "sluice/plugin.h"

#include "file_plugin.h"

/* ---- source ---- */

typedef struct src_cfg {
    char *path;
    sl_strlist columns;
    int64_t batch_rows;
} src_cfg;

static const sl_config_entry src_map[] = {
    {"path", SL_CFG_STR, NULL, SL_CFG_REQUIRED, NULL, offsetof(src_cfg, path),
     "A Parquet file, or a directory whose `*.parquet` files (sorted by name; names "
     "starting with `.` or `_` are ignored) are read in turn and must share one schema."},
    {"columns", SL_CFG_STRLIST, NULL, 0, NULL, offsetof(src_cfg, columns),
     "Columns to read, in this order (default: all). Only these columns are decoded; "
     "use it to leave out nested or unsupported columns."},
    {"batch_rows", SL_CFG_INT, "65536", 0, NULL, offsetof(src_cfg, batch_rows),
     "Rows per batch (a batch never spans two row groups)."},
    {0}};

static sl_rc rd_open(sl_file_source *s, sl_err *err)
{
    const src_cfg *c = s->cfg;
    sl_parquet_read_options o;
    sl_parquet_read_options_init(&o);
    o.batch_rows = c->batch_rows;
    o.columns = (const char *const *)c->columns.items;
    o.ncolumns = c->columns.n;
    sl_parquet_reader *r = NULL;
    sl_rc rc = sl_parquet_reader_open(c->path, &o, &r, err);
    s->r = r;
    return rc;
}

/* Typed forwarders: the ops table holds void * handles. */
static const sl_schema *rd_schema(const void *r) { return sl_parquet_reader_schema(r); }
static sl_rc rd_next(void *r, sl_batch **out, sl_err *err) { return sl_parquet_reader_next(r, out, err); }
static void rd_progress(const void *r, int64_t *done, int64_t *total)
{
    sl_parquet_reader_progress(r, done, total);
}
static sl_rc rd_close(void *r, sl_err *err)
{
    (void)err;
    sl_parquet_reader_close(r);
    return SL_OK;
}

static const sl_file_reader_ops reader_ops = {
    .open = rd_open, .schema = rd_schema, .next = rd_next, .progress = rd_progress, .close = rd_close};

static sl_rc src_init(void **inst, void *config, const sl_ctx *ctx, sl_err *err)
{
    return sl_file_source_init(inst, &reader_ops, config, NULL, ctx, err);
}

const sl_plugin sl_plugin_source_parquet = {
    .abi_version = SL_PLUGIN_ABI_VERSION,
    .name = "parquet",
    .kind = SL_PLUGIN_SOURCE,
    .summary = "Read Parquet files or directories of parts (every common encoding and codec; "
               "nested fields as JSON text).",
    .example = "source: { type: parquet, path: data/raw/events/, columns: [ts, user, amount] }",
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
    int64_t row_group_bytes, row_group_rows, page_bytes;
    int dictionary;
    int64_t data_page_version;
} sink_cfg;

static const char codec_choices[] = "uncompressed|snappy|zstd|gzip|lz4_raw";
static const sl_parquet_codec codec_values[] = {SL_PQ_UNCOMPRESSED, SL_PQ_SNAPPY, SL_PQ_ZSTD,
                                                SL_PQ_GZIP, SL_PQ_LZ4_RAW};

static const sl_config_entry sink_map[] = {
    {"path", SL_CFG_STR, NULL, 0, NULL, offsetof(sink_cfg, path),
     "Output file (the pipeline's sink directory sets it when the spec names a directory). "
     "Written to a temporary file beside it and renamed when complete."},
    {"codec", SL_CFG_ENUM, "zstd", 0, codec_choices, offsetof(sink_cfg, codec),
     "Page compression."},
    {"row_group_bytes", SL_CFG_INT, "134217728", 0, NULL, offsetof(sink_cfg, row_group_bytes),
     "Close a row group once its compressed pages reach this many bytes (default 128 MiB)."},
    {"row_group_rows", SL_CFG_INT, "0", 0, NULL, offsetof(sink_cfg, row_group_rows),
     "Also close a row group at this many rows (0 = no row limit)."},
    {"page_bytes", SL_CFG_INT, "1048576", 0, NULL, offsetof(sink_cfg, page_bytes),
     "Target size of a data page before compression (default 1 MiB)."},
    {"dictionary", SL_CFG_BOOL, "true", 0, NULL, offsetof(sink_cfg, dictionary),
     "Dictionary-encode columns (RLE_DICTIONARY); a column chunk falls back to PLAIN once its "
     "dictionary exceeds 1 MiB."},
    {"data_page_version", SL_CFG_INT, "1", 0, NULL, offsetof(sink_cfg, data_page_version),
     "Data page format: 1 (most compatible) or 2."},
    {0}};

static sl_rc wr_check(const void *cfg, sl_err *err)
{
    const sink_cfg *c = cfg;
    if (c->data_page_version != 1 && c->data_page_version != 2)
        return sl_err_set(err, SL_ECONFIG, "data_page_version must be 1 or 2, not %lld",
                          (long long)c->data_page_version);
    return SL_OK;
}

static sl_rc wr_open(sl_file_sink *k, const sl_schema *in, sl_err *err)
{
    const sink_cfg *c = k->cfg;
    sl_parquet_write_options o;
    sl_parquet_write_options_init(&o);
    if (c->codec >= 0 && c->codec < (int)(sizeof codec_values / sizeof codec_values[0]))
        o.codec = codec_values[c->codec];
    o.row_group_bytes = c->row_group_bytes;
    o.row_group_rows = c->row_group_rows;
    o.page_bytes = c->page_bytes;
    o.dictionary = c->dictionary;
    o.data_page_version = (int)c->data_page_version;
    sl_parquet_writer *w = NULL;
    sl_rc rc = sl_parquet_writer_open(k->path, in, &o, &w, err);
    k->w = w;
    return rc;
}

static sl_rc wr_write(void *w, const sl_batch *b, sl_err *err) { return sl_parquet_writer_write(w, b, err); }
static sl_rc wr_close(void *w, sl_err *err) { return sl_parquet_writer_close(w, err); }
static void wr_abort(void *w) { sl_parquet_writer_abort(w); }

static const sl_file_writer_ops writer_ops = {
    .no_path = "missing required key 'path' in sink 'parquet'", .check = wr_check,
    .open = wr_open, .write = wr_write, .close = wr_close, .abort = wr_abort};

static sl_rc sink_init(void **inst, void *config, const sl_ctx *ctx, sl_err *err)
{
    const sink_cfg *c = config;
    return sl_file_sink_init(inst, &writer_ops, c, c->path, ctx, err);
}

const sl_plugin sl_plugin_sink_parquet = {
    .abi_version = SL_PLUGIN_ABI_VERSION,
    .name = "parquet",
    .kind = SL_PLUGIN_SINK,
    .summary = "Write a Parquet file (ZSTD by default, dictionary encoding, statistics).",
    .example = "sink: { type: parquet, path: data/processed/churn/, codec: zstd }",
    .config_map = sink_map,
    .config_size = sizeof(sink_cfg),
    .init = sink_init,
    .open = sl_file_sink_open,
    .write = sl_file_sink_write,
    .close = sl_file_sink_close,
    .destroy = sl_file_sink_destroy,
};
