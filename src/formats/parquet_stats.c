/*
 * parquet_stats.c: row-group skipping for the Parquet reader. A predicate
 * excludes a row group only when the chunk statistics PROVE that no row
 * satisfies it; anything uncertain (no statistics, legacy string min/max
 * in signed byte order, an undefined column order, unsigned / decimal /
 * INT96 columns, NaN bounds, a literal of another type) keeps the row
 * group. Bounds are converted to the reader's output domain first
 * (timestamps to microseconds, floor for nanoseconds, which keeps order).
 */
#include <string.h>

#include "parquet_rcol.h"
#include "sluice/parquet.h"


typedef struct bound {
    int kind;       /* 0 none, 1 int, 2 double, 3 bytes */
    int64_t i;
    double f;
    const uint8_t *s;
    size_t n;
} bound;

/* Decodes a min or max statistic of a leaf into the output domain. */
static void stat_bound(const pq_leaf_type *lt, const uint8_t *p, uint32_t n, bound *b)
{
    int32_t i32;
    int64_t i64;
    float f32;
    b->kind = 0;
    switch (lt->conv) {
    case CV_I32:
    case CV_DATE:
        if (n == 4) {
            memcpy(&i32, p, 4);
            b->kind = 1;
            b->i = i32;
        }
        break;
    case CV_I64:
    case CV_TS_MS:
    case CV_TS_NS:
        if (n == 8) {
            memcpy(&i64, p, 8);
            b->kind = 1;
            b->i = lt->conv == CV_TS_MS ? (i64 > INT64_MAX / 1000 || i64 < INT64_MIN / 1000
                                               ? (b->kind = 0, 0)
                                               : i64 * 1000)
                   : lt->conv == CV_TS_NS ? i64 / 1000 - (i64 % 1000 < 0)
                                          : i64;
        }
        break;
    case CV_F32:
        if (n == 4) {
            memcpy(&f32, p, 4);
            b->kind = f32 == f32 ? 2 : 0;
            b->f = f32;
        }
        break;
    case CV_F64:
        if (n == 8) {
            memcpy(&b->f, p, 8);
            b->kind = b->f == b->f ? 2 : 0;
        }
        break;
    case CV_STR:
    case CV_STR_CHECK:
        b->kind = 3;
        b->s = p;
        b->n = n;
        break;
    case CV_BOOL:
        if (n == 1) {
            b->kind = 1;
            b->i = p[0] != 0;
        }
        break;
    default: /* unsigned, decimal, INT96, FLOAT16: not used for skipping */
        break;
    }
}

/* <0, 0, >0 comparing the literal with a bound; 2 = incomparable. */
static int cmp_lit(const sl_parquet_pred *p, const bound *b)
{
    if (b->kind == 3) {
        if (p->type != SL_STRING)
            return 2;
        size_t m = p->slen < b->n ? p->slen : b->n;
        int c = m ? memcmp(p->s, b->s, m) : 0;
        return c ? (c < 0 ? -1 : 1) : (p->slen < b->n ? -1 : p->slen > b->n);
    }
    if (p->type == SL_STRING || b->kind == 0)
        return 2;
    if (b->kind == 1 && p->type != SL_FLOAT64)
        return p->i < b->i ? -1 : p->i > b->i;
    double x = p->type == SL_FLOAT64 ? p->f : (double)p->i;
    double y = b->kind == 2 ? b->f : (double)b->i;
    if (x != x)
        return 2;
    return x < y ? -1 : x > y;
}

/* 1 when the statistics of chunk cc prove no row satisfies p. */
int pq_pred_excludes(const sl_parquet_pred *p, const pq_leaf_type *lt,
                     const pq_column_chunk *cc, int64_t rows, int type_order)
{
    const pq_stats *s = &cc->meta.stats;
    if (!cc->has_meta || !cc->meta.has_stats)
        return 0;
    int all_null = s->has_null_count && s->null_count >= rows;
    if (p->op == SL_PQ_IS_NULL)
        return s->has_null_count && s->null_count == 0;
    if (p->op == SL_PQ_IS_NOT_NULL)
        return all_null;
    if (all_null)
        return 1; /* comparisons are never true on nulls */
    /* Legacy min/max used signed byte order for strings: not trusted. */
    if (!s->has_min || !s->has_max || !type_order ||
        (s->legacy && (lt->conv == CV_STR || lt->conv == CV_STR_CHECK)))
        return 0;
    bound lo, hi;
    stat_bound(lt, s->min, s->min_len, &lo);
    stat_bound(lt, s->max, s->max_len, &hi);
    int cl = cmp_lit(p, &lo), ch = cmp_lit(p, &hi);
    if (cl == 2 || ch == 2)
        return 0;
    switch (p->op) {
    case SL_PQ_EQ: return cl < 0 || ch > 0;
    case SL_PQ_NE: return cl == 0 && ch == 0;
    case SL_PQ_LT: return cl <= 0;  /* lit <= min: nothing below lit */
    case SL_PQ_LE: return cl < 0;
    case SL_PQ_GT: return ch >= 0;
    case SL_PQ_GE: return ch > 0;
    default: return 0;
    }
}
