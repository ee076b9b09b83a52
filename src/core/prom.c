/*
 * prom.c: the process-wide Prometheus registry (prom.h).
 *
 * Layout: a global list of families guarded by one mutex (touched only at
 * registration and render time); each family guards its series array with
 * its own mutex (touched when a series is looked up or rendered). Values
 * live in C11 atomics, so updating a cached series takes no lock:
 *   counter/gauge  one double, stored as its bit pattern and updated by a
 *                  compare-and-swap loop (there is no atomic double add);
 *   histogram      one non-cumulative count per bucket (the last one is
 *                  the +Inf overflow) plus the sum. Render accumulates the
 *                  counts and derives _count from the same numbers, so the
 *                  +Inf bucket always equals _count in one scrape even
 *                  while other threads observe; _sum may lead or lag by
 *                  the observations in flight.
 * Invariants: series are never freed before sl_prom_reset() (cached
 * pointers stay valid); a family's label names and bounds never change
 * after registration.
 */
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/mem.h"
#include "sluice/prom.h"
#include "sluice/strbuf.h"

const double sl_prom_latency_buckets[SL_PROM_LATENCY_BUCKETS_N] = {
    0.00005, 0.0001, 0.00025, 0.0005, 0.00075, 0.001, 0.0015, 0.002,
    0.005,   0.01,   0.025,   0.05,   0.1,     0.5,   1.0,    10.0};

struct sl_prom_series {
    sl_prom_family *f;
    _Atomic uint64_t bits;     /* counter/gauge value, histogram sum */
    _Atomic uint64_t *counts;  /* histogram: nbuckets + 1, non-cumulative */
    atomic_int hidden;
    uint64_t hash;
    char **values;             /* f->nlabels label values */
    char *labels;              /* rendered `a="x",b="y"` (escaped) */
};

struct sl_prom_family {
    sl_prom_type type;
    char *name, *help;
    int nlabels;
    char *label_names[SL_PROM_MAX_LABELS];
    double *bounds;
    int nbuckets;
    pthread_mutex_t mu;
    sl_prom_series **series;
    size_t nseries, cap;
    sl_prom_series sink; /* updates that cannot get a series of their own */
};

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static sl_prom_family **g_fams;
static size_t g_nfams, g_cap;

/* What a NULL family hands out: a series without a family, on which
 * every update is a no-op. */
static sl_prom_series g_null_sink;

/* ---- atomic doubles ---- */

static double bits_to_double(uint64_t b)
{
    double d;
    memcpy(&d, &b, sizeof d);
    return d;
}

static uint64_t double_to_bits(double d)
{
    uint64_t b;
    memcpy(&b, &d, sizeof b);
    return b;
}

static void atomic_add_double(_Atomic uint64_t *a, double v)
{
    uint64_t old = atomic_load_explicit(a, memory_order_relaxed), upd;
    do
        upd = double_to_bits(bits_to_double(old) + v);
    while (!atomic_compare_exchange_weak_explicit(a, &old, upd, memory_order_relaxed,
                                                  memory_order_relaxed));
}

/* ---- names ---- */

static int valid_name(const char *s, int metric)
{
    if (!s || !*s)
        return 0;
    for (const char *p = s; *p; p++) {
        char c = *p;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                 (metric && c == ':') || (p > s && c >= '0' && c <= '9');
        if (!ok)
            return 0;
    }
    return 1;
}

static uint64_t hash_values(const char *const *values, int n)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a, a 0 byte between values */
    for (int i = 0; i < n; i++) {
        for (const char *p = values && values[i] ? values[i] : ""; *p; p++)
            h = (h ^ (unsigned char)*p) * 1099511628211ULL;
        h = (h ^ 0xffu) * 1099511628211ULL;
    }
    return h;
}

/* ---- text ---- */

/* Label values escape \, " and newline; help text \ and newline. */
static void sb_escaped(sl_strbuf *b, const char *s, int quote)
{
    const char *run = s;
    for (; *s; s++) {
        const char *rep = *s == '\\' ? "\\\\" : *s == '\n' ? "\\n"
                          : (quote && *s == '"') ? "\\\"" : NULL;
        if (!rep)
            continue;
        sl_sb_put(b, run, (size_t)(s - run));
        sl_sb_str(b, rep);
        run = s + 1;
    }
    sl_sb_put(b, run, (size_t)(s - run));
}

/* Shortest decimal that reads back as v, with Prometheus' spellings of the
 * special values. */
static void fmt_value(double v, char *buf, size_t n)
{
    if (isnan(v))
        snprintf(buf, n, "NaN");
    else if (isinf(v))
        snprintf(buf, n, v > 0 ? "+Inf" : "-Inf");
    else if (v == floor(v) && fabs(v) < 1e15)
        snprintf(buf, n, "%.0f", v);
    else {
        for (int prec = 6; prec <= 17; prec++) {
            snprintf(buf, n, "%.*g", prec, v);
            if (strtod(buf, NULL) == v)
                break;
        }
    }
}

/* ---- registration ---- */

static void family_free(sl_prom_family *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->nseries; i++) {
        sl_prom_series *s = f->series[i];
        for (int k = 0; s->values && k < f->nlabels; k++)
            sl_free(s->values[k]);
        sl_free(s->values);
        sl_free(s->labels);
        sl_free(s->counts);
        sl_free(s);
    }
    sl_free(f->series);
    sl_free(f->sink.counts);
    for (int k = 0; k < f->nlabels; k++)
        sl_free(f->label_names[k]);
    sl_free(f->bounds);
    sl_free(f->name);
    sl_free(f->help);
    pthread_mutex_destroy(&f->mu);
    sl_free(f);
}

static sl_rc check_def(sl_prom_type type, const char *name,
                       const char *const *labels, int nlabels,
                       const double *buckets, int nbuckets, sl_err *err)
{
    if (type != SL_PROM_COUNTER && type != SL_PROM_GAUGE && type != SL_PROM_HISTOGRAM)
        return sl_err_set(err, SL_EINVAL, "metric '%s': unknown type %d",
                          name ? name : "", (int)type);
    if (!valid_name(name, 1))
        return sl_err_set(err, SL_ECONFIG,
                          "invalid metric name '%s' (expected [a-zA-Z_:][a-zA-Z0-9_:]*)",
                          name ? name : "");
    if (nlabels > SL_PROM_MAX_LABELS)
        return sl_err_set(err, SL_ELIMIT, "metric '%s': more than %d labels", name,
                          SL_PROM_MAX_LABELS);
    for (int i = 0; i < nlabels; i++) {
        if (!valid_name(labels[i], 0) || strncmp(labels[i], "__", 2) == 0 ||
            (type == SL_PROM_HISTOGRAM && strcmp(labels[i], "le") == 0))
            return sl_err_set(err, SL_ECONFIG, "metric '%s': invalid label name '%s'",
                              name, labels[i]);
        for (int j = 0; j < i; j++)
            if (strcmp(labels[i], labels[j]) == 0)
                return sl_err_set(err, SL_ECONFIG, "metric '%s': duplicate label '%s'",
                                  name, labels[i]);
    }
    if (type != SL_PROM_HISTOGRAM)
        return SL_OK;
    if (nbuckets < 1 || nbuckets > SL_PROM_MAX_BUCKETS)
        return sl_err_set(err, SL_ECONFIG, "metric '%s': %d buckets (expected 1..%d)",
                          name, nbuckets, SL_PROM_MAX_BUCKETS);
    for (int i = 0; i < nbuckets; i++)
        if (!isfinite(buckets[i]) || (i > 0 && buckets[i] <= buckets[i - 1]))
            return sl_err_set(err, SL_ECONFIG,
                              "metric '%s': bucket bounds must be finite and strictly "
                              "increasing (bound %d)", name, i);
    return SL_OK;
}

static int same_def(const sl_prom_family *f, sl_prom_type type,
                    const char *const *labels, int nlabels,
                    const double *buckets, int nbuckets)
{
    if (f->type != type || f->nlabels != nlabels)
        return 0;
    for (int i = 0; i < nlabels; i++)
        if (strcmp(f->label_names[i], labels[i]) != 0)
            return 0;
    if (type == SL_PROM_HISTOGRAM) {
        if (f->nbuckets != nbuckets)
            return 0;
        for (int i = 0; i < nbuckets; i++)
            if (f->bounds[i] != buckets[i])
                return 0;
    }
    return 1;
}

static sl_prom_series *series_new(sl_prom_family *f, const char *const *values,
                                  uint64_t hash);

static sl_prom_family *family_new(sl_prom_type type, const char *name,
                                  const char *help, const char *const *labels,
                                  int nlabels, const double *buckets, int nbuckets)
{
    sl_prom_family *f = sl_calloc(1, sizeof *f);
    if (!f)
        return NULL;
    pthread_mutex_init(&f->mu, NULL);
    f->type = type;
    f->nlabels = nlabels;
    f->nbuckets = type == SL_PROM_HISTOGRAM ? nbuckets : 0;
    f->name = sl_strdup(name);
    f->help = sl_strdup(help ? help : "");
    int ok = f->name && f->help;
    for (int i = 0; ok && i < nlabels; i++)
        ok = (f->label_names[i] = sl_strdup(labels[i])) != NULL;
    if (ok && type == SL_PROM_HISTOGRAM) {
        f->bounds = sl_malloc((size_t)nbuckets * sizeof *f->bounds);
        f->sink.counts = sl_calloc((size_t)nbuckets + 1, sizeof *f->sink.counts);
        ok = f->bounds && f->sink.counts;
        if (ok)
            memcpy(f->bounds, buckets, (size_t)nbuckets * sizeof *f->bounds);
    }
    f->sink.f = f;
    /* A label-less family renders its one series (as 0) from the start. */
    if (ok && nlabels == 0)
        ok = series_new(f, NULL, hash_values(NULL, 0)) != NULL;
    if (!ok) {
        family_free(f);
        return NULL;
    }
    return f;
}

sl_rc sl_prom_register(sl_prom_type type, const char *name, const char *help,
                       const char *const *labels, const double *buckets,
                       int nbuckets, sl_prom_family **out, sl_err *err)
{
    int nlabels = 0;
    sl_rc rc = SL_OK;
    *out = NULL;
    while (labels && labels[nlabels] && nlabels <= SL_PROM_MAX_LABELS)
        nlabels++;
    if (type == SL_PROM_HISTOGRAM && !buckets) {
        buckets = sl_prom_latency_buckets;
        nbuckets = SL_PROM_LATENCY_BUCKETS_N;
    }
    if ((rc = check_def(type, name, labels, nlabels, buckets, nbuckets, err)) != SL_OK)
        return rc;
    pthread_mutex_lock(&g_mu);
    for (size_t i = 0; i < g_nfams; i++) {
        if (strcmp(g_fams[i]->name, name) != 0)
            continue;
        if (same_def(g_fams[i], type, labels, nlabels, buckets, nbuckets))
            *out = g_fams[i];
        else
            rc = sl_err_set(err, SL_ECONFIG,
                            "metric '%s' is already registered with another type, "
                            "labels or buckets", name);
        goto out;
    }
    sl_prom_family *f = family_new(type, name, help, labels, nlabels, buckets, nbuckets);
    if (!f || sl_grow((void **)&g_fams, &g_cap, g_nfams + 1, sizeof *g_fams) != 0) {
        family_free(f);
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        goto out;
    }
    g_fams[g_nfams++] = f;
    *out = f;
out:
    pthread_mutex_unlock(&g_mu);
    return rc;
}

/* ---- series ---- */

static int series_matches(const sl_prom_family *f, const sl_prom_series *s,
                          const char *const *values, uint64_t hash)
{
    if (s->hash != hash)
        return 0;
    for (int i = 0; i < f->nlabels; i++)
        if (strcmp(s->values[i], values[i] ? values[i] : "") != 0)
            return 0;
    return 1;
}

/* Called with f->mu held (or before f is published). */
static sl_prom_series *series_new(sl_prom_family *f, const char *const *values,
                                  uint64_t hash)
{
    sl_prom_series *s = sl_calloc(1, sizeof *s);
    sl_strbuf lb = {0};
    if (!s)
        return NULL;
    s->f = f;
    s->hash = hash;
    int ok = (s->values = sl_calloc((size_t)f->nlabels + 1, sizeof *s->values)) != NULL;
    for (int i = 0; ok && i < f->nlabels; i++) {
        const char *v = values[i] ? values[i] : "";
        ok = (s->values[i] = sl_strdup(v)) != NULL;
        if (i > 0)
            sl_sb_str(&lb, ",");
        sl_sb_str(&lb, f->label_names[i]);
        sl_sb_str(&lb, "=\"");
        sb_escaped(&lb, v, 1);
        sl_sb_str(&lb, "\"");
    }
    ok = ok && !lb.failed;
    if (ok && f->type == SL_PROM_HISTOGRAM)
        ok = (s->counts = sl_calloc((size_t)f->nbuckets + 1, sizeof *s->counts)) != NULL;
    if (ok)
        ok = sl_grow((void **)&f->series, &f->cap, f->nseries + 1, sizeof *f->series) == 0;
    if (!ok) {
        for (int i = 0; s->values && i < f->nlabels; i++)
            sl_free(s->values[i]);
        sl_free(s->values);
        sl_free(s->counts);
        sl_free(lb.p);
        sl_free(s);
        return NULL;
    }
    s->labels = lb.p; /* NULL when there are no labels */
    f->series[f->nseries++] = s;
    return s;
}

static void series_zero(sl_prom_series *s)
{
    atomic_store(&s->bits, double_to_bits(0.0));
    for (int i = 0; s->counts && i <= s->f->nbuckets; i++)
        atomic_store(&s->counts[i], 0);
}

sl_prom_series *sl_prom_series_get(sl_prom_family *f, const char *const *values)
{
    if (!f)
        return &g_null_sink;
    uint64_t h = hash_values(values, f->nlabels);
    sl_prom_series *s = NULL;
    pthread_mutex_lock(&f->mu);
    for (size_t i = 0; i < f->nseries; i++)
        if (series_matches(f, f->series[i], values, h)) {
            s = f->series[i];
            break;
        }
    if (s && atomic_load(&s->hidden)) {
        series_zero(s);
        atomic_store(&s->hidden, 0);
    }
    if (!s && f->nseries < SL_PROM_MAX_SERIES)
        s = series_new(f, values, h);
    pthread_mutex_unlock(&f->mu);
    return s ? s : &f->sink;
}

sl_prom_series *sl_prom_with(sl_prom_family *f, ...)
{
    const char *values[SL_PROM_MAX_LABELS] = {0};
    va_list ap;
    va_start(ap, f);
    for (int i = 0; f && i < f->nlabels; i++)
        values[i] = va_arg(ap, const char *);
    va_end(ap);
    return sl_prom_series_get(f, values);
}

void sl_prom_series_remove(sl_prom_series *s)
{
    if (s && s->f && s != &s->f->sink)
        atomic_store(&s->hidden, 1);
}

/* ---- updates ---- */

void sl_prom_inc(sl_prom_series *s)
{
    sl_prom_add(s, 1.0);
}

void sl_prom_add(sl_prom_series *s, double v)
{
    if (!s || !s->f || s->f->type == SL_PROM_HISTOGRAM)
        return;
    if (s->f->type == SL_PROM_COUNTER && !(v >= 0))
        return; /* a counter never goes down (and NaN would poison it) */
    atomic_add_double(&s->bits, v);
}

void sl_prom_set(sl_prom_series *s, double v)
{
    if (s && s->f && s->f->type == SL_PROM_GAUGE)
        atomic_store_explicit(&s->bits, double_to_bits(v), memory_order_relaxed);
}

void sl_prom_observe(sl_prom_series *s, double v)
{
    if (!s || !s->f || s->f->type != SL_PROM_HISTOGRAM || isnan(v))
        return;
    const sl_prom_family *f = s->f;
    int i = 0;
    while (i < f->nbuckets && v > f->bounds[i])
        i++;
    atomic_fetch_add_explicit(&s->counts[i], 1, memory_order_relaxed);
    atomic_add_double(&s->bits, v);
}

double sl_prom_bucket(const sl_prom_series *s, int i)
{
    if (!s || !s->f || s->f->type != SL_PROM_HISTOGRAM || i < 0 || i > s->f->nbuckets)
        return 0;
    uint64_t c = 0;
    for (int k = 0; k <= i; k++)
        c += atomic_load_explicit(&s->counts[k], memory_order_relaxed);
    return (double)c;
}

double sl_prom_value(const sl_prom_series *s)
{
    if (!s || !s->f)
        return 0;
    if (s->f->type == SL_PROM_HISTOGRAM)
        return sl_prom_bucket(s, s->f->nbuckets);
    return bits_to_double(atomic_load_explicit(&s->bits, memory_order_relaxed));
}

/* ---- rendering ---- */

static void render_sample(sl_strbuf *b, const char *name, const char *suffix,
                          const char *labels, const char *extra, double v)
{
    char num[40];
    sl_sb_str(b, name);
    sl_sb_str(b, suffix);
    if ((labels && *labels) || extra) {
        sl_sb_str(b, "{");
        if (labels && *labels)
            sl_sb_str(b, labels);
        if (extra) {
            if (labels && *labels)
                sl_sb_str(b, ",");
            sl_sb_str(b, extra);
        }
        sl_sb_str(b, "}");
    }
    fmt_value(v, num, sizeof num);
    sl_sb_str(b, " ");
    sl_sb_str(b, num);
    sl_sb_str(b, "\n");
}

static void render_histogram(sl_strbuf *b, const sl_prom_family *f, const sl_prom_series *s)
{
    char le[64], num[40];
    uint64_t cum = 0;
    for (int i = 0; i <= f->nbuckets; i++) {
        cum += atomic_load_explicit(&s->counts[i], memory_order_relaxed);
        if (i < f->nbuckets)
            fmt_value(f->bounds[i], num, sizeof num);
        snprintf(le, sizeof le, "le=\"%s\"", i < f->nbuckets ? num : "+Inf");
        render_sample(b, f->name, "_bucket", s->labels, le, (double)cum);
    }
    render_sample(b, f->name, "_sum", s->labels, NULL,
                  bits_to_double(atomic_load_explicit(&s->bits, memory_order_relaxed)));
    render_sample(b, f->name, "_count", s->labels, NULL, (double)cum);
}

static void render_family(sl_strbuf *b, sl_prom_family *f)
{
    static const char *const type_names[] = {"", "counter", "gauge", "histogram"};
    sl_sb_str(b, "# HELP ");
    sl_sb_str(b, f->name);
    sl_sb_str(b, " ");
    sb_escaped(b, f->help, 0);
    sl_sb_str(b, "\n# TYPE ");
    sl_sb_str(b, f->name);
    sl_sb_str(b, " ");
    sl_sb_str(b, type_names[f->type]);
    sl_sb_str(b, "\n");
    pthread_mutex_lock(&f->mu);
    for (size_t i = 0; i < f->nseries; i++) {
        const sl_prom_series *s = f->series[i];
        if (atomic_load(&s->hidden))
            continue;
        if (f->type == SL_PROM_HISTOGRAM)
            render_histogram(b, f, s);
        else
            render_sample(b, f->name, "", s->labels, NULL, sl_prom_value(s));
    }
    pthread_mutex_unlock(&f->mu);
}

static int cmp_family(const void *a, const void *b)
{
    return strcmp((*(sl_prom_family *const *)a)->name, (*(sl_prom_family *const *)b)->name);
}

sl_rc sl_prom_render(char **text, size_t *len, sl_err *err)
{
    sl_strbuf b = {0};
    sl_rc rc = SL_OK;
    sl_prom_family **fams = NULL;
    *text = NULL;
    *len = 0;
    /* Copy the family list so rendering does not hold the global lock
     * (families are never freed while the registry is in use). */
    pthread_mutex_lock(&g_mu);
    size_t n = g_nfams;
    if (n && (fams = sl_malloc(n * sizeof *fams)) != NULL)
        memcpy(fams, g_fams, n * sizeof *fams);
    pthread_mutex_unlock(&g_mu);
    if (n && !fams) {
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        goto out;
    }
    if (n)
        qsort(fams, n, sizeof *fams, cmp_family);
    sl_sb_ensure(&b);
    for (size_t i = 0; i < n; i++)
        render_family(&b, fams[i]);
    if (b.failed) {
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        goto out;
    }
    *text = sl_sb_take(&b, len);
out:
    sl_sb_free(&b);
    sl_free(fams);
    return rc;
}

void sl_prom_reset(void)
{
    pthread_mutex_lock(&g_mu);
    for (size_t i = 0; i < g_nfams; i++)
        family_free(g_fams[i]);
    sl_free(g_fams);
    g_fams = NULL;
    g_nfams = g_cap = 0;
    pthread_mutex_unlock(&g_mu);
}
