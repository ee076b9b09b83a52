/* Unit tests for the Prometheus registry (src/core/prom.c) and the text
 * buffer it renders with (src/core/strbuf.c): registration rules, the
 * three metric types, the exact exposition text (escaping, buckets, +Inf,
 * _sum/_count), hidden series, the series cap, thread safety and
 * allocation failures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "sluice/mem.h"
#include "sluice/prom.h"
#include "sluice/strbuf.h"

static int reset(void **state)
{
    (void)state;
    sl_mem_fail_after(-1);
    sl_prom_reset();
    return 0;
}

static char *render(void)
{
    char *text = NULL;
    size_t len = 0;
    sl_err e;
    sl_err_clear(&e);
    assert_int_equal(sl_prom_render(&text, &len, &e), SL_OK);
    assert_non_null(text);
    assert_int_equal(strlen(text), len);
    return text;
}

static void test_register_rules(void **state)
{
    (void)state;
    sl_prom_family *f = NULL, *g = NULL;
    sl_err e;
    sl_err_clear(&e);
    const char *const l1[] = {"model", NULL};
    const char *const l2[] = {"route", NULL};
    const char *const bad_label[] = {"1x", NULL};
    const char *const reserved[] = {"__name", NULL};
    const char *const dup[] = {"a", "a", NULL};
    const char *const le[] = {"le", NULL};
    assert_int_equal(sl_prom_register(SL_PROM_COUNTER, "a_total", "help", l1, NULL, 0, &f, &e),
                     SL_OK);
    /* idempotent with the same definition */
    assert_int_equal(sl_prom_register(SL_PROM_COUNTER, "a_total", "other help", l1, NULL, 0, &g,
                                      &e),
                     SL_OK);
    assert_ptr_equal(f, g);
    assert_int_equal(sl_prom_register(SL_PROM_GAUGE, "a_total", "h", l1, NULL, 0, &g, &e),
                     SL_ECONFIG);
    assert_non_null(strstr(e.msg, "metric 'a_total' is already registered"));
    assert_int_equal(sl_prom_register(SL_PROM_COUNTER, "a_total", "h", l2, NULL, 0, &g, &e),
                     SL_ECONFIG);
    assert_int_equal(sl_prom_register(SL_PROM_COUNTER, "9lives", "h", NULL, NULL, 0, &g, &e),
                     SL_ECONFIG);
    assert_non_null(strstr(e.msg, "invalid metric name '9lives'"));
    assert_int_equal(sl_prom_register(SL_PROM_COUNTER, "a-b", "h", NULL, NULL, 0, &g, &e),
                     SL_ECONFIG);
    assert_int_equal(sl_prom_register(SL_PROM_COUNTER, "x_total", "h", bad_label, NULL, 0, &g,
                                      &e),
                     SL_ECONFIG);
    assert_non_null(strstr(e.msg, "invalid label name '1x'"));
    assert_int_equal(sl_prom_register(SL_PROM_COUNTER, "x_total", "h", reserved, NULL, 0, &g,
                                      &e),
                     SL_ECONFIG);
    assert_int_equal(sl_prom_register(SL_PROM_COUNTER, "x_total", "h", dup, NULL, 0, &g, &e),
                     SL_ECONFIG);
    assert_non_null(strstr(e.msg, "duplicate label 'a'"));
    assert_int_equal(sl_prom_register(SL_PROM_HISTOGRAM, "h_seconds", "h", le, NULL, 0, &g, &e),
                     SL_ECONFIG);
    const double unsorted[] = {1, 0.5};
    assert_int_equal(sl_prom_register(SL_PROM_HISTOGRAM, "h_seconds", "h", NULL, unsorted, 2,
                                      &g, &e),
                     SL_ECONFIG);
    assert_non_null(strstr(e.msg, "strictly increasing"));
    const double inf[] = {1, INFINITY};
    assert_int_equal(sl_prom_register(SL_PROM_HISTOGRAM, "h_seconds", "h", NULL, inf, 2, &g,
                                      &e),
                     SL_ECONFIG);
    assert_int_equal(sl_prom_register(SL_PROM_HISTOGRAM, "h_seconds", "h", NULL, inf, 0, &g,
                                      &e),
                     SL_ECONFIG);
    assert_int_equal(sl_prom_register((sl_prom_type)9, "t", "h", NULL, NULL, 0, &g, &e),
                     SL_EINVAL);
    assert_int_equal(sl_prom_register(SL_PROM_GAUGE, "ns:sub_metric", "h", NULL, NULL, 0, &g,
                                      &e),
                     SL_OK);
}

static void test_counter_gauge_text(void **state)
{
    (void)state;
    sl_prom_family *c, *g, *u;
    const char *const labels[] = {"model", "status", NULL};
    assert_int_equal(sl_prom_register(SL_PROM_COUNTER, "req_total",
                                      "Requests \\ answered\nby status.", labels, NULL, 0, &c,
                                      NULL),
                     SL_OK);
    assert_int_equal(sl_prom_register(SL_PROM_GAUGE, "temp", "Temperature.", NULL, NULL, 0, &g,
                                      NULL),
                     SL_OK);
    assert_int_equal(sl_prom_register(SL_PROM_GAUGE, "unused", "No series yet.", labels, NULL,
                                      0, &u, NULL),
                     SL_OK);
    sl_prom_series *a = sl_prom_with(c, "m\"1\"", "200");
    sl_prom_inc(a);
    sl_prom_add(a, 2.5);
    sl_prom_add(a, -4);  /* counters never go down */
    sl_prom_add(a, NAN); /* nor become NaN */
    sl_prom_set(a, 100); /* not a gauge: ignored */
    sl_prom_observe(a, 1);
    assert_true(sl_prom_value(a) == 3.5);
    const char *vals[] = {"a\\b\nc", NULL}; /* NULL value reads as "" */
    sl_prom_inc(sl_prom_series_get(c, vals));
    assert_ptr_equal(sl_prom_with(c, "m\"1\"", "200"), a);
    sl_prom_series *t = sl_prom_with(g);
    sl_prom_set(t, -1.25);
    sl_prom_add(t, 0.25);
    sl_prom_inc(t);
    assert_true(sl_prom_value(t) == 0);
    sl_prom_set(t, INFINITY);
    char *text = render();
    assert_string_equal(text,
                        "# HELP req_total Requests \\\\ answered\\nby status.\n"
                        "# TYPE req_total counter\n"
                        "req_total{model=\"m\\\"1\\\"\",status=\"200\"} 3.5\n"
                        "req_total{model=\"a\\\\b\\nc\",status=\"\"} 1\n"
                        "# HELP temp Temperature.\n"
                        "# TYPE temp gauge\n"
                        "temp +Inf\n"
                        "# HELP unused No series yet.\n"
                        "# TYPE unused gauge\n");
    sl_free(text);
    sl_prom_set(t, NAN);
    text = render();
    assert_non_null(strstr(text, "temp NaN\n"));
    sl_free(text);
    sl_prom_set(t, 0.1);
    text = render();
    assert_non_null(strstr(text, "temp 0.1\n"));
    sl_free(text);
}

static void test_histogram_text(void **state)
{
    (void)state;
    sl_prom_family *h;
    const char *const labels[] = {"route", NULL};
    const double b[] = {0.001, 0.5, 2};
    assert_int_equal(sl_prom_register(SL_PROM_HISTOGRAM, "lat_seconds", "Latency.", labels, b,
                                      3, &h, NULL),
                     SL_OK);
    sl_prom_series *s = sl_prom_with(h, "predict");
    sl_prom_observe(s, 0.0005);
    sl_prom_observe(s, 0.001); /* le is inclusive */
    sl_prom_observe(s, 1);
    sl_prom_observe(s, 100);
    sl_prom_observe(s, NAN); /* ignored */
    sl_prom_inc(s);          /* not a counter: ignored */
    assert_true(sl_prom_value(s) == 4);
    assert_true(sl_prom_bucket(s, 0) == 2);
    assert_true(sl_prom_bucket(s, 2) == 3);
    assert_true(sl_prom_bucket(s, 3) == 4);
    assert_true(sl_prom_bucket(s, 4) == 0);
    char *text = render();
    assert_string_equal(text,
                        "# HELP lat_seconds Latency.\n"
                        "# TYPE lat_seconds histogram\n"
                        "lat_seconds_bucket{route=\"predict\",le=\"0.001\"} 2\n"
                        "lat_seconds_bucket{route=\"predict\",le=\"0.5\"} 2\n"
                        "lat_seconds_bucket{route=\"predict\",le=\"2\"} 3\n"
                        "lat_seconds_bucket{route=\"predict\",le=\"+Inf\"} 4\n"
                        "lat_seconds_sum{route=\"predict\"} 101.0015\n"
                        "lat_seconds_count{route=\"predict\"} 4\n");
    sl_free(text);
    /* default buckets, no labels: rendered at once with zero counts */
    sl_prom_family *d;
    assert_int_equal(sl_prom_register(SL_PROM_HISTOGRAM, "d_seconds", "D.", NULL, NULL, 0, &d,
                                      NULL),
                     SL_OK);
    text = render();
    assert_non_null(strstr(text, "d_seconds_bucket{le=\"5e-05\"} 0\n"));
    assert_non_null(strstr(text, "d_seconds_bucket{le=\"10\"} 0\n"));
    assert_non_null(strstr(text, "d_seconds_bucket{le=\"+Inf\"} 0\nd_seconds_sum 0\n"
                                 "d_seconds_count 0\n"));
    /* families are sorted by name */
    assert_true(strstr(text, "# HELP d_seconds") < strstr(text, "# HELP lat_seconds"));
    sl_free(text);
}

static void test_remove_and_revive(void **state)
{
    (void)state;
    sl_prom_family *f;
    const char *const labels[] = {"version", NULL};
    assert_int_equal(sl_prom_register(SL_PROM_GAUGE, "info", "I.", labels, NULL, 0, &f, NULL),
                     SL_OK);
    sl_prom_series *v1 = sl_prom_with(f, "1");
    sl_prom_set(v1, 1);
    sl_prom_series_remove(v1);
    sl_prom_series *v2 = sl_prom_with(f, "2");
    sl_prom_set(v2, 1);
    sl_prom_set(v1, 5); /* a stale pointer stays usable */
    char *text = render();
    assert_null(strstr(text, "version=\"1\""));
    assert_non_null(strstr(text, "info{version=\"2\"} 1\n"));
    sl_free(text);
    assert_ptr_equal(sl_prom_with(f, "1"), v1); /* revived, reset to 0 */
    text = render();
    assert_non_null(strstr(text, "info{version=\"1\"} 0\n"));
    sl_free(text);
}

static void test_sinks(void **state)
{
    (void)state;
    /* NULL family: a no-op series */
    sl_prom_series *s = sl_prom_with(NULL, "x");
    assert_non_null(s);
    sl_prom_inc(s);
    sl_prom_observe(s, 1);
    sl_prom_series_remove(s);
    assert_true(sl_prom_value(s) == 0);
    sl_prom_inc(NULL);
    /* past the series cap, updates go to an unrendered sink */
    sl_prom_family *f;
    const char *const labels[] = {"id", NULL};
    assert_int_equal(sl_prom_register(SL_PROM_COUNTER, "many_total", "M.", labels, NULL, 0, &f,
                                      NULL),
                     SL_OK);
    char id[32];
    for (int i = 0; i < SL_PROM_MAX_SERIES; i++) {
        snprintf(id, sizeof id, "%d", i);
        sl_prom_inc(sl_prom_with(f, id));
    }
    sl_prom_series *over = sl_prom_with(f, "overflow");
    sl_prom_inc(over);
    assert_ptr_equal(sl_prom_with(f, "another"), over);
    char *text = render();
    assert_null(strstr(text, "overflow"));
    assert_non_null(strstr(text, "many_total{id=\"9999\"} 1\n"));
    sl_free(text);
}

#define THREADS 4
#define ITERS 50000

static sl_prom_family *g_c, *g_h;

static void *hammer(void *arg)
{
    char id[8];
    snprintf(id, sizeof id, "%d", (int)(intptr_t)arg % 2);
    for (int i = 0; i < ITERS; i++) {
        sl_prom_inc(sl_prom_with(g_c, id));
        sl_prom_observe(sl_prom_with(g_h), 0.25);
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    const char *const labels[] = {"shard", NULL};
    const double b[] = {0.5};
    assert_int_equal(sl_prom_register(SL_PROM_COUNTER, "t_total", "T.", labels, NULL, 0, &g_c,
                                      NULL),
                     SL_OK);
    assert_int_equal(sl_prom_register(SL_PROM_HISTOGRAM, "t_seconds", "T.", NULL, b, 1, &g_h,
                                      NULL),
                     SL_OK);
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, hammer, (void *)(intptr_t)i), 0);
    /* render concurrently with the updates */
    for (int i = 0; i < 20; i++)
        sl_free(render());
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    assert_true(sl_prom_value(sl_prom_with(g_c, "0")) == (double)ITERS * THREADS / 2);
    assert_true(sl_prom_value(sl_prom_with(g_c, "1")) == (double)ITERS * THREADS / 2);
    char *text = render();
    assert_non_null(strstr(text, "t_seconds_sum 50000\n"));
    assert_non_null(strstr(text, "t_seconds_count 200000\n"));
    sl_free(text);
}

static void test_alloc_failures(void **state)
{
    (void)state;
    const char *const labels[] = {"a", "b", NULL};
    for (long n = 0; n < 60; n++) {
        sl_prom_reset();
        sl_mem_fail_after(n);
        sl_prom_family *f = NULL;
        sl_err e;
        sl_err_clear(&e);
        sl_rc rc = sl_prom_register(SL_PROM_HISTOGRAM, "fail_seconds", "F.", labels, NULL, 0,
                                    &f, &e);
        sl_prom_series *s = sl_prom_with(f, "x", "y"); /* never NULL */
        sl_prom_observe(s, 0.1);
        char *text = NULL;
        size_t len;
        sl_rc r2 = sl_prom_render(&text, &len, &e);
        sl_mem_fail_after(-1);
        if (rc == SL_OK && r2 == SL_OK && strstr(text, "fail_seconds_count{a=\"x\",b=\"y\"} 1"))
            n = 1000; /* everything fit: done */
        assert_true(rc == SL_OK || rc == SL_ENOMEM);
        assert_true(r2 == SL_OK || r2 == SL_ENOMEM);
        assert_true(r2 != SL_OK || text != NULL);
        sl_free(text);
    }
    sl_mem_fail_after(-1);
}

static void test_strbuf(void **state)
{
    (void)state;
    sl_strbuf b = {0};
    sl_sb_json_str(&b, "a\"b\\c\n\t\x01\xc3\xa9", 10);
    sl_sb_char(&b, ' ');
    sl_sb_json_double(&b, 0.1);
    sl_sb_char(&b, ' ');
    sl_sb_json_double(&b, NAN);
    sl_sb_char(&b, ' ');
    sl_sb_json_double(&b, 3);
    sl_sb_printf(&b, " %d-%s", 42, "x");
    size_t len;
    char *p = sl_sb_take(&b, &len);
    assert_string_equal(p, "\"a\\\"b\\\\c\\n\\t\\u0001\xc3\xa9\" 0.1 null 3.0 42-x");
    assert_int_equal(len, strlen(p));
    sl_free(p);
    /* invalid UTF-8 becomes U+FFFD; valid multi-byte sequences stay */
    const char bad[] = "a\xff|\xc3|\xc0\xaf|\xed\xa0\x80|\xf0\x9f\x98\x80|\xf4\x90\x80\x80";
    sl_sb_json_str(&b, bad, sizeof bad - 1);
    p = sl_sb_take(&b, NULL);
    assert_string_equal(p, "\"a\\ufffd|\\ufffd|\\ufffd\\ufffd|\\ufffd\\ufffd\\ufffd|"
                           "\xf0\x9f\x98\x80|\\ufffd\\ufffd\\ufffd\\ufffd\"");
    sl_free(p);
    /* long printf goes past the small stack buffer */
    char big[600];
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    sl_sb_printf(&b, "<%s>", big);
    assert_int_equal(b.n, 601);
    sl_sb_free(&b);
    /* allocation failure: sticky, take returns NULL */
    sl_mem_fail_after(0);
    sl_sb_str(&b, "x");
    sl_mem_fail_after(-1);
    sl_sb_str(&b, "y");
    assert_true(b.failed);
    assert_null(sl_sb_take(&b, &len));
    assert_int_equal(len, 0);
    sl_sb_ensure(&b);
    p = sl_sb_take(&b, NULL);
    assert_string_equal(p, "");
    sl_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_register_rules, reset, reset),
        cmocka_unit_test_setup_teardown(test_counter_gauge_text, reset, reset),
        cmocka_unit_test_setup_teardown(test_histogram_text, reset, reset),
        cmocka_unit_test_setup_teardown(test_remove_and_revive, reset, reset),
        cmocka_unit_test_setup_teardown(test_sinks, reset, reset),
        cmocka_unit_test_setup_teardown(test_threads, reset, reset),
        cmocka_unit_test_setup_teardown(test_alloc_failures, reset, reset),
        cmocka_unit_test_setup_teardown(test_strbuf, reset, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
