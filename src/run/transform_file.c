/*
 * transform_file.c: transform.json, the fitted transform chain.
 *
 *   {"format": "sluice-transform", "version": 1, "pipeline": "name",
 *    "input_schema": {...}, "output_schema": {...},
 *    "transforms": [{"type": "impute", "config": {...}, "state": {...}}]}
 *
 * `config` is the spec's own configuration of the step (so applying needs
 * no spec), `state` what analyze fitted (null for stateless steps).
 * Doubles are written with 17 significant digits (jansson's default), so
 * state read back is bit-identical and so are the applied values.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "run/internal.h"
#include "sluice/config_map.h"
#include "sluice/mem.h"

#define TRANSFORM_FORMAT "sluice-transform"
#define TRANSFORM_VERSION 1

sl_rc sl_transform_file_text(const char *pipeline, const sl_schema *in,
                             const sl_schema *out, sl_inst *t, int n,
                             char **text_out, size_t *len_out, sl_err *err)
{
    sl_rc rc = SL_OK;
    char *text = NULL;
    *text_out = NULL;
    *len_out = 0;
    json_t *root = json_object(), *arr = json_array();
    if (!root || !arr) {
        json_decref(arr);
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        goto out;
    }
    json_object_set_new(root, "format", json_string(TRANSFORM_FORMAT));
    json_object_set_new(root, "version", json_integer(TRANSFORM_VERSION));
    if (pipeline)
        json_object_set_new(root, "pipeline", json_string(pipeline));
    json_object_set_new(root, "input_schema", sl_schema_to_json(in, NULL));
    json_object_set_new(root, "output_schema", sl_schema_to_json(out, NULL));
    json_object_set_new(root, "transforms", arr);
    for (int i = 0; i < n; i++) {
        json_t *step = json_object(), *state = NULL;
        if (!step) {
            rc = sl_err_set(err, SL_ENOMEM, "out of memory");
            goto out;
        }
        json_array_append_new(arr, step);
        json_object_set_new(step, "type", json_string(t[i].p->name));
        json_t *cfg = t[i].node ? sl_node_to_json(t[i].node) : json_null();
        json_object_set_new(step, "config", cfg ? cfg : json_null());
        if (t[i].p->state_save) {
            rc = t[i].p->state_save(t[i].h, &state, err);
            if (rc != SL_OK) {
                sl_err_prefix(err, "transform '%s'", t[i].p->name);
                goto out;
            }
        }
        json_object_set_new(step, "state", state ? state : json_null());
    }
    text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (!text) {
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        goto out;
    }
    size_t len = strlen(text);
    char *withnl = sl_malloc(len + 2);
    if (!withnl) {
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        goto out;
    }
    memcpy(withnl, text, len);
    withnl[len] = '\n';
    withnl[len + 1] = '\0';
    *text_out = withnl;
    *len_out = len + 1;
out:
    free(text);
    json_decref(root);
    return rc;
}

sl_rc sl_transform_file_save(const char *path, const char *pipeline,
                             const sl_schema *in, const sl_schema *out,
                             sl_inst *t, int n, sl_err *err)
{
    char *text;
    size_t len;
    sl_rc rc = sl_transform_file_text(pipeline, in, out, t, n, &text, &len, err);
    if (rc == SL_OK)
        rc = sl_write_file_atomic(path, text, len, err);
    sl_free(text);
    return rc;
}

static sl_rc bad(sl_err *err, const char *path, const char *fmt, const char *a)
{
    char msg[512];
    snprintf(msg, sizeof msg, fmt, a);
    return sl_err_setloc(err, SL_ECONFIG, path, 0, 0, "invalid transform file: %s", msg);
}

sl_rc sl_transform_file_load(const char *path, sl_transform_file *tf,
                             sl_err *err)
{
    json_error_t jerr;
    sl_rc rc = SL_OK;
    memset(tf, 0, sizeof *tf);
    errno = 0;
    /* tf->t etc. are NULL until allocated; free handles that. */
    json_t *root = json_load_file(path, 0, &jerr);
    if (!root) {
        if (jerr.line <= 0)
            return sl_err_setloc(err, SL_EIO, path, 0, 0, "cannot read transform file: %s",
                                 errno ? strerror(errno) : jerr.text);
        return sl_err_setloc(err, SL_EPARSE, path, jerr.line, jerr.column,
                             "invalid transform file JSON: %s", jerr.text);
    }
    const char *fmt = json_string_value(json_object_get(root, "format"));
    json_t *ver = json_object_get(root, "version");
    json_t *arr = json_object_get(root, "transforms");
    if (!fmt || strcmp(fmt, TRANSFORM_FORMAT) != 0) {
        rc = bad(err, path, "\"format\" must be \"%s\"", TRANSFORM_FORMAT);
        goto out;
    }
    if (!json_is_integer(ver) || json_integer_value(ver) != TRANSFORM_VERSION) {
        rc = bad(err, path, "unsupported \"version\" (this build reads %s)", "1");
        goto out;
    }
    if (!json_is_array(arr)) {
        rc = bad(err, path, "\"transforms\" must be %s", "a list");
        goto out;
    }
    if ((rc = sl_schema_from_json(json_object_get(root, "input_schema"), path, &tf->in, err)) != SL_OK ||
        (rc = sl_schema_from_json(json_object_get(root, "output_schema"), path, &tf->out, err)) != SL_OK) {
        sl_err_prefix(err, "invalid transform file");
        goto out;
    }
    size_t n = json_array_size(arr);
    tf->t = sl_calloc(n ? n : 1, sizeof *tf->t);
    tf->docs = sl_calloc(n ? n : 1, sizeof *tf->docs);
    tf->configs = sl_calloc(n ? n : 1, sizeof *tf->configs);
    if (!tf->t || !tf->docs || !tf->configs) {
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        goto out;
    }
    sl_ctx ctx = {.spec_file = path, .quiet = 1};
    for (size_t i = 0; i < n; i++) {
        json_t *step = json_array_get(arr, i);
        const char *type = json_string_value(json_object_get(step, "type"));
        const sl_plugin *p = type ? sl_plugin_find(SL_PLUGIN_TRANSFORM, type) : NULL;
        if (!p) {
            char what[64];
            snprintf(what, sizeof what, "transforms[%zu]", i);
            rc = bad(err, path, "%s: unknown or missing \"type\"", what);
            goto out;
        }
        rc = sl_node_from_json(json_object_get(step, "config"), path, &tf->docs[i], err);
        if (rc != SL_OK)
            goto step_fail;
        tf->n = (int)i + 1;
        tf->t[i].p = p; /* so the cleanup frees the config even if init never ran */
        tf->configs[i] = sl_calloc(1, p->config_size ? p->config_size : 1);
        if (!tf->configs[i]) {
            rc = sl_err_set(err, SL_ENOMEM, "out of memory");
            goto out;
        }
        const sl_node *node = tf->docs[i]->root;
        rc = node ? sl_config_apply(p->config_map, node, tf->configs[i], err)
                  : sl_config_defaults(p->config_map, tf->configs[i], err);
        if (rc != SL_OK)
            goto step_fail;
        rc = sl_inst_init(&tf->t[i], p, tf->configs[i], node, &ctx, err);
        if (rc != SL_OK)
            goto step_fail;
        json_t *state = json_object_get(step, "state");
        if (p->state_load) {
            if (!state || json_is_null(state)) {
                rc = bad(err, path, "transform '%s' has no fitted \"state\"", p->name);
                goto out;
            }
            rc = p->state_load(tf->t[i].h, state, err);
            if (rc != SL_OK)
                goto step_fail;
        }
        continue;
    step_fail:
        sl_err_prefix(err, "transforms[%zu] '%s'", i, p->name);
        sl_err_at(err, path, 0, 0);
        goto out;
    }
out:
    json_decref(root);
    if (rc != SL_OK)
        sl_transform_file_free(tf);
    return rc;
}

void sl_transform_file_free(sl_transform_file *tf)
{
    for (int i = 0; tf->t && i < tf->n; i++) {
        sl_err ignored;
        sl_err_clear(&ignored);
        const sl_plugin *p = tf->t[i].p;
        if (!p)
            continue;
        sl_inst_close(&tf->t[i], &ignored);
        sl_inst_destroy(&tf->t[i]);
        if (tf->configs[i])
            sl_config_free(p->config_map, tf->configs[i]);
        sl_free(tf->configs[i]);
        sl_doc_free(tf->docs[i]);
    }
    sl_free(tf->t);
    sl_free(tf->configs);
    sl_free(tf->docs);
    sl_schema_free(tf->in);
    sl_schema_free(tf->out);
    memset(tf, 0, sizeof *tf);
}
