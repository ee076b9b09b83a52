/*
 * mem.c: allocation wrappers with failure injection for tests.
 * SL_FAIL_ALLOC_AFTER=n (read once, lazily) or sl_mem_fail_after(n) makes
 * every allocation after the first n fail. The counter is atomic so the
 * wrappers stay usable from worker threads.
 */
#include <limits.h>
#include <stdint.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/mem.h"

static atomic_long fail_after = -2; /* -2: env not read yet, -1: off */
static atomic_long alloc_count = 0;

static int should_fail(void)
{
    long fa = atomic_load_explicit(&fail_after, memory_order_relaxed);
    if (fa == -2) {
        const char *env = getenv("SL_FAIL_ALLOC_AFTER");
        long v = env && *env ? strtol(env, NULL, 10) : -1;
        long expect = -2;
        atomic_compare_exchange_strong(&fail_after, &expect, v);
        fa = atomic_load(&fail_after);
    }
    if (fa < 0)
        return 0;
    return atomic_fetch_add(&alloc_count, 1) >= fa;
}

void sl_mem_fail_after(long n)
{
    atomic_store(&alloc_count, 0);
    atomic_store(&fail_after, n < 0 ? -1 : n);
}

void *sl_malloc(size_t n)
{
    if (should_fail())
        return NULL;
    return malloc(n ? n : 1);
}

void *sl_calloc(size_t count, size_t size)
{
    if (should_fail())
        return NULL;
    return calloc(count ? count : 1, size ? size : 1);
}

void *sl_realloc(void *p, size_t n)
{
    if (should_fail())
        return NULL;
    return realloc(p, n ? n : 1);
}

void sl_free(void *p)
{
    free(p);
}

char *sl_strndup(const char *s, size_t n)
{
    char *d = sl_malloc(n + 1);
    if (!d)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *sl_strdup(const char *s)
{
    return s ? sl_strndup(s, strlen(s)) : NULL;
}

int sl_grow(void **buf, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap : 16;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2)
            return -1;
        ncap *= 2;
    }
    if (elem && ncap > SIZE_MAX / elem)
        return -1;
    void *nb = sl_realloc(*buf, ncap * elem);
    if (!nb)
        return -1;
    *buf = nb;
    *cap = ncap;
    return 0;
}
