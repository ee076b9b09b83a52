/*
 * split.h: deterministic seeded train/test split.
 *
 * Like scikit-learn's train_test_split, the test set has exactly
 * ceil(test_fraction * n) rows (stratified: per class, allocated by largest
 * remainder so the total is the same), chosen uniformly at random for a
 * given seed. It streams: a counting pass gives n (per class), then rows
 * are assigned in source order by selection sampling (Knuth's Algorithm
 * S), so memory is O(number of classes), not O(rows), and the same data
 * with the same seed always gives the same split.
 *
 * Use: sl_split_new; sl_split_count(batch)* over the data; sl_split_plan;
 * then per pass sl_split_reset and sl_split_assign(batch, mask)* over the
 * same rows in the same order.
 */
#ifndef SLUICE_SPLIT_H
#define SLUICE_SPLIT_H

#include <stdint.h>

#include "batch.h"
#include "error.h"

typedef struct sl_split sl_split;

/* stratify: column name or NULL. */
sl_rc sl_split_new(double test_fraction, uint64_t seed, const char *stratify,
                   sl_split **out, sl_err *err);
sl_rc sl_split_count(sl_split *s, const sl_batch *b, sl_err *err);
sl_rc sl_split_plan(sl_split *s, sl_err *err);
void sl_split_reset(sl_split *s);
/* mask[i] = 1 for test rows, 0 for train rows. Fails if more rows arrive
 * than were counted. */
sl_rc sl_split_assign(sl_split *s, const sl_batch *b, uint8_t *mask,
                      sl_err *err);
int64_t sl_split_total(const sl_split *s);
int64_t sl_split_test_total(const sl_split *s);
void sl_split_free(sl_split *s);

#endif
