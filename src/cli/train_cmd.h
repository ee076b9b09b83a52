/*
 * train_cmd.h: `sluice train`, `sluice predict` (train_cmd.c) and
 * `sluice models` (models_cmd.c). Their options (--registry, --model,
 * --version) are fields of sl_cli_args.
 */
#ifndef SLUICE_CLI_TRAIN_CMD_H
#define SLUICE_CLI_TRAIN_CMD_H

#include "cli/cli.h"

/* sluice train SPEC [--registry DIR] */
int sl_cli_train(const sl_cli_args *a);
/* sluice run SPEC: trains when the spec has a model section, else the
 * plain pipeline run (sl_cli_run). */
int sl_cli_run_or_train(const sl_cli_args *a);
/* sluice predict --model DIR [--version N] INPUT OUTPUT */
int sl_cli_predict(const sl_cli_args *a);
/* sluice models list|show|diff ... [--registry DIR] */
int sl_cli_models(const sl_cli_args *a);

/* Default registry directory for --registry. */
#define SL_CLI_REGISTRY_DEFAULT "models/ml_models"

#endif
