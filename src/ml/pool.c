/*
 * pool.c: a small fixed thread pool for the model trainers.
 *
 * A job is "call fn(ctx, i) for i in [0, n)": the caller and the workers
 * take indices from an atomic counter until none are left, then the caller
 * waits for the workers to finish. Which thread runs which index varies
 * between runs, so tasks must write only to their own slots; the error
 * reported is the one of the lowest failing index, so it does not depend on
 * scheduling either. When a worker thread cannot be started the pool simply
 * has fewer threads (the caller always participates), so no job fails for
 * lack of threads.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "ml_internal.h"
#include "sluice/mem.h"

struct sl_pool {
    int nworkers;
    pthread_t *threads;
    pthread_mutex_t mu;
    pthread_cond_t wake, done;
    uint64_t generation; /* bumped per job; workers wait for a change */
    int busy;            /* workers still inside the current job */
    int stop;
    /* current job */
    sl_par_fn fn;
    void *ctx;
    int64_t n;
    atomic_llong next;
    int64_t err_index;   /* lowest failing index, n when none */
    sl_rc err_rc;
    sl_err err;
};

static void run_tasks(sl_pool *p)
{
    for (;;) {
        int64_t i = atomic_fetch_add(&p->next, 1);
        if (i >= p->n)
            break;
        sl_err e;
        sl_err_clear(&e);
        sl_rc rc = p->fn(p->ctx, i, &e);
        if (rc != SL_OK) {
            pthread_mutex_lock(&p->mu);
            if (i < p->err_index) {
                p->err_index = i;
                p->err_rc = rc;
                p->err = e;
            }
            pthread_mutex_unlock(&p->mu);
        }
    }
}

static void *worker(void *arg)
{
    sl_pool *p = arg;
    uint64_t seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stop && p->generation == seen)
            pthread_cond_wait(&p->wake, &p->mu);
        if (p->stop)
            break;
        seen = p->generation;
        pthread_mutex_unlock(&p->mu);
        run_tasks(p);
        pthread_mutex_lock(&p->mu);
        if (--p->busy == 0)
            pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

sl_pool *sl_pool_new(int threads)
{
    sl_pool *p = sl_calloc(1, sizeof *p);
    if (!p)
        return NULL;
    if (pthread_mutex_init(&p->mu, NULL) != 0) {
        sl_free(p);
        return NULL;
    }
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    if (threads > 1) {
        p->threads = sl_calloc((size_t)threads - 1, sizeof *p->threads);
        for (int i = 0; p->threads && i < threads - 1; i++) {
            if (pthread_create(&p->threads[i], NULL, worker, p) != 0)
                break;
            p->nworkers++;
        }
    }
    return p;
}

int sl_pool_threads(const sl_pool *p)
{
    return p ? p->nworkers + 1 : 1;
}

sl_rc sl_pool_run(sl_pool *p, int64_t n, sl_par_fn fn, void *ctx,
                  sl_err *err)
{
    if (n <= 0)
        return SL_OK;
    if (!p || p->nworkers == 0 || n == 1) {
        /* inline: stop at the first failure (it is the lowest index) */
        for (int64_t i = 0; i < n; i++) {
            sl_rc rc = fn(ctx, i, err);
            if (rc != SL_OK)
                return rc;
        }
        return SL_OK;
    }
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->ctx = ctx;
    p->n = n;
    atomic_store(&p->next, 0);
    p->err_index = n;
    p->err_rc = SL_OK;
    p->busy = p->nworkers;
    p->generation++;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);

    run_tasks(p);

    pthread_mutex_lock(&p->mu);
    while (p->busy > 0)
        pthread_cond_wait(&p->done, &p->mu);
    sl_rc rc = p->err_rc;
    if (rc != SL_OK && err)
        *err = p->err;
    pthread_mutex_unlock(&p->mu);
    return rc;
}

void sl_pool_free(sl_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->nworkers; i++)
        pthread_join(p->threads[i], NULL);
    sl_free(p->threads);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->done);
    pthread_mutex_destroy(&p->mu);
    sl_free(p);
}

sl_rc sl_par_for(int threads, int64_t n, sl_par_fn fn, void *ctx,
                 sl_err *err)
{
    if (threads > n)
        threads = (int)n;
    if (threads <= 1)
        return sl_pool_run(NULL, n, fn, ctx, err);
    sl_pool *p = sl_pool_new(threads);
    sl_rc rc = sl_pool_run(p, n, fn, ctx, err); /* NULL pool runs inline */
    sl_pool_free(p);
    return rc;
}
