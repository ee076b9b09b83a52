/* Unit tests for the model container (src/ml/model.c): registry, the model
 * file format and its corruption handling, predictions by feature name and
 * as a batch, describe. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "ml/ml_internal.h"
#include "ml_test_util.h"

static sl_matrix *tr, *te;

static int setup(void **state)
{
    (void)state;
    return ml_load_pair("iris", SL_TASK_CLASSIFICATION, &tr, &te);
}

static int teardown(void **state)
{
    (void)state;
    sl_matrix_free(tr);
    sl_matrix_free(te);
    return 0;
}

static void test_registry(void **state)
{
    (void)state;
    const char *names[] = {"random_forest", "gbdt", "logistic_regression",
                           "linear_regression", "mlp"};
    assert_int_equal(sl_model_type_count(), 5);
    for (int i = 0; i < 5; i++) {
        const sl_model_type *t = sl_model_type_find(names[i]);
        assert_non_null(t);
        assert_ptr_equal(sl_model_type_at(i), t);
        assert_int_equal(t->abi_version, SL_MODEL_ABI_VERSION);
    }
    assert_null(sl_model_type_find("svm"));
    assert_string_equal(sl_model_type_closest("random_forrest"),
                        "random_forest");
    sl_model *m;
    sl_err e;
    sl_err_clear(&e);
    assert_int_equal(sl_model_new("svm", SL_TASK_CLASSIFICATION, NULL, 0, &m,
                                  &e),
                     SL_ENOTFOUND);
    assert_non_null(strstr(e.msg, "unknown model type 'svm' (known: "
                                  "random_forest, gbdt, logistic_regression, "
                                  "linear_regression, mlp)"));
    /* the reference documents every parameter */
    char *doc = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&doc, &len);
    sl_model_doc_md(f);
    fclose(f);
    assert_non_null(strstr(doc, "### gbdt"));
    assert_non_null(strstr(doc, "| `n_estimators` (`trees`) | integer | 100 |"));
    assert_non_null(strstr(doc, "| `hidden_layers` | string | 64,32 |"));
    free(doc);
}

static sl_model *fitted(const char *type)
{
    sl_model_param p[] = {{"n_estimators", "5"}};
    int np = strcmp(type, "random_forest") == 0 || strcmp(type, "gbdt") == 0;
    sl_model *m = ml_fit(type, SL_TASK_CLASSIFICATION, p, np, tr);
    assert_non_null(m);
    return m;
}

static void test_predict_by_name_and_batch(void **state)
{
    (void)state;
    sl_model *m = fitted("random_forest");
    sl_err e;
    sl_err_clear(&e);
    /* a batch with the features in another order plus an extra column */
    sl_schema *s = sl_schema_new();
    sl_schema_add(s, "extra", SL_STRING, 0, NULL);
    for (int j = te->ncols - 1; j >= 0; j--)
        sl_schema_add(s, te->names[j], SL_FLOAT64, 0, NULL);
    sl_batch *b = sl_batch_new(s, te->nrows);
    for (int64_t i = 0; i < te->nrows; i++) {
        sl_column_append_str(b->cols[0], "x", 1);
        for (int j = 0; j < te->ncols; j++)
            sl_column_append_float64(b->cols[te->ncols - j],
                                     sl_matrix_at(te, i, j));
    }
    sl_batch_seal(b, NULL);
    sl_prediction p1, p2;
    assert_int_equal(sl_model_predict(m, te, &p1, NULL), SL_OK);
    assert_int_equal(sl_model_predict_batch(m, b, &p2, &e), SL_OK);
    assert_memory_equal(p1.proba, p2.proba, (size_t)te->nrows * 3 * 8);
    sl_batch *out;
    assert_int_equal(sl_prediction_to_batch(m, &p2, &out, &e), SL_OK);
    assert_int_equal(out->schema->n, 4);
    assert_string_equal(out->schema->fields[0].name, "prediction");
    assert_int_equal(out->schema->fields[0].type, SL_STRING);
    assert_string_equal(out->schema->fields[1].name, "proba_setosa");
    assert_string_equal(out->schema->fields[3].name, "proba_virginica");
    size_t len;
    const char *lab = sl_col_str(out->cols[0], 0, &len);
    assert_memory_equal(lab, sl_model_classes(m)->names[p1.label[0]], len);
    assert_true(sl_col_f64(out->cols[1], 0) == p1.proba[0]);
    sl_batch_unref(out);
    sl_prediction_free(&p2);
    /* a missing feature is named */
    sl_batch *c = NULL;
    int keep[1] = {1};
    assert_int_equal(sl_batch_project(b, keep, 1, &c), SL_OK);
    assert_int_equal(sl_model_predict_batch(m, c, &p2, &e), SL_ENOTFOUND);
    assert_non_null(strstr(e.msg, "feature column"));
    assert_non_null(strstr(e.msg, "not found"));
    /* wrong width */
    sl_matrix narrow = *te;
    narrow.ncols = 2;
    assert_int_equal(sl_model_predict(m, &narrow, &p2, &e), SL_ESCHEMA);
    assert_non_null(strstr(e.msg, "takes 4 features, the matrix has 2"));
    sl_batch_unref(c);
    sl_batch_unref(b);
    sl_schema_free(s);
    sl_prediction_free(&p1);
    sl_model_free(m);
}

static void test_describe_and_unfitted(void **state)
{
    (void)state;
    sl_model *m;
    sl_err e;
    sl_err_clear(&e);
    assert_int_equal(sl_model_new("gbdt", SL_TASK_CLASSIFICATION, NULL, 0, &m,
                                  &e),
                     SL_OK);
    assert_false(sl_model_fitted(m));
    sl_prediction p;
    assert_int_equal(sl_model_predict(m, te, &p, &e), SL_EINVAL);
    assert_non_null(strstr(e.msg, "model 'gbdt' is not fitted"));
    uint8_t *buf;
    size_t len;
    assert_int_equal(sl_model_save_mem(m, &buf, &len, &e), SL_EINVAL);
    json_t *d = sl_model_describe(m);
    assert_false(json_is_true(json_object_get(d, "fitted")));
    json_decref(d);
    assert_int_equal(sl_model_fit(m, tr, &e), SL_OK);
    d = sl_model_describe(m);
    assert_string_equal(json_string_value(json_object_get(d, "type")), "gbdt");
    assert_string_equal(json_string_value(json_object_get(d, "target")),
                        "target");
    assert_int_equal(json_array_size(json_object_get(d, "classes")), 3);
    assert_int_equal(json_array_size(json_object_get(d, "features")), 4);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(d, "params"), "n_jobs")),
                        "2");
    json_decref(d);
    sl_model_free(m);
}

/* Every byte flip and every truncation of a valid file is an error with a
 * message, never a crash; with the checksum forged, the structural checks
 * still catch what they must (or the model loads and predicts). */
static void check_corruptions(const char *type)
{
    sl_model *m = fitted(type);
    uint8_t *buf;
    size_t len;
    sl_err e;
    sl_err_clear(&e);
    assert_int_equal(sl_model_save_mem(m, &buf, &len, &e), SL_OK);
    uint8_t *c = sl_malloc(len);
    for (size_t cut = 0; cut < len; cut += 1 + cut / 16) {
        sl_model *r = NULL;
        sl_err_clear(&e);
        assert_int_not_equal(sl_model_load_mem(buf, cut, "f.slm", &r, &e),
                             SL_OK);
        assert_null(r);
        assert_true(e.msg[0] != '\0');
    }
    size_t step = len / 300 + 1;
    for (size_t i = 0; i < len; i += step) {
        memcpy(c, buf, len);
        c[i] ^= 0x5a;
        sl_model *r = NULL;
        sl_err_clear(&e);
        assert_int_not_equal(sl_model_load_mem(c, len, "f.slm", &r, &e), SL_OK);
        if (i >= 8 && i < len - 4)
            assert_non_null(strstr(e.msg, "checksum mismatch"));
        /* forge the checksum: load must validate structure itself */
        uint32_t crc = sl_crc32(0, c, len - 4);
        for (int k = 0; k < 4; k++)
            c[len - 4 + k] = (uint8_t)(crc >> (8 * k));
        if (sl_model_load_mem(c, len, "f.slm", &r, &e) == SL_OK) {
            sl_prediction p;
            if (sl_model_predict(r, te, &p, &e) == SL_OK)
                sl_prediction_free(&p);
            sl_model_free(r);
        }
    }
    sl_free(c);
    sl_free(buf);
    sl_model_free(m);
}

static void test_corrupt_files(void **state)
{
    (void)state;
    check_corruptions("random_forest");
    check_corruptions("gbdt");
    check_corruptions("logistic_regression");
    check_corruptions("mlp");
}

static void test_header_errors(void **state)
{
    (void)state;
    sl_model *m = fitted("logistic_regression"), *r;
    uint8_t *buf;
    size_t len;
    sl_err e;
    sl_err_clear(&e);
    assert_int_equal(sl_model_save_mem(m, &buf, &len, &e), SL_OK);
    assert_memory_equal(buf, "SLMD\1\0\0\0", 8);
    assert_int_equal(sl_model_load_mem((const uint8_t *)"PK\3\4 not a model",
                                       17, "x.zip", &r, &e),
                     SL_EPARSE);
    assert_string_equal(e.msg, "x.zip: not a sluice model file (no SLMD "
                               "header)");
    buf[4] = 9;
    assert_int_equal(sl_model_load_mem(buf, len, "m", &r, &e), SL_EUNSUPPORTED);
    assert_non_null(strstr(e.msg, "format version 9 is not supported"));
    buf[4] = 1;
    /* an unknown type name (checksum fixed up) */
    memcpy(buf + 12, "LOGISTIC", 8);
    uint32_t crc = sl_crc32(0, buf, len - 4);
    for (int k = 0; k < 4; k++)
        buf[len - 4 + k] = (uint8_t)(crc >> (8 * k));
    assert_int_equal(sl_model_load_mem(buf, len, "m", &r, &e), SL_EUNSUPPORTED);
    assert_non_null(strstr(e.msg, "unknown model type 'LOGISTIC_regression'"));
    sl_free(buf);
    /* files: atomic save, missing file, unwritable directory */
    char path[] = "/tmp/sl_model_XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    assert_int_equal(sl_model_save(m, path, &e), SL_OK);
    assert_int_equal(sl_model_load(path, &r, &e), SL_OK);
    sl_model_free(r);
    unlink(path);
    assert_int_equal(sl_model_load(path, &r, &e), SL_EIO);
    assert_non_null(strstr(e.msg, "cannot open model"));
    sl_err_clear(&e);
    assert_int_equal(sl_model_save(m, "/nonexistent-dir/m.slm", &e), SL_EIO);
    assert_non_null(strstr(e.msg, "cannot create"));
    sl_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry),
        cmocka_unit_test(test_predict_by_name_and_batch),
        cmocka_unit_test(test_describe_and_unfitted),
        cmocka_unit_test(test_corrupt_files),
        cmocka_unit_test(test_header_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
