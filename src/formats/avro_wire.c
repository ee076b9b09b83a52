/*
 * avro_wire.c: the Confluent wire format for Kafka values (magic byte 0,
 * 4-byte big-endian schema id, one Avro binary datum): decoding messages
 * into batch rows through a schema resolver, and encoding batch rows.
 *
 * A decoder keeps one row program per writer schema id (built on first
 * use). A message that fails leaves no trace in the batch: its row is
 * rolled back column by column, so the caller can send it to a
 * dead-letter destination and go on.
 */
#include <string.h>

#include "avro_internal.h"
#include "sluice/mem.h"

static sl_rc nomem(sl_err *err)
{
    return sl_err_set(err, SL_ENOMEM, "out of memory");
}

sl_rc sl_avro_wire_parse_header(const void *msg, size_t n, int32_t *id, sl_err *err)
{
    const uint8_t *p = msg;
    if (n < SL_AVRO_WIRE_HEADER_BYTES)
        return sl_err_set(err, SL_EPARSE, "message of %zu bytes is shorter than the 5-byte "
                                          "Confluent header", n);
    if (p[0] != 0)
        return sl_err_set(err, SL_EPARSE, "message does not start with the Confluent magic byte 0 "
                                          "(got 0x%02x): not Schema Registry Avro", p[0]);
    *id = (int32_t)((uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 8 | p[4]);
    return SL_OK;
}

void sl_avro_wire_put_header(uint8_t out[SL_AVRO_WIRE_HEADER_BYTES], int32_t id)
{
    uint32_t u = (uint32_t)id;
    out[0] = 0;
    out[1] = (uint8_t)(u >> 24);
    out[2] = (uint8_t)(u >> 16);
    out[3] = (uint8_t)(u >> 8);
    out[4] = (uint8_t)u;
}

/* ---- decoder ---- */

typedef struct id_prog {
    int32_t id;
    av_prog *prog;
} id_prog;

struct sl_avro_wire_decoder {
    sl_avro_resolve_fn resolve;
    void *arg;
    const sl_avro_schema *reader; /* caller's, or the first writer's */
    id_prog *progs;
    size_t nprogs, cap;
    sl_schema *schema;
    sl_batch *batch;
    av_dec dec;
};

sl_rc sl_avro_wire_decoder_new(sl_avro_resolve_fn resolve, void *arg, const sl_avro_schema *reader,
                               sl_avro_wire_decoder **out, sl_err *err)
{
    *out = NULL;
    if (!resolve)
        return sl_err_set(err, SL_EINVAL, "a schema resolver is required");
    sl_avro_wire_decoder *d = sl_calloc(1, sizeof *d);
    if (!d)
        return nomem(err);
    d->resolve = resolve;
    d->arg = arg;
    d->reader = reader;
    if (reader) {
        av_prog *p;
        sl_rc rc = av_prog_build(reader, NULL, NULL, 0, &p, err);
        if (rc == SL_OK) {
            /* the reader's own view fixes the output schema up front */
            d->schema = reader->sluice ? sl_schema_copy(reader->sluice) : p->schema;
            if (!reader->sluice)
                p->schema = NULL;
            av_prog_free(p);
            if (!d->schema)
                rc = nomem(err);
        }
        if (rc != SL_OK) {
            sl_avro_wire_decoder_free(d);
            return rc;
        }
    }
    *out = d;
    return SL_OK;
}

void sl_avro_wire_decoder_free(sl_avro_wire_decoder *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->nprogs; i++)
        av_prog_free(d->progs[i].prog);
    sl_free(d->progs);
    sl_schema_free(d->schema);
    sl_batch_unref(d->batch);
    av_dec_free(&d->dec);
    sl_free(d);
}

const sl_schema *sl_avro_wire_decoder_schema(const sl_avro_wire_decoder *d)
{
    return d->schema;
}

int64_t sl_avro_wire_decoder_rows(const sl_avro_wire_decoder *d)
{
    return d->batch ? d->batch->nrows : 0;
}

static sl_rc prog_for(sl_avro_wire_decoder *d, int32_t id, const av_prog **out, sl_err *err)
{
    for (size_t i = 0; i < d->nprogs; i++)
        if (d->progs[i].id == id) {
            *out = d->progs[i].prog;
            return SL_OK;
        }
    const sl_avro_schema *ws = NULL;
    sl_rc rc = d->resolve(d->arg, id, &ws, err);
    if (rc != SL_OK)
        return rc;
    if (!d->reader)
        d->reader = ws; /* the first writer schema is the output schema */
    av_prog *p;
    if ((rc = av_prog_build(ws, d->reader == ws ? NULL : d->reader, NULL, 0, &p, err)) != SL_OK) {
        sl_err_prefix(err, "schema id %d", (int)id);
        return rc == SL_ENOMEM ? rc : SL_ESCHEMA;
    }
    if (!d->schema && !(d->schema = sl_schema_copy(p->schema))) {
        av_prog_free(p);
        return nomem(err);
    }
    if (!sl_schema_equal(d->schema, p->schema)) {
        av_prog_free(p);
        return sl_err_set(err, SL_ESCHEMA, "schema id %d reads as other columns than the decoder's "
                                           "schema", (int)id);
    }
    void *v = d->progs;
    if (sl_grow(&v, &d->cap, d->nprogs + 1, sizeof *d->progs) != 0) {
        av_prog_free(p);
        return nomem(err);
    }
    d->progs = v;
    d->progs[d->nprogs].id = id;
    d->progs[d->nprogs++].prog = p;
    *out = p;
    return SL_OK;
}

sl_rc sl_avro_wire_decode(sl_avro_wire_decoder *d, const void *msg, size_t n, sl_err *err)
{
    int32_t id;
    const av_prog *p = NULL;
    sl_rc rc = sl_avro_wire_parse_header(msg, n, &id, err);
    if (rc != SL_OK || (rc = prog_for(d, id, &p, err)) != SL_OK)
        return rc;
    if (!d->batch && !(d->batch = sl_batch_new(d->schema, 1024)))
        return nomem(err);
    sl_batch *b = d->batch;
    for (int j = 0; j < b->schema->n; j++)
        if (sl_column_reserve(b->cols[j], 1, 0) != SL_OK)
            return nomem(err);
    av_rd rd = {(const uint8_t *)msg + SL_AVRO_WIRE_HEADER_BYTES, (const uint8_t *)msg + n};
    rc = av_decode_row(p, &d->dec, &rd, b->cols, err);
    if (rc == SL_OK && rd.p != rd.end)
        rc = sl_err_set(err, SL_EPARSE, "%zu bytes follow the datum", (size_t)(rd.end - rd.p));
    if (rc != SL_OK) {
        for (int j = 0; j < b->schema->n; j++)
            sl_column_truncate(b->cols[j], b->nrows);
        if (rc == SL_ELIMIT)
            rc = SL_EPARSE; /* an oversized value rejects the message only */
        if (rc == SL_EPARSE || rc == SL_ESCHEMA)
            sl_err_prefix(err, "schema id %d", (int)id);
        return rc;
    }
    b->nrows++;
    return SL_OK;
}

sl_rc sl_avro_wire_decoder_take(sl_avro_wire_decoder *d, sl_batch **out, sl_err *err)
{
    *out = NULL;
    if (!d->schema)
        return sl_err_set(err, SL_EINVAL, "no message decoded yet: the output schema is unknown");
    if (!d->batch && !(d->batch = sl_batch_new(d->schema, 8)))
        return nomem(err);
    *out = d->batch;
    d->batch = NULL;
    return SL_OK;
}

/* ---- encoder ---- */

struct sl_avro_wire_encoder {
    av_enc *enc;
    int32_t id;
    pq_buf buf;
};

sl_rc sl_avro_wire_encoder_new(const sl_schema *s, int32_t id, sl_avro_wire_encoder **out,
                               sl_err *err)
{
    *out = NULL;
    sl_avro_wire_encoder *e = sl_calloc(1, sizeof *e);
    if (!e)
        return nomem(err);
    e->id = id;
    sl_rc rc = av_enc_new(s, NULL, &e->enc, err);
    if (rc != SL_OK) {
        sl_free(e);
        return rc;
    }
    *out = e;
    return SL_OK;
}

const sl_avro_schema *sl_avro_wire_encoder_schema(const sl_avro_wire_encoder *e)
{
    return e->enc->avro;
}

sl_rc sl_avro_wire_encode(sl_avro_wire_encoder *e, const sl_batch *b, int64_t row,
                          const uint8_t **msg, size_t *n, sl_err *err)
{
    uint8_t h[SL_AVRO_WIRE_HEADER_BYTES];
    int64_t next;
    if (row < 0 || row >= b->nrows)
        return sl_err_set(err, SL_EINVAL, "row %lld out of range", (long long)row);
    sl_rc rc = av_enc_check(e->enc, b, err);
    if (rc != SL_OK)
        return rc;
    sl_avro_wire_put_header(h, e->id);
    e->buf.len = 0;
    if (pq_buf_append(&e->buf, h, sizeof h) != 0)
        return nomem(err);
    if ((rc = av_enc_rows(e->enc, b, row, row + 1, SIZE_MAX, &e->buf, &next, err)) != SL_OK)
        return rc;
    *msg = e->buf.p;
    *n = e->buf.len;
    return SL_OK;
}

void sl_avro_wire_encoder_free(sl_avro_wire_encoder *e)
{
    if (!e)
        return;
    av_enc_free(e->enc);
    pq_buf_free(&e->buf);
    sl_free(e);
}
