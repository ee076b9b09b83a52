/*
 * params.c: hyper-parameter tables (model.h sl_model_param_def).
 *
 * A table both parses the key/value text pairs a spec's `model:` section
 * gives and documents them. Applying it is: every entry's default, then
 * each pair in order. Errors name the model type and the parameter and put
 * the key in err->field so the caller can point at the spec position.
 * Invariant: after a successful apply every INT/FLOAT field is inside its
 * declared range, so trainers need not re-check.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "ml_internal.h"
#include "sluice/config_map.h"
#include "sluice/mem.h"

#define MAX_PARAMS 64

static sl_rc bad_value(const sl_model_type *t, const sl_model_param_def *d,
                       const char *text, const char *expect, sl_err *err)
{
    sl_err_set(err, SL_ECONFIG,
               "model '%s': parameter '%s' must be %s, got '%s'", t->name,
               d->key, expect, text);
    sl_err_field(err, d->key);
    return SL_ECONFIG;
}

/* Range text for messages: "an integer >= 1", "a number in (0, 1]". */
static void range_text(const sl_model_param_def *d, char *buf, size_t n)
{
    const char *what = d->kind == SL_MP_INT ? "an integer" : "a number";
    int open = (d->flags & SL_MP_MIN_OPEN) != 0;
    int has_max = d->max > d->min;
    if (has_max)
        snprintf(buf, n, "%s in %c%g, %g]", what, open ? '(' : '[', d->min,
                 d->max);
    else
        snprintf(buf, n, "%s %s %g", what, open ? ">" : ">=", d->min);
}

static int in_range(const sl_model_param_def *d, double v)
{
    if (d->flags & SL_MP_MIN_OPEN ? !(v > d->min) : !(v >= d->min))
        return 0;
    return !(d->max > d->min) || v <= d->max;
}

static int parse_bool(const char *s, int *out)
{
    static const char *const t[] = {"true", "yes", "on", "1"};
    static const char *const f[] = {"false", "no", "off", "0"};
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(s, t[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcasecmp(s, f[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    return -1;
}

/* Index of s among '|'-separated choices, or -1. */
static int enum_index(const char *choices, const char *s)
{
    size_t len = strlen(s);
    int idx = 0;
    for (const char *c = choices; c && *c; idx++) {
        const char *bar = strchr(c, '|');
        size_t cl = bar ? (size_t)(bar - c) : strlen(c);
        if (cl == len && strncmp(c, s, len) == 0)
            return idx;
        if (!bar)
            break;
        c = bar + 1;
    }
    return -1;
}

static sl_rc set_value(const sl_model_type *t, const sl_model_param_def *d,
                       const char *text, void *params, sl_err *err)
{
    char *field = (char *)params + d->offset;
    char expect[128];
    char *end;
    switch (d->kind) {
    case SL_MP_INT: {
        if ((d->flags & SL_MP_NONE) &&
            (strcasecmp(text, "none") == 0 || strcasecmp(text, "null") == 0 ||
             strcmp(text, "~") == 0)) {
            *(int64_t *)field = 0;
            return SL_OK;
        }
        errno = 0;
        long long v = strtoll(text, &end, 10);
        range_text(d, expect, sizeof expect);
        if (d->flags & SL_MP_NONE)
            snprintf(expect + strlen(expect), sizeof expect - strlen(expect),
                     " or none");
        if (end == text || *end || errno ||
            !(in_range(d, (double)v) || (v == 0 && (d->flags & SL_MP_NONE))))
            return bad_value(t, d, text, expect, err);
        *(int64_t *)field = v;
        return SL_OK;
    }
    case SL_MP_FLOAT: {
        errno = 0;
        double v = strtod(text, &end);
        range_text(d, expect, sizeof expect);
        if (end == text || *end || errno || !isfinite(v) || !in_range(d, v))
            return bad_value(t, d, text, expect, err);
        *(double *)field = v;
        return SL_OK;
    }
    case SL_MP_BOOL:
        if (parse_bool(text, (int *)field) != 0)
            return bad_value(t, d, text, "true or false", err);
        return SL_OK;
    case SL_MP_ENUM: {
        int i = enum_index(d->choices, text);
        if (i < 0) {
            snprintf(expect, sizeof expect, "one of %s", d->choices);
            for (char *p = expect; *p; p++)
                if (*p == '|')
                    *p = ',';
            return bad_value(t, d, text, expect, err);
        }
        *(int *)field = i;
        return SL_OK;
    }
    case SL_MP_STR:
        if (strlen(text) >= SL_MP_STR_MAX)
            return bad_value(t, d, text, "shorter than 128 bytes", err);
        memcpy(field, text, strlen(text) + 1);
        return SL_OK;
    }
    return sl_err_set(err, SL_EINTERNAL, "bad parameter kind");
}

static const sl_model_param_def *find_def(const sl_model_type *t,
                                          const char *key)
{
    for (const sl_model_param_def *d = t->params; d && d->key; d++)
        if (strcmp(d->key, key) == 0 || (d->alias && strcmp(d->alias, key) == 0))
            return d;
    return NULL;
}

static sl_rc unknown_key(const sl_model_type *t, const char *key, sl_err *err)
{
    const char *names[2 * MAX_PARAMS + 1];
    int n = 0;
    for (const sl_model_param_def *d = t->params; d && d->key && n < 2 * MAX_PARAMS;
         d++) {
        names[n++] = d->key;
        if (d->alias)
            names[n++] = d->alias;
    }
    names[n] = NULL;
    const char *best = sl_closest_name(names, key);
    if (best)
        sl_err_set(err, SL_ECONFIG,
                   "model '%s': unknown parameter '%s' (did you mean '%s'?)",
                   t->name, key, best);
    else
        sl_err_set(err, SL_ECONFIG,
                   "model '%s': unknown parameter '%s' (see the %s parameter "
                   "reference in docs/design/ml.md)",
                   t->name, key, t->name);
    sl_err_field(err, key);
    return SL_ECONFIG;
}

sl_rc sl_mparams_apply(const sl_model_type *t, const sl_model_param *kv,
                       int n, void *params, sl_err *err)
{
    const char *seen[MAX_PARAMS] = {0};
    int ndefs = 0;
    for (const sl_model_param_def *d = t->params; d && d->key; d++, ndefs++) {
        if (ndefs >= MAX_PARAMS)
            return sl_err_set(err, SL_EINTERNAL, "too many parameters");
        if (d->def && set_value(t, d, d->def, params, err) != SL_OK)
            return sl_err_set(err, SL_EINTERNAL,
                              "model '%s': bad default for '%s'", t->name,
                              d->key);
    }
    for (int i = 0; i < n; i++) {
        if (!kv[i].key || !kv[i].value)
            return sl_err_set(err, SL_EINVAL, "model '%s': NULL parameter",
                              t->name);
        const sl_model_param_def *d = find_def(t, kv[i].key);
        if (!d)
            return unknown_key(t, kv[i].key, err);
        int idx = (int)(d - t->params);
        if (seen[idx]) {
            sl_err_set(err, SL_ECONFIG,
                       "model '%s': parameter '%s' given twice (as '%s' and "
                       "'%s')",
                       t->name, d->key, seen[idx], kv[i].key);
            sl_err_field(err, kv[i].key);
            return SL_ECONFIG;
        }
        seen[idx] = kv[i].key;
        sl_rc rc = set_value(t, d, kv[i].value, params, err);
        if (rc != SL_OK)
            return rc;
    }
    return SL_OK;
}

void sl_mparam_format(const sl_model_param_def *d, const void *params,
                      char *buf, size_t n)
{
    const char *field = (const char *)params + d->offset;
    switch (d->kind) {
    case SL_MP_INT:
        if ((d->flags & SL_MP_NONE) && *(const int64_t *)field == 0)
            snprintf(buf, n, "none");
        else
            snprintf(buf, n, "%lld", (long long)*(const int64_t *)field);
        break;
    case SL_MP_FLOAT:
        snprintf(buf, n, "%.17g", *(const double *)field);
        break;
    case SL_MP_BOOL:
        snprintf(buf, n, "%s", *(const int *)field ? "true" : "false");
        break;
    case SL_MP_ENUM: {
        int want = *(const int *)field, idx = 0;
        buf[0] = '\0';
        for (const char *c = d->choices; c && *c; idx++) {
            const char *bar = strchr(c, '|');
            size_t cl = bar ? (size_t)(bar - c) : strlen(c);
            if (idx == want) {
                snprintf(buf, n, "%.*s", (int)cl, c);
                break;
            }
            if (!bar)
                break;
            c = bar + 1;
        }
        break;
    }
    case SL_MP_STR:
        snprintf(buf, n, "%s", field);
        break;
    }
}

sl_rc sl_parse_int_list(const char *key, const char *s, int *out, int max,
                        int limit, int *n, sl_err *err)
{
    int k = 0;
    const char *p = s;
    *n = 0;
    while (*p == ' ')
        p++;
    if (*p == '\0' || strcasecmp(p, "none") == 0)
        return SL_OK; /* no hidden layers */
    for (;;) {
        char *end;
        errno = 0;
        while (*p == ' ' || *p == '[')
            p++;
        long v = strtol(p, &end, 10);
        if (end == p || errno || v < 1 || v > limit || k >= max) {
            sl_err_set(err, SL_ECONFIG,
                       "parameter '%s' must be a comma-separated list of at "
                       "most %d integers in [1, %d], got '%s'",
                       key, max, limit, s);
            sl_err_field(err, key);
            return SL_ECONFIG;
        }
        out[k++] = (int)v;
        p = end;
        while (*p == ' ' || *p == ']')
            p++;
        if (*p == '\0')
            break;
        if (*p != ',') {
            sl_err_set(err, SL_ECONFIG,
                       "parameter '%s' must be a comma-separated list of "
                       "integers, got '%s'",
                       key, s);
            sl_err_field(err, key);
            return SL_ECONFIG;
        }
        p++;
    }
    *n = k;
    return SL_OK;
}

json_t *sl_json_doubles(const double *v, int n)
{
    json_t *a = json_array();
    for (int i = 0; a && i < n; i++) {
        if (json_array_append_new(a, json_real(v[i])) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}
