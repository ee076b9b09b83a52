/*
 * arena.c: bump allocator. A chain of blocks; each allocation is rounded
 * up to 16 bytes. Reset keeps the first block (the common per-batch size)
 * and frees the rest, so steady-state use allocates nothing.
 */
#include <stdint.h>
#include <string.h>

#include "sluice/arena.h"
#include "sluice/mem.h"

typedef struct block {
    struct block *next;
    size_t size, used;
    _Alignas(16) unsigned char data[];
} block;

struct sl_arena {
    block *head;   /* current block (most recent) */
    block *first;  /* oldest block, kept across resets */
    size_t block_size;
    size_t total_used;
};

static block *block_new(size_t size)
{
    block *b = sl_malloc(sizeof(block) + size);
    if (!b)
        return NULL;
    b->next = NULL;
    b->size = size;
    b->used = 0;
    return b;
}

sl_arena *sl_arena_new(size_t block_size)
{
    sl_arena *a = sl_calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->block_size = block_size ? block_size : 65536;
    return a;
}

void *sl_arena_alloc(sl_arena *a, size_t n)
{
    if (n > SIZE_MAX - 15)
        return NULL;
    n = (n + 15) & ~(size_t)15;
    if (n == 0)
        n = 16;
    if (!a->head || a->head->size - a->head->used < n) {
        size_t size = a->block_size;
        if (a->head && size < a->head->size * 2 && size < ((size_t)1 << 24))
            size = a->head->size * 2;
        if (size < n)
            size = n;
        block *b = block_new(size);
        if (!b)
            return NULL;
        /* Newer blocks go to the front; `first` stays at the tail. */
        b->next = a->head;
        a->head = b;
        if (!a->first)
            a->first = b;
    }
    void *p = a->head->data + a->head->used;
    a->head->used += n;
    a->total_used += n;
    return p;
}

void *sl_arena_calloc(sl_arena *a, size_t n)
{
    void *p = sl_arena_alloc(a, n);
    if (p)
        memset(p, 0, n);
    return p;
}

char *sl_arena_strndup(sl_arena *a, const char *s, size_t n)
{
    char *d = sl_arena_alloc(a, n + 1);
    if (!d)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

size_t sl_arena_used(const sl_arena *a)
{
    return a->total_used;
}

void sl_arena_reset(sl_arena *a)
{
    block *b = a->head;
    while (b && b != a->first) {
        block *next = b->next;
        sl_free(b);
        b = next;
    }
    a->head = a->first;
    if (a->first)
        a->first->used = 0;
    a->total_used = 0;
}

void sl_arena_free(sl_arena *a)
{
    if (!a)
        return;
    block *b = a->head;
    while (b) {
        block *next = b->next;
        sl_free(b);
        b = next;
    }
    sl_free(a);
}
