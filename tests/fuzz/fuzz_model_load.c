/*
 * Fuzz target for model files (src/ml/model.c and every type's load):
 * the input is loaded as is, then again with its CRC-32 forged so the
 * structural checks behind the checksum are exercised too. A model that
 * loads must predict, describe and save without trouble.
 * Corpus: tests/fuzz/corpus/model_load/ (small models of every type,
 * classification and regression, and truncated copies).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ml/ml_internal.h"
#include "sluice/mem.h"
#include "sluice/model.h"

static void exercise(const uint8_t *data, size_t size)
{
    sl_model *m = NULL;
    sl_err e;
    sl_err_clear(&e);
    if (sl_model_load_mem(data, size, "fuzz", &m, &e) != SL_OK)
        return;
    int nf = sl_model_nfeatures(m);
    if (nf <= 4096) {
        float *x = calloc((size_t)nf * 3, sizeof *x);
        for (int j = 0; x && j < nf; j++) { /* below, at and above 0 */
            x[j * 3] = -1e30f;
            x[j * 3 + 2] = 1e30f;
        }
        sl_matrix mx = {.nrows = 3, .ncols = nf, .x = x};
        sl_prediction p;
        if (x && sl_model_predict(m, &mx, &p, &e) == SL_OK)
            sl_prediction_free(&p);
        free(x);
    }
    json_t *d = sl_model_describe(m);
    json_decref(d);
    uint8_t *buf;
    size_t len;
    if (sl_model_save_mem(m, &buf, &len, &e) == SL_OK)
        sl_free(buf);
    sl_model_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    exercise(data, size);
    if (size >= 12 && size <= (1u << 24)) {
        uint8_t *c = malloc(size);
        if (!c)
            return 0;
        memcpy(c, data, size);
        uint32_t crc = sl_crc32(0, c, size - 4);
        for (int k = 0; k < 4; k++)
            c[size - 4 + k] = (uint8_t)(crc >> (8 * k));
        exercise(c, size);
        free(c);
    }
    return 0;
}
