/*
 * spec.c: loads a pipeline spec and validates everything that does not
 * need the data: top-level keys, plugin names, and each plugin's settings
 * through its own config_map (see spec.h for the format).
 *
 * The top level and `split` are parsed with config tables like any plugin
 * (spec_internal.h), so unknown keys get the same "did you mean" help and
 * the reference docs come from the same tables.
 *
 * Ownership: sl_spec owns the document and one config struct per step.
 * Steps are counted as they are filled (ntransforms grows with each
 * loaded transform), so sl_spec_free can release a half-loaded spec on
 * any error path.
 */
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "sluice/mem.h"
#include "sluice/pipeline.h"
#include "sluice/spec.h"
#include "spec/spec_internal.h"

typedef struct top_cfg {
    char *name, *description, *schema, *transform_output;
    const sl_node *source, *transforms, *split, *sink;
    const sl_node *model, *evaluate, *registry;
} top_cfg;

const sl_config_entry sl_spec_top_map[] = {
    {"name", SL_CFG_STR, NULL, 0, NULL, offsetof(top_cfg, name),
     "Pipeline name, used in messages and output names. Default: the spec "
     "file's name without its extension."},
    {"description", SL_CFG_STR, NULL, 0, NULL, offsetof(top_cfg, description),
     "Free text describing the pipeline."},
    {"schema", SL_CFG_STR, NULL, 0, NULL, offsetof(top_cfg, schema),
     "Path to a schema JSON file (models/data_models/*.json). Its columns "
     "override the types the source would infer; columns it does not list "
     "keep their inferred type."},
    {"source", SL_CFG_NODE, NULL, SL_CFG_REQUIRED, NULL,
     offsetof(top_cfg, source),
     "Where the rows come from: a mapping whose `type` names a source "
     "plugin (see Sources) plus that plugin's settings. Without `type`, it "
     "is inferred from the extension of `path`: .csv and .tsv read as csv "
     "(.tsv with a tab delimiter), .jsonl, .ndjson and .json as jsonl."},
    {"transforms", SL_CFG_NODE, NULL, 0, NULL, offsetof(top_cfg, transforms),
     "Steps applied in order. Each list item is a one-key mapping "
     "`plugin: settings` (see Transforms); an item may also be just a "
     "plugin name when its defaults suit."},
    {"split", SL_CFG_NODE, NULL, 0, NULL, offsetof(top_cfg, split),
     "Train/test split (see Split). Without it all rows go to one output."},
    {"sink", SL_CFG_NODE, NULL, 0, NULL, offsetof(top_cfg, sink),
     "Where the result goes: a mapping whose `type` names a sink plugin "
     "(see Sinks), inferred from `path` like `source`. Needed to run; "
     "`sluice check` accepts a spec without it."},
    {"transform_output", SL_CFG_STR, NULL, 0, NULL,
     offsetof(top_cfg, transform_output),
     "Where to write transform.json, the fitted transform chain that "
     "`sluice apply` and serving reuse. Default: beside the sink's output."},
    {"model", SL_CFG_NODE, NULL, 0, NULL, offsetof(top_cfg, model),
     "The model to train on the transformed train rows (see Model); "
     "`sluice train` and `sluice run` then fit, evaluate and register it. "
     "Or, as a single value, a registered model to score with "
     "(models/ml_models/NAME or a version directory): `sluice run "
     "--stream` then writes each record with its predictions."},
    {"evaluate", SL_CFG_NODE, NULL, 0, NULL, offsetof(top_cfg, evaluate),
     "How the model is evaluated on the test rows and when a new version "
     "is blessed (see Evaluate). Needs `model` and `split`."},
    {"registry", SL_CFG_NODE, NULL, 0, NULL, offsetof(top_cfg, registry),
     "Where model versions are stored (see Registry). Default: "
     "models/ml_models."},
    {0}};

typedef struct split_cfg {
    double test;
    int64_t seed;
    char *stratify;
} split_cfg;

const sl_config_entry sl_spec_split_map[] = {
    {"test", SL_CFG_FLOAT, "0.2", SL_CFG_SHORTHAND, NULL,
     offsetof(split_cfg, test),
     "Fraction of rows that go to the test set, between 0 and 1 "
     "(exclusive)."},
    {"seed", SL_CFG_INT, "42", 0, NULL, offsetof(split_cfg, seed),
     "Random seed (>= 0): the same seed and data give the same split."},
    {"stratify", SL_CFG_STR, NULL, 0, NULL, offsetof(split_cfg, stratify),
     "Column whose value frequencies are kept equal in train and test "
     "(for a classification target)."},
    {0}};

/* ---- messages ---------------------------------------------------------- */

static sl_rc fail_at(sl_err *err, const sl_node *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static sl_rc fail_at(sl_err *err, const sl_node *at, const char *fmt, ...)
{
    char msg[SL_ERR_MSG_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return sl_err_setloc(err, SL_ECONFIG, at->file, at->line, at->col, "%s",
                         msg);
}

/* " (did you mean 'x'?)" or " (available: a, b)" for a plugin name. */
static void plugin_hint(sl_plugin_kind kind, const char *name, char *buf,
                        size_t size)
{
    int n = 0;
    const sl_plugin *const *list = sl_plugin_list(kind, &n);
    const char **names = sl_calloc((size_t)n + 1, sizeof *names);
    const char *best = NULL;

    if (names) {
        for (int i = 0; i < n; i++)
            names[i] = list[i]->name;
        best = sl_closest_name(names, name);
    }
    if (best) {
        snprintf(buf, size, " (did you mean '%s'?)", best);
    } else if (n == 0) {
        snprintf(buf, size, " (no %s plugins are registered)",
                 sl_plugin_kind_name(kind));
    } else {
        size_t len = (size_t)snprintf(buf, size, " (available:");
        for (int i = 0; i < n && len < size; i++)
            len += (size_t)snprintf(buf + len, size - len, "%s %s",
                                    i ? "," : "", list[i]->name);
        if (len < size)
            snprintf(buf + len, size - len, ")");
    }
    sl_free(names);
}

static sl_rc unknown_plugin(sl_plugin_kind kind, const sl_node *at,
                            const char *name, sl_err *err)
{
    char hint[512];
    plugin_hint(kind, name, hint, sizeof hint);
    return fail_at(err, at, "unknown %s type '%.*s'%s",
                   sl_plugin_kind_name(kind), 64, name, hint);
}

/* ---- steps ------------------------------------------------------------- */

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n > m && !strcasecmp(s + n - m, suffix);
}

/* A .tsv file without an explicit delimiter is tab-separated (as for
 * `sluice convert`). Done through the plugin's own table so the spec
 * module needs no knowledge of the csv config struct. */
static void tsv_delimiter(const sl_spec_step *st)
{
    const sl_node *path = sl_node_get(st->node, "path");
    if (!path || path->kind != SL_NODE_SCALAR || !ends_with(path->value, ".tsv") ||
        sl_node_get(st->node, "delimiter"))
        return;
    for (const sl_config_entry *e = st->plugin->config_map; e && e->key; e++)
        if (!strcmp(e->key, "delimiter") && e->type == SL_CFG_CHAR)
            *((char *)st->config + e->offset) = '\t';
}

/* Allocates and fills st->config from node with st->plugin's table. */
static sl_rc configure(sl_spec_step *st, const sl_node *node,
                       const char *what, const char *const *skip, sl_err *err)
{
    const sl_plugin *p = st->plugin;
    st->node = node;
    st->config = sl_calloc(1, p->config_size ? p->config_size : 1);
    if (!st->config)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    sl_rc rc = sl_config_apply_ex(p->config_map, node, st->config, what, skip,
                                  err);
    if (rc != SL_OK) {
        sl_free(st->config);
        st->config = NULL;
    }
    return rc;
}

/* Picks the plugin of a source/sink mapping: `type`, else by extension. */
static sl_rc pick_io_plugin(sl_plugin_kind kind, const sl_node *node,
                            const sl_plugin **out, sl_err *err)
{
    const char *kname = sl_plugin_kind_name(kind);
    const sl_node *type = sl_node_get(node, "type");
    const sl_node *path = sl_node_get(node, "path");
    char hint[512];

    if (type) {
        if (type->kind != SL_NODE_SCALAR)
            return fail_at(err, type,
                           "key 'type': expected a %s plugin name, got %s",
                           kname,
                           type->kind == SL_NODE_NULL  ? "an empty value"
                           : type->kind == SL_NODE_SEQ ? "a list"
                                                       : "a mapping");
        if (!(*out = sl_plugin_find(kind, type->value)))
            return unknown_plugin(kind, type, type->value, err);
        return SL_OK;
    }
    const char *fmt = path && path->kind == SL_NODE_SCALAR
                          ? sl_format_for_path(path->value)
                          : NULL;
    if (fmt && (*out = sl_plugin_find(kind, fmt)))
        return SL_OK;
    plugin_hint(kind, "", hint, sizeof hint);
    if (path && path->kind == SL_NODE_SCALAR)
        return fail_at(err, node,
                       "%s has no 'type' and path '%.*s' does not tell it; "
                       "add a 'type' key%s",
                       kname, 200, path->value, hint);
    return fail_at(err, node, "missing required key 'type' in %s%s", kname,
                   hint);
}

/* A source or sink: a mapping with `type` (or an inferable `path`). */
static sl_rc load_io_step(sl_plugin_kind kind, const sl_node *node,
                          sl_spec_step *st, sl_err *err)
{
    static const char *const skip[] = {"type", NULL};
    const char *kname = sl_plugin_kind_name(kind);
    char what[160];
    sl_rc rc;

    if (node->kind != SL_NODE_MAP) {
        const char *got = node->kind == SL_NODE_NULL  ? "an empty value"
                          : node->kind == SL_NODE_SEQ ? "a list"
                                                      : "a single value";
        return fail_at(err, node,
                       "key '%s': expected a mapping like {type: csv, path: "
                       "...}, got %s",
                       kname, got);
    }
    st->line = node->line;
    st->col = node->col;
    if ((rc = pick_io_plugin(kind, node, &st->plugin, err)) != SL_OK)
        return rc;
    snprintf(what, sizeof what, "%s '%s'", kname, st->plugin->name);
    if ((rc = configure(st, node, what, skip, err)) != SL_OK)
        return rc;
    tsv_delimiter(st);
    return SL_OK;
}

/* "'a', 'b', 'c'" for the keys of a transform item written wrongly. */
static void key_list(const sl_node *m, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < m->n && i < 4 && len < size; i++)
        len += (size_t)snprintf(buf + len, size - len, "%s'%.*s'",
                                i ? ", " : "", 40, m->keys[i]->value);
    if (m->n > 4 && len < size)
        snprintf(buf + len, size - len, ", ...");
}

static sl_rc load_transform(int idx, const sl_node *item, sl_spec_step *st,
                            sl_err *err)
{
    const sl_node *name = item, *cfg = NULL;
    char what[160], keys[256];

    if (item->kind == SL_NODE_MAP && item->n == 1) {
        name = item->keys[0];
        cfg = item->items[0];
    } else if (item->kind == SL_NODE_MAP && item->n > 1) {
        key_list(item, keys, sizeof keys);
        if (!item->items[0] || item->items[0]->kind == SL_NODE_NULL)
            return fail_at(err, item,
                           "transforms item %d has %d keys (%s): indent the "
                           "settings of '%.*s' below it",
                           idx + 1, item->n, keys, 64, item->keys[0]->value);
        return fail_at(err, item,
                       "transforms item %d has %d keys (%s): each item is "
                       "one plugin, start a new '- ' item for each",
                       idx + 1, item->n, keys);
    } else if (item->kind != SL_NODE_SCALAR) {
        return fail_at(err, item,
                       "transforms item %d: expected a one-key mapping "
                       "'plugin: settings', got %s",
                       idx + 1,
                       item->kind == SL_NODE_MAP    ? "an empty mapping"
                       : item->kind == SL_NODE_NULL ? "an empty value"
                                                    : "a list");
    }
    st->line = name->line;
    st->col = name->col;
    if (!(st->plugin = sl_plugin_find(SL_PLUGIN_TRANSFORM, name->value)))
        return unknown_plugin(SL_PLUGIN_TRANSFORM, name, name->value, err);
    snprintf(what, sizeof what, "transform '%s'", st->plugin->name);
    return configure(st, cfg, what, NULL, err);
}

static sl_rc load_transforms(sl_spec *s, const sl_node *list, sl_err *err)
{
    if (!list || list->kind == SL_NODE_NULL)
        return SL_OK;
    if (list->kind != SL_NODE_SEQ)
        return fail_at(err, list,
                       "key 'transforms': expected a list of steps "
                       "('- filter: ...'), got %s",
                       list->kind == SL_NODE_MAP ? "a mapping"
                                                 : "a single value");
    s->transforms = sl_calloc(list->n ? (size_t)list->n : 1,
                              sizeof *s->transforms);
    if (!s->transforms)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    for (int i = 0; i < list->n; i++) {
        /* Counted before loading so sl_spec_free sees a partial step. */
        s->ntransforms++;
        sl_rc rc = load_transform(i, list->items[i], &s->transforms[i], err);
        if (rc != SL_OK)
            return rc;
    }
    return SL_OK;
}

static sl_rc load_split(sl_spec *s, const sl_node *node, sl_err *err)
{
    split_cfg c = {0};
    sl_rc rc;

    s->has_split = node != NULL;
    rc = sl_config_apply_ex(sl_spec_split_map, node, &c, "split", NULL, err);
    if (rc != SL_OK)
        return rc;
    const sl_node *at = node && node->kind == SL_NODE_MAP
                            ? sl_node_get(node, "test")
                            : node;
    if (!(c.test > 0 && c.test < 1) && at) {
        rc = fail_at(err, at,
                     "key 'test': expected a fraction between 0 and 1 "
                     "(exclusive), got %g",
                     c.test);
    } else if (c.seed < 0) {
        rc = fail_at(err, sl_node_get(node, "seed"),
                     "key 'seed': expected an integer >= 0, got %lld",
                     (long long)c.seed);
    } else {
        s->split_test = c.test;
        s->split_seed = c.seed;
        s->split_stratify = c.stratify;
        c.stratify = NULL;
    }
    sl_config_free(sl_spec_split_map, &c);
    return rc;
}

/* The default `name`: "dir/quickstart.yaml" -> "quickstart". */
static char *file_stem(const char *file)
{
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    const char *dot = strrchr(base, '.');
    size_t n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    return n ? sl_strndup(base, n) : sl_strdup("pipeline");
}

/* Moves the owned strings of the top-level table into s. */
static sl_rc take_top(sl_spec *s, top_cfg *t, sl_err *err)
{
    s->name = t->name ? t->name : file_stem(s->file);
    s->description = t->description;
    s->schema_path = t->schema;
    s->transform_output = t->transform_output;
    s->model = t->model;
    s->evaluate = t->evaluate;
    s->registry = t->registry;
    t->name = t->description = t->schema = t->transform_output = NULL;
    return s->name ? SL_OK : sl_err_set(err, SL_ENOMEM, "out of memory");
}

sl_rc sl_spec_from_doc(sl_doc *doc, sl_spec **out, sl_err *err)
{
    top_cfg t = {0};
    sl_spec *s = NULL;
    const sl_node *root;
    sl_rc rc = SL_OK;

    *out = NULL;
    if (!doc)
        return sl_err_set(err, SL_EINVAL, "sl_spec_from_doc: no document");
    if (!(s = sl_calloc(1, sizeof *s))) {
        sl_doc_free(doc);
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    }
    s->doc = doc;
    s->file = doc->file;
    root = doc->root;
    if (!root || root->kind == SL_NODE_NULL) {
        rc = sl_err_setloc(err, SL_ECONFIG, s->file, 0, 0,
                           "the spec is empty: it needs at least a 'source'");
        goto out;
    }
    if (root->kind != SL_NODE_MAP) {
        rc = fail_at(err, root,
                     "expected a mapping of keys (name, source, transforms, "
                     "...) at the top level, got %s",
                     root->kind == SL_NODE_SEQ ? "a list" : "a single value");
        goto out;
    }
    rc = sl_config_apply_ex(sl_spec_top_map, root, &t, "the spec", NULL, err);
    if (rc != SL_OK || (rc = take_top(s, &t, err)) != SL_OK)
        goto out;
    /* The YAML layer gives every present key a node (an empty value is a
     * null node), so t.source is set: it is required. */
    if ((rc = load_io_step(SL_PLUGIN_SOURCE, t.source, &s->source, err)) !=
            SL_OK ||
        (rc = load_transforms(s, t.transforms, err)) != SL_OK ||
        (rc = load_split(s, t.split, err)) != SL_OK)
        goto out;
    if (t.sink && (rc = load_io_step(SL_PLUGIN_SINK, t.sink, &s->sink, err)) != SL_OK)
        goto out;
    rc = sl_spec_train_load(s, t.model, t.evaluate, t.registry, err);
out:
    sl_config_free(sl_spec_top_map, &t);
    if (rc != SL_OK)
        sl_spec_free(s);
    else
        *out = s;
    return rc;
}

/* A spec that is not valid YAML is an invalid spec: callers (the CLI's
 * exit codes) tell spec errors from data errors by SL_ECONFIG. I/O and
 * memory failures keep their codes. */
static sl_rc yaml_to_spec(sl_rc rc, sl_doc *doc, sl_spec **out, sl_err *err)
{
    if (rc == SL_OK)
        return sl_spec_from_doc(doc, out, err);
    if (rc == SL_EPARSE || rc == SL_ELIMIT || rc == SL_EUNSUPPORTED) {
        rc = SL_ECONFIG;
        if (err)
            err->code = rc;
    }
    return rc;
}

sl_rc sl_spec_load_string(const char *text, size_t n, const char *name,
                          sl_spec **out, sl_err *err)
{
    sl_doc *doc = NULL;
    *out = NULL;
    sl_rc rc = sl_yaml_load_string(text, n, name, &doc, err);
    return yaml_to_spec(rc, doc, out, err);
}

sl_rc sl_spec_load(const char *path, sl_spec **out, sl_err *err)
{
    sl_doc *doc = NULL;
    *out = NULL;
    sl_rc rc = sl_yaml_load_file(path, &doc, err);
    return yaml_to_spec(rc, doc, out, err);
}

static void step_free(sl_spec_step *st)
{
    if (st->config && st->plugin)
        sl_config_free(st->plugin->config_map, st->config);
    sl_free(st->config);
    st->config = NULL;
}

void sl_spec_free(sl_spec *s)
{
    if (!s)
        return;
    step_free(&s->source);
    for (int i = 0; i < s->ntransforms; i++)
        step_free(&s->transforms[i]);
    sl_free(s->transforms);
    step_free(&s->sink);
    sl_spec_train_free(s);
    sl_free(s->name);
    sl_free(s->description);
    sl_free(s->schema_path);
    sl_free(s->split_stratify);
    sl_free(s->transform_output);
    sl_doc_free(s->doc);
    sl_free(s);
}
