/*
 * kafka_avro.h: Avro message values with Confluent framing (magic byte 0,
 * 4-byte big-endian schema id, one Avro datum) for the Kafka source and
 * sink (`format: avro`). Internal to src/ingestion; the wire format itself
 * is formats/avro_wire.c.
 *
 * Schema source (both plugins): `schema_registry`, a Confluent Schema
 * Registry URL (http:// only; `${VAR}` and `@file` resolved as for
 * librdkafka properties; user:password@ in it is basic auth and is shown
 * as `***@` in every message), and/or `schema_dir`, a directory of
 * <id>.avsc files (looked up first). One of them is required.
 *
 * Source. Columns come from a reader schema (the `schema` key: an Avro
 * .avsc, resolved with Avro's rules, or a sluice schema JSON, columns by
 * name with sluice's casts; else the spec's `schema:` / --transform input
 * schema as a sluice schema) or, without one, from the writer schema of
 * the first message whose schema id is found. Per message:
 *   - dead letter (the source's on_error path, with the reason): a null
 *     value, a value longer than max_record_bytes, no Confluent header,
 *     a schema id the registry / directory does not have or that is not an
 *     Avro schema (remembered per id, up to 1024 unknown ids: one lookup
 *     each), a datum that does not decode (truncated, trailing bytes,
 *     invalid UTF-8, a null in a non-nullable column);
 *   - run error: the registry cannot be reached or answers nonsense (the
 *     URL is in the message), a broken .avsc in schema_dir, and a writer
 *     schema that cannot be resolved to the reader schema at all (SL_ECONFIG
 *     naming the schema id and the field): that is a deployment problem,
 *     not a bad record, and dead-lettering every record of a producer that
 *     changed its schema incompatibly would hide it.
 *
 * Sink. The writer schema is sl_avro_schema_from_sluice(batch schema);
 * its id is, in this order:
 *   - `schema_id` given: checked against the registry / directory (the
 *     schema with that id must have the rows' binary layout: same fields,
 *     names and types in the same order; record names, docs and defaults
 *     may differ); with only a directory that lacks <id>.avsc, the file is
 *     written;
 *   - `schema_registry` given: registered under `subject` (default
 *     `<topic>-value`, Confluent's TopicNameStrategy), which returns the
 *     existing id when the subject already has this schema;
 *   - `schema_dir` only: the id of a <id>.avsc there with the rows'
 *     layout, else the next free id (highest + 1), written as <id>.avsc
 *     (never overwriting: a concurrent writer of the same id makes us
 *     look again).
 */
#ifndef SLUICE_KAFKA_AVRO_H
#define SLUICE_KAFKA_AVRO_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/batch.h"
#include "sluice/error.h"
#include "sluice/schema.h"

/* The Avro keys of a plugin section, as configured (strings may be NULL). */
typedef struct sl_kavro_opts {
    const char *section;   /* "source 'kafka'", for messages */
    const char *registry;  /* schema_registry (raw, may hold ${VAR}) */
    const char *dir;       /* schema_dir */
    int64_t max_record_bytes; /* source: longer values are dead letters */
    int64_t schema_id;     /* sink: 0 = not given */
    const char *subject;   /* sink */
    const char *topic;     /* sink: the default subject is <topic>-value */
} sl_kavro_opts;

/* The format is not avro: SL_ECONFIG when an Avro-only key is set. */
sl_rc sl_kavro_check_unused(const sl_kavro_opts *o, sl_err *err);

/* ---- source ---- */
typedef struct sl_kavro_src sl_kavro_src;

/* Checks the keys and opens the schema source (no request is made). */
sl_rc sl_kavro_src_new(const sl_kavro_opts *o, sl_kavro_src **out, sl_err *err);
/* The reader schema: schema_path (the `schema` key) or else hint; both
 * NULL = columns from the first decodable message (sl_kavro_src_probe). */
sl_rc sl_kavro_src_reader(sl_kavro_src *a, const char *schema_path,
                          const sl_schema *hint, sl_err *err);
/* Without a reader schema: takes the columns from this message's writer
 * schema when its id is found (sl_kavro_src_schema is then set); a
 * message that cannot give them is left for decode to reject. Non-OK:
 * a run error. */
sl_rc sl_kavro_src_probe(sl_kavro_src *a, const void *value, size_t n,
                         sl_err *err);
/* The columns of the decoded rows; NULL until known. */
const sl_schema *sl_kavro_src_schema(const sl_kavro_src *a);
/* A message that is a dead letter: i is its index, why the reason. A
 * non-OK return stops the decode with that error. */
typedef sl_rc (*sl_kavro_reject_fn)(void *arg, int64_t i, const char *why,
                                    sl_err *err);
/* Decodes n messages in order: *out gets one row per good message (row[i]
 * = its row, -1 for a dead letter), reject is called for each bad one in
 * turn. Non-OK: a run error (nothing in *out). */
sl_rc sl_kavro_src_decode(sl_kavro_src *a, rd_kafka_message_t *const *m,
                          int64_t n, int64_t *row, sl_kavro_reject_fn reject,
                          void *arg, sl_batch **out, sl_err *err);
void sl_kavro_src_free(sl_kavro_src *a); /* NULL ok */

/* ---- sink ---- */
typedef struct sl_kavro_sink sl_kavro_sink;

/* Checks the keys and opens the schema source (no request is made). */
sl_rc sl_kavro_sink_new(const sl_kavro_opts *o, sl_kavro_sink **out, sl_err *err);
/* Settles the schema id for rows of s (see above) and makes the encoder. */
sl_rc sl_kavro_sink_open(sl_kavro_sink *k, const sl_schema *s, sl_err *err);
int32_t sl_kavro_sink_id(const sl_kavro_sink *k);
/* *msg, *n = row `row` of b, framed (valid until the next call). */
sl_rc sl_kavro_sink_encode(sl_kavro_sink *k, const sl_batch *b, int64_t row,
                           const uint8_t **msg, size_t *n, sl_err *err);
void sl_kavro_sink_free(sl_kavro_sink *k); /* NULL ok */

#endif
