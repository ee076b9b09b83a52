/*
 * avro_resolve.c: schema resolution (writer x reader -> av_plan) and the
 * top-level row program (av_prog) that maps one writer record onto one
 * row of the output schema.
 *
 * Rules (Avro specification, "Schema Resolution"): a writer union resolves
 * branch by branch, a branch the reader cannot take becomes OP_ERROR (an
 * error only when a datum uses it; all branches failing is an error at
 * once); a reader union takes the first branch of the writer's exact type,
 * else the first it can be promoted to; int -> long -> float -> double,
 * string <-> bytes; records match fields by name or reader alias (the
 * top-level record's name is not compared, since a reader schema from a
 * sluice schema has none of its own); enums map symbols by name, falling
 * back to the reader's default; fixed sizes must agree.
 *
 * Plans of (writer record, reader record) pairs are memoized, which both
 * shares work and makes recursive schemas terminate. Everything lives in
 * the program's arena.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "avro_internal.h"
#include "sluice/mem.h"

typedef struct memo {
    const av_node *w, *r;
    av_plan *p;
} memo;

typedef struct rctx {
    sl_arena *a;
    sl_err *err;
    memo *m;
    size_t nm, cap;
} rctx;

static sl_rc nomem(sl_err *err)
{
    return sl_err_set(err, SL_ENOMEM, "out of memory");
}

static const char *short_name(const char *full)
{
    const char *d = full ? strrchr(full, '.') : NULL;
    return d ? d + 1 : full;
}

/* Named types match by unqualified name or a reader alias. */
static int names_match(const av_node *w, const av_node *r)
{
    if (!strcmp(short_name(w->name), short_name(r->name)))
        return 1;
    for (int i = 0; i < r->naliases; i++)
        if (!strcmp(short_name(r->aliases[i]), short_name(w->name)))
            return 1;
    return 0;
}

/* 2 = same type, 1 = promotable, 0 = no (both non-unions). */
static int match(const av_node *w, const av_node *r, int depth)
{
    if (w->t == r->t) {
        if (w->t == AV_FIXED)
            return w->size == r->size && names_match(w, r) ? 2 : 0;
        if ((w->t == AV_RECORD && depth > 0) || w->t == AV_ENUM)
            return names_match(w, r) ? 2 : 0;
        return 2;
    }
    switch (w->t) {
    case AV_INT: return r->t == AV_LONG || r->t == AV_FLOAT || r->t == AV_DOUBLE;
    case AV_LONG: return r->t == AV_FLOAT || r->t == AV_DOUBLE;
    case AV_FLOAT: return r->t == AV_DOUBLE;
    case AV_STRING: return r->t == AV_BYTES;
    case AV_BYTES: return r->t == AV_STRING;
    default: return 0;
    }
}

static int is_ts(av_lt lt)
{
    return lt == AV_LT_TS_MILLIS || lt == AV_LT_TS_MICROS || lt == AV_LT_TS_NANOS;
}

/* Column conversion of a scalar writer w read as reader r (non-unions). */
static av_conv scalar_conv(const av_node *w, const av_node *r, av_plan *p)
{
    switch (w->t) {
    case AV_NULL: return CV_NULLCOL;
    case AV_BOOLEAN: return CV_BOOL;
    case AV_INT:
    case AV_LONG:
        if (r->t == AV_FLOAT || r->t == AV_DOUBLE)
            return CV_F64;
        if (r->t == AV_INT && r->lt == AV_LT_DATE) {
            p->ts_unit = 1;
            return CV_DATE;
        }
        if (r->t == AV_LONG && is_ts(r->lt)) {
            av_lt unit = is_ts(w->lt) ? w->lt : r->lt;
            p->ts_unit = (int)unit;
            return unit == AV_LT_TS_MILLIS ? CV_TS_MUL : unit == AV_LT_TS_NANOS ? CV_TS_DIV : CV_TS;
        }
        return CV_I64;
    case AV_FLOAT:
    case AV_DOUBLE: return CV_F64;
    case AV_STRING:
    case AV_BYTES:
    case AV_FIXED:
        if (r->lt == AV_LT_DECIMAL) {
            p->scale = w->lt == AV_LT_DECIMAL ? w->scale : r->scale;
            return CV_DEC;
        }
        return CV_STR;
    case AV_ENUM: return CV_SYM;
    default: return CV_JSON;
    }
}

static sl_rc plan(rctx *c, const av_node *w, const av_node *r, int depth, av_plan **out);

static av_plan *new_plan(rctx *c, av_op op, const av_node *w, const av_node *r)
{
    av_plan *p = sl_arena_calloc(c->a, sizeof *p);
    if (p) {
        p->op = op;
        p->w = w;
        p->r = r;
    }
    return p;
}

static sl_rc incompatible(rctx *c, const av_node *w, const av_node *r)
{
    char a[256], b[256];
    av_describe(w, a, sizeof a);
    av_describe(r, b, sizeof b);
    return sl_err_set(c->err, SL_ESCHEMA, "the writer's %s cannot be read as the reader's %s", a, b);
}

static sl_rc plan_record(rctx *c, const av_node *w, const av_node *r, int depth, av_plan *p)
{
    sl_rc rc;
    p->wf = sl_arena_calloc(c->a, (size_t)(w->n ? w->n : 1) * sizeof *p->wf);
    p->wf_r = sl_arena_calloc(c->a, (size_t)(w->n ? w->n : 1) * sizeof *p->wf_r);
    p->missing = sl_arena_calloc(c->a, (size_t)(r->n ? r->n : 1) * sizeof *p->missing);
    char *seen = sl_arena_calloc(c->a, (size_t)(r->n ? r->n : 1));
    if (!p->wf || !p->wf_r || !p->missing || !seen)
        return nomem(c->err);
    for (int i = 0; i < w->n; i++) {
        const av_field *wf = &w->fields[i];
        int k = -1;
        for (int j = 0; j < r->n && k < 0; j++)
            if (!strcmp(r->fields[j].name, wf->name))
                k = j;
        for (int j = 0; j < r->n && k < 0; j++)
            for (int a = 0; a < r->fields[j].naliases && k < 0; a++)
                if (!strcmp(r->fields[j].aliases[a], wf->name))
                    k = j;
        p->wf_r[i] = k;
        if (k < 0 || seen[k])
            continue; /* skipped (a second alias match is skipped too) */
        seen[k] = 1;
        if ((rc = plan(c, wf->type, r->fields[k].type, depth + 1, &p->wf[i])) != SL_OK) {
            sl_err_prefix(c->err, "field '%s'", r->fields[k].name);
            return rc;
        }
    }
    for (int j = 0; j < r->n; j++) {
        if (seen[j])
            continue;
        if (!r->fields[j].def)
            return sl_err_set(c->err, SL_ESCHEMA,
                              "field '%s' of the reader's record '%s' is missing from the "
                              "writer's record and has no default",
                              r->fields[j].name, r->name ? r->name : "?");
        p->missing[p->nmissing++] = &r->fields[j];
    }
    return SL_OK;
}

static sl_rc plan_enum(rctx *c, const av_node *w, const av_node *r, av_plan *p)
{
    p->sym = sl_arena_calloc(c->a, (size_t)(w->n ? w->n : 1) * sizeof *p->sym);
    p->symlen = sl_arena_calloc(c->a, (size_t)(w->n ? w->n : 1) * sizeof *p->symlen);
    if (!p->sym || !p->symlen)
        return nomem(c->err);
    int def = -1;
    for (int j = 0; r->enum_default && j < r->n; j++)
        if (!strcmp(r->symbols[j], r->enum_default))
            def = j;
    for (int i = 0; i < w->n; i++) {
        int k = def;
        for (int j = 0; j < r->n; j++)
            if (!strcmp(r->symbols[j], w->symbols[i])) {
                k = j;
                break;
            }
        if (k >= 0) {
            p->sym[i] = r->symbols[k];
            p->symlen[i] = r->symlen[k];
        }
    }
    return SL_OK;
}

static sl_rc plan(rctx *c, const av_node *w, const av_node *r, int depth, av_plan **out)
{
    sl_rc rc;
    if (depth > AV_MAX_DEPTH)
        return sl_err_set(c->err, SL_ESCHEMA, "schema nested more than %d deep", AV_MAX_DEPTH);
    if (w->t == AV_UNION) {
        av_plan *p = new_plan(c, OP_UNION, w, r);
        if (!p || !(p->branch = sl_arena_calloc(c->a, (size_t)w->n * sizeof *p->branch)))
            return nomem(c->err);
        int ok = 0;
        sl_err e;
        sl_err_clear(&e);
        for (int i = 0; i < w->n; i++) {
            sl_err *saved = c->err;
            c->err = &e;
            rc = plan(c, w->branches[i], r, depth + 1, &p->branch[i]);
            c->err = saved;
            if (rc == SL_ENOMEM)
                return nomem(c->err);
            if (rc == SL_OK) {
                ok = 1;
                continue;
            }
            av_plan *ep = new_plan(c, OP_ERROR, w->branches[i], r);
            if (!ep || !(ep->msg = sl_arena_strndup(c->a, e.msg, strlen(e.msg))))
                return nomem(c->err);
            p->branch[i] = ep;
        }
        if (!ok) /* no branch resolves: report the last reason now */
            return sl_err_set(c->err, SL_ESCHEMA, "%s", e.msg);
        *out = p;
        return SL_OK;
    }
    if (r->t == AV_UNION) {
        for (int want = 2; want >= 1; want--)
            for (int i = 0; i < r->n; i++)
                if (match(w, r->branches[i], depth) == want)
                    return plan(c, w, r->branches[i], depth + 1, out);
        return incompatible(c, w, r);
    }
    if (!match(w, r, depth))
        return incompatible(c, w, r);
    if (w->t == AV_RECORD)
        for (size_t i = 0; i < c->nm; i++)
            if (c->m[i].w == w && c->m[i].r == r) {
                *out = c->m[i].p;
                return SL_OK;
            }
    static const av_op ops[] = {OP_NULL,   OP_BOOL,  OP_INT,  OP_LONG,   OP_FLOAT,
                                OP_DOUBLE, OP_BYTES, OP_BYTES, OP_RECORD, OP_ENUM,
                                OP_ARRAY,  OP_MAP,   OP_UNION, OP_FIXED};
    av_plan *p = new_plan(c, ops[w->t], w, r);
    if (!p)
        return nomem(c->err);
    p->conv = scalar_conv(w, r, p);
    *out = p;
    switch (w->t) {
    case AV_RECORD: {
        void *mm = c->m;
        if (sl_grow(&mm, &c->cap, c->nm + 1, sizeof *c->m) != 0)
            return nomem(c->err);
        c->m = mm;
        c->m[c->nm].w = w;
        c->m[c->nm].r = r;
        c->m[c->nm++].p = p;
        size_t before = c->nm - 1;
        sl_rc rrc = plan_record(c, w, r, depth, p);
        if (rrc != SL_OK)
            c->nm = before; /* never reuse a half-built plan */
        return rrc;
    }
    case AV_ENUM: return plan_enum(c, w, r, p);
    case AV_ARRAY:
    case AV_MAP: return plan(c, w->items, r->items, depth + 1, &p->items);
    default: return SL_OK;
    }
}

/* ---- the row program ---- */

/* [null, T] -> T; other nodes unchanged. */
static const av_node *unwrap(const av_node *r)
{
    if (r->t == AV_UNION && r->n == 2 && av_union_null(r) >= 0)
        return r->branches[1 - av_union_null(r)];
    return r;
}

static int is_json(const av_node *r)
{
    r = unwrap(r);
    return r->t == AV_RECORD || r->t == AV_ARRAY || r->t == AV_MAP || r->lt == AV_LT_DURATION ||
           (r->t == AV_UNION && !(r->n == 1 && r->branches[0]->t == AV_NULL));
}

void av_prog_free(av_prog *p)
{
    if (!p)
        return;
    sl_schema_free(p->schema);
    sl_arena_free(p->arena);
    sl_free(p);
}

/* A top-level default value for column j of type t. */
static sl_rc make_default(av_prog *p, int j, const av_field *f, sl_err *err)
{
    av_default *d = &p->defs[j];
    const json_t *v = f->def;
    const sl_field *sf = &p->schema->fields[j];
    const av_node *r = unwrap(f->type);
    if (json_is_null(v) || sf->type == SL_NULL) {
        if (!json_is_null(v))
            goto bad;
        d->is_null = 1;
        return SL_OK;
    }
    if (is_json(f->type)) {
        char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
        d->s = t ? sl_arena_strndup(p->arena, t, strlen(t)) : NULL;
        free(t);
        if (!d->s)
            return nomem(err);
        d->slen = strlen(d->s);
        return SL_OK;
    }
    switch (sf->type) {
    case SL_BOOL:
        if (!json_is_boolean(v))
            goto bad;
        d->i = json_is_true(v);
        return SL_OK;
    case SL_INT64:
    case SL_DATE:
    case SL_TIMESTAMP:
        if (!json_is_integer(v))
            goto bad;
        d->i = (int64_t)json_integer_value(v);
        if (sf->type == SL_TIMESTAMP && r->lt == AV_LT_TS_MILLIS) {
            if (d->i > INT64_MAX / 1000 || d->i < INT64_MIN / 1000)
                goto bad;
            d->i *= 1000;
        } else if (sf->type == SL_TIMESTAMP && r->lt == AV_LT_TS_NANOS) {
            d->i = d->i / 1000 - (d->i % 1000 < 0);
        } else if (sf->type == SL_DATE && (d->i > INT32_MAX || d->i < INT32_MIN)) {
            goto bad;
        }
        return SL_OK;
    case SL_FLOAT64:
        if (!json_is_number(v))
            goto bad; /* a decimal's default (bytes as a string) is not supported */
        d->f = json_number_value(v);
        return SL_OK;
    case SL_STRING:
        if (!json_is_string(v))
            goto bad;
        d->s = sl_arena_strndup(p->arena, json_string_value(v), json_string_length(v));
        if (!d->s)
            return nomem(err);
        d->slen = json_string_length(v);
        return SL_OK;
    default:
        break;
    }
bad:
    return sl_err_set(err, SL_ESCHEMA, "field '%s': the reader schema's default value does not "
                                       "match the field's type", f->name);
}

static const char *col_name(const av_field *f)
{
    return f->sluice_name ? f->sluice_name : f->name;
}

/* Reader node for writer field wf when the reader is a sluice schema
 * field sf: the writer's own type with sluice's casts. */
static sl_rc sluice_reader(av_prog *p, const av_field *wf, const sl_field *sf,
                           const av_node **out, sl_err *err)
{
    int wnull;
    sl_type wt = av_sluice_type(wf->type, &wnull);
    const av_node *r = wf->type;
    if (wt != sf->type) {
        if (!(sf->type == SL_FLOAT64 && wt == SL_INT64)) {
            char a[256];
            av_describe(wf->type, a, sizeof a);
            return sl_err_set(err, SL_ESCHEMA, "field '%s': the file's %s (%s) cannot be read as %s",
                              sf->name, a, sl_type_name(wt), sl_type_name(sf->type));
        }
        av_node *d = sl_arena_calloc(p->arena, sizeof *d);
        if (!d)
            return nomem(err);
        d->t = AV_DOUBLE;
        r = d;
        if (sf->nullable) {
            av_node *u = sl_arena_calloc(p->arena, sizeof *u);
            av_node *nl = sl_arena_calloc(p->arena, sizeof *nl);
            av_node **br = sl_arena_calloc(p->arena, 2 * sizeof *br);
            if (!u || !nl || !br)
                return nomem(err);
            nl->t = AV_NULL;
            br[0] = nl;
            br[1] = d;
            u->t = AV_UNION;
            u->n = 2;
            u->branches = br;
            r = u;
        }
    } else if (!sf->nullable && wnull && r->t == AV_UNION && r->n == 2) {
        r = unwrap(r); /* a null becomes an error when read */
    }
    *out = r;
    return SL_OK;
}

/* Output columns and steps when the reader is a sluice schema. */
static sl_rc build_sluice(av_prog *p, rctx *c, const av_field *wfs, int nw, const sl_schema *ss,
                          sl_err *err)
{
    sl_rc rc;
    for (int j = 0; j < ss->n; j++) {
        const sl_field *sf = &ss->fields[j];
        if ((rc = sl_schema_add(p->schema, sf->name, sf->type, sf->nullable, err)) != SL_OK)
            return rc;
        int k = -1;
        for (int i = 0; i < nw && k < 0; i++)
            if (!strcmp(col_name(&wfs[i]), sf->name))
                k = i;
        if (k < 0) {
            if (!sf->nullable)
                return sl_err_set(err, SL_ESCHEMA, "column '%s' of the reader schema is missing from "
                                                   "the file and is not nullable", sf->name);
            p->defs[j].is_null = 1;
            p->def_cols[p->ndefs++] = j;
            continue;
        }
        const av_node *r = NULL;
        if ((rc = sluice_reader(p, &wfs[k], sf, &r, err)) != SL_OK)
            return rc;
        av_step *st = &p->steps[k];
        if ((rc = plan(c, wfs[k].type, r, 1, &st->plan)) != SL_OK) {
            sl_err_prefix(err, "field '%s'", sf->name);
            return rc;
        }
        st->col = j;
        st->json = sf->type == SL_STRING && is_json(wfs[k].type);
        st->nonnull = !sf->nullable;
    }
    return SL_OK;
}

/* Output columns and steps under Avro resolution (r == w when reading as
 * written). */
static sl_rc build_avro(av_prog *p, rctx *c, const av_field *wfs, int nw, const av_field *rfs,
                        int nr, sl_err *err)
{
    sl_rc rc;
    for (int j = 0; j < nr; j++) {
        int nullable;
        sl_type t = av_sluice_type(rfs[j].type, &nullable);
        if ((rc = sl_schema_add(p->schema, col_name(&rfs[j]), t, nullable, err)) != SL_OK)
            return rc;
    }
    char *used = sl_arena_calloc(p->arena, (size_t)(nr ? nr : 1));
    if (!used)
        return nomem(err);
    for (int i = 0; i < nw; i++) {
        int k = -1;
        for (int j = 0; j < nr && k < 0; j++)
            if (!used[j] && !strcmp(rfs[j].name, wfs[i].name))
                k = j;
        for (int j = 0; j < nr && k < 0; j++)
            for (int a = 0; !used[j] && a < rfs[j].naliases && k < 0; a++)
                if (!strcmp(rfs[j].aliases[a], wfs[i].name))
                    k = j;
        if (k < 0)
            continue;
        used[k] = 1;
        av_step *st = &p->steps[i];
        if ((rc = plan(c, wfs[i].type, rfs[k].type, 1, &st->plan)) != SL_OK) {
            sl_err_prefix(err, "field '%s'", col_name(&rfs[k]));
            return rc;
        }
        st->col = k;
        st->json = is_json(rfs[k].type);
        st->nonnull = !p->schema->fields[k].nullable && p->schema->fields[k].type != SL_NULL;
    }
    for (int j = 0; j < nr; j++) {
        if (used[j])
            continue;
        if (!rfs[j].def)
            return sl_err_set(err, SL_ESCHEMA, "field '%s' of the reader schema is missing from the "
                                               "file's schema and has no default",
                              col_name(&rfs[j]));
        if ((rc = make_default(p, j, &rfs[j], err)) != SL_OK)
            return rc;
        p->def_cols[p->ndefs++] = j;
    }
    return SL_OK;
}

/* Keeps the projected columns, in the given order. */
static sl_rc project(av_prog *p, const char *const *cols, int n, sl_err *err)
{
    int *map = sl_arena_calloc(p->arena, (size_t)(p->schema->n ? p->schema->n : 1) * sizeof *map);
    av_default *defs = sl_arena_calloc(p->arena, (size_t)(n ? n : 1) * sizeof *defs);
    sl_schema *s = sl_schema_new();
    sl_rc rc = SL_OK;
    if (!map || !defs || !s) {
        rc = nomem(err);
        goto out;
    }
    for (int j = 0; j < p->schema->n; j++)
        map[j] = -1;
    for (int k = 0; k < n; k++) {
        int j = sl_schema_find(p->schema, cols[k]);
        if (j < 0) {
            rc = sl_err_set(err, SL_ENOTFOUND, "column '%s' is not in the file's schema", cols[k]);
            sl_err_field(err, cols[k]);
            goto out;
        }
        const sl_field *f = &p->schema->fields[j];
        if ((rc = sl_schema_add(s, f->name, f->type, f->nullable, err)) != SL_OK)
            goto out;
        map[j] = k;
        defs[k] = p->defs[j];
    }
    for (int i = 0; i < p->nsteps; i++)
        if (p->steps[i].col >= 0)
            p->steps[i].col = map[p->steps[i].col];
    int nd = 0;
    for (int i = 0; i < p->ndefs; i++)
        if (map[p->def_cols[i]] >= 0)
            p->def_cols[nd++] = map[p->def_cols[i]];
    p->ndefs = nd;
    p->defs = defs;
    sl_schema_free(p->schema);
    p->schema = s;
    s = NULL;
out:
    sl_schema_free(s);
    return rc;
}

sl_rc av_prog_build(const sl_avro_schema *w, const sl_avro_schema *r, const char *const *columns,
                    int ncolumns, av_prog **out, sl_err *err)
{
    sl_rc rc = SL_OK;
    rctx c;
    memset(&c, 0, sizeof c);
    *out = NULL;
    av_prog *p = sl_calloc(1, sizeof *p);
    if (!p || !(p->arena = sl_arena_new(0)) || !(p->schema = sl_schema_new())) {
        av_prog_free(p);
        return nomem(err);
    }
    c.a = p->arena;
    c.err = err;
    /* A non-record top level reads as one field "value". */
    av_field wone = {.name = "value", .type = w->root};
    av_field rone = {.name = "value", .type = r ? r->root : w->root};
    const av_field *wfs = w->root->t == AV_RECORD ? w->root->fields : &wone;
    int nw = w->root->t == AV_RECORD ? w->root->n : 1;
    const av_node *rr = r ? r->root : w->root;
    const av_field *rfs = rr->t == AV_RECORD ? rr->fields : &rone;
    int nr = rr->t == AV_RECORD ? rr->n : 1;
    int nout = r && r->sluice ? r->sluice->n : nr;
    if ((w->root->t == AV_RECORD) != (rr->t == AV_RECORD) && !(r && r->sluice)) {
        rc = incompatible(&c, w->root, rr);
        goto out;
    }
    p->nsteps = nw;
    p->steps = sl_arena_calloc(p->arena, (size_t)(nw ? nw : 1) * sizeof *p->steps);
    p->defs = sl_arena_calloc(p->arena, (size_t)(nout ? nout : 1) * sizeof *p->defs);
    p->def_cols = sl_arena_calloc(p->arena, (size_t)(nout ? nout : 1) * sizeof *p->def_cols);
    if (!p->steps || !p->defs || !p->def_cols) {
        rc = nomem(err);
        goto out;
    }
    for (int i = 0; i < nw; i++) {
        p->steps[i].col = -1;
        p->steps[i].skip = wfs[i].type;
        p->steps[i].field = col_name(&wfs[i]);
    }
    if (r && r->sluice)
        rc = build_sluice(p, &c, wfs, nw, r->sluice, err);
    else
        rc = build_avro(p, &c, wfs, nw, rfs, nr, err);
    if (rc == SL_OK && columns)
        rc = project(p, columns, ncolumns, err);
    for (int i = 0; rc == SL_OK && i < nw; i++)
        if (p->steps[i].col >= 0)
            p->steps[i].field = p->schema->fields[p->steps[i].col].name;
out:
    sl_free(c.m);
    if (rc != SL_OK)
        av_prog_free(p);
    else
        *out = p;
    return rc;
}
