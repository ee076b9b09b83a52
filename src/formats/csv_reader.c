/*
 * csv_reader.c: the streaming CSV reader (csv.h) above the scanner
 * (csv_scan.c): header and column names, type inference over a buffered
 * sample, conversion of fields straight into batch columns, and the
 * handling of bad records (fail / skip / dlq).
 *
 * Invariants:
 *  - During open the sample (first infer_rows records) stays in the
 *    buffer: nothing is consumed, the buffer just grows, and the first
 *    next() parses the sample from memory, so no byte is read twice. The
 *    sample is capped at SAMPLE_MAX_BYTES so a file of huge records cannot
 *    hold everything in memory.
 *  - Every record is checked against max_record_bytes, complete or not,
 *    which bounds the buffer (csv_scan.h has the buffer's invariants).
 *  - Conversion writes values into slot `row` of every column and only
 *    advances row when the whole record converted, so a bad record leaves
 *    nothing behind (the next record overwrites its slots and bits).
 *    There is no per-row struct and no per-field allocation: strings are
 *    copied into the column's data buffer, numbers parsed in place.
 *  - Bad records are fatal under on_error=fail, else counted in
 *    `rejected` (and written to the dlq): never silently dropped.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "csv_scan.h"
#include "sluice/mem.h"

#define SAMPLE_MAX_BYTES ((size_t)64 << 20)
#define SHOW_MAX 40 /* bytes of a bad value quoted in a message */

/* ------------------------------------------------------------------ */
/* errors                                                              */

/* 1-based byte column of `at` on the record's first line, 0 if the record
 * has a newline before it. */
static int64_t column_of(const sl_csv_reader *r, size_t rec_start,
                         const char *at)
{
    const char *s = r->buf + rec_start;
    if (!at || at < s || memchr(s, '\n', (size_t)(at - s)))
        return 0;
    return (int64_t)(at - s) + 1;
}

/* A printable excerpt of a field for messages (doubled quotes shown once,
 * control bytes as '?'). */
static void show(char *dst, size_t cap, const csv_field *f, char q)
{
    const char *p = f->p;
    size_t n = f->n, k = 0, lim = n > SHOW_MAX ? SHOW_MAX : n;
    for (size_t i = 0; i < lim && k + 4 < cap; i++) {
        unsigned char c = (unsigned char)p[i];
        dst[k++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
        if (f->escaped && p[i] == q)
            i++;
    }
    if (n > lim && k + 4 < cap) {
        memcpy(dst + k, "...", 3);
        k += 3;
    }
    dst[k] = '\0';
}

static sl_rc fatal(sl_csv_reader *r, sl_rc code, size_t rec_start,
                   const char *at, int col, sl_err *err, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

static sl_rc fatal(sl_csv_reader *r, sl_rc code, size_t rec_start,
                   const char *at, int col, sl_err *err, const char *fmt, ...)
{
    if (!err)
        return code;
    char msg[SL_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    sl_err_clear(err);
    sl_err_setloc(err, code, r->name, r->line, column_of(r, rec_start, at),
                  "%s", msg);
    if (col >= 0 && r->schema)
        sl_err_field(err, r->schema->fields[col].name);
    err->offset = r->buf_off + (int64_t)rec_start;
    return code;
}

/* A bad record: fatal under on_error=fail; otherwise counted (and written
 * to the rejects file under dlq) and 1 is returned so the caller skips
 * it. Never returns SL_OK. */
static int reject(sl_csv_reader *r, size_t rec_start, size_t rec_end,
                  const char *at, int col, sl_err *err, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

static int reject(sl_csv_reader *r, size_t rec_start, size_t rec_end,
                  const char *at, int col, sl_err *err, const char *fmt, ...)
{
    char reason[SL_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    if (r->o.on_error == SL_ON_ERROR_FAIL)
        return fatal(r, SL_EPARSE, rec_start, at, col, err, "%s", reason);
    r->rejected++;
    if (r->dlq) {
        sl_rc rc = sl_dlq_write(r->dlq, r->name, r->line,
                                r->buf_off + (int64_t)rec_start, reason,
                                r->buf + rec_start, rec_end - rec_start, err);
        if (rc != SL_OK)
            return rc;
    }
    return 1;
}

static sl_rc too_long(sl_csv_reader *r, sl_err *err)
{
    return fatal(r, SL_ELIMIT, r->pos, NULL, -1, err,
                 "record is longer than max_record_bytes (%lld bytes); an "
                 "unbalanced quote makes the rest of the file one record. "
                 "Raise max_record_bytes if the record is real",
                 (long long)r->o.max_record_bytes);
}

/* ------------------------------------------------------------------ */
/* conversion                                                          */

static void set_null_slot(sl_column *c, sl_type t, int64_t row)
{
    switch (t) {
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

/* The validity bitmap is created at a column's first null in the batch,
 * with the rows before it valid; from then on every row writes its bit. */
static int mark_null(sl_column *c, int64_t row)
{
    if (!c->validity) {
        size_t nb = (size_t)(c->cap + 7) / 8;
        c->validity = sl_calloc(nb, 1);
        if (!c->validity)
            return -1;
        memset(c->validity, 0xff, (size_t)(row / 8));
        for (int64_t i = row / 8 * 8; i < row; i++)
            sl_bit_set(c->validity, i);
    }
    sl_bit_clear(c->validity, row);
    return 0;
}

static int put_string(sl_column *c, int64_t row, const csv_field *f, char q)
{
    int64_t off = c->offsets[row];
    if (f->n == 0) {
        c->offsets[row + 1] = off; /* data may still be NULL */
        return 0;
    }
    if (off + (int64_t)f->n > c->data_cap) {
        c->length = row; /* sl_column_reserve measures from offsets[length] */
        if (sl_column_reserve(c, 0, (int64_t)f->n) != SL_OK)
            return -1;
    }
    char *dst = c->data + off;
    if (!f->escaped) {
        memcpy(dst, f->p, f->n);
        dst += f->n;
    } else {
        for (size_t i = 0; i < f->n; i++) {
            *dst++ = f->p[i];
            if (f->p[i] == q)
                i++; /* a doubled quote stands for one */
        }
    }
    c->offsets[row + 1] = off + (int64_t)(dst - (c->data + off));
    return 0;
}

static int parse_into(sl_column *c, sl_type t, int64_t row,
                      const csv_field *f)
{
    switch (t) {
    case SL_INT64:
        return sl_parse_int64(f->p, f->n, &((int64_t *)c->values)[row]);
    case SL_FLOAT64:
        return sl_parse_float64(f->p, f->n, &((double *)c->values)[row]);
    case SL_BOOL: {
        int v;
        if (sl_parse_bool(f->p, f->n, &v) != 0)
            return -1;
        if (v)
            sl_bit_set(c->values, row);
        else
            sl_bit_clear(c->values, row);
        return 0;
    }
    case SL_DATE:
        return sl_parse_date(f->p, f->n, &((int32_t *)c->values)[row]);
    case SL_TIMESTAMP:
        return sl_parse_timestamp(f->p, f->n, &((int64_t *)c->values)[row]);
    default:
        return -1;
    }
}

static int bad_value(sl_csv_reader *r, const csv_rec *rec, size_t from,
                     int j, sl_err *err)
{
    const csv_field *f = &r->fields[j];
    const char *name = r->schema->fields[j].name, *tn = sl_type_name(r->types[j]);
    char shown[SHOW_MAX * 2];
    char hint[300];
    show(shown, sizeof shown, f, r->o.quote);
    if (r->inferred[j])
        snprintf(hint, sizeof hint,
                 "column '%s' was inferred as %s from the first %lld rows; "
                 "set its type in the schema or raise infer_rows",
                 name, tn, (long long)r->sampled);
    else
        snprintf(hint, sizeof hint, "the schema sets column '%s' to %s", name,
                 tn);
    return reject(r, from, rec->end, f->quoted ? f->p - 1 : f->p, j, err,
                  "column '%s': cannot parse '%s' as %s (%s)", name, shown,
                  tn, hint);
}

/* Convert the scanned record at `from` into slot `row`. Returns 0 when
 * the row was filled, 1 when the record was rejected (skip/dlq), or a
 * negative sl_rc. */
static int load_record(sl_csv_reader *r, sl_batch *b, int64_t row,
                       size_t from, const csv_rec *rec, sl_err *err)
{
    if (rec->stray)
        return reject(r, from, rec->end, rec->stray,
                      rec->stray_field < r->ncols ? rec->stray_field : -1, err,
                      "unexpected '%c' after the closing quote of field %d; "
                      "a quote inside a quoted field must be doubled",
                      *rec->stray, rec->stray_field + 1);
    if (rec->nf != r->ncols)
        return reject(r, from, rec->end, NULL, -1, err,
                      "expected %d fields, found %d", r->ncols, rec->nf);
    for (int j = 0; j < r->ncols; j++) {
        const csv_field *f = &r->fields[j];
        sl_column *c = b->cols[j];
        sl_type t = r->types[j];
        if (!f->quoted && csv_is_null(&r->nulls, f->p, f->n)) {
            if (!r->nullable[j])
                return reject(r, from, rec->end, f->p, j, err,
                              "column '%s' is null but the schema says it is "
                              "not nullable",
                              r->schema->fields[j].name);
            if (mark_null(c, row) != 0)
                return sl_err_set(err, SL_ENOMEM, "out of memory");
            set_null_slot(c, t, row);
            continue;
        }
        if (c->validity)
            sl_bit_set(c->validity, row);
        if (t == SL_STRING) {
            if (put_string(c, row, f, r->o.quote) != 0)
                return sl_err_set(err, SL_ENOMEM, "out of memory");
        } else if (parse_into(c, t, row, f) != 0) {
            return bad_value(r, rec, from, j, err);
        }
    }
    return 0;
}

/* Room for one more row in every column (doubling). Lengths are kept
 * equal to `row` while reserving, as sl_column_reserve expects. */
static sl_rc grow_rows(sl_csv_reader *r, sl_batch *b, int64_t row,
                       sl_err *err)
{
    int64_t want = b->cols[0]->cap * 2;
    if (want > r->o.batch_rows)
        want = r->o.batch_rows;
    for (int j = 0; j < r->ncols; j++) {
        sl_column *c = b->cols[j];
        c->length = row;
        if (sl_column_reserve(c, want - row, 0) != SL_OK)
            return sl_err_set(err, SL_ENOMEM, "out of memory");
    }
    return SL_OK;
}

/* Fix lengths and null counts; drop all-valid bitmaps. */
static sl_rc seal(sl_csv_reader *r, sl_batch *b, int64_t rows, sl_err *err)
{
    for (int j = 0; j < r->ncols; j++) {
        sl_column *c = b->cols[j];
        c->length = rows;
        c->null_count = 0;
        if (!c->validity)
            continue;
        for (int64_t i = 0; i < rows; i++)
            c->null_count += !sl_bit_get(c->validity, i);
        if (c->null_count == 0) {
            sl_free(c->validity);
            c->validity = NULL;
        }
    }
    return sl_batch_seal(b, err);
}

sl_rc sl_csv_reader_next(sl_csv_reader *r, sl_batch **out, sl_err *err)
{
    sl_rc rc = SL_OK;
    int64_t row = 0;
    sl_batch *b = NULL;

    *out = NULL;
    if (r->pos == r->len && r->eof)
        return SL_EEOF;
    b = sl_batch_new(r->schema, r->next_cap);
    if (!b) {
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        goto out;
    }
    for (int j = 0; j < r->ncols; j++) {
        b->schema->fields[j].nullable = r->nullable[j];
        /* String data sized like the previous batch's (never NULL, so
         * sl_col_str is valid even when every string is empty). */
        if (r->types[j] == SL_STRING &&
            sl_column_reserve(b->cols[j], 0, r->str_bytes[j]) != SL_OK) {
            rc = sl_err_set(err, SL_ENOMEM, "out of memory");
            goto out;
        }
    }
    while (row < r->o.batch_rows) {
        csv_rec rec;
        int s;
        if (r->pos == r->len) {
            if (r->eof)
                break;
            if ((rc = csv_refill(r, r->pos, NULL, err)) != SL_OK)
                goto out;
            continue;
        }
        s = csv_scan_record(r, r->pos, &rec, r->ncols + 1);
        if (s == SCAN_MORE) {
            if (r->len - r->pos > (uint64_t)r->o.max_record_bytes) {
                rc = too_long(r, err);
                goto out;
            }
            if ((rc = csv_refill(r, r->pos, NULL, err)) != SL_OK)
                goto out;
            continue;
        }
        if (s == SCAN_UNTERMINATED) {
            int k = reject(r, r->pos, r->len, rec.open_quote, -1, err,
                           "unterminated quoted field: the file ends inside "
                           "quotes opened in this record");
            r->pos = r->len; /* the rest of the file is that record */
            if (k < 0) {
                rc = (sl_rc)k;
                goto out;
            }
            continue;
        }
        if (rec.end - r->pos > (uint64_t)r->o.max_record_bytes) {
            rc = too_long(r, err);
            goto out;
        }
        if (!csv_is_blank(r, r->pos, &rec)) {
            if (row == b->cols[0]->cap && (rc = grow_rows(r, b, row, err)) != SL_OK)
                goto out;
            int k = load_record(r, b, row, r->pos, &rec, err);
            if (k < 0) {
                rc = (sl_rc)k;
                goto out;
            }
            row += k == 0;
        }
        r->pos = rec.next;
        r->line += rec.lines;
    }
    if (row == 0) {
        rc = SL_EEOF;
        goto out;
    }
    if ((rc = seal(r, b, row, err)) != SL_OK)
        goto out;
    r->rows += row;
    r->next_cap = row < r->o.batch_rows ? row : r->o.batch_rows;
    for (int j = 0; j < r->ncols; j++)
        if (r->types[j] == SL_STRING)
            r->str_bytes[j] = b->cols[j]->offsets[row] + 64;
    *out = b;
    b = NULL;
out:
    sl_batch_unref(b);
    return rc;
}

/* ------------------------------------------------------------------ */
/* open: header, schema, inference                                     */

/* Make names[j] differ from names[0..j) by appending _2, _3, ... */
static sl_rc dedupe(char **names, int j, sl_err *err)
{
    char *base = names[j];
    for (int dup = 2;; dup++) {
        int clash = 0;
        for (int i = 0; i < j && !clash; i++)
            clash = strcmp(names[i], names[j]) == 0;
        if (!clash)
            break;
        size_t n = strlen(base) + 24;
        char *nn = sl_malloc(n);
        if (!nn) {
            if (names[j] != base)
                sl_free(base); /* names[j] is freed with the array */
            return sl_err_set(err, SL_ENOMEM, "out of memory");
        }
        snprintf(nn, n, "%s_%d", base, dup);
        if (names[j] != base)
            sl_free(names[j]);
        names[j] = nn;
    }
    if (names[j] != base)
        sl_free(base);
    return SL_OK;
}

/* Column names from the header record: quotes removed, doubled quotes
 * collapsed, empty names become cN, duplicates get _2, _3, ... */
static sl_rc header_names(sl_csv_reader *r, int nf, int have_header,
                          char ***names_out, sl_err *err)
{
    sl_rc rc = SL_OK;
    char **names = sl_calloc((size_t)nf, sizeof *names);
    if (!names)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    for (int j = 0; j < nf && rc == SL_OK; j++) {
        const csv_field *f = &r->fields[j];
        char tmp[32];
        if (!have_header || f->n == 0) {
            snprintf(tmp, sizeof tmp, "c%d", j + 1);
            names[j] = sl_strdup(tmp);
        } else {
            names[j] = sl_strndup(f->p, f->n);
            if (names[j] && f->escaped) {
                size_t k = 0;
                for (size_t i = 0; i < f->n; i++) {
                    names[j][k++] = f->p[i];
                    if (f->p[i] == r->o.quote)
                        i++;
                }
                names[j][k] = '\0';
            }
        }
        if (!names[j]) {
            rc = sl_err_set(err, SL_ENOMEM, "out of memory");
            break;
        }
        if (rc == SL_OK)
            rc = dedupe(names, j, err);
    }
    *names_out = names;
    return rc;
}

static void free_names(char **names, int n)
{
    for (int j = 0; names && j < n; j++)
        sl_free(names[j]);
    sl_free(names);
}

/* Scan the first non-blank record at pos (the header, or the first data
 * record when there is none). Returns SL_EEOF for an input with no record. */
static sl_rc first_record(sl_csv_reader *r, csv_rec *rec, sl_err *err)
{
    for (;;) {
        sl_rc rc;
        if (r->pos == r->len && r->eof)
            return SL_EEOF;
        int s = r->pos == r->len ? SCAN_MORE : csv_scan_record(r, r->pos, rec, -1);
        if (s == SCAN_NOMEM)
            return sl_err_set(err, SL_ENOMEM, "out of memory");
        if (s == SCAN_UNTERMINATED)
            return fatal(r, SL_EPARSE, r->pos, rec->open_quote, -1, err,
                         "unterminated quoted field in the first record: "
                         "the file ends inside quotes");
        if (s == SCAN_MORE) {
            if (r->len - r->pos > (uint64_t)r->o.max_record_bytes)
                return too_long(r, err);
            if ((rc = csv_refill(r, r->pos, NULL, err)) != SL_OK)
                return rc;
            continue;
        }
        if (rec->end - r->pos > (uint64_t)r->o.max_record_bytes)
            return too_long(r, err);
        if (!csv_is_blank(r, r->pos, rec))
            return SL_OK;
        r->pos = rec->next;
        r->line += rec->lines;
    }
}

/* Feed the first infer_rows records to the inference, leaving them in the
 * buffer (pos does not move). */
static sl_rc sample(sl_csv_reader *r, sl_infer *inf, sl_err *err)
{
    size_t off = r->pos;
    int pending = 0;
    for (int j = 0; j < r->ncols; j++)
        pending += r->inferred[j];
    while (pending > 0 && r->sampled < r->o.infer_rows) {
        csv_rec rec;
        if (off == r->len && r->eof)
            break;
        int s = off == r->len ? SCAN_MORE : csv_scan_record(r, off, &rec, r->ncols + 1);
        if (s == SCAN_UNTERMINATED)
            break; /* next() reports it at its place */
        if (s == SCAN_MORE) {
            size_t shift;
            sl_rc rc;
            if (r->len - off > (uint64_t)r->o.max_record_bytes ||
                r->len - r->pos > SAMPLE_MAX_BYTES)
                break;
            if ((rc = csv_refill(r, r->pos, &shift, err)) != SL_OK)
                return rc;
            off -= shift;
            continue;
        }
        if (rec.end - off > (uint64_t)r->o.max_record_bytes)
            break;
        if (!csv_is_blank(r, off, &rec)) {
            r->sampled++;
            if (rec.nf == r->ncols && !rec.stray) {
                pending = 0;
                for (int j = 0; j < r->ncols; j++) {
                    const csv_field *f = &r->fields[j];
                    if (!r->inferred[j])
                        continue;
                    if (f->quoted || !csv_is_null(&r->nulls, f->p, f->n))
                        sl_infer_feed(&inf[j], f->p, f->n);
                    /* a string column cannot widen further */
                    pending += inf[j].type != SL_STRING;
                }
            }
        }
        off = rec.next;
    }
    return SL_OK;
}

/* Types: override first, inference for the rest; then the schema. */
static sl_rc build_schema(sl_csv_reader *r, char **names,
                          const sl_schema *override, sl_err *err)
{
    sl_rc rc = SL_OK;
    sl_infer *inf = NULL;

    for (int i = 0; override && i < override->n; i++) {
        int found = -1;
        for (int j = 0; j < r->ncols && found < 0; j++)
            if (strcmp(names[j], override->fields[i].name) == 0)
                found = j;
        if (found < 0) {
            char list[400];
            size_t k = 0;
            list[0] = '\0';
            for (int j = 0; j < r->ncols && k < sizeof list - 40; j++)
                k += (size_t)snprintf(list + k, sizeof list - k, "%s%s",
                                      j ? ", " : "", names[j]);
            if (k >= sizeof list - 40)
                snprintf(list + k, sizeof list - k, ", ...");
            sl_err_clear(err);
            rc = sl_err_setloc(err, SL_ESCHEMA, r->name, 0, 0,
                               "schema column '%s' is not in the file "
                               "(its columns: %s)",
                               override->fields[i].name, list);
            sl_err_field(err, override->fields[i].name);
            goto out;
        }
        if (override->fields[i].type == SL_NULL)
            continue; /* "null" in a schema: let the data decide */
        r->types[found] = override->fields[i].type;
        r->nullable[found] = (uint8_t)(override->fields[i].nullable != 0);
        r->inferred[found] = 0;
    }
    inf = sl_calloc((size_t)r->ncols, sizeof *inf);
    if (!inf) {
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        goto out;
    }
    for (int j = 0; j < r->ncols; j++)
        sl_infer_init(&inf[j]);
    if ((rc = sample(r, inf, err)) != SL_OK)
        goto out;
    for (int j = 0; j < r->ncols; j++)
        if (r->inferred[j])
            r->types[j] = sl_infer_result(&inf[j]);
    if (!(r->schema = sl_schema_new())) {
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        goto out;
    }
    for (int j = 0; j < r->ncols; j++)
        if ((rc = sl_schema_add(r->schema, names[j], r->types[j],
                                r->nullable[j], err)) != SL_OK)
            goto out;
out:
    sl_free(inf);
    return rc;
}

static sl_rc reader_init(sl_csv_reader *r, const sl_schema *override,
                         sl_err *err)
{
    sl_rc rc;
    csv_rec rec;
    char **names = NULL;
    int nf = 0;

    if ((rc = csv_refill(r, 0, NULL, err)) != SL_OK)
        goto out;
    while (r->len < 3 && !r->eof)
        if ((rc = csv_refill(r, 0, NULL, err)) != SL_OK)
            goto out;
    if (r->len >= 3 && memcmp(r->buf, "\xEF\xBB\xBF", 3) == 0)
        r->pos = 3;
    rc = first_record(r, &rec, err);
    if (rc == SL_EEOF) {
        sl_err_clear(err);
        rc = sl_err_setloc(err, SL_EPARSE, r->name, 0, 0,
                           "empty file: expected %s", r->o.header
                           ? "a header row" : "at least one record");
        goto out;
    }
    if (rc != SL_OK)
        goto out;
    if (rec.stray) {
        rc = fatal(r, SL_EPARSE, r->pos, rec.stray, -1, err,
                   "unexpected '%c' after the closing quote of field %d; a "
                   "quote inside a quoted field must be doubled",
                   *rec.stray, rec.stray_field + 1);
        goto out;
    }
    nf = rec.nf;
    if ((rc = header_names(r, nf, r->o.header, &names, err)) != SL_OK)
        goto out;
    if (r->o.header) {
        r->pos = rec.next;
        r->line += rec.lines;
    }
    r->ncols = nf;
    r->types = sl_calloc((size_t)nf, sizeof *r->types);
    r->nullable = sl_malloc((size_t)nf);
    r->inferred = sl_malloc((size_t)nf);
    r->str_bytes = sl_malloc((size_t)nf * sizeof *r->str_bytes);
    if (!r->types || !r->nullable || !r->inferred || !r->str_bytes ||
        csv_grow_fields(r, nf + 1) != 0) {
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        goto out;
    }
    memset(r->nullable, 1, (size_t)nf);
    memset(r->inferred, 1, (size_t)nf);
    for (int j = 0; j < nf; j++) {
        r->types[j] = SL_STRING;
        r->str_bytes[j] = 256;
    }
    if ((rc = build_schema(r, names, override, err)) != SL_OK)
        goto out;
    if (r->o.on_error == SL_ON_ERROR_DLQ &&
        (rc = sl_dlq_open(r->o.rejects_path, &r->dlq, err)) != SL_OK)
        goto out;
    r->next_cap = r->o.batch_rows < 1024 ? r->o.batch_rows : 1024;
out:
    free_names(names, nf);
    return rc;
}

static sl_rc reader_new(const char *name, const sl_csv_options *opts,
                        sl_csv_reader **out, sl_err *err)
{
    sl_csv_options def;
    sl_rc rc;
    *out = NULL;
    if (!opts) {
        sl_csv_options_init(&def);
        opts = &def;
    }
    if ((rc = csv_options_check(opts, 1, err)) != SL_OK)
        return rc;
    sl_csv_reader *r = sl_calloc(1, sizeof *r);
    if (!r)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    r->fd = -1;
    r->o = *opts;
    r->o.rejects_path = NULL; /* only needed while opening the dlq */
    r->line = 1;
    r->file_size = -1;
    r->stop[(uint8_t)opts->delimiter] = 1;
    r->stop['\n'] = 1;
    r->stop['\r'] = 1;
    *out = r;
    if (!(r->name = sl_strdup(name ? name : "<memory>")))
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    if ((rc = csv_nulls_init(&r->nulls, opts->null_values,
                             opts->n_null_values, err)) != SL_OK)
        return rc;
    r->cap = opts->read_bytes + 4096;
    if (!(r->buf = sl_malloc(r->cap + 1 + SCAN_PAD)))
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    csv_set_sentinel(r);
    return SL_OK;
}

static sl_rc finish_open(sl_csv_reader *r, const sl_csv_options *opts,
                         const sl_schema *override, sl_csv_reader **out,
                         sl_err *err)
{
    sl_csv_options def;
    if (!opts) {
        sl_csv_options_init(&def);
        opts = &def;
    }
    r->o.rejects_path = opts->rejects_path;
    sl_rc rc = reader_init(r, override, err);
    r->o.rejects_path = NULL;
    if (rc != SL_OK) {
        sl_csv_reader_close(r, NULL);
        return rc;
    }
    *out = r;
    return SL_OK;
}

sl_rc sl_csv_reader_open(const char *path, const sl_csv_options *opts,
                         const sl_schema *override, sl_csv_reader **out,
                         sl_err *err)
{
    sl_csv_reader *r = NULL;
    sl_rc rc = reader_new(path, opts, &r, err);
    *out = NULL;
    if (rc == SL_OK) {
        r->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (r->fd < 0)
            rc = csv_io_error(r, err, "open");
    }
    if (rc == SL_OK) {
        struct stat st;
        int ok = fstat(r->fd, &st) == 0;
        if (ok && S_ISDIR(st.st_mode)) {
            sl_err_clear(err);
            rc = sl_err_setloc(err, SL_EIO, path, 0, 0,
                               "cannot read '%s': it is a directory", path);
        } else if (ok && S_ISREG(st.st_mode)) {
            r->file_size = (int64_t)st.st_size;
        }
    }
    if (rc != SL_OK) {
        sl_csv_reader_close(r, NULL);
        return rc;
    }
    return finish_open(r, opts, override, out, err);
}

sl_rc sl_csv_reader_open_mem(const void *data, size_t n, const char *name,
                             const sl_csv_options *opts,
                             const sl_schema *override, sl_csv_reader **out,
                             sl_err *err)
{
    sl_csv_reader *r = NULL;
    sl_rc rc = reader_new(name, opts, &r, err);
    *out = NULL;
    if (rc != SL_OK) {
        sl_csv_reader_close(r, NULL);
        return rc;
    }
    r->mem = data ? data : "";
    r->mem_len = data ? n : 0;
    r->file_size = (int64_t)r->mem_len;
    return finish_open(r, opts, override, out, err);
}

const sl_schema *sl_csv_reader_schema(const sl_csv_reader *r)
{
    return r->schema;
}

int sl_csv_reader_inferred(const sl_csv_reader *r, int col)
{
    return col >= 0 && col < r->ncols && r->inferred[col];
}

int64_t sl_csv_reader_sampled(const sl_csv_reader *r)
{
    return r->sampled;
}

void sl_csv_reader_progress(const sl_csv_reader *r, int64_t *done,
                            int64_t *total)
{
    if (done)
        *done = r->buf_off + (int64_t)r->pos;
    if (total)
        *total = r->file_size;
}

int64_t sl_csv_reader_rejected(const sl_csv_reader *r)
{
    return r->rejected;
}

int64_t sl_csv_reader_rows(const sl_csv_reader *r)
{
    return r->rows;
}

sl_rc sl_csv_reader_close(sl_csv_reader *r, sl_err *err)
{
    if (!r)
        return SL_OK;
    sl_rc rc = sl_dlq_close(r->dlq, err);
    if (r->fd >= 0)
        close(r->fd);
    csv_nulls_free(&r->nulls);
    sl_schema_free(r->schema);
    sl_free(r->types);
    sl_free(r->nullable);
    sl_free(r->inferred);
    sl_free(r->str_bytes);
    sl_free(r->fields);
    sl_free(r->buf);
    sl_free(r->name);
    sl_free(r);
    return rc;
}
