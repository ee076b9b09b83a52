/*
 * fuzz_value.c: value.h's parsers and formatters. Text input goes through
 * every parser (no crash, no read past n); whatever parses must format and
 * parse back to the same value; floats must agree with strtod bit for bit;
 * and the first 8 bytes, read as a double, must format to text that reads
 * back to the identical double.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/value.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_double(double v)
{
    char buf[SL_FMT_MAX];
    double back;
    int n = sl_format_float64(v, buf);
    if (n <= 0 || n >= SL_FMT_MAX || (size_t)n != strlen(buf))
        abort();
    if (sl_parse_float64(buf, (size_t)n, &back) != 0)
        abort();
    if (isnan(v) ? !isnan(back) : memcmp(&v, &back, sizeof v) != 0)
        abort();
    if (!isnan(v) && strtod(buf, NULL) != v)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    char buf[SL_FMT_MAX];
    int b;
    int64_t i, ts;
    int32_t d;
    double f;
    sl_infer st;

    if (size >= 8) {
        double v;
        memcpy(&v, data, sizeof v);
        check_double(v);
    }
    if (sl_parse_bool(s, size, &b) == 0 && b != 0 && b != 1)
        abort();
    if (sl_parse_int64(s, size, &i) == 0) {
        int n = sl_format_int64(i, buf);
        int64_t back;
        if (sl_parse_int64(buf, (size_t)n, &back) != 0 || back != i)
            abort();
    }
    if (sl_parse_float64(s, size, &f) == 0) {
        check_double(f);
        if (size < 200 && memchr(s, 0, size) == NULL) {
            char tmp[201];
            memcpy(tmp, s, size);
            tmp[size] = '\0';
            double ref = strtod(tmp, NULL);
            if (!isnan(ref) && memcmp(&ref, &f, sizeof f) != 0)
                abort();
        }
    }
    if (sl_parse_date(s, size, &d) == 0) {
        int n = sl_format_date(d, buf);
        int32_t back;
        if (sl_parse_date(buf, (size_t)n, &back) != 0 || back != d)
            abort();
    }
    if (sl_parse_timestamp(s, size, &ts) == 0) {
        int n = sl_format_timestamp(ts, buf);
        int64_t back;
        if (sl_parse_timestamp(buf, (size_t)n, &back) != 0 || back != ts)
            abort();
    }
    sl_infer_init(&st);
    sl_infer_feed(&st, s, size);
    if (sl_infer_result(&st) <= SL_NULL || sl_infer_result(&st) >= SL_TYPE_COUNT)
        abort();
    return 0;
}
