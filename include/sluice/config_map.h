/*
 * config_map.h: one table per plugin that parses its spec section, checks
 * it, and documents it (Fluent Bit's flb_config_map, librdkafka's conf
 * table). docs/user-guides/spec.md is generated from these tables, so the
 * parser and the docs cannot drift apart.
 *
 * A plugin declares
 *     typedef struct { char *path; char delimiter; int64_t infer_rows; } cfg;
 *     static const sl_config_entry map[] = {
 *         {"path", SL_CFG_STR, NULL, SL_CFG_REQUIRED, NULL,
 *          offsetof(cfg, path), "Input file."},
 *         {"delimiter", SL_CFG_CHAR, ",", 0, NULL, offsetof(cfg, delimiter),
 *          "Field separator."},
 *         {0}};
 * and sl_config_apply() fills a zeroed cfg from a YAML mapping node:
 * defaults first, then the node's keys. Unknown keys, wrong types and
 * missing required keys fail with file:line:col and, for unknown keys, the
 * closest valid key ("did you mean 'delimiter'?").
 *
 * Stored C types by entry type:
 *   SL_CFG_STR     char *            (owned copy, NULL when unset)
 *   SL_CFG_EXPR    sl_cfg_expr       (text + position for error columns)
 *   SL_CFG_INT     int64_t
 *   SL_CFG_FLOAT   double
 *   SL_CFG_BOOL    int               (true/false/yes/no/on/off)
 *   SL_CFG_CHAR    char              (one byte; "\t" and "tab" accepted)
 *   SL_CFG_ENUM    int               (index into the '|'-separated choices)
 *   SL_CFG_STRLIST sl_strlist        (a scalar counts as a one-item list)
 *   SL_CFG_STRMAP  sl_strmap         (mapping scalar -> scalar, in order)
 *   SL_CFG_NODE    const sl_node *   (raw node, for sections parsed elsewhere)
 */
#ifndef SLUICE_CONFIG_MAP_H
#define SLUICE_CONFIG_MAP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"
#include "node.h"

typedef enum sl_cfg_type {
    SL_CFG_STR = 1,
    SL_CFG_EXPR,
    SL_CFG_INT,
    SL_CFG_FLOAT,
    SL_CFG_BOOL,
    SL_CFG_CHAR,
    SL_CFG_ENUM,
    SL_CFG_STRLIST,
    SL_CFG_STRMAP,
    SL_CFG_NODE
} sl_cfg_type;

/* flags */
#define SL_CFG_REQUIRED 0x1
/* Shorthand: when the plugin's node is not a mapping (e.g. `filter: "x > 1"`
 * or `select: [a, b]`), it is the value of this entry. */
#define SL_CFG_SHORTHAND 0x2
/* Whole: the plugin's entire node is this entry's value (for map-shaped
 * configs like `derive: {name: expr}` or `rename: {old: new}`). */
#define SL_CFG_WHOLE 0x4

typedef struct sl_config_entry {
    const char *key;
    sl_cfg_type type;
    const char *def;     /* default as text, NULL = none; STRLIST:
                            comma-separated (",NA,null" is "", "NA",
                            "null"); ENUM: a choice name; no default for
                            STRMAP and NODE */
    int flags;
    const char *choices; /* SL_CFG_ENUM: "fail|skip|dlq" */
    size_t offset;       /* offsetof(config struct, member) */
    const char *doc;     /* one or two sentences for spec.md */
} sl_config_entry;

typedef struct sl_strlist {
    int n;
    char **items;
    int64_t *lines, *cols; /* position of each item (for error messages) */
} sl_strlist;

typedef struct sl_strmap {
    int n;
    char **keys;
    char **values;
    int64_t *lines, *cols; /* position of each VALUE's first character;
                              quoted values point after the quote */
} sl_strmap;

typedef struct sl_cfg_expr {
    char *text;          /* NULL when unset */
    int64_t line, col;   /* position of the first character of the text */
} sl_cfg_expr;

/* Fill cfg (zeroed by the caller) from node. file names the spec for
 * errors (node->file is used when NULL). */
sl_rc sl_config_apply(const sl_config_entry *map, const sl_node *node,
                      void *cfg, sl_err *err);
/* sl_config_apply with context (addition). `what` names the section in
 * the messages about keys, e.g. "source 'csv'" gives "unknown key 'x' in
 * source 'csv' (did you mean ...)" and "missing required key 'path' in
 * source 'csv'", and replaces "key 'x'" as the subject of errors about a
 * SHORTHAND/WHOLE value ("transform 'filter': expected an expression, got
 * a list"); NULL for none. `skip` is a NULL-terminated list of keys of node
 * to ignore (e.g. {"type", NULL} for sources and sinks); NULL for none.
 * Scalars are read as: SL_CFG_INT/FLOAT must parse fully (1_000 and
 * .inf/.nan accepted), quoted numbers and booleans are accepted; a list
 * item written `null`/`~` is the string "null"/"~". An empty or null node
 * means "no settings" (defaults, then the required check). On failure the
 * fields already filled are released (sl_config_free) before returning. */
sl_rc sl_config_apply_ex(const sl_config_entry *map, const sl_node *node,
                         void *cfg, const char *what,
                         const char *const *skip, sl_err *err);
/* Name of an entry type for docs: "string", "integer", ... (addition). */
const char *sl_config_type_name(sl_cfg_type t);
/* Set defaults only (for a plugin with an empty section). */
sl_rc sl_config_defaults(const sl_config_entry *map, void *cfg, sl_err *err);
/* Free what sl_config_apply allocated inside cfg (not cfg itself). */
void sl_config_free(const sl_config_entry *map, void *cfg);

/* Levenshtein-closest key of map to `key`, or NULL when nothing is close
 * (distance > max(2, len/3)). */
const char *sl_config_closest(const sl_config_entry *map, const char *key);
/* Same over a NULL-terminated list of names. */
const char *sl_closest_name(const char *const *names, const char *key);

/* Markdown table of the entries: | key | type | default | description |.
 * A SHORTHAND key is marked "(shorthand)", a WHOLE one "(whole section)";
 * "No settings." for an empty table. */
void sl_config_doc_md(const sl_config_entry *map, FILE *out);

#endif
