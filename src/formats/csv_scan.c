/*
 * csv_scan.c: the CSV reader's input side: chunked reads into one
 * reusable buffer (from a file descriptor or a caller's memory), and the
 * record splitter that finds field boundaries (RFC 4180 quoting, CR, LF,
 * CRLF) without copying or allocating. Invariants: csv_scan.h.
 *
 * A record is reported only when it is complete in the buffer; otherwise
 * SCAN_MORE asks the caller to refill (keeping the record) and rescan from
 * the record's start, so records may straddle any number of chunks. The
 * caller bounds that by max_record_bytes.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "csv_scan.h"
#include "sluice/mem.h"

/* ------------------------------------------------------------------ */
/* input                                                               */

sl_rc csv_io_error(sl_csv_reader *r, sl_err *err, const char *what)
{
    int e = errno;
    sl_err_clear(err);
    return sl_err_setloc(err, e == ENOENT ? SL_ENOTFOUND : SL_EIO, r->name,
                         0, 0, "cannot %s '%s': %s", what, r->name,
                         strerror(e));
}

/* The '\n' at buf[len] stops every unquoted scan; the zeroed pad after it
 * keeps the wide loads of scan_unquoted defined. */
void csv_set_sentinel(sl_csv_reader *r)
{
    r->buf[r->len] = '\n';
    memset(r->buf + r->len + 1, 0, SCAN_PAD);
}

/* Read more input, keeping bytes [keep, len): they move to the front
 * (pos follows) and the buffer grows only when a kept record fills it.
 * *shift (may be NULL) receives how far bytes moved down. */
sl_rc csv_refill(sl_csv_reader *r, size_t keep, size_t *shift,
                    sl_err *err)
{
    size_t want = r->o.read_bytes;
    if (shift)
        *shift = keep;
    if (keep > 0) {
        memmove(r->buf, r->buf + keep, r->len - keep);
        r->len -= keep;
        r->pos -= keep;
        r->buf_off += (int64_t)keep;
    }
    if (r->cap - r->len < want) {
        size_t ncap = r->cap * 2;
        if (ncap < r->len + want)
            ncap = r->len + want;
        char *nb = sl_realloc(r->buf, ncap + 1 + SCAN_PAD);
        if (!nb)
            return sl_err_set(err, SL_ENOMEM, "out of memory");
        r->buf = nb;
        r->cap = ncap;
    }
    if (r->fd >= 0) {
        ssize_t n;
        do
            n = read(r->fd, r->buf + r->len, want);
        while (n < 0 && errno == EINTR);
        if (n < 0) {
            csv_set_sentinel(r);
            return csv_io_error(r, err, "read");
        }
        r->eof = n == 0;
        r->len += (size_t)n;
    } else {
        size_t n = r->mem_len - r->mem_pos;
        if (n > want)
            n = want;
        memcpy(r->buf + r->len, r->mem + r->mem_pos, n);
        r->mem_pos += n;
        r->len += n;
        r->eof = n == 0;
    }
    csv_set_sentinel(r);
    return SL_OK;
}

/* ------------------------------------------------------------------ */
/* scanning                                                            */

static int64_t count_nl(const char *p, size_t n)
{
    int64_t c = 0;
    const char *e = p + n;
    while ((p = memchr(p, '\n', (size_t)(e - p))) != NULL) {
        c++;
        p++;
    }
    return c;
}

int csv_grow_fields(sl_csv_reader *r, int need)
{
    if (need <= r->fields_cap)
        return 0;
    int ncap = r->fields_cap ? r->fields_cap : 16;
    while (ncap < need)
        ncap *= 2;
    csv_field *nf = sl_realloc(r->fields, (size_t)ncap * sizeof *nf);
    if (!nf)
        return -1;
    r->fields = nf;
    r->fields_cap = ncap;
    return 0;
}

/* First byte at or after p that is the delimiter, CR or LF. Terminates
 * on the sentinel. Fields are short (a few to a few dozen bytes), so one
 * 16-byte compare usually finds the end. */
static inline const char *scan_unquoted(const sl_csv_reader *r, const char *p)
{
#if defined(__SSE2__)
    const __m128i vd = _mm_set1_epi8(r->o.delimiter), vn = _mm_set1_epi8('\n'),
                  vr = _mm_set1_epi8('\r');
    for (;;) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, vd),
                                              _mm_cmpeq_epi8(x, vn)),
                                 _mm_cmpeq_epi8(x, vr));
        unsigned mask = (unsigned)_mm_movemask_epi8(m);
        if (mask)
            return p + __builtin_ctz(mask);
        p += 16;
    }
#else
    while (!r->stop[(uint8_t)*p])
        p++;
    return p;
#endif
}

/* Split the record at offset `from` into r->fields (at most store_max of
 * them; store_max < 0 grows the array for the header). Does not consume. */
int csv_scan_record(sl_csv_reader *r, size_t from, csv_rec *rec,
                       int store_max)
{
    const char *const buf = r->buf, *const end = buf + r->len;
    const char *p = buf + from;
    const char d = r->o.delimiter, q = r->o.quote;
    const uint8_t *stop = r->stop;
    int nf = 0;
    int64_t lines = 0;

    rec->stray = NULL;
    rec->stray_field = -1;
    for (;;) {
        csv_field f;
        if (q && *p == q && p < end) {
            const char *s = p + 1, *e;
            f.escaped = 0;
            for (;;) {
                e = memchr(s, q, (size_t)(end - s));
                if (!e) {
                    rec->open_quote = p;
                    return r->eof ? SCAN_UNTERMINATED : SCAN_MORE;
                }
                if (e + 1 == end) {
                    if (!r->eof)
                        return SCAN_MORE; /* "" or closing? need a byte */
                    break;
                }
                if (e[1] != q)
                    break;
                f.escaped = 1;
                s = e + 2;
            }
            f.p = p + 1;
            f.n = (size_t)(e - f.p);
            f.quoted = 1;
            lines += count_nl(f.p, f.n);
            p = e + 1;
            if (p < end && *p != d && *p != '\n' && *p != '\r') {
                if (!rec->stray) {
                    rec->stray = p;
                    rec->stray_field = nf;
                }
                while (!stop[(uint8_t)*p])
                    p++;
            }
        } else {
            const char *s = p;
            p = scan_unquoted(r, p);
            f.p = s;
            f.n = (size_t)(p - s);
            f.quoted = 0;
            f.escaped = 0;
        }
        if (store_max < 0 && csv_grow_fields(r, nf + 1) != 0)
            return SCAN_NOMEM;
        if (nf < store_max || store_max < 0)
            r->fields[nf] = f;
        nf++;
        if (p == end) {
            if (!r->eof)
                return SCAN_MORE;
            rec->end = rec->next = (size_t)(p - buf);
            break;
        }
        if (*p == d) {
            p++;
            continue;
        }
        rec->end = (size_t)(p - buf);
        if (*p == '\r') {
            if (p + 1 == end && !r->eof)
                return SCAN_MORE; /* is it CRLF? */
            p += (p + 1 < end && p[1] == '\n') ? 2 : 1;
        } else {
            p++;
        }
        lines++;
        rec->next = (size_t)(p - buf);
        break;
    }
    rec->nf = nf;
    rec->lines = lines;
    return SCAN_OK;
}

int csv_is_blank(const sl_csv_reader *r, size_t from, const csv_rec *rec)
{
    /* In a one-column file an empty line is a record whose value is null
     * (that is how the writer writes it); skipping it would lose the row. */
    return rec->end == from && rec->nf == 1 && !r->fields[0].quoted && r->ncols != 1;
}
