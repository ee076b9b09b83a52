/*
 * yaml.c: turns YAML text into the sl_node tree of node.h, and converts
 * node trees to and from jansson values.
 *
 * The tree is built from libyaml's event stream without recursion: every
 * finished node is pushed on one shared stack, and when a collection ends
 * its children (the top of that stack) are copied into the document's
 * arena. All nodes, strings and child arrays live in that arena, so a
 * document is freed in one call.
 *
 * Invariants and bounds (the input is untrusted: specs come from users and
 * from the fuzzer):
 *   - positions are 1-based (libyaml marks are 0-based);
 *   - mapping keys are always SL_NODE_SCALAR with text, even `~:`;
 *   - an alias is resolved by pointing at the anchored node (shared, never
 *     copied), so memory stays linear; but every consumer walks the tree as
 *     if aliases were expanded, so the *expanded* node count is bounded by
 *     SL_YAML_MAX_NODES (the "billion laughs" guard) and nesting by
 *     SL_YAML_MAX_DEPTH (consumers such as sl_node_to_json recurse);
 *   - anchors are registered when their node is complete, so an alias can
 *     never refer to an ancestor: the tree is acyclic;
 *   - duplicate keys are detected by sorting, O(n log n) per mapping.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <yaml.h>

#include "sluice/mem.h"
#include "sluice/node.h"

#define SL_YAML_MAX_NODES 1000000
#define SL_YAML_MAX_DEPTH 256
#define SL_YAML_MAX_FILE ((size_t)64 << 20)
#define SL_YAML_STR_TAG "tag:yaml.org,2002:str"

typedef struct anchor {
    const char *name; /* arena */
    sl_node *node;
    int64_t size; /* expanded node count of the anchored subtree */
} anchor;

typedef struct frame {
    sl_node *node;  /* collection under construction */
    size_t base;    /* index in builder.stack of its first child */
    int64_t size;   /* expanded nodes in the subtree so far, itself included */
    const char *anchor;
} frame;

typedef struct builder {
    sl_doc *doc;
    const unsigned char *text;
    size_t len;
    sl_node **stack;
    size_t nstack, capstack;
    int64_t *sizes; /* parallel to stack: expanded size of each child */
    size_t capsizes;
    frame *frames;
    size_t nframes, capframes;
    anchor *anchors; /* open addressing, capacity a power of two */
    size_t nanchors, capanchors;
    int64_t total; /* expanded nodes so far */
    sl_err *err;
} builder;

/* ---- small helpers ---------------------------------------------------- */

static void pos_of(const yaml_mark_t *m, int64_t *line, int64_t *col)
{
    *line = (int64_t)m->line + 1;
    *col = (int64_t)m->column + 1;
}

static sl_rc fail_at(builder *b, sl_rc code, const yaml_mark_t *m,
                     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static sl_rc fail_at(builder *b, sl_rc code, const yaml_mark_t *m,
                     const char *fmt, ...)
{
    char msg[SL_ERR_MSG_MAX];
    int64_t line, col;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    pos_of(m, &line, &col);
    return sl_err_setloc(b->err, code, b->doc->file, line, col, "%s", msg);
}

static sl_node *new_node(builder *b, sl_node_kind kind, const yaml_mark_t *m)
{
    sl_node *n = sl_arena_calloc(b->doc->arena, sizeof *n);
    if (!n)
        return NULL;
    n->kind = kind;
    n->file = b->doc->file;
    pos_of(m, &n->line, &n->col);
    return n;
}

/* Counts `size` more expanded nodes against the document bound. */
static sl_rc count_nodes(builder *b, int64_t size, const yaml_mark_t *m)
{
    b->total += size;
    if (b->total > SL_YAML_MAX_NODES)
        return fail_at(b, SL_ELIMIT, m,
                       "document too large: more than %d nodes once aliases "
                       "are expanded",
                       SL_YAML_MAX_NODES);
    return SL_OK;
}

/* FNV-1a; only used to place anchors in the hash table. */
static size_t hash_str(const char *s)
{
    size_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static anchor *anchor_slot(anchor *tab, size_t cap, const char *name)
{
    size_t i = hash_str(name) & (cap - 1);
    while (tab[i].name && strcmp(tab[i].name, name) != 0)
        i = (i + 1) & (cap - 1);
    return &tab[i];
}

/* Defines (or redefines: YAML allows it, the latest wins) an anchor. */
static sl_rc anchor_set(builder *b, const char *name, sl_node *node,
                        int64_t size)
{
    if ((b->nanchors + 1) * 2 > b->capanchors) {
        size_t cap = b->capanchors ? b->capanchors * 2 : 16;
        anchor *tab = sl_calloc(cap, sizeof *tab);
        if (!tab)
            return sl_err_set(b->err, SL_ENOMEM, "out of memory");
        for (size_t i = 0; i < b->capanchors; i++)
            if (b->anchors[i].name)
                *anchor_slot(tab, cap, b->anchors[i].name) = b->anchors[i];
        sl_free(b->anchors);
        b->anchors = tab;
        b->capanchors = cap;
    }
    anchor *a = anchor_slot(b->anchors, b->capanchors, name);
    if (!a->name)
        b->nanchors++;
    a->name = name;
    a->node = node;
    a->size = size;
    return SL_OK;
}

static const anchor *anchor_get(const builder *b, const char *name)
{
    if (!b->capanchors)
        return NULL;
    const anchor *a = anchor_slot(b->anchors, b->capanchors, name);
    return a->name ? a : NULL;
}

/* True when the next child of the innermost open collection is a key. */
static int at_key(const builder *b)
{
    if (!b->nframes)
        return 0;
    const frame *f = &b->frames[b->nframes - 1];
    return f->node->kind == SL_NODE_MAP && (b->nstack - f->base) % 2 == 0;
}

/* Hands a finished node to its parent (or makes it the root). */
static sl_rc attach(builder *b, sl_node *n, int64_t size)
{
    if (!b->nframes) {
        b->doc->root = n;
        return SL_OK;
    }
    if (sl_grow((void **)&b->stack, &b->capstack, b->nstack + 1,
                sizeof *b->stack) != 0 ||
        sl_grow((void **)&b->sizes, &b->capsizes, b->nstack + 1,
                sizeof *b->sizes) != 0)
        return sl_err_set(b->err, SL_ENOMEM, "out of memory");
    b->stack[b->nstack] = n;
    b->sizes[b->nstack] = size;
    b->nstack++;
    b->frames[b->nframes - 1].size += size;
    return SL_OK;
}

static const char *arena_name(builder *b, const yaml_char_t *s)
{
    if (!s)
        return NULL;
    return sl_arena_strndup(b->doc->arena, (const char *)s,
                            strlen((const char *)s));
}

/* ---- events ----------------------------------------------------------- */

static int is_null_text(const char *s)
{
    return !*s || !strcmp(s, "~") || !strcmp(s, "null") ||
           !strcmp(s, "Null") || !strcmp(s, "NULL");
}

static sl_rc on_scalar(builder *b, const yaml_event_t *ev)
{
    const yaml_char_t *tag = ev->data.scalar.tag;
    size_t len = ev->data.scalar.length;
    const char *text = (const char *)ev->data.scalar.value;
    int key = at_key(b);
    int plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ||
                ev->data.scalar.style == YAML_ANY_SCALAR_STYLE;
    int quoted = 0;

    if (memchr(text, '\0', len))
        return fail_at(b, SL_EPARSE, &ev->start_mark,
                       "%s contains a NUL character",
                       key ? "key" : "string");
    if (ev->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
        ev->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE)
        quoted = 1;
    else if (!plain || (tag && (!strcmp((const char *)tag, "!") ||
                                !strcmp((const char *)tag, SL_YAML_STR_TAG))))
        quoted = 2;
    if (key && !quoted && !strcmp(text, "<<"))
        return fail_at(b, SL_EUNSUPPORTED, &ev->start_mark,
                       "merge keys ('<<') are not supported; repeat the keys "
                       "instead");

    sl_node_kind kind =
        (!key && !quoted && is_null_text(text)) ? SL_NODE_NULL : SL_NODE_SCALAR;
    sl_node *n = new_node(b, kind, &ev->start_mark);
    if (!n || !(n->value = sl_arena_strndup(b->doc->arena, text, len)))
        return sl_err_set(b->err, SL_ENOMEM, "out of memory");
    n->quoted = quoted;

    sl_rc rc = count_nodes(b, 1, &ev->start_mark);
    if (rc == SL_OK && ev->data.scalar.anchor) {
        const char *name = arena_name(b, ev->data.scalar.anchor);
        rc = name ? anchor_set(b, name, n, 1)
                  : sl_err_set(b->err, SL_ENOMEM, "out of memory");
    }
    return rc == SL_OK ? attach(b, n, 1) : rc;
}

static sl_rc on_alias(builder *b, const yaml_event_t *ev)
{
    const char *name = (const char *)ev->data.alias.anchor;
    const anchor *a = anchor_get(b, name);
    if (!a)
        return fail_at(b, SL_EPARSE, &ev->start_mark, "undefined alias '*%s'",
                       name);
    sl_rc rc = count_nodes(b, a->size, &ev->start_mark);
    if (rc != SL_OK)
        return rc;
    sl_node *n = a->node;
    if (at_key(b)) {
        if (n->kind == SL_NODE_SEQ || n->kind == SL_NODE_MAP)
            return fail_at(b, SL_EPARSE, &ev->start_mark,
                           "mapping keys must be plain text, alias '*%s' is "
                           "a collection",
                           name);
        /* Keys are always scalars; copy so the anchored node stays as it
         * was (it may be a null value elsewhere). */
        sl_node *k = new_node(b, SL_NODE_SCALAR, &ev->start_mark);
        if (!k)
            return sl_err_set(b->err, SL_ENOMEM, "out of memory");
        k->value = n->value;
        k->quoted = n->quoted;
        n = k;
        if (!strcmp(n->value, "<<") && !n->quoted)
            return fail_at(b, SL_EUNSUPPORTED, &ev->start_mark,
                           "merge keys ('<<') are not supported; repeat the "
                           "keys instead");
    }
    return attach(b, n, a->size);
}

static sl_rc on_start(builder *b, const yaml_event_t *ev, sl_node_kind kind,
                      const yaml_char_t *anchor_name)
{
    if (at_key(b))
        return fail_at(b, SL_EPARSE, &ev->start_mark,
                       "mapping keys must be plain text, not a %s",
                       kind == SL_NODE_MAP ? "mapping" : "list");
    if (b->nframes >= SL_YAML_MAX_DEPTH)
        return fail_at(b, SL_ELIMIT, &ev->start_mark,
                       "nesting deeper than %d levels", SL_YAML_MAX_DEPTH);
    if (sl_grow((void **)&b->frames, &b->capframes, b->nframes + 1,
                sizeof *b->frames) != 0)
        return sl_err_set(b->err, SL_ENOMEM, "out of memory");
    sl_node *n = new_node(b, kind, &ev->start_mark);
    if (!n)
        return sl_err_set(b->err, SL_ENOMEM, "out of memory");
    frame *f = &b->frames[b->nframes];
    f->node = n;
    f->base = b->nstack;
    f->size = 1;
    f->anchor = NULL;
    if (anchor_name && !(f->anchor = arena_name(b, anchor_name)))
        return sl_err_set(b->err, SL_ENOMEM, "out of memory");
    b->nframes++;
    return count_nodes(b, 1, &ev->start_mark);
}

typedef struct keyref {
    const char *text;
    int idx;
} keyref;

static int keyref_cmp(const void *pa, const void *pb)
{
    const keyref *a = pa, *b = pb;
    int c = strcmp(a->text, b->text);
    return c ? c : (a->idx > b->idx) - (a->idx < b->idx);
}

/* Reports the earliest (in document order) repeated key of m. */
static sl_rc check_duplicates(builder *b, const sl_node *m)
{
    if (m->n < 2)
        return SL_OK;
    keyref *refs = sl_malloc((size_t)m->n * sizeof *refs);
    if (!refs)
        return sl_err_set(b->err, SL_ENOMEM, "out of memory");
    for (int i = 0; i < m->n; i++) {
        refs[i].text = m->keys[i]->value;
        refs[i].idx = i;
    }
    qsort(refs, (size_t)m->n, sizeof *refs, keyref_cmp);
    int dup = -1, first = -1;
    for (int i = 1; i < m->n; i++) {
        /* Within a run of equal keys, idx ascends: the run's first element
         * is the original, its second the earliest repetition. */
        if (!strcmp(refs[i].text, refs[i - 1].text) &&
            (i < 2 || strcmp(refs[i - 1].text, refs[i - 2].text) != 0) &&
            (dup < 0 || refs[i].idx < dup)) {
            dup = refs[i].idx;
            first = refs[i - 1].idx;
        }
    }
    sl_free(refs);
    if (dup < 0)
        return SL_OK;
    const sl_node *k = m->keys[dup];
    return sl_err_setloc(b->err, SL_EPARSE, k->file, k->line, k->col,
                         "duplicate key '%s' (first at line %" PRId64 ")",
                         k->value, m->keys[first]->line);
}

static sl_rc on_end(builder *b)
{
    frame f = b->frames[--b->nframes];
    sl_node *n = f.node;
    size_t count = b->nstack - f.base;
    sl_node **kids = count ? b->stack + f.base : NULL;
    sl_rc rc = SL_OK;

    if (n->kind == SL_NODE_MAP) {
        /* libyaml always pairs keys with values (an empty value is an
         * empty plain scalar), so count is even. */
        n->n = (int)(count / 2);
        if (n->n) {
            n->keys = sl_arena_alloc(b->doc->arena, n->n * sizeof *n->keys);
            n->items = sl_arena_alloc(b->doc->arena, n->n * sizeof *n->items);
            if (!n->keys || !n->items)
                return sl_err_set(b->err, SL_ENOMEM, "out of memory");
            for (int i = 0; i < n->n; i++) {
                n->keys[i] = kids[2 * i];
                n->items[i] = kids[2 * i + 1];
            }
        }
        rc = check_duplicates(b, n);
    } else {
        n->n = (int)count;
        if (n->n) {
            n->items = sl_arena_alloc(b->doc->arena, count * sizeof *n->items);
            if (!n->items)
                return sl_err_set(b->err, SL_ENOMEM, "out of memory");
            memcpy(n->items, kids, count * sizeof *n->items);
        }
    }
    b->nstack = f.base;
    if (rc == SL_OK && f.anchor)
        rc = anchor_set(b, f.anchor, n, f.size);
    return rc == SL_OK ? attach(b, n, f.size) : rc;
}

/* libyaml reports reader (encoding) errors as a byte offset only. */
static void offset_pos(const builder *b, size_t off, int64_t *line,
                       int64_t *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off && i < b->len; i++) {
        if (b->text[i] == '\n') {
            ++*line;
            *col = 1;
        } else if ((b->text[i] & 0xC0) != 0x80) {
            ++*col;
        }
    }
}

/* Byte at a libyaml mark (0-based line/column in characters), or 0. */
static unsigned char byte_at(const builder *b, const yaml_mark_t *m)
{
    size_t i = 0, line = 0, col = 0;
    for (; i < b->len && line < m->line; i++)
        line += b->text[i] == '\n';
    for (; i < b->len && b->text[i] != '\n'; i++) {
        if ((b->text[i] & 0xC0) == 0x80)
            continue;
        if (col++ == m->column)
            return b->text[i];
    }
    return 0;
}

static sl_rc parser_error(builder *b, const yaml_parser_t *p)
{
    const char *problem = p->problem ? p->problem : "invalid YAML";
    int64_t line, col;

    /* The most common YAML mistake gets libyaml's least helpful message. */
    if (p->error == YAML_SCANNER_ERROR &&
        byte_at(b, &p->problem_mark) == '\t') {
        pos_of(&p->problem_mark, &line, &col);
        return sl_err_setloc(b->err, SL_EPARSE, b->doc->file, line, col,
                             "tab character where YAML expects spaces "
                             "(indent with spaces only)");
    }

    switch (p->error) {
    case YAML_MEMORY_ERROR:
        return sl_err_set(b->err, SL_ENOMEM, "out of memory parsing YAML");
    case YAML_READER_ERROR:
        offset_pos(b, p->problem_offset, &line, &col);
        if (p->problem_value != -1)
            return sl_err_setloc(b->err, SL_EPARSE, b->doc->file, line, col,
                                 "%s (byte 0x%02x)", problem,
                                 (unsigned)p->problem_value & 0xFFu);
        return sl_err_setloc(b->err, SL_EPARSE, b->doc->file, line, col,
                             "%s", problem);
    default:
        pos_of(&p->problem_mark, &line, &col);
        if (p->context)
            return sl_err_setloc(b->err, SL_EPARSE, b->doc->file, line, col,
                                 "%s (%s at line %zu)", problem, p->context,
                                 p->context_mark.line + 1);
        return sl_err_setloc(b->err, SL_EPARSE, b->doc->file, line, col, "%s",
                             problem);
    }
}

static sl_rc run_parser(builder *b, yaml_parser_t *p)
{
    yaml_event_t ev;
    int ndocs = 0;
    sl_rc rc = SL_OK;

    for (int done = 0; !done && rc == SL_OK;) {
        if (!yaml_parser_parse(p, &ev))
            return parser_error(b, p);
        switch (ev.type) {
        case YAML_DOCUMENT_START_EVENT:
            if (ndocs++ > 0)
                rc = fail_at(b, SL_EPARSE, &ev.start_mark,
                             "more than one YAML document ('---'); a spec is "
                             "one document");
            break;
        case YAML_SCALAR_EVENT:
            rc = on_scalar(b, &ev);
            break;
        case YAML_ALIAS_EVENT:
            rc = on_alias(b, &ev);
            break;
        case YAML_SEQUENCE_START_EVENT:
            rc = on_start(b, &ev, SL_NODE_SEQ, ev.data.sequence_start.anchor);
            break;
        case YAML_MAPPING_START_EVENT:
            rc = on_start(b, &ev, SL_NODE_MAP, ev.data.mapping_start.anchor);
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            rc = on_end(b);
            break;
        case YAML_STREAM_END_EVENT:
            done = 1;
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
    }
    return rc;
}

/* ---- public ----------------------------------------------------------- */

static sl_doc *doc_new(const char *name)
{
    sl_doc *d = sl_calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->arena = sl_arena_new(0);
    if (d->arena)
        d->file = sl_arena_strndup(d->arena, name, strlen(name));
    if (!d->file) {
        sl_doc_free(d);
        return NULL;
    }
    return d;
}

void sl_doc_free(sl_doc *d)
{
    if (!d)
        return;
    sl_arena_free(d->arena);
    sl_free(d);
}

sl_rc sl_yaml_load_string(const char *text, size_t n, const char *name,
                          sl_doc **out, sl_err *err)
{
    builder b;
    yaml_parser_t parser;
    int parser_ok = 0;
    sl_rc rc = SL_OK;

    memset(&b, 0, sizeof b);
    *out = NULL;
    b.err = err;
    b.text = (const unsigned char *)text;
    b.len = n;
    if (!text && n)
        return sl_err_set(err, SL_EINVAL, "sl_yaml_load_string: no text");
    if (!(b.doc = doc_new(name ? name : "<string>")))
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    if (!yaml_parser_initialize(&parser)) {
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        goto out;
    }
    parser_ok = 1;
    yaml_parser_set_input_string(&parser, (const unsigned char *)(text ? text : ""),
                                 n);
    rc = run_parser(&b, &parser);
out:
    if (parser_ok)
        yaml_parser_delete(&parser);
    sl_free(b.stack);
    sl_free(b.sizes);
    sl_free(b.frames);
    sl_free(b.anchors);
    if (rc == SL_OK)
        *out = b.doc;
    else
        sl_doc_free(b.doc);
    return rc;
}

sl_rc sl_yaml_load_file(const char *path, sl_doc **out, sl_err *err)
{
    FILE *f = NULL;
    char *buf = NULL;
    size_t n = 0, cap = 0;
    sl_rc rc = SL_OK;

    *out = NULL;
    if (!(f = fopen(path, "rb"))) {
        rc = sl_err_setloc(err, SL_EIO, path, 0, 0, "cannot open: %s",
                           strerror(errno));
        goto out;
    }
    for (;;) {
        if (sl_grow((void **)&buf, &cap, n + 4096, 1) != 0) {
            rc = sl_err_set(err, SL_ENOMEM, "out of memory");
            goto out;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (n > SL_YAML_MAX_FILE) {
            rc = sl_err_setloc(err, SL_ELIMIT, path, 0, 0,
                               "file larger than %zu MiB",
                               SL_YAML_MAX_FILE >> 20);
            goto out;
        }
        if (r == 0)
            break;
    }
    if (ferror(f)) {
        rc = sl_err_setloc(err, SL_EIO, path, 0, 0, "read failed: %s",
                           strerror(errno));
        goto out;
    }
    rc = sl_yaml_load_string(buf, n, path, out, err);
out:
    if (f)
        fclose(f);
    sl_free(buf);
    return rc;
}

const sl_node *sl_node_get(const sl_node *map, const char *key)
{
    int i = sl_node_find(map, key);
    return i < 0 ? NULL : map->items[i];
}

int sl_node_find(const sl_node *map, const char *key)
{
    if (!map || map->kind != SL_NODE_MAP || !key)
        return -1;
    for (int i = 0; i < map->n; i++)
        if (!strcmp(map->keys[i]->value, key))
            return i;
    return -1;
}

const char *sl_node_kind_name(sl_node_kind k)
{
    switch (k) {
    case SL_NODE_NULL:
        return "null";
    case SL_NODE_SCALAR:
        return "scalar";
    case SL_NODE_SEQ:
        return "list";
    case SL_NODE_MAP:
        return "mapping";
    }
    return "unknown";
}

/* ---- JSON ------------------------------------------------------------- */

json_t *sl_node_to_json(const sl_node *n)
{
    json_t *j = NULL;
    if (!n)
        return json_null();
    switch (n->kind) {
    case SL_NODE_NULL:
        return json_null();
    case SL_NODE_SCALAR:
        return json_string(n->value);
    case SL_NODE_SEQ:
        if (!(j = json_array()))
            return NULL;
        for (int i = 0; i < n->n; i++)
            if (json_array_append_new(j, sl_node_to_json(n->items[i])) != 0)
                goto fail;
        return j;
    case SL_NODE_MAP:
        if (!(j = json_object()))
            return NULL;
        for (int i = 0; i < n->n; i++)
            if (json_object_set_new(j, n->keys[i]->value,
                                    sl_node_to_json(n->items[i])) != 0)
                goto fail;
        return j;
    }
fail:
    json_decref(j);
    return NULL;
}

/* Shortest "%.*g" text that reads back as the same double. */
static void format_real(double v, char *buf, size_t n)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, n, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

static sl_rc from_json(sl_doc *d, const json_t *j, int depth, sl_node **out,
                       sl_err *err)
{
    char num[64];
    sl_node *n = sl_arena_calloc(d->arena, sizeof *n);
    const char *text = NULL;
    size_t len = 0;
    sl_rc rc = SL_OK;

    if (!n)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    if (depth > SL_YAML_MAX_DEPTH)
        return sl_err_setloc(err, SL_ELIMIT, d->file, 0, 0,
                             "nesting deeper than %d levels",
                             SL_YAML_MAX_DEPTH);
    n->file = d->file;
    n->kind = SL_NODE_SCALAR;
    switch (json_typeof(j)) {
    case JSON_NULL:
        n->kind = SL_NODE_NULL;
        text = "null";
        break;
    case JSON_TRUE:
        text = "true";
        break;
    case JSON_FALSE:
        text = "false";
        break;
    case JSON_INTEGER:
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT,
                 json_integer_value(j));
        text = num;
        break;
    case JSON_REAL:
        format_real(json_real_value(j), num, sizeof num);
        text = num;
        break;
    case JSON_STRING:
        text = json_string_value(j);
        len = json_string_length(j);
        if (strlen(text) != len)
            return sl_err_setloc(err, SL_EPARSE, d->file, 0, 0,
                                 "string contains a NUL character");
        n->quoted = 1;
        break;
    case JSON_ARRAY:
        n->kind = SL_NODE_SEQ;
        n->n = (int)json_array_size(j);
        if (n->n && !(n->items = sl_arena_alloc(d->arena,
                                                n->n * sizeof *n->items)))
            return sl_err_set(err, SL_ENOMEM, "out of memory");
        for (int i = 0; i < n->n && rc == SL_OK; i++)
            rc = from_json(d, json_array_get(j, (size_t)i), depth + 1,
                           &n->items[i], err);
        break;
    case JSON_OBJECT: {
        const char *key;
        json_t *v;
        int i = 0;
        n->kind = SL_NODE_MAP;
        n->n = (int)json_object_size(j);
        if (n->n && (!(n->items = sl_arena_alloc(d->arena,
                                                 n->n * sizeof *n->items)) ||
                     !(n->keys = sl_arena_alloc(d->arena,
                                                n->n * sizeof *n->keys))))
            return sl_err_set(err, SL_ENOMEM, "out of memory");
        /* jansson (>= 2.8) iterates objects in insertion order. */
        json_object_foreach((json_t *)j, key, v)
        {
            sl_node *k = sl_arena_calloc(d->arena, sizeof *k);
            if (!k || !(k->value = sl_arena_strndup(d->arena, key,
                                                    strlen(key))))
                return sl_err_set(err, SL_ENOMEM, "out of memory");
            k->kind = SL_NODE_SCALAR;
            k->file = d->file;
            k->quoted = 1;
            n->keys[i] = k;
            if ((rc = from_json(d, v, depth + 1, &n->items[i], err)) != SL_OK)
                return rc;
            i++;
        }
        break;
    }
    default:
        return sl_err_set(err, SL_EINVAL, "unknown JSON value type");
    }
    if (text) {
        if (!len)
            len = strlen(text);
        if (!(n->value = sl_arena_strndup(d->arena, text, len)))
            return sl_err_set(err, SL_ENOMEM, "out of memory");
    }
    *out = n;
    return rc;
}

sl_rc sl_node_from_json(const json_t *j, const char *file, sl_doc **out,
                        sl_err *err)
{
    sl_doc *d;
    sl_rc rc;

    *out = NULL;
    if (!j)
        return sl_err_set(err, SL_EINVAL, "sl_node_from_json: no value");
    if (!(d = doc_new(file ? file : "<json>")))
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    rc = from_json(d, j, 0, &d->root, err);
    if (rc != SL_OK)
        sl_doc_free(d);
    else
        *out = d;
    return rc;
}
