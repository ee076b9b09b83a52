/*
 * commands.c: the sluice subcommands. Each one turns parsed arguments into
 * one library call and prints a one-line summary on stdout.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include <jansson.h>

#include "sluice/mem.h"
#include "sluice/avro.h"
#include "sluice/parquet.h"
#include "sluice/pipeline.h"
#include "sluice/spec.h"
#include "sluice/train.h"

static sl_rc load_spec(const char *path, sl_spec **spec, sl_pipeline_def *def,
                       sl_err *err)
{
    sl_rc rc = sl_spec_load(path, spec, err);
    if (rc != SL_OK)
        return rc;
    rc = sl_pipeline_def_from_spec(*spec, def, err);
    if (rc != SL_OK) {
        sl_spec_free(*spec);
        *spec = NULL;
    }
    return rc;
}

static void print_rejects(const sl_run_summary *sum)
{
    if (sum->rows_rejected == 0)
        return;
    printf(", %" PRId64 " rejected", sum->rows_rejected);
    if (sum->rejects_path[0])
        printf(" (%s)", sum->rejects_path);
}

int sl_cli_run(const sl_cli_args *a)
{
    if (a->npos != 2)
        return sl_cli_usage("run: expected one spec file, e.g. 'sluice run %s'",
                            "pipeline.yaml");
    sl_err err;
    sl_err_clear(&err);
    sl_spec *spec = NULL;
    sl_pipeline_def def;
    sl_rc rc = load_spec(a->pos[1], &spec, &def, &err);
    if (rc != SL_OK)
        return sl_cli_fail(rc, &err);
    sl_run_options opt = {.quiet = a->quiet, .progress = a->progress};
    sl_run_summary sum;
    rc = sl_pipeline_run(&def, &opt, &sum, &err);
    if (rc == SL_OK && !a->quiet) {
        printf("%s: %" PRId64 " rows read", spec->name, sum.rows_read);
        print_rejects(&sum);
        if (sum.test_path[0])
            printf(" -> train %" PRId64 " rows (%s), test %" PRId64 " rows (%s)",
                   sum.rows_train, sum.out_path, sum.rows_test, sum.test_path);
        else if (sum.out_path[0])
            printf(" -> %" PRId64 " rows (%s)", sum.rows_out, sum.out_path);
        else
            printf(" -> %" PRId64 " rows (no sink)", sum.rows_out);
        if (sum.transform_path[0])
            printf(", transform %s", sum.transform_path);
        printf(" [%d passes, %.2f s]\n", sum.passes, sum.seconds);
    }
    sl_pipeline_def_clear(&def);
    sl_spec_free(spec);
    return rc == SL_OK ? 0 : sl_cli_fail(rc, &err);
}

int sl_cli_check(const sl_cli_args *a)
{
    if (a->npos != 2)
        return sl_cli_usage("check: expected one spec file, e.g. 'sluice check %s'",
                            "pipeline.yaml");
    sl_err err;
    sl_err_clear(&err);
    sl_spec *spec = NULL;
    sl_pipeline_def def;
    sl_rc rc = load_spec(a->pos[1], &spec, &def, &err);
    if (rc != SL_OK)
        return sl_cli_fail(rc, &err);
    int checked = 0;
    rc = sl_pipeline_check(&def, &checked, &err);
    if (rc == SL_OK && !a->quiet)
        printf("%s: ok (%d transforms, %d type-checked against the source schema)\n",
               spec->file, spec->ntransforms, checked);
    sl_pipeline_def_clear(&def);
    sl_spec_free(spec);
    return rc == SL_OK ? 0 : sl_cli_fail(rc, &err);
}

static int file_job_done(const sl_cli_args *a, sl_rc rc, const sl_err *err,
                         const sl_run_summary *sum)
{
    if (rc != SL_OK)
        return sl_cli_fail(rc, err);
    if (!a->quiet) {
        printf("%" PRId64 " rows read", sum->rows_read);
        print_rejects(sum);
        printf(" -> %" PRId64 " rows (%s) [%.2f s]\n", sum->rows_out, sum->out_path,
               sum->seconds);
    }
    return 0;
}

int sl_cli_apply(const sl_cli_args *a)
{
    /* sluice apply TRANSFORM IN OUT, or sluice apply --transform T IN OUT */
    const char *t = a->transform, *in, *out;
    if (t && a->npos == 3) {
        in = a->pos[1];
        out = a->pos[2];
    } else if (!t && a->npos == 4) {
        t = a->pos[1];
        in = a->pos[2];
        out = a->pos[3];
    } else {
        return sl_cli_usage("apply: expected %s", "TRANSFORM.json INPUT OUTPUT");
    }
    sl_err err;
    sl_err_clear(&err);
    sl_run_options opt = {.quiet = a->quiet, .progress = a->progress};
    sl_run_summary sum;
    sl_rc rc = sl_pipeline_apply(t, in, out, a->on_error, a->rejects, &opt, &sum, &err);
    return file_job_done(a, rc, &err, &sum);
}

int sl_cli_convert(const sl_cli_args *a)
{
    if (a->npos != 3)
        return sl_cli_usage("convert: expected %s", "INPUT OUTPUT (e.g. in.csv out.jsonl)");
    sl_err err;
    sl_err_clear(&err);
    sl_run_options opt = {.quiet = a->quiet, .progress = a->progress};
    sl_run_summary sum;
    sl_rc rc = sl_pipeline_convert(a->pos[1], a->pos[2], a->schema, a->on_error,
                                   a->rejects, &opt, &sum, &err);
    return file_job_done(a, rc, &err, &sum);
}

int sl_cli_docs(const sl_cli_args *a)
{
    if (a->npos != 2 || strcmp(a->pos[1], "spec") != 0)
        return sl_cli_usage("docs: expected '%s'", "sluice docs spec");
    sl_spec_docs_md(stdout);
    return 0;
}

int sl_cli_inspect(const sl_cli_args *a)
{
    if (a->npos != 2)
        return sl_cli_usage("inspect: expected %s", "FILE.parquet|FILE.avro [--json]");
    const char *path = a->pos[1];
    const char *fmt = sl_format_for_path(path);
    int avro = fmt && strcmp(fmt, "avro") == 0;
    if (fmt && !avro && strcmp(fmt, "parquet") != 0)
        return sl_cli_usage("inspect: '%s' is not a Parquet or Avro file (CSV and "
                            "JSON Lines have no metadata to show)", path);
    sl_err err;
    sl_err_clear(&err);
    sl_rc rc;
    if (a->json) {
        json_t *j = NULL;
        rc = avro ? sl_avro_inspect_json(path, &j, &err) : sl_parquet_inspect_json(path, &j, &err);
        if (rc == SL_OK) {
            json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
            fputc('\n', stdout);
        }
        json_decref(j);
    } else {
        rc = avro ? sl_avro_inspect_print(path, stdout, &err)
                  : sl_parquet_inspect_print(path, stdout, &err);
    }
    return rc == SL_OK ? 0 : sl_cli_fail(rc, &err);
}
