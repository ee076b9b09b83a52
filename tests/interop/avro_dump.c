/*
 * avro_dump.c: a small driver over sluice/avro.h for the Avro interop
 * tests (built by tests/interop/run.sh against libsluice.a; not part of
 * the library). Output and input rows use pq_dump's JSON conventions.
 *
 *   avro_dump dump FILE|DIR [--columns a,b] [--reader-schema S] [--batch N]
 *       {"schema": [{"name", "type", "nullable"}]}, then one JSON array per
 *       row (timestamps as integer µs, dates as integer days, NaN/Infinity
 *       as bare tokens).
 *   avro_dump write OUT [--codec C] [--block-rows N] [--block-bytes N]
 *       < {"schema": [...]} line + rows as JSON arrays
 *   avro_dump inspect FILE [--json]
 *   avro_dump wire-decode [--dir D] [--url U] [--reader-schema S]
 *       < one hex-encoded message per line; prints the schema line, then a
 *       row per good message and "error: <code>: <message>" lines for
 *       rejected ones, in input order.
 *   avro_dump wire-encode ID < {"schema"} + rows; prints the writer schema
 *       JSON, then one hex message per row.
 * Exit status: 0 ok, 1 error (the formatted sl_err on stderr), 2 usage.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/avro.h"

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
    case SL_BOOL: fputs(sl_col_bool(c, i) ? "true" : "false", f); break;
    case SL_INT64:
    case SL_TIMESTAMP: fprintf(f, "%lld", (long long)sl_col_i64(c, i)); break;
    case SL_DATE: fprintf(f, "%d", sl_col_i32(c, i)); break;
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
    default: fputs("null", f);
    }
}

static void put_schema(const sl_schema *s)
{
    printf("{\"schema\": [");
    for (int i = 0; s && i < s->n; i++) {
        printf("%s{\"name\": ", i ? ", " : "");
        put_str(stdout, s->fields[i].name, strlen(s->fields[i].name));
        printf(", \"type\": \"%s\", \"nullable\": %s}", sl_type_name(s->fields[i].type),
               s->fields[i].nullable ? "true" : "false");
    }
    printf("]}\n");
}

static void put_rows(const sl_batch *b)
{
    for (int64_t i = 0; i < b->nrows; i++) {
        putchar('[');
        for (int j = 0; j < b->schema->n; j++) {
            if (j)
                fputs(", ", stdout);
            put_value(stdout, b->cols[j], i);
        }
        puts("]");
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
    sl_avro_read_options o;
    sl_avro_read_options_init(&o);
    const char *cols[256];
    sl_avro_schema *rs = NULL;
    sl_err e;
    sl_err_clear(&e);
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "--columns") && i + 1 < argc) {
            o.ncolumns = split_list(argv[++i], cols, 256);
            o.columns = cols;
        } else if (!strcmp(argv[i], "--batch") && i + 1 < argc) {
            o.batch_rows = atoll(argv[++i]);
        } else if (!strcmp(argv[i], "--reader-schema") && i + 1 < argc) {
            if (sl_avro_schema_load(argv[++i], &rs, &e) != SL_OK)
                return fail(&e);
            o.reader_schema = rs;
        } else {
            return 2;
        }
    }
    sl_avro_reader *r;
    if (sl_avro_reader_open(argv[2], &o, &r, &e) != SL_OK) {
        sl_avro_schema_free(rs);
        return fail(&e);
    }
    put_schema(sl_avro_reader_schema(r));
    sl_batch *b;
    sl_rc rc;
    while ((rc = sl_avro_reader_next(r, &b, &e)) == SL_OK) {
        put_rows(b);
        sl_batch_unref(b);
    }
    sl_avro_reader_close(r);
    sl_avro_schema_free(rs);
    return rc == SL_EEOF ? 0 : fail(&e);
}

static int append_json(sl_column *c, json_t *v)
{
    if (json_is_null(v))
        return sl_column_append_null(c);
    switch (c->type) {
    case SL_BOOL: return sl_column_append_bool(c, json_is_true(v));
    case SL_INT64:
    case SL_TIMESTAMP: return sl_column_append_int64(c, json_integer_value(v));
    case SL_DATE: return sl_column_append_int32(c, (int32_t)json_integer_value(v));
    case SL_FLOAT64:
        if (json_is_string(v)) {
            const char *t = json_string_value(v);
            double d = !strcmp(t, "nan") ? NAN : !strcmp(t, "inf") ? INFINITY : -INFINITY;
            return sl_column_append_float64(c, d);
        }
        return sl_column_append_float64(c, json_number_value(v));
    case SL_STRING: return sl_column_append_str(c, json_string_value(v), json_string_length(v));
    default: return sl_column_append_null(c);
    }
}

/* The {"schema": [...]} line from stdin. */
static sl_schema *read_schema(void)
{
    json_error_t je;
    json_t *hdr = json_loadf(stdin, JSON_DISABLE_EOF_CHECK, &je);
    json_t *fields = json_object_get(hdr, "schema");
    if (!json_is_array(fields)) {
        fprintf(stderr, "error: first line must be {\"schema\": [...]}\n");
        json_decref(hdr);
        return NULL;
    }
    sl_schema *s = sl_schema_new();
    size_t i;
    json_t *fj;
    json_array_foreach(fields, i, fj) {
        sl_type t;
        json_t *nl = json_object_get(fj, "nullable");
        if (sl_type_parse(json_string_value(json_object_get(fj, "type")), &t) != SL_OK ||
            sl_schema_add(s, json_string_value(json_object_get(fj, "name")), t,
                          nl ? json_is_true(nl) : 1, NULL) != SL_OK) {
            sl_schema_free(s);
            s = NULL;
            break;
        }
    }
    json_decref(hdr);
    return s;
}

/* Up to max rows from stdin into a new batch; NULL at the end. */
static sl_batch *read_rows(const sl_schema *s, int max)
{
    json_error_t je;
    sl_batch *b = sl_batch_new(s, 1024);
    int n = 0;
    for (; n < max; n++) {
        json_t *row = json_loadf(stdin, JSON_DISABLE_EOF_CHECK, &je);
        if (!row)
            break;
        for (int j = 0; j < s->n; j++)
            append_json(b->cols[j], json_array_get(row, (size_t)j));
        json_decref(row);
    }
    sl_batch_seal(b, NULL);
    if (n == 0) {
        sl_batch_unref(b);
        return NULL;
    }
    return b;
}

static int cmd_write(int argc, char **argv)
{
    sl_avro_write_options o;
    sl_avro_write_options_init(&o);
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "--codec") && i + 1 < argc) {
            if (sl_avro_codec_parse(argv[++i], &o.codec) != SL_OK)
                return 2;
        } else if (!strcmp(argv[i], "--block-rows") && i + 1 < argc) {
            o.block_rows = atoll(argv[++i]);
        } else if (!strcmp(argv[i], "--block-bytes") && i + 1 < argc) {
            o.block_bytes = atoll(argv[++i]);
        } else {
            return 2;
        }
    }
    sl_schema *s = read_schema();
    if (!s)
        return 2;
    sl_err e;
    sl_err_clear(&e);
    sl_avro_writer *w;
    if (sl_avro_writer_open(argv[2], s, &o, &w, &e) != SL_OK) {
        sl_schema_free(s);
        return fail(&e);
    }
    int rc = 0;
    sl_batch *b;
    while (rc == 0 && (b = read_rows(s, 10000)) != NULL) {
        if (sl_avro_writer_write(w, b, &e) != SL_OK)
            rc = fail(&e);
        sl_batch_unref(b);
    }
    if (rc != 0)
        sl_avro_writer_abort(w);
    else if (sl_avro_writer_close(w, &e) != SL_OK)
        rc = fail(&e);
    sl_schema_free(s);
    return rc;
}

static int cmd_inspect(int argc, char **argv)
{
    sl_err e;
    sl_err_clear(&e);
    if (argc > 3 && !strcmp(argv[3], "--json")) {
        json_t *j;
        if (sl_avro_inspect_json(argv[2], &j, &e) != SL_OK)
            return fail(&e);
        json_dumpf(j, stdout, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
        putchar('\n');
        json_decref(j);
        return 0;
    }
    return sl_avro_inspect_print(argv[2], stdout, &e) == SL_OK ? 0 : fail(&e);
}

static int unhex(const char *s, uint8_t *out, size_t cap, size_t *n)
{
    size_t k = 0;
    for (; s[0] && s[0] != '\n' && s[1] && s[1] != '\n'; s += 2) {
        unsigned v;
        if (k == cap || sscanf(s, "%2x", &v) != 1)
            return -1;
        out[k++] = (uint8_t)v;
    }
    *n = k;
    return 0;
}

static int cmd_wire_decode(int argc, char **argv)
{
    const char *dir = NULL, *url = NULL;
    sl_avro_schema *rs = NULL;
    sl_err e;
    sl_err_clear(&e);
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--dir") && i + 1 < argc)
            dir = argv[++i];
        else if (!strcmp(argv[i], "--url") && i + 1 < argc)
            url = argv[++i];
        else if (!strcmp(argv[i], "--reader-schema") && i + 1 < argc) {
            if (sl_avro_schema_load(argv[++i], &rs, &e) != SL_OK)
                return fail(&e);
        } else
            return 2;
    }
    sl_avro_registry *reg;
    sl_avro_wire_decoder *d;
    if (sl_avro_registry_new(dir, url, 5000, &reg, &e) != SL_OK)
        return fail(&e);
    if (sl_avro_wire_decoder_new(sl_avro_registry_resolve, reg, rs, &d, &e) != SL_OK)
        return fail(&e);
    static char line[1 << 20];
    static uint8_t msg[1 << 19];
    int rc = 0, printed_schema = 0;
    while (rc == 0 && fgets(line, sizeof line, stdin)) {
        size_t n;
        if (unhex(line, msg, sizeof msg, &n) != 0) {
            fprintf(stderr, "error: bad hex line\n");
            rc = 2;
            break;
        }
        sl_rc r = sl_avro_wire_decode(d, msg, n, &e);
        if (r == SL_EPARSE || r == SL_ESCHEMA || r == SL_ENOTFOUND) {
            printf("error: %s: %s\n", sl_rc_str(r), e.msg);
            continue;
        }
        if (r != SL_OK) {
            rc = fail(&e);
            break;
        }
        if (!printed_schema) {
            put_schema(sl_avro_wire_decoder_schema(d));
            printed_schema = 1;
        }
        sl_batch *b;
        if (sl_avro_wire_decoder_take(d, &b, &e) != SL_OK) {
            rc = fail(&e);
            break;
        }
        put_rows(b);
        sl_batch_unref(b);
    }
    sl_avro_wire_decoder_free(d);
    sl_avro_registry_free(reg);
    sl_avro_schema_free(rs);
    return rc;
}

static int cmd_wire_encode(char **argv)
{
    sl_schema *s = read_schema();
    if (!s)
        return 2;
    sl_err e;
    sl_err_clear(&e);
    sl_avro_wire_encoder *enc;
    if (sl_avro_wire_encoder_new(s, atoi(argv[2]), &enc, &e) != SL_OK)
        return fail(&e);
    puts(sl_avro_schema_json(sl_avro_wire_encoder_schema(enc)));
    int rc = 0;
    sl_batch *b;
    while (rc == 0 && (b = read_rows(s, 10000)) != NULL) {
        for (int64_t i = 0; i < b->nrows && rc == 0; i++) {
            const uint8_t *m;
            size_t n;
            if (sl_avro_wire_encode(enc, b, i, &m, &n, &e) != SL_OK) {
                rc = fail(&e);
                break;
            }
            for (size_t k = 0; k < n; k++)
                printf("%02x", m[k]);
            putchar('\n');
        }
        sl_batch_unref(b);
    }
    sl_avro_wire_encoder_free(enc);
    sl_schema_free(s);
    return rc;
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
    else if (argc >= 2 && !strcmp(argv[1], "wire-decode"))
        rc = cmd_wire_decode(argc, argv);
    else if (argc >= 3 && !strcmp(argv[1], "wire-encode"))
        rc = cmd_wire_encode(argv);
    if (rc == 2)
        fprintf(stderr, "usage: avro_dump dump FILE [--columns a,b] [--reader-schema S] [--batch N]\n"
                        "       avro_dump write OUT [--codec C] [--block-rows N] [--block-bytes N] "
                        "< rows.jsonl\n"
                        "       avro_dump inspect FILE [--json]\n"
                        "       avro_dump wire-decode [--dir D] [--url U] [--reader-schema S] "
                        "< hex lines\n"
                        "       avro_dump wire-encode ID < rows.jsonl\n");
    return rc;
}
