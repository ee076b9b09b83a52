/*
 * csv_messages.c: the CSV parser of messages.h, built on the CSV reader
 * (csv_reader.c) without changing it. Each message is one CSV record
 * without a header; the columns come from the schema, in field order.
 *
 * One reader lives as long as the message decoder: it is opened over a
 * header line made from the schema's names (every name quoted), with the
 * schema as override and no inference, which fixes names, order, types and
 * nullability. Each parse points the reader's memory input at a new buffer
 * and asks for one batch of exactly nrecords rows, under on_error fail, so
 * a bad record stops the parse and names its line.
 *
 * Relies on these reader internals (csv_scan.h), exercised by
 * tests/unit/test_kafka_messages.c: the memory input fields (mem, mem_len,
 * mem_pos), the buffer window (len, pos, buf_off, eof, line) with its
 * sentinel (csv_set_sentinel), and o.batch_rows / next_cap.
 */
#include <string.h>

#include "formats/csv_scan.h"
#include "formats/messages.h"
#include "sluice/mem.h"

struct sl_csv_msgs {
    sl_csv_reader *r;
};

/* "name1","name2",...\n with quotes doubled inside names. */
static sl_rc header_line(const sl_schema *s, char delim, char quote, char **out,
                         size_t *olen)
{
    size_t need = 2;
    for (int i = 0; i < s->n; i++)
        need += 2 * strlen(s->fields[i].name) + 3;
    char *h = sl_malloc(need), *d = h;
    if (!h)
        return SL_ENOMEM;
    for (int i = 0; i < s->n; i++) {
        if (i > 0)
            *d++ = delim;
        *d++ = quote;
        for (const char *c = s->fields[i].name; *c; c++) {
            if (*c == quote)
                *d++ = quote;
            *d++ = *c;
        }
        *d++ = quote;
    }
    *d++ = '\n';
    *out = h;
    *olen = (size_t)(d - h);
    return SL_OK;
}

sl_rc sl_csv_msgs_open(const sl_schema *schema, char delimiter, char quote,
                       int64_t max_record_bytes, const char *name,
                       sl_csv_msgs **out, sl_err *err)
{
    sl_rc rc;
    char *h = NULL;
    size_t hlen = 0;
    *out = NULL;
    if (schema->n == 0)
        return sl_err_set(err, SL_ECONFIG, "CSV messages need a schema with at least one column");
    sl_csv_msgs *p = sl_calloc(1, sizeof *p);
    if (!p || header_line(schema, delimiter, quote, &h, &hlen) != SL_OK) {
        sl_free(p);
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    }
    sl_csv_options o;
    sl_csv_options_init(&o);
    o.delimiter = delimiter;
    o.quote = quote;
    o.header = 1;
    o.infer_rows = 0;
    o.on_error = SL_ON_ERROR_FAIL;
    o.max_record_bytes = max_record_bytes;
    o.read_bytes = 256 * 1024;
    rc = sl_csv_reader_open_mem(h, hlen, name ? name : "message", &o, schema, &p->r, err);
    if (rc == SL_OK && !sl_schema_equal(sl_csv_reader_schema(p->r), schema))
        rc = sl_err_set(err, SL_EINTERNAL, "CSV message reader: unexpected schema");
    if (rc == SL_OK) {
        p->r->mem = NULL; /* the header buffer is freed below */
        p->r->mem_len = p->r->mem_pos = 0;
        *out = p;
    } else {
        sl_csv_msgs_close(p);
    }
    sl_free(h);
    return rc;
}

sl_rc sl_csv_msgs_parse(sl_csv_msgs *p, const char *buf, size_t len,
                        int64_t nrecords, sl_batch **out, sl_err *err)
{
    sl_csv_reader *r = p->r;
    *out = NULL;
    r->mem = buf;
    r->mem_len = len;
    r->mem_pos = 0;
    r->len = r->pos = 0;
    r->buf_off = 0;
    r->eof = 0;
    r->line = 1;
    csv_set_sentinel(r);
    r->o.batch_rows = nrecords > 0 ? nrecords : 1;
    r->next_cap = r->o.batch_rows;
    sl_rc rc = sl_csv_reader_next(r, out, err);
    r->mem = NULL;
    r->mem_len = r->mem_pos = 0;
    return rc;
}

void sl_csv_msgs_close(sl_csv_msgs *p)
{
    if (!p)
        return;
    sl_csv_reader_close(p->r, NULL);
    sl_free(p);
}
