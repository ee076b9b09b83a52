/*
 * schema.c: types, schemas and schema JSON files.
 * A schema is a small ordered list of fields; lookups are linear because
 * schemas have tens of columns and lookups happen at bind time, not per row.
 */
#include <errno.h>
#include <jansson.h>
#include <string.h>
#include <strings.h>

#include "sluice/mem.h"
#include "sluice/schema.h"

static const char *const type_names[SL_TYPE_COUNT] = {
    "null", "bool", "int64", "float64", "string", "timestamp", "date"};

static const char *const arrow_formats[SL_TYPE_COUNT] = {
    "n", "b", "l", "g", "U", "tsu:UTC", "tdD"};

const char *sl_type_name(sl_type t)
{
    return (unsigned)t < SL_TYPE_COUNT ? type_names[t] : "?";
}

const char *sl_type_arrow_format(sl_type t)
{
    return (unsigned)t < SL_TYPE_COUNT ? arrow_formats[t] : NULL;
}

int sl_type_is_numeric(sl_type t)
{
    return t == SL_BOOL || t == SL_INT64 || t == SL_FLOAT64;
}

sl_rc sl_type_parse(const char *name, sl_type *out)
{
    static const struct {
        const char *name;
        sl_type t;
    } alias[] = {
        {"null", SL_NULL},         {"bool", SL_BOOL},
        {"boolean", SL_BOOL},      {"int64", SL_INT64},
        {"int", SL_INT64},         {"integer", SL_INT64},
        {"long", SL_INT64},        {"bigint", SL_INT64},
        {"float64", SL_FLOAT64},   {"double", SL_FLOAT64},
        {"float", SL_FLOAT64},     {"number", SL_FLOAT64},
        {"string", SL_STRING},     {"str", SL_STRING},
        {"utf8", SL_STRING},       {"varchar", SL_STRING},
        {"timestamp", SL_TIMESTAMP}, {"datetime", SL_TIMESTAMP},
        {"date", SL_DATE},
    };
    for (size_t i = 0; i < sizeof alias / sizeof alias[0]; i++) {
        if (strcasecmp(name, alias[i].name) == 0) {
            *out = alias[i].t;
            return SL_OK;
        }
    }
    return SL_ENOTFOUND;
}

sl_schema *sl_schema_new(void)
{
    return sl_calloc(1, sizeof(sl_schema));
}

void sl_schema_free(sl_schema *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->n; i++) {
        sl_free(s->fields[i].name);
        sl_free(s->fields[i].description);
    }
    sl_free(s->fields);
    sl_free(s);
}

sl_schema *sl_schema_copy(const sl_schema *s)
{
    sl_schema *c = sl_schema_new();
    if (!c)
        return NULL;
    for (int i = 0; i < s->n; i++) {
        if (sl_schema_add(c, s->fields[i].name, s->fields[i].type,
                          s->fields[i].nullable, NULL) != SL_OK)
            goto fail;
        if (s->fields[i].description) {
            c->fields[i].description = sl_strdup(s->fields[i].description);
            if (!c->fields[i].description)
                goto fail;
        }
    }
    return c;
fail:
    sl_schema_free(c);
    return NULL;
}

int sl_schema_find(const sl_schema *s, const char *name)
{
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->fields[i].name, name) == 0)
            return i;
    return -1;
}

sl_rc sl_schema_add(sl_schema *s, const char *name, sl_type t, int nullable,
                    sl_err *err)
{
    if (sl_schema_find(s, name) >= 0)
        return sl_err_set(err, SL_ESCHEMA, "duplicate column name '%s'", name);
    if (s->n == s->cap) {
        int ncap = s->cap ? s->cap * 2 : 8;
        sl_field *nf = sl_realloc(s->fields, (size_t)ncap * sizeof *nf);
        if (!nf)
            return sl_err_set(err, SL_ENOMEM, "out of memory");
        s->fields = nf;
        s->cap = ncap;
    }
    char *dup = sl_strdup(name);
    if (!dup)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    s->fields[s->n].name = dup;
    s->fields[s->n].type = t;
    s->fields[s->n].nullable = nullable;
    s->fields[s->n].description = NULL;
    s->n++;
    return SL_OK;
}

sl_rc sl_schema_remove(sl_schema *s, int idx)
{
    if (idx < 0 || idx >= s->n)
        return SL_EINVAL;
    sl_free(s->fields[idx].name);
    sl_free(s->fields[idx].description);
    memmove(&s->fields[idx], &s->fields[idx + 1],
            (size_t)(s->n - idx - 1) * sizeof(sl_field));
    s->n--;
    return SL_OK;
}

sl_rc sl_schema_rename(sl_schema *s, int idx, const char *name, sl_err *err)
{
    if (idx < 0 || idx >= s->n)
        return sl_err_set(err, SL_EINVAL, "column index %d out of range", idx);
    int other = sl_schema_find(s, name);
    if (other >= 0 && other != idx)
        return sl_err_set(err, SL_ESCHEMA, "duplicate column name '%s'", name);
    char *dup = sl_strdup(name);
    if (!dup)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    sl_free(s->fields[idx].name);
    s->fields[idx].name = dup;
    return SL_OK;
}

int sl_schema_equal(const sl_schema *a, const sl_schema *b)
{
    if (a->n != b->n)
        return 0;
    for (int i = 0; i < a->n; i++)
        if (a->fields[i].type != b->fields[i].type ||
            strcmp(a->fields[i].name, b->fields[i].name) != 0)
            return 0;
    return 1;
}

sl_rc sl_schema_from_json(const json_t *root, const char *what,
                          sl_schema **out, sl_err *err)
{
    sl_rc rc = SL_OK;
    sl_schema *s = NULL;
    *out = NULL;
    json_t *fields = json_is_object(root) ? json_object_get(root, "fields") : NULL;
    if (!json_is_array(fields))
        return sl_err_setloc(err, SL_ESCHEMA, what, 0, 0,
                             "schema must be an object with a \"fields\" array");
    s = sl_schema_new();
    if (!s)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    size_t i;
    json_t *f;
    json_array_foreach(fields, i, f)
    {
        const char *name = json_string_value(json_object_get(f, "name"));
        const char *type = json_string_value(json_object_get(f, "type"));
        json_t *nullable = json_object_get(f, "nullable");
        const char *desc = json_string_value(json_object_get(f, "description"));
        sl_type t;
        if (!json_is_object(f) || !name || !type) {
            rc = sl_err_setloc(err, SL_ESCHEMA, what, 0, 0,
                               "fields[%zu]: expected an object with string "
                               "\"name\" and \"type\"", i);
            goto out;
        }
        if (sl_type_parse(type, &t) != SL_OK) {
            rc = sl_err_setloc(err, SL_ESCHEMA, what, 0, 0,
                               "fields[%zu] '%s': unknown type '%s' (expected "
                               "bool, int64, float64, string, timestamp or date)",
                               i, name, type);
            sl_err_field(err, name);
            goto out;
        }
        if (nullable && !json_is_boolean(nullable)) {
            rc = sl_err_setloc(err, SL_ESCHEMA, what, 0, 0,
                               "fields[%zu] '%s': \"nullable\" must be true or false",
                               i, name);
            goto out;
        }
        rc = sl_schema_add(s, name, t, nullable ? json_is_true(nullable) : 1, err);
        if (rc != SL_OK) {
            sl_err_at(err, what, 0, 0);
            goto out;
        }
        if (desc && !(s->fields[s->n - 1].description = sl_strdup(desc))) {
            rc = sl_err_set(err, SL_ENOMEM, "out of memory");
            goto out;
        }
    }
    *out = s;
    s = NULL;
out:
    sl_schema_free(s);
    return rc;
}

sl_rc sl_schema_load_json(const char *path, sl_schema **out, sl_err *err)
{
    json_error_t jerr;
    *out = NULL;
    errno = 0;
    json_t *root = json_load_file(path, 0, &jerr);
    if (!root) {
        if (jerr.line <= 0 && errno)
            return sl_err_setloc(err, SL_EIO, path, 0, 0, "cannot read schema: %s",
                                 strerror(errno));
        return sl_err_setloc(err, SL_EPARSE, path, jerr.line, jerr.column,
                             "invalid schema JSON: %s", jerr.text);
    }
    sl_rc rc = sl_schema_from_json(root, path, out, err);
    json_decref(root);
    return rc;
}

json_t *sl_schema_to_json(const sl_schema *s, const char *name)
{
    json_t *root = json_object(), *fields = json_array();
    if (!root || !fields)
        goto fail;
    if (name && json_object_set_new(root, "name", json_string(name)) != 0)
        goto fail;
    if (json_object_set(root, "fields", fields) != 0)
        goto fail;
    for (int i = 0; i < s->n; i++) {
        json_t *f = json_pack("{s:s, s:s, s:b}", "name", s->fields[i].name,
                              "type", sl_type_name(s->fields[i].type),
                              "nullable", s->fields[i].nullable);
        if (!f || json_array_append_new(fields, f) != 0)
            goto fail;
        if (s->fields[i].description)
            json_object_set_new(f, "description",
                                json_string(s->fields[i].description));
    }
    json_decref(fields);
    return root;
fail:
    json_decref(fields);
    json_decref(root);
    return NULL;
}

sl_rc sl_schema_save_json(const sl_schema *s, const char *name,
                          const char *path, sl_err *err)
{
    json_t *root = sl_schema_to_json(s, name);
    if (!root)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    sl_rc rc = SL_OK;
    if (json_dump_file(root, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0)
        rc = sl_err_setloc(err, SL_EIO, path, 0, 0, "cannot write schema: %s",
                           strerror(errno));
    json_decref(root);
    return rc;
}
