/*
 * jsonl_input.c: chunked line input for the JSON Lines reader.
 *
 * Input (a file descriptor or a memory buffer, read the same way) goes
 * into one buffer; [beg, end) is unread data and JL_PAD zero bytes always
 * follow cap. A line that spans chunks is moved to the front and completed
 * by the next read; the buffer grows only while one line does not fit, and
 * never beyond max_record_bytes + 2 (the line, a '\r' and the '\n'): a
 * longer line is handed out cut to its first max_record_bytes bytes and the
 * rest of it is discarded as it arrives, so memory stays bounded.
 *
 * Each line handed out is NUL-terminated in place (over its '\r' or '\n'),
 * which gives the scanners their sentinel; it stays valid until the next
 * call, since the buffer only moves in jl_input_fill.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "jsonl_internal.h"
#include "sluice/mem.h"

/* Reads more input after [beg, end), moving the partial line to the front
 * and growing the buffer when it is full. */
static sl_rc fill(jl_input *in, sl_err *err)
{
    if (in->beg > 0) {
        memmove(in->buf, in->buf + in->beg, in->end - in->beg);
        in->buf_off += (int64_t)in->beg;
        in->end -= in->beg;
        in->scan -= in->beg;
        in->beg = 0;
    }
    if (in->end == in->cap) {
        /* Only a line longer than the buffer gets here, and next_line has
         * checked it against max, so cap < limit. */
        size_t limit = in->max + 2;
        size_t ncap = in->cap * 2 < limit ? in->cap * 2 : limit;
        if (ncap <= in->cap)
            ncap = in->cap + 1;
        char *nb = sl_realloc(in->buf, ncap + JL_PAD);
        if (!nb)
            return sl_err_set(err, SL_ENOMEM, "out of memory");
        memset(nb + ncap, 0, JL_PAD);
        in->buf = nb;
        in->cap = ncap;
    }
    size_t want = in->cap - in->end, got;
    if (want > in->chunk)
        want = in->chunk;
    if (in->fd < 0) {
        got = in->mem_len - in->mem_pos < want ? in->mem_len - in->mem_pos : want;
        memcpy(in->buf + in->end, in->mem + in->mem_pos, got);
        in->mem_pos += got;
    } else {
        ssize_t n;
        do
            n = read(in->fd, in->buf + in->end, want);
        while (n < 0 && errno == EINTR);
        if (n < 0)
            return sl_err_setloc(err, SL_EIO, in->name, 0, 0, "read failed: %s",
                                 strerror(errno));
        got = (size_t)n;
    }
    if (got == 0)
        in->eof = 1;
    in->end += got;
    return SL_OK;
}

sl_rc jl_input_init(jl_input *in, const char *name, size_t chunk, size_t max,
                    int64_t size_hint, sl_err *err)
{
    in->name = name;
    in->chunk = chunk;
    in->max = max;
    in->cap = chunk < max + 2 ? chunk : max + 2;
    /* A small input gets a small buffer (it grows if the hint was low). */
    if (size_hint >= 0 && (uint64_t)size_hint + 16 < in->cap)
        in->cap = (size_t)size_hint + 16;
    in->buf = sl_calloc(in->cap + JL_PAD, 1);
    if (!in->buf)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    return SL_OK;
}

/* Hands out the line [s, e) of the buffer: strips one '\r', places the NUL
 * sentinel, skips a UTF-8 BOM at the very start of the input. */
static void take_line(jl_input *in, size_t s, size_t e, char **lp, size_t *ln)
{
    in->line_no++;
    in->line_off = in->buf_off + (int64_t)s;
    if (e > s && in->buf[e - 1] == '\r')
        e--;
    in->buf[e] = '\0';
    if (in->line_off == 0 && e - s >= 3 && memcmp(in->buf + s, "\xEF\xBB\xBF", 3) == 0) {
        s += 3;
        in->line_off = 3;
    }
    *lp = in->buf + s;
    *ln = e - s;
}

/* Cuts a line longer than max to its first max bytes. */
static void cut_line(char **lp, size_t *ln, size_t max, int *too_long)
{
    if (*ln > max) {
        *ln = max;
        (*lp)[max] = '\0';
        *too_long = 1;
    }
}

int jl_input_line(jl_input *in, char **lp, size_t *ln, int *too_long,
                  sl_err *err)
{
    *too_long = 0;
    for (;;) {
        char *nl = memchr(in->buf + in->scan, '\n', in->end - in->scan);
        if (nl) {
            size_t s = in->beg, e = (size_t)(nl - in->buf);
            in->beg = in->scan = e + 1;
            if (in->long_line) { /* the end of an over-long line */
                in->long_line = 0;
                continue;
            }
            take_line(in, s, e, lp, ln);
            cut_line(lp, ln, in->max, too_long);
            return 1;
        }
        in->scan = in->end;
        if (in->eof) {
            size_t s = in->beg;
            in->beg = in->scan = in->end;
            if (s == in->end || in->long_line) {
                in->long_line = 0;
                return 0;
            }
            take_line(in, s, in->end, lp, ln);
            cut_line(lp, ln, in->max, too_long);
            return 1;
        }
        if (in->long_line) {
            in->beg = in->scan = in->end; /* drop the tail read so far */
        } else if (in->end - in->beg > in->max + 1) {
            /* No newline within max + 1 bytes (+1: a '\r' may precede it):
             * hand out the head now and discard the rest as it comes. */
            size_t s = in->beg;
            in->long_line = 1;
            in->beg = in->scan = in->end;
            take_line(in, s, s + in->max + 1, lp, ln);
            cut_line(lp, ln, in->max, too_long);
            *too_long = 1;
            return 1;
        }
        sl_rc rc = fill(in, err);
        if (rc != SL_OK)
            return rc;
    }
}

sl_rc jl_input_rewind(jl_input *in, sl_err *err)
{
    if (in->fd >= 0 && lseek(in->fd, 0, SEEK_SET) != 0)
        return sl_err_setloc(err, SL_EUNSUPPORTED, in->name, 0, 0,
                             "cannot rewind the input after schema inference "
                             "(%s); JSON Lines input must be a regular file",
                             strerror(errno));
    in->mem_pos = 0;
    in->beg = in->end = in->scan = 0;
    in->eof = in->long_line = 0;
    in->buf_off = 0;
    in->line_no = 0;
    in->line_off = 0;
    return SL_OK;
}

void jl_input_free(jl_input *in)
{
    if (in->fd >= 0)
        close(in->fd);
    in->fd = -1;
    sl_free(in->buf);
    in->buf = NULL;
}
