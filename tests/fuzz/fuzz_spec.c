/*
 * fuzz_spec.c: YAML text -> sl_yaml_load_string -> (when it parses) the
 * JSON round trip and full spec validation with the real plugins plus one
 * fake transform that has an entry of every config type, so every
 * sl_config_apply path is reachable whatever plugins the build has.
 */
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "sluice/spec.h"

typedef struct all_cfg {
    char *s;
    sl_cfg_expr e;
    int64_t i;
    double f;
    int b;
    char c;
    int en;
    sl_strlist l;
    sl_strmap m;
    const sl_node *n;
} all_cfg;

static const sl_config_entry all_map[] = {
    {"s", SL_CFG_STR, "x", SL_CFG_SHORTHAND, NULL, offsetof(all_cfg, s), "."},
    {"e", SL_CFG_EXPR, "a + 1", 0, NULL, offsetof(all_cfg, e), "."},
    {"i", SL_CFG_INT, "1", 0, NULL, offsetof(all_cfg, i), "."},
    {"f", SL_CFG_FLOAT, "0.5", 0, NULL, offsetof(all_cfg, f), "."},
    {"b", SL_CFG_BOOL, "on", 0, NULL, offsetof(all_cfg, b), "."},
    {"c", SL_CFG_CHAR, "tab", 0, NULL, offsetof(all_cfg, c), "."},
    {"en", SL_CFG_ENUM, "b", 0, "a|b|c", offsetof(all_cfg, en), "."},
    {"l", SL_CFG_STRLIST, ",x,,y", 0, NULL, offsetof(all_cfg, l), "."},
    {"m", SL_CFG_STRMAP, NULL, 0, NULL, offsetof(all_cfg, m), "."},
    {"n", SL_CFG_NODE, NULL, 0, NULL, offsetof(all_cfg, n), "."},
    {"r", SL_CFG_STR, NULL, SL_CFG_REQUIRED, NULL, offsetof(all_cfg, s), "."},
    {0}};

static const sl_config_entry whole_map[] = {
    {"m", SL_CFG_STRMAP, NULL, SL_CFG_WHOLE | SL_CFG_REQUIRED, NULL,
     offsetof(all_cfg, m), "."},
    {0}};

static const sl_plugin fuzz_all = {.abi_version = SL_PLUGIN_ABI_VERSION,
                                   .name = "fuzz_all",
                                   .kind = SL_PLUGIN_TRANSFORM,
                                   .config_map = all_map,
                                   .config_size = sizeof(all_cfg)};
static const sl_plugin fuzz_whole = {.abi_version = SL_PLUGIN_ABI_VERSION,
                                     .name = "fuzz_whole",
                                     .kind = SL_PLUGIN_TRANSFORM,
                                     .config_map = whole_map,
                                     .config_size = sizeof(all_cfg)};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    sl_doc *doc = NULL, *back = NULL;
    sl_spec *spec = NULL;
    sl_err err;
    char msg[2048];

    if (!ready) {
        sl_plugins_init();
        sl_plugin_register(&fuzz_all, NULL);
        sl_plugin_register(&fuzz_whole, NULL);
        ready = 1;
    }
    sl_err_clear(&err);
    if (sl_yaml_load_string((const char *)data, size, "fuzz.yaml", &doc,
                            &err) != SL_OK) {
        sl_err_format(&err, msg, sizeof msg);
        return 0;
    }
    json_t *j = sl_node_to_json(doc->root);
    if (j && sl_node_from_json(j, "fuzz.json", &back, NULL) == SL_OK)
        sl_doc_free(back);
    json_decref(j);
    if (sl_spec_from_doc(doc, &spec, &err) != SL_OK)
        sl_err_format(&err, msg, sizeof msg);
    sl_spec_free(spec);
    return 0;
}
