/*
 * prefetch.c: runs a source's next() on its own thread, a bounded queue
 * ahead of the consumer, so parsing the input overlaps with transforming
 * and writing it (the two halves of a batch pipeline on two cores).
 *
 * Memory stays bounded: at most `depth` batches wait in the queue plus one
 * being built. The source instance is touched only by the worker thread
 * between start and stop (progress counters are sampled by the worker
 * and handed over with each batch), so sources need no locking.
 */
#include <pthread.h>
#include <string.h>

#include "run/prefetch.h"
#include "sluice/mem.h"

#define PF_MAX_DEPTH 8

typedef struct item {
    sl_batch *b;
    sl_rc rc;
    int64_t done, total;
} item;

struct sl_prefetch {
    const sl_plugin *p;
    void *h;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    item q[PF_MAX_DEPTH];
    int head, count, depth;
    int stop, finished;
    sl_err err; /* the worker's error, valid once an item with rc != OK is queued */
};

static void *worker(void *arg)
{
    sl_prefetch *pf = arg;
    for (;;) {
        item it = {0};
        sl_err e;
        sl_err_clear(&e);
        it.rc = pf->p->next(pf->h, &it.b, &e);
        it.total = -1;
        if (pf->p->progress)
            pf->p->progress(pf->h, &it.done, &it.total);
        pthread_mutex_lock(&pf->mu);
        while (pf->count == pf->depth && !pf->stop)
            pthread_cond_wait(&pf->cv, &pf->mu);
        if (pf->stop) {
            pthread_mutex_unlock(&pf->mu);
            if (it.rc == SL_OK)
                sl_batch_unref(it.b);
            break;
        }
        if (it.rc != SL_OK)
            pf->err = e;
        pf->q[(pf->head + pf->count) % pf->depth] = it;
        pf->count++;
        int last = it.rc != SL_OK;
        if (last)
            pf->finished = 1;
        pthread_cond_broadcast(&pf->cv);
        pthread_mutex_unlock(&pf->mu);
        if (last)
            break;
    }
    return NULL;
}

sl_rc sl_prefetch_start(sl_prefetch **out, const sl_plugin *p, void *h,
                        int depth, sl_err *err)
{
    *out = NULL;
    sl_prefetch *pf = sl_calloc(1, sizeof *pf);
    if (!pf)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    pf->p = p;
    pf->h = h;
    pf->depth = depth < 1 ? 1 : depth > PF_MAX_DEPTH ? PF_MAX_DEPTH : depth;
    pthread_mutex_init(&pf->mu, NULL);
    pthread_cond_init(&pf->cv, NULL);
    if (pthread_create(&pf->thread, NULL, worker, pf) != 0) {
        pthread_mutex_destroy(&pf->mu);
        pthread_cond_destroy(&pf->cv);
        sl_free(pf);
        return sl_err_set(err, SL_EINTERNAL, "cannot start the reader thread");
    }
    *out = pf;
    return SL_OK;
}

sl_rc sl_prefetch_next(sl_prefetch *pf, sl_batch **b, int64_t *done,
                       int64_t *total, sl_err *err)
{
    *b = NULL;
    pthread_mutex_lock(&pf->mu);
    while (pf->count == 0)
        pthread_cond_wait(&pf->cv, &pf->mu);
    item it = pf->q[pf->head];
    if (it.rc == SL_OK) {
        pf->head = (pf->head + 1) % pf->depth;
        pf->count--;
        pthread_cond_broadcast(&pf->cv);
    } else if (err) {
        /* leave the terminal item queued: later calls see it again */
        *err = pf->err;
    }
    pthread_mutex_unlock(&pf->mu);
    *b = it.rc == SL_OK ? it.b : NULL;
    if (done)
        *done = it.done;
    if (total)
        *total = it.total;
    return it.rc;
}

void sl_prefetch_stop(sl_prefetch *pf)
{
    if (!pf)
        return;
    pthread_mutex_lock(&pf->mu);
    pf->stop = 1;
    pthread_cond_broadcast(&pf->cv);
    pthread_mutex_unlock(&pf->mu);
    pthread_join(pf->thread, NULL);
    for (int i = 0; i < pf->count; i++) {
        item *it = &pf->q[(pf->head + i) % pf->depth];
        if (it->rc == SL_OK)
            sl_batch_unref(it->b);
    }
    pthread_mutex_destroy(&pf->mu);
    pthread_cond_destroy(&pf->cv);
    sl_free(pf);
}
