/*
 * kafka_avro.c: `format: avro` of the Kafka source and sink (see
 * kafka_avro.h for the behaviour): the Avro keys' checks, the schema
 * source (registry URL with its credentials kept out of messages, and/or a
 * directory), the source's per-message split between dead letters and run
 * errors with one registry lookup per schema id, and the sink's schema id
 * (given and checked, registered under a subject, or claimed in the
 * directory). The plugins only call in here; framing, decoding and
 * encoding are formats/avro_wire.c.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "formats/avro_internal.h"
#include "ingestion/kafka_avro.h"
#include "ingestion/kafka_internal.h"
#include "sluice/fsutil.h"
#include "sluice/log.h"
#include "sluice/mem.h"

/* Unknown schema ids the source remembers (so that each is looked up
 * once); past this, a topic of garbage with ever new ids costs a lookup per
 * message but no more memory or scan time. */
#define MAX_BAD_IDS 1024

/* Highest schema id the sink claims in a directory before giving up on
 * concurrent writers taking each one first. */
#define DIR_CLAIM_TRIES 100

static sl_rc nomem(sl_err *err)
{
    return sl_err_set(err, SL_ENOMEM, "out of memory");
}

/* The error in err (already worded) is a configuration error. */
static sl_rc as_config(sl_err *err)
{
    if (err)
        err->code = SL_ECONFIG;
    return SL_ECONFIG;
}

/* ---- the schema source ---- */

typedef struct kav_common {
    char section[64];
    char *url;      /* resolved; may hold user:password@ */
    char *userinfo; /* "user:password@" of url, or NULL */
    char *shown;    /* url with the user info as "***@" */
    char *dir;
    sl_avro_registry *reg;
} kav_common;

static void common_free(kav_common *c)
{
    sl_avro_registry_free(c->reg);
    sl_free(c->url);
    sl_free(c->userinfo);
    sl_free(c->shown);
    sl_free(c->dir);
}

/* Splits the user info off the URL for messages. */
static sl_rc redact(kav_common *c, sl_err *err)
{
    const char *host = strstr(c->url, "://");
    host = host ? host + 3 : c->url;
    size_t hl = strcspn(host, "/");
    const char *at = NULL;
    for (const char *p = host; p < host + hl; p++)
        if (*p == '@')
            at = p;
    size_t pre = (size_t)(host - c->url);
    size_t n = strlen(c->url) + 4;
    if (!(c->shown = sl_malloc(n)))
        return nomem(err);
    if (!at) {
        memcpy(c->shown, c->url, n - 3);
        return SL_OK;
    }
    snprintf(c->shown, n, "%.*s***%s", (int)pre, c->url, at);
    if (!(c->userinfo = sl_malloc((size_t)(at - host) + 2)))
        return nomem(err);
    memcpy(c->userinfo, host, (size_t)(at - host) + 1);
    c->userinfo[at - host + 1] = '\0';
    return SL_OK;
}

/* Messages never show the registry's credentials: every "user:pw@" in
 * them becomes "***@". */
static void scrub(const kav_common *c, sl_err *err)
{
    if (!err || !c->userinfo)
        return;
    char out[SL_ERR_MSG_MAX];
    size_t o = 0, ul = strlen(c->userinfo);
    for (const char *p = err->msg; *p && o + 5 < sizeof out;) {
        if (strncmp(p, c->userinfo, ul) == 0) {
            memcpy(out + o, "***@", 4);
            o += 4;
            p += ul;
        } else {
            out[o++] = *p++;
        }
    }
    out[o] = '\0';
    memcpy(err->msg, out, o + 1);
}

static sl_rc common_open(kav_common *c, const sl_kavro_opts *o, sl_err *err)
{
    sl_rc rc;
    snprintf(c->section, sizeof c->section, "%s", o->section);
    if (!o->registry && !o->dir)
        return sl_err_set(err, SL_ECONFIG,
                          "%s: format avro needs `schema_registry` (a Confluent Schema "
                          "Registry URL) and/or `schema_dir` (a directory of <id>.avsc files)",
                          c->section);
    if (o->registry) {
        int secret = 0;
        if ((rc = sl_kafka_resolve("schema_registry", o->registry, &c->url, &secret, err)) !=
            SL_OK) {
            sl_err_prefix(err, "%s", c->section);
            return rc;
        }
        if ((rc = redact(c, err)) != SL_OK)
            return rc;
        if (strncmp(c->url, "http://", 7) != 0)
            return sl_err_set(err, SL_ECONFIG,
                              "%s: `schema_registry` '%s': only http:// URLs are supported (no "
                              "TLS in this build; reach an https registry through a local "
                              "proxy, or export its schemas to `schema_dir`)",
                              c->section, c->shown);
    }
    if (o->dir) {
        struct stat st;
        if (stat(o->dir, &st) != 0)
            return sl_err_set(err, SL_ECONFIG, "%s: `schema_dir` '%s': %s", c->section, o->dir,
                              strerror(errno));
        if (!S_ISDIR(st.st_mode))
            return sl_err_set(err, SL_ECONFIG, "%s: `schema_dir` '%s' is not a directory",
                              c->section, o->dir);
        if (!(c->dir = sl_strdup(o->dir)))
            return nomem(err);
    }
    rc = sl_avro_registry_new(c->dir, c->url, 0, &c->reg, err);
    scrub(c, err);
    return rc;
}

/* A registry failure's message names the registry (its URL as shown). */
static void name_registry(const kav_common *c, sl_err *err)
{
    static const char generic[] = "schema registry: ";
    if (!err || !c->url || err->file[0] || strstr(err->msg, c->shown))
        return;
    if (strncmp(err->msg, generic, sizeof generic - 1) == 0)
        memmove(err->msg, err->msg + sizeof generic - 1, strlen(err->msg) - sizeof generic + 2);
    sl_err_prefix(err, "schema registry %s", c->shown);
}

/* A failed lookup that stops the run: the message says which section,
 * schema id and registry. */
static sl_rc run_error(const kav_common *c, int32_t id, sl_rc rc, sl_err *err)
{
    if (!err || rc == SL_ENOMEM)
        return rc;
    name_registry(c, err);
    sl_err_prefix(err, "%s: schema id %d", c->section, (int)id);
    return rc;
}

sl_rc sl_kavro_check_unused(const sl_kavro_opts *o, sl_err *err)
{
    const char *key = o->registry ? "schema_registry"
                      : o->dir    ? "schema_dir"
                      : o->schema_id ? "schema_id"
                      : o->subject   ? "subject"
                                     : NULL;
    if (key)
        return sl_err_set(err, SL_ECONFIG, "%s: `%s` applies to `format: avro` only", o->section,
                          key);
    return SL_OK;
}

/* ---- source ---- */

typedef struct id_state {
    int32_t id;
    char *why; /* NULL: usable; else why its messages are dead letters */
} id_state;

struct sl_kavro_src {
    kav_common c;
    int64_t max_record_bytes;
    sl_avro_schema *own;          /* reader from `schema` or the hint */
    const sl_avro_schema *reader; /* own, or the first writer schema */
    char reader_what[640];        /* the reader, for messages */
    sl_avro_wire_decoder *dec;
    id_state *ids;
    size_t nids, ids_cap, nbad;
};

sl_rc sl_kavro_src_new(const sl_kavro_opts *o, sl_kavro_src **out, sl_err *err)
{
    *out = NULL;
    sl_kavro_src *a = sl_calloc(1, sizeof *a);
    if (!a)
        return nomem(err);
    a->max_record_bytes = o->max_record_bytes > 0 ? o->max_record_bytes : INT64_MAX;
    sl_rc rc = common_open(&a->c, o, err);
    if (rc != SL_OK) {
        sl_kavro_src_free(a);
        return rc;
    }
    *out = a;
    return SL_OK;
}

void sl_kavro_src_free(sl_kavro_src *a)
{
    if (!a)
        return;
    sl_avro_wire_decoder_free(a->dec);
    sl_avro_schema_free(a->own);
    for (size_t i = 0; i < a->nids; i++)
        sl_free(a->ids[i].why);
    sl_free(a->ids);
    common_free(&a->c);
    sl_free(a);
}

static sl_rc make_decoder(sl_kavro_src *a, sl_err *err)
{
    sl_rc rc = sl_avro_wire_decoder_new(sl_avro_registry_resolve, a->c.reg, a->reader, &a->dec,
                                        err);
    if (rc != SL_OK && rc != SL_ENOMEM) {
        sl_err_prefix(err, "%s: %s", a->c.section, a->reader_what);
        rc = SL_ECONFIG;
    }
    return rc;
}

sl_rc sl_kavro_src_reader(sl_kavro_src *a, const char *schema_path, const sl_schema *hint,
                          sl_err *err)
{
    sl_rc rc = SL_OK;
    if (schema_path) {
        snprintf(a->reader_what, sizeof a->reader_what, "`schema` (%s)", schema_path);
        if ((rc = sl_avro_schema_load(schema_path, &a->own, err)) != SL_OK) {
            sl_err_prefix(err, "%s: `schema`", a->c.section);
            return rc == SL_ENOMEM ? rc : as_config(err);
        }
    } else if (hint) {
        /* a sluice schema as reader: what sl_avro_schema_load makes of a
         * sluice schema file */
        snprintf(a->reader_what, sizeof a->reader_what, "the spec's `schema:`");
        sl_schema *cp = sl_schema_copy(hint);
        if (!cp)
            return nomem(err);
        if ((rc = sl_avro_schema_from_sluice(cp, NULL, &a->own, err)) != SL_OK) {
            sl_schema_free(cp);
            return rc;
        }
        a->own->sluice = cp;
    } else {
        return SL_OK;
    }
    a->reader = a->own;
    return make_decoder(a, err);
}

const sl_schema *sl_kavro_src_schema(const sl_kavro_src *a)
{
    return a->dec ? sl_avro_wire_decoder_schema(a->dec) : NULL;
}

/* why NULL: the id is usable; else the reason its messages are dead
 * letters (not kept past MAX_BAD_IDS). */
static sl_rc remember(sl_kavro_src *a, int32_t id, const char *why, sl_err *err)
{
    if (why && a->nbad >= MAX_BAD_IDS)
        return SL_OK;
    if (sl_grow((void **)&a->ids, &a->ids_cap, a->nids + 1, sizeof *a->ids) != 0)
        return nomem(err);
    id_state *s = &a->ids[a->nids];
    s->id = id;
    s->why = NULL;
    if (why && !(s->why = sl_strdup(why)))
        return nomem(err);
    a->nids++;
    a->nbad += why != NULL;
    return SL_OK;
}

/* Whether messages of writer schema id can be decoded: *usable, else why
 * says why they are dead letters. The first usable id fixes the columns
 * when there is no reader schema. Non-OK: a run error. */
static sl_rc id_usable(sl_kavro_src *a, int32_t id, int *usable, sl_err *why, sl_err *err)
{
    const sl_avro_schema *ws = NULL;
    sl_err e;
    *usable = 0;
    for (size_t i = 0; i < a->nids; i++)
        if (a->ids[i].id == id) {
            *usable = !a->ids[i].why;
            if (a->ids[i].why)
                sl_err_set(why, SL_ENOTFOUND, "%s", a->ids[i].why);
            return SL_OK;
        }
    sl_err_clear(&e);
    sl_rc rc = sl_avro_registry_get(a->c.reg, id, &ws, &e);
    scrub(&a->c, &e);
    if (rc == SL_ENOTFOUND || rc == SL_EUNSUPPORTED) {
        *why = e;
        return remember(a, id, e.msg, err);
    }
    if (rc != SL_OK) {
        if (err)
            *err = e;
        return run_error(&a->c, id, rc, err);
    }
    if (!a->reader) {
        a->reader = ws;
        snprintf(a->reader_what, sizeof a->reader_what,
                 "the columns of schema id %d (the first message's; `schema` chooses them)",
                 (int)id);
        if ((rc = make_decoder(a, err)) != SL_OK)
            return rc;
        *usable = 1;
        return remember(a, id, NULL, err);
    }
    /* a writer schema that does not resolve to the reader at all is a
     * deployment problem, not a bad record */
    av_prog *p = NULL;
    rc = av_prog_build(ws, a->reader == ws ? NULL : a->reader, NULL, 0, &p, &e);
    if (rc == SL_OK)
        av_prog_free(p);
    else if (rc == SL_ENOMEM)
        return nomem(err);
    else
        return sl_err_set(err, SL_ECONFIG, "%s: the writer schema id %d cannot be read as %s: %s",
                          a->c.section, (int)id, a->reader_what, e.msg);
    *usable = 1;
    return remember(a, id, NULL, err);
}

sl_rc sl_kavro_src_probe(sl_kavro_src *a, const void *value, size_t n, sl_err *err)
{
    int32_t id;
    int usable;
    sl_err why;
    if (a->dec || !value || (int64_t)n > a->max_record_bytes ||
        sl_avro_wire_parse_header(value, n, &id, NULL) != SL_OK)
        return SL_OK;
    return id_usable(a, id, &usable, &why, err);
}

/* One message: SL_OK with *rejected = 0 (a row appended) or 1 (why says
 * why). Non-OK: a run error in err. */
static sl_rc decode_one(sl_kavro_src *a, const void *value, size_t n, int *rejected, sl_err *why,
                        sl_err *err)
{
    int32_t id;
    int usable = 0;
    *rejected = 1;
    sl_err_clear(why);
    if (!value) {
        sl_err_set(why, SL_EPARSE, "null message value (tombstone)");
        return SL_OK;
    }
    if ((int64_t)n > a->max_record_bytes) {
        sl_err_set(why, SL_ELIMIT, "message of %zu bytes is longer than max_record_bytes (%lld)",
                   n, (long long)a->max_record_bytes);
        return SL_OK;
    }
    if (sl_avro_wire_parse_header(value, n, &id, why) != SL_OK)
        return SL_OK;
    sl_rc rc = id_usable(a, id, &usable, why, err);
    if (rc != SL_OK || !usable)
        return rc;
    if (!a->dec)
        return sl_err_set(err, SL_EINTERNAL, "%s: no Avro decoder", a->c.section);
    rc = sl_avro_wire_decode(a->dec, value, n, why);
    if (rc == SL_OK) {
        *rejected = 0;
    } else if (rc != SL_EPARSE && rc != SL_ESCHEMA && rc != SL_ENOTFOUND) {
        if (err)
            *err = *why;
        return rc;
    }
    return SL_OK;
}

sl_rc sl_kavro_src_decode(sl_kavro_src *a, rd_kafka_message_t *const *m, int64_t n,
                          int64_t *row, sl_kavro_reject_fn reject, void *arg, sl_batch **out,
                          sl_err *err)
{
    sl_rc rc = SL_OK;
    sl_err why;
    int64_t rows = 0;
    *out = NULL;
    if (!a->dec)
        return sl_err_set(err, SL_EINTERNAL, "%s: no Avro decoder", a->c.section);
    for (int64_t i = 0; i < n && rc == SL_OK; i++) {
        int rejected = 0;
        row[i] = -1;
        rc = decode_one(a, m[i]->payload, m[i]->len, &rejected, &why, err);
        if (rc == SL_OK && rejected)
            rc = reject(arg, i, why.msg, err);
        else if (rc == SL_OK)
            row[i] = rows++;
    }
    /* on failure the rows decoded so far go too: none of them is emitted */
    sl_batch *b = NULL;
    sl_rc tr = sl_avro_wire_decoder_take(a->dec, &b, rc == SL_OK ? err : NULL);
    if (rc == SL_OK && tr == SL_OK)
        *out = b;
    else
        sl_batch_unref(b);
    return rc != SL_OK ? rc : tr;
}

/* ---- sink ---- */

struct sl_kavro_sink {
    kav_common c;
    int64_t schema_id;
    char *subject;
    sl_avro_wire_encoder *enc;
    int32_t id;
};

sl_rc sl_kavro_sink_new(const sl_kavro_opts *o, sl_kavro_sink **out, sl_err *err)
{
    sl_rc rc;
    *out = NULL;
    if (o->schema_id < 0 || o->schema_id > INT32_MAX)
        return sl_err_set(err, SL_ECONFIG, "%s: `schema_id` must be from 1 to 2147483647, got %lld",
                          o->section, (long long)o->schema_id);
    if (o->subject && !o->registry)
        return sl_err_set(err, SL_ECONFIG, "%s: `subject` needs `schema_registry` (the subject "
                          "is registered there)", o->section);
    sl_kavro_sink *k = sl_calloc(1, sizeof *k);
    if (!k)
        return nomem(err);
    k->schema_id = o->schema_id;
    size_t n = (o->subject ? strlen(o->subject) : strlen(o->topic) + 6) + 1;
    if (!(k->subject = sl_malloc(n))) {
        rc = nomem(err);
    } else {
        if (o->subject)
            snprintf(k->subject, n, "%s", o->subject);
        else
            snprintf(k->subject, n, "%s-value", o->topic); /* TopicNameStrategy */
        rc = common_open(&k->c, o, err);
    }
    if (rc != SL_OK)
        sl_kavro_sink_free(k);
    else
        *out = k;
    return rc;
}

void sl_kavro_sink_free(sl_kavro_sink *k)
{
    if (!k)
        return;
    sl_avro_wire_encoder_free(k->enc);
    sl_free(k->subject);
    common_free(&k->c);
    sl_free(k);
}

int32_t sl_kavro_sink_id(const sl_kavro_sink *k)
{
    return k->id;
}

/* Same binary layout: what a consumer decoding with a's schema needs of
 * data written with b's. Record names, docs, defaults and aliases may
 * differ; field names, types, logical types, order and union branches may
 * not. Our writer schemas are flat, so the walk is shallow. */
static int same_node(const av_node *a, const av_node *b, int depth)
{
    if (a == b)
        return 1;
    if (depth > AV_MAX_DEPTH || a->t != b->t || a->lt != b->lt || a->n != b->n)
        return 0;
    switch (a->t) {
    case AV_RECORD:
        for (int i = 0; i < a->n; i++)
            if (strcmp(a->fields[i].name, b->fields[i].name) != 0 ||
                !same_node(a->fields[i].type, b->fields[i].type, depth + 1))
                return 0;
        return 1;
    case AV_UNION:
        for (int i = 0; i < a->n; i++)
            if (!same_node(a->branches[i], b->branches[i], depth + 1))
                return 0;
        return 1;
    case AV_ENUM:
        for (int i = 0; i < a->n; i++)
            if (strcmp(a->symbols[i], b->symbols[i]) != 0)
                return 0;
        return 1;
    case AV_ARRAY:
    case AV_MAP:
        return same_node(a->items, b->items, depth + 1);
    case AV_FIXED:
    case AV_BYTES:
        return a->size == b->size && a->precision == b->precision && a->scale == b->scale;
    default:
        return 1;
    }
}

/* 0 when theirs can stand for mine; else 1 and the first difference. */
static int layout_diff(const av_node *theirs, const av_node *mine, char *buf, size_t n)
{
    char a[256], b[256];
    if (same_node(theirs, mine, 0))
        return 0;
    if (theirs->t == AV_RECORD && mine->t == AV_RECORD) {
        int i = 0;
        while (i < theirs->n && i < mine->n && !strcmp(theirs->fields[i].name, mine->fields[i].name) &&
               same_node(theirs->fields[i].type, mine->fields[i].type, 1))
            i++;
        if (i < theirs->n && i < mine->n) {
            av_describe(theirs->fields[i].type, a, sizeof a);
            av_describe(mine->fields[i].type, b, sizeof b);
            snprintf(buf, n, "its field %d is '%s' (%s), the rows' is '%s' (%s)", i + 1,
                     theirs->fields[i].name, a, mine->fields[i].name, b);
        } else {
            snprintf(buf, n, "it has %d fields, the rows have %d", theirs->n, mine->n);
        }
    } else {
        av_describe(theirs, a, sizeof a);
        av_describe(mine, b, sizeof b);
        snprintf(buf, n, "it is a %s, the rows are a %s", a, b);
    }
    return 1;
}

static void fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

/* Writes <dir>/<id>.avsc unless it exists (*written = 0 then): the file
 * appears whole (written beside it first) and is never replaced. */
static sl_rc dir_write(sl_kavro_sink *k, int32_t id, const sl_avro_schema *mine, int *written,
                       sl_err *err)
{
    char path[4096], tmp[4200];
    const char *text = sl_avro_schema_json(mine);
    *written = 0;
    snprintf(path, sizeof path, "%s/%d.avsc", k->c.dir, (int)id);
    snprintf(tmp, sizeof tmp, "%s/.%d.avsc.%ld.tmp", k->c.dir, (int)id, (long)getpid());
    sl_rc rc = sl_write_file_atomic(tmp, text, strlen(text), err);
    if (rc != SL_OK) {
        sl_err_prefix(err, "%s: `schema_dir`", k->c.section);
        return rc;
    }
    int e = link(tmp, path) == 0 ? 0 : errno;
    unlink(tmp);
    if (e == EEXIST)
        return SL_OK;
    if (e)
        return sl_err_set(err, SL_EIO, "%s: `schema_dir`: cannot create %s: %s", k->c.section, path,
                          strerror(e));
    fsync_dir(k->c.dir);
    *written = 1;
    sl_log(SL_LOG_INFO, "kafka", "%s: wrote the rows' Avro schema to %s", k->c.section, path);
    return SL_OK;
}

/* `schema_id` given: the schema it names must have the rows' layout; in a
 * directory that lacks it, it is written. */
static sl_rc use_id(sl_kavro_sink *k, int32_t id, const sl_avro_schema *mine, sl_err *err)
{
    for (int attempt = 0;; attempt++) {
        const sl_avro_schema *theirs = NULL;
        char diff[600];
        sl_err e;
        sl_err_clear(&e);
        sl_rc rc = sl_avro_registry_get(k->c.reg, id, &theirs, &e);
        scrub(&k->c, &e);
        if (rc == SL_OK) {
            if (layout_diff(theirs->root, mine->root, diff, sizeof diff))
                return sl_err_set(err, SL_ECONFIG, "%s: `schema_id` %d is not the schema of the "
                                  "rows: %s (schema %d: %.300s)", k->c.section, (int)id, diff,
                                  (int)id, sl_avro_schema_json(theirs));
            k->id = id;
            return SL_OK;
        }
        if (rc == SL_ENOTFOUND && !k->c.url && attempt == 0) {
            int written;
            if ((rc = dir_write(k, id, mine, &written, err)) != SL_OK)
                return rc;
            if (written) {
                k->id = id;
                return SL_OK;
            }
            continue; /* someone else wrote it meanwhile: check theirs */
        }
        if (err)
            *err = e;
        if (rc == SL_ENOTFOUND || rc == SL_EUNSUPPORTED) {
            sl_err_prefix(err, "%s: `schema_id`", k->c.section);
            return as_config(err);
        }
        return run_error(&k->c, id, rc, err);
    }
}

/* Directory only: the id of a schema there with the rows' layout, else
 * the next free one, claimed by writing it. */
static sl_rc dir_assign(sl_kavro_sink *k, const sl_avro_schema *mine, sl_err *err)
{
    for (int attempt = 0; attempt < DIR_CLAIM_TRIES; attempt++) {
        DIR *d = opendir(k->c.dir);
        if (!d)
            return sl_err_set(err, SL_EIO, "%s: `schema_dir` '%s': %s", k->c.section, k->c.dir,
                              strerror(errno));
        int64_t max = 0, found = -1;
        sl_rc rc = SL_OK;
        struct dirent *de;
        while (rc == SL_OK && (de = readdir(d)) != NULL) {
            char *end;
            if (de->d_name[0] < '0' || de->d_name[0] > '9')
                continue;
            long long id = strtoll(de->d_name, &end, 10);
            if (strcmp(end, ".avsc") != 0 || id > INT32_MAX)
                continue;
            if (id > max)
                max = id;
            const sl_avro_schema *theirs;
            char diff[8];
            sl_err e;
            rc = sl_avro_registry_get(k->c.reg, (int32_t)id, &theirs, &e);
            if (rc == SL_OK && !layout_diff(theirs->root, mine->root, diff, sizeof diff) &&
                (found < 0 || id < found))
                found = id;
            if (rc != SL_ENOMEM)
                rc = SL_OK; /* an unreadable file still takes its id */
        }
        closedir(d);
        if (rc != SL_OK)
            return nomem(err);
        if (found >= 0) {
            k->id = (int32_t)found;
            return SL_OK;
        }
        if (max >= INT32_MAX)
            break;
        int written;
        if ((rc = dir_write(k, (int32_t)(max + 1), mine, &written, err)) != SL_OK)
            return rc;
        if (written) {
            k->id = (int32_t)(max + 1);
            return SL_OK;
        }
    }
    return sl_err_set(err, SL_EIO, "%s: `schema_dir` '%s': could not claim a free schema id",
                      k->c.section, k->c.dir);
}

sl_rc sl_kavro_sink_open(sl_kavro_sink *k, const sl_schema *s, sl_err *err)
{
    sl_avro_schema *mine = NULL;
    sl_rc rc = sl_avro_schema_from_sluice(s, NULL, &mine, err);
    if (rc != SL_OK)
        return rc;
    if (k->schema_id) {
        rc = use_id(k, (int32_t)k->schema_id, mine, err);
    } else if (k->c.url) {
        rc = sl_avro_registry_register(k->c.reg, k->subject, mine, &k->id, err);
        if (rc != SL_OK) {
            scrub(&k->c, err);
            name_registry(&k->c, err);
            sl_err_prefix(err, "%s: registering the rows' Avro schema under subject '%s'",
                          k->c.section, k->subject);
        }
    } else {
        rc = dir_assign(k, mine, err);
    }
    if (rc == SL_OK)
        rc = sl_avro_wire_encoder_new(s, k->id, &k->enc, err);
    if (rc == SL_OK)
        sl_log(SL_LOG_INFO, "kafka", "%s: Avro values with schema id %d%s%s%s", k->c.section,
               (int)k->id, k->c.url && !k->schema_id ? " (subject '" : "",
               k->c.url && !k->schema_id ? k->subject : "",
               k->c.url && !k->schema_id ? "')" : "");
    sl_avro_schema_free(mine);
    return rc;
}

sl_rc sl_kavro_sink_encode(sl_kavro_sink *k, const sl_batch *b, int64_t row, const uint8_t **msg,
                           size_t *n, sl_err *err)
{
    sl_rc rc = sl_avro_wire_encode(k->enc, b, row, msg, n, err);
    if (rc != SL_OK && rc != SL_ENOMEM)
        sl_err_prefix(err, "%s: row %lld", k->c.section, (long long)row);
    return rc;
}
