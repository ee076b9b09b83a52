/*
 * parquet_nested.c: nested fields -> JSON text (see parquet_nested.h).
 *
 * For each row, every leaf column's entries (repetition level, definition
 * level, value as JSON text) are gathered until the next entry that starts
 * a row (repetition level 0). The JSON is then built top-down (Dremel
 * record assembly): a repeated node at repetition level r splits each
 * leaf's entries into elements at entries whose level is r; a definition
 * level below a node's own level means the node is null (optional) or the
 * list is empty (repeated).
 *
 * Invariants and bounds: every access to a leaf's entries is checked
 * against that leaf's [begin, end) range, so leaves that disagree (a
 * corrupt file) give an error, not a bad read; the schema depth is at most
 * 64 (checked when the footer was decoded), which bounds the recursion; a
 * row may hold at most ROW_ENTRIES_MAX entries per leaf.
 */
#include "parquet_nested.h"

#include <stdio.h>
#include <string.h>

#include "sluice/mem.h"

#define ROW_ENTRIES_MAX (INT64_C(1) << 24)
#define MAX_DEPTH 66

typedef struct node {
    const pq_schema_elem *el;
    int def, rep;       /* levels at this node (cumulative) */
    int depth;
    int first, nchild;  /* children are nodes[first..] (each subtree follows) */
    int lo, hi;         /* leaves of the subtree: [lo, hi) */
    int list_parent;    /* parent is a LIST- or MAP-annotated group */
    const char *parent_name;
} node;

typedef struct entries {
    uint8_t *rep, *def;
    uint64_t *off;      /* JSON text of the value in txt: [off, off + len) */
    uint32_t *len;      /* 0 = no value */
    int64_t n, cap;
} entries;

struct pq_nested {
    char *name;
    node *nodes;
    int nnodes;
    int nleaves, first_leaf;
    pq_rcol *leaves;
    entries *ent;
    pq_buf txt, json;
    int64_t *stack;     /* per depth: cur, sb, se arrays of nleaves each */
};

/* ---- building ---- */

typedef struct build {
    const pq_file_meta *m;
    int at;             /* schema index of the field (node 0) */
    int i;
    pq_nested *n;
    int leaf;
} build;

static int count_nodes(const pq_file_meta *m, int at)
{
    int pending = 1, k = 0;
    while (pending > 0 && at + k < m->nschema) {
        pending += m->schema[at + k].num_children - 1;
        k++;
    }
    return k;
}

/* Node for m->schema[b->i] and its subtree; returns its index. */
static int add_node(build *b, int def, int rep, int depth, int list_parent,
                    const char *parent_name)
{
    int idx = b->i - b->at;
    node *nd = &b->n->nodes[idx];
    const pq_schema_elem *e = &b->m->schema[b->i++];
    nd->el = e;
    nd->def = def + (e->repetition != PQ_REQUIRED);
    nd->rep = rep + (e->repetition == PQ_REPEATED);
    nd->depth = depth;
    nd->list_parent = list_parent;
    nd->parent_name = parent_name;
    nd->lo = b->leaf;
    nd->nchild = e->num_children;
    nd->first = idx + 1;
    /* Elements of a LIST's repeated group, and of a MAP's key_value group
     * with a key only, are unwrapped (as pyarrow reads them). */
    int is_list = e->logical.kind == PQ_LT_LIST || e->converted == PQ_CT_LIST ||
                  e->logical.kind == PQ_LT_MAP || e->converted == PQ_CT_MAP ||
                  e->converted == PQ_CT_MAP_KEY_VALUE;
    for (int k = 0; k < e->num_children; k++)
        add_node(b, nd->def, nd->rep, depth + 1, is_list, e->name);
    if (e->num_children == 0)
        b->leaf++;
    nd = &b->n->nodes[idx];
    nd->hi = b->leaf;
    return idx;
}

void pq_nested_free(pq_nested *n)
{
    if (!n)
        return;
    for (int i = 0; n->leaves && i < n->nleaves; i++)
        pq_rcol_free(&n->leaves[i]);
    for (int i = 0; n->ent && i < n->nleaves; i++) {
        sl_free(n->ent[i].rep);
        sl_free(n->ent[i].def);
        sl_free(n->ent[i].off);
        sl_free(n->ent[i].len);
    }
    sl_free(n->leaves);
    sl_free(n->ent);
    sl_free(n->nodes);
    sl_free(n->stack);
    pq_buf_free(&n->txt);
    pq_buf_free(&n->json);
    sl_free(n->name);
    sl_free(n);
}

sl_rc pq_nested_new(const pq_file_meta *m, int at, int leaf, const char *name,
                    pq_codec *codec, pq_nested **out, sl_err *err)
{
    sl_rc rc = SL_OK;
    *out = NULL;
    pq_nested *n = sl_calloc(1, sizeof *n);
    if (!n)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    n->nnodes = count_nodes(m, at);
    n->first_leaf = leaf;
    n->name = sl_strdup(name);
    n->nodes = sl_calloc((size_t)n->nnodes + 1, sizeof *n->nodes);
    if (!n->name || !n->nodes) {
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        goto out;
    }
    build b = {.m = m, .at = at, .i = at, .n = n, .leaf = 0};
    add_node(&b, 0, 0, 0, 0, "");
    n->nleaves = b.leaf;
    n->leaves = sl_calloc((size_t)n->nleaves + 1, sizeof *n->leaves);
    n->ent = sl_calloc((size_t)n->nleaves + 1, sizeof *n->ent);
    n->stack = sl_calloc((size_t)MAX_DEPTH * 3 * (size_t)n->nleaves + 1, sizeof *n->stack);
    if (!n->leaves || !n->ent || !n->stack) {
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; i < n->nnodes; i++) {
        const node *nd = &n->nodes[i];
        if (nd->nchild > 0)
            continue;
        pq_leaf_type lt;
        const char *why = NULL;
        if (pq_classify(nd->el, &lt, &why) < 0) {
            rc = sl_err_set(err, SL_EUNSUPPORTED, "column '%s' (leaf '%s'): %s", name,
                            nd->el->name, why);
            sl_err_field(err, name);
            goto out;
        }
        pq_rcol_init(&n->leaves[nd->lo], n->name, &lt, nd->def, codec);
        n->leaves[nd->lo].max_rep = nd->rep;
        n->leaves[nd->lo].raw_levels = 1;
    }
out:
    if (rc != SL_OK)
        pq_nested_free(n);
    else
        *out = n;
    return rc;
}

int pq_nested_nleaves(const pq_nested *n)
{
    return n->nleaves;
}

int pq_nested_first_leaf(const pq_nested *n)
{
    return n->first_leaf;
}

pq_rcol *pq_nested_leaf(pq_nested *n, int i)
{
    return &n->leaves[i];
}

void pq_nested_set_codec(pq_nested *n, pq_codec *codec)
{
    for (int i = 0; i < n->nleaves; i++)
        n->leaves[i].codec = codec;
}

/* ---- gathering a row ---- */

static int ent_push(entries *e, int rep, int def, uint64_t off, uint32_t len)
{
    if (e->n == e->cap) {
        int64_t nc = e->cap ? e->cap * 2 : 64;
        uint8_t *r = sl_realloc(e->rep, (size_t)nc), *d = sl_realloc(e->def, (size_t)nc);
        if (r)
            e->rep = r;
        if (d)
            e->def = d;
        uint64_t *o = sl_realloc(e->off, (size_t)nc * sizeof *o);
        if (o)
            e->off = o;
        uint32_t *l = sl_realloc(e->len, (size_t)nc * sizeof *l);
        if (l)
            e->len = l;
        if (!r || !d || !o || !l)
            return -1;
        e->cap = nc;
    }
    e->rep[e->n] = (uint8_t)rep;
    e->def[e->n] = (uint8_t)def;
    e->off[e->n] = off;
    e->len[e->n] = len;
    e->n++;
    return 0;
}

static sl_rc gather(pq_nested *n, int l, sl_err *err)
{
    pq_rcol *c = &n->leaves[l];
    entries *e = &n->ent[l];
    e->n = 0;
    for (;;) {
        int rep, def;
        sl_rc rc;
        int k = pq_rcol_peek(c, &rep, &def, err, &rc);
        if (k < 0)
            return rc;
        if (k == 0 || (e->n > 0 && rep == 0))
            break;
        if (e->n == 0 && rep != 0)
            return sl_err_set(err, SL_EPARSE, "corrupt page: a row starts with repetition "
                                              "level %d instead of 0", rep);
        if (e->n >= ROW_ENTRIES_MAX)
            return sl_err_set(err, SL_ELIMIT, "a row holds more than %lld values in one column",
                              (long long)ROW_ENTRIES_MAX);
        uint64_t off = n->txt.len;
        if ((rc = pq_rcol_take_json(c, &n->txt, err)) != SL_OK)
            return rc;
        if (ent_push(e, rep, def, off, (uint32_t)(n->txt.len - off)) != 0)
            return sl_err_set(err, SL_ENOMEM, "out of memory");
    }
    if (e->n == 0)
        return sl_err_set(err, SL_EPARSE,
                          "column chunk ends before the row group's rows were read");
    return SL_OK;
}

/* ---- assembling JSON ---- */

static sl_rc emit_value(pq_nested *n, int ni, const int64_t *b, const int64_t *e, sl_err *err);

static sl_rc bad(sl_err *err)
{
    return sl_err_set(err, SL_EPARSE,
                      "corrupt levels: the leaves of a nested column disagree on its shape");
}

static sl_rc put(pq_nested *n, const void *p, size_t len, sl_err *err)
{
    return pq_buf_append(&n->json, p, len) == 0 ? SL_OK : sl_err_set(err, SL_ENOMEM,
                                                                      "out of memory");
}

/* "name": with '"', '\\' and control characters escaped. */
static sl_rc put_key(pq_nested *n, const char *name, sl_err *err)
{
    sl_rc rc = put(n, "\"", 1, err);
    for (const char *p = name; rc == SL_OK && *p; p++) {
        char esc[8];
        unsigned char ch = (unsigned char)*p;
        if (ch == '"' || ch == '\\')
            rc = put(n, (char[]){'\\', (char)ch}, 2, err);
        else if (ch < 0x20)
            rc = put(n, esc, (size_t)snprintf(esc, sizeof esc, "\\u%04x", ch), err);
        else
            rc = put(n, p, 1, err);
    }
    return rc == SL_OK ? put(n, "\":", 2, err) : rc;
}

static int ranges_ok(const node *nd, const int64_t *b, const int64_t *e)
{
    for (int l = nd->lo; l < nd->hi; l++)
        if (b[l] >= e[l])
            return 0;
    return 1;
}

/* The array of a repeated node's elements. */
static sl_rc emit_list(pq_nested *n, int ri, const int64_t *b, const int64_t *e, sl_err *err)
{
    const node *r = &n->nodes[ri];
    int64_t *cur = n->stack + (size_t)r->depth * 3 * (size_t)n->nleaves;
    int64_t *sb = cur + n->nleaves, *se = sb + n->nleaves;
    sl_rc rc;
    if (!ranges_ok(r, b, e) || r->depth >= MAX_DEPTH)
        return bad(err);
    if (n->ent[r->lo].def[b[r->lo]] < r->def)
        return put(n, "[]", 2, err);
    /* Three-level LIST: element = the repeated group's only child. */
    int unwrap = r->list_parent && r->nchild == 1 && strcmp(r->el->name, "array") != 0 &&
                 !(strlen(r->el->name) == strlen(r->parent_name) + 6 &&
                   strncmp(r->el->name, r->parent_name, strlen(r->parent_name)) == 0 &&
                   strcmp(r->el->name + strlen(r->parent_name), "_tuple") == 0);
    if ((rc = put(n, "[", 1, err)) != SL_OK)
        return rc;
    for (int l = r->lo; l < r->hi; l++)
        cur[l] = b[l];
    for (int first = 1; cur[r->lo] < e[r->lo]; first = 0) {
        for (int l = r->lo; l < r->hi; l++) {
            if (cur[l] >= e[l])
                return bad(err);
            int64_t j = cur[l] + 1;
            while (j < e[l] && n->ent[l].rep[j] > r->rep)
                j++;
            sb[l] = cur[l];
            se[l] = j;
            cur[l] = j;
        }
        if (!first && (rc = put(n, ",", 1, err)) != SL_OK)
            return rc;
        rc = unwrap ? emit_value(n, r->first, sb, se, err) : emit_value(n, -1 - ri, sb, se, err);
        if (rc != SL_OK)
            return rc;
    }
    for (int l = r->lo; l < r->hi; l++)
        if (cur[l] != e[l])
            return bad(err);
    return put(n, "]", 1, err);
}

/* The value of node ni; ni = -1 - k means "one element of repeated node k"
 * (its levels were already split by emit_list). */
static sl_rc emit_value(pq_nested *n, int ni, const int64_t *b, const int64_t *e, sl_err *err)
{
    int element = ni < 0;
    const node *nd = &n->nodes[element ? -1 - ni : ni];
    sl_rc rc;
    if (!ranges_ok(nd, b, e))
        return bad(err);
    if (!element && nd->el->repetition == PQ_REPEATED)
        return emit_list(n, (int)(nd - n->nodes), b, e, err);
    if (!element && nd->el->repetition == PQ_OPTIONAL && n->ent[nd->lo].def[b[nd->lo]] < nd->def)
        return put(n, "null", 4, err);
    if (nd->nchild == 0) {
        const entries *en = &n->ent[nd->lo];
        if (e[nd->lo] - b[nd->lo] != 1)
            return bad(err);
        if (en->len[b[nd->lo]] == 0)
            return put(n, "null", 4, err);
        return put(n, n->txt.p + en->off[b[nd->lo]], en->len[b[nd->lo]], err);
    }
    const pq_schema_elem *el = nd->el;
    int annotated = el->logical.kind == PQ_LT_LIST || el->converted == PQ_CT_LIST ||
                    el->logical.kind == PQ_LT_MAP || el->converted == PQ_CT_MAP ||
                    el->converted == PQ_CT_MAP_KEY_VALUE;
    if (annotated && nd->nchild == 1 && n->nodes[nd->first].el->repetition == PQ_REPEATED)
        return emit_list(n, nd->first, b, e, err);
    if ((rc = put(n, "{", 1, err)) != SL_OK)
        return rc;
    for (int k = 0, ci = nd->first; k < nd->nchild; k++) {
        const node *c = &n->nodes[ci];
        if (k && (rc = put(n, ",", 1, err)) != SL_OK)
            return rc;
        if ((rc = put_key(n, c->el->name, err)) != SL_OK ||
            (rc = emit_value(n, ci, b, e, err)) != SL_OK)
            return rc;
        /* the next sibling follows c's subtree (depth-first order) */
        ci++;
        while (ci < n->nnodes && n->nodes[ci].depth > c->depth)
            ci++;
    }
    return put(n, "}", 1, err);
}

sl_rc pq_nested_read(pq_nested *n, sl_column *out, int64_t rows, sl_err *err)
{
    int64_t *b = n->stack + (size_t)(MAX_DEPTH - 1) * 3 * (size_t)n->nleaves;
    int64_t *e = b + n->nleaves;
    for (int64_t r = 0; r < rows; r++) {
        sl_rc rc;
        n->txt.len = 0;
        for (int l = 0; l < n->nleaves; l++)
            if ((rc = gather(n, l, err)) != SL_OK)
                return rc;
        for (int l = 0; l < n->nleaves; l++) {
            b[l] = 0;
            e[l] = n->ent[l].n;
        }
        const node *top = &n->nodes[0];
        if (top->el->repetition == PQ_OPTIONAL && n->ent[0].def[0] < top->def) {
            if (sl_column_append_null(out) != SL_OK)
                return sl_err_set(err, SL_ENOMEM, "out of memory");
            continue;
        }
        n->json.len = 0;
        if ((rc = emit_value(n, 0, b, e, err)) != SL_OK)
            return rc;
        if (sl_column_append_str(out, (const char *)n->json.p, n->json.len) != SL_OK)
            return sl_err_set(err, SL_ENOMEM, "out of memory");
    }
    return SL_OK;
}
