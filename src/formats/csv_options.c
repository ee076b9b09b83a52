/*
 * csv_options.c: CSV option defaults and checks, and the null-marker set
 * shared by the reader and the writer.
 */
#include "csv_internal.h"

#include "sluice/mem.h"

static const char *const default_nulls[] = {"", "NA", "null"};

void sl_csv_options_init(sl_csv_options *o)
{
    memset(o, 0, sizeof *o);
    o->delimiter = ',';
    o->quote = '"';
    o->header = 1;
    o->null_values = default_nulls;
    o->n_null_values = 3;
    o->infer_rows = SL_CSV_INFER_ROWS_DEFAULT;
    o->batch_rows = SL_BATCH_ROWS_DEFAULT;
    o->on_error = SL_ON_ERROR_FAIL;
    o->rejects_path = NULL;
    o->max_record_bytes = SL_CSV_MAX_RECORD_DEFAULT;
    o->read_bytes = SL_CSV_READ_BYTES_DEFAULT;
}

sl_rc csv_nulls_init(csv_nulls *z, const char *const *vals, int n,
                     sl_err *err)
{
    memset(z, 0, sizeof *z);
    if (n <= 0 || !vals)
        return SL_OK;
    z->s = sl_calloc((size_t)n, sizeof *z->s);
    z->len = sl_calloc((size_t)n, sizeof *z->len);
    if (!z->s || !z->len)
        goto nomem;
    for (int i = 0; i < n; i++) {
        const char *v = vals[i] ? vals[i] : "";
        if (!(z->s[i] = sl_strdup(v)))
            goto nomem;
        z->n = i + 1;
        z->len[i] = strlen(v);
        if (z->len[i] < 64)
            z->lenmask |= (uint64_t)1 << z->len[i];
        else
            z->has_long = 1;
    }
    return SL_OK;
nomem:
    csv_nulls_free(z);
    return sl_err_set(err, SL_ENOMEM, "out of memory");
}

void csv_nulls_free(csv_nulls *z)
{
    for (int i = 0; i < z->n; i++)
        sl_free(z->s[i]);
    sl_free(z->s);
    sl_free(z->len);
    memset(z, 0, sizeof *z);
}

static int bad_sep(char c)
{
    return c == '\n' || c == '\r' || c == '\0';
}

sl_rc csv_options_check(const sl_csv_options *o, int reading, sl_err *err)
{
    if (bad_sep(o->delimiter))
        return sl_err_set(err, SL_ECONFIG,
                          "delimiter must be one byte other than CR, LF and NUL");
    if (o->quote == '\n' || o->quote == '\r' || (!reading && o->quote == '\0'))
        return sl_err_set(err, SL_ECONFIG,
                          "quote must be one byte other than CR, LF%s",
                          reading ? "" : " and NUL");
    if (o->quote == o->delimiter)
        return sl_err_set(err, SL_ECONFIG,
                          "quote and delimiter must differ (both are '%c')",
                          o->delimiter);
    if (o->n_null_values < 0 || (o->n_null_values > 0 && !o->null_values))
        return sl_err_set(err, SL_EINVAL, "bad null_values list");
    if (!reading)
        return SL_OK;
    if (o->infer_rows < 0)
        return sl_err_set(err, SL_ECONFIG, "infer_rows must be >= 0, not %lld",
                          (long long)o->infer_rows);
    if (o->batch_rows < 1 || o->batch_rows > (INT64_C(1) << 40))
        return sl_err_set(err, SL_ECONFIG,
                          "batch_rows must be between 1 and 2^40, not %lld",
                          (long long)o->batch_rows);
    if (o->max_record_bytes < 1)
        return sl_err_set(err, SL_ECONFIG,
                          "max_record_bytes must be >= 1, not %lld",
                          (long long)o->max_record_bytes);
    if (o->read_bytes < 1 || o->read_bytes > ((size_t)1 << 30))
        return sl_err_set(err, SL_EINVAL, "read_bytes must be in [1, 2^30]");
    if (o->max_record_bytes > (INT64_C(1) << 40))
        return sl_err_set(err, SL_ECONFIG, "max_record_bytes must be <= 2^40");
    if (o->on_error > SL_ON_ERROR_DLQ)
        return sl_err_set(err, SL_ECONFIG, "bad on_error value %d",
                          (int)o->on_error);
    if (o->on_error == SL_ON_ERROR_DLQ && (!o->rejects_path || !*o->rejects_path))
        return sl_err_set(err, SL_ECONFIG,
                          "on_error: dlq needs a rejects file (set 'rejects')");
    return SL_OK;
}
