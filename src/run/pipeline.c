/*
 * pipeline.c: the batch runner (see pipeline.h for the pass structure).
 *
 * An `inst` is one live plugin instance with the context it was given;
 * sources are re-created for every pass from the same config, so each
 * pass sees exactly the same rows in the same order (the split relies on
 * it). Transforms are created once and move through
 * init -> [analyze -> analyze_end | state_load] -> open -> process.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run/internal.h"
#include "run/prefetch.h"
#include "sluice/log.h"
#include "sluice/mem.h"
#include "sluice/progress.h"
#include "sluice/split.h"

/* ---- instances ---- */

/* A plugin failing in init (or a transform in open) rejects its settings
 * or expressions, not the data: that is an invalid spec (exit 3), however
 * the plugin classified it. Adds the plugin's name unless it is there. */
static sl_rc blame_spec(sl_inst *in, sl_rc rc, sl_err *err)
{
    if (rc == SL_EPARSE || rc == SL_ESCHEMA || rc == SL_ENOTFOUND || rc == SL_EINVAL)
        rc = SL_ECONFIG;
    if (err) {
        err->code = rc;
        char needle[96];
        snprintf(needle, sizeof needle, "%s", in->p->name);
        if (!strstr(err->msg, needle))
            sl_err_prefix(err, "%s '%s'", sl_plugin_kind_name(in->p->kind), in->p->name);
    }
    return rc;
}

sl_rc sl_inst_init(sl_inst *in, const sl_plugin *p, void *config,
                   const sl_node *node, const sl_ctx *ctx, sl_err *err)
{
    memset(in, 0, sizeof *in);
    in->p = p;
    in->config = config;
    in->node = node;
    if (ctx)
        in->ctx = *ctx;
    if (!p->init)
        return SL_OK;
    sl_rc rc = p->init(&in->h, config, &in->ctx, err);
    if (rc != SL_OK)
        rc = blame_spec(in, rc, err);
    return rc;
}

sl_rc sl_inst_open(sl_inst *in, const sl_schema *schema, sl_err *err)
{
    sl_rc rc = SL_OK;
    if (in->p->open)
        rc = in->p->open(in->h, schema, in->p->kind == SL_PLUGIN_SINK ? NULL : &in->out, err);
    else if (schema && in->p->kind != SL_PLUGIN_SINK && !(in->out = sl_schema_copy(schema)))
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
    if (rc == SL_OK)
        in->opened = 1;
    else if (in->p->kind == SL_PLUGIN_TRANSFORM)
        rc = blame_spec(in, rc, err);
    else if (err && !strstr(err->msg, in->p->name))
        sl_err_prefix(err, "%s '%s'", sl_plugin_kind_name(in->p->kind), in->p->name);
    return rc;
}

sl_rc sl_inst_close(sl_inst *in, sl_err *err)
{
    sl_rc rc = SL_OK;
    if (in->h && in->opened && in->p->close)
        rc = in->p->close(in->h, err);
    in->opened = 0;
    return rc;
}

void sl_inst_destroy(sl_inst *in)
{
    if (in->h && in->p->destroy)
        in->p->destroy(in->h);
    in->h = NULL;
    sl_schema_free(in->out);
    in->out = NULL;
}

/* Push one batch through transforms [0, n); consumes *b, sets *b to the
 * result (NULL on error). */
sl_rc sl_chain_apply(sl_inst *t, int n, sl_batch **b, sl_err *err)
{
    for (int i = 0; i < n; i++) {
        sl_batch *out = NULL;
        sl_rc rc = t[i].p->process(t[i].h, *b, &out, err);
        *b = out;
        if (rc != SL_OK) {
            sl_batch_unref(out);
            *b = NULL;
            return rc;
        }
    }
    return SL_OK;
}

/* ---- paths ---- */

static int has_ext(const char *path, const char *ext)
{
    size_t n = strlen(path), e = strlen(ext);
    return n > e && strcasecmp(path + n - e, ext) == 0;
}

const char *sl_format_for_path(const char *path)
{
    if (has_ext(path, ".csv") || has_ext(path, ".tsv") || has_ext(path, ".txt"))
        return "csv";
    if (has_ext(path, ".jsonl") || has_ext(path, ".ndjson") || has_ext(path, ".json"))
        return "jsonl";
    if (has_ext(path, ".parquet") || has_ext(path, ".pq"))
        return "parquet";
    if (has_ext(path, ".avro"))
        return "avro";
    return NULL;
}

static const char *ext_for_format(const char *name)
{
    return strcmp(name, "jsonl") == 0     ? ".jsonl"
           : strcmp(name, "csv") == 0     ? ".csv"
           : strcmp(name, "parquet") == 0 ? ".parquet"
           : strcmp(name, "avro") == 0    ? ".avro"
                                          : ".out";
}

static void dirname_of(const char *path, char *out, size_t n)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(out, n, ".");
    else if (slash == path)
        snprintf(out, n, "/");
    else
        snprintf(out, n, "%.*s", (int)(slash - path), path);
}

/* Output layout (pipeline.h): sink.path is a directory unless it names a
 * file by its extension. */
typedef struct out_plan {
    char dir[SL_PATH_MAX];
    char data[SL_PATH_MAX], test[SL_PATH_MAX];
    char transform[SL_PATH_MAX], rejects[SL_PATH_MAX];
} out_plan;

static sl_rc plan_outputs(const sl_pipeline_def *def, out_plan *op, sl_err *err)
{
    memset(op, 0, sizeof *op);
    const sl_node *pn = def->sink.node ? sl_node_get(def->sink.node, "path") : NULL;
    const char *path = pn && pn->kind == SL_NODE_SCALAR ? pn->value : NULL;
    if (!def->sink.plugin || !path) {
        snprintf(op->dir, sizeof op->dir, ".");
        snprintf(op->rejects, sizeof op->rejects, "rejects.jsonl");
    } else if (sl_format_for_path(path)) {
        if (def->has_split)
            return sl_err_setloc(err, SL_ECONFIG, def->spec_file, pn->line, pn->col,
                                 "sink path '%s' names a file, but the spec has a "
                                 "split: give a directory (train and test files "
                                 "are written into it)", path);
        dirname_of(path, op->dir, sizeof op->dir);
        snprintf(op->data, sizeof op->data, "%s", path);
        snprintf(op->transform, sizeof op->transform, "%s/transform.json", op->dir);
        snprintf(op->rejects, sizeof op->rejects, "%s/rejects.jsonl", op->dir);
    } else {
        const char *ext = ext_for_format(def->sink.plugin->name);
        size_t n = strlen(path);
        snprintf(op->dir, sizeof op->dir, "%.*s", (int)(n > 1 && path[n - 1] == '/' ? n - 1 : n), path);
        if (def->has_split) {
            snprintf(op->data, sizeof op->data, "%s/train%s", op->dir, ext);
            snprintf(op->test, sizeof op->test, "%s/test%s", op->dir, ext);
        } else {
            snprintf(op->data, sizeof op->data, "%s/data%s", op->dir, ext);
        }
        snprintf(op->transform, sizeof op->transform, "%s/transform.json", op->dir);
        snprintf(op->rejects, sizeof op->rejects, "%s/rejects.jsonl", op->dir);
    }
    if (def->transform_output)
        snprintf(op->transform, sizeof op->transform, "%s", def->transform_output);
    return SL_OK;
}

/* ---- the run ---- */

typedef struct run {
    const sl_pipeline_def *def;
    const sl_run_options *opt;
    sl_schema *hint;
    out_plan op;
    sl_inst *t;     /* transforms */
    int nt;
    sl_split *split;
    sl_inst src;    /* current pass's source */
    sl_prefetch *pf; /* its reader thread */
    int64_t rows, bytes, rejected;
} run;

static sl_rc source_begin(run *r, sl_err *err)
{
    sl_ctx ctx = {.spec_file = r->def->spec_file, .schema_hint = r->hint,
                  .rejects_path = r->op.rejects, .quiet = r->opt->quiet};
    sl_rc rc = sl_inst_init(&r->src, r->def->source.plugin, r->def->source.config,
                            r->def->source.node, &ctx, err);
    if (rc == SL_OK)
        rc = sl_inst_open(&r->src, NULL, err);
    r->rows = r->bytes = 0;
    return rc;
}

/* Start reading ahead on a second thread (after source_begin). */
static sl_rc source_prefetch(run *r, sl_err *err)
{
    return sl_prefetch_start(&r->pf, r->src.p, r->src.h, 2, err);
}

static void source_end(run *r)
{
    sl_err ignored;
    sl_err_clear(&ignored);
    sl_prefetch_stop(r->pf);
    r->pf = NULL;
    if (r->src.h && r->src.p->rejected)
        r->rejected = r->src.p->rejected(r->src.h);
    sl_inst_close(&r->src, &ignored);
    sl_inst_destroy(&r->src);
}

/* Next batch of the current pass; *b == NULL at the end. */
static sl_rc source_next(run *r, sl_progress *pg, sl_batch **b, sl_err *err)
{
    int64_t done = 0, total = -1;
    sl_rc rc;
    *b = NULL;
    if (r->pf) {
        rc = sl_prefetch_next(r->pf, b, &done, &total, err);
    } else {
        rc = r->src.p->next(r->src.h, b, err);
        if (rc == SL_OK && r->src.p->progress)
            r->src.p->progress(r->src.h, &done, &total);
    }
    if (rc == SL_EEOF) {
        *b = NULL;
        return SL_OK;
    }
    if (rc != SL_OK)
        return rc;
    r->rows += (*b)->nrows;
    r->bytes = done;
    sl_progress_update(pg, r->rows, done);
    return SL_OK;
}

static int64_t source_total_bytes(run *r)
{
    int64_t done = 0, total = -1;
    if (r->src.h && r->src.p->progress)
        r->src.p->progress(r->src.h, &done, &total);
    return total;
}

/* Split mask for b: 1 = test. Returns NULL mask without a split. */
static sl_rc split_batch(run *r, sl_batch *b, sl_batch **train, sl_batch **test,
                         sl_err *err)
{
    *train = *test = NULL;
    if (!r->split) {
        *train = b;
        return SL_OK;
    }
    sl_rc rc = SL_OK;
    uint8_t *mask = sl_malloc((size_t)(b->nrows ? b->nrows : 1));
    uint8_t *inv = sl_malloc((size_t)(b->nrows ? b->nrows : 1));
    if (!mask || !inv) {
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        goto out;
    }
    rc = sl_split_assign(r->split, b, mask, err);
    if (rc != SL_OK)
        goto out;
    for (int64_t i = 0; i < b->nrows; i++)
        inv[i] = !mask[i];
    if ((rc = sl_batch_filter(b, inv, train)) != SL_OK ||
        (rc = sl_batch_filter(b, mask, test)) != SL_OK)
        sl_err_set(err, rc, "out of memory");
out:
    sl_free(mask);
    sl_free(inv);
    sl_batch_unref(b);
    if (rc != SL_OK) {
        sl_batch_unref(*train);
        sl_batch_unref(*test);
        *train = *test = NULL;
    }
    return rc;
}

static sl_rc count_pass(run *r, sl_err *err)
{
    sl_progress pg;
    sl_rc rc = source_begin(r, err);
    if (rc != SL_OK)
        goto out;
    sl_progress_begin(&pg, r->opt->progress, "count rows", source_total_bytes(r));
    if ((rc = source_prefetch(r, err)) != SL_OK)
        goto out;
    for (;;) {
        sl_batch *b;
        if ((rc = source_next(r, &pg, &b, err)) != SL_OK || !b)
            break;
        rc = sl_split_count(r->split, b, err);
        sl_batch_unref(b);
        if (rc != SL_OK)
            break;
    }
    sl_progress_end(&pg);
    if (rc == SL_OK)
        rc = sl_split_plan(r->split, err);
out:
    source_end(r);
    return rc;
}

/* Fit transform k on the training rows, as seen through transforms < k. */
static sl_rc analyze_pass(run *r, int k, sl_err *err)
{
    sl_progress pg;
    char label[64];
    snprintf(label, sizeof label, "analyze %s", r->t[k].p->name);
    sl_rc rc = source_begin(r, err);
    if (rc != SL_OK)
        goto out;
    if (r->split)
        sl_split_reset(r->split);
    sl_progress_begin(&pg, r->opt->progress, label, source_total_bytes(r));
    if ((rc = source_prefetch(r, err)) != SL_OK)
        goto out;
    for (;;) {
        sl_batch *b, *train, *test;
        if ((rc = source_next(r, &pg, &b, err)) != SL_OK || !b)
            break;
        if ((rc = split_batch(r, b, &train, &test, err)) != SL_OK)
            break;
        sl_batch_unref(test);
        if ((rc = sl_chain_apply(r->t, k, &train, err)) == SL_OK)
            rc = r->t[k].p->analyze(r->t[k].h, train, err);
        sl_batch_unref(train);
        if (rc != SL_OK)
            break;
    }
    sl_progress_end(&pg);
    if (rc == SL_OK && r->t[k].p->analyze_end)
        rc = r->t[k].p->analyze_end(r->t[k].h, err);
    if (rc != SL_OK && err && !strstr(err->msg, r->t[k].p->name))
        sl_err_prefix(err, "transform '%s'", r->t[k].p->name);
out:
    source_end(r);
    return rc;
}

static sl_rc open_sink(run *r, sl_inst *s, const char *path, const sl_schema *schema,
                       sl_err *err)
{
    sl_ctx ctx = {.spec_file = r->def->spec_file, .sink_path = path,
                  .quiet = r->opt->quiet};
    sl_rc rc = sl_inst_init(s, r->def->sink.plugin, r->def->sink.config,
                            r->def->sink.node, &ctx, err);
    if (rc == SL_OK)
        rc = sl_inst_open(s, schema, err);
    return rc;
}

static sl_rc write_pass(run *r, const sl_schema *out_schema, sl_run_summary *sum,
                        sl_err *err)
{
    sl_progress pg;
    sl_inst sinks[2];
    int nsinks = 0;
    sl_rc rc = SL_OK;
    memset(sinks, 0, sizeof sinks);
    if (r->def->sink.plugin) {
        if ((rc = sl_mkdirs(r->op.dir, err)) != SL_OK)
            goto out;
        if ((rc = open_sink(r, &sinks[0], r->op.data, out_schema, err)) != SL_OK)
            goto out;
        nsinks = 1;
        if (r->split) {
            if ((rc = open_sink(r, &sinks[1], r->op.test, out_schema, err)) != SL_OK)
                goto out;
            nsinks = 2;
        }
    }
    const sl_run_hooks *hk = r->opt->hooks;
    if (hk && hk->begin && (rc = hk->begin(hk->ud, out_schema, err)) != SL_OK)
        goto out;
    if ((rc = source_begin(r, err)) != SL_OK) {
        source_end(r); /* a half-opened source holds its reader */
        goto out;
    }
    if (r->split)
        sl_split_reset(r->split);
    sl_progress_begin(&pg, r->opt->progress, r->def->sink.plugin ? "write" : "run",
                      source_total_bytes(r));
    if ((rc = source_prefetch(r, err)) != SL_OK) {
        source_end(r);
        goto out;
    }
    for (;;) {
        sl_batch *b, *part[2];
        if ((rc = source_next(r, &pg, &b, err)) != SL_OK || !b)
            break;
        if ((rc = split_batch(r, b, &part[0], &part[1], err)) != SL_OK)
            break;
        for (int i = 0; i < 2; i++) {
            if (!part[i])
                continue;
            if (rc == SL_OK)
                rc = sl_chain_apply(r->t, r->nt, &part[i], err);
            if (rc == SL_OK) {
                *(i ? &sum->rows_test : &sum->rows_train) += part[i]->nrows;
                if (i < nsinks && sinks[i].p->write)
                    rc = sinks[i].p->write(sinks[i].h, part[i], err);
                if (rc == SL_OK && hk && hk->batch)
                    rc = hk->batch(hk->ud, i, part[i], err);
            }
            sl_batch_unref(part[i]);
        }
        if (rc != SL_OK)
            break;
    }
    sl_progress_end(&pg);
    sum->rows_read = r->rows;
    sum->bytes_read = r->bytes;
    source_end(r);
out:
    for (int i = 0; i < 2; i++) {
        if (!sinks[i].p)
            continue;
        if (rc == SL_OK && sinks[i].p->flush)
            rc = sinks[i].p->flush(sinks[i].h, err);
        /* close commits the output (rename); after a failure we only
         * destroy, which discards it: no half-written file under the
         * final name. A failed second commit cannot undo the first. */
        if (rc == SL_OK)
            rc = sl_inst_close(&sinks[i], err);
        sl_inst_destroy(&sinks[i]);
    }
    return rc;
}

/* transform.json: to its file when the outputs have one, and to the
 * transform hook when there is one. */
static sl_rc save_transform(run *r, const sl_schema *in, const sl_schema *out,
                            const sl_run_hooks *hk, sl_run_summary *sum, sl_err *err)
{
    char *text = NULL;
    size_t len = 0;
    sl_rc rc = SL_OK;
    if (!r->op.transform[0] && !hk)
        return SL_OK;
    if ((rc = sl_transform_file_text(r->def->name, in, out, r->t, r->nt, &text, &len,
                                     err)) != SL_OK)
        return rc;
    if (r->op.transform[0] && (rc = sl_mkdirs(r->op.dir, err)) == SL_OK &&
        (rc = sl_write_file_atomic(r->op.transform, text, len, err)) == SL_OK)
        snprintf(sum->transform_path, sizeof sum->transform_path, "%s", r->op.transform);
    if (rc == SL_OK && hk)
        rc = hk->transform(hk->ud, text, len, err);
    sl_free(text);
    return rc;
}

sl_rc sl_pipeline_run(const sl_pipeline_def *def, const sl_run_options *opt,
                      sl_run_summary *sum, sl_err *err)
{
    run r;
    sl_rc rc = SL_OK;
    double t0 = sl_now();
    const sl_schema *cur = NULL;
    memset(&r, 0, sizeof r);
    memset(sum, 0, sizeof *sum);
    r.def = def;
    r.opt = opt;
    if ((rc = plan_outputs(def, &r.op, err)) != SL_OK)
        goto out;
    if (def->schema_path && (rc = sl_schema_load_json(def->schema_path, &r.hint, err)) != SL_OK)
        goto out;
    if (def->has_split &&
        (rc = sl_split_new(def->split_test, def->split_seed, def->split_stratify,
                           &r.split, err)) != SL_OK)
        goto out;
    r.t = sl_calloc((size_t)(def->ntransforms ? def->ntransforms : 1), sizeof *r.t);
    if (!r.t) {
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        goto out;
    }
    sl_ctx tctx = {.spec_file = def->spec_file, .quiet = opt->quiet};
    for (; r.nt < def->ntransforms; r.nt++) {
        const sl_step_def *s = &def->transforms[r.nt];
        if ((rc = sl_inst_init(&r.t[r.nt], s->plugin, s->config, s->node, &tctx, err)) != SL_OK) {
            r.nt++;
            goto out;
        }
    }
    if (r.split) {
        if ((rc = count_pass(&r, err)) != SL_OK)
            goto out;
        sum->passes++;
    }
    /* The source schema, without reading data twice when possible. */
    if ((rc = source_begin(&r, err)) != SL_OK) {
        source_end(&r);
        goto out;
    }
    sl_schema *src_schema = r.src.out ? sl_schema_copy(r.src.out) : NULL;
    source_end(&r);
    if (!src_schema) {
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        goto out;
    }
    r.src.out = NULL;
    cur = src_schema;
    for (int k = 0; k < r.nt; k++) {
        if (r.t[k].p->analyze) {
            if ((rc = analyze_pass(&r, k, err)) != SL_OK)
                break;
            sum->passes++;
        }
        if ((rc = sl_inst_open(&r.t[k], cur, err)) != SL_OK)
            break;
        cur = r.t[k].out;
    }
    if (rc == SL_OK) {
        rc = write_pass(&r, cur, sum, err);
        sum->passes++;
    }
    if (rc == SL_OK) {
        const sl_run_hooks *hk = opt->hooks;
        rc = save_transform(&r, src_schema, cur, hk && hk->transform ? hk : NULL, sum, err);
    }
    sl_schema_free(src_schema);
    sum->rows_rejected = r.rejected;
    sum->rows_out = sum->rows_train + sum->rows_test;
    snprintf(sum->out_path, sizeof sum->out_path, "%s", r.op.data);
    snprintf(sum->test_path, sizeof sum->test_path, "%s", r.op.test);
    if (r.rejected > 0 && access(r.op.rejects, F_OK) == 0)
        snprintf(sum->rejects_path, sizeof sum->rejects_path, "%s", r.op.rejects);
out:
    for (int k = 0; k < r.nt; k++) {
        sl_err ignored;
        sl_err_clear(&ignored);
        sl_inst_close(&r.t[k], &ignored);
        sl_inst_destroy(&r.t[k]);
    }
    sl_free(r.t);
    sl_split_free(r.split);
    sl_schema_free(r.hint);
    sum->seconds = sl_now() - t0;
    return rc;
}

sl_rc sl_pipeline_check(const sl_pipeline_def *def, int *checked, sl_err *err)
{
    run r;
    sl_rc rc = SL_OK;
    memset(&r, 0, sizeof r);
    sl_run_options opt = {.quiet = 1};
    r.def = def;
    r.opt = &opt;
    *checked = 0;
    if ((rc = plan_outputs(def, &r.op, err)) != SL_OK)
        return rc;
    if (def->schema_path && (rc = sl_schema_load_json(def->schema_path, &r.hint, err)) != SL_OK)
        return rc;
    r.t = sl_calloc((size_t)(def->ntransforms ? def->ntransforms : 1), sizeof *r.t);
    if (!r.t) {
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        goto out;
    }
    sl_ctx tctx = {.spec_file = def->spec_file, .quiet = 1};
    for (; r.nt < def->ntransforms; r.nt++) {
        const sl_step_def *s = &def->transforms[r.nt];
        if ((rc = sl_inst_init(&r.t[r.nt], s->plugin, s->config, s->node, &tctx, err)) != SL_OK) {
            r.nt++;
            goto out;
        }
    }
    /* Without the input file only the spec itself can be checked. */
    const sl_node *pn = sl_node_get(def->source.node, "path");
    if (!pn || pn->kind != SL_NODE_SCALAR || access(pn->value, R_OK) != 0)
        goto out;
    if ((rc = source_begin(&r, err)) != SL_OK) {
        source_end(&r);
        goto out;
    }
    const sl_schema *cur = r.src.out;
    for (int k = 0; k < r.nt && rc == SL_OK; k++) {
        if (r.t[k].p->analyze)
            break; /* needs fitted state to know its output schema */
        if ((rc = sl_inst_open(&r.t[k], cur, err)) == SL_OK) {
            cur = r.t[k].out;
            (*checked)++;
        }
    }
    source_end(&r);
out:
    for (int k = 0; k < r.nt; k++) {
        sl_err ignored;
        sl_err_clear(&ignored);
        sl_inst_close(&r.t[k], &ignored);
        sl_inst_destroy(&r.t[k]);
    }
    sl_free(r.t);
    sl_schema_free(r.hint);
    return rc;
}
