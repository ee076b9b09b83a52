/* cli.h: shared between the sluice command's files. */
#ifndef SLUICE_CLI_H
#define SLUICE_CLI_H

#include "sluice/error.h"

#define SL_CLI_MAX_POS 8

typedef struct sl_cli_args {
    const char *pos[SL_CLI_MAX_POS]; /* pos[0] is the command */
    int npos;
    int quiet, progress, json;
    const char *on_error, *rejects, *schema, *transform;
    const char *registry, *model; /* --registry DIR, --model DIR (train_cmd.h) */
    int version;                  /* --version N (0 = not given) */
} sl_cli_args;

int sl_cli_run(const sl_cli_args *a);
int sl_cli_check(const sl_cli_args *a);
int sl_cli_apply(const sl_cli_args *a);
int sl_cli_convert(const sl_cli_args *a);
int sl_cli_docs(const sl_cli_args *a);
int sl_cli_inspect(const sl_cli_args *a);
int sl_cli_serve(int argc, char **argv); /* serve_cmd.c: parses its own options */

int sl_cli_exit_code(sl_rc rc);
int sl_cli_fail(sl_rc rc, const sl_err *err);
int sl_cli_usage(const char *fmt, const char *arg);

#endif
