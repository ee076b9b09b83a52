/*
 * expr_internal.h: what the pieces of the expression engine share.
 *
 *   expr_lex.c    text -> tokens (positions in characters, 1-based)
 *   expr_parse.c  tokens -> parse tree (immutable once built); sl_expr_parse,
 *                 sl_expr_free, sl_expr_columns
 *   expr_bind.c   parse tree + schema -> bound tree: names resolved, types
 *                 checked, implicit casts inserted, constants folded
 *   expr_eval.c   bound tree + batch -> column (driver, arithmetic,
 *                 comparison, logic, casts, column helpers)
 *   expr_func.c   function kernels (math, strings, dates, coalesce/if)
 *
 * The parse tree lives in its own arena and is never modified, so an
 * expression can be bound again (for example against another schema); each
 * bind builds a fresh bound tree in a second arena.
 *
 * Every tree is at most EX_MAX_DEPTH nodes high (checked while parsing;
 * binding adds at most one cast per level), so the recursive binder and
 * evaluator cannot overflow the stack on hostile input.
 */
#ifndef SLUICE_EXPR_INTERNAL_H
#define SLUICE_EXPR_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "sluice/arena.h"
#include "sluice/batch.h"
#include "sluice/error.h"
#include "sluice/expr.h"
#include "sluice/schema.h"

#define EX_MAX_DEPTH 256
#define EX_MAX_ARGS 64
/* Temporaries kept per expression between batches (see ex_col_new). */
#define EX_POOL 8

/* ---- tokens ---- */
typedef enum ex_tok_kind {
    TK_EOF = 0,
    TK_INT,    /* digits only */
    TK_FLOAT,  /* digits with '.' or exponent */
    TK_STRING, /* 'text' or "text"; value is unescaped */
    TK_IDENT,  /* bare or `backticked`; value is the name */
    TK_AND,
    TK_OR,
    TK_NOT,
    TK_IS,
    TK_NULL,
    TK_TRUE,
    TK_FALSE,
    TK_PLUS,
    TK_MINUS,
    TK_STAR,
    TK_SLASH,
    TK_PERCENT,
    TK_LPAREN,
    TK_RPAREN,
    TK_COMMA,
    TK_EQ, /* = or == */
    TK_NE, /* != or <> */
    TK_LT,
    TK_LE,
    TK_GT,
    TK_GE
} ex_tok_kind;

typedef struct ex_token {
    ex_tok_kind kind;
    const char *start; /* into the source text */
    size_t len;        /* bytes of source text */
    int64_t col;       /* 1-based character position of start */
    int quoted;        /* TK_IDENT written in backticks */
    char *value;       /* TK_STRING / TK_IDENT: unescaped, arena-owned */
    size_t vlen;
} ex_token;

typedef struct ex_lexer {
    const char *text;
    size_t pos;   /* byte offset of the next unread byte */
    int64_t col;  /* character column of text[pos] */
    sl_arena *arena;
} ex_lexer;

void ex_lex_init(ex_lexer *lx, const char *text, sl_arena *arena);
sl_rc ex_lex_next(ex_lexer *lx, ex_token *tok, sl_err *err);
/* "')'", "end of expression", "'foo'": for "expected X, got Y" messages. */
void ex_tok_describe(const ex_token *t, char *buf, size_t n);
const char *ex_tok_kind_text(ex_tok_kind k);

/* ---- trees ----
 * A node's args are bound first; kind and op say what it computes. Literal
 * strings, names and nodes live in the tree's arena. */
typedef enum ex_kind {
    EX_LIT = 0,
    EX_COL,
    EX_NEG,    /* unary minus */
    EX_NOT,
    EX_ARITH,  /* op: ex_arith */
    EX_CMP,    /* op: ex_cmp */
    EX_AND,
    EX_OR,
    EX_ISNULL, /* op: 1 = "is not null" */
    EX_CALL,   /* op: ex_func (after binding) */
    EX_CAST    /* bound trees only: args[0] converted to type */
} ex_kind;

typedef enum ex_arith { AR_ADD = 0, AR_SUB, AR_MUL, AR_DIV, AR_MOD } ex_arith;
typedef enum ex_cmp { CM_EQ = 0, CM_NE, CM_LT, CM_LE, CM_GT, CM_GE } ex_cmp;

typedef enum ex_func {
    FN_COALESCE = 0,
    FN_ABS,
    FN_LOG,
    FN_EXP,
    FN_SQRT,
    FN_ROUND,
    FN_FLOOR,
    FN_CEIL,
    FN_LOWER,
    FN_UPPER,
    FN_LEN,
    FN_CONTAINS,
    FN_STARTS_WITH,
    FN_ENDS_WITH,
    FN_YEAR,
    FN_MONTH,
    FN_DAY,
    FN_HOUR,
    FN_MINUTE,
    FN_SECOND,
    FN_DAYOFWEEK,
    FN_DAYOFYEAR,
    FN_IF,
    FN_COUNT
} ex_func;

/* A constant. Strings are arena-owned and may contain NUL bytes. */
typedef struct ex_scalar {
    sl_type type;
    int null;
    int64_t i; /* INT64, TIMESTAMP, DATE (days), BOOL (0/1) */
    double f;  /* FLOAT64 */
    const char *s;
    size_t slen;
} ex_scalar;

typedef struct ex_node {
    ex_kind kind;
    int op;        /* ex_arith / ex_cmp / ex_func / is-not flag */
    int64_t col;   /* 1-based character position where the node's text starts */
    int64_t opcol; /* position of the operator or function name */
    int height;    /* 1 + max height of args */
    int nargs;
    struct ex_node **args;
    /* EX_LIT */
    ex_scalar lit;
    int lit_text; /* a string literal as written (may coerce to date/ts) */
    /* EX_COL: name; EX_CALL: function name as written */
    const char *name;
    /* bound trees */
    sl_type type;
    int nullable;
    int colidx; /* EX_COL: index in the bound schema */
} ex_node;

struct sl_expr {
    char *text;
    sl_arena *parse_arena;
    ex_node *root; /* parse tree */
    const char **colnames; /* distinct column names, NULL-terminated */
    int ncolnames;
    sl_arena *bind_arena; /* NULL until the first bind */
    ex_node *bound;       /* NULL until bound */
    /* Released fixed-width temporaries, reused by the next batch: a 64K-row
     * int64 column is 512 KiB, and allocating it fresh for every operator
     * and batch costs more (page faults) than the arithmetic. Each holds
     * one reference and nothing else refers to it. */
    sl_column *pool[EX_POOL];
    int npool;
};

ex_node *ex_node_new(sl_arena *a, ex_kind kind, int64_t col, int nargs);

/* ---- evaluation ---- */

/* A value during evaluation: a whole column, or one scalar that stands for
 * every row (literals are never materialised unless an operator needs it).
 * A scalar reaching an operator is never null: the binder folds null
 * constants away, except where nulls are meaningful (coalesce, if, and,
 * or), whose kernels read the scalar's null flag. */
typedef struct ex_val {
    int scalar;
    ex_scalar s;     /* scalar != 0 */
    sl_column *col;  /* scalar == 0: one owned reference */
} ex_val;

typedef struct ex_ctx {
    sl_expr *e;        /* owner of the temporaries pool; NULL when folding */
    const sl_batch *b; /* NULL while constant folding */
    int64_t n;         /* rows */
    sl_err *err;
    int fold;          /* constant folding: literals become 1-row columns */
} ex_ctx;

/* Drop v's reference; an exclusively owned temporary goes to the pool. */
void ex_val_release(ex_ctx *cx, ex_val *v);
sl_rc ex_eval_node(ex_ctx *cx, const ex_node *n, ex_val *out);
/* Column of n rows (length set), all valid (validity NULL), from the pool
 * when one fits. Fixed-width value slots are NOT initialised (the caller
 * writes every row); bool bitmaps are zeroed. */
sl_column *ex_col_new(ex_ctx *cx, sl_type t, int64_t n);
/* Free the pool (sl_expr_free). */
void ex_pool_free(sl_expr *e);
/* Ensure c has a validity bitmap (all ones for existing rows). */
sl_rc ex_col_ensure_validity(sl_column *c);
/* Mark row i null and zero its slot (fixed-width types only). */
sl_rc ex_col_null_at(sl_column *c, int64_t i);
/* Set null_count from the validity bitmap (rows [0, length)). */
void ex_col_recount(sl_column *c);
/* Zero the value slots of null rows (fixed-width and bool). */
void ex_col_zero_nulls(sl_column *c);
/* A column of n rows all equal to s. */
sl_rc ex_broadcast(ex_ctx *cx, const ex_scalar *s, sl_column **out);
/* Make v a column (broadcasting a scalar to cx->n rows). */
sl_rc ex_val_materialize(ex_ctx *cx, ex_val *v);
/* out.validity = a.validity AND b.validity (either may be NULL = all
 * valid); sets null_count. b may be NULL. */
sl_rc ex_validity_and(sl_column *out, const sl_column *a, const sl_column *b);
sl_rc ex_oom(sl_err *err);

sl_rc ex_eval_call(ex_ctx *cx, const ex_node *n, ex_val *out);

/* Constant folding (expr_eval.c): evaluate a node whose args are all
 * literals into a literal, allocating strings in arena. */
sl_rc ex_fold(const ex_node *n, sl_arena *arena, ex_scalar *out,
              sl_err *err);

/* Move an error from expression coordinates into the spec: the expression
 * text starts at (line, col) of file, so its column c becomes col + c - 1
 * (an error without a column points at the start of the expression). With
 * line 0 (no spec position known) only the file is set. The message is
 * prefixed with "<what>: ". For filter and derive. */
void ex_err_in_spec(sl_err *err, const char *file, int64_t line, int64_t col,
                    const char *what);

/* String bytes of c; never NULL (a column of empty strings may have no
 * data buffer, and pointer arithmetic on NULL is undefined). */
static inline const char *ex_sdata(const sl_column *c)
{
    return c->data ? c->data : "";
}

#endif
