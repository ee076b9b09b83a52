/*
 * node.h: a parsed YAML (or JSON) document as a tree of nodes that remember
 * where they came from, so every configuration error can say file:line:col.
 *
 * Scalars keep their text; a scalar written with quotes is marked `quoted`
 * (so "yes" in quotes stays a string). Mappings keep key order. All memory
 * belongs to the document's arena.
 */
#ifndef SLUICE_NODE_H
#define SLUICE_NODE_H

#include <stdint.h>

#include "arena.h"
#include "error.h"

struct json_t; /* jansson */

typedef enum sl_node_kind {
    SL_NODE_NULL = 0, /* empty value or ~ / null */
    SL_NODE_SCALAR,
    SL_NODE_SEQ,
    SL_NODE_MAP
} sl_node_kind;

typedef struct sl_node {
    sl_node_kind kind;
    int64_t line, col; /* 1-based position of the node's first character */
    const char *file;  /* the document's file name */
    char *value;       /* SL_NODE_SCALAR: text (NUL-terminated);
                          SL_NODE_NULL: the text as written ("", "~",
                          "null"), so a list item `null` can still be read
                          as the string "null" */
    int quoted;        /* SL_NODE_SCALAR: written with ' or " quotes (1; the
                          text starts at col + 1), or another explicit string
                          form (2: block scalar | or >, or a !!str tag; the
                          text does not start at col + 1). Nonzero: never
                          read as null, bool or number. */
    int n;             /* SL_NODE_SEQ / SL_NODE_MAP: number of items */
    struct sl_node **items; /* SEQ: items; MAP: values */
    struct sl_node **keys;  /* MAP: key scalars (same order as items) */
} sl_node;

typedef struct sl_doc {
    sl_node *root; /* NULL for an empty document */
    char *file;
    sl_arena *arena;
} sl_doc;

/* Parse a whole YAML file / string. Anchors and aliases are resolved
 * (an alias shares the anchored node, so its position is the anchor's);
 * duplicate keys are an error (file:line:col: duplicate key 'x'), and so
 * are several documents, merge keys (<<), more than 1M nodes after alias
 * expansion and nesting deeper than 256. Keys are always SL_NODE_SCALAR.
 * A node with an anchor or tag is positioned at the anchor/tag. */
sl_rc sl_yaml_load_file(const char *path, sl_doc **out, sl_err *err);
sl_rc sl_yaml_load_string(const char *text, size_t n, const char *name,
                          sl_doc **out, sl_err *err);
void sl_doc_free(sl_doc *d);

/* Map lookup; NULL if absent or node is not a map. */
const sl_node *sl_node_get(const sl_node *map, const char *key);
/* Index of key in map or -1. */
int sl_node_find(const sl_node *map, const char *key);
const char *sl_node_kind_name(sl_node_kind k); /* "mapping", "list", ... */

/* Conversion to and from JSON (jansson). Scalars become JSON strings;
 * from JSON, numbers/bools become unquoted scalars, strings quoted ones.
 * Used to store a transform's configuration inside transform.json. */
struct json_t *sl_node_to_json(const sl_node *n);
sl_rc sl_node_from_json(const struct json_t *j, const char *file,
                        sl_doc **out, sl_err *err);

#endif
