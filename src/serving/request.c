/*
 * request.c: a predict request body -> a batch with the model's input
 * schema (types pinned by transform.json's input_schema).
 *
 * Two shapes, TF-Serving style:
 *   {"instances": [{"f1": 1.5, "f2": "a"}, ...]}   one object per row
 *   {"inputs": {"f1": [1.5, ...], "f2": ["a", ...]}} one list per feature
 * ("signature_name" is accepted and ignored, for TF-Serving clients).
 *
 * Values are read the way the JSON Lines reader reads them, so a row sent
 * here means what the same row meant in training data:
 *   float64    any JSON number
 *   int64      an integer (or a number with no fraction, e.g. 3.0)
 *   bool       true / false
 *   string     a string; a number or boolean is taken as its JSON text
 *   date       "YYYY-MM-DD" or "YYYY/MM/DD";  timestamp: value.h's forms
 *   null       allowed only where the field is nullable
 * A missing feature is null when nullable, else an error; an unknown one
 * is an error or skipped (sv_input.unknown_error). Every error names the
 * instance and the feature: `instances[3].age: expected a number, got
 * "abc"`. Bounds: the body size is checked by the HTTP layer before it
 * gets here; here the number of values before parsing (prescan) and the
 * instance count after (SL_ELIMIT); jansson bounds nesting depth (2048).
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "serving/internal.h"
#include "sluice/config_map.h"
#include "sluice/mem.h"
#include "sluice/value.h"

/* Where a value came from, for messages. */
typedef struct loc {
    int columnar;
    int64_t row;
} loc;

static void where(const loc *l, const char *field, char *buf, size_t n)
{
    if (l->columnar)
        snprintf(buf, n, "inputs.%s[%lld]", field, (long long)l->row);
    else
        snprintf(buf, n, "instances[%lld].%s", (long long)l->row, field);
}

/* A short rendering of a JSON value for "got ..." in messages. */
static void excerpt(const json_t *v, char *buf, size_t n)
{
    char num[SL_FMT_MAX + 1];
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        snprintf(buf, n, "an object");
        break;
    case JSON_ARRAY:
        snprintf(buf, n, "a list");
        break;
    case JSON_STRING: {
        const char *s = json_string_value(v);
        size_t len = json_string_length(v), k = 0, o = 0;
        /* room kept at the end: one escape (6), "..." (3), quote, NUL */
        buf[o++] = '"';
        for (; k < len && k < 40 && o + 11 < n; k++) {
            unsigned char c = (unsigned char)s[k];
            if (c == '"' || c == '\\') {
                buf[o++] = '\\';
                buf[o++] = (char)c;
            } else if (c < 0x20) {
                o += (size_t)snprintf(buf + o, n - o, "\\u%04x", c);
            } else {
                buf[o++] = (char)c;
            }
        }
        if (k < len) {
            memcpy(buf + o, "...", 3);
            o += 3;
        }
        buf[o++] = '"';
        buf[o] = '\0';
        break;
    }
    case JSON_INTEGER:
        snprintf(buf, n, "%lld", (long long)json_integer_value(v));
        break;
    case JSON_REAL:
        sl_format_float64(json_real_value(v), num);
        snprintf(buf, n, "%s", num);
        break;
    case JSON_TRUE:
        snprintf(buf, n, "true");
        break;
    case JSON_FALSE:
        snprintf(buf, n, "false");
        break;
    default:
        snprintf(buf, n, "null");
        break;
    }
}

static sl_rc type_error(const loc *l, const sl_field *f, const char *expected,
                        const json_t *v, sl_err *err)
{
    char w[SL_ERR_FIELD_MAX + 48], got[64];
    where(l, f->name, w, sizeof w);
    excerpt(v, got, sizeof got);
    sl_err_set(err, SL_ESCHEMA, "%s: expected %s, got %s", w, expected, got);
    sl_err_field(err, f->name);
    return SL_ESCHEMA;
}

static sl_rc append_text(sl_column *c, const json_t *v)
{
    char buf[SL_FMT_MAX + 1];
    int k;
    if (json_is_string(v))
        return sl_column_append_str(c, json_string_value(v), json_string_length(v));
    if (json_is_integer(v))
        k = sl_format_int64((int64_t)json_integer_value(v), buf);
    else if (json_is_real(v))
        k = sl_format_float64(json_real_value(v), buf);
    else
        k = snprintf(buf, sizeof buf, "%s", json_is_true(v) ? "true" : "false");
    return sl_column_append_str(c, buf, (size_t)k);
}

/* Append v (NULL = the key was absent) to column c of field f. */
static sl_rc append_value(sl_column *c, const sl_field *f, const json_t *v,
                          const loc *l, sl_err *err)
{
    char w[SL_ERR_FIELD_MAX + 48];
    if (!v || json_is_null(v)) {
        if (f->nullable || f->type == SL_NULL)
            return sl_column_append_null(c);
        where(l, f->name, w, sizeof w);
        sl_err_set(err, SL_ESCHEMA, "%s: %s, but the feature is not nullable", w,
                   v ? "null" : "missing");
        sl_err_field(err, f->name);
        return SL_ESCHEMA;
    }
    switch (f->type) {
    case SL_FLOAT64:
        if (!json_is_number(v))
            return type_error(l, f, "a number", v, err);
        return sl_column_append_float64(c, json_number_value(v));
    case SL_INT64:
        if (json_is_integer(v))
            return sl_column_append_int64(c, (int64_t)json_integer_value(v));
        if (json_is_real(v)) {
            double d = json_real_value(v);
            /* 2^63 is exact in a double; the range is [-2^63, 2^63). */
            if (d == floor(d) && d >= -9223372036854775808.0 && d < 9223372036854775808.0)
                return sl_column_append_int64(c, (int64_t)d);
        }
        return type_error(l, f, "an integer", v, err);
    case SL_BOOL:
        if (!json_is_boolean(v))
            return type_error(l, f, "true or false", v, err);
        return sl_column_append_bool(c, json_is_true(v));
    case SL_STRING:
        if (json_is_object(v) || json_is_array(v))
            return type_error(l, f, "a string", v, err);
        return append_text(c, v);
    case SL_DATE: {
        int32_t d;
        if (!json_is_string(v) ||
            sl_parse_date(json_string_value(v), json_string_length(v), &d) != 0)
            return type_error(l, f, "a date (YYYY-MM-DD)", v, err);
        return sl_column_append_int32(c, d);
    }
    case SL_TIMESTAMP: {
        int64_t t;
        if (!json_is_string(v) ||
            sl_parse_timestamp(json_string_value(v), json_string_length(v), &t) != 0)
            return type_error(l, f, "a timestamp (YYYY-MM-DDTHH:MM:SS[.f][zone])", v, err);
        return sl_column_append_int64(c, t);
    }
    default:
        return sl_column_append_null(c);
    }
}

/* The field a key names, -1 when unknown. */
static int find_field(const sl_schema *s, const char *key)
{
    for (int j = 0; j < s->n; j++)
        if (s->fields[j].name[0] == key[0] && strcmp(s->fields[j].name, key) == 0)
            return j;
    return -1;
}

static sl_rc unknown_feature(const sv_input *in, const char *prefix,
                             const char *key, sl_err *err)
{
    const sl_schema *s = in->schema;
    const char **names = sl_calloc((size_t)s->n + 1, sizeof *names);
    const char *close = NULL;
    int k = 0;
    for (int j = 0; names && j < s->n; j++)
        if (j != in->ignore_field)
            names[k++] = s->fields[j].name;
    if (names)
        close = sl_closest_name(names, key);
    if (close)
        sl_err_set(err, SL_ESCHEMA, "%s: unknown feature '%.200s' (did you mean '%s'?)",
                   prefix, key, close);
    else
        sl_err_set(err, SL_ESCHEMA, "%s: unknown feature '%.200s'", prefix, key);
    sl_err_field(err, key);
    sl_free(names);
    return SL_ESCHEMA;
}

static sl_rc check_count(const sv_input *in, const char *what, size_t n,
                         sl_err *err)
{
    if (n == 0)
        return sl_err_set(err, SL_EINVAL, "%s: no instances (an empty list)", what);
    if (in->max_instances > 0 && n > (size_t)in->max_instances)
        return sl_err_set(err, SL_ELIMIT, "%s: %zu instances exceed the limit of %lld",
                          what, n, (long long)in->max_instances);
    return SL_OK;
}

static sl_rc parse_rows(const sv_input *in, const json_t *arr, sl_batch *b,
                        sl_err *err)
{
    const sl_schema *s = in->schema;
    const json_t **vals = sl_calloc((size_t)s->n + 1, sizeof *vals);
    sl_rc rc = SL_OK;
    if (!vals)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    size_t n = json_array_size(arr);
    for (size_t i = 0; i < n && rc == SL_OK; i++) {
        const json_t *row = json_array_get(arr, i);
        loc l = {0, (int64_t)i};
        char prefix[48];
        snprintf(prefix, sizeof prefix, "instances[%zu]", i);
        if (!json_is_object(row)) {
            char got[64];
            excerpt(row, got, sizeof got);
            rc = sl_err_set(err, SL_EINVAL,
                            "%s: expected an object of features, got %s", prefix, got);
            break;
        }
        memset(vals, 0, (size_t)s->n * sizeof *vals);
        const char *key;
        json_t *v;
        json_object_foreach((json_t *)row, key, v) {
            int j = find_field(s, key);
            if (j == in->ignore_field && j >= 0)
                continue;
            if (j < 0) {
                if (in->unknown_error) {
                    rc = unknown_feature(in, prefix, key, err);
                    break;
                }
                continue;
            }
            vals[j] = v;
        }
        for (int j = 0; j < s->n && rc == SL_OK; j++)
            rc = j == in->ignore_field
                     ? sl_column_append_null(b->cols[j])
                     : append_value(b->cols[j], &s->fields[j], vals[j], &l, err);
    }
    sl_free(vals);
    return rc;
}

static sl_rc parse_columns(const sv_input *in, const json_t *obj, sl_batch *b,
                           sl_err *err)
{
    const sl_schema *s = in->schema;
    const json_t **lists = sl_calloc((size_t)s->n + 1, sizeof *lists);
    const char *first = NULL, *key;
    size_t n = 0;
    json_t *v;
    sl_rc rc = SL_OK;
    if (!lists)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    json_object_foreach((json_t *)obj, key, v) {
        int j = find_field(s, key);
        if (j == in->ignore_field && j >= 0)
            continue;
        if (j < 0) {
            if (in->unknown_error) {
                rc = unknown_feature(in, "inputs", key, err);
                goto out;
            }
            continue;
        }
        if (!json_is_array(v)) {
            char got[64];
            excerpt(v, got, sizeof got);
            rc = sl_err_set(err, SL_EINVAL, "inputs.%.200s: expected a list of values, got %s",
                            key, got);
            sl_err_field(err, key);
            goto out;
        }
        if (!first) {
            first = key;
            n = json_array_size(v);
            if ((rc = check_count(in, "inputs", n, err)) != SL_OK)
                goto out;
        } else if (json_array_size(v) != n) {
            rc = sl_err_set(err, SL_EINVAL,
                            "inputs.%.200s: %zu values, but inputs.%.200s has %zu "
                            "(every feature needs one value per instance)",
                            key, json_array_size(v), first, n);
            sl_err_field(err, key);
            goto out;
        }
        lists[j] = v;
    }
    if (!first) {
        rc = sl_err_set(err, SL_EINVAL, "inputs: no features (an empty object)");
        goto out;
    }
    for (int j = 0; j < s->n && rc == SL_OK; j++) {
        const sl_field *f = &s->fields[j];
        if (!lists[j] && j != in->ignore_field && !f->nullable) {
            rc = sl_err_set(err, SL_ESCHEMA, "inputs: missing feature '%s' (not nullable)",
                            f->name);
            sl_err_field(err, f->name);
            break;
        }
        for (size_t i = 0; i < n && rc == SL_OK; i++) {
            loc l = {1, (int64_t)i};
            const json_t *x = lists[j] ? json_array_get(lists[j], i) : json_null();
            rc = j == in->ignore_field ? sl_column_append_null(b->cols[j])
                                       : append_value(b->cols[j], f, x, &l, err);
        }
    }
out:
    sl_free(lists);
    return rc;
}

/* The top level: exactly one of "instances" / "inputs". */
static sl_rc parse_root(const sv_input *in, const json_t *root, sl_batch *b,
                        sl_err *err)
{
    const char *key;
    json_t *v, *rows = NULL, *cols = NULL;
    char got[64];
    if (!json_is_object(root)) {
        excerpt(root, got, sizeof got);
        return sl_err_set(err, SL_EINVAL,
                          "request: expected an object {\"instances\": [...]} or "
                          "{\"inputs\": {...}}, got %s", got);
    }
    json_object_foreach((json_t *)root, key, v) {
        if (strcmp(key, "instances") == 0)
            rows = v;
        else if (strcmp(key, "inputs") == 0)
            cols = v;
        else if (strcmp(key, "signature_name") != 0)
            return sl_err_set(err, SL_EINVAL,
                              "request: unknown key '%.200s' (expected \"instances\" or "
                              "\"inputs\")", key);
    }
    if (rows && cols)
        return sl_err_set(err, SL_EINVAL,
                          "request: both \"instances\" and \"inputs\" given; use one");
    if (rows) {
        if (!json_is_array(rows)) {
            excerpt(rows, got, sizeof got);
            return sl_err_set(err, SL_EINVAL,
                              "instances: expected a list of objects, got %s", got);
        }
        sl_rc rc = check_count(in, "instances", json_array_size(rows), err);
        return rc == SL_OK ? parse_rows(in, rows, b, err) : rc;
    }
    if (cols) {
        if (!json_is_object(cols)) {
            excerpt(cols, got, sizeof got);
            return sl_err_set(err, SL_EINVAL,
                              "inputs: expected an object {\"feature\": [values...]}, got %s",
                              got);
        }
        return parse_columns(in, cols, b, err);
    }
    return sl_err_set(err, SL_EINVAL,
                      "request: expected {\"instances\": [...]} or {\"inputs\": {...}}");
}

/* jansson's tree costs ~25-50 bytes per scalar and ~230 per object, so an
 * 8 MiB body of tiny values would take 150-600 MB to parse. One pass
 * before parsing counts the containers and separators outside strings and
 * refuses a body holding far more than max_instances instances can need
 * (generous: 4 containers and 4 values per feature per instance). */
static sl_rc prescan(const sv_input *in, const char *body, size_t len, sl_err *err)
{
    if (in->max_instances <= 0)
        return SL_OK;
    uint64_t n = (uint64_t)in->max_instances, nf = (uint64_t)in->schema->n;
    uint64_t max_containers = 4 * n + nf + 16, max_values = n * (4 * nf + 8) + 64;
    uint64_t containers = 0, values = 0;
    int in_str = 0;
    for (size_t i = 0; i < len; i++) {
        char c = body[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = 0;
        } else if (c == '"') {
            in_str = 1;
        } else if (c == '{' || c == '[') {
            containers++;
        } else if (c == ',') {
            values++;
        }
    }
    if (containers > max_containers || values > max_values)
        return sl_err_set(err, SL_ELIMIT,
                          "request: the body holds more values than %lld instances can "
                          "(the instance limit)", (long long)in->max_instances);
    return SL_OK;
}

sl_rc sv_parse_request(const sv_input *in, const char *body, size_t len,
                       sl_batch **out, sl_err *err)
{
    json_error_t jerr;
    sl_batch *b = NULL;
    sl_rc rc = SL_OK;
    *out = NULL;
    if ((rc = prescan(in, body, len, err)) != SL_OK)
        return rc;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        /* jansson reports failed allocations as a parse error too */
        if (json_error_code(&jerr) == json_error_out_of_memory)
            return sl_err_set(err, SL_ENOMEM, "out of memory");
        return sl_err_set(err, SL_EPARSE, "invalid JSON at line %d, column %d: %s",
                          jerr.line, jerr.column, jerr.text);
    }
    if (!(b = sl_batch_new(in->schema, 0))) {
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        goto out;
    }
    if (in->ignore_field >= 0)
        b->schema->fields[in->ignore_field].nullable = 1;
    if ((rc = parse_root(in, root, b, err)) != SL_OK)
        goto out;
    if ((rc = sl_batch_seal(b, err)) != SL_OK)
        goto out;
    *out = b;
    b = NULL;
out:
    if (rc == SL_ENOMEM || (rc != SL_OK && err && !err->msg[0]))
        sl_err_set(err, rc, "%s", rc == SL_ENOMEM ? "out of memory" : sl_rc_str(rc));
    sl_batch_unref(b);
    json_decref(root);
    return rc;
}
