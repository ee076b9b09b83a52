/*
 * transforms_basic.c: the stateless column-shaping transforms select,
 * drop, rename and cast.
 *
 * select/drop/rename never copy data: output batches share the input's
 * columns (reference counted). cast builds a new column for each converted
 * column and shares the others; a value that does not convert fails the
 * run with the column, the value and its row index in the batch.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "processing/transform_util.h"
#include "processing/value_table.h"
#include "sluice/mem.h"
#include "sluice/plugin.h"
#include "sluice/value.h"

/* ---- select / drop ---- */

typedef struct cols_cfg {
    sl_strlist columns;
} cols_cfg;

typedef struct pick_inst {
    sl_tu_cols cols;
    int drop;      /* 0 = select, 1 = drop */
    int nin;       /* columns of the input schema */
    int nout;
    int *out_idx;  /* input index of each output column */
} pick_inst;

static void pick_destroy(void *p)
{
    pick_inst *s = p;
    if (!s)
        return;
    sl_tu_cols_free(&s->cols);
    sl_free(s->out_idx);
    sl_free(s);
}

static sl_rc pick_init(void **inst, void *config, const sl_ctx *ctx,
                       int drop, sl_err *err)
{
    cols_cfg *cfg = config;
    *inst = NULL;
    pick_inst *s = sl_calloc(1, sizeof *s);
    if (!s)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    s->drop = drop;
    sl_rc rc = sl_tu_cols_init(&s->cols, drop ? "drop" : "select", ctx,
                               &cfg->columns, NULL, NULL, err);
    if (rc != SL_OK) {
        pick_destroy(s);
        return rc;
    }
    *inst = s;
    return SL_OK;
}

static sl_rc select_init(void **inst, void *config, const sl_ctx *ctx,
                         sl_err *err)
{
    return pick_init(inst, config, ctx, 0, err);
}

static sl_rc drop_init(void **inst, void *config, const sl_ctx *ctx,
                       sl_err *err)
{
    return pick_init(inst, config, ctx, 1, err);
}

static sl_rc pick_open(void *p, const sl_schema *in, sl_schema **out,
                       sl_err *err)
{
    pick_inst *s = p;
    sl_schema *o = NULL;
    *out = NULL;
    sl_rc rc = sl_tu_cols_resolve(&s->cols, in, s->cols.idx, 0, err);
    if (rc != SL_OK)
        goto out;
    sl_free(s->out_idx);
    s->out_idx = sl_calloc((size_t)in->n + 1, sizeof *s->out_idx);
    o = sl_schema_new();
    if (!s->out_idx || !o) {
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        goto out;
    }
    s->nin = in->n;
    s->nout = 0;
    if (!s->drop) {
        for (int i = 0; i < s->cols.n; i++)
            s->out_idx[s->nout++] = s->cols.idx[i];
    } else {
        for (int j = 0; j < in->n; j++) {
            int dropped = 0;
            for (int i = 0; i < s->cols.n && !dropped; i++)
                dropped = s->cols.idx[i] == j;
            if (!dropped)
                s->out_idx[s->nout++] = j;
        }
        if (s->nout == 0) {
            rc = sl_tu_list_err(err, SL_ECONFIG, s->cols.spec_file,
                                s->cols.list, 0,
                                "drop: this would remove every column");
            goto out;
        }
    }
    for (int k = 0; k < s->nout; k++) {
        const sl_field *f = &in->fields[s->out_idx[k]];
        rc = sl_tu_schema_add(o, f, NULL, f->type, err);
        if (rc != SL_OK)
            goto out;
    }
    *out = o;
    o = NULL;
out:
    sl_schema_free(o);
    return rc;
}

static sl_rc check_width(const char *tname, const sl_batch *in, int nin,
                         sl_err *err)
{
    if (in->schema->n != nin)
        return sl_err_set(err, SL_EINTERNAL,
                          "%s: batch has %d columns, open() saw %d", tname,
                          in->schema->n, nin);
    return SL_OK;
}

static sl_rc pick_process(void *p, sl_batch *in, sl_batch **out, sl_err *err)
{
    pick_inst *s = p;
    *out = NULL;
    sl_rc rc = check_width(s->cols.tname, in, s->nin, err);
    if (rc == SL_OK) {
        rc = sl_batch_project(in, s->out_idx, s->nout, out);
        if (rc != SL_OK)
            sl_err_set(err, rc, "%s: out of memory", s->cols.tname);
    }
    sl_batch_unref(in);
    return rc;
}

static const sl_config_entry select_map[] = {
    {"columns", SL_CFG_STRLIST, NULL, SL_CFG_REQUIRED | SL_CFG_SHORTHAND, NULL,
     offsetof(cols_cfg, columns),
     "Columns to keep, in the order they should appear in the output; every "
     "other column is removed. Shorthand: `select: [a, b]`."},
    {0}};

static const sl_config_entry drop_map[] = {
    {"columns", SL_CFG_STRLIST, NULL, SL_CFG_REQUIRED | SL_CFG_SHORTHAND, NULL,
     offsetof(cols_cfg, columns),
     "Columns to remove; the others keep their order. Shorthand: "
     "`drop: [a, b]`."},
    {0}};

const sl_plugin sl_plugin_select = {
    .abi_version = SL_PLUGIN_ABI_VERSION,
    .name = "select",
    .kind = SL_PLUGIN_TRANSFORM,
    .summary = "Keep the listed columns, in the listed order.",
    .example = "- select: [date, temp_max, weather]",
    .config_map = select_map,
    .config_size = sizeof(cols_cfg),
    .init = select_init,
    .open = pick_open,
    .process = pick_process,
    .destroy = pick_destroy,
};

const sl_plugin sl_plugin_drop = {
    .abi_version = SL_PLUGIN_ABI_VERSION,
    .name = "drop",
    .kind = SL_PLUGIN_TRANSFORM,
    .summary = "Remove the listed columns.",
    .example = "- drop: [id, notes]",
    .config_map = drop_map,
    .config_size = sizeof(cols_cfg),
    .init = drop_init,
    .open = pick_open,
    .process = pick_process,
    .destroy = pick_destroy,
};

/* ---- rename and cast: mapping-shaped configurations ---- */

typedef struct map_cfg {
    sl_strmap columns;
} map_cfg;

/* The mapping's keys are viewed as a column list, so column errors point
 * at the mapping entry (its value's position). */
typedef struct map_inst {
    const sl_strmap *map; /* the config's mapping (not owned) */
    sl_strlist keys;      /* borrowed arrays of map */
    sl_tu_cols cols;
    sl_schema *out;       /* rename: output schema (open) */
    int nin;
    sl_type *to;          /* cast: target type per entry */
} map_inst;

static void map_destroy(void *p)
{
    map_inst *s = p;
    if (!s)
        return;
    sl_tu_cols_free(&s->cols);
    sl_schema_free(s->out);
    sl_free(s->to);
    sl_free(s);
}

static sl_rc map_init(const char *tname, const map_cfg *cfg,
                      const sl_ctx *ctx, map_inst **out, sl_err *err)
{
    *out = NULL;
    map_inst *s = sl_calloc(1, sizeof *s);
    if (!s)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    s->map = &cfg->columns;
    s->keys.n = cfg->columns.n;
    s->keys.items = cfg->columns.keys;
    s->keys.lines = cfg->columns.lines;
    s->keys.cols = cfg->columns.cols;
    sl_rc rc = sl_tu_cols_init(&s->cols, tname, ctx, &s->keys, NULL, NULL,
                               err);
    if (rc != SL_OK) {
        if (s->keys.n == 0)
            sl_err_set(err, SL_ECONFIG,
                       "%s: the mapping must have at least one entry", tname);
        map_destroy(s);
        return rc;
    }
    *out = s;
    return SL_OK;
}

static sl_rc rename_init(void **inst, void *config, const sl_ctx *ctx,
                         sl_err *err)
{
    map_inst *s = NULL;
    *inst = NULL;
    sl_rc rc = map_init("rename", config, ctx, &s, err);
    for (int i = 0; rc == SL_OK && i < s->map->n; i++)
        if (s->map->values[i][0] == '\0')
            rc = sl_tu_col_err(&s->cols, err, i, SL_ECONFIG,
                               "cannot be renamed to an empty name");
    if (rc != SL_OK) {
        map_destroy(s);
        return rc;
    }
    *inst = s;
    return SL_OK;
}

static sl_rc rename_open(void *p, const sl_schema *in, sl_schema **out,
                         sl_err *err)
{
    map_inst *s = p;
    const char **names = NULL;
    int *entry = NULL;
    *out = NULL;
    sl_rc rc = sl_tu_cols_resolve(&s->cols, in, s->cols.idx, 0, err);
    if (rc != SL_OK)
        goto out;
    names = sl_calloc((size_t)in->n + 1, sizeof *names);
    entry = sl_calloc((size_t)in->n + 1, sizeof *entry);
    sl_schema_free(s->out);
    s->out = sl_schema_new();
    if (!names || !entry || !s->out) {
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        goto out;
    }
    for (int j = 0; j < in->n; j++) {
        names[j] = in->fields[j].name;
        entry[j] = -1;
    }
    for (int i = 0; i < s->cols.n; i++) {
        names[s->cols.idx[i]] = s->map->values[i];
        entry[s->cols.idx[i]] = i;
    }
    /* Final names must be unique; a swap (a: b, b: a) is fine. */
    for (int j = 0; j < in->n; j++) {
        for (int k = 0; k < j; k++) {
            if (strcmp(names[j], names[k]) != 0)
                continue;
            int e = entry[j] >= 0 ? entry[j] : entry[k];
            rc = sl_tu_col_err(&s->cols, err, e, SL_ECONFIG,
                               "cannot be renamed to '%s': the output "
                               "already has a column of that name",
                               names[j]);
            goto out;
        }
    }
    for (int j = 0; j < in->n; j++) {
        rc = sl_tu_schema_add(s->out, &in->fields[j], names[j],
                              in->fields[j].type, err);
        if (rc != SL_OK)
            goto out;
    }
    s->nin = in->n;
    *out = sl_schema_copy(s->out);
    if (!*out)
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
out:
    sl_free(names);
    sl_free(entry);
    return rc;
}

static sl_rc rename_process(void *p, sl_batch *in, sl_batch **out,
                            sl_err *err)
{
    map_inst *s = p;
    sl_column **cols = NULL;
    *out = NULL;
    sl_rc rc = check_width("rename", in, s->nin, err);
    if (rc != SL_OK)
        goto out;
    cols = sl_calloc((size_t)s->nin + 1, sizeof *cols);
    if (!cols) {
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        goto out;
    }
    for (int j = 0; j < s->nin; j++)
        cols[j] = sl_column_ref(in->cols[j]);
    rc = sl_tu_build(s->out, cols, out, err);
out:
    sl_free(cols);
    sl_batch_unref(in);
    return rc;
}

static const sl_config_entry rename_map[] = {
    {"columns", SL_CFG_STRMAP, NULL, SL_CFG_REQUIRED | SL_CFG_WHOLE, NULL,
     offsetof(map_cfg, columns),
     "Mapping `old_name: new_name`; the whole section is this mapping "
     "(`rename: {temp: temperature}`). Columns keep their position; names "
     "may be swapped (`{a: b, b: a}`). Data is shared, not copied."},
    {0}};

const sl_plugin sl_plugin_rename = {
    .abi_version = SL_PLUGIN_ABI_VERSION,
    .name = "rename",
    .kind = SL_PLUGIN_TRANSFORM,
    .summary = "Rename columns.",
    .example = "- rename: {temp_max: max_temperature}",
    .config_map = rename_map,
    .config_size = sizeof(map_cfg),
    .init = rename_init,
    .open = rename_open,
    .process = rename_process,
    .destroy = map_destroy,
};

/* ---- cast ---- */

static int can_cast(sl_type from, sl_type to)
{
    if (from == to || from == SL_NULL || to == SL_NULL ||
        from == SL_STRING || to == SL_STRING)
        return 1;
    if (sl_type_is_numeric(from) && sl_type_is_numeric(to))
        return 1;
    int fi = from == SL_INT64, ti = to == SL_INT64;
    int ft = from == SL_TIMESTAMP || from == SL_DATE;
    int tt = to == SL_TIMESTAMP || to == SL_DATE;
    return (fi && tt) || (ft && ti) || (ft && tt);
}

static sl_rc cast_init(void **inst, void *config, const sl_ctx *ctx,
                       sl_err *err)
{
    static const char *const type_names[] = {
        "bool", "int64", "float64", "string", "timestamp", "date", "null",
        NULL};
    map_inst *s = NULL;
    *inst = NULL;
    sl_rc rc = map_init("cast", config, ctx, &s, err);
    if (rc != SL_OK)
        goto out;
    s->to = sl_calloc((size_t)s->map->n + 1, sizeof *s->to);
    if (!s->to) {
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; i < s->map->n; i++) {
        const char *tn = s->map->values[i];
        if (sl_type_parse(tn, &s->to[i]) == SL_OK)
            continue;
        const char *best = sl_closest_name(type_names, tn);
        char hint[64] = "";
        if (best)
            snprintf(hint, sizeof hint, " (did you mean '%s'?)", best);
        rc = sl_tu_col_err(&s->cols, err, i, SL_ECONFIG,
                           "cannot be cast to unknown type '%s'%s; types "
                           "are bool, int64, float64, string, timestamp, "
                           "date",
                           tn, hint);
        goto out;
    }
    *inst = s;
    s = NULL;
out:
    map_destroy(s);
    return rc;
}

static sl_rc cast_open(void *p, const sl_schema *in, sl_schema **out,
                       sl_err *err)
{
    map_inst *s = p;
    *out = NULL;
    sl_rc rc = sl_tu_cols_resolve(&s->cols, in, s->cols.idx, 0, err);
    if (rc != SL_OK)
        return rc;
    sl_schema *o = sl_schema_copy(in);
    if (!o)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    for (int i = 0; i < s->cols.n; i++) {
        sl_type from = in->fields[s->cols.idx[i]].type;
        if (!can_cast(from, s->to[i])) {
            sl_schema_free(o);
            return sl_tu_col_err(&s->cols, err, i, SL_ESCHEMA,
                                 "cannot be cast from %s to %s",
                                 sl_type_name(from), sl_type_name(s->to[i]));
        }
        o->fields[s->cols.idx[i]].type = s->to[i];
    }
    s->nin = in->n;
    *out = o;
    return SL_OK;
}

/* Text of a valid cell (floats: NaN prints as "nan"). */
static const char *cell_text(const sl_column *c, int64_t i, char *buf,
                             size_t *len)
{
    if (c->type == SL_FLOAT64) {
        *len = (size_t)sl_format_float64(sl_col_f64(c, i), buf);
        return buf;
    }
    sl_vkey k = {0, NULL, 0};
    sl_vkey_get(c, i, &k);
    return sl_vkey_text(c->type, &k, buf, len);
}

static sl_rc cast_to_string(const sl_column *c, sl_column **out)
{
    char buf[SL_FMT_MAX + 1];
    sl_rc rc = SL_ENOMEM;
    sl_column *o = sl_column_new(SL_STRING, c->length);
    if (!o)
        goto out;
    for (int64_t i = 0; i < c->length; i++) {
        if (!sl_col_valid(c, i)) {
            rc = sl_column_append_null(o);
        } else {
            size_t len;
            const char *t = cell_text(c, i, buf, &len);
            rc = sl_column_append_str(o, t, len);
        }
        if (rc != SL_OK)
            goto out;
    }
    rc = SL_OK;
    *out = o;
    o = NULL;
out:
    sl_column_unref(o);
    return rc;
}

#define DAY_MICROS INT64_C(86400000000)
/* float64 values that truncate into int64: [-2^63, 2^63). */
#define I64_LO (-9223372036854775808.0)
#define I64_HI (9223372036854775808.0)

/* Visit the valid rows of c; the body may `goto bad` with i set. */
#define EACH_VALID(c, body)                                                 \
    for (i = 0; i < (c)->length; i++) {                                     \
        if (!sl_col_valid((c), i))                                          \
            continue;                                                       \
        body                                                                \
    }

/* Converts a string or fixed-width column into the zeroed fixed-width
 * column o (nulls already copied). On a value that does not convert:
 * SL_EPARSE and *bad = its row. */
static sl_rc cast_fixed(const sl_column *c, sl_column *o, int64_t *bad)
{
    int64_t i = 0;
    sl_rc rc = SL_OK;
    sl_type from = c->type, to = o->type;
    int64_t *oi = o->values;
    double *od = o->values;
    int32_t *o32 = o->values;
    uint8_t *ob = o->values;
    const char *s;
    size_t l;
    if (from == SL_STRING) {
        switch (to) {
        case SL_BOOL:
            EACH_VALID(c, {
                int b;
                s = sl_col_str(c, i, &l);
                if (sl_parse_bool(s, l, &b))
                    goto bad;
                if (b)
                    sl_bit_set(ob, i);
            })
            break;
        case SL_INT64:
            EACH_VALID(c, {
                s = sl_col_str(c, i, &l);
                if (sl_parse_int64(s, l, &oi[i]))
                    goto bad;
            })
            break;
        case SL_FLOAT64:
            EACH_VALID(c, {
                s = sl_col_str(c, i, &l);
                if (sl_parse_float64(s, l, &od[i]))
                    goto bad;
            })
            break;
        case SL_TIMESTAMP:
            EACH_VALID(c, {
                s = sl_col_str(c, i, &l);
                if (sl_parse_timestamp(s, l, &oi[i]))
                    goto bad;
            })
            break;
        case SL_DATE:
            EACH_VALID(c, {
                s = sl_col_str(c, i, &l);
                if (sl_parse_date(s, l, &o32[i]))
                    goto bad;
            })
            break;
        default:
            break;
        }
        goto out;
    }
    switch (to) {
    case SL_BOOL:
        if (from == SL_INT64) {
            EACH_VALID(c, {
                if (sl_col_i64(c, i))
                    sl_bit_set(ob, i);
            })
        } else if (from == SL_FLOAT64) {
            /* NaN is the float's missing value: it becomes null. */
            EACH_VALID(c, {
                double x = sl_col_f64(c, i);
                if (isnan(x)) {
                    if ((rc = sl_column_set_null(o, i)) != SL_OK)
                        goto out;
                } else if (x != 0.0) {
                    sl_bit_set(ob, i);
                }
            })
        }
        break;
    case SL_INT64:
        if (from == SL_BOOL) {
            EACH_VALID(c, { oi[i] = sl_col_bool(c, i); })
        } else if (from == SL_FLOAT64) {
            EACH_VALID(c, {
                double x = sl_col_f64(c, i);
                if (isnan(x)) {
                    if ((rc = sl_column_set_null(o, i)) != SL_OK)
                        goto out;
                } else if (x >= I64_LO && x < I64_HI) {
                    oi[i] = (int64_t)x; /* truncates toward zero */
                } else {
                    goto bad;
                }
            })
        } else if (from == SL_TIMESTAMP) {
            EACH_VALID(c, { oi[i] = sl_col_i64(c, i); })
        } else if (from == SL_DATE) {
            EACH_VALID(c, { oi[i] = sl_col_i32(c, i); })
        }
        break;
    case SL_FLOAT64:
        if (from == SL_BOOL) {
            EACH_VALID(c, { od[i] = sl_col_bool(c, i); })
        } else if (from == SL_INT64) {
            EACH_VALID(c, { od[i] = (double)sl_col_i64(c, i); })
        }
        break;
    case SL_TIMESTAMP:
        if (from == SL_INT64) {
            EACH_VALID(c, { oi[i] = sl_col_i64(c, i); })
        } else if (from == SL_DATE) {
            EACH_VALID(c, {
                int64_t d = sl_col_i32(c, i);
                if (d > INT64_MAX / DAY_MICROS || d < INT64_MIN / DAY_MICROS)
                    goto bad;
                oi[i] = d * DAY_MICROS;
            })
        }
        break;
    case SL_DATE:
        if (from == SL_INT64) {
            EACH_VALID(c, {
                int64_t v = sl_col_i64(c, i);
                if (v < INT32_MIN || v > INT32_MAX)
                    goto bad;
                o32[i] = (int32_t)v;
            })
        } else if (from == SL_TIMESTAMP) {
            EACH_VALID(c, {
                int64_t v = sl_col_i64(c, i);
                int64_t d = v / DAY_MICROS - (v % DAY_MICROS < 0);
                if (d < INT32_MIN || d > INT32_MAX)
                    goto bad;
                o32[i] = (int32_t)d;
            })
        }
        break;
    default:
        break;
    }
    goto out;
bad:
    *bad = i;
    rc = SL_EPARSE;
out:
    return rc;
}

static sl_rc cast_column(const map_inst *s, int k, const sl_column *c,
                         sl_column **out, sl_err *err)
{
    sl_type to = s->to[k];
    sl_column *o = NULL;
    sl_rc rc = SL_OK;
    int64_t bad = -1;
    *out = NULL;
    if (c->type == to) {
        *out = sl_column_ref((sl_column *)c);
        goto out;
    }
    if (c->type == SL_NULL || to == SL_NULL) {
        o = sl_column_new_nulls(to, c->length);
        rc = o ? SL_OK : SL_ENOMEM;
    } else if (to == SL_STRING) {
        rc = cast_to_string(c, &o);
    } else {
        o = sl_tu_col_zeroed(to, c->length);
        rc = o ? sl_tu_col_copy_nulls(o, c) : SL_ENOMEM;
        if (rc == SL_OK)
            rc = cast_fixed(c, o, &bad);
    }
    if (rc == SL_EPARSE) {
        char buf[SL_FMT_MAX + 1];
        size_t len;
        const char *t = cell_text(c, bad, buf, &len);
        int shown = len > 80 ? 80 : (int)len;
        sl_err_set(err, SL_EPARSE,
                   "cast: column '%s': cannot convert '%.*s%s' to %s "
                   "(row %lld of the batch)",
                   s->map->keys[k], shown, t, len > 80 ? "..." : "",
                   sl_type_name(to), (long long)bad);
        sl_err_field(err, s->map->keys[k]);
        goto out;
    }
    if (rc != SL_OK) {
        sl_err_set(err, rc, "cast: column '%s': out of memory",
                   s->map->keys[k]);
        goto out;
    }
    *out = o;
    o = NULL;
out:
    sl_column_unref(o);
    return rc;
}

static sl_rc cast_process(void *p, sl_batch *in, sl_batch **out, sl_err *err)
{
    map_inst *s = p;
    sl_column **repl = NULL;
    int done = 0;
    *out = NULL;
    sl_rc rc = check_width("cast", in, s->nin, err);
    if (rc != SL_OK)
        goto fail;
    repl = sl_calloc((size_t)s->cols.n, sizeof *repl);
    if (!repl) {
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        goto fail;
    }
    for (; done < s->cols.n; done++) {
        rc = cast_column(s, done, in->cols[s->cols.idx[done]], &repl[done],
                         err);
        if (rc != SL_OK)
            goto fail;
    }
    rc = sl_tu_replace(in, s->cols.idx, repl, s->cols.n, out, err);
    sl_free(repl);
    return rc;
fail:
    for (int k = 0; repl && k < done; k++)
        sl_column_unref(repl[k]);
    sl_free(repl);
    sl_batch_unref(in);
    return rc;
}

static const sl_config_entry cast_map[] = {
    {"columns", SL_CFG_STRMAP, NULL, SL_CFG_REQUIRED | SL_CFG_WHOLE, NULL,
     offsetof(map_cfg, columns),
     "Mapping `column: type` (bool, int64, float64, string, timestamp, date "
     "or an alias such as int, double, str); the whole section is this "
     "mapping (`cast: {age: int64}`). Strings are parsed like CSV fields; "
     "numbers, dates and timestamps print in their canonical text form; "
     "float64 to int64 truncates toward zero; int64 to timestamp/date reads "
     "microseconds/days since 1970-01-01. NaN becomes null when cast to a "
     "non-float type. A value that does not convert (\"abc\" to int64, "
     "1e300 to int64) fails the run naming the column, value and row."},
    {0}};

const sl_plugin sl_plugin_cast = {
    .abi_version = SL_PLUGIN_ABI_VERSION,
    .name = "cast",
    .kind = SL_PLUGIN_TRANSFORM,
    .summary = "Convert columns to another type.",
    .example = "- cast: {year: int64, price: float64, zip: string}",
    .config_map = cast_map,
    .config_size = sizeof(map_cfg),
    .init = cast_init,
    .open = cast_open,
    .process = cast_process,
    .destroy = map_destroy,
};
