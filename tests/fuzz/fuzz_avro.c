/*
 * fuzz_avro.c: the Avro read paths over arbitrary bytes: the object
 * container reader (header, codecs, blocks, sync markers, every type,
 * nested values as JSON text), schema resolution against a reader schema
 * chosen by the input, the Confluent wire decoder, and the schema parser.
 * Any input must end in SL_EEOF or an error, never a crash, a hang or a
 * leak. The last byte picks the batch size and the reader schema.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sluice/avro.h"

/* Reader schemas that resolve against some seeds and fail on others. */
static const char *const readers[] = {
    NULL,
    "{\"type\":\"record\",\"name\":\"r\",\"fields\":[{\"name\":\"l\",\"type\":[\"null\",\"double\"]},"
    "{\"name\":\"s\",\"type\":[\"null\",\"bytes\"],\"default\":null},"
    "{\"name\":\"x\",\"type\":{\"type\":\"map\",\"values\":\"long\"},\"default\":{\"a\":1}}]}",
    "{\"type\":\"record\",\"name\":\"r\",\"fields\":[{\"name\":\"e\",\"type\":{\"type\":\"enum\","
    "\"name\":\"E\",\"symbols\":[\"B\",\"A\"],\"default\":\"A\"},\"default\":\"B\"},"
    "{\"name\":\"rec\",\"type\":[\"null\",{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\","
    "\"type\":\"long\"},{\"name\":\"q\",\"type\":\"string\",\"default\":\"z\"}]}],\"default\":null}]}",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t last = size ? data[size - 1] : 0;
    sl_avro_schema *rs = NULL;
    const char *rj = readers[last % 3];
    if (rj && sl_avro_schema_parse(rj, strlen(rj), "reader", &rs, NULL) != SL_OK)
        return 0;

    /* container */
    sl_avro_read_options o;
    sl_avro_read_options_init(&o);
    o.batch_rows = 1 + last % 50;
    o.reader_schema = rs;
    sl_avro_reader *r;
    sl_batch *b;
    if (sl_avro_reader_open_mem(data, size, "fuzz.avro", &o, &r, NULL) == SL_OK) {
        while (sl_avro_reader_next(r, &b, NULL) == SL_OK)
            sl_batch_unref(b);
        sl_avro_reader_close(r);
    }

    /* wire messages: the input split at '\n' into messages, writer schema
     * id 1 = the first reader schema, 2 = a recursive record */
    sl_avro_registry *reg;
    if (sl_avro_registry_new(NULL, NULL, 0, &reg, NULL) == SL_OK) {
        sl_avro_schema *w1, *w2;
        const char *ll = "{\"type\":\"record\",\"name\":\"L\",\"fields\":[{\"name\":\"v\",\"type\":"
                         "\"int\"},{\"name\":\"next\",\"type\":[\"null\",\"L\"]}]}";
        if (sl_avro_schema_parse(readers[1], strlen(readers[1]), "w1", &w1, NULL) == SL_OK)
            sl_avro_registry_add(reg, 1, w1, NULL);
        if (sl_avro_schema_parse(ll, strlen(ll), "w2", &w2, NULL) == SL_OK)
            sl_avro_registry_add(reg, 2, w2, NULL);
        sl_avro_wire_decoder *d;
        if (sl_avro_wire_decoder_new(sl_avro_registry_resolve, reg, NULL, &d, NULL) == SL_OK) {
            size_t start = 0;
            for (size_t i = 0; i <= size; i++)
                if (i == size || data[i] == '\n') {
                    sl_avro_wire_decode(d, data + start, i - start, NULL);
                    start = i + 1;
                }
            if (sl_avro_wire_decoder_take(d, &b, NULL) == SL_OK)
                sl_batch_unref(b);
            sl_avro_wire_decoder_free(d);
        }
        sl_avro_registry_free(reg);
    }

    /* schema text */
    sl_avro_schema *s;
    if (size && (data[0] == '{' || data[0] == '[' || data[0] == '"') &&
        sl_avro_schema_parse((const char *)data, size, "fuzz", &s, NULL) == SL_OK) {
        sl_schema *ss;
        if (sl_avro_schema_to_sluice(s, &ss, NULL) == SL_OK)
            sl_schema_free(ss);
        sl_avro_schema_free(s);
    }
    sl_avro_schema_free(rs);
    return 0;
}
