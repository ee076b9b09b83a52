/*
 * expr_bind.c: type checking and name resolution (parse tree -> bound
 * tree), and constant folding.
 *
 * The binder copies the parse tree into e->bind_arena while it
 *   - resolves every column to its index in the schema (unknown names get a
 *     "did you mean" from sl_closest_name),
 *   - resolves function names (case-insensitive) and checks arity and
 *     argument types,
 *   - applies the type rules of docs/design/expressions.md and makes every
 *     implicit conversion explicit: an EX_CAST node (int64 -> float64,
 *     date -> timestamp) or, for constants, a converted literal (a string
 *     literal compared with a date becomes a date),
 *   - folds every operator whose operands are all constants by running the
 *     evaluator on one row (so folding and evaluation cannot disagree), and
 *     every strict operator with an always-null operand into a typed null.
 * After binding, the evaluator never sees an SL_NULL-typed operand of an
 * operator, never needs a type conversion of its own, and never sees an
 * operator whose operands are all scalars.
 *
 * Errors name the position of the operand at fault (sl_err col, and
 * "at col N" in the message) so the spec loader can point into the YAML.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sluice/config_map.h"
#include "sluice/mem.h"
#include "sluice/value.h"
#include "expr_internal.h"

typedef struct binder {
    const sl_schema *schema;
    sl_arena *arena;
    sl_err *err;
} binder;

typedef enum sig {
    SIG_COALESCE,
    SIG_IF,
    SIG_NUM_SAME,  /* number -> same type */
    SIG_NUM_FLOAT, /* number -> float64 */
    SIG_ROUND,     /* number [, int constant] -> same type */
    SIG_STR_STR,
    SIG_STR_INT,
    SIG_STR2_BOOL,
    SIG_TIME_INT /* date | timestamp -> int64 */
} sig;

static const struct fdef {
    const char *name;
    int min, max; /* arity; max -1 = unbounded */
    sig sig;
} fdefs[FN_COUNT] = {
    [FN_COALESCE] = {"coalesce", 1, -1, SIG_COALESCE},
    [FN_ABS] = {"abs", 1, 1, SIG_NUM_SAME},
    [FN_LOG] = {"log", 1, 1, SIG_NUM_FLOAT},
    [FN_EXP] = {"exp", 1, 1, SIG_NUM_FLOAT},
    [FN_SQRT] = {"sqrt", 1, 1, SIG_NUM_FLOAT},
    [FN_ROUND] = {"round", 1, 2, SIG_ROUND},
    [FN_FLOOR] = {"floor", 1, 1, SIG_NUM_SAME},
    [FN_CEIL] = {"ceil", 1, 1, SIG_NUM_SAME},
    [FN_LOWER] = {"lower", 1, 1, SIG_STR_STR},
    [FN_UPPER] = {"upper", 1, 1, SIG_STR_STR},
    [FN_LEN] = {"len", 1, 1, SIG_STR_INT},
    [FN_CONTAINS] = {"contains", 2, 2, SIG_STR2_BOOL},
    [FN_STARTS_WITH] = {"starts_with", 2, 2, SIG_STR2_BOOL},
    [FN_ENDS_WITH] = {"ends_with", 2, 2, SIG_STR2_BOOL},
    [FN_YEAR] = {"year", 1, 1, SIG_TIME_INT},
    [FN_MONTH] = {"month", 1, 1, SIG_TIME_INT},
    [FN_DAY] = {"day", 1, 1, SIG_TIME_INT},
    [FN_HOUR] = {"hour", 1, 1, SIG_TIME_INT},
    [FN_MINUTE] = {"minute", 1, 1, SIG_TIME_INT},
    [FN_SECOND] = {"second", 1, 1, SIG_TIME_INT},
    [FN_DAYOFWEEK] = {"dayofweek", 1, 1, SIG_TIME_INT},
    [FN_DAYOFYEAR] = {"dayofyear", 1, 1, SIG_TIME_INT},
    [FN_IF] = {"if", 3, 3, SIG_IF},
};

static const char *const arith_names[] = {"+", "-", "*", "/", "%"};

static int is_num(sl_type t) { return t == SL_INT64 || t == SL_FLOAT64; }
static int is_time(sl_type t) { return t == SL_DATE || t == SL_TIMESTAMP; }
static int is_const_str(const ex_node *n)
{
    return n->kind == EX_LIT && n->lit.type == SL_STRING && !n->lit.null;
}

static sl_rc type_err(binder *bd, int64_t col, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static sl_rc type_err(binder *bd, int64_t col, const char *fmt, ...)
{
    char msg[SL_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return sl_err_setloc(bd->err, SL_ESCHEMA, NULL, 0, col, "%s", msg);
}

static ex_node *new_node(binder *bd, ex_kind kind, const ex_node *like,
                         int nargs)
{
    ex_node *n = ex_node_new(bd->arena, kind, like->col, nargs);
    if (n) {
        n->opcol = like->opcol;
        n->op = like->op;
        n->name = like->name;
    }
    return n;
}

static ex_node *null_lit(binder *bd, const ex_node *like, sl_type t)
{
    ex_node *n = ex_node_new(bd->arena, EX_LIT, like->col, 0);
    if (n) {
        n->lit.type = t;
        n->lit.null = 1;
        n->type = t;
        n->nullable = 1;
    }
    return n;
}

/* Parse a constant string as a date (want SL_DATE) or timestamp. A date
 * literal where a timestamp is wanted means midnight UTC. Returns -1 when
 * the text is neither. */
static int parse_time_lit(const ex_node *n, sl_type want, int64_t *v)
{
    int32_t d;
    if (want == SL_DATE) {
        if (sl_parse_date(n->lit.s, n->lit.slen, &d) == 0) {
            *v = d;
            return 0;
        }
        return -1;
    }
    if (sl_parse_timestamp(n->lit.s, n->lit.slen, v) == 0)
        return 0;
    if (sl_parse_date(n->lit.s, n->lit.slen, &d) == 0) {
        *v = (int64_t)d * 86400000000LL;
        return 0;
    }
    return -1;
}

/* Make n produce type t, which the caller has checked is reachable:
 * same type, SL_NULL -> anything, int64 -> float64, date -> timestamp,
 * constant string -> date/timestamp. */
static sl_rc coerce(binder *bd, ex_node **np, sl_type t)
{
    ex_node *n = *np;
    /* An SL_NULL column becomes a null constant even when t is SL_NULL, so
     * no operator ever reads an SL_NULL column's (absent) values. */
    if (n->type == t && !(t == SL_NULL && n->kind != EX_LIT))
        return SL_OK;
    if (n->type == SL_NULL) {
        if (!(*np = null_lit(bd, n, t)))
            return ex_oom(bd->err);
        return SL_OK;
    }
    if (n->kind == EX_LIT) {
        ex_node *c = ex_node_new(bd->arena, EX_LIT, n->col, 0);
        if (!c)
            return ex_oom(bd->err);
        *c = *n;
        c->type = c->lit.type = t;
        if (n->lit.null) {
            /* typed null: nothing to convert */
        } else if (n->type == SL_INT64 && t == SL_FLOAT64) {
            c->lit.f = (double)n->lit.i;
        } else if (n->type == SL_DATE && t == SL_TIMESTAMP) {
            c->lit.i = n->lit.i * 86400000000LL;
        } else if (n->type == SL_STRING && is_time(t)) {
            if (parse_time_lit(n, t, &c->lit.i) != 0) {
                int len = n->lit.slen > 60 ? 60 : (int)n->lit.slen;
                return type_err(bd, n->col,
                                "invalid %s literal '%.*s' at col %lld "
                                "(expected %s)",
                                sl_type_name(t), len, n->lit.s,
                                (long long)n->col,
                                t == SL_DATE
                                    ? "YYYY-MM-DD"
                                    : "YYYY-MM-DD or YYYY-MM-DD HH:MM[:SS]");
            }
            c->lit.s = NULL;
            c->lit.slen = 0;
        } else {
            return sl_err_set(bd->err, SL_EINTERNAL,
                              "expression: bad literal conversion");
        }
        *np = c;
        return SL_OK;
    }
    ex_node *c = ex_node_new(bd->arena, EX_CAST, n->col, 1);
    if (!c)
        return ex_oom(bd->err);
    c->args[0] = n;
    c->type = t;
    c->nullable = n->nullable;
    c->height = n->height + 1;
    *np = c;
    return SL_OK;
}

/* Replace n (args bound, type set) by a literal when all its args are
 * literals. */
static sl_rc maybe_fold(binder *bd, ex_node **np)
{
    ex_node *n = *np;
    if (n->kind == EX_LIT || n->kind == EX_COL || n->nargs == 0)
        return SL_OK;
    for (int i = 0; i < n->nargs; i++)
        if (n->args[i]->kind != EX_LIT)
            return SL_OK;
    ex_node *l = ex_node_new(bd->arena, EX_LIT, n->col, 0);
    if (!l)
        return ex_oom(bd->err);
    sl_rc rc = ex_fold(n, bd->arena, &l->lit, bd->err);
    if (rc)
        return rc;
    l->type = n->type;
    l->nullable = l->lit.null;
    *np = l;
    return SL_OK;
}

static sl_rc bind_node(binder *bd, const ex_node *p, ex_node **out);

static sl_rc bind_args(binder *bd, const ex_node *p, ex_node *n)
{
    for (int i = 0; i < p->nargs; i++) {
        sl_rc rc = bind_node(bd, p->args[i], &n->args[i]);
        if (rc)
            return rc;
    }
    return SL_OK;
}

static sl_rc bind_column(binder *bd, const ex_node *p, ex_node **out)
{
    int idx = sl_schema_find(bd->schema, p->name);
    if (idx < 0) {
        const char **names = sl_calloc((size_t)bd->schema->n + 1,
                                       sizeof *names);
        if (!names)
            return ex_oom(bd->err);
        for (int i = 0; i < bd->schema->n; i++)
            names[i] = bd->schema->fields[i].name;
        const char *near = sl_closest_name(names, p->name);
        sl_rc rc;
        if (near)
            rc = sl_err_setloc(bd->err, SL_ESCHEMA, NULL, 0, p->col,
                               "unknown column '%s' at col %lld, did you "
                               "mean '%s'?",
                               p->name, (long long)p->col, near);
        else
            rc = sl_err_setloc(bd->err, SL_ESCHEMA, NULL, 0, p->col,
                               "unknown column '%s' at col %lld", p->name,
                               (long long)p->col);
        sl_err_field(bd->err, p->name);
        sl_free(names);
        return rc;
    }
    ex_node *n = new_node(bd, EX_COL, p, 0);
    if (!n)
        return ex_oom(bd->err);
    n->colidx = idx;
    n->type = bd->schema->fields[idx].type;
    n->nullable = bd->schema->fields[idx].nullable || n->type == SL_NULL;
    *out = n;
    return SL_OK;
}

static sl_rc need_num(binder *bd, const char *what, const ex_node *a)
{
    if (is_num(a->type) || a->type == SL_NULL)
        return SL_OK;
    return type_err(bd, a->col,
                    "operand of '%s' at col %lld is %s, expected a number",
                    what, (long long)a->col, sl_type_name(a->type));
}

static sl_rc need_bool(binder *bd, const char *what, const ex_node *a)
{
    if (a->type == SL_BOOL || a->type == SL_NULL)
        return SL_OK;
    return type_err(bd, a->col,
                    "operand of '%s' at col %lld is %s, expected bool", what,
                    (long long)a->col, sl_type_name(a->type));
}

/* Common type of two comparable operands (coercing them), or an error. */
static sl_rc bind_cmp(binder *bd, ex_node *n)
{
    ex_node **a = &n->args[0], **b = &n->args[1];
    sl_type ta = (*a)->type, tb = (*b)->type, t;
    sl_rc rc;
    n->type = SL_BOOL;
    n->nullable = (*a)->nullable || (*b)->nullable;
    if (ta == SL_NULL || tb == SL_NULL)
        return SL_OK; /* strict: folded to null by the caller */
    if (ta == tb)
        t = ta;
    else if (is_num(ta) && is_num(tb))
        t = SL_FLOAT64;
    else if (is_time(ta) && is_time(tb))
        t = SL_TIMESTAMP;
    else if (is_time(ta) && is_const_str(*b))
        t = ta;
    else if (is_time(tb) && is_const_str(*a))
        t = tb;
    else
        return type_err(bd, n->opcol, "cannot compare %s with %s at col %lld",
                        sl_type_name(ta), sl_type_name(tb),
                        (long long)n->opcol);
    /* A date compared with a timestamp literal ('2024-01-01 12:00') is
     * compared as a timestamp. */
    if (t == SL_DATE) {
        ex_node *s = is_const_str(*a) ? *a : is_const_str(*b) ? *b : NULL;
        int64_t v;
        if (s && parse_time_lit(s, SL_DATE, &v) != 0 &&
            parse_time_lit(s, SL_TIMESTAMP, &v) == 0)
            t = SL_TIMESTAMP;
    }
    if ((rc = coerce(bd, a, t)) != SL_OK || (rc = coerce(bd, b, t)) != SL_OK)
        return rc;
    return SL_OK;
}

/* coalesce / if: the common type of args[first..], where constant strings
 * may become dates or timestamps. */
static sl_rc unify_args(binder *bd, ex_node *n, int first, const char *fname)
{
    sl_type t = SL_NULL;
    int soft = -1; /* first constant-string arg */
    for (int i = first; i < n->nargs; i++) {
        ex_node *a = n->args[i];
        sl_type u = a->type;
        if (u == SL_NULL)
            continue;
        if (is_const_str(a) &&
            (t == SL_NULL || t == SL_STRING || is_time(t))) {
            if (soft < 0)
                soft = i;
            continue;
        }
        if (t == SL_NULL || t == u) {
            t = u;
        } else if (is_num(t) && is_num(u)) {
            t = SL_FLOAT64;
        } else if (is_time(t) && is_time(u)) {
            t = SL_TIMESTAMP;
        } else {
            return type_err(bd, a->col,
                            "%s() argument %d at col %lld is %s, expected %s",
                            fname, i + 1, (long long)a->col, sl_type_name(u),
                            sl_type_name(t));
        }
        if (soft >= 0 && !(t == SL_STRING || is_time(t))) {
            ex_node *s = n->args[soft];
            return type_err(bd, s->col,
                            "%s() argument %d at col %lld is string, "
                            "expected %s",
                            fname, soft + 1, (long long)s->col,
                            sl_type_name(t));
        }
    }
    if (t == SL_NULL && soft >= 0)
        t = SL_STRING;
    for (int i = first; i < n->nargs; i++) {
        sl_rc rc = coerce(bd, &n->args[i], t);
        if (rc)
            return rc;
    }
    n->type = t;
    return SL_OK;
}

static int find_func(const char *name)
{
    for (int f = 0; f < FN_COUNT; f++)
        if (strcasecmp(fdefs[f].name, name) == 0)
            return f;
    return -1;
}

static sl_rc unknown_func(binder *bd, const ex_node *p)
{
    const char *names[FN_COUNT + 1];
    for (int f = 0; f < FN_COUNT; f++)
        names[f] = fdefs[f].name;
    names[FN_COUNT] = NULL;
    const char *near = sl_closest_name(names, p->name);
    if (near)
        return sl_err_setloc(bd->err, SL_ESCHEMA, NULL, 0, p->col,
                             "unknown function '%s' at col %lld, did you "
                             "mean '%s'?",
                             p->name, (long long)p->col, near);
    return sl_err_setloc(bd->err, SL_ESCHEMA, NULL, 0, p->col,
                         "unknown function '%s' at col %lld", p->name,
                         (long long)p->col);
}

static sl_rc arg_err(binder *bd, const char *fname, int i, const ex_node *a,
                     const char *want)
{
    return type_err(bd, a->col,
                    "%s() argument %d at col %lld is %s, expected %s", fname,
                    i + 1, (long long)a->col, sl_type_name(a->type), want);
}

/* Type rules of the functions. n->args are bound; sets n->type and
 * n->nullable. */
static sl_rc bind_call(binder *bd, ex_node *n)
{
    const struct fdef *fd = &fdefs[n->op];
    const char *fn = fd->name;
    ex_node **a = n->args;
    sl_rc rc = SL_OK;
    int any_nullable = 0;
    for (int i = 0; i < n->nargs; i++)
        any_nullable |= a[i]->nullable;
    n->nullable = any_nullable;
    switch (fd->sig) {
    case SIG_COALESCE:
        if ((rc = unify_args(bd, n, 0, fn)) != SL_OK)
            return rc;
        n->nullable = 1;
        for (int i = 0; i < n->nargs; i++)
            if (!a[i]->nullable)
                n->nullable = 0;
        return SL_OK;
    case SIG_IF:
        if (a[0]->type != SL_BOOL && a[0]->type != SL_NULL)
            return arg_err(bd, fn, 0, a[0], "bool");
        if ((rc = coerce(bd, &a[0], SL_BOOL)) != SL_OK)
            return rc;
        if ((rc = unify_args(bd, n, 1, fn)) != SL_OK)
            return rc;
        n->nullable = a[1]->nullable || a[2]->nullable;
        return SL_OK;
    case SIG_NUM_SAME:
    case SIG_NUM_FLOAT:
    case SIG_ROUND:
        if (!is_num(a[0]->type) && a[0]->type != SL_NULL)
            return arg_err(bd, fn, 0, a[0], "a number");
        n->type = a[0]->type;
        if (fd->sig == SIG_NUM_FLOAT) {
            n->type = SL_FLOAT64;
            if ((rc = coerce(bd, &a[0], SL_FLOAT64)) != SL_OK)
                return rc;
            /* log and sqrt are null outside their domain */
            n->nullable = any_nullable || n->op != FN_EXP;
        }
        if (n->op == FN_ABS || n->op == FN_ROUND)
            n->nullable |= n->type == SL_INT64; /* overflow */
        if (fd->sig == SIG_ROUND && n->nargs == 2) {
            ex_node *d = a[1];
            if (d->type == SL_NULL)
                return SL_OK;
            if (d->kind != EX_LIT || d->type != SL_INT64)
                return type_err(bd, d->col,
                                "round() argument 2 at col %lld must be an "
                                "integer constant (digits)",
                                (long long)d->col);
        }
        return SL_OK;
    case SIG_STR_STR:
    case SIG_STR_INT:
    case SIG_STR2_BOOL:
        for (int i = 0; i < n->nargs; i++)
            if (a[i]->type != SL_STRING && a[i]->type != SL_NULL)
                return arg_err(bd, fn, i, a[i], "string");
        n->type = fd->sig == SIG_STR_STR   ? SL_STRING
                  : fd->sig == SIG_STR_INT ? SL_INT64
                                           : SL_BOOL;
        return SL_OK;
    case SIG_TIME_INT:
        if (is_const_str(a[0])) {
            int64_t v;
            sl_type t = parse_time_lit(a[0], SL_DATE, &v) == 0 ? SL_DATE
                                                              : SL_TIMESTAMP;
            if ((rc = coerce(bd, &a[0], t)) != SL_OK)
                return rc;
        }
        if (!is_time(a[0]->type) && a[0]->type != SL_NULL)
            return arg_err(bd, fn, 0, a[0], "timestamp or date");
        n->type = SL_INT64;
        return SL_OK;
    }
    return sl_err_set(bd->err, SL_EINTERNAL, "expression: bad signature");
}

/* Strict operators are null when any operand is null, so an operand that
 * is always null (null literal, SL_NULL column) makes the node a null
 * constant of its type. */
static int is_strict(const ex_node *n)
{
    switch (n->kind) {
    case EX_NEG:
    case EX_NOT:
    case EX_ARITH:
    case EX_CMP:
    case EX_CAST: return 1;
    case EX_CALL: return n->op != FN_COALESCE && n->op != FN_IF;
    default: return 0;
    }
}

static sl_rc bind_node(binder *bd, const ex_node *p, ex_node **out)
{
    sl_rc rc;
    ex_node *n;
    if (p->kind == EX_COL)
        return bind_column(bd, p, out);
    if (!(n = new_node(bd, p->kind, p, p->nargs)))
        return ex_oom(bd->err);
    if (p->kind == EX_CALL) {
        int f = find_func(p->name);
        if (f < 0)
            return unknown_func(bd, p);
        const struct fdef *fd = &fdefs[f];
        if (p->nargs < fd->min || (fd->max >= 0 && p->nargs > fd->max)) {
            char want[48];
            if (fd->max < 0)
                snprintf(want, sizeof want, "at least %d argument%s",
                         fd->min, fd->min == 1 ? "" : "s");
            else if (fd->min == fd->max)
                snprintf(want, sizeof want, "%d argument%s", fd->min,
                         fd->min == 1 ? "" : "s");
            else
                snprintf(want, sizeof want, "%d to %d arguments", fd->min,
                         fd->max);
            return type_err(bd, p->col, "%s() at col %lld takes %s, got %d",
                            fd->name, (long long)p->col, want, p->nargs);
        }
        n->op = f;
    }
    if ((rc = bind_args(bd, p, n)) != SL_OK)
        return rc;
    ex_node **a = n->args;
    switch (p->kind) {
    case EX_LIT:
        n->lit = p->lit;
        n->lit_text = p->lit_text;
        n->type = p->lit.type;
        n->nullable = p->lit.null;
        break;
    case EX_NEG:
        if ((rc = need_num(bd, "-", a[0])) != SL_OK)
            return rc;
        n->type = a[0]->type;
        n->nullable = a[0]->nullable || n->type == SL_INT64;
        break;
    case EX_NOT:
        if ((rc = need_bool(bd, "not", a[0])) != SL_OK)
            return rc;
        n->type = SL_BOOL;
        n->nullable = a[0]->nullable;
        break;
    case EX_AND:
    case EX_OR:
        for (int i = 0; i < 2; i++) {
            if ((rc = need_bool(bd, p->kind == EX_AND ? "and" : "or",
                                a[i])) != SL_OK ||
                (rc = coerce(bd, &a[i], SL_BOOL)) != SL_OK)
                return rc;
        }
        n->type = SL_BOOL;
        n->nullable = a[0]->nullable || a[1]->nullable;
        break;
    case EX_ISNULL:
        n->type = SL_BOOL;
        n->nullable = 0;
        if (a[0]->type == SL_NULL) {
            ex_node *l = ex_node_new(bd->arena, EX_LIT, n->col, 0);
            if (!l)
                return ex_oom(bd->err);
            l->type = l->lit.type = SL_BOOL;
            l->lit.i = !n->op;
            *out = l;
            return SL_OK;
        }
        break;
    case EX_ARITH: {
        const char *opn = arith_names[n->op];
        if ((rc = need_num(bd, opn, a[0])) != SL_OK ||
            (rc = need_num(bd, opn, a[1])) != SL_OK)
            return rc;
        sl_type t = SL_INT64;
        if (a[0]->type == SL_FLOAT64 || a[1]->type == SL_FLOAT64 ||
            n->op == AR_DIV)
            t = SL_FLOAT64;
        else if (a[0]->type == SL_NULL && a[1]->type == SL_NULL)
            t = SL_NULL;
        n->type = t;
        /* int64 overflow and division/modulo by zero give null */
        n->nullable = a[0]->nullable || a[1]->nullable || t == SL_INT64 ||
                      n->op == AR_DIV || n->op == AR_MOD;
        if (t != SL_NULL && ((rc = coerce(bd, &a[0], t)) != SL_OK ||
                             (rc = coerce(bd, &a[1], t)) != SL_OK))
            return rc;
        break;
    }
    case EX_CMP:
        if ((rc = bind_cmp(bd, n)) != SL_OK)
            return rc;
        break;
    case EX_CALL:
        if ((rc = bind_call(bd, n)) != SL_OK)
            return rc;
        break;
    default:
        return sl_err_set(bd->err, SL_EINTERNAL, "expression: bad node");
    }
    n->height = 1;
    for (int i = 0; i < n->nargs; i++)
        if (a[i]->height >= n->height)
            n->height = a[i]->height + 1;
    /* x / 0 and x % 0 are null whatever x is */
    if (n->kind == EX_ARITH && (n->op == AR_DIV || n->op == AR_MOD) &&
        a[1]->kind == EX_LIT && !a[1]->lit.null &&
        (a[1]->type == SL_INT64 ? a[1]->lit.i == 0 : a[1]->lit.f == 0)) {
        if (!(*out = null_lit(bd, n, n->type)))
            return ex_oom(bd->err);
        return SL_OK;
    }
    if (is_strict(n)) {
        for (int i = 0; i < n->nargs; i++) {
            if (a[i]->type == SL_NULL ||
                (a[i]->kind == EX_LIT && a[i]->lit.null)) {
                if (!(*out = null_lit(bd, n, n->type)))
                    return ex_oom(bd->err);
                return SL_OK;
            }
        }
    }
    /* if() with a constant condition is its chosen branch; coalesce()
     * drops null constants and stops at the first non-null constant. */
    if (n->kind == EX_CALL && n->op == FN_IF && a[0]->kind == EX_LIT) {
        *out = a[0]->lit.null || !a[0]->lit.i ? a[2] : a[1];
        return SL_OK;
    }
    if (n->kind == EX_CALL && n->op == FN_COALESCE) {
        int k = 0;
        for (int i = 0; i < n->nargs; i++) {
            if (a[i]->kind == EX_LIT && a[i]->lit.null)
                continue;
            a[k++] = a[i];
            if (a[i]->kind == EX_LIT)
                break;
        }
        if (k == 0) {
            *out = null_lit(bd, n, n->type);
            return *out ? SL_OK : ex_oom(bd->err);
        }
        if (k == 1) {
            *out = a[0];
            return SL_OK;
        }
        n->nargs = k;
    }
    *out = n;
    return maybe_fold(bd, out);
}

sl_rc sl_expr_bind(sl_expr *e, const sl_schema *s, sl_type *out_type,
                   sl_err *err)
{
    if (!e || !s)
        return sl_err_set(err, SL_EINVAL, "sl_expr_bind: NULL argument");
    e->bound = NULL;
    if (e->bind_arena) {
        sl_arena_reset(e->bind_arena);
    } else if (!(e->bind_arena = sl_arena_new(0))) {
        return ex_oom(err);
    }
    binder bd = {.schema = s, .arena = e->bind_arena, .err = err};
    ex_node *root = NULL;
    sl_rc rc = bind_node(&bd, e->root, &root);
    if (rc)
        return rc;
    e->bound = root;
    if (out_type)
        *out_type = root->type;
    return SL_OK;
}

int sl_expr_nullable(const sl_expr *e)
{
    return !e || !e->bound || e->bound->nullable;
}
