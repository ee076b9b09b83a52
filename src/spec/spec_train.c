/*
 * spec_train.c: the training sections of a spec (`model`, `evaluate`,
 * `registry`), validated with config tables like every other section, and
 * their part of the generated reference.
 *
 * `model:` mixes the spec's own keys (type, target, task, features) with
 * the model type's hyper-parameters. The table parses the former with the
 * latter skipped; each hyper-parameter must then be a parameter (or alias)
 * of the type, and sl_model_new checks the values. The task is often only
 * known from the data (inferred from the target's type), so the values are
 * checked here with the explicit task or the first task the type supports,
 * and again by the trainer with the real one; sl_spec_model_error points
 * an sl_model_new error (err->field = the key) at the spec position in
 * both cases.
 *
 * Ownership: sl_spec_model / sl_spec_evaluate and their strings belong to
 * the spec (sl_spec_train_free); parameter keys point into the document.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "sluice/evaluate.h"
#include "sluice/mem.h"
#include "sluice/spec.h"
#include "spec/spec_internal.h"

#define DEFAULT_REGISTRY "models/ml_models"

typedef struct model_cfg {
    char *type, *target;
    int task; /* index of auto|classification|regression == sl_task */
    sl_strlist features;
} model_cfg;

const sl_config_entry sl_spec_model_map[] = {
    {"type", SL_CFG_STR, NULL, SL_CFG_REQUIRED, NULL, offsetof(model_cfg, type),
     "Model type: `random_forest`, `gbdt`, `logistic_regression`, "
     "`linear_regression` or `mlp` (see Model types)."},
    {"target", SL_CFG_STR, NULL, SL_CFG_REQUIRED, NULL,
     offsetof(model_cfg, target),
     "Column to predict, as it comes out of the transforms."},
    {"task", SL_CFG_ENUM, "auto", 0, "auto|classification|regression",
     offsetof(model_cfg, task),
     "auto: regression for a float64 target, classification for a string, "
     "int64 or bool one."},
    {"features", SL_CFG_STRLIST, NULL, 0, NULL, offsetof(model_cfg, features),
     "Feature columns (after the transforms), in order. Default: every "
     "numeric (bool, int64, float64) column except the target."},
    {0}};

typedef struct eval_cfg {
    sl_strlist metrics, slice_by;
    char *baseline;
    sl_cfg_expr gate;
} eval_cfg;

const sl_config_entry sl_spec_evaluate_map[] = {
    {"metrics", SL_CFG_STRLIST, NULL, SL_CFG_SHORTHAND, NULL,
     offsetof(eval_cfg, metrics),
     "Metrics computed on the test split and recorded (see Metrics). "
     "Default: every metric of the task. Metrics the gate reads are always "
     "recorded."},
    {"slice_by", SL_CFG_STRLIST, NULL, 0, NULL, offsetof(eval_cfg, slice_by),
     "Columns (after the transforms) whose values split the test rows into "
     "slices; every metric is also computed per slice."},
    {"baseline", SL_CFG_STR, "blessed", 0, NULL, offsetof(eval_cfg, baseline),
     "What the gate compares with: `blessed` (this model's blessed "
     "version), `latest` (its newest version before this one), `none`, or "
     "the path of a metrics.json."},
    {"gate", SL_CFG_EXPR, NULL, 0, NULL, offsetof(eval_cfg, gate),
     "Condition over metric names and `baseline.<metric>` that must hold "
     "for the new version to be blessed, e.g. `auc >= baseline.auc - "
     "0.001`. No gate: every version is blessed. No baseline yet: a gate "
     "that reads `baseline.*` holds."},
    {0}};

typedef struct registry_cfg {
    char *path, *name;
} registry_cfg;

const sl_config_entry sl_spec_registry_map[] = {
    {"path", SL_CFG_STR, DEFAULT_REGISTRY, SL_CFG_SHORTHAND, NULL,
     offsetof(registry_cfg, path),
     "Registry directory; versions go to `<path>/<name>/<version>/`."},
    {"name", SL_CFG_STR, NULL, 0, NULL, offsetof(registry_cfg, name),
     "Model name in the registry. Default: the spec's `name`."},
    {0}};

/* ---- helpers ----------------------------------------------------------- */

static sl_rc fail_node(sl_err *err, const sl_node *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static sl_rc fail_node(sl_err *err, const sl_node *at, const char *fmt, ...)
{
    char msg[SL_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return sl_err_setloc(err, SL_ECONFIG, at ? at->file : NULL, at ? at->line : 0,
                         at ? at->col : 0, "%s", msg);
}

static int in_table(const sl_config_entry *map, const char *key)
{
    for (; map->key; map++)
        if (!strcmp(map->key, key))
            return 1;
    return 0;
}

static const sl_model_param_def *find_param(const sl_model_type *t, const char *key)
{
    for (const sl_model_param_def *d = t->params; d && d->key; d++)
        if (!strcmp(d->key, key) || (d->alias && !strcmp(d->alias, key)))
            return d;
    return NULL;
}

/* Unknown key in `model:`: suggest from the spec's keys and the type's
 * parameters (and aliases) alike. */
static sl_rc unknown_model_key(const sl_model_type *t, const sl_node *key,
                               sl_err *err)
{
    const char *names[160];
    int n = 0;
    for (const sl_config_entry *e = sl_spec_model_map; e->key; e++)
        names[n++] = e->key;
    for (const sl_model_param_def *d = t->params; d && d->key && n < 156; d++) {
        names[n++] = d->key;
        if (d->alias)
            names[n++] = d->alias;
    }
    names[n] = NULL;
    const char *best = sl_closest_name(names, key->value);
    if (best)
        return fail_node(err, key,
                         "unknown key '%.64s' in model '%s' (did you mean '%s'?)",
                         key->value, t->name, best);
    return fail_node(err, key,
                     "unknown key '%.64s' in model '%s' (see Model types in "
                     "docs/user-guides/spec.md for its parameters)",
                     key->value, t->name);
}

/* The text of a hyper-parameter value: a scalar, or a list of scalars
 * joined with commas (hidden_layers: [64, 32]). Owned by the caller. */
static sl_rc param_text(const sl_node *key, const sl_node *v, char **out,
                        sl_err *err)
{
    size_t len = 0;
    *out = NULL;
    if (v && v->kind == SL_NODE_SCALAR) {
        if (!(*out = sl_strdup(v->value)))
            return sl_err_set(err, SL_ENOMEM, "out of memory");
        return SL_OK;
    }
    if (!v || v->kind != SL_NODE_SEQ)
        return fail_node(err, v && v->kind != SL_NODE_NULL ? v : key,
                         "model parameter '%.64s': expected a value, got %s",
                         key->value,
                         !v || v->kind == SL_NODE_NULL ? "an empty value" : "a mapping");
    for (int i = 0; i < v->n; i++) {
        if (v->items[i]->kind != SL_NODE_SCALAR)
            return fail_node(err, v->items[i],
                             "model parameter '%.64s': list items must be "
                             "single values", key->value);
        len += strlen(v->items[i]->value) + 1;
    }
    if (!(*out = sl_malloc(len + 1)))
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    (*out)[0] = '\0';
    for (int i = 0; i < v->n; i++) {
        if (i)
            strcat(*out, ",");
        strcat(*out, v->items[i]->value);
    }
    return SL_OK;
}

void sl_spec_model_error(const sl_spec *s, sl_err *err)
{
    const sl_spec_model *m = s->model_spec;
    if (!err || !m || err->line > 0)
        return;
    err->code = err->code == SL_ENOMEM ? SL_ENOMEM : SL_ECONFIG;
    if (err->code == SL_ENOMEM)
        return;
    const sl_node *at = NULL;
    for (int i = 0; err->field[0] && i < m->nparams && !at; i++) {
        if (strcmp(m->param_keys[i]->value, err->field) != 0)
            continue;
        /* a key's own problem at the key, a bad value at the value */
        int about_key = strstr(err->msg, "unknown parameter") || strstr(err->msg, "given twice");
        at = about_key || !m->param_values[i] ? m->param_keys[i] : m->param_values[i];
    }
    if (!at)
        at = sl_node_get(m->node, "task");
    if (!at)
        at = sl_node_get(m->node, "type");
    if (!at)
        at = m->node;
    if (at) {
        int64_t col = at->col + (at->kind == SL_NODE_SCALAR && at->quoted == 1);
        sl_err_at(err, at->file, at->line, col);
    }
}

/* ---- model ------------------------------------------------------------- */

static sl_rc check_params(sl_spec *s, sl_err *err)
{
    sl_spec_model *m = s->model_spec;
    const sl_node *tn = sl_node_get(m->node, "type");
    const sl_model_type *t = sl_model_type_find(m->type);
    if (!t) {
        const char *best = sl_model_type_closest(m->type);
        char known[256] = "";
        size_t k = 0;
        for (int i = 0; i < sl_model_type_count() && k < sizeof known; i++)
            k += (size_t)snprintf(known + k, sizeof known - k, "%s%s", i ? ", " : "",
                                  sl_model_type_at(i)->name);
        if (best)
            return fail_node(err, tn, "unknown model type '%.64s' (did you mean '%s'?)",
                             m->type, best);
        return fail_node(err, tn, "unknown model type '%.64s' (known: %s)", m->type, known);
    }
    for (int i = 0; i < m->nparams; i++)
        if (!find_param(t, m->param_keys[i]->value))
            return unknown_model_key(t, m->param_keys[i], err);
    sl_task task = m->task;
    if (task == SL_TASK_NONE)
        task = t->tasks & (1u << SL_TASK_CLASSIFICATION) ? SL_TASK_CLASSIFICATION
                                                         : SL_TASK_REGRESSION;
    sl_model *probe = NULL;
    sl_rc rc = sl_model_new(m->type, task, m->params, m->nparams, &probe, err);
    sl_model_free(probe);
    if (rc != SL_OK)
        sl_spec_model_error(s, err);
    return rc;
}

/* Collects the hyper-parameters: the section's keys that are not the
 * table's. *skip (NULL-terminated) lists them for sl_config_apply_ex. */
static sl_rc collect_params(sl_spec_model *m, const char ***skip, sl_err *err)
{
    const sl_node *node = m->node;
    size_t n = (size_t)node->n;
    *skip = sl_calloc(n + 1, sizeof **skip);
    m->params = sl_calloc(n + 1, sizeof *m->params);
    m->param_keys = sl_calloc(n + 1, sizeof *m->param_keys);
    m->param_values = sl_calloc(n + 1, sizeof *m->param_values);
    if (!*skip || !m->params || !m->param_keys || !m->param_values)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    int k = 0;
    for (int i = 0; i < node->n; i++) {
        const sl_node *key = node->keys[i];
        if (in_table(sl_spec_model_map, key->value))
            continue;
        (*skip)[k] = key->value;
        m->param_keys[k] = key;
        m->param_values[k] = node->items[i];
        m->params[k].key = key->value;
        char *text;
        sl_rc rc = param_text(key, node->items[i], &text, err);
        if (rc != SL_OK)
            return rc;
        m->params[k].value = text;
        m->nparams = ++k;
    }
    return SL_OK;
}

/* A key that is no parameter of the type but close to one of the spec's
 * own keys ("targte") is reported as such before the table complains
 * that `target` is missing. */
static sl_rc check_misspelt(const sl_spec_model *m, sl_err *err)
{
    const sl_node *tn = sl_node_get(m->node, "type");
    const sl_model_type *t =
        tn && tn->kind == SL_NODE_SCALAR ? sl_model_type_find(tn->value) : NULL;
    for (int i = 0; i < m->nparams; i++) {
        const char *key = m->param_keys[i]->value;
        const char *best = sl_config_closest(sl_spec_model_map, key);
        if (best && !(t && find_param(t, key)))
            return fail_node(err, m->param_keys[i],
                             "unknown key '%.64s' in model (did you mean '%s'?)", key, best);
    }
    return SL_OK;
}

static sl_rc load_model(sl_spec *s, const sl_node *node, sl_err *err)
{
    model_cfg c = {0};
    const char **skip = NULL;
    sl_rc rc;
    if (node->kind != SL_NODE_MAP)
        return fail_node(err, node,
                         "key 'model': expected a mapping like {type: random_forest, "
                         "target: label} (a model to train) or a registered model's path "
                         "(to score with), got %s",
                         node->kind == SL_NODE_SEQ ? "a list"
                         : node->kind == SL_NODE_NULL ? "an empty value"
                                                      : "a single value");
    if (!(s->model_spec = sl_calloc(1, sizeof *s->model_spec)))
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    sl_spec_model *m = s->model_spec;
    m->node = node;
    if ((rc = collect_params(m, &skip, err)) != SL_OK ||
        (rc = check_misspelt(m, err)) != SL_OK)
        goto out;
    if ((rc = sl_config_apply_ex(sl_spec_model_map, node, &c, "model", skip, err)) != SL_OK)
        goto out;
    m->type = c.type;
    m->target = c.target;
    m->task = (sl_task)c.task;
    m->features = c.features;
    memset(&c, 0, sizeof c);
    rc = check_params(s, err);
out:
    sl_free(skip);
    sl_config_free(sl_spec_model_map, &c);
    return rc;
}

/* ---- evaluate ---------------------------------------------------------- */

static sl_rc strlist_error(const sl_strlist *l, int i, const sl_node *file, sl_err *err,
                           const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* An error at item i of a list (its own line and column). */
static sl_rc strlist_error(const sl_strlist *l, int i, const sl_node *file, sl_err *err,
                           const char *fmt, ...)
{
    char msg[SL_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return sl_err_setloc(err, SL_ECONFIG, file ? file->file : NULL, l->lines[i],
                         l->cols[i], "%s", msg);
}

/* Canonical names, each once, and of the model's task when it is set. */
static sl_rc check_metrics(sl_spec *s, sl_strlist *l, sl_err *err)
{
    const sl_node *at = s->evaluate;
    sl_task task = s->model_spec->task;
    int kept = 0;
    for (int i = 0; i < l->n; i++) {
        const char *canon = sl_metric_canonical(l->items[i]);
        if (!canon) {
            const char *best = sl_metric_closest(l->items[i]);
            char hint[96] = " (see Metrics in docs/user-guides/spec.md)";
            if (best)
                snprintf(hint, sizeof hint, " (did you mean '%s'?)", best);
            return strlist_error(l, i, at, err, "evaluate: unknown metric '%.64s'%s",
                                 l->items[i], hint);
        }
        if (task != SL_TASK_NONE && sl_metric_task(canon) != task)
            return strlist_error(l, i, at, err,
                                 "evaluate: metric '%s' is a %s metric, but the model's "
                                 "task is %s",
                                 canon, sl_task_name(sl_metric_task(canon)),
                                 sl_task_name(task));
        int dup = 0;
        for (int j = 0; j < kept; j++)
            dup |= !strcmp(l->items[j], canon);
        char *c = dup ? NULL : sl_strdup(canon);
        if (!dup && !c)
            return sl_err_set(err, SL_ENOMEM, "out of memory");
        sl_free(l->items[i]);
        l->items[i] = NULL;
        if (!dup) {
            l->items[kept] = c;
            l->lines[kept] = l->lines[i];
            l->cols[kept] = l->cols[i];
            kept++;
        }
    }
    l->n = kept;
    return SL_OK;
}

/* blessed | latest | none | a metrics.json path (with a '/' or .json). */
static sl_rc check_baseline(sl_spec_evaluate *e, char *text, sl_err *err)
{
    static const char *const kinds[] = {"blessed", "latest", "none", NULL};
    for (int i = 0; kinds[i]; i++)
        if (!strcmp(text, kinds[i])) {
            e->baseline = (sl_baseline_kind)i;
            sl_free(text);
            return SL_OK;
        }
    size_t n = strlen(text);
    if (strchr(text, '/') || (n > 5 && !strcmp(text + n - 5, ".json"))) {
        e->baseline = SL_BASELINE_FILE;
        e->baseline_path = text;
        return SL_OK;
    }
    const char *best = sl_closest_name(kinds, text);
    const sl_node *at = sl_node_get(e->node, "baseline");
    char hint[64] = "";
    if (best)
        snprintf(hint, sizeof hint, " (did you mean '%s'?)", best);
    sl_rc rc = fail_node(err, at,
                         "key 'baseline': expected blessed, latest, none or the path "
                         "of a metrics.json, got '%.64s'%s",
                         text, hint);
    sl_free(text);
    return rc;
}

static sl_rc check_gate(sl_spec *s, sl_spec_evaluate *e, sl_err *err)
{
    const sl_cfg_expr *g = &e->gate_text;
    const char *file = e->node ? e->node->file : s->file;
    sl_rc rc = sl_gate_parse(g->text, &e->gate, err);
    if (rc != SL_OK) {
        if (err && rc != SL_ENOMEM) {
            int64_t ecol = err->col > 0 ? err->col : 1;
            err->line = g->line;
            err->col = g->col + ecol - 1;
            snprintf(err->file, sizeof err->file, "%s", file ? file : "");
        }
        return rc;
    }
    if (sl_gate_uses_baseline(e->gate) && e->baseline == SL_BASELINE_NONE)
        return sl_err_setloc(err, SL_ECONFIG, file, g->line, g->col,
                             "gate: it reads baseline.<metric>, but baseline is none "
                             "(set baseline: blessed, latest or a metrics.json)");
    sl_task task = s->model_spec->task;
    const char *const *used;
    int n = sl_gate_metrics(e->gate, &used);
    for (int i = 0; task != SL_TASK_NONE && i < n; i++)
        if (sl_metric_task(used[i]) != task)
            return sl_err_setloc(err, SL_ECONFIG, file, g->line, g->col,
                                 "gate: metric '%s' is not a %s metric", used[i],
                                 sl_task_name(task));
    return SL_OK;
}

static sl_rc load_evaluate(sl_spec *s, const sl_node *node, sl_err *err)
{
    eval_cfg c = {0};
    sl_rc rc;
    if (!(s->evaluate_spec = sl_calloc(1, sizeof *s->evaluate_spec)))
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    sl_spec_evaluate *e = s->evaluate_spec;
    e->node = node;
    e->given = node != NULL;
    if ((rc = sl_config_apply_ex(sl_spec_evaluate_map, node, &c, "evaluate", NULL, err)) !=
        SL_OK)
        return rc;
    e->metrics = c.metrics;
    e->slice_by = c.slice_by;
    e->gate_text = c.gate;
    char *baseline = c.baseline;
    memset(&c, 0, sizeof c);
    if (e->given && !s->has_split) {
        sl_free(baseline);
        return fail_node(err, node,
                         "evaluate: the model is evaluated on the test split, and the "
                         "spec has none; add one, e.g. split: {test: 0.2}");
    }
    if ((rc = check_baseline(e, baseline, err)) != SL_OK ||
        (rc = check_metrics(s, &e->metrics, err)) != SL_OK)
        return rc;
    if (e->gate_text.text)
        rc = check_gate(s, e, err);
    return rc;
}

/* ---- registry ---------------------------------------------------------- */

static sl_rc load_registry(sl_spec *s, const sl_node *node, sl_err *err)
{
    registry_cfg c = {0};
    sl_rc rc = sl_config_apply_ex(sl_spec_registry_map, node, &c, "registry", NULL, err);
    if (rc != SL_OK)
        return rc;
    s->registry_path = c.path;
    s->registry_name = c.name ? c.name : sl_strdup(s->name);
    if (!s->registry_name)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    const char *n = s->registry_name;
    if (!*n || strchr(n, '/') || !strcmp(n, ".") || !strcmp(n, "..")) {
        const sl_node *at = node ? sl_node_get(node, "name") : NULL;
        if (!at)
            at = node ? node : s->doc->root;
        return fail_node(err, at,
                         "model name '%.64s' cannot name a registry directory (no "
                         "'/', not '.' or '..'); set registry: {name: ...}",
                         n);
    }
    return SL_OK;
}

/* ---- entry points ------------------------------------------------------ */

sl_rc sl_spec_train_load(sl_spec *s, const sl_node *model, const sl_node *evaluate,
                         const sl_node *registry, sl_err *err)
{
    sl_rc rc;
    if (!model) {
        const sl_node *orphan = evaluate ? evaluate : registry;
        if (orphan)
            return fail_node(err, orphan,
                             "'%s' needs a 'model' section (it %s the model the spec "
                             "trains)",
                             evaluate ? "evaluate" : "registry",
                             evaluate ? "evaluates" : "stores");
        return SL_OK;
    }
    if (model->kind == SL_NODE_SCALAR && model->value[0]) {
        /* a registered model to score with: nothing here trains it */
        const sl_node *orphan = evaluate ? evaluate : registry;
        if (orphan)
            return fail_node(err, orphan,
                             "'%s' needs a model to train (model: {type: ..., target: "
                             "...}); 'model: %.200s' names a registered model to score with",
                             evaluate ? "evaluate" : "registry", model->value);
        if (!(s->model_ref = sl_strdup(model->value)))
            return sl_err_set(err, SL_ENOMEM, "out of memory");
        return SL_OK;
    }
    if ((rc = load_model(s, model, err)) != SL_OK ||
        (rc = load_evaluate(s, evaluate, err)) != SL_OK)
        return rc;
    return load_registry(s, registry, err);
}

void sl_spec_train_free(sl_spec *s)
{
    sl_free(s->model_ref);
    sl_spec_model *m = s->model_spec;
    if (m) {
        for (int i = 0; i < m->nparams; i++)
            sl_free((char *)m->params[i].value);
        sl_free(m->params);
        sl_free(m->param_keys);
        sl_free(m->param_values);
        sl_free(m->type);
        sl_free(m->target);
        model_cfg c = {.features = m->features};
        sl_config_free(sl_spec_model_map, &c);
        sl_free(m);
    }
    sl_spec_evaluate *e = s->evaluate_spec;
    if (e) {
        eval_cfg c = {.metrics = e->metrics, .slice_by = e->slice_by, .gate = e->gate_text};
        sl_config_free(sl_spec_evaluate_map, &c);
        sl_free(e->baseline_path);
        sl_gate_free(e->gate);
        sl_free(e);
    }
    sl_free(s->registry_path);
    sl_free(s->registry_name);
    s->model_spec = NULL;
    s->evaluate_spec = NULL;
    s->registry_path = s->registry_name = NULL;
}

void sl_spec_train_docs_md(FILE *out)
{
    fputs("\n## Model\n\n"
          "With `model`, `sluice train` (and `sluice run`) fits a model on the "
          "transformed train rows, evaluates it on the test rows and stores it "
          "as a new version in the registry (docs/user-guides/training.md). "
          "Keys other than these are the model type's hyper-parameters (see "
          "Model types); a list value is passed as comma-separated text "
          "(`hidden_layers: [64, 32]`).\n\n"
          "```yaml\n"
          "model: { type: random_forest, target: weather, n_estimators: 200, "
          "max_depth: 12 }\n"
          "```\n\n",
          out);
    sl_config_doc_md(sl_spec_model_map, out);
    fputs("\n## Evaluate\n\n"
          "Needs a `split`: metrics are computed on the test rows. The new "
          "version is blessed (the `blessed` pointer, which serving follows, "
          "moves to it) only when the gate holds. `evaluate: [auc, f1]` is "
          "short for `evaluate: {metrics: [auc, f1]}`.\n\n"
          "```yaml\n"
          "evaluate:\n"
          "  metrics: [accuracy, f1, auc]\n"
          "  slice_by: [month]\n"
          "  baseline: blessed\n"
          "  gate: \"auc >= baseline.auc - 0.001\"\n"
          "```\n\n",
          out);
    sl_config_doc_md(sl_spec_evaluate_map, out);
    fputs("\n### Metrics\n\n"
          "scikit-learn's definitions (docs/design/ml.md). A gate may read any "
          "metric of the model's task, and `baseline.<metric>`.\n\n",
          out);
    sl_metric_doc_md(out);
    fputs("\n## Registry\n\n"
          "Where trained versions go: `registry: models/ml_models` is short "
          "for `registry: {path: models/ml_models}`.\n\n",
          out);
    sl_config_doc_md(sl_spec_registry_map, out);
    fputs("\n## Model types\n\n"
          "The hyper-parameters each `model.type` accepts (an alias in "
          "parentheses is accepted for the key). Values are checked when the "
          "spec is loaded.\n\n",
          out);
    sl_model_doc_md(out);
}
