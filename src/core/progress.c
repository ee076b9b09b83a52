/*
 * progress.c: TTY progress bar. Redraws with "\r" and clears with an ANSI
 * erase-line so the summary line printed after it starts clean.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sluice/progress.h"

double sl_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void sl_progress_begin(sl_progress *p, int enabled, const char *label,
                       int64_t total_bytes)
{
    memset(p, 0, sizeof *p);
    p->enabled = enabled;
    snprintf(p->label, sizeof p->label, "%s", label);
    p->start = sl_now();
    p->total_bytes = total_bytes;
}

static void human(double v, const char *unit, char *buf, size_t n)
{
    const char *suffix[] = {"", "K", "M", "G", "T"};
    int i = 0;
    while (v >= 1000.0 && i < 4) {
        v /= 1000.0;
        i++;
    }
    snprintf(buf, n, i ? "%.1f%s%s" : "%.0f%s%s", v, suffix[i], unit);
}

void sl_progress_update(sl_progress *p, int64_t rows, int64_t bytes)
{
    if (!p->enabled)
        return;
    double now = sl_now();
    if (now - p->last_draw < 0.1)
        return;
    p->last_draw = now;
    double el = now - p->start;
    char r[32], rs[32], b[32], bar[23] = "                    ";
    human((double)rows, " rows", r, sizeof r);
    human(el > 0 ? (double)rows / el : 0, " rows/s", rs, sizeof rs);
    human((double)bytes, "B", b, sizeof b);
    if (p->total_bytes > 0) {
        double frac = (double)bytes / (double)p->total_bytes;
        if (frac > 1)
            frac = 1;
        int fill = (int)(frac * 20);
        for (int i = 0; i < fill; i++)
            bar[i] = '=';
        if (fill < 20)
            bar[fill] = '>';
        double eta = frac > 0 ? el / frac - el : 0;
        fprintf(stderr, "\r\033[K%-18s [%s] %3.0f%%  %s  %s  %s  ETA %.0fs", p->label,
                bar, frac * 100, r, rs, b, eta);
    } else {
        fprintf(stderr, "\r\033[K%-18s %s  %s  %s", p->label, r, rs, b);
    }
    fflush(stderr);
}

void sl_progress_end(sl_progress *p)
{
    if (p->enabled && p->last_draw > 0) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
    p->last_draw = 0;
}
