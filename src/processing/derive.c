/*
 * derive.c: the `derive` transform: add (or replace) columns computed by
 * expressions.
 *
 *   - derive: { ratio: "a / b", month: "month(date)" }
 *
 * The expressions run in the order written and each sees the columns the
 * earlier ones made, so `{x: "a + 1", y: "x * 2"}` works. A name that
 * already exists replaces that column in place, keeping its position
 * (Spark's withColumn); a new name is appended. Parsing happens in init,
 * type checking in open (against the schema as it is at that step), and
 * evaluation per batch, vectorized. Errors point at the expression's
 * position in the spec.
 *
 * Input columns are shared, never copied: a batch whose only reference we
 * hold is modified in place, otherwise a new batch sharing its columns is
 * made first.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "processing/expr_internal.h"
#include "sluice/expr.h"
#include "sluice/mem.h"
#include "sluice/plugin.h"

typedef struct derive_cfg {
    sl_strmap columns;
} derive_cfg;

typedef struct derive_inst {
    const sl_strmap *map; /* the config's mapping (not owned) */
    sl_expr **e;          /* one per map entry */
    int *nullable;        /* per entry, after open */
    char *spec_file;
} derive_inst;

static void derive_destroy(void *p)
{
    derive_inst *d = p;
    if (!d)
        return;
    for (int k = 0; d->e && k < d->map->n; k++)
        sl_expr_free(d->e[k]);
    sl_free(d->e);
    sl_free(d->nullable);
    sl_free(d->spec_file);
    sl_free(d);
}

/* Point err at entry k's expression in the spec. */
static void entry_err(const derive_inst *d, int k, sl_err *err)
{
    char what[SL_ERR_FIELD_MAX + 32];
    snprintf(what, sizeof what, "derive: column '%s'", d->map->keys[k]);
    ex_err_in_spec(err, d->spec_file, d->map->lines ? d->map->lines[k] : 0,
                   d->map->cols ? d->map->cols[k] : 0, what);
    sl_err_field(err, d->map->keys[k]);
}

static sl_rc derive_init(void **inst, void *config, const sl_ctx *ctx,
                         sl_err *err)
{
    derive_cfg *cfg = config;
    sl_rc rc = SL_OK;
    *inst = NULL;
    derive_inst *d = sl_calloc(1, sizeof *d);
    if (!d)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    d->map = &cfg->columns;
    int n = d->map->n;
    if (ctx && ctx->spec_file && !(d->spec_file = sl_strdup(ctx->spec_file))) {
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        goto out;
    }
    if (n == 0) {
        rc = sl_err_set(err, SL_ECONFIG,
                        "derive: needs at least one `name: expression`");
        goto out;
    }
    d->e = sl_calloc((size_t)n, sizeof *d->e);
    d->nullable = sl_calloc((size_t)n, sizeof *d->nullable);
    if (!d->e || !d->nullable) {
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        goto out;
    }
    for (int k = 0; k < n; k++) {
        if (d->map->keys[k][0] == '\0') {
            rc = sl_err_set(err, SL_ECONFIG, "derive: empty column name");
            ex_err_in_spec(err, d->spec_file,
                           d->map->lines ? d->map->lines[k] : 0, 0, NULL);
            goto out;
        }
        if ((rc = sl_expr_parse(d->map->values[k], &d->e[k], err)) !=
            SL_OK) {
            entry_err(d, k, err);
            goto out;
        }
    }
    *inst = d;
    d = NULL;
out:
    derive_destroy(d);
    return rc;
}

static sl_rc derive_open(void *p, const sl_schema *in, sl_schema **out,
                         sl_err *err)
{
    derive_inst *d = p;
    sl_rc rc = SL_OK;
    *out = NULL;
    sl_schema *s = sl_schema_copy(in);
    if (!s)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    for (int k = 0; k < d->map->n; k++) {
        sl_type t;
        if ((rc = sl_expr_bind(d->e[k], s, &t, err)) != SL_OK) {
            entry_err(d, k, err);
            goto out;
        }
        d->nullable[k] = sl_expr_nullable(d->e[k]);
        int idx = sl_schema_find(s, d->map->keys[k]);
        if (idx >= 0) {
            s->fields[idx].type = t;
            s->fields[idx].nullable = d->nullable[k];
        } else if ((rc = sl_schema_add(s, d->map->keys[k], t,
                                       d->nullable[k], err)) != SL_OK) {
            entry_err(d, k, err);
            goto out;
        }
    }
    *out = s;
    s = NULL;
out:
    sl_schema_free(s);
    return rc;
}

static sl_rc derive_process(void *p, sl_batch *in, sl_batch **out,
                            sl_err *err)
{
    derive_inst *d = p;
    sl_batch *b = in;
    sl_rc rc = SL_OK;
    *out = NULL;
    if (in->refcount > 1) {
        /* Shared: build our own batch over the same columns. */
        int *idx = sl_malloc(((size_t)in->schema->n + 1) * sizeof *idx);
        if (!idx) {
            sl_batch_unref(in);
            return sl_err_set(err, SL_ENOMEM, "out of memory");
        }
        for (int i = 0; i < in->schema->n; i++)
            idx[i] = i;
        rc = sl_batch_project(in, idx, in->schema->n, &b);
        sl_free(idx);
        sl_batch_unref(in);
        if (rc != SL_OK)
            return sl_err_set(err, rc, "derive: %s", sl_rc_str(rc));
    }
    for (int k = 0; k < d->map->n; k++) {
        sl_column *c = NULL;
        const char *name = d->map->keys[k];
        if ((rc = sl_expr_eval(d->e[k], b, &c, err)) != SL_OK) {
            entry_err(d, k, err);
            goto out;
        }
        int idx = sl_batch_find(b, name);
        if (idx >= 0) {
            rc = sl_batch_set_column(b, idx, c);
            if (rc != SL_OK)
                sl_err_set(err, rc, "derive: column '%s': %s", name,
                           sl_rc_str(rc));
        } else {
            rc = sl_batch_add_column(b, name, c, err);
            idx = b->schema->n - 1;
        }
        if (rc != SL_OK)
            goto out;
        b->schema->fields[idx].nullable = d->nullable[k];
    }
    *out = b;
    b = NULL;
out:
    sl_batch_unref(b);
    return rc;
}

static const sl_config_entry derive_map[] = {
    {"columns", SL_CFG_STRMAP, NULL, SL_CFG_REQUIRED | SL_CFG_WHOLE, NULL,
     offsetof(derive_cfg, columns),
     "Mapping of `new_column: expression` (docs/design/expressions.md), "
     "computed in the order written; a later expression may use an earlier "
     "result. A name that already exists replaces that column in place. "
     "Written directly under the transform: "
     "`derive: {ratio: \"a / b\", month: \"month(date)\"}`."},
    {0}};

const sl_plugin sl_plugin_derive = {
    .abi_version = SL_PLUGIN_ABI_VERSION,
    .name = "derive",
    .kind = SL_PLUGIN_TRANSFORM,
    .summary = "Add or replace columns computed by expressions.",
    .example = "- derive: { temp_range: \"temp_max - temp_min\", "
               "month: \"month(date)\" }",
    .config_map = derive_map,
    .config_size = sizeof(derive_cfg),
    .init = derive_init,
    .open = derive_open,
    .process = derive_process,
    .destroy = derive_destroy,
};
