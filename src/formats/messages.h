/*
 * messages.h: decoding a set of independent messages (one record each,
 * e.g. Kafka message values) into one columnar batch with a fixed schema,
 * with the project's JSON Lines and CSV parsers. Internal to src/.
 *
 * Usage, per batch of messages:
 *     sl_msgs_clear(m);
 *     for each message: sl_msgs_add(m, value, len, &why)   (may reject it)
 *     sl_msgs_decode(m, &batch, on_bad, arg, err)
 * Message i is the i-th successful add since the last clear. The batch has
 * one row per good message, in add order; on_bad is called once per
 * message that fails to decode (syntax, wrong type for its column, a
 * missing non-nullable column, ...), with the reason, so the caller can
 * route it to a dead-letter destination: nothing is dropped silently.
 *
 * How: the messages are copied into one buffer, one per line, and parsed by
 * a long-lived reader of the format (jsonl_messages.c, csv_messages.c) in
 * one call (the common, all-good case costs one parse). A bad message stops
 * that parse at its line; parsing resumes after it, and once every bad
 * message is known the good ones are parsed again together into the batch.
 * So a good message is parsed at most twice and a bad one once, whatever
 * the number of bad messages (no quadratic behaviour on a topic full of
 * garbage).
 *
 * What add() rejects at once (without parsing): an empty or blank value;
 * JSON: a raw newline inside a string (a newline between tokens is
 * whitespace and is turned into a space, so pretty-printed JSON works);
 * CSV: a value holding more than one record (a newline outside quotes) or
 * an odd number of quotes (an unterminated quoted field, which would
 * otherwise swallow the following messages). One trailing "\n" or "\r\n"
 * of a CSV value is ignored, and so are UTF-8 byte order marks at the start
 * of any value.
 *
 * Bounds: a message longer than max_record_bytes is rejected by the
 * parser; the buffer holds one batch of messages (the caller bounds the
 * count and bytes per batch).
 */
#ifndef SLUICE_FORMATS_MESSAGES_H
#define SLUICE_FORMATS_MESSAGES_H

#include <stddef.h>
#include <stdint.h>

#include "sluice/batch.h"
#include "sluice/error.h"
#include "sluice/schema.h"

typedef enum sl_msg_format { SL_MSG_JSON = 0, SL_MSG_CSV } sl_msg_format;

typedef struct sl_msgs_options {
    sl_msg_format format;
    int64_t max_record_bytes; /* 0 = 16 MiB */
    char delimiter;           /* CSV; 0 = ',' */
    char quote;               /* CSV; 0 = '"' (quoting cannot be disabled) */
    const char *name;         /* for messages, e.g. "kafka"; may be NULL */
} sl_msgs_options;

typedef struct sl_msgs sl_msgs;

/* Called for each message that fails to decode: idx is its add index, why
 * the reason (why->msg; why->field names the column when known). A non-OK
 * return aborts the decode with that error. */
typedef sl_rc (*sl_msgs_bad_fn)(void *arg, int64_t idx, const sl_err *why,
                                sl_err *err);

/* schema: every column of the batches (copied). CSV: the columns in field
 * order; a CSV message must have exactly schema->n fields. */
sl_rc sl_msgs_new(const sl_schema *schema, const sl_msgs_options *o,
                  sl_msgs **out, sl_err *err);
void sl_msgs_free(sl_msgs *m); /* NULL ok */
const sl_schema *sl_msgs_schema(const sl_msgs *m);
void sl_msgs_clear(sl_msgs *m);
/* SL_OK: added (it gets the next index). SL_EPARSE / SL_ENOMEM: not added;
 * for SL_EPARSE why->msg says why the message is rejected. */
sl_rc sl_msgs_add(sl_msgs *m, const void *value, size_t n, sl_err *why);
int64_t sl_msgs_count(const sl_msgs *m);
/* Bytes buffered (for the caller's batch byte bound). */
size_t sl_msgs_bytes(const sl_msgs *m);
/* *out = a batch of the good messages (possibly 0 rows). */
sl_rc sl_msgs_decode(sl_msgs *m, sl_batch **out, sl_msgs_bad_fn bad,
                     void *arg, sl_err *err);

/* Schema inference from sample messages (JSON only: the JSON Lines
 * reader's inference over them; override as for sl_jsonl_reader_open).
 * Bad samples are ignored. SL_EPARSE when no sample is a JSON object. */
sl_rc sl_msgs_infer_json(const void *const *values, const size_t *lens,
                         int64_t n, const sl_schema *override,
                         sl_schema **out, sl_err *err);

/* ---- per-format parsers (jsonl_messages.c, csv_messages.c) ----
 * parse(): buf holds nlines records separated by '\n' (the last one may
 * end without it). Either *out gets one row per record, or a record error
 * (SL_EPARSE, SL_ESCHEMA, SL_ELIMIT) is returned with err->line = the
 * 1-based line (within buf) where the bad record starts; any other code is
 * a fatal failure. */
typedef struct sl_jsonl_msgs sl_jsonl_msgs;
typedef struct sl_csv_msgs sl_csv_msgs;

sl_rc sl_jsonl_msgs_open(const sl_schema *schema, int64_t max_record_bytes,
                         const char *name, sl_jsonl_msgs **out, sl_err *err);
sl_rc sl_jsonl_msgs_parse(sl_jsonl_msgs *p, const char *buf, size_t len,
                          int64_t nlines, sl_batch **out, sl_err *err);
void sl_jsonl_msgs_close(sl_jsonl_msgs *p);

sl_rc sl_csv_msgs_open(const sl_schema *schema, char delimiter, char quote,
                       int64_t max_record_bytes, const char *name,
                       sl_csv_msgs **out, sl_err *err);
sl_rc sl_csv_msgs_parse(sl_csv_msgs *p, const char *buf, size_t len,
                        int64_t nrecords, sl_batch **out, sl_err *err);
void sl_csv_msgs_close(sl_csv_msgs *p);

/* JSON string literal of s[0, n) (quotes included) appended to *buf
 * (grown with sl_grow). Escapes '"', '\\' and control characters; invalid
 * UTF-8 bytes become \u00XX escapes of the byte values (lossless for
 * bytes, always valid JSON), as in the rejects file (dlq.c). */
sl_rc sl_json_put_str(char **buf, size_t *len, size_t *cap, const char *s,
                      size_t n);

#endif
