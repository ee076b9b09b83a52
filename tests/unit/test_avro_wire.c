/*
 * test_avro_wire.c: the Confluent wire format (magic 0, big-endian schema
 * id, Avro datum): encode -> decode round trips, rejected messages leave
 * no partial row, schema evolution between writer ids and a reader
 * schema, and the schema resolver: local directory and a Schema Registry
 * over HTTP (a fake server on a loopback thread: Content-Length and
 * chunked bodies, 404, 500, non-Avro schemas, basic auth).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "avro_test_util.h"
#include "sluice/avro.h"
#include "sluice/mem.h"

static sl_schema *schema3(void)
{
    sl_schema *s = sl_schema_new();
    sl_schema_add(s, "id", SL_INT64, 0, NULL);
    sl_schema_add(s, "name", SL_STRING, 1, NULL);
    sl_schema_add(s, "ts", SL_TIMESTAMP, 1, NULL);
    return s;
}

static sl_batch *batch3(const sl_schema *s, int n)
{
    sl_batch *b = sl_batch_new(s, n);
    for (int i = 0; i < n; i++) {
        char t[32];
        snprintf(t, sizeof t, "n%d", i);
        sl_column_append_int64(b->cols[0], i);
        i % 2 ? sl_column_append_null(b->cols[1]) : sl_column_append_str(b->cols[1], t, strlen(t));
        sl_column_append_int64(b->cols[2], 1000000LL * i);
    }
    sl_batch_seal(b, NULL);
    return b;
}

static void test_header(void **state)
{
    (void)state;
    uint8_t h[5];
    int32_t id;
    sl_err e;
    sl_avro_wire_put_header(h, 0x01020304);
    assert_memory_equal(h, "\x00\x01\x02\x03\x04", 5);
    assert_int_equal(sl_avro_wire_parse_header(h, 5, &id, &e), SL_OK);
    assert_int_equal(id, 0x01020304);
    assert_int_equal(sl_avro_wire_parse_header(h, 4, &id, &e), SL_EPARSE);
    assert_non_null(strstr(e.msg, "shorter than the 5-byte Confluent header"));
    h[0] = '{';
    assert_int_equal(sl_avro_wire_parse_header(h, 5, &id, &e), SL_EPARSE);
    assert_non_null(strstr(e.msg, "magic byte 0"));
}

static void test_round_trip(void **state)
{
    (void)state;
    sl_schema *s = schema3();
    sl_err e;
    sl_avro_wire_encoder *enc;
    assert_int_equal(sl_avro_wire_encoder_new(s, 42, &enc, &e), SL_OK);
    sl_avro_registry *reg;
    assert_int_equal(sl_avro_registry_new(NULL, NULL, 0, &reg, &e), SL_OK);
    const char *json = sl_avro_schema_json(sl_avro_wire_encoder_schema(enc));
    sl_avro_schema *ws;
    assert_int_equal(sl_avro_schema_parse(json, strlen(json), "w", &ws, &e), SL_OK);
    assert_int_equal(sl_avro_registry_add(reg, 42, ws, &e), SL_OK);
    sl_avro_wire_decoder *d;
    assert_int_equal(sl_avro_wire_decoder_new(sl_avro_registry_resolve, reg, NULL, &d, &e), SL_OK);
    assert_null(sl_avro_wire_decoder_schema(d));
    sl_batch *b = batch3(s, 5), *got;
    for (int64_t i = 0; i < 5; i++) {
        const uint8_t *m;
        size_t n;
        assert_int_equal(sl_avro_wire_encode(enc, b, i, &m, &n, &e), SL_OK);
        assert_int_equal(m[0], 0);
        assert_int_equal(m[4], 42);
        assert_int_equal(sl_avro_wire_decode(d, m, n, &e), SL_OK);
        /* rejected messages in between leave no trace */
        uint8_t bad[64];
        memcpy(bad, m, n);
        assert_int_equal(sl_avro_wire_decode(d, bad, n - 1, &e), SL_EPARSE);
        bad[n] = 0;
        assert_int_equal(sl_avro_wire_decode(d, bad, n + 1, &e), SL_EPARSE);
        assert_non_null(strstr(e.msg, "1 bytes follow the datum"));
        bad[4] = 9;
        assert_int_equal(sl_avro_wire_decode(d, bad, n, &e), SL_ENOTFOUND);
        assert_non_null(strstr(e.msg, "schema id 9 not found"));
    }
    assert_int_equal(sl_avro_wire_decoder_rows(d), 5);
    assert_true(sl_schema_equal(sl_avro_wire_decoder_schema(d), s));
    assert_int_equal(sl_avro_wire_decoder_take(d, &got, &e), SL_OK);
    assert_int_equal(got->nrows, 5);
    for (int64_t i = 0; i < 5; i++) {
        assert_int_equal(sl_col_i64(got->cols[0], i), i);
        assert_int_equal(sl_col_valid(got->cols[1], i), i % 2 == 0);
        assert_int_equal(sl_col_i64(got->cols[2], i), 1000000LL * i);
    }
    assert_int_equal(got->cols[1]->null_count, 2);
    sl_batch_unref(got);
    assert_int_equal(sl_avro_wire_decoder_take(d, &got, &e), SL_OK);
    assert_int_equal(got->nrows, 0);
    sl_batch_unref(got);
    assert_int_equal(sl_avro_wire_encode(enc, b, 5, &(const uint8_t *){NULL}, &(size_t){0}, &e),
                     SL_EINVAL);
    sl_batch_unref(b);
    sl_avro_wire_decoder_free(d);
    sl_avro_wire_encoder_free(enc);
    sl_avro_registry_free(reg);
    sl_schema_free(s);
}

/* Writer ids 1 (v1) and 2 (v2, a new field and a widened type) read as
 * one reader schema; schemas come from a directory. */
static void test_evolution_and_dir(void **state)
{
    (void)state;
    char dir[] = "/tmp/sl_avro_wire.XXXXXX", p[600];
    assert_non_null(mkdtemp(dir));
    snprintf(p, sizeof p, "%s/1.avsc", dir);
    write_text(p, "{\"type\":\"record\",\"name\":\"V\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"}]}");
    snprintf(p, sizeof p, "%s/2.avsc", dir);
    write_text(p, "{\"type\":\"record\",\"name\":\"V\",\"fields\":[{\"name\":\"a\",\"type\":\"long\"},"
                  "{\"name\":\"b\",\"type\":[\"null\",\"string\"],\"default\":null}]}");
    snprintf(p, sizeof p, "%s/3.avsc", dir);
    write_text(p, "{\"type\":\"record\",\"name\":\"V\",\"fields\":[{\"name\":\"a\",\"type\":\"string\"}]}");
    const char *reader = "{\"type\":\"record\",\"name\":\"V\",\"fields\":[{\"name\":\"a\",\"type\":\"double\"},"
                         "{\"name\":\"b\",\"type\":[\"null\",\"string\"],\"default\":null}]}";
    sl_avro_schema *rs;
    sl_err e;
    assert_int_equal(sl_avro_schema_parse(reader, strlen(reader), "r", &rs, &e), SL_OK);
    sl_avro_registry *reg;
    assert_int_equal(sl_avro_registry_new(dir, NULL, 0, &reg, &e), SL_OK);
    sl_avro_wire_decoder *d;
    assert_int_equal(sl_avro_wire_decoder_new(sl_avro_registry_resolve, reg, rs, &d, &e), SL_OK);
    assert_int_equal(sl_avro_wire_decoder_schema(d)->n, 2);
    const uint8_t m1[] = {0, 0, 0, 0, 1, 0x0e};             /* a = 7 */
    const uint8_t m2[] = {0, 0, 0, 0, 2, 0x10, 2, 2, 'h'};  /* a = 8, b = "h" */
    const uint8_t m3[] = {0, 0, 0, 0, 3, 2, 'x'};
    assert_int_equal(sl_avro_wire_decode(d, m1, sizeof m1, &e), SL_OK);
    assert_int_equal(sl_avro_wire_decode(d, m2, sizeof m2, &e), SL_OK);
    assert_int_equal(sl_avro_wire_decode(d, m3, sizeof m3, &e), SL_ESCHEMA);
    assert_non_null(strstr(e.msg, "schema id 3"));
    assert_non_null(strstr(e.msg, "cannot be read as"));
    sl_batch *b;
    assert_int_equal(sl_avro_wire_decoder_take(d, &b, &e), SL_OK);
    assert_int_equal(b->nrows, 2);
    assert_true(sl_col_f64(b->cols[0], 0) == 7.0 && sl_col_f64(b->cols[0], 1) == 8.0);
    assert_false(sl_col_valid(b->cols[1], 0));
    size_t n;
    assert_memory_equal(sl_col_str(b->cols[1], 1, &n), "h", 1);
    sl_batch_unref(b);
    sl_avro_wire_decoder_free(d);
    sl_avro_registry_free(reg);
    sl_avro_schema_free(rs);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

/* ---- a fake Schema Registry on loopback ---- */

typedef struct fake {
    int fd, port, nreq;
    char last_request[2048];
} fake;

static const char *reply_for(const char *req)
{
    if (strstr(req, "GET /schemas/ids/5 "))
        return "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.schemaregistry.v1+json\r\n"
               "Content-Length: 63\r\n\r\n"
               "{\"schema\":\"{\\\"type\\\":\\\"record\\\",\\\"name\\\":\\\"X\\\",\\\"fields\\\":[]}\"}";
    if (strstr(req, "GET /reg/schemas/ids/6 "))
        return "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
               "f\r\n{\"schema\":\"\\\"lo\r\n8\r\nng\\\"\"}  \r\n0\r\n\r\n";
    if (strstr(req, "GET /schemas/ids/7 "))
        return "HTTP/1.1 200 OK\r\nContent-Length: 48\r\n\r\n"
               "{\"schemaType\":\"PROTOBUF\",\"schema\":\"message M{}\"}";
    if (strstr(req, "GET /schemas/ids/8 "))
        return "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\noops";
    return "HTTP/1.1 404 Not Found\r\nContent-Length: 57\r\n\r\n"
           "{\"error_code\":40403,\"message\":\"Schema 99 not found\"}     ";
}

static void *serve(void *arg)
{
    fake *f = arg;
    for (;;) {
        int c = accept(f->fd, NULL, NULL);
        if (c < 0)
            return NULL;
        char req[2048];
        size_t n = 0;
        while (n < sizeof req - 1) {
            ssize_t k = recv(c, req + n, sizeof req - 1 - n, 0);
            if (k <= 0)
                break;
            n += (size_t)k;
            req[n] = '\0';
            if (strstr(req, "\r\n\r\n"))
                break;
        }
        req[n] = '\0';
        snprintf(f->last_request, sizeof f->last_request, "%s", req);
        f->nreq++;
        const char *r = reply_for(req);
        if (send(c, r, strlen(r), MSG_NOSIGNAL) < 0)
            perror("send");
        close(c);
    }
}

static void test_registry_http(void **state)
{
    (void)state;
    fake f = {0};
    f.fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    assert_int_equal(bind(f.fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(f.fd, 8), 0);
    getsockname(f.fd, (struct sockaddr *)&a, &al);
    f.port = ntohs(a.sin_port);
    pthread_t th;
    pthread_create(&th, NULL, serve, &f);

    char url[128];
    snprintf(url, sizeof url, "http://user:pw@127.0.0.1:%d/", f.port);
    sl_avro_registry *reg;
    sl_err e;
    const sl_avro_schema *s;
    assert_int_equal(sl_avro_registry_new(NULL, url, 2000, &reg, &e), SL_OK);
    assert_int_equal(sl_avro_registry_get(reg, 5, &s, &e), SL_OK);
    assert_non_null(strstr(sl_avro_schema_json(s), "\"name\":\"X\""));
    assert_non_null(strstr(f.last_request, "Authorization: Basic dXNlcjpwdw=="));
    int before = f.nreq;
    assert_int_equal(sl_avro_registry_get(reg, 5, &s, &e), SL_OK); /* cached */
    assert_int_equal(f.nreq, before);
    assert_int_equal(sl_avro_registry_get(reg, 99, &s, &e), SL_ENOTFOUND);
    assert_non_null(strstr(e.msg, "schema id 99 is not in the schema registry"));
    assert_int_equal(sl_avro_registry_get(reg, 7, &s, &e), SL_EUNSUPPORTED);
    assert_non_null(strstr(e.msg, "PROTOBUF schema, not Avro"));
    assert_int_equal(sl_avro_registry_get(reg, 8, &s, &e), SL_EIO);
    assert_non_null(strstr(e.msg, "answered HTTP 500: oops"));
    sl_avro_registry_free(reg);

    snprintf(url, sizeof url, "http://127.0.0.1:%d/reg", f.port);
    assert_int_equal(sl_avro_registry_new(NULL, url, 2000, &reg, &e), SL_OK);
    assert_int_equal(sl_avro_registry_get(reg, 6, &s, &e), SL_OK); /* chunked */
    assert_string_equal(sl_avro_schema_json(s), "\"long\"");
    sl_avro_registry_free(reg);

    assert_int_equal(sl_avro_registry_new(NULL, "https://x", 0, &reg, &e), SL_EUNSUPPORTED);
    assert_non_null(strstr(e.msg, "only http://"));
    /* nothing listens on port 1 */
    assert_int_equal(sl_avro_registry_new(NULL, "http://127.0.0.1:1", 500, &reg, &e), SL_OK);
    assert_int_equal(sl_avro_registry_get(reg, 5, &s, &e), SL_EIO);
    assert_non_null(strstr(e.msg, "cannot connect to 127.0.0.1:1"));
    sl_avro_registry_free(reg);

    shutdown(f.fd, SHUT_RDWR);
    close(f.fd);
    pthread_join(th, NULL);
}

static void test_alloc_failures(void **state)
{
    (void)state;
    sl_schema *s = schema3();
    sl_batch *b = batch3(s, 4);
    for (long k = 0; k < 10000; k++) {
        sl_mem_fail_after(k);
        sl_avro_wire_encoder *enc = NULL;
        sl_avro_registry *reg = NULL;
        sl_avro_wire_decoder *d = NULL;
        sl_batch *got = NULL;
        sl_avro_schema *ws = NULL;
        sl_rc rc = sl_avro_wire_encoder_new(s, 3, &enc, NULL);
        if (rc == SL_OK)
            rc = sl_avro_registry_new(NULL, NULL, 0, &reg, NULL);
        if (rc == SL_OK) {
            const char *j = sl_avro_schema_json(sl_avro_wire_encoder_schema(enc));
            rc = sl_avro_schema_parse(j, strlen(j), "w", &ws, NULL);
        }
        if (rc == SL_OK)
            rc = sl_avro_registry_add(reg, 3, ws, NULL);
        if (rc == SL_OK)
            rc = sl_avro_wire_decoder_new(sl_avro_registry_resolve, reg, NULL, &d, NULL);
        for (int64_t i = 0; rc == SL_OK && i < b->nrows; i++) {
            const uint8_t *m;
            size_t n;
            rc = sl_avro_wire_encode(enc, b, i, &m, &n, NULL);
            if (rc == SL_OK)
                rc = sl_avro_wire_decode(d, m, n, NULL);
        }
        if (rc == SL_OK)
            rc = sl_avro_wire_decoder_take(d, &got, NULL);
        sl_mem_fail_after(-1);
        sl_batch_unref(got);
        sl_avro_wire_decoder_free(d);
        sl_avro_registry_free(reg);
        sl_avro_wire_encoder_free(enc);
        if (rc == SL_OK)
            break;
        assert_int_equal(rc, SL_ENOMEM);
    }
    sl_batch_unref(b);
    sl_schema_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_evolution_and_dir),
        cmocka_unit_test(test_registry_http),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
