/*
 * Fuzz target for the predict request parser (src/serving/request.c): the
 * input is an HTTP request body. The schema has every type, a nullable
 * and a non-nullable field, and an ignored target; the first byte's low
 * bit picks whether unknown features are errors or skipped (the byte is
 * part of the body too, so plain JSON seeds work). Checks: no crash or
 * leak, an error always has a message that makes a valid JSON error body,
 * and a parsed batch is well formed
 * (one row per instance, lengths, null counts, null slots zeroed, the
 * non-nullable fields without nulls, the target all null).
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "serving/internal.h"
#include "sluice/log.h"
#include "sluice/mem.h"

#define CHECK(x)                                                               \
    do {                                                                       \
        if (!(x))                                                              \
            abort();                                                           \
    } while (0)

static sl_schema *schema(void)
{
    static sl_schema *s;
    if (s)
        return s;
    s = sl_schema_new();
    CHECK(s);
    CHECK(sl_schema_add(s, "color", SL_STRING, 0, NULL) == SL_OK);
    CHECK(sl_schema_add(s, "x", SL_FLOAT64, 1, NULL) == SL_OK);
    CHECK(sl_schema_add(s, "y", SL_FLOAT64, 0, NULL) == SL_OK);
    CHECK(sl_schema_add(s, "n", SL_INT64, 0, NULL) == SL_OK);
    CHECK(sl_schema_add(s, "b", SL_BOOL, 1, NULL) == SL_OK);
    CHECK(sl_schema_add(s, "d", SL_DATE, 1, NULL) == SL_OK);
    CHECK(sl_schema_add(s, "t", SL_TIMESTAMP, 1, NULL) == SL_OK);
    CHECK(sl_schema_add(s, "label", SL_STRING, 0, NULL) == SL_OK);
    return s;
}

static void check_batch(const sl_batch *b, const sl_schema *s)
{
    CHECK(b->nrows >= 1 && b->nrows <= 1000);
    CHECK(b->schema->n == s->n);
    for (int j = 0; j < s->n; j++) {
        const sl_column *c = b->cols[j];
        int64_t nulls = 0;
        CHECK(c->length == b->nrows && c->type == s->fields[j].type);
        for (int64_t i = 0; i < b->nrows; i++) {
            int valid = sl_col_valid(c, i);
            nulls += !valid;
            if (valid)
                continue;
            if (c->type == SL_STRING)
                CHECK(c->offsets[i] == c->offsets[i + 1]);
            else if (c->type == SL_FLOAT64 || c->type == SL_INT64 || c->type == SL_TIMESTAMP)
                CHECK(((const int64_t *)c->values)[i] == 0);
        }
        CHECK(nulls == c->null_count);
        if (j == 7)
            CHECK(nulls == b->nrows);
        else if (!s->fields[j].nullable)
            CHECK(nulls == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sl_log_setup(SL_LOG_OFF, SL_LOG_TEXT);
    sv_input in = {.schema = schema(), .ignore_field = 7,
                   .unknown_error = size > 0 ? (data[0] & 1) : 1, .max_instances = 1000};
    sl_batch *b = NULL;
    sl_err e;
    sl_err_clear(&e);
    sl_rc rc = sv_parse_request(&in, (const char *)data, size, &b, &e);
    if (rc == SL_OK) {
        CHECK(b);
        check_batch(b, in.schema);
        sl_batch_unref(b);
    } else {
        CHECK(!b && e.msg[0]);
        /* the error body the server sends is valid JSON whatever the input */
        sl_strbuf body = {0};
        const char *code;
        sv_status_for(rc, &code);
        sv_error_json(&body, code, e.msg);
        char *text = sl_sb_take(&body, NULL);
        if (text) {
            json_t *j = json_loads(text, 0, NULL);
            CHECK(j);
            json_decref(j);
            sl_free(text);
        }
        CHECK(rc == SL_EPARSE || rc == SL_EINVAL || rc == SL_ESCHEMA || rc == SL_ELIMIT ||
              rc == SL_ENOMEM);
    }
    return 0;
}
