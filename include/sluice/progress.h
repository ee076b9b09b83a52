/*
 * progress.h: a one-line progress bar on stderr for long batch work:
 *   analyze scale  [=========>          ]  48%  1.2M rows  310K rows/s  512 MB  ETA 3s
 * Drawn at most 10 times a second, only when enabled (the CLI enables it
 * when stderr is a TTY and --quiet is not given); otherwise every call is a
 * cheap no-op.
 */
#ifndef SLUICE_PROGRESS_H
#define SLUICE_PROGRESS_H

#include <stdint.h>

typedef struct sl_progress {
    int enabled;
    char label[64];
    double start, last_draw;
    int64_t total_bytes; /* -1 unknown */
} sl_progress;

void sl_progress_begin(sl_progress *p, int enabled, const char *label,
                       int64_t total_bytes);
void sl_progress_update(sl_progress *p, int64_t rows, int64_t bytes);
void sl_progress_end(sl_progress *p); /* clears the line */
double sl_now(void);                  /* monotonic seconds */

#endif
