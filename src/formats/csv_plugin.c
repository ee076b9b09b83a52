/*
 * csv_plugin.c: the `csv` source and sink plugins, thin adapters from the
 * plugin vtable (plugin.h) to the reader and writer of csv.h. The config
 * tables below are the user reference for these sections of a spec
 * (docs/user-guides/spec.md is generated from them), so their texts say
 * exactly what the code does.
 */
#include <stddef.h>

#include "sluice/csv.h"
#include "sluice/plugin.h"

#include "file_plugin.h"

/* ---- source ---- */

typedef struct src_cfg {
    char *path;
    char delimiter;
    char quote;
    int header;
    sl_strlist null_values;
    int64_t infer_rows;
    int64_t batch_rows;
    int on_error;
    char *rejects;
    int64_t max_record_bytes;
} src_cfg;

static const sl_config_entry src_map[] = {
    {"path", SL_CFG_STR, NULL, SL_CFG_REQUIRED, NULL, offsetof(src_cfg, path),
     "CSV file to read (RFC 4180: fields with the delimiter, quotes or line "
     "breaks are quoted, a quote inside quotes is doubled; LF or CRLF line "
     "ends; a UTF-8 byte order mark is skipped; blank lines are skipped, except in a one-column file, where an empty line is a null value). "
     "Read in chunks, so files larger than memory are fine."},
    {"delimiter", SL_CFG_CHAR, ",", 0, NULL, offsetof(src_cfg, delimiter),
     "Field separator, one byte: `,`, `;`, `|`, or `tab` (also written "
     "`\"\\t\"`) for TSV."},
    {"quote", SL_CFG_CHAR, "\"", 0, NULL, offsetof(src_cfg, quote),
     "Quote character. A quoted field may hold the delimiter and line "
     "breaks and is never null, so `\"\"` is an empty string."},
    {"header", SL_CFG_BOOL, "true", 0, NULL, offsetof(src_cfg, header),
     "Whether the first record names the columns. Without a header the "
     "columns are named c1, c2, ... In a header, empty names become cN "
     "and repeated names get _2, _3, ..."},
    {"null_values", SL_CFG_STRLIST, ",NA,null", 0, NULL,
     offsetof(src_cfg, null_values),
     "Unquoted field texts that mean null (exact, case-sensitive match). "
     "Default: the empty field, `NA` and `null`. `[]` turns null "
     "detection off."},
    {"infer_rows", SL_CFG_INT, "10000", 0, NULL, offsetof(src_cfg, infer_rows),
     "Records sampled to infer column types: a column is bool "
     "(true/false), int64, float64 (decimals, exponents, nan, inf), date "
     "(YYYY-MM-DD or YYYY/MM/DD), timestamp (date and time, optional "
     "fraction and zone) when every non-null sample parses as one; int64 "
     "widens to float64 and date to timestamp; anything else, or a column "
     "with only nulls, is string. The sample is parsed once and kept, not "
     "read twice. Columns named in the spec's `schema:` keep its types. 0: "
     "every other column is string."},
    {"batch_rows", SL_CFG_INT, "65536", 0, NULL, offsetof(src_cfg, batch_rows),
     "Rows per batch handed to the transforms."},
    {"on_error", SL_CFG_ENUM, "fail", 0, SL_ON_ERROR_CHOICES,
     offsetof(src_cfg, on_error),
     "What to do with a malformed record (wrong number of fields, a value "
     "that does not parse as its column's type such as `abc` in an int64 "
     "column, a null in a column the schema marks not nullable, text "
     "after a closing quote, a quote left open at the end of the file): "
     "`fail` stops with file:line, the column and the reason; `skip` drops "
     "and counts it; `dlq` also writes it to the rejects file with its "
     "line, byte offset, reason and raw text. A record longer than "
     "max_record_bytes always fails."},
    {"rejects", SL_CFG_STR, NULL, 0, NULL, offsetof(src_cfg, rejects),
     "Rejects file for `on_error: dlq` (JSON Lines, created on the first "
     "rejected record). Default: the run's rejects path."},
    {"max_record_bytes", SL_CFG_INT, "16777216", 0, NULL,
     offsetof(src_cfg, max_record_bytes),
     "Longest accepted record in bytes (16 MiB). Bounds the reader's "
     "memory and catches an unbalanced quote that would swallow the rest "
     "of the file."},
    {0}};

static sl_rc rd_open(sl_file_source *s, sl_err *err)
{
    const src_cfg *c = s->cfg;
    sl_csv_options o;
    sl_csv_options_init(&o);
    o.delimiter = c->delimiter;
    o.quote = c->quote;
    o.header = c->header;
    o.null_values = (const char *const *)c->null_values.items;
    o.n_null_values = c->null_values.n;
    o.infer_rows = c->infer_rows;
    o.batch_rows = c->batch_rows;
    o.on_error = (sl_on_error)c->on_error;
    o.rejects_path = s->rejects;
    o.max_record_bytes = c->max_record_bytes;
    sl_csv_reader *r = NULL;
    sl_rc rc = sl_csv_reader_open(c->path, &o, s->hint, &r, err);
    s->r = r;
    return rc;
}

/* Typed forwarders: the ops table holds void * handles. */
static const sl_schema *rd_schema(const void *r)
{
    return sl_csv_reader_schema(r);
}
static sl_rc rd_next(void *r, sl_batch **out, sl_err *err)
{
    return sl_csv_reader_next(r, out, err);
}
static void rd_progress(const void *r, int64_t *done, int64_t *total)
{
    sl_csv_reader_progress(r, done, total);
}
static int64_t rd_rejected(const void *r)
{
    return sl_csv_reader_rejected(r);
}
static sl_rc rd_close(void *r, sl_err *err)
{
    return sl_csv_reader_close(r, err);
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

const sl_plugin sl_plugin_source_csv = {
    .abi_version = SL_PLUGIN_ABI_VERSION,
    .name = "csv",
    .kind = SL_PLUGIN_SOURCE,
    .summary = "Read a CSV/TSV file, streaming, with inferred or overridden "
               "column types.",
    .example = "source: { type: csv, path: data/raw/churn.csv, on_error: dlq }",
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
    char delimiter;
    int header;
} sink_cfg;

static const sl_config_entry sink_map[] = {
    {"path", SL_CFG_STR, NULL, 0, NULL, offsetof(sink_cfg, path),
     "Output file (or, in a pipeline with a split, the directory that gets "
     "train.csv and test.csv). Fields are quoted only when needed "
     "(delimiter, quote, line break, leading or trailing space, or a "
     "string that would read back as null such as the empty string); "
     "nulls are empty; floats in shortest round-trip form (`0.1`, `3.0`, "
     "`nan`, `inf`); bools true/false; dates YYYY-MM-DD; timestamps "
     "YYYY-MM-DDTHH:MM:SS[.ffffff]Z. Written to a temporary file beside "
     "the target and renamed over it when complete, so readers never see "
     "a partial file."},
    {"delimiter", SL_CFG_CHAR, ",", 0, NULL, offsetof(sink_cfg, delimiter),
     "Field separator, one byte (`tab` for TSV)."},
    {"header", SL_CFG_BOOL, "true", 0, NULL, offsetof(sink_cfg, header),
     "Write the column names as the first row."},
    {0}};

static sl_rc wr_open(sl_file_sink *k, const sl_schema *in, sl_err *err)
{
    const sink_cfg *c = k->cfg;
    sl_csv_options o;
    sl_csv_options_init(&o);
    o.delimiter = c->delimiter;
    o.header = c->header;
    sl_csv_writer *w = NULL;
    sl_rc rc = sl_csv_writer_open(k->path, &o, in, &w, err);
    k->w = w;
    return rc;
}

static sl_rc wr_write(void *w, const sl_batch *b, sl_err *err)
{
    return sl_csv_writer_write(w, b, err);
}
static sl_rc wr_flush(void *w, sl_err *err)
{
    return sl_csv_writer_flush(w, err);
}
static sl_rc wr_close(void *w, sl_err *err)
{
    return sl_csv_writer_close(w, err);
}
static void wr_abort(void *w)
{
    sl_csv_writer_abort(w);
}

static const sl_file_writer_ops writer_ops = {
    .no_path = "csv sink needs a 'path'", .open = wr_open, .write = wr_write,
    .flush = wr_flush, .close = wr_close, .abort = wr_abort};

static sl_rc sink_init(void **inst, void *config, const sl_ctx *ctx,
                       sl_err *err)
{
    const sink_cfg *c = config;
    return sl_file_sink_init(inst, &writer_ops, c, c->path, ctx, err);
}

const sl_plugin sl_plugin_sink_csv = {
    .abi_version = SL_PLUGIN_ABI_VERSION,
    .name = "csv",
    .kind = SL_PLUGIN_SINK,
    .summary = "Write a CSV/TSV file with minimal quoting, committed "
               "atomically.",
    .example = "sink: { type: csv, path: data/processed/churn.csv }",
    .config_map = sink_map,
    .config_size = sizeof(sink_cfg),
    .init = sink_init,
    .open = sl_file_sink_open,
    .write = sl_file_sink_write,
    .flush = sl_file_sink_flush,
    .close = sl_file_sink_close,
    .destroy = sl_file_sink_destroy,
};
