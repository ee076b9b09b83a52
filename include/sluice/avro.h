/*
 * avro.h: Avro object container files (read and write), schema resolution
 * and the Confluent wire format for Kafka values. Our own decoder and
 * encoder of the binary encoding (see docs/design/avro.md for why not
 * avro-c), decoding straight into batch columns.
 *
 * Type mapping (read; the reader schema's view when one is given):
 *   null -> null; boolean -> bool; int, long -> int64; float, double ->
 *   float64; string -> string (must be UTF-8); bytes, fixed -> string when
 *   the value is valid UTF-8, else an error naming the field; enum ->
 *   string (the symbol); int date -> date; long timestamp-millis|micros|
 *   nanos and local-timestamp-* -> timestamp (µs UTC; nanoseconds are
 *   floored, millis must fit in µs); time-millis|micros -> int64 (the raw
 *   count since midnight); decimal (bytes or fixed) -> float64 (lossy
 *   beyond ~15 significant digits); uuid -> string; duration -> string
 *   holding {"months": m, "days": d, "millis": ms}.
 *   A union of null and one type -> that type, nullable; a union of only
 *   null -> a null column; other unions, records, arrays and maps -> a
 *   string column holding the value's JSON text (the JSON Lines and
 *   Parquet convention: records and maps -> objects, arrays -> arrays, a
 *   union -> its branch's value, dates and timestamps -> ISO strings,
 *   NaN/inf -> null, bytes -> strings with \u00XX for non-UTF-8 bytes).
 *   A top-level schema that is not a record reads as one column "value".
 *   A field's "sluice.name" attribute (written by our writer when a column
 *   name is not a valid Avro name) names the column.
 *
 * Type mapping (write): bool -> boolean, int64 -> long, float64 -> double,
 *   string -> string, timestamp -> long timestamp-micros, date -> int date,
 *   null -> null; nullable fields are ["null", T] with default null, fields
 *   with nullable == 0 are T (a null is an error naming the column).
 *   Column names that are not valid Avro names are sanitized
 *   ([^A-Za-z0-9_] -> '_', '_' before a leading digit) and the original
 *   kept in the field attribute "sluice.name".
 *
 * Schema evolution: with a reader schema, the writer's data is resolved
 * with Avro's rules: record fields by name (or reader aliases), writer
 * fields the reader lacks are skipped, reader fields the writer lacks take
 * the reader's default (an error when there is none), int -> long ->
 * float -> double and string <-> bytes promotions, unions resolved branch
 * by branch (a writer branch the reader cannot take is an error only when
 * a value uses it), enum symbols by name (or the reader's enum default).
 * A reader schema may also be a sluice schema JSON file: columns are then
 * picked by name, in its order, with sluice's casts (int64 -> float64),
 * missing nullable columns read as null and a null in a column declared
 * nullable: false is an error.
 *
 * Untrusted input: every length, count and index read from a file or a
 * message is checked against the bytes left before anything is allocated;
 * a corrupt or truncated file fails with SL_EPARSE and a message naming
 * the file, block, byte offset and, when known, the field; a valid file
 * using something this build does not read (codec xz, bzip2) fails with
 * SL_EUNSUPPORTED.
 */
#ifndef SLUICE_AVRO_H
#define SLUICE_AVRO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "batch.h"
#include "error.h"
#include "schema.h"

/* Bounds the reader enforces. */
#define SL_AVRO_MAX_HEADER_BYTES (64 * 1024 * 1024)
#define SL_AVRO_MAX_BLOCK_BYTES (512 * 1024 * 1024)
/* Writer defaults: a block ends at this many rows or encoded bytes. */
#define SL_AVRO_BLOCK_ROWS_DEFAULT 65536
#define SL_AVRO_BLOCK_BYTES_DEFAULT (1024 * 1024)

/* ---- schemas ---- */

typedef struct sl_avro_schema sl_avro_schema;

/* Parses Avro schema JSON (what names the source in messages). */
sl_rc sl_avro_schema_parse(const char *json, size_t n, const char *what,
                           sl_avro_schema **out, sl_err *err);
/* Loads a reader schema: an Avro schema (.avsc) or a sluice schema JSON
 * file ({"fields": [{"name", "type": "int64", ...}]}; see above). */
sl_rc sl_avro_schema_load(const char *path, sl_avro_schema **out,
                          sl_err *err);
/* The Avro schema the writer writes for s (record name: name, default
 * "sluice.Row"). */
sl_rc sl_avro_schema_from_sluice(const sl_schema *s, const char *name,
                                 sl_avro_schema **out, sl_err *err);
/* The sluice schema data of a reads as. */
sl_rc sl_avro_schema_to_sluice(const sl_avro_schema *a, sl_schema **out,
                               sl_err *err);
/* Compact JSON text of the schema (valid until free). */
const char *sl_avro_schema_json(const sl_avro_schema *a);
void sl_avro_schema_free(sl_avro_schema *a); /* NULL ok */

/* ---- reader ---- */

typedef struct sl_avro_read_options {
    int64_t batch_rows;                 /* default SL_BATCH_ROWS_DEFAULT */
    const char *const *columns;         /* projection by column name, in
                                           output order; NULL = all */
    int ncolumns;
    const sl_avro_schema *reader_schema; /* schema evolution; NULL = read
                                            as written (the first part's
                                            schema for a directory) */
} sl_avro_read_options;

void sl_avro_read_options_init(sl_avro_read_options *o);

typedef struct sl_avro_reader sl_avro_reader;

/* path: a file, or a directory whose *.avro files (sorted by name; names
 * starting with '.' or '_' ignored) are read in turn, each resolved
 * against the reader schema (or the first part's schema). The options are
 * copied; reader_schema must outlive the reader. */
sl_rc sl_avro_reader_open(const char *path, const sl_avro_read_options *opts,
                          sl_avro_reader **out, sl_err *err);
/* Reads from memory (kept by the caller until close). */
sl_rc sl_avro_reader_open_mem(const void *data, size_t n, const char *name,
                              const sl_avro_read_options *opts,
                              sl_avro_reader **out, sl_err *err);
const sl_schema *sl_avro_reader_schema(const sl_avro_reader *r);
/* Writer schema and codec of the part being read (valid until the next
 * part is opened). */
const sl_avro_schema *sl_avro_reader_writer_schema(const sl_avro_reader *r);
const char *sl_avro_reader_codec(const sl_avro_reader *r);
/* *out = next batch of at most batch_rows rows (batches may span blocks);
 * SL_EEOF at the end. */
sl_rc sl_avro_reader_next(sl_avro_reader *r, sl_batch **out, sl_err *err);
void sl_avro_reader_progress(const sl_avro_reader *r, int64_t *done,
                             int64_t *total);
void sl_avro_reader_close(sl_avro_reader *r); /* NULL ok */

/* ---- writer ---- */

typedef enum sl_avro_codec {
    SL_AVRO_NULL = 0,
    SL_AVRO_DEFLATE,
    SL_AVRO_SNAPPY,
    SL_AVRO_ZSTANDARD
} sl_avro_codec;

typedef struct sl_avro_write_options {
    sl_avro_codec codec;  /* default SL_AVRO_DEFLATE (every reader has it) */
    int level;            /* 0 = codec default (deflate 6, zstandard 3) */
    int64_t block_rows;   /* end a block at this many rows (64Ki) */
    int64_t block_bytes;  /* ... or this many encoded bytes (1 MiB) */
    const char *record_name; /* full name of the record, "sluice.Row" */
} sl_avro_write_options;

void sl_avro_write_options_init(sl_avro_write_options *o);
/* "null", "deflate", "snappy", "zstandard" (also "zstd", "none",
 * "uncompressed"; any case). */
sl_rc sl_avro_codec_parse(const char *name, sl_avro_codec *out);

typedef struct sl_avro_writer sl_avro_writer;

/* Creates a temporary file beside path; nothing appears at path until
 * close succeeds. opts NULL = defaults. */
sl_rc sl_avro_writer_open(const char *path, const sl_schema *schema,
                          const sl_avro_write_options *opts,
                          sl_avro_writer **out, sl_err *err);
/* Appends the rows of b (column names and types as at open). */
sl_rc sl_avro_writer_write(sl_avro_writer *w, const sl_batch *b, sl_err *err);
/* Writes the last block, fsyncs, renames onto the target, fsyncs the
 * directory; frees w in every case. NULL ok. */
sl_rc sl_avro_writer_close(sl_avro_writer *w, sl_err *err);
/* Discards the output and frees. NULL ok. */
void sl_avro_writer_abort(sl_avro_writer *w);
int64_t sl_avro_writer_rows(const sl_avro_writer *w);

/* ---- inspect ---- */

struct json_t;
/* {"file", "size", "codec", "schema" (the Avro schema), "columns":
 * [{"name", "avro_type", "sluice_type", "nullable"}], "metadata": {key:
 * value for other keys, as text when UTF-8}, "blocks", "rows",
 * "min_block_rows", "max_block_rows", "max_block_bytes"}. Every block is
 * visited (its header and sync marker checked, data not decompressed). */
sl_rc sl_avro_inspect_json(const char *path, struct json_t **out,
                           sl_err *err);
/* The same as a human-readable summary. */
sl_rc sl_avro_inspect_print(const char *path, FILE *out, sl_err *err);

/* ---- Confluent wire format (Kafka values) ----
 * A message is: magic byte 0, the writer schema id (4 bytes, big-endian),
 * then one Avro binary datum of that schema (no container, no codec). */

#define SL_AVRO_WIRE_HEADER_BYTES 5

/* SL_EPARSE when n < 5 or the magic byte is not 0. */
sl_rc sl_avro_wire_parse_header(const void *msg, size_t n, int32_t *schema_id,
                                sl_err *err);
void sl_avro_wire_put_header(uint8_t out[SL_AVRO_WIRE_HEADER_BYTES],
                             int32_t schema_id);

/* A schema resolver: *out = the writer schema with this id (owned by the
 * resolver, valid while it lives); SL_ENOTFOUND when unknown. */
typedef sl_rc (*sl_avro_resolve_fn)(void *arg, int32_t id,
                                    const sl_avro_schema **out, sl_err *err);

/* The resolver sluice provides: schemas from a local directory
 * (<dir>/<id>.avsc) and, when url is set, from a Confluent Schema Registry
 * (HTTP GET <url>/schemas/ids/<id>; plain http only, no TLS). Found
 * schemas are cached for the resolver's life (ids are immutable in a
 * registry). Not thread-safe. dir and url may each be NULL. timeout_ms
 * bounds each HTTP request (0 = 10 s). */
typedef struct sl_avro_registry sl_avro_registry;
sl_rc sl_avro_registry_new(const char *dir, const char *url, int timeout_ms,
                           sl_avro_registry **out, sl_err *err);
sl_rc sl_avro_registry_get(sl_avro_registry *r, int32_t id,
                           const sl_avro_schema **out, sl_err *err);
/* Adds a schema under id (takes it over, also on failure). */
sl_rc sl_avro_registry_add(sl_avro_registry *r, int32_t id, sl_avro_schema *s,
                           sl_err *err);
/* Registers s under subject at the registry URL (POST
 * <url>/subjects/<subject>/versions, as Confluent serializers do with
 * auto.register.schemas); *id = the id the registry gives, which is the
 * existing one when the subject already has this schema. A refusal
 * (incompatible with the subject's earlier versions: HTTP 409, invalid:
 * 422, unauthorized: 401/403) is SL_ECONFIG with the registry's message;
 * other failures SL_EIO. SL_EINVAL without a URL. */
sl_rc sl_avro_registry_register(sl_avro_registry *r, const char *subject,
                                const sl_avro_schema *s, int32_t *id,
                                sl_err *err);
/* sl_avro_registry_get as an sl_avro_resolve_fn (arg = the registry). */
sl_rc sl_avro_registry_resolve(void *registry, int32_t id,
                               const sl_avro_schema **out, sl_err *err);
void sl_avro_registry_free(sl_avro_registry *r); /* NULL ok */

/* Decoding messages into batch rows. Usage:
 *     sl_avro_wire_decoder_new(resolve, arg, reader, &d)
 *     per message: sl_avro_wire_decode(d, value, len, &why)
 *         SL_OK: one row appended; SL_EPARSE (bad framing or datum),
 *         SL_ESCHEMA (not resolvable against the reader schema, or a null
 *         in a non-nullable column), SL_ENOTFOUND (unknown schema id): the
 *         message is rejected, no row is appended, why says why (route it
 *         to a dead-letter destination); other codes are fatal.
 *     sl_avro_wire_decoder_take(d, &batch)   the rows so far, then empty
 * reader: the output schema (Avro or sluice-derived; see above), kept by
 * the caller; NULL = the writer schema of the first message decoded (the
 * output schema is then unknown, NULL, until a message was decoded). One
 * resolution plan per writer schema id is built on first use and kept. */
typedef struct sl_avro_wire_decoder sl_avro_wire_decoder;
sl_rc sl_avro_wire_decoder_new(sl_avro_resolve_fn resolve, void *arg,
                               const sl_avro_schema *reader,
                               sl_avro_wire_decoder **out, sl_err *err);
const sl_schema *sl_avro_wire_decoder_schema(const sl_avro_wire_decoder *d);
sl_rc sl_avro_wire_decode(sl_avro_wire_decoder *d, const void *msg, size_t n,
                          sl_err *err);
int64_t sl_avro_wire_decoder_rows(const sl_avro_wire_decoder *d);
/* *out = the rows decoded since the last take (possibly 0 rows). */
sl_rc sl_avro_wire_decoder_take(sl_avro_wire_decoder *d, sl_batch **out,
                                sl_err *err);
void sl_avro_wire_decoder_free(sl_avro_wire_decoder *d); /* NULL ok */

/* Encoding batch rows as messages: the datum follows the schema
 * sl_avro_schema_from_sluice(s) builds (register that schema to get the
 * id; sl_avro_wire_encoder_schema gives it). */
typedef struct sl_avro_wire_encoder sl_avro_wire_encoder;
sl_rc sl_avro_wire_encoder_new(const sl_schema *s, int32_t schema_id,
                               sl_avro_wire_encoder **out, sl_err *err);
const sl_avro_schema *sl_avro_wire_encoder_schema(
    const sl_avro_wire_encoder *e);
/* *msg, *n = row `row` of b framed (valid until the next call). b's
 * columns must match s. */
sl_rc sl_avro_wire_encode(sl_avro_wire_encoder *e, const sl_batch *b,
                          int64_t row, const uint8_t **msg, size_t *n,
                          sl_err *err);
void sl_avro_wire_encoder_free(sl_avro_wire_encoder *e); /* NULL ok */

#endif
