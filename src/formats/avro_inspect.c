/*
 * avro_inspect.c: `sluice inspect FILE.avro`: the header (schema, codec,
 * other metadata), the column mapping, and a walk over every block
 * (counts, sizes, sync markers checked; data not decompressed).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avro_reader.h"
#include "sluice/mem.h"

static sl_rc nomem(sl_err *err)
{
    return sl_err_set(err, SL_ENOMEM, "out of memory");
}

static int set(json_t *o, const char *k, json_t *v)
{
    return json_object_set_new(o, k, v);
}

static json_t *columns_json(const sl_avro_reader *r)
{
    json_t *a = json_array();
    const av_prog *p = r->prog;
    for (int i = 0; a && i < p->nsteps; i++) {
        const av_step *st = &p->steps[i];
        const sl_field *f = &p->schema->fields[st->col];
        char desc[512];
        av_describe(st->plan->w, desc, sizeof desc);
        json_t *c = json_pack("{s:s, s:s, s:s, s:b}", "name", f->name, "avro_type", desc,
                              "sluice_type", sl_type_name(f->type), "nullable", f->nullable);
        if (!c || json_array_append_new(a, c) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static json_t *meta_json(const sl_avro_reader *r)
{
    json_t *m = json_object();
    for (int i = 0; m && i < r->nmeta; i++) {
        const av_meta *e = &r->meta[i];
        if (!strcmp(e->key, "avro.schema") || !strcmp(e->key, "avro.codec"))
            continue;
        json_t *v = pq_utf8_valid((const uint8_t *)e->val, e->vlen)
                        ? json_stringn(e->val, e->vlen)
                        : json_sprintf("<%zu bytes of binary data>", e->vlen);
        if (!v || set(m, e->key, v) != 0) {
            json_decref(m);
            return NULL;
        }
    }
    return m;
}

sl_rc sl_avro_inspect_json(const char *path, json_t **out, sl_err *err)
{
    sl_avro_reader *r;
    *out = NULL;
    sl_rc rc = sl_avro_reader_open(path, NULL, &r, err);
    if (rc != SL_OK)
        return rc;
    if (r->nparts != 1) {
        sl_avro_reader_close(r);
        return sl_err_setloc(err, SL_EINVAL, path, 0, 0, "inspect reads one file, not a directory");
    }
    json_t *j = json_object();
    json_t *schema = json_loads(sl_avro_schema_json(r->writer), JSON_DECODE_ANY, NULL);
    if (!j || !schema || set(j, "file", json_string(path)) ||
        set(j, "size", json_integer(r->total_size)) ||
        set(j, "codec", json_string(av_codec_name(r->codec))) || set(j, "schema", schema) ||
        set(j, "columns", columns_json(r)) || set(j, "metadata", meta_json(r))) {
        rc = nomem(err);
        goto out;
    }
    int64_t blocks = 0, rows = 0, minr = -1, maxr = 0, maxb = 0;
    while ((rc = av_reader_block(r, 0, err)) == SL_OK) {
        blocks++;
        rows += r->block_rows;
        if (minr < 0 || r->block_rows < minr)
            minr = r->block_rows;
        if (r->block_rows > maxr)
            maxr = r->block_rows;
        if (r->block_bytes > maxb)
            maxb = r->block_bytes;
    }
    if (rc != SL_EEOF)
        goto out;
    rc = SL_OK;
    if (set(j, "blocks", json_integer(blocks)) || set(j, "rows", json_integer(rows)) ||
        set(j, "min_block_rows", json_integer(minr < 0 ? 0 : minr)) ||
        set(j, "max_block_rows", json_integer(maxr)) || set(j, "max_block_bytes", json_integer(maxb)))
        rc = nomem(err);
out:
    sl_avro_reader_close(r);
    if (rc != SL_OK)
        json_decref(j);
    else
        *out = j;
    return rc;
}

sl_rc sl_avro_inspect_print(const char *path, FILE *f, sl_err *err)
{
    json_t *j;
    sl_rc rc = sl_avro_inspect_json(path, &j, err);
    if (rc != SL_OK)
        return rc;
    fprintf(f, "file: %s (%lld bytes)\n", path, (long long)json_integer_value(json_object_get(j, "size")));
    fprintf(f, "format: Avro object container, codec %s\n",
            json_string_value(json_object_get(j, "codec")));
    fprintf(f, "rows: %lld in %lld blocks (%lld to %lld rows per block, largest block %lld bytes)\n",
            (long long)json_integer_value(json_object_get(j, "rows")),
            (long long)json_integer_value(json_object_get(j, "blocks")),
            (long long)json_integer_value(json_object_get(j, "min_block_rows")),
            (long long)json_integer_value(json_object_get(j, "max_block_rows")),
            (long long)json_integer_value(json_object_get(j, "max_block_bytes")));
    json_t *cols = json_object_get(j, "columns");
    fprintf(f, "columns (%zu):\n", json_array_size(cols));
    size_t i;
    json_t *c;
    json_array_foreach(cols, i, c) {
        fprintf(f, "  %-24s %-40s -> %s%s\n", json_string_value(json_object_get(c, "name")),
                json_string_value(json_object_get(c, "avro_type")),
                json_string_value(json_object_get(c, "sluice_type")),
                json_is_true(json_object_get(c, "nullable")) ? " (nullable)" : "");
    }
    const char *k;
    json_t *v;
    json_t *meta = json_object_get(j, "metadata");
    if (json_object_size(meta) > 0) {
        fprintf(f, "metadata:\n");
        json_object_foreach(meta, k, v)
            fprintf(f, "  %s = %s\n", k, json_string_value(v));
    }
    char *schema = json_dumps(json_object_get(j, "schema"),
                              JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
    fprintf(f, "schema:\n%s\n", schema ? schema : "?");
    free(schema);
    json_decref(j);
    if (ferror(f))
        return sl_err_set(err, SL_EIO, "write failed");
    return SL_OK;
}
