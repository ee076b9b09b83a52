/*
 * test_parquet.c: the Parquet module: Thrift compact protocol, metadata,
 * encodings, codecs, write -> read round trips (every type with nulls,
 * every codec, page V1 and V2, dictionary on/off and fallback), statistics
 * and row-group skipping, directories of parts, the plugins, and corrupt
 * or truncated input (always an error, never a crash).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "formats/codec.h"
#include "formats/parquet_encoding.h"
#include "formats/parquet_meta.h"
#include "formats/thrift_compact.h"
#include "sluice/mem.h"
#include "sluice/parquet.h"
#include "sluice/plugin.h"

static char tmpdir[256];

static int setup_dir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/sl_pq_test.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *tpath(const char *name)
{
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
    return buf[k];
}

static uint64_t rng_state = 88172645463325252ULL;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* ---- Thrift compact ---- */

static void test_thrift_round_trip(void **state)
{
    (void)state;
    tc_writer w;
    tc_writer_init(&w);
    tc_w_struct_begin(&w);
    tc_w_i32(&w, 1, -123456);
    tc_w_i64(&w, 2, INT64_MIN);
    tc_w_binary(&w, 3, "hello", 5);
    tc_w_bool(&w, 4, 1);
    tc_w_bool(&w, 5, 0);
    tc_w_double(&w, 6, -2.5);
    tc_w_i16(&w, 40, -7); /* long field delta */
    tc_w_list_field(&w, 41, TC_I32, 20);
    for (int i = 0; i < 20; i++)
        tc_w_raw_i32(&w, i * 1000 - 5);
    tc_w_struct_field(&w, 42);
    tc_w_i64(&w, 1, 99);
    tc_w_struct_end(&w);
    tc_w_byte(&w, 43, -1);
    tc_w_struct_end(&w);
    assert_false(w.failed);

    tc_reader r;
    tc_reader_init(&r, w.buf, w.len);
    int type, fid, got = 0;
    assert_int_equal(tc_struct_begin(&r), 0);
    while (tc_field(&r, &type, &fid) > 0) {
        int32_t i32;
        int64_t i64;
        int16_t i16;
        int8_t i8;
        double d;
        int b;
        const uint8_t *p;
        uint32_t n;
        got++;
        switch (fid) {
        case 1: assert_int_equal(tc_i32(&r, &i32), 0); assert_int_equal(i32, -123456); break;
        case 2: assert_int_equal(tc_i64(&r, &i64), 0); assert_true(i64 == INT64_MIN); break;
        case 3:
            assert_int_equal(tc_binary(&r, &p, &n), 0);
            assert_int_equal(n, 5);
            assert_memory_equal(p, "hello", 5);
            break;
        case 4: tc_bool(&r, type, &b); assert_int_equal(b, 1); break;
        case 5: tc_bool(&r, type, &b); assert_int_equal(b, 0); break;
        case 6: tc_double(&r, &d); assert_true(d == -2.5); break;
        case 40: tc_i16(&r, &i16); assert_int_equal(i16, -7); break;
        case 41: {
            int et;
            assert_int_equal(tc_list(&r, &et, &n), 0);
            assert_int_equal(et, TC_I32);
            assert_int_equal(n, 20);
            for (uint32_t i = 0; i < n; i++) {
                tc_i32(&r, &i32);
                assert_int_equal(i32, (int)i * 1000 - 5);
            }
            break;
        }
        case 42: assert_int_equal(tc_skip(&r, type), 0); break;
        case 43: tc_byte(&r, &i8); assert_int_equal(i8, -1); break;
        default: fail();
        }
    }
    assert_null(r.error);
    assert_int_equal(got, 10);
    assert_int_equal(tc_pos(&r), w.len);
    tc_writer_free(&w);
}

static void test_thrift_bounds(void **state)
{
    (void)state;
    tc_reader r;
    int type, fid;
    /* binary longer than the data */
    const uint8_t bin[] = {0x18, 0x7f, 'a'};
    tc_reader_init(&r, bin, sizeof bin);
    tc_struct_begin(&r);
    assert_int_equal(tc_field(&r, &type, &fid), 1);
    const uint8_t *p;
    uint32_t n;
    assert_int_equal(tc_binary(&r, &p, &n), -1);
    assert_string_equal(r.error, "binary length beyond the end of the data");
    /* a list claiming more elements than bytes */
    const uint8_t lst[] = {0x19, 0xf5, 0xff, 0xff, 0x03, 1, 2};
    tc_reader_init(&r, lst, sizeof lst);
    tc_struct_begin(&r);
    tc_field(&r, &type, &fid);
    int et;
    assert_int_equal(tc_list(&r, &et, &n), -1);
    assert_string_equal(r.error, "list longer than the data");
    /* deep nesting */
    uint8_t deep[200];
    memset(deep, 0x1c, sizeof deep); /* field 1, struct, again and again */
    tc_reader_init(&r, deep, sizeof deep);
    assert_int_equal(tc_skip(&r, TC_STRUCT), -1);
    assert_non_null(strstr(r.error, "nested too deeply"));
    /* truncated varint, missing stop */
    const uint8_t tv[] = {0x15, 0x80, 0x80};
    tc_reader_init(&r, tv, sizeof tv);
    assert_int_equal(tc_skip(&r, TC_STRUCT), -1);
    assert_string_equal(r.error, "truncated varint");
    const uint8_t ns[] = {0x15, 0x02};
    tc_reader_init(&r, ns, sizeof ns);
    assert_int_equal(tc_skip(&r, TC_STRUCT), -1);
    assert_non_null(strstr(r.error, "no field stop"));
}

/* ---- metadata ---- */

static void test_meta_round_trip(void **state)
{
    (void)state;
    pq_schema_elem el[3];
    memset(el, 0, sizeof el);
    el[0] = (pq_schema_elem){.name = "schema", .type = -1, .repetition = -1, .num_children = 2,
                             .converted = -1};
    el[1] = (pq_schema_elem){.name = "ts", .type = PQ_INT64, .repetition = PQ_OPTIONAL,
                             .converted = PQ_CT_TIMESTAMP_MICROS,
                             .logical = {.kind = PQ_LT_TIMESTAMP, .unit = PQ_UNIT_MICROS, .utc = 1}};
    el[2] = (pq_schema_elem){.name = "s", .type = PQ_BYTE_ARRAY, .repetition = PQ_REQUIRED,
                             .converted = PQ_CT_UTF8, .logical = {.kind = PQ_LT_STRING}};
    char *path1[] = {"ts"}, *path2[] = {"s"};
    pq_column_chunk cols[2];
    memset(cols, 0, sizeof cols);
    cols[0].file_offset = 4;
    cols[0].has_meta = 1;
    cols[0].meta = (pq_column_meta){.type = PQ_INT64, .encodings = 0x109, .n_path = 1,
                                    .path = path1, .codec = PQ_CODEC_ZSTD, .num_values = 10,
                                    .total_uncompressed_size = 200, .total_compressed_size = 100,
                                    .data_page_offset = 40, .dictionary_page_offset = 4,
                                    .has_dictionary_page_offset = 1, .has_stats = 1};
    cols[0].meta.stats = (pq_stats){.min = (const uint8_t *)"\1\0\0\0\0\0\0\0",
                                    .max = (const uint8_t *)"\2\0\0\0\0\0\0\0", .min_len = 8,
                                    .max_len = 8, .has_min = 1, .has_max = 1,
                                    .has_null_count = 1, .null_count = 3};
    cols[1].file_offset = 104;
    cols[1].has_meta = 1;
    cols[1].meta = (pq_column_meta){.type = PQ_BYTE_ARRAY, .encodings = 1, .n_path = 1,
                                    .path = path2, .num_values = 10, .total_compressed_size = 50,
                                    .data_page_offset = 104};
    pq_row_group rg = {.ncols = 2, .cols = cols, .num_rows = 10, .total_byte_size = 250,
                       .file_offset = 4, .has_file_offset = 1, .ordinal = 0};
    pq_kv kv = {.key = "k", .value = "v"};
    int8_t orders[2] = {1, 1};
    pq_file_meta m = {.version = 2, .nschema = 3, .schema = el, .num_rows = 10, .nrg = 1,
                      .rgs = &rg, .nkv = 1, .kv = &kv, .created_by = "me", .n_orders = 2,
                      .orders = orders};
    tc_writer w;
    tc_writer_init(&w);
    pq_meta_encode(&w, &m);
    pq_file_meta *d;
    sl_err e;
    assert_int_equal(pq_meta_decode(w.buf, w.len, &d, &e), SL_OK);
    assert_int_equal(d->nschema, 3);
    assert_string_equal(d->schema[1].name, "ts");
    assert_int_equal(d->schema[1].logical.kind, PQ_LT_TIMESTAMP);
    assert_int_equal(d->schema[1].logical.unit, PQ_UNIT_MICROS);
    assert_int_equal(d->schema[1].logical.utc, 1);
    assert_int_equal(d->schema[2].repetition, PQ_REQUIRED);
    assert_int_equal(d->nrg, 1);
    const pq_column_meta *cm = &d->rgs[0].cols[0].meta;
    assert_int_equal(cm->encodings, 0x109);
    assert_string_equal(cm->path[0], "ts");
    assert_int_equal(cm->dictionary_page_offset, 4);
    assert_int_equal(cm->data_page_offset, 40);
    assert_true(cm->has_stats && cm->stats.null_count == 3 && cm->stats.min[0] == 1);
    assert_int_equal(d->rgs[0].cols[1].file_offset, 104);
    assert_string_equal(d->kv[0].value, "v");
    assert_string_equal(d->created_by, "me");
    assert_int_equal(d->n_orders, 2);
    assert_int_equal(d->orders[1], 1);
    pq_meta_free(d);
    /* every truncation of the footer fails cleanly */
    for (size_t n = 0; n < w.len; n++)
        assert_int_equal(pq_meta_decode(w.buf, n, &d, &e), SL_EPARSE);
    assert_non_null(strstr(e.msg, "corrupt Parquet footer"));
    /* a row group with the wrong number of chunks */
    rg.ncols = 1;
    tc_writer_reset(&w);
    pq_meta_encode(&w, &m);
    assert_int_equal(pq_meta_decode(w.buf, w.len, &d, &e), SL_EPARSE);
    assert_non_null(strstr(e.msg, "row group 0 has 1 column chunks, the schema has 2"));
    tc_writer_free(&w);

    pq_page_header h = {.type = PQ_PAGE_DATA_V2, .uncompressed_size = 100, .compressed_size = 50,
                        .num_values = 7, .num_nulls = 2, .num_rows = 7, .encoding = 8,
                        .def_bytes = 3, .is_compressed = 0}, h2;
    size_t used;
    tc_writer_init(&w);
    pq_page_header_encode(&w, &h);
    assert_int_equal(pq_page_header_decode(w.buf, w.len, &h2, &used, &e), SL_OK);
    assert_int_equal(used, w.len);
    assert_int_equal(h2.num_nulls, 2);
    assert_int_equal(h2.def_bytes, 3);
    assert_int_equal(h2.is_compressed, 0);
    assert_int_equal(h2.encoding, 8);
    assert_int_equal(pq_page_header_decode(w.buf, w.len - 1, &h2, &used, &e), SL_EPARSE);
    tc_writer_free(&w);
}

/* ---- encodings ---- */

static void test_rle_round_trip(void **state)
{
    (void)state;
    enum { N = 5000 };
    uint32_t *v = malloc(N * 4), *out = malloc(N * 4);
    uint8_t *v8 = malloc(N), *o8 = malloc(N);
    for (int bw = 0; bw <= 32; bw++) {
        for (int pattern = 0; pattern < 3; pattern++) {
            uint64_t mask = bw == 32 ? 0xffffffffu : ((uint64_t)1 << bw) - 1;
            int n = pattern == 2 ? 13 : N;
            for (int i = 0; i < n; i++)
                v[i] = (uint32_t)((pattern == 0 ? rnd() : (uint64_t)(i / 100)) & mask);
            pq_buf b = {0};
            assert_int_equal(pq_rle_encode_u32(&b, v, n, bw), 0);
            const char *why = NULL;
            size_t used;
            assert_int_equal(pq_rle_decode(b.p, b.len, bw, out, n, &used, &why), 0);
            assert_memory_equal(v, out, (size_t)n * 4);
            /* truncating the data fails cleanly (unless nothing is needed) */
            if (b.len > 1 && bw > 0)
                assert_int_equal(pq_rle_decode(b.p, b.len / 2, bw, out, n, &used, &why), -1);
            pq_buf_free(&b);
            if (bw <= 8) {
                for (int i = 0; i < n; i++)
                    v8[i] = (uint8_t)v[i];
                assert_int_equal(pq_rle_encode_u8(&b, v8, n, bw), 0);
                assert_int_equal(pq_rle_decode_u8(b.p, b.len, bw, o8, n, NULL, &why), 0);
                assert_memory_equal(v8, o8, (size_t)n);
                pq_buf_free(&b);
            }
        }
    }
    const char *why;
    const uint8_t wide[] = {0x02, 0x05}; /* RLE run of 1 with value 5 at bit width 2 */
    assert_int_equal(pq_rle_decode(wide, 2, 2, out, 1, NULL, &why), -1);
    assert_string_equal(why, "RLE run value wider than the bit width");
    free(v);
    free(out);
    free(v8);
    free(o8);
}

static void test_delta_round_trip(void **state)
{
    (void)state;
    enum { N = 1000 };
    int64_t v[N], out[N];
    for (int k = 0; k < 4; k++) {
        int n = k == 3 ? 1 : N;
        for (int i = 0; i < n; i++)
            v[i] = k == 0 ? (int64_t)rnd() : k == 1 ? i * 3 - 100 : k == 2 ? (i % 2 ? INT64_MAX : INT64_MIN) : 42;
        pq_buf b = {0};
        assert_int_equal(pq_delta_encode(&b, v, n), 0);
        const char *why = NULL;
        size_t used;
        int64_t count;
        assert_int_equal(pq_delta_count(b.p, b.len, &count, &why), 0);
        assert_int_equal(count, n);
        assert_int_equal(pq_delta_decode(b.p, b.len, n, out, &used, &why), 0);
        assert_int_equal(used, b.len);
        assert_memory_equal(v, out, (size_t)n * 8);
        if (n > 1)
            assert_int_equal(pq_delta_decode(b.p, b.len / 2, n, out, &used, &why), -1);
        assert_int_equal(pq_delta_decode(b.p, b.len, n + 1, out, &used, &why), -1);
        assert_string_equal(why, "DELTA_BINARY_PACKED has fewer values than the page");
        pq_buf_free(&b);
    }
}

static void test_byte_array_encodings(void **state)
{
    (void)state;
    const char *words[] = {"axis", "axle", "babble", "babyhood", "", "babyhood"};
    const int n = 6;
    pq_view in[6], out[6];
    pq_buf base = {0}, b = {0}, data = {0};
    for (int i = 0; i < n; i++) {
        in[i].off = base.len;
        in[i].len = (uint32_t)strlen(words[i]);
        pq_buf_append(&base, words[i], in[i].len);
    }
    /* DELTA_LENGTH_BYTE_ARRAY */
    int64_t scratch[12];
    const char *why = NULL;
    assert_int_equal(pq_dlba_encode(&b, base.p, in, n), 0);
    assert_int_equal(pq_dlba_decode(b.p, b.len, n, scratch, out, &why), 0);
    for (int i = 0; i < n; i++)
        assert_memory_equal(b.p + out[i].off, words[i], strlen(words[i]));
    /* DELTA_BYTE_ARRAY: prefix lengths, then the suffixes as DLBA */
    int64_t prefix[6] = {0, 2, 0, 3, 0, 0};
    pq_view suf[6];
    for (int i = 0; i < n; i++)
        suf[i] = (pq_view){in[i].off + (uint64_t)prefix[i], in[i].len - (uint32_t)prefix[i]};
    b.len = 0;
    assert_int_equal(pq_delta_encode(&b, prefix, n), 0);
    assert_int_equal(pq_dlba_encode(&b, base.p, suf, n), 0);
    assert_int_equal(pq_dba_decode(b.p, b.len, n, scratch, &data, out, &why), 0);
    for (int i = 0; i < n; i++) {
        assert_int_equal(out[i].len, strlen(words[i]));
        assert_memory_equal(data.p + out[i].off, words[i], out[i].len);
    }
    /* a prefix longer than the previous value is corrupt */
    prefix[1] = 9;
    b.len = 0;
    pq_delta_encode(&b, prefix, n);
    pq_dlba_encode(&b, base.p, suf, n);
    assert_int_equal(pq_dba_decode(b.p, b.len, n, scratch, &data, out, &why), -1);
    assert_string_equal(why, "DELTA_BYTE_ARRAY prefix longer than the previous value");
    /* PLAIN byte arrays: a length beyond the page */
    const uint8_t bad[] = {9, 0, 0, 0, 'a', 'b'};
    assert_int_equal(pq_plain_ba_decode(bad, sizeof bad, 1, out, NULL, &why), -1);
    /* BYTE_STREAM_SPLIT */
    double dv[5] = {1.5, -2.25, 1e300, 0, -0.0}, dout[5];
    b.len = 0;
    assert_int_equal(pq_bss_encode(&b, (const uint8_t *)dv, 5, 8), 0);
    assert_int_equal(pq_bss_decode(b.p, b.len, 5, 8, (uint8_t *)dout, &why), 0);
    assert_memory_equal(dv, dout, sizeof dv);
    assert_int_equal(pq_bss_decode(b.p, b.len - 1, 5, 8, (uint8_t *)dout, &why), -1);
    pq_buf_free(&base);
    pq_buf_free(&b);
    pq_buf_free(&data);
}

static void test_codecs(void **state)
{
    (void)state;
    const int codecs[] = {PQ_CODEC_UNCOMPRESSED, PQ_CODEC_SNAPPY, PQ_CODEC_GZIP, PQ_CODEC_ZSTD,
                          PQ_CODEC_LZ4_RAW};
    uint8_t src[10000];
    for (size_t i = 0; i < sizeof src; i++)
        src[i] = (uint8_t)(i % 251 < 100 ? 'a' : rnd());
    pq_codec c = {0};
    sl_err e;
    for (size_t k = 0; k < sizeof codecs / sizeof codecs[0]; k++) {
        pq_buf comp = {0}, out = {0};
        assert_int_equal(pq_compress(&c, codecs[k], src, sizeof src, &comp, &e), SL_OK);
        assert_int_equal(pq_decompress(&c, codecs[k], comp.p, comp.len, sizeof src, &out, &e), SL_OK);
        assert_int_equal(out.len, sizeof src);
        assert_memory_equal(out.p, src, sizeof src);
        /* a wrong declared size is an error, not a crash */
        assert_int_not_equal(pq_decompress(&c, codecs[k], comp.p, comp.len, sizeof src - 1, &out, &e),
                             SL_OK);
        if (codecs[k] != PQ_CODEC_UNCOMPRESSED)
            assert_int_not_equal(pq_decompress(&c, codecs[k], comp.p, comp.len / 2, sizeof src, &out, &e),
                                 SL_OK);
        pq_buf_free(&comp);
        pq_buf_free(&out);
    }
    /* a tiny page cannot declare a huge size */
    pq_buf out = {0};
    assert_int_equal(pq_decompress(&c, PQ_CODEC_GZIP, src, 10, 100000000, &out, &e), SL_EPARSE);
    assert_non_null(strstr(e.msg, "cannot hold the declared"));
    assert_int_equal(pq_decompress(&c, PQ_CODEC_BROTLI, src, 10, 10, &out, &e), SL_EUNSUPPORTED);
    pq_buf_free(&out);
    pq_codec_free(&c);
}

/* ---- write -> read ---- */

static sl_schema *all_types_schema(void)
{
    sl_schema *s = sl_schema_new();
    sl_schema_add(s, "b", SL_BOOL, 1, NULL);
    sl_schema_add(s, "i", SL_INT64, 1, NULL);
    sl_schema_add(s, "f", SL_FLOAT64, 1, NULL);
    sl_schema_add(s, "s", SL_STRING, 1, NULL);
    sl_schema_add(s, "t", SL_TIMESTAMP, 1, NULL);
    sl_schema_add(s, "d", SL_DATE, 1, NULL);
    sl_schema_add(s, "n", SL_NULL, 1, NULL);
    sl_schema_add(s, "req", SL_INT64, 0, NULL);
    return s;
}

/* Deterministic row r of the all-types table; null pattern per column. */
static sl_batch *all_types_batch(const sl_schema *s, int64_t start, int64_t n)
{
    static const char *words[] = {"alpha", "beta", "", "gämma", "a much longer string value"};
    sl_batch *b = sl_batch_new(s, n);
    for (int64_t k = 0; k < n; k++) {
        int64_t r = start + k;
        int null = r % 7 == 3;
        if (null) {
            for (int c = 0; c < 7; c++)
                sl_column_append_null(b->cols[c]);
        } else {
            sl_column_append_bool(b->cols[0], r % 3 == 0);
            sl_column_append_int64(b->cols[1], r % 11 == 0 ? INT64_MIN + r : r * 1000003 % 977);
            sl_column_append_float64(b->cols[2], r % 13 == 0 ? NAN : r % 17 == 0 ? -INFINITY : r * 0.25);
            const char *w = words[r % 5];
            char tmp[64];
            int len = r % 4 == 0 ? snprintf(tmp, sizeof tmp, "%s-%lld", w, (long long)r)
                                 : snprintf(tmp, sizeof tmp, "%s", w);
            sl_column_append_str(b->cols[3], tmp, (size_t)len);
            sl_column_append_int64(b->cols[4], 1700000000000000LL - r * 999999);
            sl_column_append_int32(b->cols[5], (int32_t)(r % 40000 - 20000));
            sl_column_append_null(b->cols[6]);
        }
        sl_column_append_int64(b->cols[7], r);
    }
    sl_batch_seal(b, NULL);
    return b;
}

static void assert_same_value(const sl_column *a, int64_t i, const sl_column *b, int64_t j)
{
    assert_int_equal(sl_col_valid(a, i), sl_col_valid(b, j));
    if (!sl_col_valid(a, i) || a->type == SL_NULL)
        return;
    switch (a->type) {
    case SL_BOOL: assert_int_equal(sl_col_bool(a, i), sl_col_bool(b, j)); break;
    case SL_DATE: assert_int_equal(sl_col_i32(a, i), sl_col_i32(b, j)); break;
    case SL_FLOAT64: {
        double x = sl_col_f64(a, i), y = sl_col_f64(b, j);
        assert_true((isnan(x) && isnan(y)) || x == y);
        break;
    }
    case SL_STRING: {
        size_t n1, n2;
        const char *s1 = sl_col_str(a, i, &n1), *s2 = sl_col_str(b, j, &n2);
        assert_int_equal(n1, n2);
        assert_memory_equal(s1, s2, n1);
        break;
    }
    default: assert_true(sl_col_i64(a, i) == sl_col_i64(b, j));
    }
}

/* Reads path and compares with all_types_batch(0, rows); odd batch sizes
 * read on one thread, even ones on two. */
static void check_file(const char *path, int64_t rows, int64_t batch_rows)
{
    sl_parquet_read_options o;
    sl_parquet_read_options_init(&o);
    o.batch_rows = batch_rows;
    o.threads = batch_rows % 2 ? 1 : 2;
    sl_parquet_reader *r;
    sl_err e;
    sl_err_clear(&e);
    sl_rc rc = sl_parquet_reader_open(path, &o, &r, &e);
    if (rc != SL_OK)
        fail_msg("open %s: %s", path, e.msg);
    sl_schema *want = all_types_schema();
    const sl_schema *got = sl_parquet_reader_schema(r);
    assert_true(sl_schema_equal(want, got));
    assert_int_equal(got->fields[7].nullable, 0);
    assert_int_equal(got->fields[1].nullable, 1);
    assert_int_equal(sl_parquet_reader_total_rows(r), rows);
    sl_batch *exp = all_types_batch(want, 0, rows), *b;
    int64_t at = 0;
    while ((rc = sl_parquet_reader_next(r, &b, &e)) == SL_OK) {
        assert_true(b->nrows <= batch_rows);
        for (int c = 0; c < want->n; c++) {
            const sl_column *col = b->cols[c];
            /* invariants of batch.h */
            assert_true(col->validity != NULL || col->null_count == 0);
            for (int64_t i = 0; i < b->nrows; i++)
                assert_same_value(exp->cols[c], at + i, col, i);
        }
        at += b->nrows;
        sl_batch_unref(b);
    }
    if (rc != SL_EEOF)
        fail_msg("read %s: %s", path, e.msg);
    assert_int_equal(at, rows);
    sl_batch_unref(exp);
    sl_schema_free(want);
    sl_parquet_reader_close(r);
}

static void write_all_types(const char *path, const sl_parquet_write_options *o, int64_t rows,
                            int64_t per_batch)
{
    sl_schema *s = all_types_schema();
    sl_parquet_writer *w;
    sl_err e;
    sl_err_clear(&e);
    if (sl_parquet_writer_open(path, s, o, &w, &e) != SL_OK)
        fail_msg("open: %s", e.msg);
    for (int64_t at = 0; at < rows; at += per_batch) {
        int64_t n = rows - at < per_batch ? rows - at : per_batch;
        sl_batch *b = all_types_batch(s, at, n);
        if (sl_parquet_writer_write(w, b, &e) != SL_OK)
            fail_msg("write: %s", e.msg);
        sl_batch_unref(b);
    }
    assert_int_equal(sl_parquet_writer_rows(w), rows);
    if (sl_parquet_writer_close(w, &e) != SL_OK)
        fail_msg("close: %s", e.msg);
    sl_schema_free(s);
}

static void test_round_trip_matrix(void **state)
{
    (void)state;
    const sl_parquet_codec codecs[] = {SL_PQ_UNCOMPRESSED, SL_PQ_SNAPPY, SL_PQ_GZIP, SL_PQ_ZSTD,
                                       SL_PQ_LZ4_RAW};
    for (size_t c = 0; c < 5; c++)
        for (int v = 1; v <= 2; v++)
            for (int dict = 0; dict <= 1; dict++) {
                sl_parquet_write_options o;
                sl_parquet_write_options_init(&o);
                o.codec = codecs[c];
                o.data_page_version = v;
                o.dictionary = dict;
                o.page_bytes = 700;      /* many pages */
                o.row_group_rows = 1500; /* several row groups */
                o.threads = 1 + (int)(c % 2);
                const char *path = tpath("rt.parquet");
                write_all_types(path, &o, 4000, 999);
                check_file(path, 4000, 333);
                check_file(path, 4000, 100000);
            }
}

static void test_empty_and_tiny_files(void **state)
{
    (void)state;
    const char *path = tpath("empty.parquet");
    write_all_types(path, NULL, 0, 1);
    check_file(path, 0, 10);
    write_all_types(path, NULL, 1, 1);
    check_file(path, 1, 10);
    sl_parquet_write_options o;
    sl_parquet_write_options_init(&o);
    o.row_group_bytes = 1; /* one row group per slice */
    write_all_types(path, &o, 50000, 20000);
    check_file(path, 50000, 4096);
}

static int64_t json_int(json_t *o, const char *a, const char *b)
{
    json_t *x = json_object_get(o, a);
    return json_integer_value(b ? json_object_get(x, b) : x);
}

static void test_dictionary_fallback_and_inspect(void **state)
{
    (void)state;
    sl_schema *s = sl_schema_new();
    sl_schema_add(s, "s", SL_STRING, 1, NULL);
    sl_batch *b = sl_batch_new(s, 30000);
    char tmp[64];
    for (int i = 0; i < 30000; i++)
        sl_column_append_str(b->cols[0], tmp, (size_t)snprintf(tmp, sizeof tmp, "value-%08d", i));
    sl_batch_seal(b, NULL);
    sl_parquet_write_options o;
    sl_parquet_write_options_init(&o);
    o.dictionary_bytes = 50000;
    sl_parquet_writer *w;
    const char *path = tpath("fallback.parquet");
    assert_int_equal(sl_parquet_writer_open(path, s, &o, &w, NULL), SL_OK);
    assert_int_equal(sl_parquet_writer_write(w, b, NULL), SL_OK);
    assert_int_equal(sl_parquet_writer_close(w, NULL), SL_OK);
    json_t *j;
    sl_err e;
    assert_int_equal(sl_parquet_inspect_json(path, &j, &e), SL_OK);
    json_t *col = json_array_get(json_object_get(json_array_get(json_object_get(j, "row_groups"), 0),
                                                 "columns"), 0);
    char *enc = json_dumps(json_object_get(col, "encodings"), 0);
    assert_string_equal(enc, "[\"PLAIN\", \"RLE\", \"RLE_DICTIONARY\"]");
    free(enc);
    assert_true(json_int(col, "dictionary_page_offset", NULL) < json_int(col, "data_page_offset", NULL));
    assert_int_equal(json_int(col, "file_offset", NULL), json_int(col, "dictionary_page_offset", NULL));
    assert_int_equal(json_int(col, "num_values", NULL), 30000);
    assert_string_equal(json_string_value(json_object_get(json_object_get(col, "statistics"), "min")),
                        "value-00000000");
    assert_string_equal(json_string_value(json_object_get(json_object_get(col, "statistics"), "max")),
                        "value-00029999");
    assert_int_equal(json_int(j, "num_rows", NULL), 30000);
    json_decref(j);
    FILE *f = tmpfile();
    assert_int_equal(sl_parquet_inspect_print(path, f, &e), SL_OK);
    fclose(f);
    /* the values come back */
    sl_parquet_reader *r;
    assert_int_equal(sl_parquet_reader_open(path, NULL, &r, NULL), SL_OK);
    sl_batch *got;
    int64_t at = 0;
    while (sl_parquet_reader_next(r, &got, NULL) == SL_OK) {
        for (int64_t i = 0; i < got->nrows; i++)
            assert_same_value(b->cols[0], at + i, got->cols[0], i);
        at += got->nrows;
        sl_batch_unref(got);
    }
    assert_int_equal(at, 30000);
    sl_parquet_reader_close(r);
    sl_batch_unref(b);
    sl_schema_free(s);
}

static void test_writer_errors(void **state)
{
    (void)state;
    sl_schema *s = all_types_schema();
    sl_parquet_writer *w;
    sl_err e;
    sl_err_clear(&e);
    /* a null in a required column */
    assert_int_equal(sl_parquet_writer_open(tpath("err.parquet"), s, NULL, &w, &e), SL_OK);
    sl_batch *b = all_types_batch(s, 0, 10);
    sl_column_set_null(b->cols[7], 9);
    assert_int_equal(sl_parquet_writer_write(w, b, &e), SL_ESCHEMA);
    assert_non_null(strstr(e.msg, "column 'req' is not nullable but has a null value"));
    sl_parquet_writer_abort(w);
    assert_int_equal(access(tpath("err.parquet"), F_OK), -1); /* nothing appeared */
    sl_batch_unref(b);
    /* a batch of another schema */
    sl_schema *other = sl_schema_new();
    sl_schema_add(other, "x", SL_INT64, 1, NULL);
    assert_int_equal(sl_parquet_writer_open(tpath("err.parquet"), s, NULL, &w, &e), SL_OK);
    b = sl_batch_new(other, 1);
    assert_int_equal(sl_parquet_writer_write(w, b, &e), SL_ESCHEMA);
    assert_non_null(strstr(e.msg, "batch has 1 columns, the output schema has 8"));
    sl_parquet_writer_abort(w);
    sl_batch_unref(b);
    /* bad options, missing directory */
    sl_parquet_write_options o;
    sl_parquet_write_options_init(&o);
    o.data_page_version = 3;
    assert_int_equal(sl_parquet_writer_open(tpath("err.parquet"), s, &o, &w, &e), SL_ECONFIG);
    assert_non_null(strstr(e.msg, "data_page_version must be 1 or 2"));
    assert_int_equal(sl_parquet_writer_open("/nonexistent/dir/x.parquet", s, NULL, &w, &e),
                     SL_ENOTFOUND);
    assert_non_null(strstr(e.msg, "cannot create"));
    sl_parquet_codec codec;
    assert_int_equal(sl_parquet_codec_parse("ZSTD", &codec), SL_OK);
    assert_int_equal(codec, SL_PQ_ZSTD);
    assert_int_equal(sl_parquet_codec_parse("brotli", &codec), SL_ENOTFOUND);
    sl_schema_free(other);
    sl_schema_free(s);
}

static uint8_t *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc(*n + 1);
    assert_int_equal(fread(p, 1, *n, f), *n);
    fclose(f);
    return p;
}

/* Reads everything; returns the final rc (SL_EEOF = success). */
static sl_rc read_mem(const uint8_t *p, size_t n, sl_err *e)
{
    sl_parquet_reader *r;
    sl_rc rc = sl_parquet_reader_open_mem(p, n, "mem.parquet", NULL, &r, e);
    if (rc != SL_OK)
        return rc;
    sl_batch *b;
    while ((rc = sl_parquet_reader_next(r, &b, e)) == SL_OK)
        sl_batch_unref(b);
    sl_parquet_reader_close(r);
    return rc;
}

static void test_corrupt_and_truncated(void **state)
{
    (void)state;
    sl_parquet_write_options o;
    sl_parquet_write_options_init(&o);
    o.page_bytes = 300;
    o.codec = SL_PQ_SNAPPY;
    const char *path = tpath("c.parquet");
    write_all_types(path, &o, 300, 300);
    size_t n;
    uint8_t *p = slurp(path, &n);
    sl_err e;
    assert_int_equal(read_mem(p, n, &e), SL_EEOF);
    /* every truncation fails with a parse error */
    for (size_t k = 0; k < n; k += (k < 64 || n - k < 64) ? 1 : 7) {
        uint8_t *q = malloc(k + 1);
        memcpy(q, p, k);
        sl_err_clear(&e);
        sl_rc rc = read_mem(q, k, &e);
        assert_int_equal(rc, SL_EPARSE);
        free(q);
    }
    sl_err_clear(&e);
    read_mem(p, 5, &e);
    assert_non_null(strstr(e.msg, "too small"));
    read_mem(p, n - 1, &e);
    assert_non_null(strstr(e.msg, "missing PAR1 magic at the end"));
    /* flipping bytes never crashes; errors name the problem */
    for (size_t k = 4; k < n - 8; k++) {
        uint8_t *q = malloc(n);
        memcpy(q, p, n);
        q[k] ^= (uint8_t)(1 + k % 255);
        sl_err_clear(&e);
        sl_rc rc = read_mem(q, n, &e);
        assert_true(rc == SL_EEOF || rc == SL_EPARSE || rc == SL_EUNSUPPORTED || rc == SL_ELIMIT ||
                    rc == SL_ESCHEMA);
        if (rc != SL_EEOF)
            assert_true(strlen(e.msg) > 10);
        free(q);
    }
    /* a file on disk that is not Parquet */
    sl_err_clear(&e);
    FILE *f = fopen(tpath("not.parquet"), "wb");
    fputs("hello, world, this is CSV\n", f);
    fclose(f);
    sl_parquet_reader *r;
    assert_int_equal(sl_parquet_reader_open(tpath("not.parquet"), NULL, &r, &e), SL_EPARSE);
    assert_non_null(strstr(e.msg, "not a Parquet file"));
    assert_string_equal(e.file, tpath("not.parquet"));
    assert_int_equal(sl_parquet_reader_open(tpath("missing.parquet"), NULL, &r, &e), SL_ENOTFOUND);
    free(p);
}

/* A file with only a footer describing schema (no row groups). */
static void write_footer_only(const char *path, pq_schema_elem *el, int n)
{
    pq_file_meta m = {.version = 1, .nschema = n, .schema = el};
    tc_writer w;
    tc_writer_init(&w);
    pq_meta_encode(&w, &m);
    FILE *f = fopen(path, "wb");
    fwrite("PAR1", 1, 4, f);
    fwrite(w.buf, 1, w.len, f);
    uint32_t len = (uint32_t)w.len;
    fwrite(&len, 1, 4, f);
    fwrite("PAR1", 1, 4, f);
    fclose(f);
    tc_writer_free(&w);
}

static void test_schema_mapping_and_rejections(void **state)
{
    (void)state;
    pq_schema_elem el[8] = {
        {.name = "schema", .type = -1, .repetition = -1, .num_children = 4, .converted = -1},
        {.name = "id", .type = PQ_INT32, .repetition = PQ_REQUIRED, .converted = PQ_CT_UINT_16},
        {.name = "tags", .type = -1, .repetition = PQ_OPTIONAL, .num_children = 1,
         .converted = PQ_CT_LIST, .logical = {.kind = PQ_LT_LIST}},
        {.name = "list", .type = -1, .repetition = PQ_REPEATED, .num_children = 1, .converted = -1},
        {.name = "element", .type = PQ_BYTE_ARRAY, .repetition = PQ_OPTIONAL, .converted = -1},
        {.name = "pt", .type = -1, .repetition = PQ_OPTIONAL, .num_children = 1, .converted = -1},
        {.name = "x", .type = PQ_DOUBLE, .repetition = PQ_OPTIONAL, .converted = -1},
        {.name = "t", .type = PQ_INT64, .repetition = PQ_OPTIONAL, .converted = -1,
         .logical = {.kind = PQ_LT_TIME, .unit = PQ_UNIT_MICROS}},
    };
    const char *path = tpath("nested.parquet");
    write_footer_only(path, el, 8);
    sl_parquet_reader *r;
    sl_err e;
    sl_err_clear(&e);
    assert_int_equal(sl_parquet_reader_open(path, NULL, &r, &e), SL_EUNSUPPORTED);
    assert_non_null(strstr(e.msg, "column 't': TIME columns are not supported"));
    assert_string_equal(e.field, "t");
    sl_parquet_read_options o;
    sl_parquet_read_options_init(&o);
    const char *cols[] = {"pt.x", "id", "tags"};
    o.columns = cols;
    o.ncolumns = 3;
    assert_int_equal(sl_parquet_reader_open(path, &o, &r, &e), SL_OK);
    const sl_schema *s = sl_parquet_reader_schema(r);
    assert_int_equal(s->n, 3);
    assert_string_equal(s->fields[0].name, "pt.x"); /* structs are flattened */
    assert_int_equal(s->fields[0].type, SL_FLOAT64);
    assert_int_equal(s->fields[1].type, SL_INT64);
    assert_int_equal(s->fields[1].nullable, 0);
    assert_int_equal(s->fields[2].type, SL_STRING); /* a LIST reads as JSON text */
    sl_batch *b;
    assert_int_equal(sl_parquet_reader_next(r, &b, &e), SL_EEOF);
    sl_parquet_reader_close(r);
    const char *nocol[] = {"nope"};
    o.columns = nocol;
    o.ncolumns = 1;
    assert_int_equal(sl_parquet_reader_open(path, &o, &r, &e), SL_ENOTFOUND);
    assert_non_null(strstr(e.msg, "column 'nope' not found"));
}

static void test_row_group_skipping(void **state)
{
    (void)state;
    sl_parquet_write_options o;
    sl_parquet_write_options_init(&o);
    o.row_group_rows = 100;
    const char *path = tpath("skip.parquet");
    write_all_types(path, &o, 1000, 1000); /* req = 0..999, 10 row groups */
    struct {
        sl_parquet_pred p;
        int64_t skipped, rows;
    } cases[] = {
        {{.column = "req", .op = SL_PQ_GE, .type = SL_INT64, .i = 850}, 8, 200},
        {{.column = "req", .op = SL_PQ_LT, .type = SL_INT64, .i = 100}, 9, 100},
        {{.column = "req", .op = SL_PQ_EQ, .type = SL_INT64, .i = 555}, 9, 100},
        {{.column = "req", .op = SL_PQ_EQ, .type = SL_FLOAT64, .f = 555.5}, 9, 100},
        {{.column = "req", .op = SL_PQ_GT, .type = SL_INT64, .i = 5000}, 10, 0},
        {{.column = "req", .op = SL_PQ_NE, .type = SL_INT64, .i = 5}, 0, 1000},
        {{.column = "req", .op = SL_PQ_IS_NULL}, 10, 0},
        {{.column = "s", .op = SL_PQ_EQ, .type = SL_STRING, .s = "zzz", .slen = 3}, 10, 0},
        {{.column = "s", .op = SL_PQ_EQ, .type = SL_STRING, .s = "beta", .slen = 4}, 0, 1000},
        {{.column = "unknown", .op = SL_PQ_EQ, .type = SL_INT64, .i = 1}, 0, 1000},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        sl_parquet_read_options ro;
        sl_parquet_read_options_init(&ro);
        ro.preds = &cases[k].p;
        ro.npreds = 1;
        sl_parquet_reader *r;
        assert_int_equal(sl_parquet_reader_open(path, &ro, &r, NULL), SL_OK);
        sl_batch *b;
        int64_t rows = 0;
        while (sl_parquet_reader_next(r, &b, NULL) == SL_OK) {
            rows += b->nrows;
            sl_batch_unref(b);
        }
        assert_int_equal(sl_parquet_reader_skipped_row_groups(r), cases[k].skipped);
        assert_int_equal(rows, cases[k].rows);
        sl_parquet_reader_close(r);
    }
}

static void test_directory_of_parts(void **state)
{
    (void)state;
    char dir[512];
    snprintf(dir, sizeof dir, "%s/parts", tmpdir);
    mkdir(dir, 0755);
    char p0[600], p1[600], junk[600];
    snprintf(p0, sizeof p0, "%s/part-0.parquet", dir);
    snprintf(p1, sizeof p1, "%s/part-1.parquet", dir);
    snprintf(junk, sizeof junk, "%s/_SUCCESS", dir);
    write_all_types(p0, NULL, 700, 700);
    /* the second part continues the same rows */
    sl_schema *s = all_types_schema();
    sl_parquet_writer *w;
    assert_int_equal(sl_parquet_writer_open(p1, s, NULL, &w, NULL), SL_OK);
    sl_batch *b = all_types_batch(s, 700, 300);
    assert_int_equal(sl_parquet_writer_write(w, b, NULL), SL_OK);
    assert_int_equal(sl_parquet_writer_close(w, NULL), SL_OK);
    sl_batch_unref(b);
    fclose(fopen(junk, "w"));
    check_file(dir, 1000, 256);
    /* a part with another schema fails, naming the part */
    sl_schema *other = sl_schema_new();
    sl_schema_add(other, "b", SL_STRING, 1, NULL);
    assert_int_equal(sl_parquet_writer_open(p1, other, NULL, &w, NULL), SL_OK);
    assert_int_equal(sl_parquet_writer_close(w, NULL), SL_OK);
    sl_parquet_reader *r;
    sl_err e;
    sl_err_clear(&e);
    assert_int_equal(sl_parquet_reader_open(dir, NULL, &r, &e), SL_OK);
    sl_rc rc;
    while ((rc = sl_parquet_reader_next(r, &b, &e)) == SL_OK)
        sl_batch_unref(b);
    assert_int_equal(rc, SL_ESCHEMA);
    assert_non_null(strstr(e.msg, "column 'b' is string in this part but bool in the first part"));
    assert_string_equal(e.file, p1);
    sl_parquet_reader_close(r);
    sl_schema_free(other);
    sl_schema_free(s);
}

static void test_plugins(void **state)
{
    (void)state;
    extern const sl_plugin sl_plugin_sink_parquet, sl_plugin_source_parquet;
    const sl_plugin *sk = &sl_plugin_sink_parquet, *sr = &sl_plugin_source_parquet;
    void *scfg = calloc(1, sk->config_size), *rcfg = calloc(1, sr->config_size);
    assert_int_equal(sl_config_defaults(sk->config_map, scfg, NULL), SL_OK);
    assert_int_equal(sl_config_defaults(sr->config_map, rcfg, NULL), SL_OK);
    const char *path = tpath("plugin.parquet");
    sl_ctx ctx = {.sink_path = path};
    void *inst;
    sl_err e;
    sl_err_clear(&e);
    sl_schema *s = all_types_schema();
    assert_int_equal(sk->init(&inst, scfg, &ctx, &e), SL_OK);
    assert_int_equal(sk->open(inst, s, NULL, &e), SL_OK);
    sl_batch *b = all_types_batch(s, 0, 500);
    assert_int_equal(sk->write(inst, b, &e), SL_OK);
    sl_batch_unref(b);
    assert_int_equal(sk->close(inst, &e), SL_OK);
    sk->destroy(inst);
    /* the source reads it back */
    *(char **)rcfg = strdup(path); /* src_cfg.path is the first member */
    assert_int_equal(sr->init(&inst, rcfg, NULL, &e), SL_OK);
    sl_schema *out;
    assert_int_equal(sr->open(inst, NULL, &out, &e), SL_OK);
    assert_true(sl_schema_equal(s, out));
    int64_t rows = 0, done, total;
    while (sr->next(inst, &b, &e) == SL_OK) {
        rows += b->nrows;
        sl_batch_unref(b);
    }
    sr->progress(inst, &done, &total);
    assert_true(done == total && total > 0);
    assert_int_equal(rows, 500);
    assert_int_equal(sr->close(inst, &e), SL_OK);
    sr->destroy(inst);
    sl_config_free(sr->config_map, rcfg);
    sl_config_free(sk->config_map, scfg);
    free(rcfg);
    free(scfg);
    sl_schema_free(out);
    sl_schema_free(s);
}

static void test_allocation_failures(void **state)
{
    (void)state;
    sl_schema *s = all_types_schema();
    sl_parquet_write_options o;
    sl_parquet_write_options_init(&o);
    o.page_bytes = 500;
    o.row_group_rows = 60;
    const char *path = tpath("oom.parquet");
    sl_batch *b = all_types_batch(s, 0, 100);
    for (long n = 0; n < 100000; n++) {
        sl_mem_fail_after(n);
        sl_parquet_writer *w;
        sl_rc rc = sl_parquet_writer_open(path, s, &o, &w, NULL);
        if (rc == SL_OK) {
            rc = sl_parquet_writer_write(w, b, NULL);
            if (rc == SL_OK)
                rc = sl_parquet_writer_close(w, NULL);
            else
                sl_parquet_writer_abort(w);
        }
        sl_mem_fail_after(-1);
        if (rc == SL_OK)
            break;
        assert_true(rc == SL_ENOMEM);
    }
    for (long n = 0; n < 100000; n++) {
        sl_mem_fail_after(n);
        sl_parquet_reader *r;
        sl_rc rc = sl_parquet_reader_open(path, NULL, &r, NULL);
        if (rc == SL_OK) {
            sl_batch *got;
            while ((rc = sl_parquet_reader_next(r, &got, NULL)) == SL_OK)
                sl_batch_unref(got);
            sl_parquet_reader_close(r);
        }
        sl_mem_fail_after(-1);
        if (rc == SL_EEOF)
            break;
        assert_true(rc == SL_ENOMEM);
    }
    check_file(path, 100, 1000);
    sl_batch_unref(b);
    sl_schema_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_thrift_round_trip),
        cmocka_unit_test(test_thrift_bounds),
        cmocka_unit_test(test_meta_round_trip),
        cmocka_unit_test(test_rle_round_trip),
        cmocka_unit_test(test_delta_round_trip),
        cmocka_unit_test(test_byte_array_encodings),
        cmocka_unit_test(test_codecs),
        cmocka_unit_test(test_round_trip_matrix),
        cmocka_unit_test(test_empty_and_tiny_files),
        cmocka_unit_test(test_dictionary_fallback_and_inspect),
        cmocka_unit_test(test_writer_errors),
        cmocka_unit_test(test_corrupt_and_truncated),
        cmocka_unit_test(test_schema_mapping_and_rejections),
        cmocka_unit_test(test_row_group_skipping),
        cmocka_unit_test(test_directory_of_parts),
        cmocka_unit_test(test_plugins),
        cmocka_unit_test(test_allocation_failures),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
