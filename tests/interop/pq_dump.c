/*
 * pq_dump.c: a small driver over sluice/parquet.h for the interop and
 * conformance tests (built by tests/interop/run.sh against
 * build/libsluice.a; not part of the library).
 *
 *   pq_dump dump FILE|DIR [--columns a,b] [--batch N]
 *       First line {"schema": [{"name", "type", "nullable"}]}, then one JSON
 *       array per row: bool, int64 and float64 as JSON values (NaN,
 *       Infinity, -Infinity as bare tokens, which Python's json accepts),
 *       timestamp as integer microseconds, date as integer days, strings
 *       as JSON strings (bytes >= 0x80 copied as is), null as null.
 *   pq_dump write OUT [--codec C] [--v2] [--no-dict] [--page-bytes N]
 *       [--rg-rows N] [--rg-bytes N] [--dict-bytes N] < rows.jsonl
 *       Input: a {"schema": [...]} line, then rows as JSON arrays; float64
 *       values may be "nan", "inf", "-inf"; timestamps are integer µs and
 *       dates integer days.
 *   pq_dump inspect FILE [--json]
 * Exit status: 0 ok, 1 error (the formatted sl_err on stderr), 2 usage.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/parquet.h"

static int fail(const sl_err *e)
{
    char buf[2048];
    sl_err_format(e, buf, sizeof buf);
    fprintf(stderr, "error: %s\n", buf);
    return 1;
}

static void put_str(FILE *f, const char *s, size_t n)
{
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void put_value(FILE *f, const sl_column *c, int64_t i)
{
    if (c->type == SL_NULL || !sl_col_valid(c, i)) {
        fputs("null", f);
        return;
    }
    switch (c->type) {
    case SL_BOOL:
        fputs(sl_col_bool(c, i) ? "true" : "false", f);
        break;
    case SL_INT64:
    case SL_TIMESTAMP:
        fprintf(f, "%lld", (long long)sl_col_i64(c, i));
        break;
    case SL_DATE:
        fprintf(f, "%d", sl_col_i32(c, i));
        break;
    case SL_FLOAT64: {
        double v = sl_col_f64(c, i);
        if (isnan(v))
            fputs("NaN", f);
        else if (isinf(v))
            fputs(v > 0 ? "Infinity" : "-Infinity", f);
        else
            fprintf(f, "%.17g", v);
        break;
    }
    case SL_STRING: {
        size_t n;
        const char *s = sl_col_str(c, i, &n);
        put_str(f, s, n);
        break;
    }
    default:
        fputs("null", f);
    }
}

static int split_list(char *s, const char **out, int max)
{
    int n = 0;
    for (char *t = strtok(s, ","); t && n < max; t = strtok(NULL, ","))
        out[n++] = t;
    return n;
}

static int cmd_dump(int argc, char **argv)
{
    sl_parquet_read_options o;
    sl_parquet_read_options_init(&o);
    const char *cols[256];
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "--columns") && i + 1 < argc) {
            o.ncolumns = split_list(argv[++i], cols, 256);
            o.columns = cols;
        } else if (!strcmp(argv[i], "--batch") && i + 1 < argc) {
            o.batch_rows = atoll(argv[++i]);
        } else {
            return 2;
        }
    }
    sl_err e;
    sl_err_clear(&e);
    sl_parquet_reader *r;
    if (sl_parquet_reader_open(argv[2], &o, &r, &e) != SL_OK)
        return fail(&e);
    const sl_schema *s = sl_parquet_reader_schema(r);
    printf("{\"schema\": [");
    for (int i = 0; i < s->n; i++) {
        printf("%s{\"name\": ", i ? ", " : "");
        put_str(stdout, s->fields[i].name, strlen(s->fields[i].name));
        printf(", \"type\": \"%s\", \"nullable\": %s}", sl_type_name(s->fields[i].type),
               s->fields[i].nullable ? "true" : "false");
    }
    printf("]}\n");
    sl_batch *b;
    sl_rc rc;
    while ((rc = sl_parquet_reader_next(r, &b, &e)) == SL_OK) {
        for (int64_t i = 0; i < b->nrows; i++) {
            putchar('[');
            for (int j = 0; j < b->schema->n; j++) {
                if (j)
                    fputs(", ", stdout);
                put_value(stdout, b->cols[j], i);
            }
            puts("]");
        }
        sl_batch_unref(b);
    }
    sl_parquet_reader_close(r);
    return rc == SL_EEOF ? 0 : fail(&e);
}

static int append_json(sl_column *c, json_t *v)
{
    if (json_is_null(v))
        return sl_column_append_null(c);
    switch (c->type) {
    case SL_BOOL:
        return sl_column_append_bool(c, json_is_true(v));
    case SL_INT64:
    case SL_TIMESTAMP:
        return sl_column_append_int64(c, json_integer_value(v));
    case SL_DATE:
        return sl_column_append_int32(c, (int32_t)json_integer_value(v));
    case SL_FLOAT64:
        if (json_is_string(v)) {
            const char *t = json_string_value(v);
            double d = !strcmp(t, "nan") ? NAN : !strcmp(t, "inf") ? INFINITY : -INFINITY;
            return sl_column_append_float64(c, d);
        }
        return sl_column_append_float64(c, json_number_value(v));
    case SL_STRING:
        return sl_column_append_str(c, json_string_value(v), json_string_length(v));
    default:
        return sl_column_append_null(c);
    }
}

static int cmd_write(int argc, char **argv)
{
    sl_parquet_write_options o;
    sl_parquet_write_options_init(&o);
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "--codec") && i + 1 < argc) {
            if (sl_parquet_codec_parse(argv[++i], &o.codec) != SL_OK)
                return 2;
        } else if (!strcmp(argv[i], "--v2")) {
            o.data_page_version = 2;
        } else if (!strcmp(argv[i], "--no-dict")) {
            o.dictionary = 0;
        } else if (!strcmp(argv[i], "--page-bytes") && i + 1 < argc) {
            o.page_bytes = atoll(argv[++i]);
        } else if (!strcmp(argv[i], "--rg-rows") && i + 1 < argc) {
            o.row_group_rows = atoll(argv[++i]);
        } else if (!strcmp(argv[i], "--rg-bytes") && i + 1 < argc) {
            o.row_group_bytes = atoll(argv[++i]);
        } else if (!strcmp(argv[i], "--dict-bytes") && i + 1 < argc) {
            o.dictionary_bytes = atoll(argv[++i]);
        } else {
            return 2;
        }
    }
    json_error_t je;
    json_t *hdr = json_loadf(stdin, JSON_DISABLE_EOF_CHECK, &je);
    json_t *fields = json_object_get(hdr, "schema");
    if (!json_is_array(fields)) {
        fprintf(stderr, "error: first line must be {\"schema\": [...]}\n");
        return 2;
    }
    sl_err e;
    sl_err_clear(&e);
    sl_schema *s = sl_schema_new();
    size_t i;
    json_t *fj;
    json_array_foreach(fields, i, fj) {
        sl_type t;
        json_t *nl = json_object_get(fj, "nullable");
        if (sl_type_parse(json_string_value(json_object_get(fj, "type")), &t) != SL_OK ||
            sl_schema_add(s, json_string_value(json_object_get(fj, "name")), t,
                          nl ? json_is_true(nl) : 1, &e) != SL_OK)
            return fail(&e);
    }
    json_decref(hdr);
    sl_parquet_writer *w;
    if (sl_parquet_writer_open(argv[2], s, &o, &w, &e) != SL_OK)
        return fail(&e);
    int rc = 0;
    for (int done = 0; !done && rc == 0;) {
        sl_batch *b = sl_batch_new(s, 1024);
        for (int n = 0; n < 10000; n++) {
            json_t *row = json_loadf(stdin, JSON_DISABLE_EOF_CHECK, &je);
            if (!row) {
                done = 1;
                break;
            }
            for (int j = 0; j < s->n; j++)
                append_json(b->cols[j], json_array_get(row, (size_t)j));
            json_decref(row);
        }
        if (sl_batch_seal(b, &e) != SL_OK || sl_parquet_writer_write(w, b, &e) != SL_OK)
            rc = fail(&e);
        sl_batch_unref(b);
    }
    if (rc != 0) {
        sl_parquet_writer_abort(w);
    } else if (sl_parquet_writer_close(w, &e) != SL_OK) {
        rc = fail(&e);
    }
    sl_schema_free(s);
    return rc;
}

static int cmd_inspect(int argc, char **argv)
{
    sl_err e;
    sl_err_clear(&e);
    if (argc > 3 && !strcmp(argv[3], "--json")) {
        json_t *j;
        if (sl_parquet_inspect_json(argv[2], &j, &e) != SL_OK)
            return fail(&e);
        json_dumpf(j, stdout, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
        putchar('\n');
        json_decref(j);
        return 0;
    }
    return sl_parquet_inspect_print(argv[2], stdout, &e) == SL_OK ? 0 : fail(&e);
}

int main(int argc, char **argv)
{
    int rc = 2;
    if (argc >= 3 && !strcmp(argv[1], "dump"))
        rc = cmd_dump(argc, argv);
    else if (argc >= 3 && !strcmp(argv[1], "write"))
        rc = cmd_write(argc, argv);
    else if (argc >= 3 && !strcmp(argv[1], "inspect"))
        rc = cmd_inspect(argc, argv);
    if (rc == 2)
        fprintf(stderr, "usage: pq_dump dump FILE [--columns a,b] [--batch N]\n"
                        "       pq_dump write OUT [--codec C] [--v2] [--no-dict] "
                        "[--page-bytes N] [--rg-rows N] [--rg-bytes N] < rows.jsonl\n"
                        "       pq_dump inspect FILE [--json]\n");
    return rc;
}
