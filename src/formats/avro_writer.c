/*
 * avro_writer.c: batches -> an Avro object container file.
 *
 * Rows are encoded into a block buffer; a block ends at block_rows rows
 * or once its encoded bytes reach block_bytes (so memory is bounded by
 * about block_bytes plus one row plus its compressed copy), then it is
 * compressed and written with its count, size and the sync marker. The
 * sync marker is 16 random bytes per file.
 *
 * Atomic commit: the file is written to a temporary name beside the
 * target (O_EXCL), fsynced, renamed, and the directory fsynced; abort or
 * a failed close removes it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "avro_internal.h"
#include "sluice/mem.h"

struct sl_avro_writer {
    char *path, *tmp;
    int fd;
    av_enc *enc;
    av_codec codec;
    int level;
    int64_t block_rows, block_bytes;
    pq_buf block, comp;
    av_codec_state cs;
    uint8_t sync[16];
    int64_t rows, nblock; /* rows written, rows in the current block */
};

static sl_rc nomem(sl_err *err)
{
    return sl_err_set(err, SL_ENOMEM, "out of memory");
}

static sl_rc sys_err(const sl_avro_writer *w, sl_err *err, const char *what)
{
    return sl_err_setloc(err, SL_EIO, w->path, 0, 0, "%s: %s", what, strerror(errno));
}

void sl_avro_write_options_init(sl_avro_write_options *o)
{
    memset(o, 0, sizeof *o);
    o->codec = SL_AVRO_DEFLATE;
    o->block_rows = SL_AVRO_BLOCK_ROWS_DEFAULT;
    o->block_bytes = SL_AVRO_BLOCK_BYTES_DEFAULT;
}

static sl_rc write_all(sl_avro_writer *w, const void *p, size_t n, sl_err *err)
{
    const char *c = p;
    while (n > 0) {
        ssize_t k = write(w->fd, c, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return sys_err(w, err, "write failed");
        c += k;
        n -= (size_t)k;
    }
    return SL_OK;
}

static void writer_free(sl_avro_writer *w)
{
    if (w->fd >= 0) {
        close(w->fd);
        unlink(w->tmp);
    }
    av_enc_free(w->enc);
    pq_buf_free(&w->block);
    pq_buf_free(&w->comp);
    av_codec_state_free(&w->cs);
    sl_free(w->path);
    sl_free(w->tmp);
    sl_free(w);
}

static void random_sync(uint8_t sync[16])
{
    if (getrandom(sync, 16, GRND_NONBLOCK) == 16)
        return;
    /* no entropy yet (early boot): any distinct bytes do */
    uint64_t x = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)sync;
    for (int i = 0; i < 16; i++) {
        x += 0x9e3779b97f4a7c15ULL;
        uint64_t z = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
        sync[i] = (uint8_t)(z >> 56);
    }
}

static int put_str(pq_buf *b, const char *s, size_t n)
{
    uint8_t v[10];
    size_t k = av_put_long(v, (int64_t)n);
    return pq_buf_append(b, v, k) == 0 && pq_buf_append(b, s, n) == 0 ? 0 : -1;
}

static sl_rc write_header(sl_avro_writer *w, sl_err *err)
{
    pq_buf h = {0};
    const char *schema = sl_avro_schema_json(w->enc->avro);
    const char *codec = av_codec_name(w->codec);
    uint8_t two = 4; /* zigzag(2): two metadata entries */
    sl_rc rc = SL_OK;
    if (pq_buf_append(&h, "Obj\x01", 4) != 0 || pq_buf_append(&h, &two, 1) != 0 ||
        put_str(&h, "avro.schema", 11) != 0 || put_str(&h, schema, strlen(schema)) != 0 ||
        put_str(&h, "avro.codec", 10) != 0 || put_str(&h, codec, strlen(codec)) != 0 ||
        pq_buf_append(&h, "", 1) != 0 || pq_buf_append(&h, w->sync, 16) != 0)
        rc = nomem(err);
    else
        rc = write_all(w, h.p, h.len, err);
    pq_buf_free(&h);
    return rc;
}

static sl_rc open_tmp(sl_avro_writer *w, sl_err *err)
{
    static atomic_uint seq;
    size_t tlen = strlen(w->path) + 48;
    if (!(w->tmp = sl_malloc(tlen)))
        return nomem(err);
    /* O_EXCL with a fresh name per attempt never clobbers a file */
    for (int attempt = 0; attempt < 100 && w->fd < 0; attempt++) {
        snprintf(w->tmp, tlen, "%s.tmp.%ld.%u", w->path, (long)getpid(), atomic_fetch_add(&seq, 1));
        w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (w->fd < 0 && errno != EEXIST)
            break;
    }
    if (w->fd < 0)
        return sl_err_setloc(err, errno == ENOENT ? SL_ENOTFOUND : SL_EIO, w->path, 0, 0,
                             "cannot create: %s", strerror(errno));
    return SL_OK;
}

sl_rc sl_avro_writer_open(const char *path, const sl_schema *schema,
                          const sl_avro_write_options *opts, sl_avro_writer **out, sl_err *err)
{
    sl_avro_write_options o;
    sl_rc rc;
    *out = NULL;
    if (opts)
        o = *opts;
    else
        sl_avro_write_options_init(&o);
    if ((int)o.codec < SL_AVRO_NULL || o.codec > SL_AVRO_ZSTANDARD)
        return sl_err_set(err, SL_ECONFIG, "unknown Avro codec %d", (int)o.codec);
    if (o.block_rows < 1 || o.block_bytes < 1 || o.block_bytes > SL_AVRO_MAX_BLOCK_BYTES / 2)
        return sl_err_set(err, SL_ECONFIG, "block_rows must be >= 1 and block_bytes between 1 and "
                                           "%d", SL_AVRO_MAX_BLOCK_BYTES / 2);
    if (o.level < 0 || (o.codec == SL_AVRO_DEFLATE && o.level > 9) || o.level > 22)
        return sl_err_set(err, SL_ECONFIG, "compression level %d out of range", o.level);
    sl_avro_writer *w = sl_calloc(1, sizeof *w);
    if (!w)
        return nomem(err);
    w->fd = -1;
    w->codec = (av_codec)o.codec; /* same numbering */
    w->level = o.level;
    w->block_rows = o.block_rows;
    w->block_bytes = o.block_bytes;
    random_sync(w->sync);
    if (!(w->path = sl_strdup(path)))
        rc = nomem(err);
    else if ((rc = av_enc_new(schema, o.record_name, &w->enc, err)) == SL_OK &&
             (rc = open_tmp(w, err)) == SL_OK)
        rc = write_header(w, err);
    if (rc != SL_OK) {
        writer_free(w);
        return rc;
    }
    *out = w;
    return SL_OK;
}

static sl_rc flush_block(sl_avro_writer *w, sl_err *err)
{
    if (w->nblock == 0)
        return SL_OK;
    const pq_buf *data = &w->block;
    sl_rc rc;
    if (w->codec != AV_CODEC_NULL) {
        w->comp.len = 0;
        if ((rc = av_compress(&w->cs, w->codec, w->level, w->block.p, w->block.len, &w->comp,
                              err)) != SL_OK)
            return rc;
        data = &w->comp;
    }
    uint8_t hdr[20];
    size_t k = av_put_long(hdr, w->nblock);
    k += av_put_long(hdr + k, (int64_t)data->len);
    if ((rc = write_all(w, hdr, k, err)) != SL_OK || (rc = write_all(w, data->p, data->len, err)) ||
        (rc = write_all(w, w->sync, 16, err)) != SL_OK)
        return rc;
    w->rows += w->nblock;
    w->nblock = 0;
    w->block.len = 0;
    return SL_OK;
}

sl_rc sl_avro_writer_write(sl_avro_writer *w, const sl_batch *b, sl_err *err)
{
    sl_rc rc = av_enc_check(w->enc, b, err);
    int64_t i = 0;
    while (rc == SL_OK && i < b->nrows) {
        int64_t to = b->nrows - i < w->block_rows - w->nblock ? b->nrows : i + (w->block_rows - w->nblock);
        int64_t next;
        size_t before = w->block.len;
        if ((rc = av_enc_rows(w->enc, b, i, to, (size_t)w->block_bytes, &w->block, &next, err)) !=
            SL_OK) {
            w->block.len = before; /* drop the partial run; earlier rows stay */
            break;
        }
        w->nblock += next - i;
        i = next;
        if (w->nblock >= w->block_rows || w->block.len >= (size_t)w->block_bytes)
            rc = flush_block(w, err);
    }
    if (rc != SL_OK)
        sl_err_at(err, w->path, 0, 0);
    return rc;
}

/* Makes the rename durable; a filesystem that cannot fsync a directory
 * (EINVAL) is not an error. */
static sl_rc sync_dir(const sl_avro_writer *w, sl_err *err)
{
    char *dir = sl_strdup(w->path);
    if (!dir)
        return nomem(err);
    char *slash = strrchr(dir, '/');
    const char *d = ".";
    if (slash == dir)
        d = "/";
    else if (slash) {
        *slash = '\0';
        d = dir;
    }
    sl_rc rc = SL_OK;
    int fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        if (fsync(fd) != 0 && errno != EINVAL)
            rc = sys_err(w, err, "fsync of directory failed");
        close(fd);
    }
    sl_free(dir);
    return rc;
}

sl_rc sl_avro_writer_close(sl_avro_writer *w, sl_err *err)
{
    if (!w)
        return SL_OK;
    sl_rc rc = flush_block(w, err);
    if (rc == SL_OK && fsync(w->fd) != 0)
        rc = sys_err(w, err, "fsync failed");
    if (rc == SL_OK) {
        int fd = w->fd;
        w->fd = -1;
        if (close(fd) != 0)
            rc = sys_err(w, err, "close failed");
        else if (rename(w->tmp, w->path) != 0)
            rc = sys_err(w, err, "rename failed");
        if (rc != SL_OK)
            unlink(w->tmp);
        else
            rc = sync_dir(w, err);
    }
    if (rc != SL_OK)
        sl_err_at(err, w->path, 0, 0);
    writer_free(w);
    return rc;
}

void sl_avro_writer_abort(sl_avro_writer *w)
{
    if (w)
        writer_free(w);
}

int64_t sl_avro_writer_rows(const sl_avro_writer *w)
{
    return w->rows + w->nblock;
}
