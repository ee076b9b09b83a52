/*
 * train_register.c: the registry side of `sluice train`: reading the
 * baseline, writing a version's files and moving its pointers.
 *
 * A version directory is filled completely before any pointer names it
 * (registry.h), and every file in it is written atomically (temporary
 * file, fsync, rename), so a reader that follows `latest` or `blessed`
 * never sees a partial version. metrics.json is written last among the
 * files: tools that list versions may take its presence to mean
 * "complete".
 */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run/internal.h"
#include "run/train_internal.h"
#include "sluice/log.h"
#include "sluice/mem.h"
#include "sluice/registry.h"

#define CSV_DIR "evaluation_results"

/* ---- baseline ----------------------------------------------------------- */

sl_rc sl_train_baseline(const sl_spec *spec, const char *root, const char *name,
                        sl_eval_baseline *out, sl_err *err)
{
    const sl_spec_evaluate *e = spec->evaluate_spec;
    char path[SL_PATH_MAX];
    sl_err local;
    sl_rc rc = SL_OK;
    int v = 0;
    memset(out, 0, sizeof *out);
    sl_err_clear(&local);
    if (e->baseline == SL_BASELINE_NONE)
        return SL_OK;
    if (e->baseline == SL_BASELINE_FILE) {
        snprintf(path, sizeof path, "%s", e->baseline_path);
    } else {
        const char *ptr = e->baseline == SL_BASELINE_LATEST ? "latest" : "blessed";
        snprintf(out->source, sizeof out->source, "%s", ptr);
        rc = sl_registry_get_pointer(root, name, ptr, &v, &local);
        if (rc == SL_ENOTFOUND)
            return SL_OK; /* no such version yet */
        if (rc == SL_OK) {
            char dir[SL_PATH_MAX];
            sl_registry_version_dir(root, name, v, dir, sizeof dir);
            snprintf(path, sizeof path, "%s/%s", dir, SL_REGISTRY_METRICS_FILE);
        }
    }
    if (rc == SL_OK)
        rc = sl_eval_metrics_load(path, out, &local);
    if (rc == SL_OK) {
        if (v > 0) {
            out->version = v;
            snprintf(out->source, sizeof out->source, "%s",
                     e->baseline == SL_BASELINE_LATEST ? "latest" : "blessed");
        }
        return SL_OK;
    }
    if (rc == SL_ENOMEM)
        return sl_err_set(err, rc, "out of memory");
    /* Without a gate nothing depends on the baseline: note it and go on. */
    if (!e->gate) {
        char msg[SL_ERR_MSG_MAX + SL_ERR_FILE_MAX + 64];
        sl_err_format(&local, msg, sizeof msg);
        sl_log(SL_LOG_WARN, "train", "baseline ignored: %s", msg);
        memset(out, 0, sizeof *out);
        return SL_OK;
    }
    *err = local;
    sl_err_prefix(err, "evaluate: cannot read the baseline%s (fix it, or set baseline: "
                       "none)",
                  v > 0 ? " version" : "");
    return rc;
}

/* ---- model_config.yaml -------------------------------------------------- */

typedef struct yaml_out {
    char *p;
    size_t n, cap;
    int failed;
} yaml_out;

static void yo_write(yaml_out *y, const char *s, size_t n)
{
    if (y->failed || sl_grow((void **)&y->p, &y->cap, y->n + n + 1, 1) != 0) {
        y->failed = 1;
        return;
    }
    memcpy(y->p + y->n, s, n);
    y->n += n;
    y->p[y->n] = '\0';
}

static void yo_str(yaml_out *y, const char *s)
{
    yo_write(y, s, strlen(s));
}

static void yo_indent(yaml_out *y, int indent)
{
    for (int i = 0; i < indent; i++)
        yo_write(y, " ", 1);
}

/* Plain when it cannot be misread (and was not quoted in the spec), else
 * a double-quoted YAML string with JSON escapes. */
static void yo_scalar(yaml_out *y, const char *s, int quoted)
{
    int plain = !quoted && *s;
    for (const char *p = s; plain && *p; p++) {
        char c = *p;
        plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '_' || c == '.' || c == '/' || (c == '-' && p != s) || c == '+';
    }
    if (plain) {
        yo_str(y, s);
        return;
    }
    yo_write(y, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[8];
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*p;
            yo_write(y, esc, 2);
        } else if (*p == '\n') {
            yo_str(y, "\\n");
        } else if (*p == '\t') {
            yo_str(y, "\\t");
        } else if (*p < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", *p);
            yo_str(y, esc);
        } else {
            yo_write(y, (const char *)p, 1);
        }
    }
    yo_write(y, "\"", 1);
}

static void yo_node(yaml_out *y, const sl_node *n, int indent, int flow);

/* "key: value" lines of a block mapping at indent. */
static void yo_map_block(yaml_out *y, const sl_node *n, int indent)
{
    for (int i = 0; i < n->n; i++) {
        yo_indent(y, indent);
        yo_scalar(y, n->keys[i]->value, n->keys[i]->quoted);
        yo_str(y, ":");
        const sl_node *v = n->items[i];
        if (v && v->kind == SL_NODE_MAP && v->n > 0) {
            yo_str(y, "\n");
            yo_map_block(y, v, indent + 2);
        } else {
            yo_str(y, " ");
            yo_node(y, v, indent, 1);
            yo_str(y, "\n");
        }
    }
}

/* A value inline: scalars, flow lists and flow mappings. */
static void yo_node(yaml_out *y, const sl_node *n, int indent, int flow)
{
    if (!n || n->kind == SL_NODE_NULL) {
        yo_str(y, "null");
    } else if (n->kind == SL_NODE_SCALAR) {
        yo_scalar(y, n->value, n->quoted);
    } else if (n->kind == SL_NODE_SEQ) {
        yo_str(y, "[");
        for (int i = 0; i < n->n; i++) {
            yo_str(y, i ? ", " : "");
            yo_node(y, n->items[i], indent, 1);
        }
        yo_str(y, "]");
    } else if (flow) {
        yo_str(y, "{");
        for (int i = 0; i < n->n; i++) {
            yo_str(y, i ? ", " : "");
            yo_scalar(y, n->keys[i]->value, n->keys[i]->quoted);
            yo_str(y, ": ");
            yo_node(y, n->items[i], indent, 1);
        }
        yo_str(y, "}");
    } else {
        yo_map_block(y, n, indent);
    }
}

static void yo_section(yaml_out *y, const char *key, const sl_node *n)
{
    if (!n)
        return;
    yo_str(y, key);
    yo_str(y, ":");
    if (n->kind == SL_NODE_MAP && n->n > 0) {
        yo_str(y, "\n");
        yo_map_block(y, n, 2);
    } else {
        yo_str(y, " ");
        yo_node(y, n, 0, 1);
        yo_str(y, "\n");
    }
}

static void yo_pair(yaml_out *y, int indent, const char *key, const char *value)
{
    yo_indent(y, indent);
    yo_str(y, key);
    yo_str(y, ": ");
    yo_scalar(y, value ? value : "", 0);
    yo_str(y, "\n");
}

sl_rc sl_train_model_config(const sl_spec *spec, const char *root, const char *name,
                            char **text, size_t *len, sl_err *err)
{
    yaml_out y = {0};
    const sl_node *path = sl_node_get(spec->source.node, "path");
    yo_str(&y, "# Written by sluice train: the spec sections that trained this "
               "version.\n");
    yo_pair(&y, 0, "name", spec->name);
    yo_pair(&y, 0, "spec", spec->file);
    if (path && path->kind == SL_NODE_SCALAR)
        yo_pair(&y, 0, "source", path->value);
    yo_section(&y, "model", spec->model);
    yo_section(&y, "evaluate", spec->evaluate);
    yo_str(&y, "registry:\n");
    yo_pair(&y, 2, "path", root);
    yo_pair(&y, 2, "name", name);
    if (y.failed) {
        sl_free(y.p);
        *text = NULL;
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    }
    *text = y.p;
    *len = y.n;
    return SL_OK;
}

/* ---- the version -------------------------------------------------------- */

static sl_rc write_text(const char *dir, const char *rel, const char *text, size_t len,
                        sl_err *err)
{
    char path[SL_PATH_MAX + 256];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    return sl_write_file_atomic(path, text, len, err);
}

static sl_rc write_json(const char *dir, const char *rel, json_t *doc, sl_err *err)
{
    char *text = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    if (!text)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    size_t n = strlen(text);
    char *withnl = sl_malloc(n + 1);
    sl_rc rc = SL_ENOMEM;
    if (withnl) {
        memcpy(withnl, text, n);
        withnl[n] = '\n';
        rc = write_text(dir, rel, withnl, n + 1, err);
    } else {
        sl_err_set(err, rc, "out of memory");
    }
    sl_free(withnl);
    free(text); /* jansson's allocator */
    return rc;
}

/* Best effort: the files a version holds, its subdirectories, itself. */
static void remove_version(const char *dir, const char *csv)
{
    static const char *const files[] = {SL_REGISTRY_MODEL_FILE, SL_REGISTRY_TRANSFORM_FILE,
                                        SL_REGISTRY_CONFIG_FILE, SL_REGISTRY_METRICS_FILE};
    static const char *const subs[] = {"model_artifacts", "model_metrics", CSV_DIR};
    char path[SL_PATH_MAX + 256];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    snprintf(path, sizeof path, "%s/%s", dir, csv);
    unlink(path);
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, subs[i]);
        rmdir(path);
    }
    rmdir(dir);
}

static sl_rc write_files(const sl_train_reg *r, const char *dir, const char *csv,
                         sl_err *err)
{
    char path[SL_PATH_MAX + 256], *text = NULL;
    size_t len = 0;
    sl_rc rc;
    snprintf(path, sizeof path, "%s/%s", dir, SL_REGISTRY_MODEL_FILE);
    if ((rc = sl_model_save(r->model, path, err)) != SL_OK)
        return rc;
    if (r->transform &&
        (rc = write_text(dir, SL_REGISTRY_TRANSFORM_FILE, r->transform, r->transform_len,
                         err)) != SL_OK)
        return rc;
    if ((rc = sl_train_model_config(r->spec, r->root, r->name, &text, &len, err)) != SL_OK)
        return rc;
    rc = write_text(dir, SL_REGISTRY_CONFIG_FILE, text, len, err);
    sl_free(text);
    text = NULL;
    if (rc != SL_OK)
        return rc;
    if ((rc = sl_eval_report_csv(r->report, &text, &len, err)) != SL_OK)
        return rc;
    rc = write_text(dir, csv, text, len, err);
    sl_free(text);
    if (rc != SL_OK)
        return rc;
    json_t *doc = sl_eval_report_json(r->report);
    rc = write_json(dir, SL_REGISTRY_METRICS_FILE, doc, err);
    json_decref(doc);
    return rc;
}

sl_rc sl_train_register(const sl_train_reg *r, int *version, char *dir, size_t n,
                        sl_err *err)
{
    char csv[512];
    sl_rc rc = sl_registry_new_version(r->root, r->name, version, dir, n, err);
    if (rc != SL_OK)
        return rc;
    r->report->version = *version;
    snprintf(csv, sizeof csv, "%s/%s_%d.csv", CSV_DIR, r->name, *version);
    if ((rc = write_files(r, dir, csv, err)) != SL_OK) {
        remove_version(dir, csv);
        sl_err_prefix(err, "registering version %d", *version);
        return rc;
    }
    if ((rc = sl_registry_set_pointer(r->root, r->name, "latest", *version, err)) != SL_OK)
        return rc;
    if (r->report->blessed)
        rc = sl_registry_set_pointer(r->root, r->name, "blessed", *version, err);
    return rc;
}
