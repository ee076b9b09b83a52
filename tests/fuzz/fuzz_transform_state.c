/*
 * fuzz_transform_state.c: the fitted-state loader of every stateful
 * transform (the "state" objects of transform.json), which reads
 * hand-editable, possibly corrupt files.
 *
 * Input: byte 0 picks a (plugin, configuration) pair, the rest is JSON
 * text. When the text parses, it goes to state_load; when that accepts it,
 * the instance is opened on a fixed schema and applied to a fixed batch,
 * so every accepted state must also be safe to apply.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sluice/batch.h"
#include "sluice/config_map.h"
#include "sluice/node.h"
#include "sluice/plugin.h"

extern const sl_plugin sl_plugin_impute, sl_plugin_scale, sl_plugin_onehot,
    sl_plugin_vocabulary, sl_plugin_bucketize, sl_plugin_clip;

static const struct {
    const sl_plugin *p;
    const char *yaml;
} configs[] = {
    {&sl_plugin_impute, "t: {columns: [b]}"},
    {&sl_plugin_impute, "t: {columns: [c, a, d], strategy: most_frequent}"},
    {&sl_plugin_impute, "t: {columns: [c], strategy: constant}"},
    {&sl_plugin_scale, "t: {columns: [a, b]}"},
    {&sl_plugin_scale, "t: {columns: [a, b], method: minmax}"},
    {&sl_plugin_scale, "t: {columns: [b], method: robust}"},
    {&sl_plugin_onehot, "t: {columns: [c, a], other_bucket: true}"},
    {&sl_plugin_onehot, "t: {columns: [d], handle_unknown: error}"},
    {&sl_plugin_vocabulary, "t: {columns: [c, a], oov_buckets: 3}"},
    {&sl_plugin_bucketize, "t: {columns: [b, a], buckets: 4}"},
    {&sl_plugin_clip, "t: {columns: [a, b], min: 0, upper_quantile: 0.9}"},
    {&sl_plugin_clip, "t: {columns: [a], min: -2, max: 2}"},
};
#define NCONFIGS (sizeof configs / sizeof configs[0])

static sl_batch *fixed_batch(void)
{
    sl_batch *b = sl_batch_new(NULL, 0);
    sl_column *a = sl_column_new(SL_INT64, 4), *f = sl_column_new(SL_FLOAT64, 4),
              *c = sl_column_new(SL_STRING, 4), *d = sl_column_new(SL_BOOL, 4);
    if (!b || !a || !f || !c || !d) {
        sl_column_unref(a);
        sl_column_unref(f);
        sl_column_unref(c);
        sl_column_unref(d);
        sl_batch_unref(b);
        return NULL;
    }
    static const char *const s[] = {"x", "", "caf\xc3\xa9", NULL};
    for (int i = 0; i < 4; i++) {
        sl_column_append_int64(a, i * 3 - 4);
        if (i == 2)
            sl_column_append_null(f);
        else
            sl_column_append_float64(f, i == 3 ? -0.5 : i * 1e10);
        if (s[i])
            sl_column_append_str(c, s[i], strlen(s[i]));
        else
            sl_column_append_null(c);
        sl_column_append_bool(d, i & 1);
    }
    sl_batch_add_column(b, "a", a, NULL);
    sl_batch_add_column(b, "b", f, NULL);
    sl_batch_add_column(b, "c", c, NULL);
    sl_batch_add_column(b, "d", d, NULL);
    return b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const sl_plugin *p = configs[data[0] % NCONFIGS].p;
    const char *yaml = configs[data[0] % NCONFIGS].yaml;
    json_error_t jerr;
    json_t *state = json_loadb((const char *)data + 1, size - 1,
                               JSON_DECODE_ANY, &jerr);
    if (!state)
        return 0;
    sl_doc *doc = NULL;
    void *cfg = NULL, *h = NULL;
    sl_schema *out = NULL;
    sl_batch *in = NULL, *res = NULL;
    sl_err err;
    sl_ctx ctx = {.spec_file = "transform.json"};
    if (sl_yaml_load_string(yaml, strlen(yaml), "t.yaml", &doc, &err) != SL_OK)
        goto out;
    cfg = calloc(1, p->config_size);
    if (!cfg || sl_config_apply(p->config_map, doc->root->items[0], cfg,
                                &err) != SL_OK)
        goto out;
    if (p->init(&h, cfg, &ctx, &err) != SL_OK)
        goto out;
    if (p->state_load(h, state, &err) != SL_OK)
        goto out;
    in = fixed_batch();
    if (!in || p->open(h, in->schema, &out, &err) != SL_OK)
        goto out;
    if (p->process(h, sl_batch_ref(in), &res, &err) == SL_OK) {
        /* an accepted state saves again */
        json_t *again = NULL;
        if (p->state_save(h, &again, &err) == SL_OK)
            json_decref(again);
    }
out:
    sl_batch_unref(res);
    sl_batch_unref(in);
    sl_schema_free(out);
    if (h)
        p->destroy(h);
    if (cfg)
        sl_config_free(p->config_map, cfg);
    free(cfg);
    sl_doc_free(doc);
    json_decref(state);
    return 0;
}
