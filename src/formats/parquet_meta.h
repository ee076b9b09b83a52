/*
 * parquet_meta.h: Parquet FileMetaData and PageHeader as C structs, with
 * Thrift compact encoders and decoders (internal to src/formats/).
 *
 * Decoded metadata lives in an arena owned by pq_file_meta (names, paths,
 * statistics bytes are copied there), so it stays valid after the footer
 * buffer is freed. Decoding checks what the reader later relies on:
 * required fields present, counts non-negative, schema tree consistent
 * (num_children sums match), every row group has one chunk per leaf.
 * Offsets and sizes are NOT checked against the file here: the reader does
 * that, because only it knows the file size.
 *
 * Enum values are the ones of parquet.thrift.
 */
#ifndef SL_PARQUET_META_H
#define SL_PARQUET_META_H

#include <stdint.h>

#include "sluice/arena.h"
#include "sluice/error.h"
#include "thrift_compact.h"

/* Physical types. */
enum { PQ_BOOLEAN = 0, PQ_INT32, PQ_INT64, PQ_INT96, PQ_FLOAT, PQ_DOUBLE,
       PQ_BYTE_ARRAY, PQ_FIXED_LEN_BYTE_ARRAY };
/* Repetition. */
enum { PQ_REQUIRED = 0, PQ_OPTIONAL = 1, PQ_REPEATED = 2 };
/* Encodings. */
enum { PQ_ENC_PLAIN = 0, PQ_ENC_PLAIN_DICTIONARY = 2, PQ_ENC_RLE = 3,
       PQ_ENC_BIT_PACKED = 4, PQ_ENC_DELTA_BINARY_PACKED = 5,
       PQ_ENC_DELTA_LENGTH_BYTE_ARRAY = 6, PQ_ENC_DELTA_BYTE_ARRAY = 7,
       PQ_ENC_RLE_DICTIONARY = 8, PQ_ENC_BYTE_STREAM_SPLIT = 9 };
/* Compression codecs. */
enum { PQ_CODEC_UNCOMPRESSED = 0, PQ_CODEC_SNAPPY, PQ_CODEC_GZIP, PQ_CODEC_LZO,
       PQ_CODEC_BROTLI, PQ_CODEC_LZ4, PQ_CODEC_ZSTD, PQ_CODEC_LZ4_RAW };
/* Page types. */
enum { PQ_PAGE_DATA = 0, PQ_PAGE_INDEX = 1, PQ_PAGE_DICTIONARY = 2,
       PQ_PAGE_DATA_V2 = 3 };
/* ConvertedType (legacy annotations). */
enum { PQ_CT_UTF8 = 0, PQ_CT_MAP, PQ_CT_MAP_KEY_VALUE, PQ_CT_LIST, PQ_CT_ENUM,
       PQ_CT_DECIMAL, PQ_CT_DATE, PQ_CT_TIME_MILLIS, PQ_CT_TIME_MICROS,
       PQ_CT_TIMESTAMP_MILLIS, PQ_CT_TIMESTAMP_MICROS, PQ_CT_UINT_8,
       PQ_CT_UINT_16, PQ_CT_UINT_32, PQ_CT_UINT_64, PQ_CT_INT_8, PQ_CT_INT_16,
       PQ_CT_INT_32, PQ_CT_INT_64, PQ_CT_JSON, PQ_CT_BSON, PQ_CT_INTERVAL };
/* LogicalType union members (field ids). */
enum { PQ_LT_NONE = 0, PQ_LT_STRING = 1, PQ_LT_MAP = 2, PQ_LT_LIST = 3,
       PQ_LT_ENUM = 4, PQ_LT_DECIMAL = 5, PQ_LT_DATE = 6, PQ_LT_TIME = 7,
       PQ_LT_TIMESTAMP = 8, PQ_LT_INTEGER = 10, PQ_LT_UNKNOWN = 11,
       PQ_LT_JSON = 12, PQ_LT_BSON = 13, PQ_LT_UUID = 14, PQ_LT_FLOAT16 = 15,
       PQ_LT_VARIANT = 16, PQ_LT_GEOMETRY = 17, PQ_LT_GEOGRAPHY = 18 };
/* TimeUnit union members. */
enum { PQ_UNIT_MILLIS = 1, PQ_UNIT_MICROS = 2, PQ_UNIT_NANOS = 3 };

typedef struct pq_logical {
    int kind;          /* PQ_LT_*, PQ_LT_NONE when absent */
    int unit;          /* TIME/TIMESTAMP: PQ_UNIT_* */
    int utc;           /* TIME/TIMESTAMP: isAdjustedToUTC */
    int bit_width;     /* INTEGER */
    int is_signed;     /* INTEGER */
    int32_t scale, precision; /* DECIMAL */
} pq_logical;

typedef struct pq_schema_elem {
    char *name;
    int type;            /* physical type, -1 for a group */
    int32_t type_length; /* FIXED_LEN_BYTE_ARRAY */
    int repetition;      /* PQ_REQUIRED.., -1 when unset (root) */
    int32_t num_children;
    int converted;       /* PQ_CT_*, -1 when unset */
    int32_t scale, precision, field_id;
    int has_scale, has_precision, has_field_id;
    pq_logical logical;
} pq_schema_elem;

typedef struct pq_stats {
    const uint8_t *min, *max; /* min_value/max_value, else legacy min/max */
    uint32_t min_len, max_len;
    int has_min, has_max;
    int legacy;               /* min/max came from the deprecated fields */
    int has_null_count;
    int64_t null_count;
} pq_stats;

typedef struct pq_column_meta {
    int type;
    uint32_t encodings;  /* bit e set = Encoding e used (e < 32) */
    int n_path;
    char **path;
    int codec;
    int64_t num_values, total_uncompressed_size, total_compressed_size;
    int64_t data_page_offset, dictionary_page_offset, index_page_offset;
    int has_dictionary_page_offset, has_index_page_offset;
    int has_stats;
    pq_stats stats;
} pq_column_meta;

typedef struct pq_column_chunk {
    char *file_path;     /* NULL = this file */
    int64_t file_offset;
    int has_meta;
    int encrypted;       /* crypto_metadata or encrypted_column_metadata */
    pq_column_meta meta;
} pq_column_chunk;

typedef struct pq_row_group {
    int ncols;
    pq_column_chunk *cols;
    int64_t total_byte_size, num_rows;
    int64_t file_offset, total_compressed_size;
    int has_file_offset, has_total_compressed_size;
    int ordinal; /* -1 when unset */
} pq_row_group;

typedef struct pq_kv {
    char *key;
    char *value; /* NULL when unset */
} pq_kv;

typedef struct pq_file_meta {
    int32_t version;
    int nschema;
    pq_schema_elem *schema; /* depth-first, schema[0] is the root */
    int64_t num_rows;
    int nrg;
    pq_row_group *rgs;
    int nkv;
    pq_kv *kv;
    char *created_by;     /* NULL when unset */
    int n_orders;
    int8_t *orders;       /* per leaf: 1 = TYPE_ORDER, 0 = unknown */
    int encrypted;        /* encryption_algorithm present */
    sl_arena *arena;      /* owns everything above (decoded metadata) */
} pq_file_meta;

typedef struct pq_page_header {
    int type;
    int32_t uncompressed_size, compressed_size;
    int has_crc;
    uint32_t crc;
    int32_t num_values;   /* data, dictionary and v2 pages */
    int encoding;
    int def_encoding, rep_encoding;        /* v1 */
    int32_t num_nulls, num_rows;           /* v2 */
    int32_t def_bytes, rep_bytes;          /* v2 */
    int is_compressed;                     /* v2, default 1 */
    int has_kind_header;  /* the header matching `type` was present */
} pq_page_header;

/* Decodes a FileMetaData from n bytes (the footer). On success *out is a
 * new object; free with pq_meta_free. Errors: SL_EPARSE with the byte
 * offset in the footer. */
sl_rc pq_meta_decode(const uint8_t *p, size_t n, pq_file_meta **out,
                     sl_err *err);
void pq_meta_free(pq_file_meta *m);
/* Appends the Thrift encoding of m to w. */
void pq_meta_encode(tc_writer *w, const pq_file_meta *m);

/* Decodes a page header at p (at most n bytes); *used = header length. */
sl_rc pq_page_header_decode(const uint8_t *p, size_t n, pq_page_header *h,
                            size_t *used, sl_err *err);
void pq_page_header_encode(tc_writer *w, const pq_page_header *h);

/* Names for messages and `inspect`. "?" for unknown values. */
const char *pq_type_name(int t);
const char *pq_encoding_name(int e);
const char *pq_codec_name(int c);
const char *pq_logical_name(const pq_logical *l);

#endif
