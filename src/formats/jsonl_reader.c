/*
 * jsonl_reader.c: the JSON Lines reader: schema inference, the columnar row
 * loader and the error policy (API in sluice/jsonl.h). Lines come from
 * jsonl_input.c NUL-terminated, so the scanners of jsonl_parse.c run under
 * their sentinel contract.
 *
 * Opening reads the first infer_rows objects once for inference (only lines
 * that parse completely count), then rewinds. The load pass writes values
 * straight into the current batch's column buffers at row index brow.
 * Invariants of the load pass:
 *  - every column gets exactly one write at row brow per committed line (a
 *    value, or null when the key was absent), including its validity bit,
 *    so stale slots from a rejected line are always overwritten;
 *  - a string column's data end is offsets[brow]; a rejected line leaves
 *    offsets[brow] untouched, which rolls its bytes back for free;
 *  - column lengths and null counts are only set when the batch is sealed
 *    (batch_finish), so a half-parsed line never shows;
 *  - duplicate keys are found with a per-line stamp per column / key, so
 *    nothing is cleared per line.
 */
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jsonl_internal.h"
#include "sluice/jsonl.h"
#include "sluice/log.h"
#include "sluice/mem.h"
#include "sluice/value.h"

void sl_jsonl_options_init(sl_jsonl_options *o)
{
    memset(o, 0, sizeof *o);
    o->infer_rows = SL_JSONL_INFER_ROWS_DEFAULT;
    o->batch_rows = SL_BATCH_ROWS_DEFAULT;
    o->on_error = SL_ON_ERROR_FAIL;
    o->max_record_bytes = SL_JSONL_MAX_RECORD_DEFAULT;
}

/* ------------------------------------------------------------------ */
/* input                                                               */

static sl_rc oom(sl_err *err)
{
    return sl_err_set(err, SL_ENOMEM, "out of memory");
}

/* Room for decoding anything of the current line into scratch / keybuf. */
static sl_rc ensure_scratch(sl_jsonl_reader *r, size_t len, sl_err *err)
{
    if (sl_grow((void **)&r->scratch, &r->scratch_cap, len + 8 + JL_PAD, 1) != 0 ||
        sl_grow((void **)&r->keybuf, &r->keybuf_cap, len + 8 + JL_PAD, 1) != 0)
        return oom(err);
    return SL_OK;
}

static int push_list(sl_jsonl_reader *r, int v)
{
    if ((size_t)r->nlist == r->list_cap &&
        sl_grow((void **)&r->list, &r->list_cap, (size_t)r->nlist + 1, sizeof(int)) != 0)
        return -1;
    r->list[r->nlist++] = v;
    return 0;
}

/* ------------------------------------------------------------------ */
/* values                                                              */

static inline int is_digit(char c)
{
    return (unsigned)((unsigned char)c - '0') < 10u;
}

static void set_null(sl_column *c, int64_t row)
{
    sl_bit_clear(c->validity, row);
    switch (c->type) {
    case SL_BOOL:
        sl_bit_clear(c->values, row);
        break;
    case SL_INT64:
    case SL_TIMESTAMP:
        ((int64_t *)c->values)[row] = 0;
        break;
    case SL_FLOAT64:
        ((double *)c->values)[row] = 0.0;
        break;
    case SL_DATE:
        ((int32_t *)c->values)[row] = 0;
        break;
    case SL_STRING:
        c->offsets[row + 1] = c->offsets[row];
        break;
    default:
        break;
    }
}

static const char *kind_name(char c)
{
    switch (c) {
    case '"': return "string";
    case '{': return "object";
    case '[': return "array";
    case 't':
    case 'f': return "bool";
    default: return "number";
    }
}

/* Where the column's type came from and how to change it, for messages. */
static const char *type_origin(const sl_jsonl_reader *r, const jl_col *jc,
                               const char *want, char *buf, size_t cap)
{
    if (jc->override)
        snprintf(buf, cap, "the type comes from the schema override%s%s",
                 want ? "; use " : "", want ? want : "");
    else if (r->o.infer_rows == 1)
        snprintf(buf, cap,
                 "the type was inferred from the first row; set the column "
                 "to %s in the schema override",
                 want ? want : "another type");
    else
        snprintf(buf, cap,
                 "the type was inferred from the first %lld rows; set the "
                 "column to %s in the schema override",
                 (long long)r->o.infer_rows, want ? want : "another type");
    return buf;
}

/* The value at p does not fit column jc: report the syntax error if it is
 * not even valid JSON, else a type error naming the column. */
static const char *type_error(sl_jsonl_reader *r, const jl_col *jc, int ci,
                              const char *p, const char *end, jl_perr *e)
{
    char ex[64], why[160];
    const char *q = jl_skip_value(p, end, r->scratch, e);
    if (!q)
        return NULL;
    jl_excerpt(p, q, ex, sizeof ex);
    jl_fail(e, p, SL_ESCHEMA, "column '%s': expected %s, found %s %s; %s",
            r->names.names[ci], sl_type_name(jc->type), kind_name(*p), ex,
            type_origin(r, jc, jc->type == SL_NULL ? "another type" : "string", why,
                        sizeof why));
    return NULL;
}

static int grow_data(sl_column *c, int64_t need)
{
    int64_t ncap = c->data_cap ? c->data_cap : 4096;
    while (ncap < need)
        ncap *= 2;
    char *d = sl_realloc(c->data, (size_t)ncap);
    if (!d)
        return -1;
    c->data = d;
    c->data_cap = ncap;
    return 0;
}

/* String columns keep strings decoded and anything else as its JSON text. */
static const char *load_string(sl_jsonl_reader *r, sl_column *c,
                               const char *p, const char *end, jl_perr *e)
{
    int64_t row = r->brow, off = c->offsets[row];
    int64_t need = off + (int64_t)(end - p) + 8;
    size_t n;
    const char *q;
    if (need > c->data_cap && grow_data(c, need) != 0)
        return jl_fail(e, p, SL_ENOMEM, "out of memory");
    if (*p == '"') {
        q = jl_scan_string(p + 1, end, c->data + off, &n, e);
    } else {
        q = jl_skip_value(p, end, r->scratch, e);
        n = q ? (size_t)(q - p) : 0;
        memcpy(c->data + off, p, n);
    }
    if (!q)
        return NULL;
    c->offsets[row + 1] = off + (int64_t)n;
    sl_bit_set(c->validity, row);
    return q;
}

static const char *load_temporal(sl_jsonl_reader *r, jl_col *jc, int ci,
                                 const char *p, const char *end, jl_perr *e)
{
    sl_column *c = jc->c;
    size_t n;
    char ex[64], why[160];
    const char *q = jl_scan_string(p + 1, end, r->scratch, &n, e);
    if (!q)
        return NULL;
    if (jc->type == SL_DATE) {
        int32_t d;
        if (sl_parse_date(r->scratch, n, &d) == 0) {
            ((int32_t *)c->values)[r->brow] = d;
            sl_bit_set(c->validity, r->brow);
            return q;
        }
    } else {
        int64_t t;
        if (sl_parse_timestamp(r->scratch, n, &t) == 0) {
            ((int64_t *)c->values)[r->brow] = t;
            sl_bit_set(c->validity, r->brow);
            return q;
        }
    }
    jl_excerpt(p, q, ex, sizeof ex);
    return jl_fail(e, p, SL_ESCHEMA, "column '%s': %s is not a valid %s; %s",
                   r->names.names[ci], ex,
                   jc->type == SL_DATE ? "date (YYYY-MM-DD)"
                                       : "timestamp (YYYY-MM-DD[T ]HH:MM[:SS[.f]][zone])",
                   type_origin(r, jc, "string", why, sizeof why));
}

/* Parses the value at p into row brow of column ci. */
static const char *load_value(sl_jsonl_reader *r, int ci, const char *p,
                              const char *end, jl_perr *e)
{
    jl_col *jc = &r->cols[ci];
    sl_column *c = jc->c;
    int64_t row = r->brow;
    jl_num num;
    int v;
    char ex[64], why[160];

    if (*p == 'n') { /* only "null" scans as a literal starting with n */
        const char *q = jl_scan_literal(p, end, &v, e);
        if (q && !jc->nullable)
            return jl_fail(e, p, SL_ESCHEMA,
                           "column '%s' is null but the schema says it is not nullable",
                           r->names.names[ci]);
        if (q)
            set_null(c, row);
        return q;
    }
    switch (jc->type) {
    case SL_INT64:
        if (*p != '-' && !is_digit(*p))
            break;
        p = jl_scan_number(p, end, &num, e);
        if (!p)
            return NULL;
        if (!num.fits) {
            jl_excerpt(num.s, p, ex, sizeof ex);
            return jl_fail(e, num.s, SL_ESCHEMA,
                           "column '%s': %s is not an int64 (%s); %s",
                           r->names.names[ci], ex,
                           num.is_int ? "out of range" : "fraction or exponent",
                           type_origin(r, jc, "float64", why, sizeof why));
        }
        ((int64_t *)c->values)[row] = num.i;
        sl_bit_set(c->validity, row);
        return p;
    case SL_FLOAT64:
        if (*p != '-' && !is_digit(*p))
            break;
        p = jl_scan_number(p, end, &num, e);
        if (!p || jl_num_double(&num, &((double *)c->values)[row], e) != 0)
            return NULL;
        sl_bit_set(c->validity, row);
        return p;
    case SL_BOOL:
        if (*p != 't' && *p != 'f')
            break;
        p = jl_scan_literal(p, end, &v, e);
        if (!p)
            return NULL;
        if (v)
            sl_bit_set(c->values, row);
        else
            sl_bit_clear(c->values, row);
        sl_bit_set(c->validity, row);
        return p;
    case SL_STRING:
        return load_string(r, c, p, end, e);
    case SL_DATE:
    case SL_TIMESTAMP:
        if (*p != '"')
            break;
        return load_temporal(r, jc, ci, p, end, e);
    default:
        break;
    }
    return type_error(r, jc, ci, p, end, e);
}

/* ------------------------------------------------------------------ */
/* lines                                                               */


static void field_name(jl_perr *e, const char *k, size_t n)
{
    if (n >= sizeof e->field)
        n = sizeof e->field - 1;
    memcpy(e->field, k, n);
    e->field[n] = '\0';
}

static const char *dup_key(jl_perr *e, const char *at, const char *k, size_t n)
{
    char ex[64];
    jl_excerpt(k, k + n, ex, sizeof ex);
    jl_fail(e, at, SL_EPARSE, "duplicate key '%s'", ex);
    field_name(e, k, n);
    return NULL;
}

/* An unknown key in the load pass: remember it for counting on commit.
 * Returns 0, or -1 with e filled. */
static int note_unknown(sl_jsonl_reader *r, const char *at, const char *k,
                        size_t n, jl_perr *e)
{
    int ui = jl_names_find(&r->unames, k, n);
    if (ui < 0 && r->unames.n >= SL_JSONL_MAX_UNKNOWN && r->unk_other >= 0) {
        ui = r->unk_other;
    } else if (ui < 0) {
        /* Room in unk first, so unk always covers every name. */
        if (sl_grow((void **)&r->unk, &r->unk_cap, (size_t)r->unames.n + 1,
                    sizeof *r->unk) != 0)
            goto nomem;
        int other = r->unames.n >= SL_JSONL_MAX_UNKNOWN;
        ui = other ? jl_names_add(&r->unames, "*", 1) : jl_names_add(&r->unames, k, n);
        if (ui < 0)
            goto nomem;
        memset(&r->unk[ui], 0, sizeof r->unk[ui]);
        if (other)
            r->unk_other = ui;
    }
    if (ui != r->unk_other && r->unk[ui].seen == r->stamp) {
        dup_key(e, at, k, n);
        return -1;
    }
    r->unk[ui].seen = r->stamp;
    if (push_list(r, ui) == 0)
        return 0;
nomem:
    jl_fail(e, at, SL_ENOMEM, "out of memory");
    return -1;
}

/* Name i of t equals k? Inline, because keys are short and the call to
 * memcmp showed up in profiles of the predicted-key fast path. */
static inline int key_eq(const jl_names *t, int i, const char *k, size_t n)
{
    if (t->lens[i] != n)
        return 0;
    return memcmp(t->names[i], k, n) == 0;
}

static inline int plain_key_byte(unsigned char c)
{
    return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

/* Parses one line (an object) in the inference pass (infer != 0) or the
 * load pass. Returns 0, or -1 with e filled. */
static int walk_line(sl_jsonl_reader *r, const char *line, const char *end,
                     int infer, jl_perr *e)
{
    const char *p = jl_ws(line);
    int prev = -1, pred = r->first;
    r->nlist = 0;
    if (*p != '{') {
        jl_unexpected(e, p, end, "'{' (each line must be a JSON object)");
        return -1;
    }
    p = jl_ws(p + 1);
    if (*p == '}') {
        p++;
        goto done;
    }
    for (;;) {
        const char *at = p, *k;
        size_t kn;
        if (*p != '"') {
            jl_unexpected(e, p, end, "a key string");
            return -1;
        }
        k = p + 1;
        p = k;
        while (plain_key_byte((unsigned char)*p))
            p++;
        if (*p == '"') {
            kn = (size_t)(p - k);
            p++;
        } else {
            /* Not into scratch: values decode there while k is in use. */
            p = jl_scan_string(k, end, r->keybuf, &kn, e);
            if (!p)
                return -1;
            k = r->keybuf;
            if (memchr(k, '\0', kn)) {
                jl_fail(e, at, SL_EPARSE, "key contains a NUL character (\\u0000)");
                return -1;
            }
        }
        p = jl_ws(p);
        if (*p != ':') {
            jl_unexpected(e, p, end, "':'");
            return -1;
        }
        p = jl_ws(p + 1);
        if (infer) {
            int ki = jl_infer_key(r, at, k, kn, e);
            if (ki < 0)
                return -1;
            if (r->ks[ki].seen == r->stamp) {
                dup_key(e, at, k, kn);
                return -1;
            }
            r->ks[ki].seen = r->stamp;
            if (push_list(r, ki) != 0) {
                jl_fail(e, at, SL_ENOMEM, "out of memory");
                return -1;
            }
            p = jl_infer_value(r, p, end, &r->ks[ki].pend, e);
        } else {
            int ci = pred;
            if (ci < 0 || !key_eq(&r->names, ci, k, kn))
                ci = jl_names_find(&r->names, k, kn);
            if (ci >= 0) {
                jl_col *jc = &r->cols[ci];
                if (jc->seen == r->stamp) {
                    dup_key(e, at, k, kn);
                    return -1;
                }
                jc->seen = r->stamp;
                if (prev >= 0)
                    r->cols[prev].succ = ci;
                else
                    r->first = ci;
                prev = ci;
                pred = jc->succ;
                p = load_value(r, ci, p, end, e);
                if (!p && !e->field[0])
                    snprintf(e->field, sizeof e->field, "%s", r->names.names[ci]);
            } else {
                p = note_unknown(r, at, k, kn, e) == 0
                        ? jl_skip_value(p, end, r->scratch, e)
                        : NULL;
                if (!p && !e->field[0])
                    field_name(e, k, kn);
            }
        }
        if (!p)
            return -1;
        p = jl_ws(p);
        if (*p == ',') {
            p = jl_ws(p + 1);
            continue;
        }
        if (*p == '}') {
            p++;
            break;
        }
        jl_unexpected(e, p, end, "',' or '}'");
        return -1;
    }
done:
    for (int i = 0; !infer && r->nreq && i < r->schema->n; i++) {
        if (!r->cols[i].nullable && r->cols[i].seen != r->stamp) {
            /* points at the closing brace */
            jl_fail(e, p - 1, SL_ESCHEMA,
                    "column '%s' is missing but the schema says it is not nullable",
                    r->names.names[i]);
            snprintf(e->field, sizeof e->field, "%s", r->names.names[i]);
            return -1;
        }
    }
    p = jl_ws(p);
    if (p != end) {
        jl_unexpected(e, p, end, "end of line after the object");
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* errors                                                              */

/* A bad line: fail, count or send it to the rejects file. Out of memory
 * and exceeded limits other than the record length always fail. */
static sl_rc reject(sl_jsonl_reader *r, const char *line, size_t len,
                    const jl_perr *e, int too_long, sl_err *err)
{
    int64_t col = too_long ? 0 : (int64_t)(e->pos - line) + 1;
    int64_t off = r->in.line_off + (too_long ? 0 : col - 1);
    sl_rc code = too_long ? SL_ELIMIT : e->code;
    char msg[512];
    if (too_long)
        snprintf(msg, sizeof msg,
                 "line longer than max_record_bytes (%lld bytes)",
                 (long long)r->o.max_record_bytes);
    else
        snprintf(msg, sizeof msg, "%s", e->msg);
    if (code == SL_ENOMEM)
        return oom(err);
    if (r->o.on_error == SL_ON_ERROR_FAIL ||
        (code == SL_ELIMIT && !too_long)) {
        sl_err_clear(err);
        sl_err_setloc(err, code, r->name, r->in.line_no, col, "%s", msg);
        if (err) {
            err->offset = off;
            if (!too_long)
                sl_err_field(err, e->field);
        }
        return code;
    }
    char reason[600];
    if (too_long)
        snprintf(reason, sizeof reason, "%s (first %zu bytes kept)", msg, len);
    else
        snprintf(reason, sizeof reason, "col %lld: %s", (long long)col, msg);
    return sl_dlq_write(r->dlq, r->name, r->in.line_no, r->in.line_off, reason, line,
                        len, err);
}

/* ------------------------------------------------------------------ */
/* schema inference                                                    */

static sl_rc sample(sl_jsonl_reader *r, sl_err *err)
{
    int64_t sampled = 0;
    jl_perr e;
    while (sampled < r->o.infer_rows) {
        char *line;
        size_t len;
        int too_long;
        int got = jl_input_line(&r->in, &line, &len, &too_long, err);
        if (got < 0)
            return (sl_rc)got;
        if (got == 0)
            break;
        if (too_long || jl_ws(line) == line + len)
            continue;
        sl_rc rc = ensure_scratch(r, len, err);
        if (rc != SL_OK)
            return rc;
        r->stamp++;
        if (walk_line(r, line, line + len, 1, &e) != 0) {
            /* Bad lines are reported by the load pass; only resource
             * failures stop inference. */
            if (e.code == SL_ENOMEM || e.code == SL_ELIMIT)
                return sl_err_setloc(err, e.code, r->name, r->in.line_no, 0, "%s",
                                     e.msg);
            continue;
        }
        for (int i = 0; i < r->nlist; i++) {
            jl_kstat *k = &r->ks[r->list[i]];
            k->bits |= k->pend;
            if (k->order < 0)
                k->order = r->norder++;
        }
        sampled++;
    }
    return SL_OK;
}

/* ------------------------------------------------------------------ */
/* batches                                                             */

static sl_rc batch_begin(sl_jsonl_reader *r, sl_err *err)
{
    int64_t cap = r->next_cap;
    r->batch = sl_batch_new(r->schema, cap);
    if (!r->batch)
        return oom(err);
    r->bcap = r->schema->n ? r->batch->cols[0]->cap : r->o.batch_rows;
    r->brow = 0;
    for (int i = 0; i < r->schema->n; i++) {
        sl_column *c = r->batch->cols[i];
        r->cols[i].c = c;
        if (!c->validity && !(c->validity = sl_calloc((size_t)(c->cap + 7) / 8, 1)))
            return oom(err);
        if (c->type == SL_STRING && r->cols[i].hint > 0 &&
            grow_data(c, r->cols[i].hint + r->cols[i].hint / 8) != 0)
            return oom(err);
    }
    return SL_OK;
}

static sl_rc batch_grow(sl_jsonl_reader *r, sl_err *err)
{
    int64_t ncap = r->bcap * 2 < r->o.batch_rows ? r->bcap * 2 : r->o.batch_rows;
    for (int i = 0; i < r->schema->n; i++)
        if (sl_column_reserve(r->cols[i].c, ncap, 0) != SL_OK)
            return oom(err);
    r->bcap = ncap;
    return SL_OK;
}

static int64_t count_valid(const uint8_t *bits, int64_t n)
{
    int64_t k = 0, i = 0;
    for (; i + 64 <= n; i += 64) {
        uint64_t w;
        memcpy(&w, bits + i / 8, 8);
        k += __builtin_popcountll(w);
    }
    for (; i < n; i++)
        k += sl_bit_get(bits, i);
    return k;
}

static void batch_finish(sl_jsonl_reader *r)
{
    for (int i = 0; i < r->schema->n; i++) {
        sl_column *c = r->cols[i].c;
        c->length = r->brow;
        c->null_count = r->brow - count_valid(c->validity, r->brow);
        if (c->type == SL_STRING)
            r->cols[i].hint = c->offsets[r->brow];
        r->cols[i].c = NULL;
    }
    r->batch->nrows = r->brow;
    r->rows += r->brow;
    if (r->brow == r->o.batch_rows)
        r->next_cap = r->o.batch_rows;
}

static void commit_row(sl_jsonl_reader *r)
{
    for (int i = 0; i < r->schema->n; i++)
        if (r->cols[i].seen != r->stamp)
            set_null(r->cols[i].c, r->brow);
    for (int i = 0; i < r->nlist; i++) {
        jl_unk *u = &r->unk[r->list[i]];
        u->count++;
        if (!u->logged) {
            u->logged = 1;
            sl_log(SL_LOG_WARN, "jsonl",
                   "%s:%lld: key '%s' is not in the schema (it is not in the "
                   "first %lld rows); its values are ignored and counted",
                   r->name, (long long)r->in.line_no, r->unames.names[r->list[i]],
                   (long long)r->o.infer_rows);
        }
    }
    r->brow++;
}

/* ------------------------------------------------------------------ */
/* API                                                                 */

static sl_rc check_options(const sl_jsonl_options *o, sl_err *err)
{
    if (o->infer_rows < 0)
        return sl_err_set(err, SL_EINVAL, "infer_rows must be >= 0");
    if (o->batch_rows < 1)
        return sl_err_set(err, SL_EINVAL, "batch_rows must be >= 1");
    if (o->max_record_bytes < 1 || o->max_record_bytes > ((int64_t)1 << 30))
        return sl_err_set(err, SL_EINVAL,
                          "max_record_bytes must be between 1 and 1073741824");
    if (o->on_error < SL_ON_ERROR_FAIL || o->on_error > SL_ON_ERROR_DLQ)
        return sl_err_set(err, SL_EINVAL, "invalid on_error value");
    if (o->on_error == SL_ON_ERROR_DLQ && (!o->rejects || !*o->rejects))
        return sl_err_set(err, SL_EINVAL,
                          "on_error: dlq needs a rejects file path");
    return SL_OK;
}

static sl_rc open_common(sl_jsonl_reader *r, const sl_jsonl_options *opts,
                         const sl_schema *ovr, sl_err *err)
{
    sl_rc rc;
    if (opts)
        r->o = *opts;
    else
        sl_jsonl_options_init(&r->o);
    r->o.rejects = NULL; /* not kept: the dlq has its own copy */
    if ((rc = check_options(opts ? opts : &r->o, err)) != SL_OK)
        return rc;
    if (r->o.chunk_bytes == 0)
        r->o.chunk_bytes = SL_JSONL_CHUNK_DEFAULT;
    if ((rc = jl_input_init(&r->in, r->name, r->o.chunk_bytes,
                            (size_t)r->o.max_record_bytes, r->total, err)) != SL_OK)
        return rc;
    r->next_cap = r->o.batch_rows < 1024 ? r->o.batch_rows : 1024;
    if (r->o.on_error != SL_ON_ERROR_FAIL &&
        (rc = sl_dlq_open(r->o.on_error == SL_ON_ERROR_DLQ ? opts->rejects : NULL,
                          &r->dlq, err)) != SL_OK)
        return rc;
    if ((rc = sample(r, err)) != SL_OK || (rc = jl_input_rewind(&r->in, err)) != SL_OK ||
        (rc = jl_build_schema(r, ovr, err)) != SL_OK)
        return rc;
    return SL_OK;
}

static sl_jsonl_reader *reader_alloc(const char *name)
{
    sl_jsonl_reader *r = sl_calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->in.fd = -1;
    r->unk_other = -1;
    r->total = -1;
    r->name = sl_strdup(name ? name : "<memory>");
    if (!r->name) {
        sl_free(r);
        return NULL;
    }
    return r;
}

sl_rc sl_jsonl_reader_open(const char *path, const sl_jsonl_options *opts,
                           const sl_schema *override, sl_jsonl_reader **out,
                           sl_err *err)
{
    sl_rc rc;
    struct stat st;
    *out = NULL;
    sl_jsonl_reader *r = reader_alloc(path);
    if (!r)
        return oom(err);
    r->in.fd = open(path, O_RDONLY | O_CLOEXEC);
    if (r->in.fd < 0) {
        rc = sl_err_setloc(err, errno == ENOENT ? SL_ENOTFOUND : SL_EIO, path, 0, 0,
                           "cannot open: %s", strerror(errno));
        goto out;
    }
    if (fstat(r->in.fd, &st) == 0 && S_ISREG(st.st_mode))
        r->total = (int64_t)st.st_size;
    else if (fstat(r->in.fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        rc = sl_err_setloc(err, SL_EIO, path, 0, 0, "cannot read: is a directory");
        goto out;
    }
    rc = open_common(r, opts, override, err);
out:
    if (rc != SL_OK)
        sl_jsonl_reader_close(r, NULL);
    else
        *out = r;
    return rc;
}

sl_rc sl_jsonl_reader_open_mem(const void *data, size_t n, const char *name,
                               const sl_jsonl_options *opts,
                               const sl_schema *override,
                               sl_jsonl_reader **out, sl_err *err)
{
    *out = NULL;
    sl_jsonl_reader *r = reader_alloc(name);
    if (!r)
        return oom(err);
    r->in.mem = data;
    r->in.mem_len = n;
    r->total = (int64_t)n;
    sl_rc rc = open_common(r, opts, override, err);
    if (rc != SL_OK)
        sl_jsonl_reader_close(r, NULL);
    else
        *out = r;
    return rc;
}

const sl_schema *sl_jsonl_reader_schema(const sl_jsonl_reader *r)
{
    return r->schema;
}

static sl_rc fail(sl_jsonl_reader *r, sl_rc rc, sl_err *err)
{
    r->failed = rc;
    if (err)
        r->ferr = *err;
    else
        sl_err_setloc(&r->ferr, rc, r->name, r->in.line_no, 0, "%s", sl_rc_str(rc));
    sl_batch_unref(r->batch);
    r->batch = NULL;
    return rc;
}

sl_rc sl_jsonl_reader_next(sl_jsonl_reader *r, sl_batch **out, sl_err *err)
{
    sl_rc rc;
    jl_perr e;
    *out = NULL;
    if (r->failed) {
        if (err)
            *err = r->ferr;
        return r->failed;
    }
    if (r->done)
        return SL_EEOF;
    if ((rc = batch_begin(r, err)) != SL_OK)
        return fail(r, rc, err);
    while (r->brow < r->o.batch_rows) {
        char *line;
        size_t len;
        int too_long;
        int got = jl_input_line(&r->in, &line, &len, &too_long, err);
        if (got < 0)
            return fail(r, (sl_rc)got, err);
        if (got == 0) {
            r->done = 1;
            break;
        }
        if (too_long) {
            if ((rc = reject(r, line, len, &e, 1, err)) != SL_OK)
                return fail(r, rc, err);
            continue;
        }
        if (jl_ws(line) == line + len)
            continue; /* blank line */
        if ((rc = ensure_scratch(r, len, err)) != SL_OK)
            return fail(r, rc, err);
        if (r->brow == r->bcap && (rc = batch_grow(r, err)) != SL_OK)
            return fail(r, rc, err);
        r->stamp++;
        if (walk_line(r, line, line + len, 0, &e) == 0)
            commit_row(r);
        else if ((rc = reject(r, line, len, &e, 0, err)) != SL_OK)
            return fail(r, rc, err);
    }
    if (r->brow == 0 && r->done) {
        sl_batch_unref(r->batch);
        r->batch = NULL;
        return SL_EEOF;
    }
    batch_finish(r);
    *out = r->batch;
    r->batch = NULL;
    return SL_OK;
}

void sl_jsonl_reader_progress(const sl_jsonl_reader *r, int64_t *done,
                              int64_t *total)
{
    if (done)
        *done = jl_input_done(&r->in);
    if (total)
        *total = r->total;
}

int64_t sl_jsonl_reader_rejected(const sl_jsonl_reader *r)
{
    return r->dlq ? sl_dlq_count(r->dlq) : 0;
}

int64_t sl_jsonl_reader_rows(const sl_jsonl_reader *r)
{
    return r->rows;
}

int sl_jsonl_reader_unknown_keys(const sl_jsonl_reader *r)
{
    return r->unames.n;
}

const char *sl_jsonl_reader_unknown_key(const sl_jsonl_reader *r, int i,
                                        int64_t *count)
{
    if (i < 0 || i >= r->unames.n)
        return NULL;
    if (count)
        *count = r->unk[i].count;
    return r->unames.names[i];
}

sl_rc sl_jsonl_reader_close(sl_jsonl_reader *r, sl_err *err)
{
    if (!r)
        return SL_OK;
    for (int i = 0; i < r->unames.n; i++)
        if (r->unk[i].count > 0)
            sl_log(SL_LOG_INFO, "jsonl", "%s: ignored %lld values of key '%s' (not in the schema)",
                   r->name, (long long)r->unk[i].count, r->unames.names[i]);
    sl_rc rc = sl_dlq_close(r->dlq, err);
    jl_input_free(&r->in);
    sl_batch_unref(r->batch);
    sl_schema_free(r->schema);
    jl_names_free(&r->names);
    jl_names_free(&r->unames);
    sl_free(r->cols);
    sl_free(r->ks);
    sl_free(r->unk);
    sl_free(r->list);
    sl_free(r->scratch);
    sl_free(r->keybuf);
    sl_free(r->name);
    sl_free(r);
    return rc;
}
