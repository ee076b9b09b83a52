/*
 * Fuzz target for the message decoders (src/formats/messages.h), the path
 * every Kafka message value takes.
 *
 * Input: the first byte picks the format (even: JSON, odd: CSV) and a
 * small max_record_bytes now and then; the rest is split at 0x1e bytes into
 * messages. A fixed schema (int64, string, float64, bool, date, timestamp)
 * is used. Checks: no crash or leak; every message is either added and then
 * either a row or reported bad exactly once (in increasing order), or
 * rejected by add; the batch is well formed; the decoder is reusable (the
 * same input decoded twice gives the same rows).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/messages.h"
#include "sluice/log.h"
#include "sluice/mem.h"

#define CHECK(x)                                                               \
    do {                                                                       \
        if (!(x))                                                              \
            abort();                                                           \
    } while (0)

typedef struct seen {
    int64_t n, last;
} seen;

static sl_rc on_bad(void *arg, int64_t idx, const sl_err *why, sl_err *err)
{
    (void)err;
    seen *s = arg;
    CHECK(idx > s->last);
    CHECK(why->msg[0] != '\0');
    s->last = idx;
    s->n++;
    return SL_OK;
}

static void check_batch(const sl_batch *b)
{
    for (int j = 0; j < b->schema->n; j++) {
        const sl_column *c = b->cols[j];
        int64_t nulls = 0;
        CHECK(c->length == b->nrows);
        for (int64_t i = 0; i < b->nrows; i++)
            nulls += !sl_col_valid(c, i);
        CHECK(nulls == c->null_count);
        if (c->type == SL_STRING)
            for (int64_t i = 0; i < b->nrows; i++)
                CHECK(c->offsets[i] <= c->offsets[i + 1]);
    }
}

static int64_t run(sl_msgs *m, const uint8_t *data, size_t size, seen *s, sl_batch **b)
{
    int64_t added = 0;
    sl_msgs_clear(m);
    size_t start = 0;
    for (size_t i = 0; i <= size; i++) {
        if (i < size && data[i] != 0x1e)
            continue;
        if (sl_msgs_add(m, data + start, i - start, NULL) == SL_OK)
            added++;
        start = i + 1;
    }
    CHECK(sl_msgs_count(m) == added);
    s->n = 0;
    s->last = -1;
    sl_rc rc = sl_msgs_decode(m, b, on_bad, s, NULL);
    if (rc != SL_OK) { /* only resource limits may fail a decode */
        CHECK(rc == SL_ENOMEM);
        *b = NULL;
    }
    return added;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    if (!init) {
        sl_log_setup(SL_LOG_OFF, SL_LOG_TEXT);
        init = 1;
    }
    if (size < 1)
        return 0;
    sl_schema *schema = sl_schema_new();
    sl_schema_add(schema, "i", SL_INT64, 1, NULL);
    sl_schema_add(schema, "s", SL_STRING, 1, NULL);
    sl_schema_add(schema, "f", SL_FLOAT64, 1, NULL);
    sl_schema_add(schema, "b", SL_BOOL, 1, NULL);
    sl_schema_add(schema, "d", SL_DATE, 1, NULL);
    sl_schema_add(schema, "t", SL_TIMESTAMP, 0, NULL);
    sl_msgs_options o = {.format = (data[0] & 1) ? SL_MSG_CSV : SL_MSG_JSON,
                         .max_record_bytes = (data[0] & 6) == 6 ? 16 : 0};
    sl_msgs *m = NULL;
    if (sl_msgs_new(schema, &o, &m, NULL) == SL_OK) {
        seen s1, s2;
        sl_batch *b1 = NULL, *b2 = NULL;
        int64_t added = run(m, data + 1, size - 1, &s1, &b1);
        if (b1) {
            check_batch(b1);
            CHECK(b1->nrows + s1.n == added);
            run(m, data + 1, size - 1, &s2, &b2);
            CHECK(b2 && b2->nrows == b1->nrows && s2.n == s1.n);
        }
        sl_batch_unref(b1);
        sl_batch_unref(b2);
    }
    sl_msgs_free(m);
    sl_schema_free(schema);
    return 0;
}
