/*
 * expr_lex.c: the tokenizer of the expression language.
 *
 * Owns the lexical rules: numbers (42, 3.5, .5, 1e-3), strings in single
 * or double quotes (the quote doubled or backslash-escaped inside),
 * identifiers (letters, digits, '_', any non-ASCII byte; or anything in
 * backticks with `` for a backtick), case-insensitive keywords, operators.
 *
 * Positions are 1-based character (UTF-8 code point) columns, the unit YAML
 * uses for columns, so the spec's column plus the expression's column - 1
 * lands on the offending character. The lexer reads a NUL-terminated text
 * and never looks past the NUL.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "expr_internal.h"

void ex_lex_init(ex_lexer *lx, const char *text, sl_arena *arena)
{
    lx->text = text;
    lx->pos = 0;
    lx->col = 1;
    lx->arena = arena;
}

/* Advance over k bytes, counting characters (UTF-8 continuation bytes do
 * not start a character). */
static void advance(ex_lexer *lx, size_t k)
{
    for (size_t i = 0; i < k; i++) {
        unsigned char c = (unsigned char)lx->text[lx->pos];
        if ((c & 0xC0) != 0x80)
            lx->col++;
        lx->pos++;
    }
}

static int is_ident_start(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
           c >= 0x80;
}

static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

static int is_ident_char(unsigned char c)
{
    return is_ident_start(c) || is_digit(c);
}

static const struct {
    const char *word;
    ex_tok_kind kind;
} keywords[] = {{"and", TK_AND},   {"or", TK_OR},     {"not", TK_NOT},
                {"is", TK_IS},     {"null", TK_NULL}, {"true", TK_TRUE},
                {"false", TK_FALSE}};

const char *ex_tok_kind_text(ex_tok_kind k)
{
    switch (k) {
    case TK_EOF: return "end of expression";
    case TK_INT:
    case TK_FLOAT: return "number";
    case TK_STRING: return "string";
    case TK_IDENT: return "name";
    case TK_AND: return "'and'";
    case TK_OR: return "'or'";
    case TK_NOT: return "'not'";
    case TK_IS: return "'is'";
    case TK_NULL: return "'null'";
    case TK_TRUE: return "'true'";
    case TK_FALSE: return "'false'";
    case TK_PLUS: return "'+'";
    case TK_MINUS: return "'-'";
    case TK_STAR: return "'*'";
    case TK_SLASH: return "'/'";
    case TK_PERCENT: return "'%'";
    case TK_LPAREN: return "'('";
    case TK_RPAREN: return "')'";
    case TK_COMMA: return "','";
    case TK_EQ: return "'='";
    case TK_NE: return "'!='";
    case TK_LT: return "'<'";
    case TK_LE: return "'<='";
    case TK_GT: return "'>'";
    case TK_GE: return "'>='";
    }
    return "token";
}

void ex_tok_describe(const ex_token *t, char *buf, size_t n)
{
    if (t->kind == TK_EOF) {
        snprintf(buf, n, "end of expression");
        return;
    }
    /* Quote the source text, cut long tokens so messages stay readable. */
    int len = t->len > 40 ? 40 : (int)t->len;
    snprintf(buf, n, "'%.*s%s'", len, t->start, t->len > 40 ? "..." : "");
}

static sl_rc lex_error(ex_lexer *lx, sl_err *err, int64_t col,
                       const char *what)
{
    (void)lx;
    return sl_err_setloc(err, SL_EPARSE, NULL, 0, col, "%s at col %lld",
                         what, (long long)col);
}

/* Number: digits [. digits] [e [+-] digits], or . digits [exponent]. A
 * letter or '_' right after a number ("12abc") is an error rather than two
 * tokens, which would only produce a confusing message later. */
static sl_rc lex_number(ex_lexer *lx, ex_token *tok, sl_err *err)
{
    const char *s = lx->text + lx->pos;
    size_t i = 0;
    int isfloat = 0;
    while (is_digit((unsigned char)s[i]))
        i++;
    if (s[i] == '.') {
        isfloat = 1;
        i++;
        while (is_digit((unsigned char)s[i]))
            i++;
    }
    if (s[i] == 'e' || s[i] == 'E') {
        size_t j = i + 1;
        if (s[j] == '+' || s[j] == '-')
            j++;
        if (!is_digit((unsigned char)s[j])) {
            char msg[96];
            snprintf(msg, sizeof msg, "invalid number '%.*s'",
                     (int)(j < 40 ? j : 40), s);
            return lex_error(lx, err, lx->col, msg);
        }
        while (is_digit((unsigned char)s[j]))
            j++;
        i = j;
        isfloat = 1;
    }
    if (is_ident_char((unsigned char)s[i]) || s[i] == '.') {
        size_t j = i;
        while (is_ident_char((unsigned char)s[j]) || s[j] == '.')
            j++;
        char msg[96];
        snprintf(msg, sizeof msg, "invalid number '%.*s'",
                 (int)(j < 40 ? j : 40), s);
        return lex_error(lx, err, lx->col, msg);
    }
    tok->kind = isfloat ? TK_FLOAT : TK_INT;
    tok->len = i;
    advance(lx, i);
    return SL_OK;
}

/* One pass over a quoted string or backtick identifier starting at s[0]
 * (the quote). The quote doubled stands for itself; in strings, backslash
 * escapes \\ \' \" \n \t \r \0 too. With out == NULL only measures. Returns
 * 0 and sets *srclen (bytes including quotes) and *outn, or -1 with *bad =
 * byte index of the problem and *unterminated set accordingly. */
static int scan_quoted(const char *s, char *out, size_t *srclen, size_t *outn,
                       size_t *bad, int *unterminated)
{
    char q = s[0];
    int backtick = q == '`';
    size_t i = 1, n = 0;
    for (;;) {
        char c = s[i];
        if (c == '\0') {
            *bad = 0;
            *unterminated = 1;
            return -1;
        }
        if (c == q) {
            if (s[i + 1] != q)
                break;
            if (out)
                out[n] = q;
            n++;
            i += 2;
            continue;
        }
        if (c == '\\' && !backtick) {
            char r;
            switch (s[i + 1]) {
            case '\\': r = '\\'; break;
            case '\'': r = '\''; break;
            case '"': r = '"'; break;
            case 'n': r = '\n'; break;
            case 't': r = '\t'; break;
            case 'r': r = '\r'; break;
            case '0': r = '\0'; break;
            default:
                *bad = s[i + 1] == '\0' ? 0 : i;
                *unterminated = s[i + 1] == '\0';
                return -1;
            }
            if (out)
                out[n] = r;
            n++;
            i += 2;
            continue;
        }
        if (out)
            out[n] = c;
        n++;
        i++;
    }
    *srclen = i + 1;
    *outn = n;
    return 0;
}

static sl_rc lex_quoted(ex_lexer *lx, ex_token *tok, sl_err *err)
{
    const char *s = lx->text + lx->pos;
    int backtick = s[0] == '`';
    size_t srclen = 0, outn = 0, bad = 0;
    int unterminated = 0;
    if (scan_quoted(s, NULL, &srclen, &outn, &bad, &unterminated) != 0) {
        if (unterminated)
            return lex_error(lx, err, lx->col,
                             backtick ? "unterminated `name` starting"
                                      : "unterminated string starting");
        int64_t col = lx->col;
        for (size_t k = 0; k < bad; k++)
            if (((unsigned char)s[k] & 0xC0) != 0x80)
                col++;
        return lex_error(lx, err, col, "unknown escape sequence");
    }
    if (backtick && outn == 0)
        return lex_error(lx, err, lx->col, "empty `name`");
    char *out = sl_arena_alloc(lx->arena, outn + 1);
    if (!out)
        return ex_oom(err);
    scan_quoted(s, out, &srclen, &outn, &bad, &unterminated);
    out[outn] = '\0';
    tok->kind = backtick ? TK_IDENT : TK_STRING;
    tok->quoted = backtick;
    tok->value = out;
    tok->vlen = outn;
    tok->len = srclen;
    advance(lx, srclen);
    return SL_OK;
}

sl_rc ex_lex_next(ex_lexer *lx, ex_token *tok, sl_err *err)
{
    memset(tok, 0, sizeof *tok);
    for (;;) {
        char c = lx->text[lx->pos];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
            advance(lx, 1);
        else
            break;
    }
    const char *s = lx->text + lx->pos;
    unsigned char c = (unsigned char)s[0];
    tok->start = s;
    tok->col = lx->col;
    if (c == '\0') {
        tok->kind = TK_EOF;
        return SL_OK;
    }
    if (is_digit(c) || (c == '.' && is_digit((unsigned char)s[1])))
        return lex_number(lx, tok, err);
    if (c == '\'' || c == '"' || c == '`')
        return lex_quoted(lx, tok, err);
    if (is_ident_start(c)) {
        size_t i = 0;
        while (is_ident_char((unsigned char)s[i]))
            i++;
        tok->len = i;
        tok->kind = TK_IDENT;
        for (size_t k = 0; k < sizeof keywords / sizeof keywords[0]; k++) {
            if (strlen(keywords[k].word) == i &&
                strncasecmp(keywords[k].word, s, i) == 0) {
                tok->kind = keywords[k].kind;
                break;
            }
        }
        if (tok->kind == TK_IDENT) {
            tok->value = sl_arena_strndup(lx->arena, s, i);
            if (!tok->value)
                return ex_oom(err);
            tok->vlen = i;
        }
        advance(lx, i);
        return SL_OK;
    }
    size_t len = 1;
    switch (c) {
    case '+': tok->kind = TK_PLUS; break;
    case '-': tok->kind = TK_MINUS; break;
    case '*': tok->kind = TK_STAR; break;
    case '/': tok->kind = TK_SLASH; break;
    case '%': tok->kind = TK_PERCENT; break;
    case '(': tok->kind = TK_LPAREN; break;
    case ')': tok->kind = TK_RPAREN; break;
    case ',': tok->kind = TK_COMMA; break;
    case '=':
        tok->kind = TK_EQ;
        if (s[1] == '=')
            len = 2;
        break;
    case '!':
        if (s[1] != '=')
            return lex_error(lx, err, lx->col,
                             "unexpected '!' (use 'not' or '!=')");
        tok->kind = TK_NE;
        len = 2;
        break;
    case '<':
        tok->kind = TK_LT;
        if (s[1] == '=') {
            tok->kind = TK_LE;
            len = 2;
        } else if (s[1] == '>') {
            tok->kind = TK_NE;
            len = 2;
        }
        break;
    case '>':
        tok->kind = TK_GT;
        if (s[1] == '=') {
            tok->kind = TK_GE;
            len = 2;
        }
        break;
    default: {
        char msg[64];
        if (c >= 0x20 && c < 0x7f)
            snprintf(msg, sizeof msg, "unexpected character '%c'", c);
        else
            snprintf(msg, sizeof msg, "unexpected byte 0x%02x", c);
        return lex_error(lx, err, lx->col, msg);
    }
    }
    tok->len = len;
    advance(lx, len);
    return SL_OK;
}
