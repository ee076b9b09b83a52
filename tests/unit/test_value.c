/*
 * test_value.c: scalar parsing/formatting (value.h), the contract every
 * text format shares. The float tests compare against strtod bit for bit
 * and check shortest output against a brute-force reference.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/value.h"

#define S(lit) lit, (sizeof lit - 1)

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void)
{
    /* splitmix64: deterministic, so failures reproduce */
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double bits_to_double(uint64_t b)
{
    double d;
    memcpy(&d, &b, sizeof d);
    return d;
}
static uint64_t double_bits(double d)
{
    uint64_t b;
    memcpy(&b, &d, sizeof b);
    return b;
}

static void test_bool(void **state)
{
    (void)state;
    int b = -1;
    assert_int_equal(sl_parse_bool(S("true"), &b), 0);
    assert_int_equal(b, 1);
    assert_int_equal(sl_parse_bool(S("FALSE"), &b), 0);
    assert_int_equal(b, 0);
    assert_int_equal(sl_parse_bool(S("True"), &b), 0);
    assert_int_equal(b, 1);
    assert_int_equal(sl_parse_bool(S("t"), &b), -1);
    assert_int_equal(sl_parse_bool(S("f"), &b), -1);
    assert_int_equal(sl_parse_bool(S("yes"), &b), -1);
    assert_int_equal(sl_parse_bool(S("truex"), &b), -1);
    assert_int_equal(sl_parse_bool(S(" true"), &b), -1);
    assert_int_equal(sl_parse_bool("true", 3, &b), -1); /* length rules */
    assert_int_equal(sl_parse_bool(S(""), &b), -1);
}

static void test_int64(void **state)
{
    (void)state;
    int64_t v = 0;
    assert_int_equal(sl_parse_int64(S("0"), &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(sl_parse_int64(S("-42"), &v), 0);
    assert_int_equal(v, -42);
    assert_int_equal(sl_parse_int64(S("+7"), &v), 0);
    assert_int_equal(v, 7);
    assert_int_equal(sl_parse_int64(S("007"), &v), 0);
    assert_int_equal(v, 7);
    assert_int_equal(sl_parse_int64(S("9223372036854775807"), &v), 0);
    assert_true(v == INT64_MAX);
    assert_int_equal(sl_parse_int64(S("-9223372036854775808"), &v), 0);
    assert_true(v == INT64_MIN);
    assert_int_equal(sl_parse_int64(S("00000000000000000000000012"), &v), 0);
    assert_int_equal(v, 12);
    assert_int_equal(sl_parse_int64(S("9223372036854775808"), &v), -1);
    assert_int_equal(sl_parse_int64(S("-9223372036854775809"), &v), -1);
    assert_int_equal(sl_parse_int64(S("99999999999999999999"), &v), -1);
    assert_int_equal(sl_parse_int64(S(""), &v), -1);
    assert_int_equal(sl_parse_int64(S("-"), &v), -1);
    assert_int_equal(sl_parse_int64(S("+"), &v), -1);
    assert_int_equal(sl_parse_int64(S("1.0"), &v), -1);
    assert_int_equal(sl_parse_int64(S("1e3"), &v), -1);
    assert_int_equal(sl_parse_int64(S(" 1"), &v), -1);
    assert_int_equal(sl_parse_int64(S("1 "), &v), -1);
    assert_int_equal(sl_parse_int64(S("abc"), &v), -1);
    assert_int_equal(sl_parse_int64(S("0x10"), &v), -1);
    /* not NUL-terminated: only n bytes count */
    assert_int_equal(sl_parse_int64("123456", 3, &v), 0);
    assert_int_equal(v, 123);
}

static void test_int64_format(void **state)
{
    (void)state;
    char buf[SL_FMT_MAX];
    assert_int_equal(sl_format_int64(0, buf), 1);
    assert_string_equal(buf, "0");
    sl_format_int64(-1234567, buf);
    assert_string_equal(buf, "-1234567");
    sl_format_int64(INT64_MIN, buf);
    assert_string_equal(buf, "-9223372036854775808");
    sl_format_int64(INT64_MAX, buf);
    assert_string_equal(buf, "9223372036854775807");
    for (int i = 0; i < 100000; i++) {
        int64_t x = (int64_t)rnd() >> (rnd() % 64), y;
        int n = sl_format_int64(x, buf);
        assert_int_equal(sl_parse_int64(buf, (size_t)n, &y), 0);
        assert_true(x == y);
        char ref[32];
        snprintf(ref, sizeof ref, "%lld", (long long)x);
        assert_string_equal(buf, ref);
    }
}

static void expect_float(const char *s, double want)
{
    double v = -12345;
    assert_int_equal(sl_parse_float64(s, strlen(s), &v), 0);
    if (isnan(want))
        assert_true(isnan(v));
    else
        assert_true(double_bits(v) == double_bits(want));
}

static void expect_not_float(const char *s)
{
    double v;
    if (sl_parse_float64(s, strlen(s), &v) == 0)
        fail_msg("'%s' parsed as a float", s);
}

static void test_float_parse(void **state)
{
    (void)state;
    expect_float("0", 0.0);
    expect_float("-0", -0.0);
    expect_float("-0.0", -0.0);
    expect_float("1.5", 1.5);
    expect_float("+1.5", 1.5);
    expect_float(".5", 0.5);
    expect_float("5.", 5.0);
    expect_float("1e3", 1000.0);
    expect_float("1E-3", 0.001);
    expect_float("1e+300", 1e300);
    expect_float("0.1", 0.1);
    expect_float("123456789012345678901234567890", 123456789012345678901234567890.0);
    expect_float("1e400", INFINITY);
    expect_float("-1e400", -INFINITY);
    expect_float("1e-400", 0.0);
    expect_float("4.9406564584124654e-324", 4.9406564584124654e-324);
    expect_float("2.2250738585072011e-308", 2.2250738585072011e-308);
    expect_float("1.7976931348623157e308", 1.7976931348623157e308);
    expect_float("9007199254740993", 9007199254740992.0); /* ties to even */
    expect_float("0e999999999999", 0.0);
    expect_float("1e22", 1e22);
    expect_float("1e23", 1e23);
    expect_float("12345e30", 12345e30);
    expect_float("nan", NAN);
    expect_float("NaN", NAN);
    expect_float("inf", INFINITY);
    expect_float("-Inf", -INFINITY);
    expect_float("+INFINITY", INFINITY);
    expect_float("42", 42.0);
    /* a long decimal (slow path with a heap copy) */
    char longnum[400];
    memset(longnum, '0', sizeof longnum);
    longnum[0] = '0';
    longnum[1] = '.';
    longnum[398] = '1';
    longnum[399] = '\0';
    expect_float(longnum, strtod(longnum, NULL));

    expect_not_float("");
    expect_not_float("-");
    expect_not_float(".");
    expect_not_float("-.");
    expect_not_float("e5");
    expect_not_float("1e");
    expect_not_float("1e+");
    expect_not_float("1.2.3");
    expect_not_float("0x1p3");
    expect_not_float(" 1.5");
    expect_not_float("1.5 ");
    expect_not_float("1,5");
    expect_not_float("abc");
    expect_not_float("infinit");
    expect_not_float("nanx");
    expect_not_float("--1");
    double v;
    assert_int_equal(sl_parse_float64("1.25xyz", 4, &v), 0);
    assert_true(v == 1.25);
}

/* Random decimal strings of many shapes must parse exactly like strtod. */
static void test_float_parse_vs_strtod(void **state)
{
    (void)state;
    char buf[64];
    for (int i = 0; i < 300000; i++) {
        int nd = 1 + (int)(rnd() % 20), n = 0;
        if (rnd() % 2)
            buf[n++] = '-';
        int point = (int)(rnd() % (unsigned)(nd + 1));
        for (int d = 0; d < nd; d++) {
            if (d == point && d > 0)
                buf[n++] = '.';
            buf[n++] = (char)('0' + rnd() % 10);
        }
        if (rnd() % 3 == 0)
            n += snprintf(buf + n, sizeof buf - (size_t)n, "e%d",
                          (int)(rnd() % 700) - 350);
        buf[n] = '\0';
        double a = strtod(buf, NULL), b = 0;
        assert_int_equal(sl_parse_float64(buf, (size_t)n, &b), 0);
        if (double_bits(a) != double_bits(b))
            fail_msg("'%s': strtod %.17g, sl %.17g", buf, a, b);
    }
}

/* Reference shortest length: the fewest %.*e digits that strtod reads back. */
static int ref_shortest_digits(double v)
{
    char t[64];
    for (int p = 1; p <= 17; p++) {
        snprintf(t, sizeof t, "%.*e", p - 1, v);
        if (strtod(t, NULL) == v)
            return p;
    }
    return 17;
}

static int sig_digits(const char *s)
{
    /* digits of the mantissa minus leading zeros and trailing zeros */
    char d[64];
    int n = 0;
    for (; *s && *s != 'e'; s++)
        if (*s >= '0' && *s <= '9')
            d[n++] = *s;
    int a = 0;
    while (a < n - 1 && d[a] == '0')
        a++;
    while (n - 1 > a && d[n - 1] == '0')
        n--;
    return n - a;
}

static void check_roundtrip(double x)
{
    char buf[SL_FMT_MAX];
    int n = sl_format_float64(x, buf);
    assert_true(n > 0 && n < SL_FMT_MAX);
    assert_int_equal((size_t)n, strlen(buf));
    double y = 0, z = strtod(buf, NULL);
    assert_int_equal(sl_parse_float64(buf, (size_t)n, &y), 0);
    if (double_bits(x) != double_bits(y) || double_bits(x) != double_bits(z))
        fail_msg("%.17g formatted as '%s' reads back as %.17g", x, buf, y);
    /* never looks like an integer */
    int64_t iv;
    assert_int_equal(sl_parse_int64(buf, (size_t)n, &iv), -1);
    int want = ref_shortest_digits(fabs(x)), got = sig_digits(buf);
    if (got > want)
        fail_msg("%.17g formatted as '%s' (%d digits), shortest has %d", x,
                 buf, got, want);
}

static void test_float_format(void **state)
{
    (void)state;
    char buf[SL_FMT_MAX];
    static const struct {
        double v;
        const char *s;
    } cases[] = {
        {0.1, "0.1"},         {3.0, "3.0"},           {-3.0, "-3.0"},
        {0.0, "0.0"},         {-0.0, "-0.0"},         {1e300, "1e+300"},
        {1.5e-7, "1.5e-07"},  {0.0001, "0.0001"},     {1e-5, "1e-05"},
        {1e16, "1e+16"},      {123.456, "123.456"},   {100.0, "100.0"},
        {1.5e15, "1500000000000000.0"},
        {0.30000000000000004, "0.30000000000000004"},
        {123456789012345678.0, "1.2345678901234568e+17"},
        {5e-324, "5e-324"},   {1.7976931348623157e308, "1.7976931348623157e+308"},
        {2.5, "2.5"},         {-0.000123, "-0.000123"}, {9007199254740992.0, "9007199254740992.0"},
        /* reference texts from Python's repr */
        {704944510142256.25, "704944510142256.2"}, /* exact tie: to even */
        {2.0 / 3, "0.6666666666666666"},   {1e10 / 3, "3333333333.3333335"},
        {9.123456789012345e15, "9123456789012344.0"},
        {0.00012345678901234567, "0.00012345678901234567"},
        {4.35, "4.35"},       {1e15 + 0.3, "1000000000000000.2"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sl_format_float64(cases[i].v, buf);
        assert_string_equal(buf, cases[i].s);
    }
    sl_format_float64(NAN, buf);
    assert_string_equal(buf, "nan");
    sl_format_float64(INFINITY, buf);
    assert_string_equal(buf, "inf");
    sl_format_float64(-INFINITY, buf);
    assert_string_equal(buf, "-inf");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_roundtrip(cases[i].v);
}

static void test_float_format_random(void **state)
{
    (void)state;
    for (int i = 0; i < 200000; i++) {
        double x = bits_to_double(rnd());
        if (isnan(x) || isinf(x))
            continue;
        check_roundtrip(x);
    }
    /* values like real data: few decimals, moderate magnitude */
    for (int i = 0; i < 200000; i++) {
        int dec = (int)(rnd() % 8);
        double x = (double)(int64_t)(rnd() % 100000000) / pow(10, dec);
        if (rnd() % 2)
            x = -x;
        check_roundtrip(x);
        char buf[SL_FMT_MAX], ref[64];
        sl_format_float64(x, buf);
        snprintf(ref, sizeof ref, "%.*f", dec, x);
        (void)ref;
    }
    for (int i = 0; i < 100000; i++)
        check_roundtrip((double)rnd() / (double)UINT64_MAX);
}

static void test_dates(void **state)
{
    (void)state;
    int32_t d = -1;
    char buf[SL_FMT_MAX];
    assert_int_equal(sl_parse_date(S("1970-01-01"), &d), 0);
    assert_int_equal(d, 0);
    assert_int_equal(sl_parse_date(S("2024-01-31"), &d), 0);
    assert_int_equal(d, 19753);
    assert_int_equal(sl_parse_date(S("2024/01/31"), &d), 0);
    assert_int_equal(d, 19753);
    assert_int_equal(sl_parse_date(S("1969-12-31"), &d), 0);
    assert_int_equal(d, -1);
    assert_int_equal(sl_parse_date(S("2024-02-29"), &d), 0);
    assert_int_equal(sl_parse_date(S("2000-02-29"), &d), 0);
    assert_int_equal(sl_parse_date(S("1900-02-29"), &d), -1);
    assert_int_equal(sl_parse_date(S("2023-02-29"), &d), -1);
    assert_int_equal(sl_parse_date(S("2024-02-30"), &d), -1);
    assert_int_equal(sl_parse_date(S("2024-04-31"), &d), -1);
    assert_int_equal(sl_parse_date(S("2024-13-01"), &d), -1);
    assert_int_equal(sl_parse_date(S("2024-00-10"), &d), -1);
    assert_int_equal(sl_parse_date(S("2024-01-00"), &d), -1);
    assert_int_equal(sl_parse_date(S("2024-01/31"), &d), -1);
    assert_int_equal(sl_parse_date(S("2024-1-31"), &d), -1);
    assert_int_equal(sl_parse_date(S("24-01-31"), &d), -1);
    assert_int_equal(sl_parse_date(S("2024-01-31 "), &d), -1);
    assert_int_equal(sl_parse_date(S("2024-01-3x"), &d), -1);
    assert_int_equal(sl_parse_date(S(""), &d), -1);

    sl_format_date(19753, buf);
    assert_string_equal(buf, "2024-01-31");
    sl_format_date(-719528, buf); /* 0000-01-01 */
    assert_string_equal(buf, "0000-01-01");
    sl_format_date(-1, buf);
    assert_string_equal(buf, "1969-12-31");
    /* every day over a wide range round-trips through text */
    for (int32_t x = -719528; x <= 2932896; x += 7) { /* 0000-01-01 .. 9999-12-31 */
        int n = sl_format_date(x, buf);
        int32_t back;
        assert_int_equal(sl_parse_date(buf, (size_t)n, &back), 0);
        assert_int_equal(back, x);
    }
    /* civil helpers agree with each other on far dates too */
    for (int64_t x = -100000000; x < 100000000; x += 99991) {
        int64_t y;
        unsigned m, dd;
        sl_civil_from_days(x, &y, &m, &dd);
        assert_true(sl_days_from_civil(y, m, dd) == x);
    }
    int len = sl_format_date(INT32_MIN, buf);
    assert_int_equal(len, (int)strlen(buf));
    assert_true(strlen(buf) < SL_FMT_MAX);
}

static void expect_ts(const char *s, int64_t want)
{
    int64_t v = 0;
    if (sl_parse_timestamp(s, strlen(s), &v) != 0)
        fail_msg("'%s' did not parse as a timestamp", s);
    if (v != want)
        fail_msg("'%s' -> %lld, want %lld", s, (long long)v, (long long)want);
}
static void expect_not_ts(const char *s)
{
    int64_t v;
    if (sl_parse_timestamp(s, strlen(s), &v) == 0)
        fail_msg("'%s' parsed as a timestamp", s);
}

static void test_timestamps(void **state)
{
    (void)state;
    const int64_t base = INT64_C(19753) * 86400 * 1000000; /* 2024-01-31 */
    expect_ts("2024-01-31T00:00:00Z", base);
    expect_ts("2024-01-31 10:20", base + (10 * 3600 + 20 * 60) * INT64_C(1000000));
    expect_ts("2024-01-31T10:20:30", base + (10 * 3600 + 20 * 60 + 30) * INT64_C(1000000));
    expect_ts("2024-01-31T10:20:30.5", base + (10 * 3600 + 20 * 60 + 30) * INT64_C(1000000) + 500000);
    expect_ts("2024-01-31T10:20:30.123456789Z", base + (10 * 3600 + 20 * 60 + 30) * INT64_C(1000000) + 123456);
    expect_ts("2024-01-31T10:00:00+02:00", base + 8 * 3600 * INT64_C(1000000));
    expect_ts("2024-01-31T10:00:00-0130", base + (11 * 3600 + 30 * 60) * INT64_C(1000000));
    expect_ts("2024-01-31T01:00+0200", base - 3600 * INT64_C(1000000));
    expect_ts("2024/01/31 00:00:00", base);
    expect_ts("2024-01-31", base); /* a bare date is midnight UTC */
    expect_ts("1969-12-31T23:59:59.999999Z", -1);
    expect_ts("2024-01-31t00:00z", base);

    expect_not_ts("");
    expect_not_ts("2024-01-31T");
    expect_not_ts("2024-01-31T10");
    expect_not_ts("2024-01-31T24:00:00");
    expect_not_ts("2024-01-31T10:60:00");
    expect_not_ts("2024-01-31T10:00:60");
    expect_not_ts("2024-02-30T10:00:00");
    expect_not_ts("2024-01-31T10:00:00.");
    expect_not_ts("2024-01-31T10:00:00.1234567890");
    expect_not_ts("2024-01-31T10:00:00+24:00");
    expect_not_ts("2024-01-31T10:00:00+02:60");
    expect_not_ts("2024-01-31T10:00:00+2");
    expect_not_ts("2024-01-31T10:00:00ZZ");
    expect_not_ts("2024-01-31X10:00:00");
    expect_not_ts("2024-01-31T10:00:00 ");
    expect_not_ts("2024-01-31T1:00:00");

    char buf[SL_FMT_MAX];
    sl_format_timestamp(base, buf);
    assert_string_equal(buf, "2024-01-31T00:00:00Z");
    sl_format_timestamp(base + 1, buf);
    assert_string_equal(buf, "2024-01-31T00:00:00.000001Z");
    sl_format_timestamp(-1, buf);
    assert_string_equal(buf, "1969-12-31T23:59:59.999999Z");
    sl_format_timestamp(INT64_MIN, buf);
    assert_true(strlen(buf) < SL_FMT_MAX);
    sl_format_timestamp(INT64_MAX, buf);
    assert_true(strlen(buf) < SL_FMT_MAX);
    for (int i = 0; i < 100000; i++) {
        /* years 0000..9999 */
        int64_t x = (int64_t)(rnd() % (uint64_t)(INT64_C(315537897600) * 1000000)) -
                    INT64_C(62167219200) * 1000000;
        int n = sl_format_timestamp(x, buf);
        int64_t back;
        assert_int_equal(sl_parse_timestamp(buf, (size_t)n, &back), 0);
        assert_true(back == x);
    }
}

static sl_type infer(const char *const *vals)
{
    sl_infer st;
    sl_infer_init(&st);
    for (; *vals; vals++)
        sl_infer_feed(&st, *vals, strlen(*vals));
    return sl_infer_result(&st);
}

static void test_infer(void **state)
{
    (void)state;
    sl_infer st;
    sl_infer_init(&st);
    assert_int_equal(st.type, SL_NULL);
    assert_int_equal(sl_infer_result(&st), SL_STRING);
    sl_infer_feed(&st, S("12"));
    assert_int_equal(st.seen, 1);
    assert_int_equal(st.type, SL_INT64);

    assert_int_equal(infer((const char *[]){"true", "False", NULL}), SL_BOOL);
    assert_int_equal(infer((const char *[]){"1", "-2", NULL}), SL_INT64);
    assert_int_equal(infer((const char *[]){"1", "2.5", NULL}), SL_FLOAT64);
    assert_int_equal(infer((const char *[]){"2.5", "1", NULL}), SL_FLOAT64);
    assert_int_equal(infer((const char *[]){"1", "nan", NULL}), SL_FLOAT64);
    assert_int_equal(infer((const char *[]){"1", "true", NULL}), SL_STRING);
    assert_int_equal(infer((const char *[]){"true", "1", NULL}), SL_STRING);
    assert_int_equal(infer((const char *[]){"2024-01-01", NULL}), SL_DATE);
    assert_int_equal(infer((const char *[]){"2024-01-01", "2024-01-01 10:00", NULL}),
                     SL_TIMESTAMP);
    assert_int_equal(infer((const char *[]){"2024-01-01 10:00", "2024-01-01", NULL}),
                     SL_TIMESTAMP);
    assert_int_equal(infer((const char *[]){"2024-01-01", "5", NULL}), SL_STRING);
    assert_int_equal(infer((const char *[]){"1", "x", "2", NULL}), SL_STRING);
    assert_int_equal(infer((const char *[]){"", NULL}), SL_STRING);
    assert_int_equal(infer((const char *[]){"99999999999999999999", NULL}), SL_FLOAT64);
    assert_int_equal(infer((const char *[]){"2024-02-30", NULL}), SL_STRING);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bool),
        cmocka_unit_test(test_int64),
        cmocka_unit_test(test_int64_format),
        cmocka_unit_test(test_float_parse),
        cmocka_unit_test(test_float_parse_vs_strtod),
        cmocka_unit_test(test_float_format),
        cmocka_unit_test(test_float_format_random),
        cmocka_unit_test(test_dates),
        cmocka_unit_test(test_timestamps),
        cmocka_unit_test(test_infer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
