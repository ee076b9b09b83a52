/*
 * avro_internal.h: what the Avro files of src/formats/ share (not public).
 *
 *   avro_schema.c   Avro schema JSON -> av_node tree (names, namespaces,
 *                   logical types, bounds); sluice schema <-> Avro schema
 *   avro_resolve.c  writer x reader schema -> av_plan (Avro's resolution
 *                   rules) and the top-level row program
 *   avro_decode.c   binary datum decoding into columns / JSON text / skip
 *   avro_encode.c   binary datum encoding of batch rows
 *   avro_codec.c    block codecs null | deflate | snappy | zstandard
 *   avro_reader.c   object container files (header, blocks, sync markers)
 *   avro_writer.c   object container files, atomic commit
 *   avro_wire.c     Confluent wire framing; avro_registry.c schema resolver
 *   avro_inspect.c  sluice inspect for .avro files
 *
 * Ownership: an sl_avro_schema owns an arena holding every av_node, field,
 * name and symbol, and the parsed JSON document (defaults are borrowed
 * json_t pointers into it). Plans live in the arena of whoever built them
 * (a reader, a wire decoder). Nodes may form cycles (recursive named
 * types), so every walk over nodes is bounded by AV_MAX_DEPTH.
 */
#ifndef SL_AVRO_INTERNAL_H
#define SL_AVRO_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "codec.h"
#include "sluice/arena.h"
#include "sluice/avro.h"
#include "sluice/batch.h"

struct json_t;

/* Nesting bound for schemas (JSON depth of type definitions) and for data
 * (recursive records, arrays of arrays ...). */
#define AV_MAX_DEPTH 64
/* Items of one array or map datum whose items take no bytes (null, empty
 * record): without this a few bytes could declare 2^62 of them. */
#define AV_MAX_ZERO_SIZE_ITEMS (1 << 20)
/* JSON text of one nested value. */
#define AV_MAX_JSON_BYTES (64 * 1024 * 1024)

typedef enum av_type {
    AV_NULL = 0,
    AV_BOOLEAN,
    AV_INT,
    AV_LONG,
    AV_FLOAT,
    AV_DOUBLE,
    AV_BYTES,
    AV_STRING,
    AV_RECORD,
    AV_ENUM,
    AV_ARRAY,
    AV_MAP,
    AV_UNION,
    AV_FIXED
} av_type;

typedef enum av_lt {
    AV_LT_NONE = 0,
    AV_LT_DATE,       /* int: days since the epoch */
    AV_LT_TS_MILLIS,  /* long; also local-timestamp-millis */
    AV_LT_TS_MICROS,  /* long; also local-timestamp-micros */
    AV_LT_TS_NANOS,   /* long; also local-timestamp-nanos */
    AV_LT_DECIMAL,    /* bytes or fixed: big-endian two's complement */
    AV_LT_TIME_MILLIS,
    AV_LT_TIME_MICROS,
    AV_LT_UUID,
    AV_LT_DURATION    /* fixed(12): months, days, millis (uint32 LE) */
} av_lt;

typedef struct av_node av_node;

typedef struct av_field {
    const char *name;       /* Avro name */
    const char *sluice_name; /* "sluice.name" attribute (original column
                                name before sanitizing), or NULL */
    av_node *type;
    const struct json_t *def; /* default (borrowed), NULL = none */
    const char **aliases;
    int naliases;
} av_field;

struct av_node {
    av_type t;
    av_lt lt;
    const char *name;  /* full name of named types (record, enum, fixed) */
    const char **aliases; /* full names */
    int naliases;
    int precision, scale; /* decimal */
    int64_t size;         /* fixed */
    int n;                /* fields / symbols / branches */
    av_field *fields;
    const char **symbols;
    size_t *symlen;
    av_node **branches;
    av_node *items;       /* array items, map values */
    const char *enum_default; /* or NULL */
    int64_t min_size;     /* fewest bytes a datum takes (>= 0) */
    int state;            /* scratch for walks over cyclic graphs */
};

struct sl_avro_schema {
    sl_arena *arena;
    struct json_t *doc; /* parsed JSON (defaults point into it) */
    av_node *root;
    char *text;         /* compact JSON text (sl_free) */
    sl_schema *sluice;  /* set when loaded from a sluice schema file: a
                           reader picks these columns by name, with
                           sluice's casts, instead of Avro resolution */
};

/* ---- schema (avro_schema.c) ---- */
/* Parses a schema from a jansson document (takes over the reference). */
sl_rc av_schema_from_json(struct json_t *doc, const char *what,
                          sl_avro_schema **out, sl_err *err);
/* The sluice type a datum of n reads as, and whether it may be null.
 * Unions of null and one type are that type, nullable; other unions and
 * records, arrays, maps are JSON text (string). */
sl_type av_sluice_type(const av_node *n, int *nullable);
/* "long", "record 'a.B'", "union [null, long]" ... for messages. */
void av_describe(const av_node *n, char *buf, size_t len);
/* Index of the null branch of a union, -1 when none. */
int av_union_null(const av_node *n);
/* A valid Avro name from a column name: [A-Za-z_][A-Za-z0-9_]*. */
void av_sanitize_name(const char *in, char *out, size_t len);

/* ---- resolution (avro_resolve.c) ---- */

/* How one writer datum is read. */
typedef enum av_op {
    OP_NULL = 0,    /* writer null */
    OP_BOOL,
    OP_INT,         /* zigzag varint within int32 */
    OP_LONG,        /* zigzag varint */
    OP_FLOAT,
    OP_DOUBLE,
    OP_BYTES,       /* bytes or string (length + data) */
    OP_FIXED,
    OP_ENUM,
    OP_RECORD,
    OP_ARRAY,
    OP_MAP,
    OP_UNION,       /* writer union: branch index selects a sub-plan */
    OP_ERROR        /* incompatible: an error when a datum reaches it */
} av_op;

/* What a value becomes in a column (dest conversion). */
typedef enum av_conv {
    CV_NONE = 0,
    CV_I64,          /* int64 column */
    CV_F64,          /* float64 column from int/long/float/double */
    CV_TS_MUL,       /* timestamp from millis (x1000, overflow checked) */
    CV_TS,           /* timestamp from micros */
    CV_TS_DIV,       /* timestamp from nanos (floor /1000) */
    CV_DATE,         /* date column from int */
    CV_BOOL,
    CV_STR,          /* string column from UTF-8 bytes */
    CV_DEC,          /* float64 column from decimal bytes/fixed */
    CV_SYM,          /* string column from an enum symbol */
    CV_JSON,         /* string column holding JSON text */
    CV_NULLCOL       /* null column (writer null only) */
} av_conv;

typedef struct av_plan av_plan;
struct av_plan {
    av_op op;
    av_conv conv;           /* when read into a column */
    const av_node *w;       /* writer node */
    const av_node *r;       /* reader node (the chosen branch when the
                               reader is a union and the writer is not) */
    int scale;              /* decimal scale */
    int ts_unit;            /* JSON text of a long: 0 plain, else the
                               AV_LT_TS_* of the value; 1 = date */
    /* OP_UNION: one plan per writer branch */
    av_plan **branch;
    /* OP_RECORD: per writer field, a plan (NULL = skip it) and the reader
     * field index; reader fields absent from the writer take defaults. */
    av_plan **wf;
    int *wf_r;
    const av_field **missing;
    int nmissing;
    /* OP_ENUM: writer symbol index -> reader symbol (NULL = error) */
    const char **sym;
    size_t *symlen;
    /* OP_ARRAY / OP_MAP */
    av_plan *items;
    const char *msg;        /* OP_ERROR */
};

/* A top-level default value (a reader field missing from the writer). */
typedef struct av_default {
    int is_null;
    int64_t i;
    double f;
    const char *s;
    size_t slen;
} av_default;

/* One output column of a row program. */
typedef struct av_step {
    av_plan *plan;     /* NULL: column filled from def */
    int col;           /* output column; -1 = skip the writer field */
    const av_node *skip; /* writer node to skip when col < 0 */
    const char *field; /* column name for messages */
    int nonnull;       /* column declared non-nullable */
    int json;          /* the column holds the value's JSON text */
} av_step;

/* How to turn one writer record into one row of the output schema. */
typedef struct av_prog {
    sl_arena *arena;
    sl_schema *schema;   /* output (owned) */
    av_step *steps;      /* in writer field order, then defaults */
    int nsteps;
    av_default *defs;    /* per output column (used when steps say so) */
    int *def_cols;       /* output columns filled from defaults */
    int ndefs;
} av_prog;

/* Builds the program for writer w read as reader r (NULL = as written).
 * columns/ncolumns: projection by output name (NULL = all). */
sl_rc av_prog_build(const sl_avro_schema *w, const sl_avro_schema *r,
                    const char *const *columns, int ncolumns, av_prog **out,
                    sl_err *err);
void av_prog_free(av_prog *p);

/* ---- decoding (avro_decode.c) ---- */

typedef struct av_rd {
    const uint8_t *p, *end;
} av_rd;

/* Per-reader scratch for decoding. */
typedef struct av_dec {
    pq_buf json;     /* JSON text of the current nested value */
    int64_t zero_items; /* zero-size items in the current value */
} av_dec;

void av_dec_free(av_dec *d);
/* Decodes one record (writer datum) at *rd into row b->cols[...] (one
 * more row in every column; on failure the columns may hold a partial
 * row: callers truncate). */
sl_rc av_decode_row(const av_prog *p, av_dec *d, av_rd *rd, sl_column **cols,
                    sl_err *err);
/* Skips one datum of writer node w. */
sl_rc av_skip(const av_node *w, av_rd *rd, int depth, av_dec *d, sl_err *err);

/* Zigzag varint; 0 ok, -1 truncated or longer than 10 bytes. */
static inline int av_read_long(av_rd *r, int64_t *out)
{
    uint64_t v = 0;
    int shift = 0;
    const uint8_t *p = r->p;
    while (p < r->end) {
        uint8_t b = *p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            r->p = p;
            *out = (int64_t)((v >> 1) ^ (~(v & 1) + 1));
            return 0;
        }
        shift += 7;
        if (shift > 63)
            return -1;
    }
    return -1;
}

/* ---- encoding (avro_encode.c) ---- */
static inline size_t av_put_long(uint8_t *p, int64_t v)
{
    uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    size_t n = 0;
    while (z >= 0x80) {
        p[n++] = (uint8_t)(z | 0x80);
        z >>= 7;
    }
    p[n++] = (uint8_t)z;
    return n;
}

typedef struct av_enc {
    sl_schema *schema;     /* the columns rows are taken from */
    sl_avro_schema *avro;  /* sl_avro_schema_from_sluice(schema, name) */
} av_enc;
sl_rc av_enc_new(const sl_schema *s, const char *name, av_enc **out, sl_err *err);
void av_enc_free(av_enc *e);
/* Checks that b's columns match the encoder's schema (names, types). */
sl_rc av_enc_check(const av_enc *e, const sl_batch *b, sl_err *err);
/* Appends rows from `from` on to out, one record each, until `to` or
 * until out->len reaches limit; *next = the first row not encoded. */
sl_rc av_enc_rows(const av_enc *e, const sl_batch *b, int64_t from, int64_t to, size_t limit,
                  pq_buf *out, int64_t *next, sl_err *err);

/* ---- block codecs (avro_codec.c) ---- */
typedef enum av_codec {
    AV_CODEC_NULL = 0,
    AV_CODEC_DEFLATE,
    AV_CODEC_SNAPPY,
    AV_CODEC_ZSTD
} av_codec;

typedef struct av_codec_state {
    void *zd, *zc; /* ZSTD_DCtx, ZSTD_CCtx */
    void *inf;     /* z_stream for inflate */
    void *def;     /* z_stream for deflate */
    int def_level;
} av_codec_state;

/* "null", "deflate", "snappy", "zstandard" (read also accepts "zstd"). */
sl_rc av_codec_parse(const char *name, size_t n, av_codec *out, sl_err *err);
const char *av_codec_name(av_codec c);
void av_codec_state_free(av_codec_state *s);
/* out->len = decompressed size; never more than max bytes. */
sl_rc av_decompress(av_codec_state *s, av_codec c, const uint8_t *src, size_t n,
                    size_t max, pq_buf *out, sl_err *err);
/* Appends the compressed block (with snappy's CRC32 trailer) to out. */
sl_rc av_compress(av_codec_state *s, av_codec c, int level, const uint8_t *src,
                  size_t n, pq_buf *out, sl_err *err);

/* ---- shared ---- */
int pq_utf8_valid(const uint8_t *p, size_t n); /* parquet_rcol.c */
/* Appends s[0,n) as a JSON string literal (invalid UTF-8 bytes become
 * \u00XX escapes). 0 ok, -1 out of memory. */
int av_json_str(pq_buf *b, const char *s, size_t n);

#endif
