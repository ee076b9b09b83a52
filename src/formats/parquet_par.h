/*
 * parquet_par.h: a second thread for the Parquet reader and writer, which
 * split a batch's columns between the caller and one worker (columns are
 * taken from a shared atomic counter, so a slow string column does not
 * leave the other thread idle). Internal to src/formats/.
 */
#ifndef SL_PQ_PAR_H
#define SL_PQ_PAR_H

#include "sluice/error.h"

typedef struct pq_par pq_par;

/* NULL on failure (the caller then runs single-threaded). */
pq_par *pq_par_new(void);
/* Runs fn(arg, 1) on the worker and fn(arg, 0) on the caller; returns when
 * both have returned. p == NULL: fn(arg, 0) alone. */
void pq_par_run(pq_par *p, void (*fn)(void *arg, int thread), void *arg);
void pq_par_free(pq_par *p);

#endif
