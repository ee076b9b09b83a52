/*
 * avro_reader.h: the container reader's state, shared by avro_reader.c
 * and avro_inspect.c (which walks blocks without decoding them).
 * Internal to src/formats/.
 */
#ifndef SL_AVRO_READER_H
#define SL_AVRO_READER_H

#include "avro_internal.h"

typedef struct av_meta {
    const char *key;
    const char *val; /* NUL-terminated copy; may hold NULs (vlen) */
    size_t vlen;
} av_meta;

struct sl_avro_reader {
    const char *name;        /* current part's path (or memory name) */
    char **parts;
    int nparts, part;
    const uint8_t *mem;      /* memory input, or NULL */
    size_t mem_n;
    int fd;
    pq_buf in;               /* file input buffer */
    size_t pos;              /* consumed bytes of in (or mem) */
    int64_t base;            /* file offset of in.p[0] */
    int eof;
    int64_t file_size, done_before, total_size;

    sl_avro_read_options opts;
    char **cols;             /* owned copy of opts.columns */
    int ncols;
    sl_arena *arena;         /* header metadata of the current part */
    av_meta *meta;
    int nmeta;
    size_t meta_cap;

    sl_avro_schema *writer;  /* current part's writer schema */
    sl_avro_schema *first;   /* first part's, the reader for later parts */
    av_prog *prog;
    sl_schema *schema;       /* output schema (the first part's) */
    av_codec codec;
    av_codec_state cs;
    pq_buf block;            /* decompressed block */
    av_dec dec;
    uint8_t sync[16];
    int64_t min_record;      /* fewest bytes a record takes */

    /* current block */
    av_rd rd;
    int64_t left;            /* records not yet decoded */
    int64_t rec;             /* index of the next record in the block */
    int64_t block_no;        /* 1-based */
    int64_t block_off;       /* file offset of the block */
    int64_t block_rows, block_bytes;
    int failed;
};

/* Reads the next block of the current part (decode = 0: only checks its
 * header, bounds and sync marker). SL_EEOF at the end of the part. */
sl_rc av_reader_block(sl_avro_reader *r, int decode, sl_err *err);

#endif
