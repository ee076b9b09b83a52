/*
 * filter.c: the `filter` transform: keep the rows for which a boolean
 * expression is true.
 *
 *   - filter: "age >= 18 and country = 'NL'"
 *
 * The expression is parsed in init (syntax errors point into the spec:
 * line of the expression, its column plus the offending character's), type
 * checked against the incoming schema in open (it must be bool), and
 * evaluated once per batch, vectorized. SQL semantics: a row whose
 * predicate is null is dropped like a false one. A batch where every row
 * passes is forwarded as is (no copy).
 */
#include <stddef.h>
#include <string.h>

#include "processing/expr_internal.h"
#include "sluice/expr.h"
#include "sluice/mem.h"
#include "sluice/plugin.h"

typedef struct filter_cfg {
    sl_cfg_expr expr;
} filter_cfg;

typedef struct filter_inst {
    sl_expr *e;
    char *spec_file; /* owned copy, may be NULL */
    int64_t line, col; /* where the expression text starts in the spec */
} filter_inst;

static void filter_destroy(void *p)
{
    filter_inst *f = p;
    if (!f)
        return;
    sl_expr_free(f->e);
    sl_free(f->spec_file);
    sl_free(f);
}

static sl_rc filter_init(void **inst, void *config, const sl_ctx *ctx,
                         sl_err *err)
{
    filter_cfg *cfg = config;
    sl_rc rc = SL_OK;
    *inst = NULL;
    filter_inst *f = sl_calloc(1, sizeof *f);
    if (!f)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    f->line = cfg->expr.line;
    f->col = cfg->expr.col;
    if (ctx && ctx->spec_file && !(f->spec_file = sl_strdup(ctx->spec_file))) {
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        goto out;
    }
    if (!cfg->expr.text) {
        rc = sl_err_set(err, SL_ECONFIG, "filter: missing expression");
        goto out;
    }
    if ((rc = sl_expr_parse(cfg->expr.text, &f->e, err)) != SL_OK) {
        ex_err_in_spec(err, f->spec_file, f->line, f->col, "filter");
        goto out;
    }
    *inst = f;
    f = NULL;
out:
    filter_destroy(f);
    return rc;
}

static sl_rc filter_open(void *p, const sl_schema *in, sl_schema **out,
                         sl_err *err)
{
    filter_inst *f = p;
    sl_type t;
    *out = NULL;
    sl_rc rc = sl_expr_bind(f->e, in, &t, err);
    if (rc == SL_OK && t != SL_BOOL) {
        rc = sl_err_setloc(err, SL_ESCHEMA, NULL, 0, 1,
                           "the expression must be a condition (bool), "
                           "but it is %s",
                           sl_type_name(t));
    }
    if (rc != SL_OK) {
        ex_err_in_spec(err, f->spec_file, f->line, f->col, "filter");
        return rc;
    }
    if (!(*out = sl_schema_copy(in)))
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    return SL_OK;
}

static sl_rc filter_process(void *p, sl_batch *in, sl_batch **out,
                            sl_err *err)
{
    filter_inst *f = p;
    sl_column *c = NULL;
    uint8_t *keep = NULL;
    sl_rc rc;
    *out = NULL;
    if ((rc = sl_expr_eval(f->e, in, &c, err)) != SL_OK) {
        ex_err_in_spec(err, f->spec_file, f->line, f->col, "filter");
        goto out;
    }
    /* A value bit is set exactly for the valid true rows (null slots hold
     * zero), so the bitmap alone says which rows pass. */
    int64_t n = in->nrows, kept = 0;
    const uint8_t *bits = c->values;
    for (int64_t k = 0; k < n / 8; k++)
        kept += __builtin_popcount(bits[k]);
    if (n % 8)
        kept += __builtin_popcount(bits[n / 8] & ((1u << (n % 8)) - 1));
    if (kept == n) {
        *out = sl_batch_ref(in);
        goto out;
    }
    if (!(keep = sl_malloc((size_t)n + 1))) {
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        goto out;
    }
    for (int64_t i = 0; i < n; i++)
        keep[i] = (uint8_t)sl_bit_get(bits, i);
    if ((rc = sl_batch_filter(in, keep, out)) != SL_OK)
        sl_err_set(err, rc, "filter: %s", sl_rc_str(rc));
out:
    sl_free(keep);
    sl_column_unref(c);
    sl_batch_unref(in);
    return rc;
}

static const sl_config_entry filter_map[] = {
    {"expr", SL_CFG_EXPR, NULL, SL_CFG_REQUIRED | SL_CFG_SHORTHAND, NULL,
     offsetof(filter_cfg, expr),
     "Condition a row must meet to be kept, in the expression language "
     "(docs/design/expressions.md), e.g. `age >= 18 and country = 'NL'`. "
     "Rows where it is false or null are dropped. Shorthand: "
     "`filter: \"age >= 18\"`."},
    {0}};

const sl_plugin sl_plugin_filter = {
    .abi_version = SL_PLUGIN_ABI_VERSION,
    .name = "filter",
    .kind = SL_PLUGIN_TRANSFORM,
    .summary = "Keep the rows for which a condition is true.",
    .example = "- filter: \"precipitation >= 0 and weather is not null\"",
    .config_map = filter_map,
    .config_size = sizeof(filter_cfg),
    .init = filter_init,
    .open = filter_open,
    .process = filter_process,
    .destroy = filter_destroy,
};
