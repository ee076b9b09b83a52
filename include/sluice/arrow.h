/*
 * arrow.h: the Arrow C Data Interface (https://arrow.apache.org/docs/format/CDataInterface.html).
 *
 * sl_arrow_export hands a batch to any Arrow implementation (pyarrow,
 * DuckDB, Polars, nanoarrow) without copying: the ArrowArray's buffers are
 * the batch's own column buffers, and its release callback drops the
 * reference the export took. The batch is exported as a struct array
 * ("+s") with one child per column, the way RecordBatches travel.
 *
 * sl_arrow_import copies an exported struct array into a new batch (so the
 * producer's memory can be released at once), accepting the formats of
 * batch.h plus utf8 "u", int8/16/32 "c"/"s"/"i", float32 "f", uint8/16/32
 * "C"/"S"/"I", date "tdD", and timestamps in s/ms/us/ns with or without a
 * time zone (converted to UTC microseconds).
 */
#ifndef SLUICE_ARROW_H
#define SLUICE_ARROW_H

#include <stdint.h>

#include "batch.h"
#include "error.h"

#ifndef ARROW_C_DATA_INTERFACE
#define ARROW_C_DATA_INTERFACE

#define ARROW_FLAG_DICTIONARY_ORDERED 1
#define ARROW_FLAG_NULLABLE 2
#define ARROW_FLAG_MAP_KEYS_SORTED 4

struct ArrowSchema {
    const char *format;
    const char *name;
    const char *metadata;
    int64_t flags;
    int64_t n_children;
    struct ArrowSchema **children;
    struct ArrowSchema *dictionary;
    void (*release)(struct ArrowSchema *);
    void *private_data;
};

struct ArrowArray {
    int64_t length;
    int64_t null_count;
    int64_t offset;
    int64_t n_buffers;
    int64_t n_children;
    const void **buffers;
    struct ArrowArray **children;
    struct ArrowArray *dictionary;
    void (*release)(struct ArrowArray *);
    void *private_data;
};

#endif /* ARROW_C_DATA_INTERFACE */

/* Fill *schema and *array from b (takes a reference on b). The caller
 * (the consumer) must call each release callback exactly once. */
sl_rc sl_arrow_export(sl_batch *b, struct ArrowSchema *schema,
                      struct ArrowArray *array, sl_err *err);

/* Copy a struct array into a new batch. Does not release the inputs. */
sl_rc sl_arrow_import(const struct ArrowSchema *schema,
                      const struct ArrowArray *array, sl_batch **out,
                      sl_err *err);

/* Reads a whole file (format by extension: .csv/.tsv, .jsonl/.ndjson,
 * .parquet, .avro) into one batch and exports it (addition; for embedders
 * such as examples/arrow/). At most max_rows rows (SL_ELIMIT beyond). The
 * consumer must call both release callbacks; until then the batch's
 * buffers stay alive. */
sl_rc sl_arrow_read_file(const char *path, int64_t max_rows,
                         struct ArrowSchema *schema, struct ArrowArray *array,
                         sl_err *err);

#endif
