/*
 * plugin.c: the plugin registry. Built-in plugins are static const
 * structs defined by their modules and registered once by
 * sl_plugins_init(); embedders may register more with
 * sl_plugin_register(). The registry is process-wide and append-only, and
 * is filled before any pipeline runs (not thread-safe while registering).
 */
#include <pthread.h>
#include <string.h>

#include "sluice/plugin.h"

#define MAX_PLUGINS 128

static const sl_plugin *registry[MAX_PLUGINS];
static int registry_n;
/* Per-kind NULL-terminated views, rebuilt on registration. */
static const sl_plugin *by_kind[4][MAX_PLUGINS + 1];
static int by_kind_n[4];

extern const sl_plugin sl_plugin_source_csv, sl_plugin_source_jsonl,
    sl_plugin_source_parquet, sl_plugin_source_avro, sl_plugin_source_kafka;
extern const sl_plugin sl_plugin_sink_csv, sl_plugin_sink_jsonl,
    sl_plugin_sink_parquet, sl_plugin_sink_avro, sl_plugin_sink_kafka;
extern const sl_plugin sl_plugin_filter, sl_plugin_derive, sl_plugin_select,
    sl_plugin_drop, sl_plugin_rename, sl_plugin_cast, sl_plugin_impute,
    sl_plugin_scale, sl_plugin_onehot, sl_plugin_vocabulary, sl_plugin_hash,
    sl_plugin_bucketize, sl_plugin_clip;

static const sl_plugin *const builtin[] = {
    &sl_plugin_source_csv, &sl_plugin_source_jsonl, &sl_plugin_source_parquet,
    &sl_plugin_source_avro, &sl_plugin_source_kafka,
    &sl_plugin_filter,     &sl_plugin_derive,     &sl_plugin_select,
    &sl_plugin_drop,       &sl_plugin_rename,     &sl_plugin_cast,
    &sl_plugin_impute,     &sl_plugin_scale,      &sl_plugin_clip,
    &sl_plugin_bucketize,  &sl_plugin_onehot,     &sl_plugin_vocabulary,
    &sl_plugin_hash,
    &sl_plugin_sink_csv,   &sl_plugin_sink_jsonl,   &sl_plugin_sink_parquet,
    &sl_plugin_sink_avro,  &sl_plugin_sink_kafka,
};

const char *sl_plugin_kind_name(sl_plugin_kind kind)
{
    switch (kind) {
    case SL_PLUGIN_SOURCE: return "source";
    case SL_PLUGIN_TRANSFORM: return "transform";
    case SL_PLUGIN_SINK: return "sink";
    }
    return "?";
}

sl_rc sl_plugin_register(const sl_plugin *p, sl_err *err)
{
    if (!p || !p->name || p->kind < SL_PLUGIN_SOURCE || p->kind > SL_PLUGIN_SINK)
        return sl_err_set(err, SL_EINVAL, "invalid plugin");
    if (p->abi_version != SL_PLUGIN_ABI_VERSION)
        return sl_err_set(err, SL_EUNSUPPORTED,
                          "plugin '%s' has ABI version %d, this build needs %d",
                          p->name, p->abi_version, SL_PLUGIN_ABI_VERSION);
    if (sl_plugin_find(p->kind, p->name))
        return sl_err_set(err, SL_EINVAL, "%s plugin '%s' is already registered",
                          sl_plugin_kind_name(p->kind), p->name);
    if (registry_n == MAX_PLUGINS)
        return sl_err_set(err, SL_ELIMIT, "too many plugins (max %d)", MAX_PLUGINS);
    registry[registry_n++] = p;
    by_kind[p->kind][by_kind_n[p->kind]++] = p;
    by_kind[p->kind][by_kind_n[p->kind]] = NULL;
    return SL_OK;
}

const sl_plugin *sl_plugin_find(sl_plugin_kind kind, const char *name)
{
    for (int i = 0; i < registry_n; i++)
        if (registry[i]->kind == kind && strcmp(registry[i]->name, name) == 0)
            return registry[i];
    return NULL;
}

const sl_plugin *const *sl_plugin_list(sl_plugin_kind kind, int *n)
{
    if (kind < SL_PLUGIN_SOURCE || kind > SL_PLUGIN_SINK) {
        if (n)
            *n = 0;
        return by_kind[0];
    }
    if (n)
        *n = by_kind_n[kind];
    return by_kind[kind];
}

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void register_builtins(void)
{
    for (size_t i = 0; i < sizeof builtin / sizeof builtin[0]; i++)
        sl_plugin_register(builtin[i], NULL);
}

void sl_plugins_init(void)
{
    pthread_once(&init_once, register_builtins);
}
