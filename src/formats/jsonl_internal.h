/*
 * jsonl_internal.h: private to the JSON Lines module (jsonl_*.c).
 *
 * The scanning primitives of jsonl_parse.c and the name table shared by the
 * reader's schema, inference and unknown-key bookkeeping.
 *
 * Sentinel contract of every scanner: the text being parsed is one line
 * [p, end) with *end == '\0' and at least JL_PAD readable bytes after end
 * (the reader's buffer is padded). Scanners therefore stop at the NUL
 * without a length check in the inner loops, may load 8 bytes at a time,
 * and tell "end of line" from "a NUL byte in the line" by comparing with
 * end. On error they return NULL and fill a jl_perr.
 */
#ifndef SLUICE_JSONL_INTERNAL_H
#define SLUICE_JSONL_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "sluice/batch.h"
#include "sluice/dlq.h"
#include "sluice/error.h"
#include "sluice/jsonl.h"

#define JL_PAD 64

typedef struct jl_perr {
    const char *pos; /* where in the line the problem is */
    sl_rc code;      /* SL_EPARSE, SL_ESCHEMA, SL_ELIMIT, SL_ENOMEM */
    char msg[384];
    char field[128]; /* column or key concerned, "" if none (set by jl_fail
                        to "", filled by the caller that knows the name) */
} jl_perr;

/* Sets e (printf-style) and returns NULL so scanners can `return jl_fail()`. */
const char *jl_fail(jl_perr *e, const char *pos, sl_rc code, const char *fmt,
                    ...) __attribute__((format(printf, 4, 5)));

static inline const char *jl_ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    return p;
}

/* p points just after the opening quote. Decodes the string into dst, which
 * must have room for (end - p) + 8 bytes (decoding never grows the text,
 * and the fast path stores 8 bytes at a time). Escapes incl. \uXXXX and
 * surrogate pairs become UTF-8; invalid escapes, lone surrogates, invalid
 * UTF-8 and raw control characters are errors. Returns the position after
 * the closing quote; *n = decoded length. */
const char *jl_scan_string(const char *p, const char *end, char *dst,
                           size_t *n, jl_perr *e);

/* A JSON number, checked against the grammar
 * -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
typedef struct jl_num {
    const char *s; /* the token */
    size_t len;
    int is_int;    /* no fraction, no exponent */
    int fits;      /* is_int and within int64: value in i */
    int64_t i;
} jl_num;
const char *jl_scan_number(const char *p, const char *end, jl_num *num,
                           jl_perr *e);
/* The double strtod would give for the token (via sl_parse_float64). */
int jl_num_double(const jl_num *num, double *out, jl_perr *e);

/* true / false / null at p: 1 / 0 / -1 in *v. */
const char *jl_scan_literal(const char *p, const char *end, int *v,
                            jl_perr *e);

/* Validates one complete JSON value of any kind (nested up to
 * SL_JSONL_MAX_DEPTH) and returns the position after it. Strings are
 * decoded into scratch (room for (end - p) + 8 bytes) and dropped. */
const char *jl_skip_value(const char *p, const char *end, char *scratch,
                          jl_perr *e);

/* Checks that after a value comes a delimiter: returns 1 when *p is one of
 * whitespace , } ] or the end. */
static inline int jl_is_delim(char c)
{
    return c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' ||
           c == '\r' || c == '\n' || c == '\0';
}

/* Length of the well-formed UTF-8 sequence at the non-ASCII byte s[0]
 * (at most avail bytes), 0 when invalid (Unicode table 3-7: no overlongs,
 * no surrogates, nothing above U+10FFFF). */
int jl_utf8_len(const unsigned char *s, size_t avail);

/* "unexpected 'x', <what> expected" (or end of line / a raw byte). */
const char *jl_unexpected(jl_perr *e, const char *p, const char *end,
                          const char *what);

/* Short printable excerpt of [p, end) for messages: at most 40 bytes,
 * non-printable bytes as '?', "..." when cut. */
void jl_excerpt(const char *p, const char *end, char *buf, size_t cap);

/* ---- chunked line input (jsonl_input.c) ---- */
typedef struct jl_input {
    const char *name; /* for messages; not owned */
    int fd;           /* -1 for memory input */
    const char *mem;
    size_t mem_len, mem_pos;
    size_t chunk, max; /* read size; longest line handed out whole */
    char *buf;
    size_t cap, beg, end, scan; /* scan: where the newline search resumes */
    int eof;
    int long_line;    /* discarding the tail of an over-long line */
    int64_t buf_off;  /* input offset of buf[0] */
    int64_t line_no;  /* 1-based number of the last line handed out */
    int64_t line_off; /* input offset of its first byte */
} jl_input;

/* Allocates the buffer (at most chunk bytes, less for an input known to be
 * smaller: size_hint, -1 if unknown); fd / mem are set by the caller. */
sl_rc jl_input_init(jl_input *in, const char *name, size_t chunk, size_t max,
                    int64_t size_hint, sl_err *err);
/* 1 with the next line in *lp / *ln (without its EOL, NUL-terminated,
 * valid until the next call), 0 at the end of the input, or a negative
 * sl_rc. When the line is longer than max, *too_long is set and only its
 * first max bytes are handed out. */
int jl_input_line(jl_input *in, char **lp, size_t *ln, int *too_long,
                  sl_err *err);
/* Back to the start (lseek for files). */
sl_rc jl_input_rewind(jl_input *in, sl_err *err);
/* Bytes consumed so far. */
static inline int64_t jl_input_done(const jl_input *in)
{
    return in->buf_off + (int64_t)in->beg;
}
void jl_input_free(jl_input *in); /* closes fd */

/* ---- writer to memory (fuzzing, tests): rows accumulate in the buffer;
 * free with sl_jsonl_writer_abort. ---- */
sl_rc jl_writer_open_mem(const sl_schema *schema, sl_jsonl_writer **out);
const char *jl_writer_text(const sl_jsonl_writer *w, size_t *len);

/* ---- name table: open addressing over (bytes, length) keys ---- */
typedef struct jl_names {
    char **names;   /* NUL-terminated copies (names contain no NUL) */
    size_t *lens;
    int n, cap;
    int32_t *slots; /* index + 1, 0 = empty; size mask + 1 */
    size_t mask;
} jl_names;

uint32_t jl_hash(const char *s, size_t n);
int jl_names_find(const jl_names *t, const char *s, size_t n);
/* Appends (the name must not be present); returns its index, -1 on
 * allocation failure. */
int jl_names_add(jl_names *t, const char *s, size_t n);
void jl_names_free(jl_names *t);

/* Inference classes of one value (bits, OR-ed per key). */
enum {
    K_NULL = 1,
    K_BOOL = 2,
    K_INT = 4,
    K_FLOAT = 8,
    K_DATE = 16,
    K_TS = 32,
    K_STR = 64,
    K_NESTED = 128
};

/* ---- the reader (jsonl_reader.c, jsonl_schema.c) ---- */

typedef struct jl_col {
    sl_type type;
    int override;  /* type came from the override schema */
    int nullable;  /* 0: the override says not nullable (enforced) */
    int succ;      /* column of the key that followed this one last time */
    uint64_t seen; /* stamp of the last line that had this key */
    sl_column *c;  /* column of the current batch */
    int64_t hint;  /* string bytes used by the previous batch */
} jl_col;

typedef struct jl_kstat { /* inference, per key */
    uint64_t seen;
    int order; /* first-commit order, -1 until a line with it commits */
    uint8_t bits, pend;
} jl_kstat;

typedef struct jl_unk { /* per unknown key */
    int64_t count;
    uint64_t seen;
    int logged;
} jl_unk;

struct sl_jsonl_reader {
    sl_jsonl_options o;
    char *name;
    jl_input in;
    int64_t total;
    char *scratch; /* decoded values, >= line length + 8 + JL_PAD */
    char *keybuf;  /* decoded keys with escapes, same size */
    size_t scratch_cap, keybuf_cap;
    int *list; /* per line: touched keys (inference) / unknown keys */
    size_t list_cap;
    int nlist;
    uint64_t stamp;
    /* schema */
    sl_schema *schema;
    jl_names names; /* column names (keys during inference) */
    jl_col *cols;
    int first; /* predicted first column of a line */
    int nreq;  /* columns that are not nullable */
    jl_kstat *ks;
    size_t ks_cap;
    int norder;
    /* unknown keys */
    jl_names unames;
    jl_unk *unk;
    size_t unk_cap;
    int unk_other; /* index of the "*" overflow entry, -1 */
    /* load state */
    sl_batch *batch;
    int64_t brow, bcap, next_cap;
    int64_t rows;
    int done;
    sl_dlq *dlq;
    sl_rc failed;
    sl_err ferr; /* the sticky failure */
};

/* Classifies the value at p (inference); jsonl_schema.c. */
const char *jl_infer_value(sl_jsonl_reader *r, const char *p, const char *end,
                           uint8_t *bits, jl_perr *e);
/* Index of key k in the inference table, created on first sight; -1 with
 * e filled (SL_ENOMEM, SL_ELIMIT past SL_JSONL_MAX_COLUMNS keys). */
int jl_infer_key(sl_jsonl_reader *r, const char *at, const char *k, size_t n,
                 jl_perr *e);
/* r->schema, r->cols and r->names (schema order) from the committed sample
 * and the override. */
sl_rc jl_build_schema(sl_jsonl_reader *r, const sl_schema *ovr, sl_err *err);

#endif
