/*
 * jsonl_schema.c: schema inference for the JSON Lines reader.
 *
 * The sample pass classifies each value (null, bool, int, float, date,
 * timestamp, other string, nested) and ORs the classes per key; a key's
 * classes only count once its whole line has parsed (jsonl_reader.c
 * commits them), so a malformed line never adds a key or widens a type.
 * jl_build_schema turns the classes into types, applies the partial
 * override (types, and nullable: false, which the reader enforces) and
 * sets up the reader's column table in schema order.
 */
#include <stdio.h>
#include <string.h>

#include "jsonl_internal.h"
#include "sluice/log.h"
#include "sluice/mem.h"
#include "sluice/value.h"

static inline int is_digit(char c)
{
    return (unsigned)((unsigned char)c - '0') < 10u;
}

/* Inference class of the value at p in *bits. */
const char *jl_infer_value(sl_jsonl_reader *r, const char *p,
                               const char *end, uint8_t *bits, jl_perr *e)
{
    jl_num num;
    size_t n;
    int v;
    int32_t d;
    int64_t t;
    switch (*p) {
    case '"':
        p = jl_scan_string(p + 1, end, r->scratch, &n, e);
        if (p)
            *bits = sl_parse_date(r->scratch, n, &d) == 0        ? K_DATE
                    : sl_parse_timestamp(r->scratch, n, &t) == 0 ? K_TS
                                                                 : K_STR;
        return p;
    case 't':
    case 'f':
    case 'n':
        p = jl_scan_literal(p, end, &v, e);
        if (p)
            *bits = v < 0 ? K_NULL : K_BOOL;
        return p;
    case '{':
    case '[':
        *bits = K_NESTED;
        return jl_skip_value(p, end, r->scratch, e);
    default:
        if (*p != '-' && !is_digit(*p))
            return jl_unexpected(e, p, end, "a value");
        p = jl_scan_number(p, end, &num, e);
        if (p)
            *bits = num.is_int && num.fits ? K_INT : K_FLOAT;
        return p;
    }
}

/* A key during inference: its stats entry, created on first sight. */
int jl_infer_key(sl_jsonl_reader *r, const char *at, const char *k,
                     size_t n, jl_perr *e)
{
    int ki = jl_names_find(&r->names, k, n);
    if (ki >= 0)
        return ki;
    if (r->names.n >= SL_JSONL_MAX_COLUMNS) {
        jl_fail(e, at, SL_ELIMIT, "more than %d distinct keys in the sampled rows",
                SL_JSONL_MAX_COLUMNS);
        return -1;
    }
    if (sl_grow((void **)&r->ks, &r->ks_cap, (size_t)r->names.n + 1,
                sizeof *r->ks) != 0 ||
        (ki = jl_names_add(&r->names, k, n)) < 0) {
        jl_fail(e, at, SL_ENOMEM, "out of memory");
        return -1;
    }
    memset(&r->ks[ki], 0, sizeof r->ks[ki]);
    r->ks[ki].order = -1;
    return ki;
}

static sl_type infer_type(uint8_t bits)
{
    unsigned b = bits & ~K_NULL;
    if (b == 0)
        return SL_NULL;
    if (b == K_BOOL)
        return SL_BOOL;
    if ((b & ~(unsigned)(K_INT | K_FLOAT)) == 0)
        return b & K_FLOAT ? SL_FLOAT64 : SL_INT64;
    if ((b & ~(unsigned)(K_DATE | K_TS)) == 0)
        return b & K_TS ? SL_TIMESTAMP : SL_DATE;
    return SL_STRING;
}

/* Builds r->schema from the sample and the override, then the column
 * table and its name index in schema order. */
sl_rc jl_build_schema(sl_jsonl_reader *r, const sl_schema *ovr, sl_err *err)
{
    sl_rc rc = SL_OK;
    int *by_order = NULL;
    jl_names keys = r->names;
    memset(&r->names, 0, sizeof r->names);
    r->schema = sl_schema_new();
    if (!r->schema || (r->norder && !(by_order = sl_malloc((size_t)r->norder * sizeof(int))))) {
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        goto out;
    }
    for (int k = 0; k < keys.n; k++)
        if (r->ks[k].order >= 0)
            by_order[r->ks[k].order] = k;
    for (int i = 0; i < r->norder; i++) {
        int k = by_order[i];
        rc = sl_schema_add(r->schema, keys.names[k], infer_type(r->ks[k].bits), 1, err);
        if (rc != SL_OK)
            goto out;
    }
    int ninf = r->schema->n;
    for (int i = 0; ovr && i < ovr->n; i++) {
        int j = sl_schema_find(r->schema, ovr->fields[i].name);
        if (j >= 0) {
            r->schema->fields[j].type = ovr->fields[i].type;
            r->schema->fields[j].nullable = ovr->fields[i].nullable != 0;
            continue;
        }
        rc = sl_schema_add(r->schema, ovr->fields[i].name, ovr->fields[i].type,
                           ovr->fields[i].nullable != 0, err);
        if (rc != SL_OK)
            goto out;
        sl_log(SL_LOG_WARN, "jsonl",
               "%s: schema override column '%s' does not appear in the first "
               "%lld rows; it is added and stays null until it appears",
               r->name, ovr->fields[i].name, (long long)r->o.infer_rows);
    }
    r->cols = sl_calloc((size_t)r->schema->n + 1, sizeof *r->cols);
    if (!r->cols) {
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; i < r->schema->n; i++) {
        const char *nm = r->schema->fields[i].name;
        if (jl_names_add(&r->names, nm, strlen(nm)) != i) {
            rc = sl_err_set(err, SL_ENOMEM, "out of memory");
            goto out;
        }
        r->cols[i].type = r->schema->fields[i].type;
        r->cols[i].override = i >= ninf || (ovr && sl_schema_find(ovr, nm) >= 0);
        r->cols[i].succ = i + 1 < r->schema->n ? i + 1 : -1;
        r->cols[i].nullable = r->schema->fields[i].nullable;
        r->nreq += !r->cols[i].nullable;
    }
    r->first = r->schema->n > 0 ? 0 : -1;
out:
    jl_names_free(&keys);
    sl_free(by_order);
    sl_free(r->ks);
    r->ks = NULL;
    r->ks_cap = 0;
    return rc;
}

