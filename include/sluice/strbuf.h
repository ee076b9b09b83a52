/*
 * strbuf.h: a growable text buffer for building responses and reports.
 *
 * Appends never fail visibly: the first allocation failure sets `failed`,
 * later appends do nothing, and the owner checks `failed` once at the end
 * (one branch instead of one per append). The text is always
 * NUL-terminated once anything was appended. Memory comes from sl_malloc;
 * sl_sb_take() hands it over (free with sl_free), sl_sb_free() drops it.
 */
#ifndef SLUICE_STRBUF_H
#define SLUICE_STRBUF_H

#include <stddef.h>

typedef struct sl_strbuf {
    char *p;
    size_t n, cap;
    int failed;
} sl_strbuf;

void sl_sb_put(sl_strbuf *b, const char *s, size_t n);
void sl_sb_str(sl_strbuf *b, const char *s);
void sl_sb_char(sl_strbuf *b, char c);
void sl_sb_printf(sl_strbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* s (n bytes) as a JSON string literal, with the quotes. Valid UTF-8 is
 * copied as it is; a byte that is not part of a valid UTF-8 sequence
 * becomes \ufffd, so the output is always valid JSON. */
void sl_sb_json_str(sl_strbuf *b, const char *s, size_t n);
/* A double as a JSON number: shortest text that reads back as v; NaN and
 * infinities (not JSON) become null. */
void sl_sb_json_double(sl_strbuf *b, double v);
/* Make sure p is allocated (an empty string) even if nothing was appended. */
void sl_sb_ensure(sl_strbuf *b);
/* The text (caller sl_frees it); NULL if an append failed. Resets b. */
char *sl_sb_take(sl_strbuf *b, size_t *len);
void sl_sb_free(sl_strbuf *b);

#endif
