/*
 * plugin.h: sources, transforms and sinks behind one versioned vtable.
 *
 * A plugin is static, immutable description + functions; an instance is
 * what a pipeline creates from it with one configuration (Fluent Bit's
 * split), so one spec can use the same plugin twice.
 *
 * Lifecycle of an instance, driven by the pipeline runner:
 *   config = calloc(config_size); sl_config_apply(config_map, node, config)
 *   init(&inst, config, ctx)          instance may keep pointers into config
 *   -- stateful transforms only (analyze != NULL), once, on training data:
 *   analyze(inst, batch)*  analyze_end(inst)      or  state_load(inst, json)
 *   open(inst, in_schema, &out_schema)   sources get in_schema == NULL
 *   next()* (source) | process()* (transform) | write()* (sink)
 *   flush(); close(); destroy(inst); sl_config_free(); free(config)
 * For sinks, close() commits the output (e.g. renames the temporary file
 * into place); destroy() without a successful close() discards it. The
 * runner skips close() after any failure, so a failed run never leaves a
 * half-written output under the final name.
 *
 * checkpoint() (streaming, NULL when not supported; see stream.h):
 *   Sources: commit the read position past every row of every batch that
 *   next() returned before this call (Kafka: for each assigned partition,
 *   the offset after the highest offset those batches held, including the
 *   records sent to the dead-letter destination, which are made durable
 *   first). The caller invokes it only once every row of those batches is
 *   acknowledged by the sink (or deliberately dropped by a transform) and
 *   with no batch in flight, so a commit never covers an unacknowledged
 *   row: delivery is at-least-once. Rows returned after the last
 *   successful checkpoint are read again after a crash or a rebalance.
 *   A failed commit the source can retry (e.g. during a rebalance) is
 *   logged and counted, and left for the next checkpoint: it is not an
 *   error.
 *   Sinks: return only when every row written so far is durable
 *   (Kafka: every delivery report in, none failed). A sink without
 *   checkpoint is durable only after close(); a streaming runner then
 *   commits the source once, after that close.
 * A function pointer that does not apply is NULL. Every function reports
 * failure as sl_rc + sl_err. Plugins never print and never exit.
 */
#ifndef SLUICE_PLUGIN_H
#define SLUICE_PLUGIN_H

#include <stddef.h>

#include "batch.h"
#include "config_map.h"
#include "error.h"
#include "schema.h"

#define SL_PLUGIN_ABI_VERSION 1

struct json_t;

typedef enum sl_plugin_kind {
    SL_PLUGIN_SOURCE = 1,
    SL_PLUGIN_TRANSFORM,
    SL_PLUGIN_SINK
} sl_plugin_kind;

/* What the runner tells an instance about the run. */
typedef struct sl_ctx {
    const char *spec_file;        /* for error messages; may be NULL */
    const sl_schema *schema_hint; /* sources: top-level `schema:` override
                                     (partial: listed columns only), or NULL */
    const char *rejects_path;     /* default file for on_error: dlq */
    const char *sink_path;        /* sinks: the file to write. The runner
                                     derives it from the spec's `path`
                                     (e.g. <dir>/train.csv); when non-NULL it
                                     wins over the config's path. */
    int quiet;
    /* Sinks: called while write() waits for room in a full output queue
     * (backpressure), about every 100 ms. The streaming runner pauses its
     * source meanwhile and keeps the consumer's group membership alive.
     * NULL: just wait. */
    void (*on_wait)(void *arg);
    void *wait_arg;
    /* The run's memory budget in bytes (0: the plugins' own defaults).
     * Plugins that buffer size their queues from it unless the spec sets
     * them (docs/design/streaming.md has the split). */
    int64_t memory_budget;
} sl_ctx;

typedef struct sl_plugin {
    int abi_version; /* SL_PLUGIN_ABI_VERSION */
    const char *name;
    sl_plugin_kind kind;
    const char *summary; /* one line for docs */
    const char *example; /* YAML snippet for docs, may be NULL */
    const sl_config_entry *config_map;
    size_t config_size;

    sl_rc (*init)(void **inst, void *config, const sl_ctx *ctx, sl_err *err);
    /* Transforms: in = schema of incoming batches, *out = schema of
     * outgoing ones (caller frees). Sources: in == NULL, *out = schema of
     * the data. Sinks: in = schema to be written, out == NULL. */
    sl_rc (*open)(void *inst, const sl_schema *in, sl_schema **out,
                  sl_err *err);
    /* Sources: *out = next batch (caller owns a reference); SL_EEOF when
     * done. */
    sl_rc (*next)(void *inst, sl_batch **out, sl_err *err);
    /* Transforms: consumes the caller's reference to in; *out gets a new
     * reference (may be the same batch modified, if in->refcount == 1). */
    sl_rc (*process)(void *inst, sl_batch *in, sl_batch **out, sl_err *err);
    /* Sinks: does not consume in. */
    sl_rc (*write)(void *inst, sl_batch *in, sl_err *err);
    sl_rc (*flush)(void *inst, sl_err *err);
    sl_rc (*checkpoint)(void *inst, sl_err *err);
    sl_rc (*close)(void *inst, sl_err *err);
    void (*destroy)(void *inst);

    /* Stateful transforms (NULL when stateless). */
    sl_rc (*analyze)(void *inst, const sl_batch *in, sl_err *err);
    sl_rc (*analyze_end)(void *inst, sl_err *err);
    sl_rc (*state_save)(void *inst, struct json_t **out, sl_err *err);
    sl_rc (*state_load)(void *inst, const struct json_t *state, sl_err *err);

    /* Progress/accounting (sources; may be NULL): bytes consumed so far
     * and total bytes (-1 if unknown). Rows rejected (sources/transforms). */
    void (*progress)(void *inst, int64_t *done, int64_t *total);
    int64_t (*rejected)(void *inst);
} sl_plugin;

/* Registry. Built-in plugins are registered by sl_plugins_init(). */
sl_rc sl_plugin_register(const sl_plugin *p, sl_err *err);
const sl_plugin *sl_plugin_find(sl_plugin_kind kind, const char *name);
/* NULL-terminated array of the plugins of one kind, in registration order
 * (static storage, valid until the next register call). */
const sl_plugin *const *sl_plugin_list(sl_plugin_kind kind, int *n);
const char *sl_plugin_kind_name(sl_plugin_kind kind);
void sl_plugins_init(void);

#endif
