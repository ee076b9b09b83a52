/*
 * jsonl_messages.c: the JSON parser of messages.h, built on the JSON Lines
 * reader (jsonl_reader.c) without changing it.
 *
 * One reader lives as long as the message decoder, so its schema, column
 * table, key-order prediction and once-per-key warnings persist across
 * batches. It is opened over a one-line sample that names every schema
 * column (all null), with the schema as override: that fixes the column
 * order and types without the "override column not in the sample"
 * warnings. Each parse then points the reader's line input at a new memory
 * buffer and asks for one batch of exactly nlines rows, under on_error
 * fail so a bad line stops the parse and names its line.
 *
 * This file relies on these reader internals (jsonl_internal.h), which its
 * unit tests (tests/unit/test_kafka_messages.c) exercise:
 *  - jl_input_rewind() resets the line input (fd -1: memory) to mem[0..];
 *  - r->done / r->failed are the end and sticky-failure flags of next();
 *  - r->o.batch_rows bounds a batch, r->next_cap sizes the next one.
 * If the reader grows a public "parse these lines" entry point, this file
 * should use it instead.
 */
#include <string.h>

#include "formats/jsonl_internal.h"
#include "formats/messages.h"
#include "sluice/mem.h"

#define MSG_CHUNK (1024 * 1024)

struct sl_jsonl_msgs {
    sl_jsonl_reader *r;
};

sl_rc sl_jsonl_msgs_open(const sl_schema *schema, int64_t max_record_bytes,
                         const char *name, sl_jsonl_msgs **out, sl_err *err)
{
    sl_rc rc = SL_OK;
    char *line = NULL;
    size_t len = 0, cap = 0;
    *out = NULL;
    sl_jsonl_msgs *p = sl_calloc(1, sizeof *p);
    if (!p)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    /* {"a":null,"b":null,...} */
    if (sl_grow((void **)&line, &cap, 2, 1) != 0)
        goto nomem;
    line[len++] = '{';
    for (int i = 0; i < schema->n; i++) {
        const char *nm = schema->fields[i].name;
        if (i > 0) {
            if (sl_grow((void **)&line, &cap, len + 1, 1) != 0)
                goto nomem;
            line[len++] = ',';
        }
        if (sl_json_put_str(&line, &len, &cap, nm, strlen(nm)) != SL_OK ||
            sl_grow((void **)&line, &cap, len + 6, 1) != 0)
            goto nomem;
        memcpy(line + len, ":null", 5);
        len += 5;
    }
    if (sl_grow((void **)&line, &cap, len + 1, 1) != 0)
        goto nomem;
    line[len++] = '}';
    sl_jsonl_options o;
    sl_jsonl_options_init(&o);
    o.infer_rows = 1;
    o.on_error = SL_ON_ERROR_FAIL;
    o.max_record_bytes = max_record_bytes;
    o.chunk_bytes = MSG_CHUNK;
    if ((rc = sl_jsonl_reader_open_mem(line, len, name ? name : "message", &o, schema,
                                       &p->r, err)) != SL_OK)
        goto out;
    /* The sample was small, so was the input buffer: give it the chunk
     * size now (it never needs to grow for lines shorter than that). */
    jl_input_free(&p->r->in);
    if ((rc = jl_input_init(&p->r->in, p->r->name, MSG_CHUNK, (size_t)max_record_bytes, -1,
                            err)) != SL_OK)
        goto out;
    p->r->in.fd = -1;
    if (!sl_schema_equal(sl_jsonl_reader_schema(p->r), schema)) {
        rc = sl_err_set(err, SL_EINTERNAL, "JSON message reader: unexpected schema");
        goto out;
    }
    goto out;
nomem:
    rc = sl_err_set(err, SL_ENOMEM, "out of memory");
out:
    sl_free(line);
    if (rc != SL_OK)
        sl_jsonl_msgs_close(p);
    else
        *out = p;
    return rc;
}

sl_rc sl_jsonl_msgs_parse(sl_jsonl_msgs *p, const char *buf, size_t len,
                          int64_t nlines, sl_batch **out, sl_err *err)
{
    sl_jsonl_reader *r = p->r;
    *out = NULL;
    r->in.mem = buf;
    r->in.mem_len = len;
    sl_rc rc = jl_input_rewind(&r->in, err);
    if (rc != SL_OK)
        return rc;
    r->done = 0;
    r->failed = SL_OK;
    r->o.batch_rows = nlines > 0 ? nlines : 1;
    r->next_cap = r->o.batch_rows;
    rc = sl_jsonl_reader_next(r, out, err);
    /* nothing of the caller's buffer may be used after this call */
    r->in.mem = NULL;
    r->in.mem_len = 0;
    return rc;
}

void sl_jsonl_msgs_close(sl_jsonl_msgs *p)
{
    if (!p)
        return;
    sl_jsonl_reader_close(p->r, NULL);
    sl_free(p);
}
