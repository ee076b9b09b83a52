/*
 * stream_cmd.h: `sluice run SPEC --stream` and `sluice broker --dev`
 * (stream_cmd.c). Their options live in their own struct, parsed by
 * sl_cli_stream_option, so main.c only has to call it in its option loop
 * and dispatch:
 *
 *     } else if ((k = sl_cli_stream_option(&so, argc, argv, &i)) != 0) {
 *         if (k < 0) return 2;              (usage error, already printed)
 *     } else if (s[0] == '-' ...)  unknown option
 *   ...
 *     if (!strcmp(cmd, "run") && so.stream) return sl_cli_stream(&a, &so);
 *     if (!strcmp(cmd, "broker")) return sl_cli_broker(&a, &so);
 */
#ifndef SLUICE_CLI_STREAM_CMD_H
#define SLUICE_CLI_STREAM_CMD_H

#include <stdint.h>

#include "cli/cli.h"

typedef struct sl_stream_cli {
    int stream;                 /* --stream */
    int dev;                    /* --dev (broker) */
    int port;                   /* --port N (broker; 0 = the mock's own) */
    int partitions;             /* --partitions N (broker; 0 = 4) */
    const char *bootstrap_file; /* --bootstrap-file F (broker) */
    int64_t max_records;        /* --max-records N */
    double max_seconds;         /* --max-seconds S */
    int64_t commit_ms;          /* --commit-ms N */
    const char *metrics_file;   /* --metrics-file F */
    int64_t metrics_ms;         /* --metrics-ms N */
    int metrics_port;           /* --metrics-port N (-1: N was 0, any free
                                   port; 0: not given) */
    const char *metrics_addr;   /* --metrics-addr HOST */
    int64_t max_memory_mb;      /* --max-memory MB */
} sl_stream_cli;

/* If argv[*i] is one of the options above, stores it (advancing *i over
 * its value) and returns 1; returns 0 when it is not one of them, -1 after
 * printing a usage error. */
int sl_cli_stream_option(sl_stream_cli *s, int argc, char **argv, int *i);

/* sluice run SPEC --stream [--transform T | --model M [--version N]]
 *   [--max-records N] [--max-memory MB]
 *   [--max-seconds S] [--commit-ms N] [--metrics-file F] [--metrics-ms N]
 *   [--metrics-port N [--metrics-addr HOST]] [--rejects F] */
int sl_cli_stream(const sl_cli_args *a, const sl_stream_cli *s);

/* sluice broker --dev [--port N] [--partitions N] [--bootstrap-file F]
 *   [TOPIC...]: runs until SIGINT/SIGTERM. */
int sl_cli_broker(const sl_cli_args *a, const sl_stream_cli *s);

/* Usage lines for the two commands and their options (for main.c's
 * usage text). */
extern const char sl_cli_stream_usage[];

#endif
