/*
 * messages.c: a set of independent messages -> one batch (messages.h).
 * Owns the message buffer, the per-message line map, the checks done at
 * add time and the resume-after-a-bad-message protocol; the parsing itself
 * is the JSON Lines / CSV readers' (jsonl_messages.c, csv_messages.c).
 *
 * Buffer invariants: message i occupies buf[off[i], off[i + 1]), ends with
 * '\n' and starts on line line[i] (0-based, counted from the buffer
 * start; a CSV message with newlines inside quotes spans several lines).
 * off[n] == len and line[n] is the line after the last message.
 */
#include <stdio.h>
#include <string.h>

#include "formats/messages.h"
#include "sluice/jsonl.h"
#include "sluice/mem.h"

#define DEFAULT_MAX_RECORD (16 * 1024 * 1024)

struct sl_msgs {
    sl_msgs_options o;
    sl_schema *schema;
    sl_jsonl_msgs *json;
    sl_csv_msgs *csv;
    char *buf;
    size_t len, cap;
    size_t *off;
    int64_t *line;
    size_t off_cap, line_cap;
    int64_t n;
    uint8_t *bad; /* per message, during decode */
    size_t bad_cap;
    char *tmp;    /* the good messages, compacted */
    size_t tmp_cap;
};

static sl_rc oom(sl_err *err)
{
    return sl_err_set(err, SL_ENOMEM, "out of memory");
}

sl_rc sl_msgs_new(const sl_schema *schema, const sl_msgs_options *o,
                  sl_msgs **out, sl_err *err)
{
    sl_rc rc = SL_OK;
    *out = NULL;
    sl_msgs *m = sl_calloc(1, sizeof *m);
    if (!m)
        return oom(err);
    m->o = *o;
    if (m->o.max_record_bytes <= 0)
        m->o.max_record_bytes = DEFAULT_MAX_RECORD;
    if (!m->o.delimiter)
        m->o.delimiter = ',';
    if (!m->o.quote)
        m->o.quote = '"';
    m->o.name = NULL; /* not kept; the parser has its own copy */
    if (!(m->schema = sl_schema_copy(schema))) {
        rc = oom(err);
        goto out;
    }
    if (o->format == SL_MSG_JSON)
        rc = sl_jsonl_msgs_open(schema, m->o.max_record_bytes, o->name, &m->json, err);
    else
        rc = sl_csv_msgs_open(schema, m->o.delimiter, m->o.quote, m->o.max_record_bytes,
                              o->name, &m->csv, err);
    if (rc != SL_OK)
        goto out;
    if (sl_grow((void **)&m->off, &m->off_cap, 1, sizeof *m->off) != 0 ||
        sl_grow((void **)&m->line, &m->line_cap, 1, sizeof *m->line) != 0) {
        rc = oom(err);
        goto out;
    }
    sl_msgs_clear(m);
out:
    if (rc != SL_OK)
        sl_msgs_free(m);
    else
        *out = m;
    return rc;
}

void sl_msgs_free(sl_msgs *m)
{
    if (!m)
        return;
    sl_jsonl_msgs_close(m->json);
    sl_csv_msgs_close(m->csv);
    sl_schema_free(m->schema);
    sl_free(m->buf);
    sl_free(m->off);
    sl_free(m->line);
    sl_free(m->bad);
    sl_free(m->tmp);
    sl_free(m);
}

const sl_schema *sl_msgs_schema(const sl_msgs *m)
{
    return m->schema;
}

void sl_msgs_clear(sl_msgs *m)
{
    m->n = 0;
    m->len = 0;
    m->off[0] = 0;
    m->line[0] = 0;
}

int64_t sl_msgs_count(const sl_msgs *m)
{
    return m->n;
}

size_t sl_msgs_bytes(const sl_msgs *m)
{
    return m->len;
}

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* JSON: copies v to d turning newlines between tokens into spaces. Returns
 * 0, or -1 when a newline is inside a string (invalid JSON: raw control
 * character). */
static int copy_json(char *d, const char *v, size_t n)
{
    int in_str = 0, esc = 0;
    for (size_t i = 0; i < n; i++) {
        char c = v[i];
        if (in_str) {
            if (esc)
                esc = 0;
            else if (c == '\\')
                esc = 1;
            else if (c == '"')
                in_str = 0;
            else if (c == '\n')
                return -1;
        } else if (c == '"') {
            in_str = 1;
        } else if (c == '\n') {
            c = ' ';
        }
        d[i] = c;
    }
    return 0;
}

/* CSV: checks the quoting of a value (trailing EOL already cut). Returns
 * the number of newlines (all inside quotes), or -1 / -2 for a newline
 * outside quotes / an unterminated quote. */
static int64_t check_csv(const char *v, size_t n, char q)
{
    int in_q = 0;
    int64_t lines = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] == q)
            in_q = !in_q; /* a doubled quote toggles twice */
        else if (v[i] == '\n' || (v[i] == '\r' && !in_q)) {
            if (!in_q)
                return -1;
            lines++;
        }
    }
    return in_q ? -2 : lines;
}

sl_rc sl_msgs_add(sl_msgs *m, const void *value, size_t n, sl_err *why)
{
    const char *v = value ? value : "";
    int64_t lines = 0;
    if (m->o.format == SL_MSG_CSV) {
        if (n > 0 && v[n - 1] == '\n')
            n--;
        if (n > 0 && v[n - 1] == '\r')
            n--;
    }
    /* A leading byte order mark is dropped here, all of them: the readers
     * skip one at the very start of their input only, which would make a
     * message's meaning depend on where it lands in a parse. */
    while (n >= 3 && memcmp(v, "\xEF\xBB\xBF", 3) == 0) {
        v += 3;
        n -= 3;
    }
    size_t i = 0;
    while (i < n && is_ws(v[i]))
        i++;
    if (n == 0 || (i == n && m->o.format == SL_MSG_JSON))
        return sl_err_set(why, SL_EPARSE, "empty message value");
    if ((int64_t)n > m->o.max_record_bytes)
        return sl_err_set(why, SL_EPARSE,
                          "message value longer than max_record_bytes (%lld bytes)",
                          (long long)m->o.max_record_bytes);
    if (m->o.format == SL_MSG_CSV &&
        (memchr(v, '\n', n) || memchr(v, '\r', n) || memchr(v, m->o.quote, n))) {
        lines = check_csv(v, n, m->o.quote);
        if (lines == -1)
            return sl_err_set(why, SL_EPARSE,
                              "the message holds more than one CSV record "
                              "(a line break outside quotes)");
        if (lines == -2)
            return sl_err_set(why, SL_EPARSE,
                              "unterminated quoted field: a quote opened in "
                              "the message is never closed");
    }
    if (sl_grow((void **)&m->buf, &m->cap, m->len + n + 1, 1) != 0 ||
        sl_grow((void **)&m->off, &m->off_cap, (size_t)m->n + 2, sizeof *m->off) != 0 ||
        sl_grow((void **)&m->line, &m->line_cap, (size_t)m->n + 2, sizeof *m->line) != 0)
        return oom(why);
    char *d = m->buf + m->len;
    if (m->o.format == SL_MSG_JSON && memchr(v, '\n', n)) {
        if (copy_json(d, v, n) != 0)
            return sl_err_set(why, SL_EPARSE,
                              "invalid JSON: a raw line break inside a string "
                              "(write it as \\n)");
    } else {
        memcpy(d, v, n);
    }
    d[n] = '\n';
    m->len += n + 1;
    m->n++;
    m->off[m->n] = m->len;
    m->line[m->n] = m->line[m->n - 1] + 1 + lines;
    return SL_OK;
}

static sl_rc parse(sl_msgs *m, const char *buf, size_t len, int64_t nrec,
                   sl_batch **out, sl_err *err)
{
    sl_rc rc;
    *out = NULL;
    if (nrec == 0) {
        rc = SL_EEOF;
    } else if (m->o.format == SL_MSG_JSON) {
        rc = sl_jsonl_msgs_parse(m->json, buf, len, nrec, out, err);
    } else {
        rc = sl_csv_msgs_parse(m->csv, buf, len, nrec, out, err);
    }
    if (rc == SL_EEOF) { /* nothing to parse: an empty batch */
        sl_err_clear(err);
        *out = sl_batch_new(m->schema, 1);
        rc = *out ? SL_OK : oom(err);
    }
    return rc;
}

static int record_error(sl_rc rc, const sl_err *e)
{
    return (rc == SL_EPARSE || rc == SL_ESCHEMA || rc == SL_ELIMIT) && e->line >= 1;
}

/* Index of the message holding absolute line `ln` (binary search). */
static int64_t msg_of_line(const sl_msgs *m, int64_t ln)
{
    int64_t lo = 0, hi = m->n - 1;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo + 1) / 2;
        if (m->line[mid] <= ln)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

/* The reason for a bad message: the parser's message, with the column. */
static void reason_of(const sl_err *e, sl_err *why)
{
    sl_err_clear(why);
    why->code = e->code;
    snprintf(why->field, sizeof why->field, "%s", e->field);
    if (e->col > 0)
        snprintf(why->msg, sizeof why->msg, "byte %lld: %s", (long long)e->col, e->msg);
    else
        snprintf(why->msg, sizeof why->msg, "%s", e->msg);
}

sl_rc sl_msgs_decode(sl_msgs *m, sl_batch **out, sl_msgs_bad_fn bad,
                     void *arg, sl_err *err)
{
    sl_rc rc = SL_OK;
    sl_err e, why;
    int64_t s = 0, nbad = 0;
    *out = NULL;
    if (m->n > 0 && sl_grow((void **)&m->bad, &m->bad_cap, (size_t)m->n, 1) != 0)
        return oom(err);
    if (m->n > 0)
        memset(m->bad, 0, (size_t)m->n);
    /* Phase 1: parse from s; a bad message stops the parse at its line. */
    while (s < m->n) {
        sl_batch *b = NULL;
        sl_err_clear(&e);
        rc = parse(m, m->buf + m->off[s], m->len - m->off[s], m->n - s, &b, &e);
        if (rc == SL_OK) {
            if (nbad == 0) {
                *out = b;
                return SL_OK;
            }
            sl_batch_unref(b);
            break;
        }
        if (!record_error(rc, &e)) {
            if (err)
                *err = e;
            return rc;
        }
        int64_t k = msg_of_line(m, m->line[s] + e.line - 1);
        if (k < s) /* cannot happen: the parse started at message s */
            k = s;
        m->bad[k] = 1;
        nbad++;
        reason_of(&e, &why);
        if (bad && (rc = bad(arg, k, &why, err)) != SL_OK)
            return rc;
        s = k + 1;
    }
    if (m->n == 0)
        return parse(m, NULL, 0, 0, out, err);
    /* Phase 2: the good messages together. */
    size_t tlen = 0;
    if (sl_grow((void **)&m->tmp, &m->tmp_cap, m->len + 1, 1) != 0)
        return oom(err);
    for (int64_t i = 0; i < m->n; i++) {
        if (m->bad[i])
            continue;
        memcpy(m->tmp + tlen, m->buf + m->off[i], m->off[i + 1] - m->off[i]);
        tlen += m->off[i + 1] - m->off[i];
    }
    sl_err_clear(&e);
    rc = parse(m, m->tmp, tlen, m->n - nbad, out, &e);
    if (rc != SL_OK) {
        if (err)
            *err = e;
        if (record_error(rc, &e)) /* the parsers are deterministic */
            rc = sl_err_set(err, SL_EINTERNAL,
                            "message decoding: a message that parsed alone "
                            "failed in the batch: %s", e.msg);
    }
    return rc;
}

sl_rc sl_msgs_infer_json(const void *const *values, const size_t *lens,
                         int64_t n, const sl_schema *override,
                         sl_schema **out, sl_err *err)
{
    sl_rc rc = SL_OK;
    sl_msgs m;
    sl_jsonl_reader *r = NULL;
    sl_err why;
    *out = NULL;
    /* Only the buffer part of an sl_msgs is used (no parser). */
    memset(&m, 0, sizeof m);
    m.o.format = SL_MSG_JSON;
    m.o.max_record_bytes = DEFAULT_MAX_RECORD;
    if (sl_grow((void **)&m.off, &m.off_cap, 1, sizeof *m.off) != 0 ||
        sl_grow((void **)&m.line, &m.line_cap, 1, sizeof *m.line) != 0) {
        rc = oom(err);
        goto out;
    }
    m.off[0] = 0;
    m.line[0] = 0;
    for (int64_t i = 0; i < n; i++) {
        rc = sl_msgs_add(&m, values[i], lens[i], &why);
        if (rc == SL_ENOMEM) {
            rc = oom(err);
            goto out;
        }
    }
    rc = SL_OK;
    sl_jsonl_options jo;
    sl_jsonl_options_init(&jo);
    jo.infer_rows = m.n > 0 ? m.n : 1;
    jo.on_error = SL_ON_ERROR_SKIP;
    if ((rc = sl_jsonl_reader_open_mem(m.buf ? m.buf : "", m.len, "messages", &jo,
                                       override, &r, err)) != SL_OK)
        goto out;
    const sl_schema *s = sl_jsonl_reader_schema(r);
    if (s->n == 0) {
        rc = sl_err_set(err, SL_EPARSE,
                        "cannot infer a schema: none of the %lld sample messages "
                        "is a JSON object with keys", (long long)n);
        goto out;
    }
    if (!(*out = sl_schema_copy(s)))
        rc = oom(err);
out:
    sl_jsonl_reader_close(r, NULL);
    sl_free(m.buf);
    sl_free(m.off);
    sl_free(m.line);
    return rc;
}

/* ---- JSON string literals ---- */

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid
 * (overlongs, surrogates and values above U+10FFFF are invalid). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0;
    if (len == 0 || len > n)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    if ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] > 0x9F) ||
        (c == 0xF0 && s[1] < 0x90) || (c == 0xF4 && s[1] > 0x8F))
        return 0;
    return len;
}

sl_rc sl_json_put_str(char **buf, size_t *len, size_t *cap, const char *s,
                      size_t n)
{
    static const char hex[] = "0123456789abcdef";
    /* worst case: every byte becomes \u00XX */
    if (sl_grow((void **)buf, cap, *len + 6 * n + 3, 1) != 0)
        return SL_ENOMEM;
    char *d = *buf + *len;
    const unsigned char *p = (const unsigned char *)s;
    *d++ = '"';
    for (size_t i = 0; i < n;) {
        unsigned char c = p[i];
        size_t k;
        if (c == '"' || c == '\\') {
            *d++ = '\\';
            *d++ = (char)c;
            i++;
        } else if (c == '\n' || c == '\r' || c == '\t') {
            *d++ = '\\';
            *d++ = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
            i++;
        } else if (c < 0x20 || (c >= 0x80 && (k = utf8_len(p + i, n - i)) == 0)) {
            memcpy(d, "\\u00", 4);
            d[4] = hex[c >> 4];
            d[5] = hex[c & 15];
            d += 6;
            i++;
        } else if (c < 0x80) {
            *d++ = (char)c;
            i++;
        } else {
            memcpy(d, p + i, k);
            d += k;
            i += k;
        }
    }
    *d++ = '"';
    *len = (size_t)(d - *buf);
    return SL_OK;
}
