/*
 * arena.h: bump allocator for per-batch and per-pass memory.
 *
 * Allocations are freed all at once by sl_arena_reset or sl_arena_free;
 * there is no per-object free. Blocks grow geometrically; a request larger
 * than the block size gets its own block. Returned memory is 16-byte
 * aligned.
 */
#ifndef SLUICE_ARENA_H
#define SLUICE_ARENA_H

#include <stddef.h>

typedef struct sl_arena sl_arena;

sl_arena *sl_arena_new(size_t block_size); /* 0 = default (64 KiB) */
void *sl_arena_alloc(sl_arena *a, size_t n); /* NULL on failure */
void *sl_arena_calloc(sl_arena *a, size_t n);
char *sl_arena_strndup(sl_arena *a, const char *s, size_t n);
size_t sl_arena_used(const sl_arena *a);
void sl_arena_reset(sl_arena *a); /* keeps the first block */
void sl_arena_free(sl_arena *a);

#endif
