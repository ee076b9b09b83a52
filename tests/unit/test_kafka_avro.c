/*
 * test_kafka_avro.c: `format: avro` (Confluent framing) of the Kafka source
 * and sink against librdkafka's mock cluster: configuration errors, sink ->
 * source round trips with a schema directory (ids reused and claimed) and
 * with a Schema Registry (a fake one on a loopback thread: registration
 * under <topic>-value, refusal, lookups cached per id, credentials never
 * shown), dead letters with their reasons (no header, unknown id,
 * truncated or trailing bytes, tombstone), an unreachable registry failing
 * the run, and reader schemas (sluice and Avro; incompatible ones fail the
 * run naming the field); the module under allocation failure.
 */
#include "kafka_test_util.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "ingestion/kafka_avro.h"
#include "sluice/avro.h"
#include "sluice/batch.h"
#include "sluice/kafka.h"
#include "sluice/schema.h"

static mock M;
static char tmpdir[256];

static int setup(void **state)
{
    (void)state;
    mock_group_setup(&M, tmpdir, sizeof tmpdir, "/tmp/sl_kavro_XXXXXX");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return mock_group_teardown(&M, tmpdir);
}

/* A fresh directory under tmpdir. */
static const char *subdir(const char *name)
{
    static char path[8][300];
    static int k;
    char *p = path[k++ % 8];
    snprintf(p, 300, "%s/%s", tmpdir, name);
    assert_int_equal(mkdir(p, 0755), 0);
    return p;
}

static int file_exists(const char *dir, const char *name)
{
    char p[400];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return stat(p, &st) == 0;
}

static sl_schema *row_schema(void)
{
    sl_schema *s = sl_schema_new();
    sl_schema_add(s, "id", SL_INT64, 0, NULL);
    sl_schema_add(s, "v", SL_FLOAT64, 1, NULL);
    sl_schema_add(s, "s", SL_STRING, 1, NULL);
    sl_schema_add(s, "ts", SL_TIMESTAMP, 1, NULL);
    sl_schema_add(s, "ok", SL_BOOL, 1, NULL);
    sl_schema_add(s, "d", SL_DATE, 1, NULL);
    return s;
}

/* Row i: id first+i, v null every third, s null every fourth. */
static sl_batch *rows(const sl_schema *s, int first, int n)
{
    sl_batch *b = sl_batch_new(s, n);
    for (int i = 0; i < n; i++) {
        int id = first + i;
        char t[32];
        int tn = snprintf(t, sizeof t, "s%d", id);
        sl_column_append_int64(b->cols[0], id);
        id % 3 == 0 ? sl_column_append_null(b->cols[1]) : sl_column_append_float64(b->cols[1], id * 0.25);
        id % 4 == 1 ? sl_column_append_null(b->cols[2]) : sl_column_append_str(b->cols[2], t, (size_t)tn);
        sl_column_append_int64(b->cols[3], 1700000000000000LL + id);
        sl_column_append_bool(b->cols[4], id % 2);
        sl_column_append_int32(b->cols[5], 19000 + id);
    }
    assert_int_equal(sl_batch_seal(b, NULL), SL_OK);
    return b;
}

/* Checks that row r of b is row `id` of rows(). */
static void check_row(const sl_batch *b, int64_t r, int64_t id)
{
    size_t n;
    assert_int_equal(sl_col_i64(b->cols[0], r), id);
    if (id % 3 == 0)
        assert_false(sl_col_valid(b->cols[1], r));
    else
        assert_true(sl_col_f64(b->cols[1], r) == id * 0.25);
    if (id % 4 == 1) {
        assert_false(sl_col_valid(b->cols[2], r));
    } else {
        char t[32];
        snprintf(t, sizeof t, "s%d", (int)id);
        const char *p = sl_col_str(b->cols[2], r, &n);
        assert_int_equal(n, strlen(t));
        assert_memory_equal(p, t, n);
    }
    assert_int_equal(sl_col_i64(b->cols[3], r), 1700000000000000LL + id);
    assert_int_equal(sl_col_bool(b->cols[4], r), id % 2);
    assert_int_equal(sl_col_i32(b->cols[5], r), 19000 + id);
}

/* Produce binary values (NULL = tombstone) to partition 0. */
static void produce_bin(const char *topic, const void *const *v, const size_t *len, int n)
{
    rd_kafka_t *p = client(RD_KAFKA_PRODUCER, M.bootstrap, "linger.ms", "1", NULL);
    for (int i = 0; i < n; i++)
        assert_int_equal(rd_kafka_producev(p, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0),
                                           RD_KAFKA_V_VALUE((void *)v[i], v[i] ? len[i] : 0),
                                           RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                           RD_KAFKA_V_END),
                         0);
    assert_int_equal(rd_kafka_flush(p, 10000), 0);
    rd_kafka_destroy(p);
}

/* Framed messages of rows(first, n) with schema id `id` (the schema also
 * written to dir/<id>.avsc when dir is set). out[i] malloc'd. */
static void framed(int32_t id, const char *dir, int first, int n, uint8_t **out, size_t *len)
{
    sl_schema *s = row_schema();
    sl_batch *b = rows(s, first, n);
    sl_avro_wire_encoder *e;
    assert_int_equal(sl_avro_wire_encoder_new(s, id, &e, NULL), SL_OK);
    if (dir) {
        char p[400];
        snprintf(p, sizeof p, "%s/%d.avsc", dir, (int)id);
        FILE *f = fopen(p, "w");
        assert_non_null(f);
        fputs(sl_avro_schema_json(sl_avro_wire_encoder_schema(e)), f);
        fclose(f);
    }
    for (int i = 0; i < n; i++) {
        const uint8_t *m;
        assert_int_equal(sl_avro_wire_encode(e, b, i, &m, &len[i], NULL), SL_OK);
        out[i] = malloc(len[i] + 1);
        memcpy(out[i], m, len[i]);
    }
    sl_avro_wire_encoder_free(e);
    sl_batch_unref(b);
    sl_schema_free(s);
}

/* Rows of a source until `want` rows and `rejected` dead letters (or 20 s);
 * every row is checked against rows() and counted in seen[id - first]. */
static int64_t read_rows(pinst *src, int64_t want, int64_t rejected, int first, int ncheck,
                         char *seen)
{
    int64_t got = 0;
    for (int t = 0; t < 400 && (got < want || src->p->rejected(src->h) < rejected); t++) {
        sl_batch *b = NULL;
        sl_err err;
        if (src->p->next(src->h, &b, &err) != SL_OK)
            fail_msg("next: %s", err.msg);
        for (int64_t r = 0; r < b->nrows; r++) {
            if (ncheck > 0) {
                int64_t id = sl_col_i64(b->cols[0], r);
                check_row(b, r, id);
                assert_true(id >= first && id < first + ncheck);
                seen[id - first]++;
            }
        }
        got += b->nrows;
        sl_batch_unref(b);
    }
    return got;
}

/* next() until it fails; returns its code. */
static sl_rc next_error(pinst *src, sl_err *err)
{
    sl_rc rc = SL_OK;
    for (int i = 0; i < 400 && rc == SL_OK; i++) {
        sl_batch *b = NULL;
        rc = src->p->next(src->h, &b, err);
        sl_batch_unref(b);
    }
    return rc;
}

static void expect_error(const sl_plugin *p, sl_rc want_rc, const char *want, const char *fmt,
                         const char *arg)
{
    pinst pi;
    sl_err err;
    sl_schema *s = row_schema();
    sl_rc rc = pinst_make(&pi, p, s, NULL, &err, fmt, M.bootstrap, arg);
    if (rc != want_rc || !strstr(err.msg, want))
        fail_msg("got %d '%s', want %d '%s'", rc, err.msg, want_rc, want);
    pinst_free(&pi);
    sl_schema_free(s);
}

static void test_config_errors(void **state)
{
    (void)state;
    const sl_plugin *src = &sl_plugin_source_kafka, *snk = &sl_plugin_sink_kafka;
    const char *dir = subdir("cfg");
    mock_topic(&M, "ka-cfg", 1);
    expect_error(src, SL_ECONFIG, "source 'kafka': format avro needs `schema_registry`",
                 "{brokers: '%s', topics: ka-cfg, group: g, format: avro}%s", "");
    expect_error(src, SL_ECONFIG, "`schema_dir` '/nonexistent/schemas': No such file",
                 "{brokers: '%s', topics: ka-cfg, group: g, format: avro, schema_dir: %s}",
                 "/nonexistent/schemas");
    expect_error(src, SL_ECONFIG, "`schema_registry` 'https://r:8081': only http://",
                 "{brokers: '%s', topics: ka-cfg, group: g, format: avro, schema_registry: %s}",
                 "'https://r:8081'");
    expect_error(src, SL_ECONFIG, "`schema_registry` applies to `format: avro` only",
                 "{brokers: '%s', topics: ka-cfg, group: g, schema_registry: %s}",
                 "'http://r:8081'");
    unsetenv("SL_TEST_SR_UNSET");
    expect_error(src, SL_ECONFIG, "environment variable 'SL_TEST_SR_UNSET' is not set",
                 "{brokers: '%s', topics: ka-cfg, group: g, format: avro, schema_registry: %s}",
                 "'http://u:${SL_TEST_SR_UNSET}@r:8081'");
    expect_error(src, SL_ECONFIG, "`schema`",
                 "{brokers: '%s', topics: ka-cfg, group: g, format: avro, schema_dir: %s, "
                 "schema: /nonexistent/reader.avsc}", dir);
    expect_error(snk, SL_ECONFIG, "sink 'kafka': format avro needs `schema_registry`",
                 "{brokers: '%s', topic: t, format: avro}%s", "");
    expect_error(snk, SL_ECONFIG, "`subject` needs `schema_registry`",
                 "{brokers: '%s', topic: t, format: avro, schema_dir: %s, subject: x}", dir);
    expect_error(snk, SL_ECONFIG, "`schema_id` must be from 1 to 2147483647",
                 "{brokers: '%s', topic: t, format: avro, schema_dir: %s, schema_id: -3}", dir);
    expect_error(snk, SL_ECONFIG, "`schema_id` applies to `format: avro` only",
                 "{brokers: '%s', topic: t, schema_id: %s}", "4");
}

/* sink (directory) -> topic -> source (directory): every type, nulls,
 * metadata; the directory's ids are reused for the same schema and
 * claimed for a new one; `schema_id` is checked. */
static void test_roundtrip_dir(void **state)
{
    (void)state;
    const char *dir = subdir("rt");
    mock_topic(&M, "ka-rt", 2);
    sl_schema *s = row_schema();
    pinst snk, src;
    sl_err err;
    assert_int_equal(pinst_make(&snk, &sl_plugin_sink_kafka, s, NULL, &err,
                                "{brokers: '%s', topic: ka-rt, format: avro, schema_dir: '%s', "
                                "key: id}", M.bootstrap, dir),
                     SL_OK);
    assert_true(file_exists(dir, "1.avsc"));
    for (int k = 0; k < 3; k++) {
        sl_batch *b = rows(s, k * 100, 100);
        assert_int_equal(snk.p->write(snk.h, b, &err), SL_OK);
        sl_batch_unref(b);
    }
    assert_int_equal(snk.p->flush(snk.h, &err), SL_OK);
    pinst_free(&snk);

    assert_int_equal(pinst_make(&src, &sl_plugin_source_kafka, NULL, NULL, &err,
                                "{brokers: '%s', topics: ka-rt, group: rt, format: avro, "
                                "schema_dir: '%s', metadata: true, batch_rows: 128}",
                                M.bootstrap, dir),
                     SL_OK);
    assert_int_equal(src.out->n, 11);
    assert_string_equal(src.out->fields[3].name, "ts");
    assert_int_equal(src.out->fields[3].type, SL_TIMESTAMP);
    assert_int_equal(src.out->fields[5].type, SL_DATE);
    assert_int_equal(src.out->fields[0].nullable, 0);
    assert_string_equal(src.out->fields[10].name, "_key");
    char seen[300] = {0};
    assert_int_equal(read_rows(&src, 300, 0, 0, 300, seen), 300);
    for (int i = 0; i < 300; i++)
        assert_int_equal(seen[i], 1);
    assert_int_equal(src.p->rejected(src.h), 0);
    assert_int_equal(src.p->checkpoint(src.h, &err), SL_OK);
    pinst_free(&src);

    /* the same columns again: id 1; other columns: id 2, written */
    assert_int_equal(pinst_make(&snk, &sl_plugin_sink_kafka, s, NULL, &err,
                                "{brokers: '%s', topic: ka-rt, format: avro, schema_dir: '%s'}",
                                M.bootstrap, dir),
                     SL_OK);
    pinst_free(&snk);
    assert_false(file_exists(dir, "2.avsc"));
    sl_schema *s2 = sl_schema_new();
    sl_schema_add(s2, "x y", SL_STRING, 1, NULL);
    assert_int_equal(pinst_make(&snk, &sl_plugin_sink_kafka, s2, NULL, &err,
                                "{brokers: '%s', topic: ka-rt2, format: avro, schema_dir: '%s'}",
                                M.bootstrap, dir),
                     SL_OK);
    pinst_free(&snk);
    assert_true(file_exists(dir, "2.avsc"));
    /* schema_id: the right one opens, another's is refused, a new one is written */
    assert_int_equal(pinst_make(&snk, &sl_plugin_sink_kafka, s, NULL, &err,
                                "{brokers: '%s', topic: ka-rt, format: avro, schema_dir: '%s', "
                                "schema_id: 1}", M.bootstrap, dir),
                     SL_OK);
    pinst_free(&snk);
    assert_int_equal(pinst_make(&snk, &sl_plugin_sink_kafka, s, NULL, &err,
                                "{brokers: '%s', topic: ka-rt, format: avro, schema_dir: '%s', "
                                "schema_id: 2}", M.bootstrap, dir),
                     SL_ECONFIG);
    assert_non_null(strstr(err.msg, "`schema_id` 2 is not the schema of the rows: its field 1 "
                                    "is 'x_y' (union [null, string]), the rows' is 'id' (long)"));
    pinst_free(&snk);
    assert_int_equal(pinst_make(&snk, &sl_plugin_sink_kafka, s, NULL, &err,
                                "{brokers: '%s', topic: ka-rt, format: avro, schema_dir: '%s', "
                                "schema_id: 40}", M.bootstrap, dir),
                     SL_OK);
    pinst_free(&snk);
    assert_true(file_exists(dir, "40.avsc"));
    sl_schema_free(s2);
    sl_schema_free(s);
}

/* Bad messages are dead letters with the reason, in order; good ones
 * around them decode. */
static void test_dead_letters(void **state)
{
    (void)state;
    const char *dir = subdir("dl");
    mock_topic(&M, "ka-dl", 1);
    mock_topic(&M, "ka-dl-dlq", 1);
    uint8_t *g[4];
    size_t gl[4];
    framed(1, dir, 0, 4, g, gl);
    uint8_t *u[1];
    size_t ul[1];
    framed(99, NULL, 9, 1, u, ul); /* id 99 is nowhere */
    uint8_t trailing[256];
    memcpy(trailing, g[2], gl[2]);
    trailing[gl[2]] = 7;
    const void *v[] = {g[0], "{\"id\": 1}", "\0\0\0", u[0], g[1], NULL, trailing, g[3], u[0]};
    size_t len[] = {gl[0], 9, 3, ul[0], gl[1] - 2, 0, gl[2] + 1, gl[3], ul[0]};
    produce_bin("ka-dl", v, len, 9);
    pinst src;
    sl_err err;
    assert_int_equal(pinst_make(&src, &sl_plugin_source_kafka, NULL, NULL, &err,
                                "{brokers: '%s', topics: ka-dl, group: dl, format: avro, "
                                "schema_dir: '%s', dlq_topic: ka-dl-dlq}", M.bootstrap, dir),
                     SL_OK);
    char seen[4] = {0};
    assert_int_equal(read_rows(&src, 2, 7, 0, 4, seen), 2);
    assert_true(seen[0] == 1 && seen[3] == 1);
    assert_int_equal(src.p->rejected(src.h), 7);
    assert_int_equal(src.p->checkpoint(src.h, &err), SL_OK);
    rec r[8];
    assert_int_equal(read_topic(M.bootstrap, "ka-dl-dlq", 1, 7, 10000, r), 7);
    const char *want[] = {"magic byte 0 (got 0x7b)", "shorter than the 5-byte Confluent header",
                          "schema id 99 not found", "schema id 1: ", "tombstone",
                          "1 bytes follow the datum", "schema id 99 not found"};
    const char *offs[] = {"1", "2", "3", "4", "5", "6", "8"};
    for (int i = 0; i < 7; i++) {
        if (!strstr(r[i].hdr[0], want[i]))
            fail_msg("dead letter %d: '%s' lacks '%s'", i, r[i].hdr[0], want[i]);
        assert_string_equal(r[i].hdr[3], offs[i]);
    }
    free_recs(r, 7);
    pinst_free(&src);
    for (int i = 0; i < 4; i++)
        free(g[i]);
    free(u[0]);
}

/* ---- a fake Confluent Schema Registry on loopback ---- */

#define FAKE_IDS 128

typedef struct fake {
    int fd, port;
    pthread_t th;
    pthread_mutex_t mu;
    char *schema[FAKE_IDS];
    int gets[FAKE_IDS];
    int next_id, posts;
    char last_subject[256], last_auth[128];
} fake;

static char *respond(fake *f, const char *method, const char *path, const char *body, int *status)
{
    int id;
    char subject[256];
    json_t *j = NULL;
    char *out = NULL;
    pthread_mutex_lock(&f->mu);
    if (!strcmp(method, "GET") && sscanf(path, "/schemas/ids/%d", &id) == 1 && id >= 0 &&
        id < FAKE_IDS) {
        f->gets[id]++;
        if (f->schema[id]) {
            *status = 200;
            j = json_pack("{s:s}", "schema", f->schema[id]);
        }
    } else if (!strcmp(method, "POST") && sscanf(path, "/subjects/%255[^/]/versions", subject) == 1) {
        f->posts++;
        snprintf(f->last_subject, sizeof f->last_subject, "%s", subject);
        json_t *rq = json_loads(body, 0, NULL);
        const char *text = json_string_value(json_object_get(rq, "schema"));
        if (!strncmp(subject, "refuse", 6)) {
            *status = 409;
            j = json_pack("{s:i,s:s}", "error_code", 409, "message",
                          "Schema being registered is incompatible with an earlier schema");
        } else if (!strncmp(subject, "invalid", 7)) {
            *status = 422;
            j = json_pack("{s:i,s:s}", "error_code", 42201, "message", "Invalid schema");
        } else if (!strncmp(subject, "broken", 6)) {
            *status = 500;
            j = json_pack("{s:i,s:s}", "error_code", 50001, "message", "store down");
        } else if (text) {
            id = -1;
            for (int i = 0; i < FAKE_IDS && id < 0; i++)
                if (f->schema[i] && !strcmp(f->schema[i], text))
                    id = i;
            if (id < 0) {
                id = f->next_id++;
                f->schema[id] = strdup(text);
            }
            *status = 200;
            j = json_pack("{s:i}", "id", id);
        }
        json_decref(rq);
    }
    pthread_mutex_unlock(&f->mu);
    if (!j) {
        *status = 404;
        j = json_pack("{s:i,s:s}", "error_code", 40403, "message", "Schema not found");
    }
    out = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    return out;
}

static void *serve(void *arg)
{
    fake *f = arg;
    for (;;) {
        int c = accept(f->fd, NULL, NULL);
        if (c < 0)
            return NULL;
        static char req[1 << 16];
        size_t n = 0;
        char *end = NULL;
        long clen = 0;
        while (n < sizeof req - 1) {
            ssize_t k = recv(c, req + n, sizeof req - 1 - n, 0);
            if (k <= 0)
                break;
            n += (size_t)k;
            req[n] = '\0';
            if (!end && (end = strstr(req, "\r\n\r\n"))) {
                char *cl = strstr(req, "Content-Length:");
                clen = cl && cl < end ? atol(cl + 15) : 0;
            }
            if (end && n >= (size_t)(end + 4 - req) + (size_t)clen)
                break;
        }
        char method[8] = "", path[512] = "";
        sscanf(req, "%7s %511s", method, path);
        char *auth = strstr(req, "Authorization: ");
        pthread_mutex_lock(&f->mu);
        if (auth)
            sscanf(auth + 15, "%127[^\r]", f->last_auth);
        pthread_mutex_unlock(&f->mu);
        int status = 500;
        char *body = respond(f, method, path, end ? end + 4 : "", &status);
        char head[256];
        int hn = snprintf(head, sizeof head, "HTTP/1.1 %d X\r\nContent-Type: application/"
                          "vnd.schemaregistry.v1+json\r\nContent-Length: %zu\r\n\r\n", status,
                          strlen(body));
        if (send(c, head, (size_t)hn, MSG_NOSIGNAL) < 0 ||
            send(c, body, strlen(body), MSG_NOSIGNAL) < 0)
            perror("send");
        free(body);
        close(c);
    }
}

static void fake_start(fake *f)
{
    memset(f, 0, sizeof *f);
    pthread_mutex_init(&f->mu, NULL);
    f->next_id = 7;
    f->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    assert_int_equal(bind(f->fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(f->fd, 16), 0);
    getsockname(f->fd, (struct sockaddr *)&a, &al);
    f->port = ntohs(a.sin_port);
    pthread_create(&f->th, NULL, serve, f);
}

static void fake_stop(fake *f)
{
    shutdown(f->fd, SHUT_RDWR);
    close(f->fd);
    pthread_join(f->th, NULL);
    for (int i = 0; i < FAKE_IDS; i++)
        free(f->schema[i]);
    pthread_mutex_destroy(&f->mu);
}

/* sink registers under <topic>-value (the same id again for the same
 * schema; a refusal stops it); the source fetches each id once, unknown
 * ids are dead letters looked up once; credentials never show. */
static void test_registry(void **state)
{
    (void)state;
    fake f;
    fake_start(&f);
    mock_topic(&M, "ka-sr", 1);
    char url[128];
    snprintf(url, sizeof url, "http://u:pw@127.0.0.1:%d/", f.port);
    sl_schema *s = row_schema();
    pinst snk, src;
    sl_err err;
    for (int k = 0; k < 2; k++) {
        assert_int_equal(pinst_make(&snk, &sl_plugin_sink_kafka, s, NULL, &err,
                                    "{brokers: '%s', topic: ka-sr, format: avro, "
                                    "schema_registry: '%s'}", M.bootstrap, url),
                         SL_OK);
        sl_batch *b = rows(s, k * 50, 50);
        assert_int_equal(snk.p->write(snk.h, b, &err), SL_OK);
        assert_int_equal(snk.p->flush(snk.h, &err), SL_OK);
        sl_batch_unref(b);
        pinst_free(&snk);
    }
    assert_int_equal(f.posts, 2);
    assert_int_equal(f.next_id, 8); /* registered once: id 7 */
    assert_string_equal(f.last_subject, "ka-sr-value");
    assert_string_equal(f.last_auth, "Basic dTpwdw==");
    assert_non_null(strstr(f.schema[7], "\"name\":\"ts\""));
    /* refused: the registry's message, no credentials */
    assert_int_equal(pinst_make(&snk, &sl_plugin_sink_kafka, s, NULL, &err,
                                "{brokers: '%s', topic: ka-sr, format: avro, subject: refuse-it, "
                                "schema_registry: '%s'}", M.bootstrap, url),
                     SL_ECONFIG);
    assert_non_null(strstr(err.msg, "subject 'refuse-it'"));
    assert_non_null(strstr(err.msg, "incompatible with an earlier schema"));
    assert_non_null(strstr(err.msg, "http://***@127.0.0.1:"));
    assert_null(strstr(err.msg, "pw@"));
    pinst_free(&snk);
    assert_int_equal(pinst_make(&snk, &sl_plugin_sink_kafka, s, NULL, &err,
                                "{brokers: '%s', topic: ka-sr, format: avro, subject: 'invalid/x', "
                                "schema_registry: '%s'}", M.bootstrap, url),
                     SL_ECONFIG);
    assert_non_null(strstr(err.msg, "rejects the schema as invalid: Invalid schema"));
    pinst_free(&snk);
    assert_int_equal(pinst_make(&snk, &sl_plugin_sink_kafka, s, NULL, &err,
                                "{brokers: '%s', topic: ka-sr, format: avro, subject: broken, "
                                "schema_registry: '%s'}", M.bootstrap, url),
                     SL_EIO);
    assert_non_null(strstr(err.msg, "/subjects/broken/versions answered HTTP 500: store down"));
    assert_null(strstr(err.msg, "pw@"));
    pinst_free(&snk);
    /* schema_id checked against the registry */
    assert_int_equal(pinst_make(&snk, &sl_plugin_sink_kafka, s, NULL, &err,
                                "{brokers: '%s', topic: ka-sr, format: avro, schema_id: 55, "
                                "schema_registry: '%s'}", M.bootstrap, url),
                     SL_ECONFIG);
    assert_non_null(strstr(err.msg, "`schema_id`: schema id 55 is not in the schema registry"));
    pinst_free(&snk);

    /* two messages with an unknown id */
    uint8_t *u[1];
    size_t ul[1];
    framed(99, NULL, 0, 1, u, ul);
    const void *v[] = {u[0], u[0]};
    size_t len[] = {ul[0], ul[0]};
    produce_bin("ka-sr", v, len, 2);
    free(u[0]);
    char rej[300];
    snprintf(rej, sizeof rej, "%s/sr-rejects.jsonl", tmpdir);
    assert_int_equal(pinst_make(&src, &sl_plugin_source_kafka, NULL, NULL, &err,
                                "{brokers: '%s', topics: ka-sr, group: sr, format: avro, "
                                "schema_registry: '%s', rejects: '%s'}", M.bootstrap, url, rej),
                     SL_OK);
    char seen[100] = {0};
    assert_int_equal(read_rows(&src, 100, 2, 0, 100, seen), 100);
    assert_int_equal(src.p->rejected(src.h), 2);
    assert_int_equal(src.p->checkpoint(src.h, &err), SL_OK);
    pinst_free(&src);
    assert_int_equal(f.gets[7], 1);
    assert_int_equal(f.gets[99], 1);
    FILE *fp = fopen(rej, "r");
    assert_non_null(fp);
    char line[2048];
    int nl = 0;
    while (fgets(line, sizeof line, fp)) {
        assert_non_null(strstr(line, "schema id 99 is not in the schema registry at "
                                     "http://***@127.0.0.1:"));
        assert_null(strstr(line, "pw@"));
        nl++;
    }
    fclose(fp);
    assert_int_equal(nl, 2);
    fake_stop(&f);
    sl_schema_free(s);
}

/* A registry that cannot be reached stops the run, naming it. */
static void test_registry_unreachable(void **state)
{
    (void)state;
    mock_topic(&M, "ka-down", 1);
    uint8_t *g[1];
    size_t gl[1];
    framed(5, NULL, 0, 1, g, gl);
    const void *v[] = {g[0]};
    produce_bin("ka-down", v, gl, 1);
    free(g[0]);
    pinst src;
    sl_err err;
    /* the first message fixes the columns: the lookup fails at open */
    assert_int_equal(pinst_make(&src, &sl_plugin_source_kafka, NULL, NULL, &err,
                                "{brokers: '%s', topics: ka-down, group: dn, format: avro, "
                                "schema_registry: 'http://u:secret@127.0.0.1:1'}", M.bootstrap),
                     SL_EIO);
    assert_non_null(strstr(err.msg, "source 'kafka': schema id 5: schema registry "
                                    "http://***@127.0.0.1:1: cannot connect to 127.0.0.1:1"));
    assert_null(strstr(err.msg, "secret"));
    pinst_free(&src);
    /* with a reader schema the lookup fails in next(), and nothing is emitted */
    char path[300];
    snprintf(path, sizeof path, "%s/down.json", tmpdir);
    sl_schema *s = row_schema();
    assert_int_equal(sl_schema_save_json(s, "t", path, &err), SL_OK);
    assert_int_equal(pinst_make(&src, &sl_plugin_source_kafka, NULL, NULL, &err,
                                "{brokers: '%s', topics: ka-down, group: dn2, format: avro, "
                                "schema: '%s', schema_registry: 'http://127.0.0.1:1'}",
                                M.bootstrap, path),
                     SL_OK);
    assert_int_equal(next_error(&src, &err), SL_EIO);
    assert_non_null(strstr(err.msg, "schema registry http://127.0.0.1:1: cannot connect"));
    assert_int_equal(src.p->rejected(src.h), 0);
    pinst_free(&src);
    sl_schema_free(s);
}

/* Reader schemas: a sluice schema (by name, casts, missing nullable ->
 * null), the spec's schema (hint), an Avro .avsc (defaults); an
 * incompatible one stops the run naming the field. A garbage first
 * message does not decide the columns. */
static void test_reader_schemas(void **state)
{
    (void)state;
    const char *dir = subdir("rs");
    mock_topic(&M, "ka-rs", 1);
    uint8_t *g[3];
    size_t gl[3];
    framed(3, dir, 0, 3, g, gl);
    const void *v[] = {"junk", g[0], g[1], g[2]};
    size_t len[] = {4, gl[0], gl[1], gl[2]};
    produce_bin("ka-rs", v, len, 4);
    for (int i = 0; i < 3; i++)
        free(g[i]);
    pinst src;
    sl_err err;
    char path[300];
    /* no reader: the columns of the first message that has a known id */
    assert_int_equal(pinst_make(&src, &sl_plugin_source_kafka, NULL, NULL, &err,
                                "{brokers: '%s', topics: ka-rs, group: rs0, format: avro, "
                                "schema_dir: '%s', on_error: skip}", M.bootstrap, dir),
                     SL_OK);
    assert_int_equal(src.out->n, 6);
    char seen[3] = {0};
    assert_int_equal(read_rows(&src, 3, 1, 0, 3, seen), 3);
    pinst_free(&src);

    /* sluice schema file */
    sl_schema *rs = sl_schema_new();
    sl_schema_add(rs, "s", SL_STRING, 1, NULL);
    sl_schema_add(rs, "id", SL_FLOAT64, 0, NULL);
    sl_schema_add(rs, "extra", SL_STRING, 1, NULL);
    snprintf(path, sizeof path, "%s/reader.json", tmpdir);
    assert_int_equal(sl_schema_save_json(rs, "r", path, &err), SL_OK);
    assert_int_equal(pinst_make(&src, &sl_plugin_source_kafka, NULL, NULL, &err,
                                "{brokers: '%s', topics: ka-rs, group: rs1, format: avro, "
                                "schema_dir: '%s', schema: '%s', on_error: skip}",
                                M.bootstrap, dir, path),
                     SL_OK);
    assert_int_equal(src.out->n, 3);
    assert_int_equal(src.out->fields[1].type, SL_FLOAT64);
    int64_t got = 0;
    for (int t = 0; t < 400 && got < 3; t++) {
        sl_batch *b = NULL;
        assert_int_equal(src.p->next(src.h, &b, &err), SL_OK);
        for (int64_t r = 0; r < b->nrows; r++, got++) {
            int id = (int)sl_col_f64(b->cols[1], r);
            size_t n;
            char want[8];
            snprintf(want, sizeof want, "s%d", id);
            if (id % 4 == 1) {
                assert_false(sl_col_valid(b->cols[0], r));
            } else {
                const char *p = sl_col_str(b->cols[0], r, &n);
                assert_int_equal(n, strlen(want));
                assert_memory_equal(p, want, n);
            }
            assert_false(sl_col_valid(b->cols[2], r));
        }
        sl_batch_unref(b);
    }
    assert_int_equal(got, 3);
    pinst_free(&src);

    /* the spec's schema as the reader (a subset) */
    sl_schema *hint = sl_schema_new();
    sl_schema_add(hint, "ok", SL_BOOL, 1, NULL);
    assert_int_equal(pinst_make(&src, &sl_plugin_source_kafka, NULL, hint, &err,
                                "{brokers: '%s', topics: ka-rs, group: rs2, format: avro, "
                                "schema_dir: '%s', on_error: skip}", M.bootstrap, dir),
                     SL_OK);
    assert_int_equal(src.out->n, 1);
    assert_string_equal(src.out->fields[0].name, "ok");
    assert_int_equal(read_rows(&src, 3, 1, 0, 0, NULL), 3);
    pinst_free(&src);
    sl_schema_free(hint);

    /* an Avro reader schema: a field the writer lacks takes its default */
    snprintf(path, sizeof path, "%s/reader.avsc", tmpdir);
    FILE *fp = fopen(path, "w");
    fputs("{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"id\",\"type\":\"double\"},"
          "{\"name\":\"n\",\"type\":\"int\",\"default\":5}]}", fp);
    fclose(fp);
    assert_int_equal(pinst_make(&src, &sl_plugin_source_kafka, NULL, NULL, &err,
                                "{brokers: '%s', topics: ka-rs, group: rs3, format: avro, "
                                "schema_dir: '%s', schema: '%s', on_error: skip}",
                                M.bootstrap, dir, path),
                     SL_OK);
    assert_int_equal(src.out->fields[0].type, SL_FLOAT64);
    assert_int_equal(src.out->fields[1].type, SL_INT64);
    got = 0;
    for (int t = 0; t < 400 && got < 3; t++) {
        sl_batch *b = NULL;
        assert_int_equal(src.p->next(src.h, &b, &err), SL_OK);
        for (int64_t r = 0; r < b->nrows; r++, got++) {
            double id = sl_col_f64(b->cols[0], r);
            assert_true(id == 0.0 || id == 1.0 || id == 2.0);
            assert_int_equal(sl_col_i64(b->cols[1], r), 5);
        }
        sl_batch_unref(b);
    }
    assert_int_equal(got, 3);
    pinst_free(&src);

    /* incompatible: s is a string in the writer's schema */
    sl_schema_free(rs);
    rs = sl_schema_new();
    sl_schema_add(rs, "s", SL_INT64, 1, NULL);
    snprintf(path, sizeof path, "%s/bad_reader.json", tmpdir);
    assert_int_equal(sl_schema_save_json(rs, "r", path, &err), SL_OK);
    assert_int_equal(pinst_make(&src, &sl_plugin_source_kafka, NULL, NULL, &err,
                                "{brokers: '%s', topics: ka-rs, group: rs4, format: avro, "
                                "schema_dir: '%s', schema: '%s', on_error: skip}", M.bootstrap,
                                dir, path),
                     SL_OK);
    assert_int_equal(next_error(&src, &err), SL_ECONFIG);
    assert_non_null(strstr(err.msg, "the writer schema id 3 cannot be read as `schema`"));
    assert_non_null(strstr(err.msg, "field 's'"));
    pinst_free(&src);
    sl_schema_free(rs);
}

static sl_rc count_reject(void *arg, int64_t i, const char *why, sl_err *err)
{
    (void)i, (void)why, (void)err;
    (*(int *)arg)++;
    return SL_OK;
}

/* Every allocation failure is SL_ENOMEM, leaks nothing, and does not make
 * the sink claim a new schema id in the directory. */
static void test_alloc_failures(void **state)
{
    (void)state;
    const char *dir = subdir("oom");
    uint8_t *g[1];
    size_t gl[1];
    framed(1, dir, 0, 1, g, gl); /* writes 1.avsc */
    free(g[0]);
    sl_schema *s = row_schema();
    sl_batch *b = rows(s, 0, 4);
    sl_kavro_opts so = {.section = "sink 'kafka'", .dir = dir, .topic = "t"};
    sl_kavro_opts ro = {.section = "source 'kafka'", .dir = dir};
    long k;
    for (k = 0; k < 100000; k++) {
        sl_kavro_sink *snk = NULL;
        sl_kavro_src *src = NULL;
        sl_batch *out = NULL;
        rd_kafka_message_t m[5];
        rd_kafka_message_t *mp[5];
        uint8_t *copy[4] = {0};
        int rejected = 0;
        int64_t row[5];
        memset(m, 0, sizeof m);
        sl_mem_fail_after(k);
        sl_rc rc = sl_kavro_sink_new(&so, &snk, NULL);
        if (rc == SL_OK)
            rc = sl_kavro_sink_open(snk, s, NULL);
        for (int i = 0; rc == SL_OK && i < 4; i++) {
            const uint8_t *v;
            size_t n;
            rc = sl_kavro_sink_encode(snk, b, i, &v, &n, NULL);
            if (rc == SL_OK) {
                copy[i] = malloc(n);
                memcpy(copy[i], v, n);
                m[i].payload = copy[i];
                m[i].len = n;
            }
        }
        m[4].payload = "junk";
        m[4].len = 4;
        for (int i = 0; i < 5; i++)
            mp[i] = &m[i];
        if (rc == SL_OK)
            rc = sl_kavro_src_new(&ro, &src, NULL);
        if (rc == SL_OK)
            rc = sl_kavro_src_reader(src, NULL, NULL, NULL);
        if (rc == SL_OK)
            rc = sl_kavro_src_probe(src, m[0].payload, m[0].len, NULL);
        if (rc == SL_OK)
            rc = sl_kavro_src_decode(src, mp, 5, row, count_reject, &rejected, &out, NULL);
        sl_mem_fail_after(-1);
        if (rc == SL_OK) {
            assert_int_equal(sl_kavro_sink_id(snk), 1);
            assert_int_equal(out->nrows, 4);
            assert_int_equal(rejected, 1);
            check_row(out, 3, 3);
        }
        sl_batch_unref(out);
        sl_kavro_src_free(src);
        sl_kavro_sink_free(snk);
        for (int i = 0; i < 4; i++)
            free(copy[i]);
        if (rc == SL_OK)
            break;
        assert_int_equal(rc, SL_ENOMEM);
    }
    assert_true(k > 10);
    assert_false(file_exists(dir, "2.avsc"));
    sl_batch_unref(b);
    sl_schema_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_roundtrip_dir),
        cmocka_unit_test(test_dead_letters),
        cmocka_unit_test(test_registry),
        cmocka_unit_test(test_registry_unreachable),
        cmocka_unit_test(test_reader_schemas),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
