/* End-to-end tests of `sluice serve` in process (src/serving/): a registry
 * built in a temporary directory (models fitted with the model.h API and
 * a hand-written transform.json with filter/derive/impute/onehot/drop),
 * the server on a free loopback port, and a minimal HTTP/1.1 client over
 * a socket. Covers every route, the client errors, predictions equal to
 * the C API's, hot reload (good and broken versions, under concurrent
 * requests), pinned versions, bearer auth and /metrics. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "serving/internal.h"
#include "sluice/log.h"
#include "sluice/mem.h"
#include "sluice/model.h"
#include "sluice/plugin.h"
#include "sluice/prom.h"
#include "sluice/registry.h"
#include "sluice/server.h"

static char g_root[256];
static char g_reg[300];

/* ---- fixtures ---- */

static const char transform_json[] =
    "{\"format\": \"sluice-transform\", \"version\": 1, \"pipeline\": \"t\",\n"
    " \"input_schema\": {\"fields\": [\n"
    "   {\"name\": \"color\", \"type\": \"string\", \"nullable\": false},\n"
    "   {\"name\": \"x1\", \"type\": \"float64\", \"nullable\": true},\n"
    "   {\"name\": \"x2\", \"type\": \"float64\", \"nullable\": false},\n"
    "   {\"name\": \"n\", \"type\": \"int64\", \"nullable\": false},\n"
    "   {\"name\": \"when\", \"type\": \"date\", \"nullable\": true},\n"
    "   {\"name\": \"label\", \"type\": \"string\", \"nullable\": false}]},\n"
    " \"output_schema\": {\"fields\": []},\n"
    " \"transforms\": [\n"
    "  {\"type\": \"filter\", \"config\": \"label is not null\", \"state\": null},\n"
    "  {\"type\": \"derive\", \"config\": {\"x3\": \"x1 * x2\"}, \"state\": null},\n"
    "  {\"type\": \"impute\", \"config\": {\"columns\": [\"x1\", \"x3\"], \"strategy\": "
    "\"median\"},\n"
    "   \"state\": {\"strategy\": \"median\", \"columns\": {\"x1\": {\"type\": \"float64\", "
    "\"value\": 0.5},\n"
    "     \"x3\": {\"type\": \"float64\", \"value\": 0.25}}}},\n"
    "  {\"type\": \"onehot\", \"config\": {\"columns\": [\"color\"]},\n"
    "   \"state\": {\"columns\": {\"color\": {\"type\": \"string\", \"categories\": "
    "[\"blue\", \"red\"]}}}},\n"
    "  {\"type\": \"drop\", \"config\": [\"when\"], \"state\": null}]}\n";

/* The transformed features of row i (what the chain makes of instance i). */
static void features_of(int i, double *x1, double *x2, int64_t *n, int *red)
{
    *x1 = (i % 10) / 10.0;
    *x2 = (i % 7) / 7.0;
    *n = i % 3;
    *red = i % 2;
}

/* with_label: training rows; else the features the server computes, where
 * x1 == 0.5 is sent as null, so x3 = x1 * x2 is null and imputed (0.25). */
static sl_batch *feature_batch(int rows, int with_label)
{
    sl_schema *s = sl_schema_new();
    assert_int_equal(sl_schema_add(s, "x1", SL_FLOAT64, 0, NULL), SL_OK);
    assert_int_equal(sl_schema_add(s, "x2", SL_FLOAT64, 0, NULL), SL_OK);
    assert_int_equal(sl_schema_add(s, "n", SL_INT64, 0, NULL), SL_OK);
    assert_int_equal(sl_schema_add(s, "x3", SL_FLOAT64, 0, NULL), SL_OK);
    assert_int_equal(sl_schema_add(s, "color_blue", SL_INT64, 0, NULL), SL_OK);
    assert_int_equal(sl_schema_add(s, "color_red", SL_INT64, 0, NULL), SL_OK);
    if (with_label)
        assert_int_equal(sl_schema_add(s, "label", SL_STRING, 0, NULL), SL_OK);
    sl_batch *b = sl_batch_new(s, rows);
    for (int i = 0; i < rows; i++) {
        double x1, x2;
        int64_t n;
        int red;
        features_of(i, &x1, &x2, &n, &red);
        sl_column_append_float64(b->cols[0], x1);
        sl_column_append_float64(b->cols[1], x2);
        sl_column_append_int64(b->cols[2], n);
        sl_column_append_float64(b->cols[3], !with_label && x1 == 0.5 ? 0.25 : x1 * x2);
        sl_column_append_int64(b->cols[4], !red);
        sl_column_append_int64(b->cols[5], red);
        if (with_label) {
            const char *y = x1 + x2 + 0.3 * red > 0.9 ? "yes" : "no";
            sl_column_append_str(b->cols[6], y, strlen(y));
        }
    }
    assert_int_equal(sl_batch_seal(b, NULL), SL_OK);
    sl_schema_free(s);
    return b;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

/* A new version of model "m": type with seed; broken = junk model file. */
static int add_version(const char *type, const char *seed, int broken)
{
    char dir[1024], path[1200];
    int v;
    sl_err e;
    sl_err_clear(&e);
    assert_int_equal(sl_registry_new_version(g_reg, "m", &v, dir, sizeof dir, &e), SL_OK);
    snprintf(path, sizeof path, "%s/%s", dir, SL_REGISTRY_MODEL_FILE);
    if (broken) {
        write_text(path, "not a model");
    } else {
        sl_batch *b = feature_batch(140, 1);
        sl_matrix_spec spec = {.target = "label"};
        sl_matrix *m;
        assert_int_equal(sl_matrix_from_batches((const sl_batch *const *)&b, 1, &spec, &m, &e),
                         SL_OK);
        sl_model_param p[] = {{"random_state", seed}, {"n_estimators", "15"}};
        int np = strcmp(type, "random_forest") == 0 ? 2 : 0;
        sl_model *model;
        assert_int_equal(sl_model_new(type, SL_TASK_CLASSIFICATION, p, np, &model, &e), SL_OK);
        assert_int_equal(sl_model_fit(model, m, &e), SL_OK);
        assert_int_equal(sl_model_save(model, path, &e), SL_OK);
        sl_model_free(model);
        sl_matrix_free(m);
        sl_batch_unref(b);
    }
    snprintf(path, sizeof path, "%s/%s", dir, SL_REGISTRY_TRANSFORM_FILE);
    write_text(path, transform_json);
    snprintf(path, sizeof path, "%s/%s", dir, SL_REGISTRY_METRICS_FILE);
    write_text(path, "{\"accuracy\": 0.97}\n");
    return v;
}

/* Reference predictions of version v for rows 0..rows-1, as the JSON the
 * server should send for "predictions" and "probabilities". */
static json_t *oracle(int v, int rows)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/m/%d/%s", g_reg, v, SL_REGISTRY_MODEL_FILE);
    sl_model *m;
    sl_err e;
    sl_err_clear(&e);
    assert_int_equal(sl_model_load(path, &m, &e), SL_OK);
    sl_batch *b = feature_batch(rows, 0);
    sl_prediction p;
    assert_int_equal(sl_model_predict_batch(m, b, &p, &e), SL_OK);
    json_t *preds = json_array(), *proba = json_array();
    const sl_labels *cl = sl_model_classes(m);
    for (int64_t i = 0; i < p.n; i++) {
        json_array_append_new(preds, json_string(cl->names[p.label[i]]));
        json_t *row = json_array();
        for (int k = 0; k < p.nclasses; k++)
            json_array_append_new(row, json_real(p.proba[i * p.nclasses + k]));
        json_array_append_new(proba, row);
    }
    json_t *o = json_pack("{s:o, s:o}", "predictions", preds, "probabilities", proba);
    sl_prediction_free(&p);
    sl_batch_unref(b);
    sl_model_free(m);
    return o;
}

/* {"instances": [...]} with the raw features of rows 0..rows-1 (x1 null
 * where the imputed value equals the truth, to exercise impute). */
static char *instances_body(int rows)
{
    json_t *arr = json_array();
    for (int i = 0; i < rows; i++) {
        double x1, x2;
        int64_t n;
        int red;
        features_of(i, &x1, &x2, &n, &red);
        json_t *o = json_pack("{s:s, s:f, s:I, s:s}", "color", red ? "red" : "blue", "x2", x2,
                              "n", (json_int_t)n, "when", "2024-05-01");
        json_object_set_new(o, "x1", x1 == 0.5 ? json_null() : json_real(x1));
        json_array_append_new(arr, o);
    }
    json_t *root = json_pack("{s:o}", "instances", arr);
    char *s = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    return s;
}

/* ---- HTTP client ---- */

typedef struct resp {
    int status;
    char *body; /* malloc'ed */
} resp;

static int g_port;

static resp http(const char *method, const char *path, const char *body, const char *headers)
{
    resp r = {0, NULL};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)g_port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    char head[1024];
    size_t blen = body ? strlen(body) : 0;
    int hl = snprintf(head, sizeof head,
                      "%s %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n%s"
                      "Content-Length: %zu\r\n\r\n",
                      method, path, headers ? headers : "", blen);
    assert_int_equal(write(fd, head, (size_t)hl), hl);
    size_t off = 0;
    while (off < blen) {
        ssize_t w = write(fd, body + off, blen - off);
        if (w <= 0)
            break; /* the server may answer early and close (413) */
        off += (size_t)w;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (n + 4096 > cap)
            buf = realloc(buf, cap *= 2);
        ssize_t got = read(fd, buf + n, cap - n - 1);
        if (got <= 0)
            break;
        n += (size_t)got;
    }
    buf[n] = '\0';
    close(fd);
    sscanf(buf, "HTTP/1.1 %d", &r.status);
    char *sep = strstr(buf, "\r\n\r\n");
    r.body = strdup(sep ? sep + 4 : "");
    free(buf);
    return r;
}

static void expect(resp r, int status, const char *needle)
{
    if (r.status != status || (needle && !strstr(r.body, needle)))
        fail_msg("got %d %s, want %d with '%s'", r.status, r.body, status, needle ? needle : "");
    free(r.body);
}

/* ---- server thread ---- */

typedef struct run_ctx {
    sl_server_options o;
    sl_rc rc;
    sl_err err;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int port;
} run_ctx;

static void on_listen(void *arg, int port)
{
    run_ctx *c = arg;
    pthread_mutex_lock(&c->mu);
    c->port = port;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

static void *run_server(void *arg)
{
    run_ctx *c = arg;
    c->rc = sl_server_run(&c->o, &c->err);
    on_listen(c, -1); /* unblock the starter if it failed */
    return NULL;
}

static pthread_t start(run_ctx *c)
{
    pthread_t th;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    c->o.on_listen = on_listen;
    c->o.on_listen_arg = c;
    sl_server_reset_stop();
    assert_int_equal(pthread_create(&th, NULL, run_server, c), 0);
    pthread_mutex_lock(&c->mu);
    while (c->port == 0)
        pthread_cond_wait(&c->cv, &c->mu);
    pthread_mutex_unlock(&c->mu);
    if (c->port < 0)
        fail_msg("server did not start: %s", c->err.msg);
    g_port = c->port;
    return th;
}

static void stop(run_ctx *c, pthread_t th)
{
    sl_server_request_stop();
    pthread_join(th, NULL);
    if (c->rc != SL_OK)
        fail_msg("server failed: %s", c->err.msg);
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Wait until GET path answers status containing needle (max ~10 s). */
static void wait_for(const char *method, const char *path, const char *body, const char *needle)
{
    for (int i = 0; i < 1000; i++) {
        resp r = http(method, path, body, NULL);
        int ok = strstr(r.body, needle) != NULL;
        free(r.body);
        if (ok)
            return;
        sleep_ms(10);
    }
    fail_msg("timed out waiting for '%s' from %s", needle, path);
}

static int setup(void **state)
{
    (void)state;
    sl_plugins_init();
    sl_log_setup(SL_LOG_OFF, SL_LOG_TEXT);
    snprintf(g_root, sizeof g_root, "/tmp/sl_serving_XXXXXX");
    assert_non_null(mkdtemp(g_root));
    snprintf(g_reg, sizeof g_reg, "%s/reg", g_root);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_root);
    return system(cmd) == 0 ? 0 : -1;
}

static void compare_predictions(const char *body, int version, int rows)
{
    json_t *got = json_loads(body, 0, NULL), *want = oracle(version, rows);
    assert_non_null(got);
    assert_int_equal(json_integer_value(json_object_get(got, "model_version")), version);
    /* doubles printed shortest-round-trip read back bit-identical */
    if (!json_equal(json_object_get(got, "predictions"), json_object_get(want, "predictions")) ||
        !json_equal(json_object_get(got, "probabilities"),
                    json_object_get(want, "probabilities")))
        fail_msg("predictions differ from the C API's: %s", body);
    json_decref(got);
    json_decref(want);
}

/* ---- tests ---- */

static void test_routes_and_errors(void **state)
{
    (void)state;
    assert_int_equal(add_version("random_forest", "1", 0), 1);
    run_ctx c;
    memset(&c, 0, sizeof c);
    sl_server_options_init(&c.o);
    c.o.registry = g_reg;
    c.o.port = 0;
    c.o.threads = 2;
    c.o.reload_interval = 0.05;
    c.o.max_body_bytes = 8192;
    c.o.max_instances = 50;
    pthread_t th = start(&c);
    expect(http("GET", "/healthz", NULL, NULL), 200, "{\"status\":\"ok\"}");
    wait_for("GET", "/readyz", NULL, "\"ready\"");
    expect(http("GET", "/readyz", NULL, NULL), 200, "\"m\":{\"state\":\"serving\",\"version\":1}");
    expect(http("GET", "/v1/models", NULL, NULL), 200, "{\"name\":\"m\",\"serving_version\":1}");
    expect(http("GET", "/v1/models/m", NULL, NULL), 200, "\"metrics\":{\"accuracy\":0.9");
    expect(http("GET", "/v1/models/m/versions/1", NULL, NULL), 200, "\"input_schema\"");
    expect(http("GET", "/v1/models/m/versions/9", NULL, NULL), 404, "model 'm' has no version 9");

    /* predictions equal the C API's, through transforms (x1 imputed) */
    char *body = instances_body(30);
    resp r = http("POST", "/v1/models/m:predict", body, NULL);
    assert_int_equal(r.status, 200);
    compare_predictions(r.body, 1, 30);
    free(r.body);
    free(body);
    /* the columnar form gives the same answer */
    r = http("POST", "/v1/models/m:predict",
             "{\"inputs\": {\"color\": [\"blue\", \"red\"], \"x1\": [0.0, 0.1], "
             "\"x2\": [0.0, 0.14285714285714285], \"n\": [0, 1]}}",
             NULL);
    assert_int_equal(r.status, 200);
    compare_predictions(r.body, 1, 2);
    free(r.body);

    /* client errors */
    expect(http("POST", "/v1/models/m:predict", "{\"instances\": [{\"color\": \"red\", "
                "\"x2\": \"abc\", \"n\": 1}]}", NULL),
           400, "{\"error\":{\"code\":\"invalid_argument\",\"message\":\"instances[0].x2: "
                "expected a number, got \\\"abc\\\"\"}}");
    expect(http("POST", "/v1/models/m:predict", "{\"instances\": [{\"color\": \"red\", "
                "\"x2\": 1, \"n\": 1, \"x9\": 1}]}", NULL),
           400, "unknown feature 'x9'");
    expect(http("POST", "/v1/models/m:predict", "{\"instances\": [{\"color\": \"red\", "
                "\"n\": 1}]}", NULL),
           400, "instances[0].x2: missing");
    expect(http("POST", "/v1/models/m:predict", "{\"instances\": [{\"color\": \"green\", "
                "\"x2\": 1, \"n\": 1}]}", NULL),
           200, "\"predictions\""); /* unknown category: all zeros (handle_unknown ignore) */
    expect(http("POST", "/v1/models/m:predict", "{\"instances\": [", NULL), 400,
           "\"code\":\"invalid_json\"");
    expect(http("POST", "/v1/models/m:predict", "", NULL), 400, "invalid_json");
    char big[9000];
    memset(big, ' ', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    expect(http("POST", "/v1/models/m:predict", big, NULL), 413, "payload_too_large");
    body = instances_body(51);
    expect(http("POST", "/v1/models/m:predict", body, NULL), 413,
           "instances: 51 instances exceed the limit of 50");
    free(body);
    expect(http("POST", "/v1/models/zz:predict", "{}", NULL), 404, "no model is served");
    expect(http("GET", "/v1/models/m:predict", NULL, NULL), 405, "predict takes POST");
    expect(http("POST", "/healthz", "{}", NULL), 405, "method_not_allowed");
    expect(http("GET", "/v1/models/m/versions/x:predict", NULL, NULL), 404, "no route");
    expect(http("GET", "/v1/models/m/nope", NULL, NULL), 404, "no route");
    expect(http("GET", "/", NULL, NULL), 404, "not_found");

    /* metrics (the completion callback that counts a request may run just
     * after the client saw the response, so wait for the counts) */
    static const char *const needles[] = {
        "sluice_http_requests_total{model=\"m\",route=\"predict\",status=\"200\"} 3\n",
        "sluice_http_requests_total{model=\"m\",route=\"predict\",status=\"400\"} 5\n",
        "sluice_http_requests_total{model=\"m\",route=\"predict\",status=\"413\"} 2\n",
        "sluice_http_requests_total{model=\"m\",route=\"predict\",status=\"405\"} 1\n",
        "sluice_http_requests_total{model=\"\",route=\"unknown\",status=\"404\"} 3\n",
        "sluice_model_info{model=\"m\",version=\"1\",type=\"random_forest\"} 1\n",
        "sluice_model_ready{model=\"m\"} 1\n",
        "sluice_model_reloads_total{model=\"m\",result=\"ok\"} 1\n",
        "sluice_predict_instances_total{model=\"m\"} 33\n",
        "sluice_http_request_duration_seconds_count{model=\"m\",route=\"predict\"} 11\n",
        "sluice_predictions_total{model=\"m\",class=\"yes\"}",
        "sluice_http_requests_in_flight 1\n", /* the /metrics request itself */
    };
    for (size_t i = 0; i < sizeof needles / sizeof needles[0]; i++)
        wait_for("GET", "/metrics", NULL, needles[i]);
    r = http("GET", "/metrics", NULL, NULL);
    assert_null(strstr(r.body, "class=\"\"")); /* no regression series */
    free(r.body);
    stop(&c, th);
}

typedef struct hammer_ctx {
    int ok, bad;
    char *body;
} hammer_ctx;

static atomic_int g_hammering;

static void *hammer(void *arg)
{
    hammer_ctx *h = arg;
    while (atomic_load(&g_hammering)) {
        resp r = http("POST", "/v1/models/m:predict", h->body, NULL);
        if (r.status == 200)
            h->ok++;
        else
            h->bad++;
        free(r.body);
    }
    return NULL;
}

static void test_hot_reload(void **state)
{
    (void)state;
    run_ctx c;
    memset(&c, 0, sizeof c);
    sl_server_options_init(&c.o);
    c.o.registry = g_reg;
    c.o.port = 0;
    c.o.threads = 2;
    c.o.reload_interval = 0.02;
    pthread_t th = start(&c);
    wait_for("GET", "/readyz", NULL, "\"ready\"");
    char *body = instances_body(12);
    /* a new blessed version is swapped in */
    int v2 = add_version("logistic_regression", "2", 0);
    sl_err e;
    sl_err_clear(&e);
    assert_int_equal(sl_registry_set_pointer(g_reg, "m", "blessed", v2, &e), SL_OK);
    wait_for("POST", "/v1/models/m:predict", body, "\"model_version\":2");
    resp r = http("POST", "/v1/models/m:predict", body, NULL);
    compare_predictions(r.body, v2, 12);
    free(r.body);
    /* the old version is still reachable by number */
    r = http("POST", "/v1/models/m/versions/1:predict", body, NULL);
    assert_int_equal(r.status, 200);
    compare_predictions(r.body, 1, 12);
    free(r.body);
    expect(http("GET", "/v1/models/m", NULL, NULL), 200,
           "\"versions\":[{\"version\":1,\"state\":\"loaded\"},{\"version\":2,\"state\":"
           "\"serving\"}]");

    /* a broken version is rejected; the old one keeps serving */
    int v3 = add_version(NULL, NULL, 1);
    assert_int_equal(sl_registry_set_pointer(g_reg, "m", "blessed", v3, &e), SL_OK);
    wait_for("GET", "/metrics", NULL,
             "sluice_model_reloads_total{model=\"m\",result=\"failed\"} 1\n");
    r = http("POST", "/v1/models/m:predict", body, NULL);
    assert_int_equal(r.status, 200);
    compare_predictions(r.body, v2, 12);
    free(r.body);
    expect(http("GET", "/readyz", NULL, NULL), 200, "\"version\":2");
    expect(http("POST", "/v1/models/m/versions/3:predict", body, NULL), 500,
           "model 'm' version 3");

    /* flip between versions while clients keep sending: every request is
     * answered (the refcounts keep swapped-out versions alive) */
    hammer_ctx h[2] = {{0, 0, body}, {0, 0, body}};
    pthread_t ht[2];
    atomic_store(&g_hammering, 1);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&ht[i], NULL, hammer, &h[i]), 0);
    for (int k = 0; k < 8; k++) {
        assert_int_equal(sl_registry_set_pointer(g_reg, "m", "blessed", k % 2 ? v2 : 1, &e),
                         SL_OK);
        sleep_ms(60);
    }
    atomic_store(&g_hammering, 0);
    for (int i = 0; i < 2; i++)
        pthread_join(ht[i], NULL);
    assert_int_equal(h[0].bad + h[1].bad, 0);
    assert_true(h[0].ok + h[1].ok > 10);
    free(body);
    stop(&c, th);
}

static void test_auth(void **state)
{
    (void)state;
    char token_path[400];
    snprintf(token_path, sizeof token_path, "%s/token", g_root);
    write_text(token_path, "s3cret-token\n");
    run_ctx c;
    memset(&c, 0, sizeof c);
    sl_server_options_init(&c.o);
    c.o.registry = g_reg;
    c.o.port = 0;
    c.o.threads = 1;
    c.o.auth_token_file = token_path;
    const char *models[] = {"m"};
    c.o.models = models;
    c.o.nmodels = 1;
    pthread_t th = start(&c);
    expect(http("GET", "/healthz", NULL, NULL), 200, "ok");
    wait_for("GET", "/readyz", NULL, "\"ready\"");
    expect(http("GET", "/v1/models/m", NULL, NULL), 401, "\"code\":\"unauthenticated\"");
    expect(http("GET", "/metrics", NULL, "Authorization: Bearer wrong\r\n"), 401, NULL);
    expect(http("GET", "/metrics", NULL, "Authorization: Bearer s3cret-toke\r\n"), 401, NULL);
    expect(http("GET", "/metrics", NULL, "Authorization: Basic s3cret-token\r\n"), 401, NULL);
    expect(http("GET", "/v1/models/m", NULL, "Authorization: Bearer s3cret-token\r\n"), 200,
           "\"name\":\"m\"");
    expect(http("POST", "/v1/models/zz:predict", "{}", NULL), 401, NULL); /* no model leak */
    stop(&c, th);
}

static void test_start_failures(void **state)
{
    (void)state;
    sl_server_options o;
    sl_err e;
    sl_err_clear(&e);
    sl_server_options_init(&o);
    o.port = 0;
    char path[400];
    snprintf(path, sizeof path, "%s/none", g_root);
    o.registry = path;
    assert_int_equal(sl_server_run(&o, &e), SL_ENOTFOUND);
    assert_non_null(strstr(e.msg, "model registry not found"));
    o.registry = g_reg;
    const char *models[] = {"nope"};
    o.models = models;
    o.nmodels = 1;
    assert_int_equal(sl_server_run(&o, &e), SL_ENOTFOUND);
    assert_non_null(strstr(e.msg, "model 'nope' not found in registry"));
    o.models = NULL;
    o.nmodels = 0;
    o.auth_token_file = path;
    assert_int_equal(sl_server_run(&o, &e), SL_EIO);
    assert_non_null(strstr(e.msg, "cannot read the auth token file"));
    snprintf(path, sizeof path, "%s/empty", g_root);
    write_text(path, "\n");
    assert_int_equal(sl_server_run(&o, &e), SL_ECONFIG);
    assert_non_null(strstr(e.msg, "the auth token file is empty"));
    o.auth_token_file = NULL;
    o.tls_cert = path;
    assert_int_equal(sl_server_run(&o, &e), SL_ECONFIG);
    assert_non_null(strstr(e.msg, "TLS needs both --tls-cert and --tls-key"));
    o.tls_cert = NULL;
    o.host = "not a host name!";
    assert_int_equal(sl_server_run(&o, &e), SL_ECONFIG);
    assert_non_null(strstr(e.msg, "--host 'not a host name!'"));
    o.host = "127.0.0.1";
    o.log_requests_sample = 2;
    assert_int_equal(sl_server_run(&o, &e), SL_ECONFIG);
}

/* Loading a version, predicting and rendering metadata with every
 * allocation failing in turn: errors, never crashes or leaks (ASan). */
static void test_store_alloc_failures(void **state)
{
    (void)state;
    sl_server_options o;
    sl_server_options_init(&o);
    o.registry = g_reg;
    const char *models[] = {"m"};
    o.models = models;
    o.nmodels = 1;
    sv_metrics m;
    sl_err e;
    sl_err_clear(&e);
    assert_int_equal(sv_metrics_init(&m, &e), SL_OK);
    assert_int_equal(sl_registry_set_pointer(g_reg, "m", "blessed", 1, &e), SL_OK);
    char *body = instances_body(3);
    int loaded = 0, predicted = 0;
    for (long n = 0; n < 4000 && !(loaded && predicted); n++) {
        sv_store s;
        sl_err_clear(&e);
        sl_mem_fail_after(n);
        if (sv_store_open(&s, &o, &m, &e) != SL_OK) {
            sl_mem_fail_after(-1);
            assert_int_equal(e.code, SL_ENOMEM);
            continue;
        }
        sv_store_poll(&s);
        sv_version *v = sv_slot_acquire(&s.slots[0]);
        if (v) {
            loaded = 1;
            sl_batch *b = NULL;
            sl_strbuf out = {0};
            sl_rc rc = sv_parse_request(&v->input, body, strlen(body), &b, &e);
            if (rc == SL_OK)
                rc = sv_version_predict(v, b, &out, &e);
            if (rc == SL_OK)
                predicted = 1;
            else
                assert_int_equal(rc, SL_ENOMEM);
            sl_sb_free(&out);
            sl_sb_free(&out);
            sv_slot_metadata(&s, &s.slots[0], &out, &e);
            sl_sb_free(&out);
            sv_version_release(v);
        }
        sl_mem_fail_after(-1);
        sv_store_close(&s);
    }
    sl_mem_fail_after(-1);
    assert_true(loaded && predicted);
    free(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routes_and_errors),
        cmocka_unit_test(test_hot_reload),
        cmocka_unit_test(test_auth),
        cmocka_unit_test(test_start_failures),
        cmocka_unit_test(test_store_alloc_failures),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
