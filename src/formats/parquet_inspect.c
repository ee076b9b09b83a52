/*
 * parquet_inspect.c: `sluice inspect` for Parquet files: the footer as JSON
 * (sl_parquet_inspect_json) and a human summary printed from that JSON
 * (sl_parquet_inspect_print), so the two never disagree.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "parquet_rcol.h"
#include "sluice/mem.h"
#include "sluice/parquet.h"
#include "sluice/value.h"

typedef struct leaf {
    const pq_schema_elem *el;
    char path[512];
} leaf;

/* Leaves in depth-first order with dotted paths (truncated if long). */
static leaf *leaves_of(const pq_file_meta *m, int *n)
{
    int stack_left[65], depth = 0, k = 0;
    size_t plen[65];
    char path[512] = "";
    leaf *out = sl_calloc((size_t)m->nschema + 1, sizeof *out);
    if (!out)
        return NULL;
    stack_left[0] = m->schema[0].num_children;
    plen[0] = 0;
    for (int i = 1; i < m->nschema; i++) {
        while (depth > 0 && stack_left[depth] == 0)
            depth--;
        stack_left[depth]--;
        const pq_schema_elem *e = &m->schema[i];
        path[plen[depth]] = '\0';
        snprintf(path + plen[depth], sizeof path - plen[depth], "%s%s", depth ? "." : "",
                 e->name);
        if (e->num_children > 0 && depth < 63) {
            stack_left[++depth] = e->num_children;
            plen[depth] = strlen(path);
        } else if (e->num_children == 0) {
            out[k].el = e;
            snprintf(out[k].path, sizeof out[k].path, "%s", path);
            k++;
        }
    }
    *n = k;
    return out;
}

static json_t *stat_value(const pq_schema_elem *el, const uint8_t *p, uint32_t n)
{
    pq_leaf_type lt;
    const char *why;
    char buf[SL_FMT_MAX + 1];
    int32_t i32;
    int64_t i64;
    double d;
    float f;
    if (pq_classify(el, &lt, &why) == 0) {
        switch (lt.conv) {
        case CV_BOOL:
            if (n == 1)
                return json_boolean(p[0]);
            break;
        case CV_I32:
            if (n == 4) {
                memcpy(&i32, p, 4);
                return json_integer(i32);
            }
            break;
        case CV_U32:
            if (n == 4) {
                memcpy(&i32, p, 4);
                return json_integer((uint32_t)i32);
            }
            break;
        case CV_DATE:
            if (n == 4) {
                memcpy(&i32, p, 4);
                sl_format_date(i32, buf);
                return json_string(buf);
            }
            break;
        case CV_I64:
        case CV_TS_MS:
        case CV_TS_NS:
            if (n == 8) {
                memcpy(&i64, p, 8);
                if (lt.type != SL_TIMESTAMP)
                    return json_integer(i64);
                if (lt.conv == CV_TS_MS && i64 < INT64_MAX / 1000 && i64 > INT64_MIN / 1000)
                    i64 *= 1000;
                else if (lt.conv == CV_TS_NS)
                    i64 = i64 / 1000 - (i64 % 1000 < 0);
                sl_format_timestamp(i64, buf);
                return json_string(buf);
            }
            break;
        case CV_F32:
            if (n == 4) {
                memcpy(&f, p, 4);
                return isfinite(f) ? json_real(f) : json_string(isnan(f) ? "nan" : f > 0 ? "inf" : "-inf");
            }
            break;
        case CV_F64:
            if (n == 8) {
                memcpy(&d, p, 8);
                return isfinite(d) ? json_real(d) : json_string(isnan(d) ? "nan" : d > 0 ? "inf" : "-inf");
            }
            break;
        case CV_STR:
        case CV_STR_CHECK:
            if (pq_utf8_valid(p, n))
                return json_stringn((const char *)p, n);
            break;
        default:
            break;
        }
    }
    /* Anything else: hex. */
    char *hex = sl_malloc((size_t)n * 2 + 3);
    if (!hex)
        return NULL;
    strcpy(hex, "0x");
    for (uint32_t i = 0; i < n; i++)
        snprintf(hex + 2 + 2 * i, 3, "%02x", p[i]);
    json_t *j = json_string(hex);
    sl_free(hex);
    return j;
}

static json_t *schema_json(const pq_file_meta *m)
{
    json_t *a = json_array();
    for (int i = 1; a && i < m->nschema; i++) {
        const pq_schema_elem *e = &m->schema[i];
        json_t *o = json_object();
        pq_leaf_type lt;
        const char *why = NULL;
        json_object_set_new(o, "name", json_string(e->name));
        json_object_set_new(o, "physical_type", json_string(pq_type_name(e->type)));
        json_object_set_new(o, "logical_type", json_string(pq_logical_name(&e->logical)));
        json_object_set_new(o, "repetition",
                            json_string(e->repetition == PQ_REQUIRED   ? "required"
                                        : e->repetition == PQ_REPEATED ? "repeated"
                                                                       : "optional"));
        if (e->num_children > 0)
            json_object_set_new(o, "children", json_integer(e->num_children));
        else if (pq_classify(e, &lt, &why) == 0 && e->repetition != PQ_REPEATED)
            json_object_set_new(o, "sluice_type", json_string(sl_type_name(lt.type)));
        else
            json_object_set_new(o, "unsupported",
                                json_string(why ? why : "repeated column"));
        json_array_append_new(a, o);
    }
    return a;
}

static json_t *chunk_json(const pq_column_chunk *cc, const leaf *lf)
{
    const pq_column_meta *m = &cc->meta;
    json_t *o = json_object(), *enc = json_array();
    json_object_set_new(o, "path", json_string(lf->path));
    json_object_set_new(o, "physical_type", json_string(pq_type_name(m->type)));
    json_object_set_new(o, "codec", json_string(pq_codec_name(m->codec)));
    for (int e = 0; e < 32; e++)
        if ((m->encodings >> e) & 1)
            json_array_append_new(enc, json_string(pq_encoding_name(e)));
    json_object_set_new(o, "encodings", enc);
    json_object_set_new(o, "num_values", json_integer(m->num_values));
    json_object_set_new(o, "compressed_size", json_integer(m->total_compressed_size));
    json_object_set_new(o, "uncompressed_size", json_integer(m->total_uncompressed_size));
    json_object_set_new(o, "file_offset", json_integer(cc->file_offset));
    json_object_set_new(o, "data_page_offset", json_integer(m->data_page_offset));
    if (m->has_dictionary_page_offset)
        json_object_set_new(o, "dictionary_page_offset",
                            json_integer(m->dictionary_page_offset));
    if (m->has_stats) {
        json_t *s = json_object();
        if (m->stats.has_null_count)
            json_object_set_new(s, "null_count", json_integer(m->stats.null_count));
        if (m->stats.has_min)
            json_object_set_new(s, "min", stat_value(lf->el, m->stats.min, m->stats.min_len));
        if (m->stats.has_max)
            json_object_set_new(s, "max", stat_value(lf->el, m->stats.max, m->stats.max_len));
        json_object_set_new(o, "statistics", s);
    }
    return o;
}

static json_t *meta_json(const char *path, int64_t size, const pq_file_meta *m)
{
    int nleaf = 0;
    leaf *lv = leaves_of(m, &nleaf);
    json_t *o = json_object(), *kv = json_object(), *rgs = json_array();
    if (!lv || !o || !kv || !rgs) {
        sl_free(lv);
        json_decref(o);
        json_decref(kv);
        json_decref(rgs);
        return NULL;
    }
    json_object_set_new(o, "file", json_string(path));
    json_object_set_new(o, "size", json_integer(size));
    json_object_set_new(o, "num_rows", json_integer(m->num_rows));
    json_object_set_new(o, "version", json_integer(m->version));
    if (m->created_by)
        json_object_set_new(o, "created_by", json_string(m->created_by));
    for (int i = 0; i < m->nkv; i++)
        json_object_set_new(kv, m->kv[i].key,
                            m->kv[i].value ? json_string(m->kv[i].value) : json_null());
    json_object_set_new(o, "key_value_metadata", kv);
    json_object_set_new(o, "schema", schema_json(m));
    for (int g = 0; g < m->nrg; g++) {
        const pq_row_group *rg = &m->rgs[g];
        json_t *r = json_object(), *cols = json_array();
        json_object_set_new(r, "num_rows", json_integer(rg->num_rows));
        json_object_set_new(r, "total_byte_size", json_integer(rg->total_byte_size));
        if (rg->has_total_compressed_size)
            json_object_set_new(r, "total_compressed_size",
                                json_integer(rg->total_compressed_size));
        if (rg->has_file_offset)
            json_object_set_new(r, "file_offset", json_integer(rg->file_offset));
        for (int c = 0; c < rg->ncols && c < nleaf; c++)
            json_array_append_new(cols, chunk_json(&rg->cols[c], &lv[c]));
        json_object_set_new(r, "columns", cols);
        json_array_append_new(rgs, r);
    }
    json_object_set_new(o, "row_groups", rgs);
    sl_free(lv);
    return o;
}

sl_rc sl_parquet_inspect_json(const char *path, json_t **out, sl_err *err)
{
    struct stat st;
    pq_file_meta *m = NULL;
    int64_t data_end;
    sl_rc rc;
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0) {
        rc = sl_err_setloc(err, errno == ENOENT ? SL_ENOTFOUND : SL_EIO, path, 0, 0,
                           "cannot open: %s", strerror(errno));
        if (fd >= 0)
            close(fd);
        return rc;
    }
    rc = pq_footer_read(fd, NULL, st.st_size, path, &m, &data_end, err);
    close(fd);
    if (rc != SL_OK)
        return rc;
    if (!(*out = meta_json(path, st.st_size, m)))
        rc = sl_err_set(err, SL_ENOMEM, "out of memory");
    pq_meta_free(m);
    return rc;
}

static void print_value(FILE *f, const json_t *v)
{
    if (json_is_string(v))
        fputs(json_string_value(v), f);
    else if (json_is_integer(v))
        fprintf(f, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else if (json_is_real(v)) {
        char buf[SL_FMT_MAX + 1];
        int n = sl_format_float64(json_real_value(v), buf);
        fwrite(buf, 1, (size_t)n, f);
    }
    else if (json_is_boolean(v))
        fputs(json_is_true(v) ? "true" : "false", f);
    else
        fputs("?", f);
}

sl_rc sl_parquet_inspect_print(const char *path, FILE *f, sl_err *err)
{
    json_t *j;
    sl_rc rc = sl_parquet_inspect_json(path, &j, err);
    if (rc != SL_OK)
        return rc;
    json_t *rgs = json_object_get(j, "row_groups"), *kv = json_object_get(j, "key_value_metadata");
    fprintf(f, "file: %s (%" JSON_INTEGER_FORMAT " bytes)\n", path,
            json_integer_value(json_object_get(j, "size")));
    if (json_object_get(j, "created_by"))
        fprintf(f, "created by: %s\n", json_string_value(json_object_get(j, "created_by")));
    fprintf(f, "rows: %" JSON_INTEGER_FORMAT ", row groups: %zu, format version: %" JSON_INTEGER_FORMAT "\n",
            json_integer_value(json_object_get(j, "num_rows")), json_array_size(rgs),
            json_integer_value(json_object_get(j, "version")));
    fputs("schema:\n", f);
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(j, "schema"), i, e) {
        const char *lt = json_string_value(json_object_get(e, "logical_type"));
        const json_t *st = json_object_get(e, "sluice_type");
        fprintf(f, "  %-24s %-20s %s%s%s %s\n", json_string_value(json_object_get(e, "name")),
                st ? json_string_value(st) : "(not readable)",
                json_string_value(json_object_get(e, "physical_type")), lt && *lt ? " " : "",
                lt ? lt : "", json_string_value(json_object_get(e, "repetition")));
        if (json_object_get(e, "unsupported"))
            fprintf(f, "  %-24s   %s\n", "",
                    json_string_value(json_object_get(e, "unsupported")));
    }
    const char *key;
    json_t *v;
    json_object_foreach(kv, key, v) {
        fprintf(f, "metadata: %s = %.*s%s\n", key, 200,
                json_is_string(v) ? json_string_value(v) : "null",
                json_is_string(v) && strlen(json_string_value(v)) > 200 ? "..." : "");
    }
    json_t *rg;
    json_array_foreach(rgs, i, rg) {
        fprintf(f, "row group %zu: %" JSON_INTEGER_FORMAT " rows, %" JSON_INTEGER_FORMAT
                   " bytes uncompressed\n",
                i, json_integer_value(json_object_get(rg, "num_rows")),
                json_integer_value(json_object_get(rg, "total_byte_size")));
        size_t k;
        json_t *c;
        json_array_foreach(json_object_get(rg, "columns"), k, c) {
            fprintf(f, "  %-24s %-12s", json_string_value(json_object_get(c, "path")),
                    json_string_value(json_object_get(c, "codec")));
            size_t x;
            json_t *en;
            json_array_foreach(json_object_get(c, "encodings"), x, en)
                fprintf(f, "%s%s", x ? "," : " ", json_string_value(en));
            fprintf(f, "  %" JSON_INTEGER_FORMAT " values, %" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT " bytes",
                    json_integer_value(json_object_get(c, "num_values")),
                    json_integer_value(json_object_get(c, "compressed_size")),
                    json_integer_value(json_object_get(c, "uncompressed_size")));
            json_t *s = json_object_get(c, "statistics");
            if (s) {
                if (json_object_get(s, "null_count"))
                    fprintf(f, ", nulls %" JSON_INTEGER_FORMAT,
                            json_integer_value(json_object_get(s, "null_count")));
                if (json_object_get(s, "min")) {
                    fputs(", min ", f);
                    print_value(f, json_object_get(s, "min"));
                }
                if (json_object_get(s, "max")) {
                    fputs(", max ", f);
                    print_value(f, json_object_get(s, "max"));
                }
            }
            fputc('\n', f);
        }
    }
    json_decref(j);
    return SL_OK;
}
