/* prefetch.h: a source's next() on a background thread (see prefetch.c). */
#ifndef SLUICE_RUN_PREFETCH_H
#define SLUICE_RUN_PREFETCH_H

#include "sluice/plugin.h"

typedef struct sl_prefetch sl_prefetch;

sl_rc sl_prefetch_start(sl_prefetch **out, const sl_plugin *p, void *h,
                        int depth, sl_err *err);
/* Like the source's next(): SL_EEOF at the end, or the source's error.
 * done/total: the source's progress when that batch was produced. */
sl_rc sl_prefetch_next(sl_prefetch *pf, sl_batch **b, int64_t *done,
                       int64_t *total, sl_err *err);
/* Stops the worker (it finishes its current next() first), frees queued
 * batches. The source instance may be closed after this returns. */
void sl_prefetch_stop(sl_prefetch *pf);

#endif
