/*
 * parquet_plugin.c: the `parquet` source and sink plugins over
 * sluice/parquet.h. The config tables below are the user reference for
 * both (docs/user-guides/spec.md is generated from them).
 */
#include <stddef.h>
#include <string.h>

#include "sluice/mem.h"
#include "sluice/parquet.h"
#include "sluice/plugin.h"

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

typedef struct src {
    const src_cfg *cfg;
    sl_parquet_reader *r;
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
    sl_parquet_read_options o;
    sl_parquet_read_options_init(&o);
    o.batch_rows = s->cfg->batch_rows;
    o.columns = (const char *const *)s->cfg->columns.items;
    o.ncolumns = s->cfg->columns.n;
    (void)in;
    sl_rc rc = sl_parquet_reader_open(s->cfg->path, &o, &s->r, err);
    if (rc != SL_OK)
        return rc;
    if (!(*out = sl_schema_copy(sl_parquet_reader_schema(s->r))))
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    return SL_OK;
}

static sl_rc src_next(void *inst, sl_batch **out, sl_err *err)
{
    return sl_parquet_reader_next(((src *)inst)->r, out, err);
}

static sl_rc src_close(void *inst, sl_err *err)
{
    src *s = inst;
    sl_parquet_reader_close(s->r);
    s->r = NULL;
    (void)err;
    return SL_OK;
}

static void src_destroy(void *inst)
{
    src *s = inst;
    if (s)
        sl_parquet_reader_close(s->r);
    sl_free(s);
}

static void src_progress(void *inst, int64_t *done, int64_t *total)
{
    src *s = inst;
    *done = 0;
    *total = -1;
    if (s->r)
        sl_parquet_reader_progress(s->r, done, total);
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

typedef struct sink {
    const sink_cfg *cfg;
    char *path;
    sl_parquet_writer *w;
} sink;

static sl_rc sink_init(void **inst, void *config, const sl_ctx *ctx, sl_err *err)
{
    const sink_cfg *c = config;
    const char *path = ctx && ctx->sink_path ? ctx->sink_path : c->path;
    if (!path)
        return sl_err_set(err, SL_ECONFIG, "missing required key 'path' in sink 'parquet'");
    if (c->data_page_version != 1 && c->data_page_version != 2)
        return sl_err_set(err, SL_ECONFIG, "data_page_version must be 1 or 2, not %lld",
                          (long long)c->data_page_version);
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
    sl_parquet_write_options o;
    sl_parquet_write_options_init(&o);
    if (s->cfg->codec >= 0 && s->cfg->codec < (int)(sizeof codec_values / sizeof codec_values[0]))
        o.codec = codec_values[s->cfg->codec];
    o.row_group_bytes = s->cfg->row_group_bytes;
    o.row_group_rows = s->cfg->row_group_rows;
    o.page_bytes = s->cfg->page_bytes;
    o.dictionary = s->cfg->dictionary;
    o.data_page_version = (int)s->cfg->data_page_version;
    (void)out;
    return sl_parquet_writer_open(s->path, in, &o, &s->w, err);
}

static sl_rc sink_write(void *inst, sl_batch *in, sl_err *err)
{
    return sl_parquet_writer_write(((sink *)inst)->w, in, err);
}

static sl_rc sink_close(void *inst, sl_err *err)
{
    sink *s = inst;
    sl_rc rc = sl_parquet_writer_close(s->w, err);
    s->w = NULL;
    return rc;
}

static void sink_destroy(void *inst)
{
    sink *s = inst;
    if (!s)
        return;
    sl_parquet_writer_abort(s->w); /* not closed: nothing appears */
    sl_free(s->path);
    sl_free(s);
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
    .open = sink_open,
    .write = sink_write,
    .close = sink_close,
    .destroy = sink_destroy,
};
