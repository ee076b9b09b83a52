/*
 * mem.h: the allocation functions every module uses.
 *
 * They wrap malloc/realloc/free so that tests can inject allocation
 * failures: with SL_FAIL_ALLOC_AFTER=n in the environment (or
 * sl_mem_fail_after(n)), the (n+1)-th allocation and every one after it
 * fail. Code must handle a NULL return on every path without leaking.
 */
#ifndef SLUICE_MEM_H
#define SLUICE_MEM_H

#include <stddef.h>

void *sl_malloc(size_t n);
void *sl_calloc(size_t count, size_t size);
void *sl_realloc(void *p, size_t n);
void sl_free(void *p);
char *sl_strdup(const char *s);
char *sl_strndup(const char *s, size_t n);

/* n < 0 disables injection. Counting restarts at each call. */
void sl_mem_fail_after(long n);

/* Grows *buf (element size elem) to hold at least need elements, doubling.
 * Returns 0 on success, -1 on overflow or allocation failure (buffer kept). */
int sl_grow(void **buf, size_t *cap, size_t need, size_t elem);

#endif
