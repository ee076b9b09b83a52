/*
 * avro_schema.c: Avro schema JSON -> av_node graph, and the sluice <->
 * Avro schema mappings (see avro.h for the type tables).
 *
 * Parsing follows the specification's name rules: a named type (record,
 * enum, fixed) is registered under its full name before its children are
 * parsed, so a record may refer to itself (the graph may be cyclic); a
 * bare name is looked up in the enclosing namespace first, then as given.
 * Unknown or malformed logical types are ignored (the underlying type is
 * read), as the specification requires. Names are not checked against
 * Avro's character rules on read (some writers, fastavro among them, do
 * not enforce them); our writer only writes valid names.
 *
 * Bounds: nesting depth AV_MAX_DEPTH; the schema text is bounded by the
 * caller (container header, file size).
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "avro_internal.h"
#include "sluice/mem.h"

typedef struct named {
    const char *name;
    av_node *node;
} named;

typedef struct pctx {
    sl_avro_schema *s;
    const char *what;
    sl_err *err;
    named *names;
    size_t nnames, cap;
} pctx;

static const char *const prim_names[] = {"null",  "boolean", "int",   "long",
                                         "float", "double",  "bytes", "string"};

static sl_rc bad(pctx *c, const char *fmt, const char *arg)
{
    char msg[SL_ERR_MSG_MAX / 2];
    snprintf(msg, sizeof msg, fmt, arg ? arg : "");
    return sl_err_set(c->err, SL_ESCHEMA, "invalid Avro schema%s%s: %s", c->what ? " in " : "",
                      c->what ? c->what : "", msg);
}

static sl_rc nomem(sl_err *err)
{
    return sl_err_set(err, SL_ENOMEM, "out of memory");
}

static av_node *new_node(pctx *c, av_type t)
{
    av_node *n = sl_arena_calloc(c->s->arena, sizeof *n);
    if (n)
        n->t = t;
    return n;
}

static char *adup(pctx *c, const char *s)
{
    return sl_arena_strndup(c->s->arena, s, strlen(s));
}

/* Full name of `name` in namespace ns (NULL or "" = none). */
static char *full_name(pctx *c, const char *name, const char *ns)
{
    if (strchr(name, '.') || !ns || !*ns)
        return adup(c, name);
    size_t a = strlen(ns), b = strlen(name);
    char *f = sl_arena_alloc(c->s->arena, a + b + 2);
    if (f) {
        memcpy(f, ns, a);
        f[a] = '.';
        memcpy(f + a + 1, name, b + 1);
    }
    return f;
}

static av_node *lookup(pctx *c, const char *name, const char *ns)
{
    char buf[1024];
    if (!strchr(name, '.') && ns && *ns) {
        snprintf(buf, sizeof buf, "%s.%s", ns, name);
        for (size_t i = 0; i < c->nnames; i++)
            if (!strcmp(c->names[i].name, buf))
                return c->names[i].node;
    }
    for (size_t i = 0; i < c->nnames; i++)
        if (!strcmp(c->names[i].name, name))
            return c->names[i].node;
    return NULL;
}

static sl_rc define(pctx *c, av_node *n)
{
    if (lookup(c, n->name, NULL))
        return bad(c, "type '%s' is defined twice", n->name);
    void *p = c->names;
    if (sl_grow(&p, &c->cap, c->nnames + 1, sizeof *c->names) != 0)
        return nomem(c->err);
    c->names = p;
    c->names[c->nnames].name = n->name;
    c->names[c->nnames++].node = n;
    return SL_OK;
}

static int prim_type(const char *s, av_type *t)
{
    for (int i = 0; i < (int)(sizeof prim_names / sizeof prim_names[0]); i++)
        if (!strcmp(s, prim_names[i])) {
            *t = (av_type)i; /* AV_NULL .. AV_STRING follow prim_names */
            return 1;
        }
    return 0;
}

/* Applies a logicalType attribute when it is valid for the node. */
static void logical(av_node *n, const json_t *j)
{
    const char *lt = json_string_value(json_object_get(j, "logicalType"));
    if (!lt)
        return;
    if (n->t == AV_INT && !strcmp(lt, "date"))
        n->lt = AV_LT_DATE;
    else if (n->t == AV_INT && !strcmp(lt, "time-millis"))
        n->lt = AV_LT_TIME_MILLIS;
    else if (n->t == AV_LONG && !strcmp(lt, "time-micros"))
        n->lt = AV_LT_TIME_MICROS;
    else if (n->t == AV_LONG &&
             (!strcmp(lt, "timestamp-millis") || !strcmp(lt, "local-timestamp-millis")))
        n->lt = AV_LT_TS_MILLIS;
    else if (n->t == AV_LONG &&
             (!strcmp(lt, "timestamp-micros") || !strcmp(lt, "local-timestamp-micros")))
        n->lt = AV_LT_TS_MICROS;
    else if (n->t == AV_LONG &&
             (!strcmp(lt, "timestamp-nanos") || !strcmp(lt, "local-timestamp-nanos")))
        n->lt = AV_LT_TS_NANOS;
    else if ((n->t == AV_STRING || (n->t == AV_FIXED && n->size == 16)) && !strcmp(lt, "uuid"))
        n->lt = AV_LT_UUID;
    else if (n->t == AV_FIXED && n->size == 12 && !strcmp(lt, "duration"))
        n->lt = AV_LT_DURATION;
    else if ((n->t == AV_BYTES || n->t == AV_FIXED) && !strcmp(lt, "decimal")) {
        json_t *p = json_object_get(j, "precision"), *s = json_object_get(j, "scale");
        json_int_t prec = json_integer_value(p), scale = s ? json_integer_value(s) : 0;
        /* invalid parameters: ignored like an unknown logical type */
        if (!json_is_integer(p) || (s && !json_is_integer(s)) || prec < 1 || scale < 0 ||
            scale > prec || prec > 1000)
            return;
        n->lt = AV_LT_DECIMAL;
        n->precision = (int)prec;
        n->scale = (int)scale;
    }
}

static sl_rc parse_type(pctx *c, const json_t *j, const char *ns, int depth, av_node **out);

static sl_rc parse_aliases(pctx *c, const json_t *j, const char *ns, const char ***out,
                           int *nout)
{
    const json_t *a = json_object_get(j, "aliases");
    *out = NULL;
    *nout = 0;
    if (!a)
        return SL_OK;
    if (!json_is_array(a))
        return bad(c, "'aliases' must be a list of names%s", NULL);
    size_t n = json_array_size(a);
    const char **v = sl_arena_calloc(c->s->arena, (n ? n : 1) * sizeof *v);
    if (!v)
        return nomem(c->err);
    for (size_t i = 0; i < n; i++) {
        const char *s = json_string_value(json_array_get(a, i));
        if (!s)
            return bad(c, "'aliases' must be a list of names%s", NULL);
        if (!(v[i] = ns ? full_name(c, s, ns) : adup(c, s)))
            return nomem(c->err);
    }
    *out = v;
    *nout = (int)n;
    return SL_OK;
}

/* The name and namespace of a named type; *ns_out = its namespace. */
static sl_rc parse_name(pctx *c, const json_t *j, const char *ns, av_node *n,
                        const char **ns_out)
{
    const char *name = json_string_value(json_object_get(j, "name"));
    if (!name || !*name)
        return bad(c, "a %s needs a non-empty 'name'",
                   json_string_value(json_object_get(j, "type")));
    const json_t *nsj = json_object_get(j, "namespace");
    if (nsj && !json_is_string(nsj) && !json_is_null(nsj))
        return bad(c, "'namespace' of '%s' must be a string", name);
    if (json_is_string(nsj))
        ns = json_string_value(nsj);
    if (!(n->name = full_name(c, name, ns)))
        return nomem(c->err);
    const char *dot = strrchr(n->name, '.');
    *ns_out = "";
    if (dot) {
        char *space = sl_arena_strndup(c->s->arena, n->name, (size_t)(dot - n->name));
        if (!space)
            return nomem(c->err);
        *ns_out = space;
    }
    sl_rc rc = parse_aliases(c, j, *ns_out, &n->aliases, &n->naliases);
    return rc != SL_OK ? rc : define(c, n);
}

static sl_rc parse_record(pctx *c, const json_t *j, const char *ns, int depth, av_node *n)
{
    const char *rns;
    sl_rc rc = parse_name(c, j, ns, n, &rns);
    if (rc != SL_OK)
        return rc;
    const json_t *fl = json_object_get(j, "fields");
    if (!json_is_array(fl))
        return bad(c, "record '%s' needs a 'fields' list", n->name);
    size_t nf = json_array_size(fl);
    if (nf > 1000000)
        return bad(c, "record '%s' has too many fields", n->name);
    n->n = (int)nf;
    if (!(n->fields = sl_arena_calloc(c->s->arena, (nf ? nf : 1) * sizeof *n->fields)))
        return nomem(c->err);
    for (size_t i = 0; i < nf; i++) {
        const json_t *f = json_array_get(fl, i);
        av_field *fd = &n->fields[i];
        const char *name = json_string_value(json_object_get(f, "name"));
        if (!json_is_object(f) || !name)
            return bad(c, "every field of record '%s' needs a 'name'", n->name);
        for (size_t k = 0; k < i; k++)
            if (!strcmp(n->fields[k].name, name))
                return bad(c, "duplicate field name '%s'", name);
        if (!(fd->name = adup(c, name)))
            return nomem(c->err);
        const char *sn = json_string_value(json_object_get(f, "sluice.name"));
        if (sn && !(fd->sluice_name = adup(c, sn)))
            return nomem(c->err);
        const json_t *t = json_object_get(f, "type");
        if (!t)
            return bad(c, "field '%s' has no 'type'", name);
        if ((rc = parse_type(c, t, rns, depth + 1, &fd->type)) != SL_OK)
            return rc;
        fd->def = json_object_get(f, "default");
        if ((rc = parse_aliases(c, f, NULL, &fd->aliases, &fd->naliases)) != SL_OK)
            return rc;
    }
    return SL_OK;
}

static sl_rc parse_enum(pctx *c, const json_t *j, const char *ns, av_node *n)
{
    const char *ens;
    sl_rc rc = parse_name(c, j, ns, n, &ens);
    if (rc != SL_OK)
        return rc;
    const json_t *sy = json_object_get(j, "symbols");
    if (!json_is_array(sy))
        return bad(c, "enum '%s' needs a 'symbols' list", n->name);
    size_t ns_ = json_array_size(sy);
    if (ns_ > 1000000)
        return bad(c, "enum '%s' has too many symbols", n->name);
    n->n = (int)ns_;
    n->symbols = sl_arena_calloc(c->s->arena, (ns_ ? ns_ : 1) * sizeof *n->symbols);
    n->symlen = sl_arena_calloc(c->s->arena, (ns_ ? ns_ : 1) * sizeof *n->symlen);
    if (!n->symbols || !n->symlen)
        return nomem(c->err);
    for (size_t i = 0; i < ns_; i++) {
        const char *s = json_string_value(json_array_get(sy, i));
        if (!s)
            return bad(c, "the symbols of enum '%s' must be strings", n->name);
        if (!(n->symbols[i] = adup(c, s)))
            return nomem(c->err);
        n->symlen[i] = strlen(s);
    }
    const char *d = json_string_value(json_object_get(j, "default"));
    if (d && !(n->enum_default = adup(c, d)))
        return nomem(c->err);
    return SL_OK;
}

static sl_rc parse_object(pctx *c, const json_t *j, const char *ns, int depth, av_node **out)
{
    const json_t *tj = json_object_get(j, "type");
    sl_rc rc;
    if (json_is_object(tj) || json_is_array(tj))
        return parse_type(c, tj, ns, depth + 1, out);
    const char *t = json_string_value(tj);
    if (!t)
        return bad(c, "a type object needs a 'type'%s", NULL);
    av_type pt;
    av_node *n = NULL;
    if (prim_type(t, &pt)) {
        if (!(n = new_node(c, pt)))
            return nomem(c->err);
    } else if (!strcmp(t, "record") || !strcmp(t, "error")) {
        if (!(n = new_node(c, AV_RECORD)))
            return nomem(c->err);
        if ((rc = parse_record(c, j, ns, depth, n)) != SL_OK)
            return rc;
    } else if (!strcmp(t, "enum")) {
        if (!(n = new_node(c, AV_ENUM)))
            return nomem(c->err);
        if ((rc = parse_enum(c, j, ns, n)) != SL_OK)
            return rc;
    } else if (!strcmp(t, "array") || !strcmp(t, "map")) {
        int arr = !strcmp(t, "array");
        const json_t *it = json_object_get(j, arr ? "items" : "values");
        if (!it)
            return bad(c, arr ? "an array needs 'items'%s" : "a map needs 'values'%s", NULL);
        if (!(n = new_node(c, arr ? AV_ARRAY : AV_MAP)))
            return nomem(c->err);
        if ((rc = parse_type(c, it, ns, depth + 1, &n->items)) != SL_OK)
            return rc;
    } else if (!strcmp(t, "fixed")) {
        const char *fns;
        if (!(n = new_node(c, AV_FIXED)))
            return nomem(c->err);
        const json_t *sz = json_object_get(j, "size");
        if (!json_is_integer(sz) || json_integer_value(sz) < 0 ||
            json_integer_value(sz) > SL_AVRO_MAX_BLOCK_BYTES)
            return bad(c, "fixed '%s' needs a 'size' >= 0",
                       json_string_value(json_object_get(j, "name")));
        n->size = (int64_t)json_integer_value(sz);
        if ((rc = parse_name(c, j, ns, n, &fns)) != SL_OK)
            return rc;
    } else {
        /* {"type": "SomeName"}: a reference with attributes */
        if (!(n = lookup(c, t, ns)))
            return bad(c, "unknown type '%s'", t);
        *out = n;
        return SL_OK;
    }
    logical(n, j);
    *out = n;
    return SL_OK;
}

static sl_rc parse_type(pctx *c, const json_t *j, const char *ns, int depth, av_node **out)
{
    if (depth > AV_MAX_DEPTH)
        return bad(c, "types nested more than 64 deep%s", NULL);
    if (json_is_string(j)) {
        const char *t = json_string_value(j);
        av_type pt;
        if (prim_type(t, &pt)) {
            if (!(*out = new_node(c, pt)))
                return nomem(c->err);
            return SL_OK;
        }
        if (!(*out = lookup(c, t, ns)))
            return bad(c, "unknown type '%s'", t);
        return SL_OK;
    }
    if (json_is_object(j))
        return parse_object(c, j, ns, depth, out);
    if (!json_is_array(j))
        return bad(c, "a type must be a name, an object or a union list%s", NULL);
    size_t nb = json_array_size(j);
    if (nb == 0)
        return bad(c, "a union needs at least one branch%s", NULL);
    if (nb > 10000)
        return bad(c, "a union has too many branches%s", NULL);
    av_node *n = new_node(c, AV_UNION);
    if (!n || !(n->branches = sl_arena_calloc(c->s->arena, nb * sizeof *n->branches)))
        return nomem(c->err);
    n->n = (int)nb;
    for (size_t i = 0; i < nb; i++) {
        sl_rc rc = parse_type(c, json_array_get(j, i), ns, depth + 1, &n->branches[i]);
        if (rc != SL_OK)
            return rc;
        if (n->branches[i]->t == AV_UNION)
            return bad(c, "a union may not contain a union%s", NULL);
    }
    *out = n;
    return SL_OK;
}

/* Fewest bytes a datum of n takes; cycles count as 0 (an underestimate is
 * safe: the value only bounds counts). */
static int64_t min_size(av_node *n)
{
    if (n->state == 2)
        return n->min_size;
    if (n->state == 1)
        return 0;
    n->state = 1;
    int64_t m = 0;
    switch (n->t) {
    case AV_NULL: m = 0; break;
    case AV_BOOLEAN: case AV_INT: case AV_LONG: case AV_BYTES: case AV_STRING:
    case AV_ENUM: case AV_ARRAY: case AV_MAP: m = 1; break;
    case AV_FLOAT: m = 4; break;
    case AV_DOUBLE: m = 8; break;
    case AV_FIXED: m = n->size; break;
    case AV_UNION:
        m = INT64_MAX;
        for (int i = 0; i < n->n; i++) {
            int64_t b = min_size(n->branches[i]);
            if (b < m)
                m = b;
        }
        m = 1 + m;
        break;
    case AV_RECORD:
        for (int i = 0; i < n->n; i++) {
            m += min_size(n->fields[i].type);
            if (m > (INT64_C(1) << 40))
                m = INT64_C(1) << 40;
        }
        break;
    }
    if (n->t == AV_ARRAY || n->t == AV_MAP)
        (void)min_size(n->items);
    n->min_size = m;
    n->state = 2;
    return m;
}

sl_rc av_schema_from_json(json_t *doc, const char *what, sl_avro_schema **out, sl_err *err)
{
    sl_rc rc;
    pctx c;
    memset(&c, 0, sizeof c);
    *out = NULL;
    c.what = what;
    c.err = err;
    sl_avro_schema *s = sl_calloc(1, sizeof *s);
    if (!s || !(s->arena = sl_arena_new(0))) {
        sl_free(s);
        json_decref(doc);
        return nomem(err);
    }
    s->doc = doc;
    c.s = s;
    if ((rc = parse_type(&c, doc, "", 0, &s->root)) != SL_OK)
        goto out;
    min_size(s->root);
    /* Our own compact form: what the writer stores and inspect prints. */
    char *t = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
    if (!t || !(s->text = sl_strdup(t)))
        rc = nomem(err);
    free(t); /* jansson's allocation */
out:
    sl_free(c.names);
    if (rc != SL_OK)
        sl_avro_schema_free(s);
    else
        *out = s;
    return rc;
}

sl_rc sl_avro_schema_parse(const char *text, size_t n, const char *what, sl_avro_schema **out,
                           sl_err *err)
{
    json_error_t je;
    *out = NULL;
    json_t *doc = json_loadb(text, n, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
    if (!doc)
        return sl_err_set(err, SL_ESCHEMA, "invalid Avro schema%s%s: not JSON (%s at character %d)",
                          what ? " in " : "", what ? what : "", je.text, je.position);
    return av_schema_from_json(doc, what, out, err);
}

void sl_avro_schema_free(sl_avro_schema *s)
{
    if (!s)
        return;
    json_decref(s->doc);
    sl_arena_free(s->arena);
    sl_free(s->text);
    sl_schema_free(s->sluice);
    sl_free(s);
}

const char *sl_avro_schema_json(const sl_avro_schema *s)
{
    return s->text;
}

void av_sanitize_name(const char *in, char *out, size_t len)
{
    size_t o = 0;
    if (len == 0)
        return;
    if (!((*in >= 'A' && *in <= 'Z') || (*in >= 'a' && *in <= 'z') || *in == '_') && o + 1 < len)
        out[o++] = '_';
    for (; *in && o + 1 < len; in++) {
        char ch = *in;
        int ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
                 ch == '_';
        out[o++] = ok ? ch : '_';
    }
    out[o] = '\0';
}

static json_t *avro_type_json(sl_type t)
{
    switch (t) {
    case SL_BOOL: return json_string("boolean");
    case SL_INT64: return json_string("long");
    case SL_FLOAT64: return json_string("double");
    case SL_STRING: return json_string("string");
    case SL_TIMESTAMP:
        return json_pack("{s:s, s:s}", "type", "long", "logicalType", "timestamp-micros");
    case SL_DATE: return json_pack("{s:s, s:s}", "type", "int", "logicalType", "date");
    default: return json_string("null");
    }
}

/* Appends "_2", "_3" ... until name is unique among fields [0, n). */
static void uniquify(json_t *fields, char *name, size_t cap)
{
    char base[600];
    snprintf(base, sizeof base, "%s", name);
    for (int k = 2;; k++) {
        int clash = 0;
        for (size_t i = 0; i < json_array_size(fields) && !clash; i++)
            clash = !strcmp(json_string_value(json_object_get(json_array_get(fields, i), "name")),
                            name);
        if (!clash)
            return;
        snprintf(name, cap, "%.480s_%d", base, k);
    }
}

sl_rc sl_avro_schema_from_sluice(const sl_schema *s, const char *name, sl_avro_schema **out,
                                 sl_err *err)
{
    *out = NULL;
    json_t *fields = json_array();
    json_t *doc = json_pack("{s:s, s:s, s:o}", "type", "record", "name",
                            name && *name ? name : "sluice.Row", "fields", fields);
    if (!doc)
        return nomem(err);
    for (int i = 0; i < s->n; i++) {
        const sl_field *f = &s->fields[i];
        char an[600];
        av_sanitize_name(f->name, an, 512);
        uniquify(fields, an, sizeof an);
        json_t *t = avro_type_json(f->type);
        if (t && f->nullable && f->type != SL_NULL)
            t = json_pack("[s, o]", "null", t);
        json_t *fj = t ? json_pack("{s:s, s:o}", "name", an, "type", t) : NULL;
        if (fj && f->nullable && f->type != SL_NULL && json_object_set_new(fj, "default", json_null()))
            fj = (json_decref(fj), NULL);
        if (fj && strcmp(an, f->name) && json_object_set_new(fj, "sluice.name", json_string(f->name)))
            fj = (json_decref(fj), NULL);
        if (!fj || json_array_append_new(fields, fj) != 0) {
            json_decref(doc);
            return nomem(err);
        }
    }
    return av_schema_from_json(doc, NULL, out, err);
}

sl_rc sl_avro_schema_to_sluice(const sl_avro_schema *a, sl_schema **out, sl_err *err)
{
    av_prog *p;
    *out = NULL;
    sl_rc rc = av_prog_build(a, NULL, NULL, 0, &p, err);
    if (rc != SL_OK)
        return rc;
    *out = p->schema;
    p->schema = NULL;
    av_prog_free(p);
    return SL_OK;
}

sl_rc sl_avro_schema_load(const char *path, sl_avro_schema **out, sl_err *err)
{
    json_error_t je;
    *out = NULL;
    json_t *doc = json_load_file(path, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
    if (!doc)
        return sl_err_setloc(err, je.line > 0 ? SL_ESCHEMA : SL_ENOTFOUND, path, je.line > 0 ? je.line : 0,
                             je.column > 0 ? je.column : 0, "cannot read schema: %s", je.text);
    /* A sluice schema is an object with "fields" and no "type". */
    if (json_is_object(doc) && !json_object_get(doc, "type") && json_object_get(doc, "fields")) {
        sl_schema *ss = NULL;
        sl_rc rc = sl_schema_from_json(doc, path, &ss, err);
        json_decref(doc);
        if (rc == SL_OK)
            rc = sl_avro_schema_from_sluice(ss, NULL, out, err);
        if (rc == SL_OK)
            (*out)->sluice = ss;
        else
            sl_schema_free(ss);
        return rc;
    }
    return av_schema_from_json(doc, path, out, err);
}

int av_union_null(const av_node *n)
{
    for (int i = 0; i < n->n; i++)
        if (n->branches[i]->t == AV_NULL)
            return i;
    return -1;
}

sl_type av_sluice_type(const av_node *n, int *nullable)
{
    *nullable = 0;
    switch (n->t) {
    case AV_UNION: {
        int ni = av_union_null(n);
        *nullable = ni >= 0;
        if (n->n == 1 && ni == 0)
            return SL_NULL;
        if (ni >= 0 && n->n == 2) {
            int dummy;
            return av_sluice_type(n->branches[1 - ni], &dummy);
        }
        return SL_STRING; /* JSON text */
    }
    case AV_NULL: *nullable = 1; return SL_NULL;
    case AV_BOOLEAN: return SL_BOOL;
    case AV_INT: return n->lt == AV_LT_DATE ? SL_DATE : SL_INT64;
    case AV_LONG:
        return n->lt == AV_LT_TS_MILLIS || n->lt == AV_LT_TS_MICROS || n->lt == AV_LT_TS_NANOS
                   ? SL_TIMESTAMP
                   : SL_INT64;
    case AV_FLOAT: case AV_DOUBLE: return SL_FLOAT64;
    case AV_BYTES: case AV_FIXED: return n->lt == AV_LT_DECIMAL ? SL_FLOAT64 : SL_STRING;
    default: return SL_STRING; /* string, enum, record, array, map */
    }
}

static const char *lt_name(av_lt lt)
{
    static const char *const names[] = {"", "date", "timestamp-millis", "timestamp-micros",
                                        "timestamp-nanos", "decimal", "time-millis",
                                        "time-micros", "uuid", "duration"};
    return names[lt];
}

void av_describe(const av_node *n, char *buf, size_t len)
{
    static const char *const tn[] = {"null", "boolean", "int",   "long", "float",
                                     "double", "bytes", "string", "record", "enum",
                                     "array", "map", "union", "fixed"};
    if (n->t == AV_UNION) {
        size_t o = (size_t)snprintf(buf, len, "union [");
        for (int i = 0; i < n->n && o < len; i++) {
            const av_node *b = n->branches[i];
            if (b->lt && !b->name)
                o += (size_t)snprintf(buf + o, len - o, "%s%s (%s)", i ? ", " : "", tn[b->t],
                                      lt_name(b->lt));
            else
                o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? ", " : "",
                                      b->name ? b->name : tn[b->t]);
        }
        if (o < len)
            snprintf(buf + o, len - o, "]");
    } else if (n->name) {
        snprintf(buf, len, "%s '%s'", tn[n->t], n->name);
    } else if (n->lt) {
        snprintf(buf, len, "%s (%s)", tn[n->t], lt_name(n->lt));
    } else if (n->t == AV_ARRAY || n->t == AV_MAP) {
        snprintf(buf, len, "%s of %s", tn[n->t], n->items->name ? n->items->name : tn[n->items->t]);
    } else {
        snprintf(buf, len, "%s", tn[n->t]);
    }
}
