/*
 * transform_util.c: shared plumbing of the feature transforms: column list
 * resolution with located errors, batch output helpers, block-wise
 * mean/variance, transform-state JSON accessors and a stable sort.
 *
 * Error messages always start with the transform name and, for a column,
 * "column '<name>'", and carry the spec file and the position of the list
 * item that named the column, so the CLI prints
 * "spec.yaml:12:22: scale: column 'tmep' not found (did you mean 'temp'?)".
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "processing/transform_util.h"
#include "sluice/mem.h"

/* ---- column lists ---- */

int sl_tu_is_numeric(sl_type t)
{
    return sl_type_is_numeric(t);
}

int sl_tu_is_any(sl_type t)
{
    return t != SL_NULL && t < SL_TYPE_COUNT;
}

static sl_rc vlist_err(sl_err *err, sl_rc code, const char *file,
                       const sl_strlist *list, int i, const char *prefix,
                       const char *fmt, va_list ap)
{
    char msg[SL_ERR_MSG_MAX];
    vsnprintf(msg, sizeof msg, fmt, ap);
    int64_t line = 0, col = 0;
    if (list && i >= 0 && i < list->n) {
        line = list->lines ? list->lines[i] : 0;
        col = list->cols ? list->cols[i] : 0;
    }
    return sl_err_setloc(err, code, file, line, col, "%s%s", prefix, msg);
}

sl_rc sl_tu_list_err(sl_err *err, sl_rc code, const char *spec_file,
                     const sl_strlist *list, int i, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlist_err(err, code, spec_file, list, i, "", fmt, ap);
    va_end(ap);
    return code;
}

sl_rc sl_tu_col_err(const sl_tu_cols *c, sl_err *err, int i, sl_rc code,
                    const char *fmt, ...)
{
    char prefix[SL_ERR_FIELD_MAX + 64];
    snprintf(prefix, sizeof prefix, "%s: column '%s' ", c->tname,
             c->list->items[i]);
    va_list ap;
    va_start(ap, fmt);
    vlist_err(err, code, c->spec_file, c->list, i, prefix, fmt, ap);
    va_end(ap);
    sl_err_field(err, c->list->items[i]);
    return code;
}

sl_rc sl_tu_cols_init(sl_tu_cols *c, const char *tname, const sl_ctx *ctx,
                      const sl_strlist *list, sl_tu_type_ok ok,
                      const char *need, sl_err *err)
{
    memset(c, 0, sizeof *c);
    c->tname = tname;
    c->list = list;
    c->type_ok = ok;
    c->type_need = need;
    if (ctx && ctx->spec_file) {
        c->spec_file = sl_strdup(ctx->spec_file);
        if (!c->spec_file)
            return sl_err_set(err, SL_ENOMEM, "%s: out of memory", tname);
    }
    if (!list || list->n == 0)
        return sl_err_setloc(err, SL_ECONFIG, c->spec_file, 0, 0,
                             "%s: 'columns' must list at least one column",
                             tname);
    c->n = list->n;
    for (int i = 0; i < list->n; i++)
        for (int j = 0; j < i; j++)
            if (strcmp(list->items[i], list->items[j]) == 0)
                return sl_tu_col_err(c, err, i, SL_ECONFIG,
                                     "is listed twice");
    c->idx = sl_calloc((size_t)c->n, sizeof *c->idx);
    c->type = sl_calloc((size_t)c->n, sizeof *c->type);
    if (!c->idx || !c->type)
        return sl_err_set(err, SL_ENOMEM, "%s: out of memory", tname);
    for (int i = 0; i < c->n; i++)
        c->type[i] = SL_TYPE_COUNT;
    return SL_OK;
}

void sl_tu_cols_free(sl_tu_cols *c)
{
    sl_free(c->spec_file);
    sl_free(c->idx);
    sl_free(c->type);
    memset(c, 0, sizeof *c);
}

/* "column 'x' not found" plus a hint: the closest name, or the list of
 * columns when the schema is small and nothing is close. */
static sl_rc not_found(const sl_tu_cols *c, int i, const sl_schema *s,
                       sl_err *err)
{
    const char **names = sl_calloc((size_t)s->n + 1, sizeof *names);
    if (!names)
        return sl_err_set(err, SL_ENOMEM, "%s: out of memory", c->tname);
    for (int k = 0; k < s->n; k++)
        names[k] = s->fields[k].name;
    const char *best = sl_closest_name(names, c->list->items[i]);
    char hint[SL_ERR_MSG_MAX / 2] = "";
    if (best) {
        snprintf(hint, sizeof hint, " (did you mean '%s'?)", best);
    } else if (s->n > 0) {
        size_t len = (size_t)snprintf(hint, sizeof hint, " (columns:");
        for (int k = 0; k < s->n && len < sizeof hint; k++)
            len += (size_t)snprintf(hint + len, sizeof hint - len, " %s%s",
                                    names[k], k + 1 < s->n ? "," : ")");
        if (len >= sizeof hint)
            memcpy(hint + sizeof hint - 6, " ...)", 6);
    } else {
        snprintf(hint, sizeof hint, " (the data has no columns)");
    }
    sl_free(names);
    return sl_tu_col_err(c, err, i, SL_ECONFIG, "not found%s", hint);
}

sl_rc sl_tu_cols_resolve(sl_tu_cols *c, const sl_schema *s, int *idx,
                         int fitted, sl_err *err)
{
    for (int i = 0; i < c->n; i++) {
        int j = sl_schema_find(s, c->list->items[i]);
        if (j < 0)
            return not_found(c, i, s, err);
        sl_type t = s->fields[j].type;
        if (c->type_ok && !c->type_ok(t))
            return sl_tu_col_err(c, err, i, SL_ESCHEMA,
                                 "has type %s; %s needs %s", sl_type_name(t),
                                 c->tname, c->type_need);
        if (fitted) {
            if (c->type[i] == SL_TYPE_COUNT)
                c->type[i] = t;
            else if (c->type[i] != t)
                return sl_tu_col_err(
                    c, err, i, SL_ESCHEMA,
                    "has type %s here but %s when the transform was fitted",
                    sl_type_name(t), sl_type_name(c->type[i]));
        }
        idx[i] = j;
    }
    return SL_OK;
}

/* ---- output columns and batches ---- */

sl_column *sl_tu_col_zeroed(sl_type t, int64_t n)
{
    sl_column *c = sl_column_new(t, n);
    if (!c)
        return NULL;
    size_t bytes = 0;
    switch (t) {
    case SL_BOOL:
        bytes = (size_t)(n + 7) / 8;
        break;
    case SL_INT64:
    case SL_FLOAT64:
    case SL_TIMESTAMP:
        bytes = (size_t)n * 8;
        break;
    case SL_DATE:
        bytes = (size_t)n * 4;
        break;
    default:
        break;
    }
    if (bytes)
        memset(c->values, 0, bytes);
    c->length = n;
    return c;
}

sl_rc sl_tu_col_copy_nulls(sl_column *c, const sl_column *src)
{
    if (src->null_count == 0 || !src->validity)
        return SL_OK;
    int64_t n = src->length;
    for (int64_t b = 0; b * 8 < n; b++) {
        if (src->validity[b] == 0xff)
            continue;
        for (int64_t i = b * 8; i < n && i < b * 8 + 8; i++) {
            if (!sl_bit_get(src->validity, i)) {
                sl_rc rc = sl_column_set_null(c, i);
                if (rc != SL_OK)
                    return rc;
            }
        }
    }
    return SL_OK;
}

sl_rc sl_tu_build(const sl_schema *s, sl_column **cols, sl_batch **out,
                  sl_err *err)
{
    *out = NULL;
    int j = 0;
    sl_rc rc = SL_OK;
    sl_batch *b = sl_batch_new(NULL, 0);
    if (!b) {
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        goto out;
    }
    for (; j < s->n; j++) {
        sl_column *col = cols[j];
        cols[j] = NULL;
        rc = sl_batch_add_column(b, s->fields[j].name, col, err);
        if (rc != SL_OK) {
            j++;
            goto out;
        }
        b->schema->fields[j].nullable = s->fields[j].nullable;
    }
    *out = b;
    b = NULL;
out:
    for (; j < s->n; j++) {
        sl_column_unref(cols[j]);
        cols[j] = NULL;
    }
    sl_batch_unref(b);
    return rc;
}

sl_rc sl_tu_replace(sl_batch *in, const int *idx, sl_column **repl, int n,
                    sl_batch **out, sl_err *err)
{
    *out = NULL;
    sl_rc rc = SL_OK;
    sl_column **cols = NULL;
    sl_schema *s = NULL;
    int k = 0;
    if (in->refcount == 1) {
        for (; k < n; k++) {
            sl_column *c = repl[k];
            repl[k] = NULL;
            rc = sl_batch_set_column(in, idx[k], c);
            if (rc != SL_OK) {
                k++;
                rc = sl_err_set(err, SL_EINTERNAL,
                                "replacing a column failed");
                goto out;
            }
        }
        *out = in;
        in = NULL;
        goto out;
    }
    int nc = in->schema->n;
    cols = sl_calloc((size_t)nc + 1, sizeof *cols);
    s = sl_schema_copy(in->schema);
    if (!cols || !s) {
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        goto out;
    }
    for (int j = 0; j < nc; j++)
        cols[j] = sl_column_ref(in->cols[j]);
    for (; k < n; k++) {
        sl_column_unref(cols[idx[k]]);
        cols[idx[k]] = repl[k];
        s->fields[idx[k]].type = repl[k]->type;
        repl[k] = NULL;
    }
    rc = sl_tu_build(s, cols, out, err);
out:
    for (; k < n; k++) {
        sl_column_unref(repl[k]);
        repl[k] = NULL;
    }
    sl_free(cols);
    sl_schema_free(s);
    sl_batch_unref(in);
    return rc;
}

sl_rc sl_tu_schema_add(sl_schema *s, const sl_field *f, const char *name,
                       sl_type t, sl_err *err)
{
    sl_rc rc = sl_schema_add(s, name ? name : f->name, t, f->nullable, err);
    if (rc != SL_OK || !f->description)
        return rc;
    sl_field *nf = &s->fields[s->n - 1];
    nf->description = sl_strdup(f->description);
    if (!nf->description)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    return SL_OK;
}

/* ---- mean and variance ---- */

sl_rc sl_tu_moments_init(sl_tu_moments *m)
{
    memset(m, 0, sizeof *m);
    m->min = INFINITY;
    m->max = -INFINITY;
    m->blk = sl_malloc(SL_TU_MOMENT_BLOCK * sizeof *m->blk);
    return m->blk ? SL_OK : SL_ENOMEM;
}

void sl_tu_moments_free(sl_tu_moments *m)
{
    sl_free(m->blk);
    m->blk = NULL;
}

/* Two-pass statistics of the pending block, merged with Chan's update:
 *   n = na + nb, d = mb - ma, mean = ma + d * nb / n,
 *   M2 = M2a + M2b + d^2 * na * nb / n. */
static void moments_merge(sl_tu_moments *m)
{
    int k = m->nblk;
    if (k == 0)
        return;
    double sum = 0.0;
    for (int i = 0; i < k; i++)
        sum += m->blk[i];
    double mb = sum / k, m2b = 0.0;
    for (int i = 0; i < k; i++) {
        double d = m->blk[i] - mb;
        m2b += d * d;
    }
    if (m->n == 0) {
        m->mean = mb;
        m->m2 = m2b;
    } else {
        double na = (double)m->n, nb = (double)k, n = na + nb;
        double d = mb - m->mean;
        m->mean += d * (nb / n);
        m->m2 += m2b + d * d * (na * nb / n);
    }
    m->n += k;
    m->nblk = 0;
}

static inline void moments_push(sl_tu_moments *m, double x)
{
    if (x < m->min)
        m->min = x;
    if (x > m->max)
        m->max = x;
    m->blk[m->nblk++] = x;
    if (m->nblk == SL_TU_MOMENT_BLOCK)
        moments_merge(m);
}

void sl_tu_moments_add_column(sl_tu_moments *m, const sl_column *c)
{
    int64_t n = c->length;
    int has_nulls = c->null_count > 0 && c->validity;
    if (c->type == SL_FLOAT64) {
        const double *v = c->values;
        for (int64_t i = 0; i < n; i++)
            if ((!has_nulls || sl_bit_get(c->validity, i)) && !isnan(v[i]))
                moments_push(m, v[i]);
    } else if (c->type == SL_INT64) {
        const int64_t *v = c->values;
        for (int64_t i = 0; i < n; i++)
            if (!has_nulls || sl_bit_get(c->validity, i))
                moments_push(m, (double)v[i]);
    } else if (c->type == SL_BOOL) {
        for (int64_t i = 0; i < n; i++)
            if (!has_nulls || sl_bit_get(c->validity, i))
                moments_push(m, sl_col_bool(c, i));
    }
}

void sl_tu_moments_finish(sl_tu_moments *m)
{
    moments_merge(m);
}

/* ---- transform state (JSON) ---- */

json_t *sl_tu_json_num(double v)
{
    if (isnan(v))
        return json_string("nan");
    if (isinf(v))
        return json_string(v > 0 ? "inf" : "-inf");
    return json_real(v);
}

int sl_tu_json_get_num(const json_t *j, double *out)
{
    if (json_is_real(j)) {
        *out = json_real_value(j);
        return 0;
    }
    if (json_is_integer(j)) {
        *out = (double)json_integer_value(j);
        return 0;
    }
    if (json_is_string(j)) {
        const char *s = json_string_value(j);
        if (strcmp(s, "inf") == 0 || strcmp(s, "+inf") == 0) {
            *out = INFINITY;
            return 0;
        }
        if (strcmp(s, "-inf") == 0) {
            *out = -INFINITY;
            return 0;
        }
        if (strcmp(s, "nan") == 0) {
            *out = NAN;
            return 0;
        }
    }
    return -1;
}

sl_rc sl_tu_state_err(sl_err *err, const char *tname, const char *key,
                      const char *fmt, ...)
{
    char msg[SL_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (key)
        sl_err_set(err, SL_ECONFIG, "%s: state: key '%s': %s", tname, key,
                   msg);
    else
        sl_err_set(err, SL_ECONFIG, "%s: state: %s", tname, msg);
    if (key)
        sl_err_field(err, key);
    return SL_ECONFIG;
}

sl_rc sl_tu_state_columns(const sl_tu_cols *c, const json_t *state,
                          const json_t **per, sl_err *err)
{
    if (!json_is_object(state))
        return sl_tu_state_err(err, c->tname, NULL, "expected a JSON object");
    const json_t *cols = json_object_get(state, "columns");
    if (!cols)
        return sl_tu_state_err(err, c->tname, "columns", "missing");
    if (!json_is_object(cols))
        return sl_tu_state_err(err, c->tname, "columns",
                               "expected an object");
    char key[SL_ERR_FIELD_MAX];
    for (int i = 0; i < c->n; i++) {
        const json_t *o = json_object_get(cols, c->list->items[i]);
        snprintf(key, sizeof key, "columns.%s", c->list->items[i]);
        if (!o)
            return sl_tu_state_err(err, c->tname, "columns",
                                   "no entry for column '%s' (the state was "
                                   "fitted with other columns)",
                                   c->list->items[i]);
        if (!json_is_object(o))
            return sl_tu_state_err(err, c->tname, key, "expected an object");
        per[i] = o;
    }
    const char *name;
    json_t *v;
    json_object_foreach((json_t *)cols, name, v) {
        int known = 0;
        for (int i = 0; i < c->n && !known; i++)
            known = strcmp(name, c->list->items[i]) == 0;
        if (!known)
            return sl_tu_state_err(err, c->tname, "columns",
                                   "column '%s' is not in the transform's "
                                   "'columns' (the state was fitted with "
                                   "other columns)",
                                   name);
    }
    return SL_OK;
}

static const char *json_type_desc(int jt)
{
    switch (jt) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "a list";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "true or false";
    default: return "a value";
    }
}

static int json_type_ok(const json_t *v, int jt)
{
    switch (jt) {
    case -1: return 1;
    case JSON_REAL: return json_is_number(v);
    case JSON_TRUE:
    case JSON_FALSE: return json_is_boolean(v);
    default: return json_typeof(v) == (json_type)jt;
    }
}

sl_rc sl_tu_state_member(const sl_tu_cols *c, int i, const json_t *obj,
                         const char *key, int jt, int optional,
                         const json_t **out, sl_err *err)
{
    char path[SL_ERR_FIELD_MAX];
    snprintf(path, sizeof path, "columns.%s.%s", c->list->items[i], key);
    const json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v)) {
        if (optional)
            return SL_OK;
        return sl_tu_state_err(err, c->tname, path, "missing");
    }
    if (!json_type_ok(v, jt))
        return sl_tu_state_err(err, c->tname, path, "expected %s",
                               json_type_desc(jt));
    *out = v;
    return SL_OK;
}

sl_rc sl_tu_state_num(const sl_tu_cols *c, int i, const json_t *obj,
                      const char *key, int allow_inf, double *out,
                      sl_err *err)
{
    const json_t *v;
    sl_rc rc = sl_tu_state_member(c, i, obj, key, -1, 0, &v, err);
    if (rc != SL_OK)
        return rc;
    char path[SL_ERR_FIELD_MAX];
    snprintf(path, sizeof path, "columns.%s.%s", c->list->items[i], key);
    if (sl_tu_json_get_num(v, out) != 0)
        return sl_tu_state_err(err, c->tname, path, "expected a number");
    if (isnan(*out) || (!allow_inf && isinf(*out)))
        return sl_tu_state_err(err, c->tname, path,
                               "expected a finite number");
    return SL_OK;
}

sl_rc sl_tu_state_type(sl_tu_cols *c, int i, const json_t *obj, sl_err *err)
{
    const json_t *v;
    sl_rc rc = sl_tu_state_member(c, i, obj, "type", JSON_STRING, 0, &v, err);
    if (rc != SL_OK)
        return rc;
    sl_type t;
    if (sl_type_parse(json_string_value(v), &t) != SL_OK || t == SL_NULL) {
        char path[SL_ERR_FIELD_MAX];
        snprintf(path, sizeof path, "columns.%s.type", c->list->items[i]);
        return sl_tu_state_err(err, c->tname, path, "unknown type '%s'",
                               json_string_value(v));
    }
    c->type[i] = t;
    return SL_OK;
}

sl_rc sl_tu_state_enum(const char *tname, const json_t *state,
                       const char *key, const char *want, sl_err *err)
{
    if (!json_is_object(state))
        return sl_tu_state_err(err, tname, NULL, "expected a JSON object");
    const json_t *v = json_object_get(state, key);
    if (!v)
        return sl_tu_state_err(err, tname, key, "missing");
    if (!json_is_string(v))
        return sl_tu_state_err(err, tname, key, "expected a string");
    if (strcmp(json_string_value(v), want) != 0)
        return sl_tu_state_err(err, tname, key,
                               "the state was fitted with '%s' but the "
                               "configuration says '%s'",
                               json_string_value(v), want);
    return SL_OK;
}

sl_rc sl_tu_json_set(json_t *obj, const char *key, json_t *v, sl_err *err)
{
    if (!v || json_object_set_new(obj, key, v) != 0)
        return sl_err_set(err, SL_ENOMEM, "out of memory building the state");
    return SL_OK;
}

sl_rc sl_tu_state_new(json_t **state, json_t **cols_obj, const char *key,
                      const char *value, sl_err *err)
{
    *state = json_object();
    *cols_obj = NULL;
    if (!*state)
        return sl_err_set(err, SL_ENOMEM, "out of memory building the state");
    sl_rc rc = SL_OK;
    if (key)
        rc = sl_tu_json_set(*state, key, json_string(value), err);
    json_t *cols = json_object();
    if (rc == SL_OK)
        rc = sl_tu_json_set(*state, "columns", cols, err);
    else
        json_decref(cols);
    if (rc != SL_OK) {
        json_decref(*state);
        *state = NULL;
        return rc;
    }
    *cols_obj = cols;
    return SL_OK;
}

/* ---- misc ---- */

sl_rc sl_tu_sort_ids(int64_t *ids, int64_t n,
                     int (*cmp)(const void *ctx, int64_t a, int64_t b),
                     const void *ctx)
{
    if (n < 2)
        return SL_OK;
    int64_t *tmp = sl_malloc((size_t)n * sizeof *tmp);
    if (!tmp)
        return SL_ENOMEM;
    /* Bottom-up merge sort: stable and O(n log n) on any input. */
    int64_t *src = ids, *dst = tmp;
    for (int64_t w = 1; w < n; w *= 2) {
        for (int64_t lo = 0; lo < n; lo += 2 * w) {
            int64_t mid = lo + w < n ? lo + w : n;
            int64_t hi = lo + 2 * w < n ? lo + 2 * w : n;
            int64_t a = lo, b = mid, o = lo;
            while (a < mid && b < hi)
                dst[o++] = cmp(ctx, src[b], src[a]) < 0 ? src[b++] : src[a++];
            while (a < mid)
                dst[o++] = src[a++];
            while (b < hi)
                dst[o++] = src[b++];
        }
        int64_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != ids)
        memcpy(ids, src, (size_t)n * sizeof *ids);
    sl_free(tmp);
    return SL_OK;
}

const char *sl_tu_enum_name(const char *choices, int idx, char *buf,
                            size_t n)
{
    const char *p = choices;
    for (int i = 0; i < idx && p; i++) {
        p = strchr(p, '|');
        if (p)
            p++;
    }
    if (!p || n == 0)
        return "?";
    size_t len = strcspn(p, "|");
    if (len >= n)
        len = n - 1;
    memcpy(buf, p, len);
    buf[len] = '\0';
    return buf;
}
