/*
 * csv_internal.h: what the CSV reader, writer and plugins share: option
 * checking and the set of null markers (the reader tests fields against
 * it, the writer quotes strings that would otherwise read back as null).
 */
#ifndef SLUICE_CSV_INTERNAL_H
#define SLUICE_CSV_INTERNAL_H

#include <stdint.h>
#include <string.h>

#include "sluice/csv.h"

/* Null markers. lenmask bit k is set when some marker has length k < 64,
 * so most fields are rejected with one shift and no memcmp. */
typedef struct csv_nulls {
    int n;
    char **s;
    size_t *len;
    uint64_t lenmask;
    int has_long; /* some marker is >= 64 bytes */
} csv_nulls;

sl_rc csv_nulls_init(csv_nulls *z, const char *const *vals, int n,
                     sl_err *err);
void csv_nulls_free(csv_nulls *z);

static inline int csv_is_null(const csv_nulls *z, const char *p, size_t n)
{
    if (n < 64 ? !((z->lenmask >> n) & 1) : !z->has_long)
        return 0;
    for (int i = 0; i < z->n; i++)
        if (z->len[i] == n && memcmp(z->s[i], p, n) == 0)
            return 1;
    return 0;
}

/* Checks options; reading = 1 for the reader's extra rules (infer_rows,
 * batch_rows, on_error, ...), 0 for the writer's (quote required). */
sl_rc csv_options_check(const sl_csv_options *o, int reading, sl_err *err);

#endif
