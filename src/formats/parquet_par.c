/*
 * parquet_par.c: the one worker thread of pq_par (see parquet_par.h).
 * A generation counter hands each job to the worker exactly once; the
 * caller waits for the matching completion count, so jobs never overlap.
 */
#include "parquet_par.h"

#include <pthread.h>

#include "sluice/mem.h"

struct pq_par {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    void (*fn)(void *arg, int thread);
    void *arg;
    unsigned long gen, done; /* jobs posted / finished by the worker */
    int stop;
};

static void *worker(void *p)
{
    pq_par *par = p;
    unsigned long seen = 0;
    pthread_mutex_lock(&par->mu);
    for (;;) {
        while (!par->stop && par->gen == seen)
            pthread_cond_wait(&par->cv, &par->mu);
        if (par->stop)
            break;
        seen = par->gen;
        void (*fn)(void *, int) = par->fn;
        void *arg = par->arg;
        pthread_mutex_unlock(&par->mu);
        fn(arg, 1);
        pthread_mutex_lock(&par->mu);
        par->done = seen;
        pthread_cond_broadcast(&par->cv);
    }
    pthread_mutex_unlock(&par->mu);
    return NULL;
}

pq_par *pq_par_new(void)
{
    pq_par *p = sl_calloc(1, sizeof *p);
    if (!p)
        return NULL;
    if (pthread_mutex_init(&p->mu, NULL) != 0) {
        sl_free(p);
        return NULL;
    }
    if (pthread_cond_init(&p->cv, NULL) != 0) {
        pthread_mutex_destroy(&p->mu);
        sl_free(p);
        return NULL;
    }
    if (pthread_create(&p->thread, NULL, worker, p) != 0) {
        pthread_cond_destroy(&p->cv);
        pthread_mutex_destroy(&p->mu);
        sl_free(p);
        return NULL;
    }
    return p;
}

void pq_par_run(pq_par *p, void (*fn)(void *arg, int thread), void *arg)
{
    if (!p) {
        fn(arg, 0);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->arg = arg;
    unsigned long job = ++p->gen;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    fn(arg, 0);
    pthread_mutex_lock(&p->mu);
    while (p->done != job)
        pthread_cond_wait(&p->cv, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

void pq_par_free(pq_par *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->thread, NULL);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    sl_free(p);
}
