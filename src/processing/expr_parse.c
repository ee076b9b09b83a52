/*
 * expr_parse.c: recursive-descent parser for the expression language, and
 * the sl_expr object's lifetime (parse, columns, free).
 *
 * Grammar (lowest precedence first; binary operators associate left):
 *   expr    := and_e ('or' and_e)*
 *   and_e   := not_e ('and' not_e)*
 *   not_e   := 'not' not_e | cmp
 *   cmp     := sum [ cmpop sum | 'is' ['not'] 'null' ]   (not chained)
 *   sum     := prod (('+' | '-') prod)*
 *   prod    := unary (('*' | '/' | '%') unary)*
 *   unary   := '-' unary | primary
 *   primary := number | string | 'true' | 'false' | 'null'
 *            | name '(' [expr (',' expr)*] ')' | name | '(' expr ')'
 *
 * Invariants: the tree is at most EX_MAX_DEPTH nodes high and the parser
 * recurses at most EX_MAX_DEPTH levels (parentheses, 'not', unary minus),
 * whatever the input. Every node records where its text starts (col) and
 * where its operator or name is (opcol), so later errors can point at the
 * operand at fault.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/mem.h"
#include "expr_internal.h"

#define EX_MAX_TEXT 65536

typedef struct parser {
    ex_lexer lx;
    ex_token tok; /* the lookahead */
    sl_arena *arena;
    sl_err *err;
    int depth;
    const char **names; /* distinct column names (arena strings) */
    size_t nnames, capnames;
} parser;

sl_rc ex_oom(sl_err *err)
{
    return sl_err_set(err, SL_ENOMEM, "out of memory");
}

ex_node *ex_node_new(sl_arena *a, ex_kind kind, int64_t col, int nargs)
{
    ex_node *n = sl_arena_calloc(a, sizeof *n);
    if (!n)
        return NULL;
    n->kind = kind;
    n->col = col;
    n->opcol = col;
    n->height = 1;
    n->nargs = nargs;
    n->colidx = -1;
    if (nargs > 0) {
        n->args = sl_arena_calloc(a, (size_t)nargs * sizeof *n->args);
        if (!n->args)
            return NULL;
    }
    return n;
}

static sl_rc next(parser *p) { return ex_lex_next(&p->lx, &p->tok, p->err); }

/* "expected <what> at col N, got <token>" at the lookahead. */
static sl_rc expected(parser *p, const char *what)
{
    char got[64];
    ex_tok_describe(&p->tok, got, sizeof got);
    return sl_err_setloc(p->err, SL_EPARSE, NULL, 0, p->tok.col,
                         "expected %s at col %lld, got %s", what,
                         (long long)p->tok.col, got);
}

static sl_rc enter(parser *p, int64_t col)
{
    if (++p->depth > EX_MAX_DEPTH)
        return sl_err_setloc(p->err, SL_EPARSE, NULL, 0, col,
                             "expression nested too deeply at col %lld "
                             "(limit %d levels)",
                             (long long)col, EX_MAX_DEPTH);
    return SL_OK;
}

/* Sets the node's height from its args and enforces the bound. */
static sl_rc seal(parser *p, ex_node *n)
{
    int h = 0;
    for (int i = 0; i < n->nargs; i++)
        if (n->args[i]->height > h)
            h = n->args[i]->height;
    n->height = h + 1;
    if (n->height > EX_MAX_DEPTH)
        return sl_err_setloc(p->err, SL_EPARSE, NULL, 0, n->opcol,
                             "expression nested too deeply at col %lld "
                             "(limit %d levels)",
                             (long long)n->opcol, EX_MAX_DEPTH);
    return SL_OK;
}

static sl_rc binary(parser *p, ex_kind kind, int op, int64_t opcol,
                    ex_node *l, ex_node *r, ex_node **out)
{
    ex_node *n = ex_node_new(p->arena, kind, l->col, 2);
    if (!n)
        return ex_oom(p->err);
    n->op = op;
    n->opcol = opcol;
    n->args[0] = l;
    n->args[1] = r;
    *out = n;
    return seal(p, n);
}

static sl_rc add_name(parser *p, const char *name)
{
    for (size_t i = 0; i < p->nnames; i++)
        if (strcmp(p->names[i], name) == 0)
            return SL_OK;
    /* +1 keeps room for the NULL terminator. */
    if (sl_grow((void **)&p->names, &p->capnames, p->nnames + 2,
                sizeof *p->names) != 0)
        return ex_oom(p->err);
    p->names[p->nnames++] = name;
    p->names[p->nnames] = NULL;
    return SL_OK;
}

/* Integer literal with an optional leading minus (so that
 * -9223372036854775808 is representable). */
static sl_rc number(parser *p, int neg, int64_t col, ex_node **out)
{
    const ex_token *t = &p->tok;
    ex_node *n = ex_node_new(p->arena, EX_LIT, col, 0);
    if (!n)
        return ex_oom(p->err);
    char buf[80];
    if (t->kind == TK_INT) {
        uint64_t v = 0;
        int over = 0;
        for (size_t i = 0; i < t->len; i++) {
            uint64_t d = (uint64_t)(t->start[i] - '0');
            if (v > (UINT64_MAX - d) / 10)
                over = 1;
            else
                v = v * 10 + d;
        }
        uint64_t lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
        if (over || v > lim)
            return sl_err_setloc(p->err, SL_EPARSE, NULL, 0, col,
                                 "integer %s%.*s out of range at col %lld",
                                 neg ? "-" : "", t->len > 40 ? 40 : (int)t->len,
                                 t->start, (long long)col);
        n->lit.type = SL_INT64;
        n->lit.i = neg ? (int64_t)(0 - v) : (int64_t)v;
    } else {
        /* strtod needs a terminated copy; a literal longer than the
         * buffer is refused (no useful float needs 80 characters). The
         * lexer has already checked the syntax, which is a subset of
         * strtod's, so strtod consumes the whole token. */
        if (t->len >= sizeof buf)
            return sl_err_setloc(p->err, SL_EPARSE, NULL, 0, col,
                                 "number too long at col %lld",
                                 (long long)col);
        memcpy(buf, t->start, t->len);
        buf[t->len] = '\0';
        double v = strtod(buf, NULL);
        if (isinf(v))
            return sl_err_setloc(p->err, SL_EPARSE, NULL, 0, col,
                                 "number %s%s out of range at col %lld",
                                 neg ? "-" : "", buf, (long long)col);
        n->lit.type = SL_FLOAT64;
        n->lit.f = neg ? -v : v;
    }
    *out = n;
    return next(p);
}

static sl_rc parse_expr(parser *p, ex_node **out);

static sl_rc parse_call(parser *p, const ex_token *name, ex_node **out)
{
    sl_rc rc = next(p); /* '(' */
    if (rc)
        return rc;
    ex_node *args[8];
    ex_node **v = args; /* grows into the arena beyond 8 arguments */
    int n = 0, cap = 8;
    if (p->tok.kind != TK_RPAREN) {
        for (;;) {
            if (n == EX_MAX_ARGS)
                return sl_err_setloc(p->err, SL_EPARSE, NULL, 0, p->tok.col,
                                     "too many arguments at col %lld "
                                     "(limit %d)",
                                     (long long)p->tok.col, EX_MAX_ARGS);
            if (n == cap) {
                ex_node **nv = sl_arena_alloc(p->arena,
                                              2 * (size_t)cap * sizeof *nv);
                if (!nv)
                    return ex_oom(p->err);
                memcpy(nv, v, (size_t)n * sizeof *nv);
                v = nv;
                cap *= 2;
            }
            if ((rc = parse_expr(p, &v[n])) != SL_OK)
                return rc;
            n++;
            if (p->tok.kind == TK_COMMA) {
                if ((rc = next(p)) != SL_OK)
                    return rc;
                continue;
            }
            if (p->tok.kind != TK_RPAREN)
                return expected(p, "',' or ')'");
            break;
        }
    }
    ex_node *c = ex_node_new(p->arena, EX_CALL, name->col, n);
    if (!c)
        return ex_oom(p->err);
    if (n)
        memcpy(c->args, v, (size_t)n * sizeof *v);
    c->name = name->value;
    *out = c;
    if ((rc = seal(p, c)) != SL_OK)
        return rc;
    return next(p); /* ')' */
}

static sl_rc parse_primary(parser *p, ex_node **out)
{
    ex_token t = p->tok;
    sl_rc rc;
    ex_node *n;
    switch (t.kind) {
    case TK_INT:
    case TK_FLOAT: return number(p, 0, t.col, out);
    case TK_STRING:
    case TK_TRUE:
    case TK_FALSE:
    case TK_NULL:
        if (!(n = ex_node_new(p->arena, EX_LIT, t.col, 0)))
            return ex_oom(p->err);
        if (t.kind == TK_STRING) {
            n->lit.type = SL_STRING;
            n->lit.s = t.value;
            n->lit.slen = t.vlen;
            n->lit_text = 1;
        } else if (t.kind == TK_NULL) {
            n->lit.type = SL_NULL;
            n->lit.null = 1;
        } else {
            n->lit.type = SL_BOOL;
            n->lit.i = t.kind == TK_TRUE;
        }
        *out = n;
        return next(p);
    case TK_IDENT:
        if ((rc = next(p)) != SL_OK)
            return rc;
        if (p->tok.kind == TK_LPAREN && !t.quoted)
            return parse_call(p, &t, out);
        if (!(n = ex_node_new(p->arena, EX_COL, t.col, 0)))
            return ex_oom(p->err);
        n->name = t.value;
        *out = n;
        return add_name(p, t.value);
    case TK_LPAREN:
        if ((rc = next(p)) != SL_OK || (rc = parse_expr(p, out)) != SL_OK)
            return rc;
        if (p->tok.kind != TK_RPAREN)
            return expected(p, "')'");
        return next(p);
    default:
        if (t.kind == TK_EOF && t.col == 1)
            return sl_err_setloc(p->err, SL_EPARSE, NULL, 0, 1,
                                 "empty expression");
        return expected(p, "an expression");
    }
}

static sl_rc parse_unary(parser *p, ex_node **out)
{
    if (p->tok.kind != TK_MINUS)
        return parse_primary(p, out);
    int64_t col = p->tok.col;
    sl_rc rc = enter(p, col);
    if (rc || (rc = next(p)) != SL_OK)
        return rc;
    if (p->tok.kind == TK_INT || p->tok.kind == TK_FLOAT) {
        rc = number(p, 1, col, out);
    } else {
        ex_node *a;
        if ((rc = parse_unary(p, &a)) != SL_OK)
            return rc;
        ex_node *n = ex_node_new(p->arena, EX_NEG, col, 1);
        if (!n)
            return ex_oom(p->err);
        n->args[0] = a;
        *out = n;
        rc = seal(p, n);
    }
    p->depth--;
    return rc;
}

static sl_rc parse_prod(parser *p, ex_node **out)
{
    sl_rc rc = parse_unary(p, out);
    while (rc == SL_OK && (p->tok.kind == TK_STAR || p->tok.kind == TK_SLASH ||
                           p->tok.kind == TK_PERCENT)) {
        int op = p->tok.kind == TK_STAR    ? AR_MUL
                 : p->tok.kind == TK_SLASH ? AR_DIV
                                           : AR_MOD;
        int64_t opcol = p->tok.col;
        ex_node *r;
        if ((rc = next(p)) != SL_OK || (rc = parse_unary(p, &r)) != SL_OK)
            break;
        rc = binary(p, EX_ARITH, op, opcol, *out, r, out);
    }
    return rc;
}

static sl_rc parse_sum(parser *p, ex_node **out)
{
    sl_rc rc = parse_prod(p, out);
    while (rc == SL_OK &&
           (p->tok.kind == TK_PLUS || p->tok.kind == TK_MINUS)) {
        int op = p->tok.kind == TK_PLUS ? AR_ADD : AR_SUB;
        int64_t opcol = p->tok.col;
        ex_node *r;
        if ((rc = next(p)) != SL_OK || (rc = parse_prod(p, &r)) != SL_OK)
            break;
        rc = binary(p, EX_ARITH, op, opcol, *out, r, out);
    }
    return rc;
}

static int cmp_op(ex_tok_kind k)
{
    switch (k) {
    case TK_EQ: return CM_EQ;
    case TK_NE: return CM_NE;
    case TK_LT: return CM_LT;
    case TK_LE: return CM_LE;
    case TK_GT: return CM_GT;
    case TK_GE: return CM_GE;
    default: return -1;
    }
}

static sl_rc parse_cmp(parser *p, ex_node **out)
{
    sl_rc rc = parse_sum(p, out);
    if (rc)
        return rc;
    int op = cmp_op(p->tok.kind);
    int64_t opcol = p->tok.col;
    if (op >= 0) {
        ex_node *r;
        if ((rc = next(p)) != SL_OK || (rc = parse_sum(p, &r)) != SL_OK ||
            (rc = binary(p, EX_CMP, op, opcol, *out, r, out)) != SL_OK)
            return rc;
    } else if (p->tok.kind == TK_IS) {
        if ((rc = next(p)) != SL_OK)
            return rc;
        int negate = 0;
        if (p->tok.kind == TK_NOT) {
            negate = 1;
            if ((rc = next(p)) != SL_OK)
                return rc;
        }
        if (p->tok.kind != TK_NULL)
            return expected(p, negate ? "'null' after 'is not'"
                                      : "'null' or 'not null' after 'is'");
        ex_node *n = ex_node_new(p->arena, EX_ISNULL, (*out)->col, 1);
        if (!n)
            return ex_oom(p->err);
        n->op = negate;
        n->opcol = opcol;
        n->args[0] = *out;
        *out = n;
        if ((rc = seal(p, n)) != SL_OK || (rc = next(p)) != SL_OK)
            return rc;
    } else {
        return SL_OK;
    }
    if (cmp_op(p->tok.kind) >= 0 || p->tok.kind == TK_IS)
        return sl_err_setloc(p->err, SL_EPARSE, NULL, 0, p->tok.col,
                             "comparisons cannot be chained at col %lld "
                             "(combine them with 'and')",
                             (long long)p->tok.col);
    return SL_OK;
}

static sl_rc parse_not(parser *p, ex_node **out)
{
    if (p->tok.kind != TK_NOT)
        return parse_cmp(p, out);
    int64_t col = p->tok.col;
    sl_rc rc = enter(p, col);
    ex_node *a;
    if (rc || (rc = next(p)) != SL_OK || (rc = parse_not(p, &a)) != SL_OK)
        return rc;
    ex_node *n = ex_node_new(p->arena, EX_NOT, col, 1);
    if (!n)
        return ex_oom(p->err);
    n->args[0] = a;
    *out = n;
    p->depth--;
    return seal(p, n);
}

static sl_rc parse_and(parser *p, ex_node **out)
{
    sl_rc rc = parse_not(p, out);
    while (rc == SL_OK && p->tok.kind == TK_AND) {
        int64_t opcol = p->tok.col;
        ex_node *r;
        if ((rc = next(p)) != SL_OK || (rc = parse_not(p, &r)) != SL_OK)
            break;
        rc = binary(p, EX_AND, 0, opcol, *out, r, out);
    }
    return rc;
}

static sl_rc parse_expr(parser *p, ex_node **out)
{
    sl_rc rc = enter(p, p->tok.col);
    if (rc)
        return rc;
    rc = parse_and(p, out);
    while (rc == SL_OK && p->tok.kind == TK_OR) {
        int64_t opcol = p->tok.col;
        ex_node *r;
        if ((rc = next(p)) != SL_OK || (rc = parse_and(p, &r)) != SL_OK)
            break;
        rc = binary(p, EX_OR, 0, opcol, *out, r, out);
    }
    p->depth--;
    return rc;
}

sl_rc sl_expr_parse(const char *text, sl_expr **out, sl_err *err)
{
    sl_rc rc = SL_OK;
    parser p;
    memset(&p, 0, sizeof p);
    p.err = err;
    sl_expr *e = NULL;
    if (!text || !out) {
        rc = sl_err_set(err, SL_EINVAL, "sl_expr_parse: NULL argument");
        goto out;
    }
    *out = NULL;
    size_t len = strnlen(text, EX_MAX_TEXT + 1);
    if (len > EX_MAX_TEXT) {
        rc = sl_err_set(err, SL_EPARSE, "expression longer than %d bytes",
                        EX_MAX_TEXT);
        goto out;
    }
    if (!(e = sl_calloc(1, sizeof *e)) || !(e->text = sl_strdup(text)) ||
        !(e->parse_arena = sl_arena_new(0))) {
        rc = ex_oom(err);
        goto out;
    }
    p.arena = e->parse_arena;
    ex_lex_init(&p.lx, e->text, p.arena);
    if ((rc = next(&p)) != SL_OK || (rc = parse_expr(&p, &e->root)) != SL_OK)
        goto out;
    if (p.tok.kind != TK_EOF) {
        char got[64];
        ex_tok_describe(&p.tok, got, sizeof got);
        rc = sl_err_setloc(err, SL_EPARSE, NULL, 0, p.tok.col,
                           "unexpected %s at col %lld, expected an operator "
                           "or the end of the expression",
                           got, (long long)p.tok.col);
        goto out;
    }
    if (!p.names && (p.names = sl_calloc(1, sizeof *p.names)) == NULL) {
        rc = ex_oom(err);
        goto out;
    }
    e->colnames = p.names;
    e->ncolnames = (int)p.nnames;
    p.names = NULL;
    *out = e;
    e = NULL;
out:
    sl_free(p.names);
    sl_expr_free(e);
    return rc;
}

void ex_err_in_spec(sl_err *err, const char *file, int64_t line, int64_t col,
                    const char *what)
{
    if (!err)
        return;
    if (line > 0) {
        int64_t ecol = err->col > 0 ? err->col : 1;
        err->line = line;
        err->col = col > 0 ? col + ecol - 1 : 0;
    }
    if (file && !err->file[0])
        snprintf(err->file, sizeof err->file, "%s", file);
    if (what)
        sl_err_prefix(err, "%s", what);
}

int sl_expr_columns(const sl_expr *e, const char *const **names)
{
    if (!e) {
        if (names)
            *names = NULL;
        return 0;
    }
    if (names)
        *names = e->colnames;
    return e->ncolnames;
}

void sl_expr_free(sl_expr *e)
{
    if (!e)
        return;
    ex_pool_free(e);
    sl_free(e->colnames);
    if (e->parse_arena)
        sl_arena_free(e->parse_arena);
    if (e->bind_arena)
        sl_arena_free(e->bind_arena);
    sl_free(e->text);
    sl_free(e);
}
