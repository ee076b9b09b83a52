/*
 * config_map.c: fills a plugin's config struct from a spec node using its
 * sl_config_entry table, checks it, and prints the table as markdown.
 *
 * Order of work in sl_config_apply_ex: every default first, then the
 * node's keys (or the whole node for SL_CFG_WHOLE, or a bare value for
 * SL_CFG_SHORTHAND), then the required check. A value replaces the default
 * (the old one is freed), so there is exactly one owner per field.
 *
 * On failure the struct is released with sl_config_free before returning:
 * callers never see half-filled owned fields, and calling sl_config_free
 * again is harmless because it zeroes what it frees.
 *
 * Messages name the key, what was expected and what was found, at the
 * position of the offending node: "key 'infer_rows': expected an integer,
 * got 'abc'". Unknown keys get the closest valid key as a suggestion.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sluice/config_map.h"
#include "sluice/mem.h"

#define FIELD(cfg, e, T) ((T *)((char *)(cfg) + (e)->offset))
/* Longest name the edit distance is computed for; longer ones are never
 * "close" to the short identifiers used as keys and plugin names. */
#define SL_CLOSEST_MAX 64
/* Scalars quoted in messages are cut to this many bytes. */
#define SL_SHOW_MAX 48

/* ---- messages ---------------------------------------------------------- */

static sl_rc fail(sl_err *err, sl_rc code, const sl_node *at, const char *fmt,
                  ...) __attribute__((format(printf, 4, 5)));

static sl_rc fail(sl_err *err, sl_rc code, const sl_node *at, const char *fmt,
                  ...)
{
    char msg[SL_ERR_MSG_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!at)
        return sl_err_set(err, code, "%s", msg);
    return sl_err_setloc(err, code, at->file, at->line, at->col, "%s", msg);
}

/* "'text'", "a list", "a mapping", "null", "an empty value". */
static const char *describe(const sl_node *n, char *buf, size_t size)
{
    if (!n)
        return "an empty value";
    switch (n->kind) {
    case SL_NODE_SEQ:
        return "a list";
    case SL_NODE_MAP:
        return "a mapping";
    case SL_NODE_NULL:
        if (!n->value || !*n->value)
            return "an empty value";
        return "null";
    case SL_NODE_SCALAR:
        break;
    }
    size_t len = strlen(n->value);
    if (len > SL_SHOW_MAX)
        snprintf(buf, size, "'%.*s...'", SL_SHOW_MAX, n->value);
    else
        snprintf(buf, size, "'%s'", n->value);
    return buf;
}

static const char *expected(sl_cfg_type t)
{
    switch (t) {
    case SL_CFG_STR:
        return "a string";
    case SL_CFG_EXPR:
        return "an expression";
    case SL_CFG_INT:
        return "an integer";
    case SL_CFG_FLOAT:
        return "a number";
    case SL_CFG_BOOL:
        return "a boolean (true/false)";
    case SL_CFG_CHAR:
        return "a single character";
    case SL_CFG_ENUM:
        return "one of the choices";
    case SL_CFG_STRLIST:
        return "a list of strings";
    case SL_CFG_STRMAP:
        return "a mapping of names to strings";
    case SL_CFG_NODE:
        return "a value";
    }
    return "a value";
}

static sl_rc type_error(sl_err *err, const char *subject, sl_cfg_type t,
                        const sl_node *v)
{
    char buf[SL_SHOW_MAX + 8];
    return fail(err, SL_ECONFIG, v, "%s: expected %s, got %s", subject,
                expected(t), describe(v, buf, sizeof buf));
}

/* ---- closest names ----------------------------------------------------- */

/* Case-insensitive Levenshtein distance; both lengths <= SL_CLOSEST_MAX. */
static size_t edit_distance(const char *a, size_t na, const char *b, size_t nb)
{
    size_t row[SL_CLOSEST_MAX + 1];
    for (size_t j = 0; j <= nb; j++)
        row[j] = j;
    for (size_t i = 1; i <= na; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= nb; j++) {
            size_t up = row[j];
            size_t cost = tolower((unsigned char)a[i - 1]) !=
                          tolower((unsigned char)b[j - 1]);
            size_t best = diag + cost;
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[nb];
}

/* Tracks the best candidate seen so far for one key. */
typedef struct closest {
    const char *key;
    size_t len, limit, best;
    const char *name;
    size_t name_len;
} closest;

static void closest_init(closest *c, const char *key)
{
    c->key = key;
    c->len = strlen(key);
    c->limit = c->len / 3 > 2 ? c->len / 3 : 2;
    c->best = (size_t)-1;
    c->name = NULL;
    c->name_len = 0;
}

static void closest_try(closest *c, const char *name, size_t n)
{
    size_t diff = n > c->len ? n - c->len : c->len - n;
    if (diff > c->limit || n > SL_CLOSEST_MAX || c->len > SL_CLOSEST_MAX)
        return;
    size_t d = edit_distance(c->key, c->len, name, n);
    if (d <= c->limit && d < c->best) {
        c->best = d;
        c->name = name;
        c->name_len = n;
    }
}

const char *sl_closest_name(const char *const *names, const char *key)
{
    closest c;
    if (!names || !key)
        return NULL;
    closest_init(&c, key);
    for (; *names; names++)
        closest_try(&c, *names, strlen(*names));
    return c.name;
}

const char *sl_config_closest(const sl_config_entry *map, const char *key)
{
    closest c;
    if (!map || !key)
        return NULL;
    closest_init(&c, key);
    for (; map->key; map++)
        closest_try(&c, map->key, strlen(map->key));
    return c.name;
}

/* ---- scalar parsing ---------------------------------------------------- */

/* The text of a scalar-like node: scalars, and nulls that were written
 * (`~`, `null`), which list items read as strings. */
static const char *text_of(const sl_node *v, int allow_null)
{
    if (!v)
        return NULL;
    if (v->kind == SL_NODE_SCALAR)
        return v->value;
    if (allow_null && v->kind == SL_NODE_NULL && v->value && *v->value)
        return v->value;
    return NULL;
}

/* Where the text of v starts: a quoted scalar's text is after the quote. */
static void text_pos(const sl_node *v, int64_t *line, int64_t *col)
{
    *line = v->line;
    *col = v->col + (v->quoted == 1 && v->col > 0);
}

static int parse_int(const char *s, int64_t *out, int *range)
{
    char buf[64];
    size_t n = 0;
    /* YAML allows 1_000_000; strip the separators. */
    for (const char *p = s; *p; p++) {
        if (*p == '_' && p != s)
            continue;
        if (n + 1 >= sizeof buf)
            return -1;
        buf[n++] = *p;
    }
    buf[n] = '\0';
    if (!n || !(isdigit((unsigned char)buf[0]) ||
                ((buf[0] == '-' || buf[0] == '+') &&
                 isdigit((unsigned char)buf[1]))))
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(buf, &end, 10);
    if (*end)
        return -1;
    if (errno == ERANGE) {
        *range = 1;
        return -1;
    }
    *out = (int64_t)v;
    return 0;
}

static int parse_float(const char *s, double *out, int *range)
{
    static const char *const inf[] = {".inf", ".Inf", ".INF", NULL};
    const char *p = s;
    int neg = 0;

    if (*p == '-' || *p == '+')
        neg = *p++ == '-';
    for (int i = 0; inf[i]; i++)
        if (!strcmp(p, inf[i])) {
            *out = neg ? -HUGE_VAL : HUGE_VAL;
            return 0;
        }
    if (!strcmp(s, ".nan") || !strcmp(s, ".NaN") || !strcmp(s, ".NAN")) {
        *out = NAN;
        return 0;
    }
    /* Only decimal notation: strtod alone would also take "inf", "nan"
     * and hex floats. */
    if (!*s || strspn(s, "0123456789+-.eE") != strlen(s) ||
        !strpbrk(s, "0123456789"))
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*end)
        return -1;
    if (errno == ERANGE && fabs(v) == HUGE_VAL) {
        *range = 1;
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_bool(const char *s, int *out)
{
    static const char *const yes[] = {"true", "yes", "on", NULL};
    static const char *const no[] = {"false", "no", "off", NULL};
    for (int i = 0; yes[i]; i++) {
        if (!strcasecmp(s, yes[i])) {
            *out = 1;
            return 0;
        }
        if (!strcasecmp(s, no[i])) {
            *out = 0;
            return 0;
        }
    }
    return -1;
}

/* Index of s among the '|'-separated choices (exact, then ignoring case),
 * or -1. */
static int enum_index(const char *choices, const char *s)
{
    size_t n = strlen(s);
    for (int pass = 0; pass < 2; pass++) {
        const char *p = choices;
        for (int i = 0; p; i++) {
            const char *bar = strchr(p, '|');
            size_t len = bar ? (size_t)(bar - p) : strlen(p);
            if (len == n && (pass ? !strncasecmp(p, s, n) : !strncmp(p, s, n)))
                return i;
            p = bar ? bar + 1 : NULL;
        }
    }
    return -1;
}

static sl_rc enum_error(sl_err *err, const char *subject, const char *choices,
                        const sl_node *v)
{
    char list[512], buf[SL_SHOW_MAX + 8], hint[SL_CLOSEST_MAX + 32] = "";
    size_t n = 0;
    closest c;
    const char *text = text_of(v, 1);

    if (text)
        closest_init(&c, text);
    for (const char *p = choices; p;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (n < sizeof list)
            n += (size_t)snprintf(list + n, sizeof list - n, "%s%.*s",
                                  p == choices ? "" : ", ", (int)len, p);
        if (text)
            closest_try(&c, p, len);
        p = bar ? bar + 1 : NULL;
    }
    if (text && c.name)
        snprintf(hint, sizeof hint, " (did you mean '%.*s'?)",
                 (int)c.name_len, c.name);
    return fail(err, SL_ECONFIG, v, "%s: expected one of %s, got %s%s",
                subject, list, describe(v, buf, sizeof buf), hint);
}

/* ---- list and map values ---------------------------------------------- */

static void strlist_free(sl_strlist *l)
{
    for (int i = 0; i < l->n; i++)
        sl_free(l->items[i]);
    sl_free(l->items);
    sl_free(l->lines);
    sl_free(l->cols);
    memset(l, 0, sizeof *l);
}

static void strmap_free(sl_strmap *m)
{
    for (int i = 0; i < m->n; i++) {
        sl_free(m->keys[i]);
        sl_free(m->values[i]);
    }
    sl_free(m->keys);
    sl_free(m->values);
    sl_free(m->lines);
    sl_free(m->cols);
    memset(m, 0, sizeof *m);
}

/* Allocates the arrays of a list of n items (n may be 0). */
static int strlist_alloc(sl_strlist *l, int n)
{
    size_t k = n ? (size_t)n : 1;
    l->items = sl_calloc(k, sizeof *l->items);
    l->lines = sl_calloc(k, sizeof *l->lines);
    l->cols = sl_calloc(k, sizeof *l->cols);
    return l->items && l->lines && l->cols ? 0 : -1;
}

static sl_rc set_strlist(const char *subject, const sl_node *v,
                         sl_strlist *out, sl_err *err)
{
    sl_strlist l = {0};
    int single = v && v->kind == SL_NODE_SCALAR;
    int n = single ? 1 : v && v->kind == SL_NODE_SEQ ? v->n : -1;
    sl_rc rc = SL_OK;

    if (n < 0)
        return type_error(err, subject, SL_CFG_STRLIST, v);
    if (strlist_alloc(&l, n) != 0) {
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; i < n; i++, l.n++) {
        const sl_node *item = single ? v : v->items[i];
        const char *text = text_of(item, 1);
        if (!text) {
            char buf[SL_SHOW_MAX + 8];
            rc = fail(err, SL_ECONFIG, item,
                      "%s: item %d: expected a string, got %s", subject, i + 1,
                      describe(item, buf, sizeof buf));
            goto out;
        }
        if (!(l.items[i] = sl_strdup(text))) {
            rc = sl_err_set(err, SL_ENOMEM, "out of memory");
            goto out;
        }
        text_pos(item, &l.lines[i], &l.cols[i]);
    }
out:
    if (rc != SL_OK) {
        strlist_free(&l);
        return rc;
    }
    strlist_free(out);
    *out = l;
    return SL_OK;
}

static sl_rc set_strmap(const char *subject, const sl_node *v,
                        sl_strmap *out, sl_err *err)
{
    sl_strmap m = {0};
    sl_rc rc = SL_OK;

    if (!v || v->kind != SL_NODE_MAP)
        return type_error(err, subject, SL_CFG_STRMAP, v);
    size_t k = v->n ? (size_t)v->n : 1;
    m.keys = sl_calloc(k, sizeof *m.keys);
    m.values = sl_calloc(k, sizeof *m.values);
    m.lines = sl_calloc(k, sizeof *m.lines);
    m.cols = sl_calloc(k, sizeof *m.cols);
    if (!m.keys || !m.values || !m.lines || !m.cols) {
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; i < v->n; i++, m.n++) {
        const sl_node *item = v->items[i];
        const char *text = text_of(item, 1);
        if (!text) {
            char buf[SL_SHOW_MAX + 8];
            rc = fail(err, SL_ECONFIG, item ? item : v->keys[i],
                      "%s: value of '%s': expected a string, got %s", subject,
                      v->keys[i]->value, describe(item, buf, sizeof buf));
            goto out;
        }
        m.keys[i] = sl_strdup(v->keys[i]->value);
        m.values[i] = sl_strdup(text);
        if (!m.keys[i] || !m.values[i]) {
            rc = sl_err_set(err, SL_ENOMEM, "out of memory");
            m.n++; /* so the partial pair is freed */
            goto out;
        }
        text_pos(item, &m.lines[i], &m.cols[i]);
    }
out:
    if (rc != SL_OK) {
        strmap_free(&m);
        return rc;
    }
    strmap_free(out);
    *out = m;
    return SL_OK;
}

/* ---- one value --------------------------------------------------------- */

/* *slot = a copy of text; the old value (a default) is freed only once
 * the copy exists, so a failure leaves the field as it was. */
static sl_rc replace_str(char **slot, const char *text, sl_err *err)
{
    char *s = sl_strdup(text);
    if (!s)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    sl_free(*slot);
    *slot = s;
    return SL_OK;
}

/* Stores v (any node kind) into e's field of cfg. subject names the value
 * in messages ("key 'x'", or the section for a shorthand/whole value). */
static sl_rc set_value(const sl_config_entry *e, const sl_node *v, void *cfg,
                       const char *subject, sl_err *err)
{
    const char *text = text_of(v, 0);
    int range = 0;
    char buf[SL_SHOW_MAX + 8];

    switch (e->type) {
    case SL_CFG_STRLIST:
        return set_strlist(subject, v, FIELD(cfg, e, sl_strlist), err);
    case SL_CFG_STRMAP:
        return set_strmap(subject, v, FIELD(cfg, e, sl_strmap), err);
    case SL_CFG_NODE:
        *FIELD(cfg, e, const sl_node *) = v;
        return SL_OK;
    default:
        break;
    }
    if (!text)
        return e->type == SL_CFG_ENUM ? enum_error(err, subject, e->choices, v)
                                      : type_error(err, subject, e->type, v);

    switch (e->type) {
    case SL_CFG_STR:
        return replace_str(FIELD(cfg, e, char *), text, err);
    case SL_CFG_EXPR: {
        sl_cfg_expr *x = FIELD(cfg, e, sl_cfg_expr);
        sl_rc rc = replace_str(&x->text, text, err);
        if (rc == SL_OK)
            text_pos(v, &x->line, &x->col);
        return rc;
    }
    case SL_CFG_INT:
        if (parse_int(text, FIELD(cfg, e, int64_t), &range) != 0)
            return fail(err, SL_ECONFIG, v, "%s: %s, got %s", subject,
                        range ? "integer out of range"
                              : "expected an integer",
                        describe(v, buf, sizeof buf));
        return SL_OK;
    case SL_CFG_FLOAT:
        if (parse_float(text, FIELD(cfg, e, double), &range) != 0)
            return fail(err, SL_ECONFIG, v, "%s: %s, got %s", subject,
                        range ? "number out of range" : "expected a number",
                        describe(v, buf, sizeof buf));
        return SL_OK;
    case SL_CFG_BOOL:
        if (parse_bool(text, FIELD(cfg, e, int)) != 0)
            return type_error(err, subject, e->type, v);
        return SL_OK;
    case SL_CFG_CHAR:
        if (strlen(text) == 1)
            *FIELD(cfg, e, char) = text[0];
        else if (!strcmp(text, "\\t") || !strcasecmp(text, "tab"))
            *FIELD(cfg, e, char) = '\t';
        else
            return type_error(err, subject, e->type, v);
        return SL_OK;
    case SL_CFG_ENUM: {
        int i = e->choices ? enum_index(e->choices, text) : -1;
        if (i < 0)
            return enum_error(err, subject, e->choices ? e->choices : "", v);
        *FIELD(cfg, e, int) = i;
        return SL_OK;
    }
    default:
        return sl_err_set(err, SL_EINTERNAL,
                          "config map entry '%s': unknown type %d", e->key,
                          (int)e->type);
    }
}

/* ---- defaults ---------------------------------------------------------- */

/* A default list is comma-separated text: ",NA,null" is "", "NA", "null". */
static sl_rc default_strlist(const sl_config_entry *e, void *cfg, sl_err *err)
{
    sl_strlist l = {0};
    int n = 1;
    sl_rc rc = SL_OK;

    for (const char *p = e->def; *p; p++)
        n += *p == ',';
    if (strlist_alloc(&l, n) != 0) {
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        goto out;
    }
    for (const char *p = e->def; l.n < n; l.n++) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (!(l.items[l.n] = sl_strndup(p, len))) {
            rc = sl_err_set(err, SL_ENOMEM, "out of memory");
            goto out;
        }
        p += len + (comma != NULL);
    }
out:
    if (rc != SL_OK) {
        strlist_free(&l);
        return rc;
    }
    strlist_free(FIELD(cfg, e, sl_strlist));
    *FIELD(cfg, e, sl_strlist) = l;
    return SL_OK;
}

sl_rc sl_config_defaults(const sl_config_entry *map, void *cfg, sl_err *err)
{
    sl_rc rc = SL_OK;

    for (const sl_config_entry *e = map; e && e->key && rc == SL_OK; e++) {
        if (!e->def)
            continue;
        if (e->type == SL_CFG_STRLIST) {
            rc = default_strlist(e, cfg, err);
        } else if (e->type == SL_CFG_STRMAP || e->type == SL_CFG_NODE) {
            rc = sl_err_set(err, SL_EINTERNAL,
                            "config map entry '%s': this type takes no "
                            "default",
                            e->key);
        } else {
            /* Parse the default text like a value written in a spec. */
            sl_node v = {.kind = SL_NODE_SCALAR, .value = (char *)e->def};
            char subject[SL_CLOSEST_MAX + 64];
            snprintf(subject, sizeof subject, "key '%s'", e->key);
            rc = set_value(e, &v, cfg, subject, err);
            if (rc != SL_OK && rc != SL_ENOMEM) {
                /* A bad default is a bug in the plugin, not in the spec. */
                rc = SL_EINTERNAL;
                if (err) {
                    sl_err_prefix(err, "config map: bad default");
                    err->code = rc;
                }
            }
        }
    }
    if (rc != SL_OK)
        sl_config_free(map, cfg);
    return rc;
}

/* ---- applying a node --------------------------------------------------- */

static int in_list(const char *const *list, const char *s)
{
    for (; list && *list; list++)
        if (!strcmp(*list, s))
            return 1;
    return 0;
}

static sl_rc unknown_key(const sl_config_entry *map, const sl_node *key,
                         const char *what, sl_err *err)
{
    char ctx[SL_ERR_FIELD_MAX + 8] = "", hint[512];
    const char *best = sl_config_closest(map, key->value);
    char buf[SL_SHOW_MAX + 8];

    if (what)
        snprintf(ctx, sizeof ctx, " in %s", what);
    if (!map || !map->key) {
        snprintf(hint, sizeof hint, " (it takes no settings)");
    } else if (best) {
        snprintf(hint, sizeof hint, " (did you mean '%s'?)", best);
    } else {
        size_t n = (size_t)snprintf(hint, sizeof hint, " (valid keys:");
        for (const sl_config_entry *e = map; e->key && n < sizeof hint; e++)
            n += (size_t)snprintf(hint + n, sizeof hint - n, "%s %s",
                                  e == map ? "" : ",", e->key);
        if (n < sizeof hint)
            snprintf(hint + n, sizeof hint - n, ")");
    }
    /* describe() quotes and shortens a very long key. */
    return fail(err, SL_ECONFIG, key, "unknown key %s%s%s",
                describe(key, buf, sizeof buf), ctx, hint);
}

static const sl_config_entry *find_entry(const sl_config_entry *map,
                                         const char *key)
{
    for (; map && map->key; map++)
        if (!strcmp(map->key, key))
            return map;
    return NULL;
}

static const sl_config_entry *find_flag(const sl_config_entry *map, int flag)
{
    for (; map && map->key; map++)
        if (map->flags & flag)
            return map;
    return NULL;
}

/* Walks the keys of mapping node; seen[i] marks map[i] as given. */
static sl_rc apply_keys(const sl_config_entry *map, const sl_node *node,
                        void *cfg, const char *what, const char *const *skip,
                        unsigned char *seen, sl_err *err)
{
    char subject[SL_CLOSEST_MAX + 64];

    for (int i = 0; i < node->n; i++) {
        const sl_node *key = node->keys[i];
        if (in_list(skip, key->value))
            continue;
        const sl_config_entry *e = find_entry(map, key->value);
        if (!e)
            return unknown_key(map, key, what, err);
        snprintf(subject, sizeof subject, "key '%s'", e->key);
        /* An empty value (`key:`) reaches set_value as a null node, so
         * the message says "got an empty value" at the right place. */
        sl_rc rc = set_value(e, node->items[i], cfg, subject, err);
        if (rc != SL_OK)
            return rc;
        seen[e - map] = 1;
    }
    return SL_OK;
}

static sl_rc check_required(const sl_config_entry *map, const sl_node *node,
                            const unsigned char *seen, const char *what,
                            sl_err *err)
{
    for (const sl_config_entry *e = map; e && e->key; e++) {
        if (!(e->flags & SL_CFG_REQUIRED) || seen[e - map])
            continue;
        return fail(err, SL_ECONFIG, node, "missing required key '%s'%s%s",
                    e->key, what ? " in " : "", what ? what : "");
    }
    return SL_OK;
}

sl_rc sl_config_apply_ex(const sl_config_entry *map, const sl_node *node,
                         void *cfg, const char *what,
                         const char *const *skip, sl_err *err)
{
    const sl_config_entry *whole = find_flag(map, SL_CFG_WHOLE);
    const sl_config_entry *shorthand = find_flag(map, SL_CFG_SHORTHAND);
    int empty = !node || node->kind == SL_NODE_NULL;
    unsigned char *seen = NULL;
    size_t count = 0;
    char subject[SL_ERR_FIELD_MAX + 64];
    sl_rc rc;

    while (map && map[count].key)
        count++;
    if (!(seen = sl_calloc(count + 1, 1))) {
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = sl_config_defaults(map, cfg, err)) != SL_OK)
        goto out;

    if (empty) {
        /* No settings: defaults only, then the required check. */
    } else if (whole || (shorthand && node->kind != SL_NODE_MAP)) {
        const sl_config_entry *e = whole ? whole : shorthand;
        if (what)
            snprintf(subject, sizeof subject, "%s", what);
        else
            snprintf(subject, sizeof subject, "key '%s'", e->key);
        if ((rc = set_value(e, node, cfg, subject, err)) != SL_OK)
            goto out;
        seen[e - map] = 1;
    } else if (node->kind == SL_NODE_MAP) {
        rc = apply_keys(map, node, cfg, what, skip, seen, err);
        if (rc != SL_OK)
            goto out;
    } else {
        char buf[SL_SHOW_MAX + 8];
        rc = fail(err, SL_ECONFIG, node, "%s%sexpected a mapping, got %s",
                  what ? what : "", what ? ": " : "",
                  describe(node, buf, sizeof buf));
        goto out;
    }
    rc = check_required(map, node, seen, what, err);
out:
    if (rc != SL_OK)
        sl_config_free(map, cfg);
    sl_free(seen);
    return rc;
}

sl_rc sl_config_apply(const sl_config_entry *map, const sl_node *node,
                      void *cfg, sl_err *err)
{
    return sl_config_apply_ex(map, node, cfg, NULL, NULL, err);
}

void sl_config_free(const sl_config_entry *map, void *cfg)
{
    if (!cfg)
        return;
    for (const sl_config_entry *e = map; e && e->key; e++) {
        switch (e->type) {
        case SL_CFG_STR:
            sl_free(*FIELD(cfg, e, char *));
            *FIELD(cfg, e, char *) = NULL;
            break;
        case SL_CFG_EXPR:
            sl_free(FIELD(cfg, e, sl_cfg_expr)->text);
            memset(FIELD(cfg, e, sl_cfg_expr), 0, sizeof(sl_cfg_expr));
            break;
        case SL_CFG_STRLIST:
            strlist_free(FIELD(cfg, e, sl_strlist));
            break;
        case SL_CFG_STRMAP:
            strmap_free(FIELD(cfg, e, sl_strmap));
            break;
        case SL_CFG_NODE:
            *FIELD(cfg, e, const sl_node *) = NULL;
            break;
        default:
            break;
        }
    }
}

/* ---- documentation ----------------------------------------------------- */

const char *sl_config_type_name(sl_cfg_type t)
{
    switch (t) {
    case SL_CFG_STR:
        return "string";
    case SL_CFG_EXPR:
        return "expression";
    case SL_CFG_INT:
        return "integer";
    case SL_CFG_FLOAT:
        return "number";
    case SL_CFG_BOOL:
        return "boolean";
    case SL_CFG_CHAR:
        return "character";
    case SL_CFG_ENUM:
        return "enum";
    case SL_CFG_STRLIST:
        return "list of strings";
    case SL_CFG_STRMAP:
        return "mapping of strings";
    case SL_CFG_NODE:
        return "section";
    }
    return "unknown";
}

/* Writes s into a table cell: '|' would end the cell, a newline the row. */
static void cell(FILE *out, const char *s, size_t n)
{
    for (size_t i = 0; i < n && s[i]; i++) {
        if (s[i] == '|')
            fputs("\\|", out);
        else if (s[i] == '\n')
            fputc(' ', out);
        else
            fputc(s[i], out);
    }
}

static void code_cell(FILE *out, const char *s, size_t n)
{
    if (n == 0) {
        fputs("`\"\"`", out);
        return;
    }
    fputc('`', out);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\t')
            fputs("\\t", out);
        else
            cell(out, s + i, 1);
    }
    fputc('`', out);
}

static void doc_type(const sl_config_entry *e, FILE *out)
{
    if (e->type != SL_CFG_ENUM || !e->choices) {
        fputs(sl_config_type_name(e->type), out);
        return;
    }
    fputs("one of ", out);
    for (const char *p = e->choices; p;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (p != e->choices)
            fputs(", ", out);
        code_cell(out, p, len);
        p = bar ? bar + 1 : NULL;
    }
}

static void doc_default(const sl_config_entry *e, FILE *out)
{
    if (e->flags & SL_CFG_REQUIRED) {
        fputs("required", out);
    } else if (!e->def) {
        fputs("-", out);
    } else if (e->type == SL_CFG_STRLIST) {
        /* Show the list items, not the comma-separated encoding. */
        for (const char *p = e->def;;) {
            const char *comma = strchr(p, ',');
            size_t len = comma ? (size_t)(comma - p) : strlen(p);
            code_cell(out, p, len);
            if (!comma)
                break;
            fputs(", ", out);
            p = comma + 1;
        }
    } else {
        code_cell(out, e->def, strlen(e->def));
    }
}

void sl_config_doc_md(const sl_config_entry *map, FILE *out)
{
    if (!map || !map->key) {
        fputs("No settings.\n", out);
        return;
    }
    fputs("| key | type | default | description |\n", out);
    fputs("| --- | --- | --- | --- |\n", out);
    for (const sl_config_entry *e = map; e->key; e++) {
        fputs("| `", out);
        cell(out, e->key, strlen(e->key));
        fputs("`", out);
        if (e->flags & SL_CFG_WHOLE)
            fputs(" (whole section)", out);
        else if (e->flags & SL_CFG_SHORTHAND)
            fputs(" (shorthand)", out);
        fputs(" | ", out);
        doc_type(e, out);
        fputs(" | ", out);
        doc_default(e, out);
        fputs(" | ", out);
        if (e->doc)
            cell(out, e->doc, strlen(e->doc));
        fputs(" |\n", out);
    }
}
