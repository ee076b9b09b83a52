/*
 * serve_cmd.c: `sluice serve`, the model server's command line. Parses
 * its own options (they differ from the batch commands'), installs the
 * SIGINT/SIGTERM handler that stops the server gracefully, and runs
 * sl_server_run (include/sluice/server.h) until then.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "sluice/log.h"
#include "sluice/plugin.h"
#include "sluice/server.h"

#define SERVE_MAX_MODELS 64

static const char serve_usage[] =
    "usage: sluice serve [options]\n"
    "\n"
    "Serve registry models over HTTP: POST /v1/models/<name>:predict,\n"
    "GET /v1/models/<name>, /healthz, /readyz, /metrics (docs/user-guides/serving.md).\n"
    "\n"
    "options:\n"
    "  --registry DIR              model registry (default models/ml_models)\n"
    "  --model NAME                serve this model (repeatable; default: every model)\n"
    "  --host ADDR                 listen address (default 127.0.0.1)\n"
    "  --port N                    listen port (default 8080; 0 = any free port)\n"
    "  --port-file PATH            write the bound port to PATH once listening\n"
    "  --threads N                 HTTP worker threads (default: CPU count)\n"
    "  --max-body-bytes N          larger request bodies get 413 (default 8388608)\n"
    "  --max-instances N           more instances per request get 413 (default 10000)\n"
    "  --unknown-features MODE     error (400, default) or ignore\n"
    "  --reload-interval SECONDS   how often to check the blessed pointer (default 2;\n"
    "                              0 = never reload)\n"
    "  --timeout SECONDS           close idle or slow connections (default 30)\n"
    "  --max-connections N         concurrent connections (default 1024)\n"
    "  --log-requests-sample F     fraction of requests logged, 0..1 (default 0)\n"
    "  --auth-token-file PATH      require 'Authorization: Bearer <token>' (not on\n"
    "                              /healthz, /readyz)\n"
    "  --tls-cert PATH --tls-key PATH   serve HTTPS (PEM files)\n"
    "  --log-level LEVEL           debug, info, warn, error, off (default info)\n"
    "  --log-format FORMAT         text or json (ECS field names); default: text on\n"
    "                              a terminal, json otherwise\n";

static int bad(const char *fmt, const char *arg)
{
    fputs("sluice serve: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\n\n", stderr);
    fputs(serve_usage, stderr);
    return 2;
}

static void on_signal(int sig)
{
    (void)sig;
    sl_server_request_stop();
}

static void write_port_file(void *arg, int port)
{
    const char *path = arg;
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        sl_log(SL_LOG_ERROR, "serve", "cannot write the port file %s", path);
        return;
    }
    fprintf(f, "%d\n", port);
    if (fclose(f) != 0 || rename(tmp, path) != 0)
        sl_log(SL_LOG_ERROR, "serve", "cannot write the port file %s", path);
}

/* Whole-string number parsers; -1 on failure. */
static int parse_ll(const char *s, long long lo, long long hi, long long *out)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int parse_d(const char *s, double lo, double hi, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (!*s || *end || !(v >= lo && v <= hi))
        return -1;
    *out = v;
    return 0;
}

int sl_cli_serve(int argc, char **argv)
{
    sl_server_options o;
    const char *models[SERVE_MAX_MODELS];
    const char *port_file = NULL;
    sl_log_level level = SL_LOG_INFO;
    /* A server's stderr usually goes to a log shipper: JSON unless a person
     * is watching. */
    sl_log_format fmt = isatty(STDERR_FILENO) ? SL_LOG_TEXT : SL_LOG_JSON;
    long long n;
    double d;
    sl_server_options_init(&o);
    o.models = models;
    /* argv[0] is "serve" */
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (!strcmp(s, "--help") || !strcmp(s, "-h")) {
            fputs(serve_usage, stdout);
            return 0;
        }
        if (strncmp(s, "--", 2) != 0)
            return bad("unexpected argument '%s' (models are chosen with --model)", s);
        if (i + 1 >= argc)
            return bad("option %s needs a value", s);
        const char *v = argv[++i];
        if (!strcmp(s, "--registry"))
            o.registry = v;
        else if (!strcmp(s, "--model")) {
            if (o.nmodels == SERVE_MAX_MODELS)
                return bad("too many --model options (at most 64)%s", "");
            models[o.nmodels++] = v;
        } else if (!strcmp(s, "--host"))
            o.host = v;
        else if (!strcmp(s, "--port")) {
            if (parse_ll(v, 0, 65535, &n) != 0)
                return bad("--port: expected 0..65535, got '%s'", v);
            o.port = (int)n;
        } else if (!strcmp(s, "--port-file"))
            port_file = v;
        else if (!strcmp(s, "--threads")) {
            if (parse_ll(v, 1, 1024, &n) != 0)
                return bad("--threads: expected 1..1024, got '%s'", v);
            o.threads = (int)n;
        } else if (!strcmp(s, "--max-body-bytes")) {
            if (parse_ll(v, 1, 1LL << 40, &n) != 0)
                return bad("--max-body-bytes: expected a positive number, got '%s'", v);
            o.max_body_bytes = (size_t)n;
        } else if (!strcmp(s, "--max-instances")) {
            if (parse_ll(v, 1, 1LL << 40, &n) != 0)
                return bad("--max-instances: expected a positive number, got '%s'", v);
            o.max_instances = (int64_t)n;
        } else if (!strcmp(s, "--unknown-features")) {
            if (strcmp(v, "error") && strcmp(v, "ignore"))
                return bad("--unknown-features: expected error or ignore, got '%s'", v);
            o.unknown_features_ignore = !strcmp(v, "ignore");
        } else if (!strcmp(s, "--reload-interval")) {
            if (parse_d(v, 0, 86400, &d) != 0)
                return bad("--reload-interval: expected seconds (0..86400), got '%s'", v);
            o.reload_interval = d == 0 ? -1 : d;
        } else if (!strcmp(s, "--timeout")) {
            if (parse_ll(v, 1, 86400, &n) != 0)
                return bad("--timeout: expected seconds (1..86400), got '%s'", v);
            o.timeout_seconds = (unsigned)n;
        } else if (!strcmp(s, "--max-connections")) {
            if (parse_ll(v, 1, 1000000, &n) != 0)
                return bad("--max-connections: expected 1..1000000, got '%s'", v);
            o.max_connections = (unsigned)n;
        } else if (!strcmp(s, "--log-requests-sample")) {
            if (parse_d(v, 0, 1, &d) != 0)
                return bad("--log-requests-sample: expected a fraction 0..1, got '%s'", v);
            o.log_requests_sample = d;
        } else if (!strcmp(s, "--auth-token-file"))
            o.auth_token_file = v;
        else if (!strcmp(s, "--tls-cert"))
            o.tls_cert = v;
        else if (!strcmp(s, "--tls-key"))
            o.tls_key = v;
        else if (!strcmp(s, "--log-level")) {
            if (sl_log_parse_level(v, &level) != 0)
                return bad("--log-level: expected debug, info, warn, error or off, got '%s'", v);
        } else if (!strcmp(s, "--log-format")) {
            if (sl_log_parse_format(v, &fmt) != 0)
                return bad("--log-format: expected text or json, got '%s'", v);
        } else
            return bad("unknown option '%s'", s);
    }
    if (o.nmodels == 0)
        o.models = NULL;
    if (port_file) {
        o.on_listen = write_port_file;
        o.on_listen_arg = (void *)port_file;
    }
    sl_log_setup(level, fmt);
    sl_plugins_init();
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    sl_err err;
    sl_err_clear(&err);
    sl_rc rc = sl_server_run(&o, &err);
    if (rc != SL_OK)
        return sl_cli_fail(rc, &err);
    return 0;
}
