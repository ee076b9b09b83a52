/* Unit tests for logistic and linear regression (src/ml/linear.c).
 *
 * scikit-learn reference (tests/data/ml/sklearn_reference.py, sklearn
 * 1.9.1), same train/test split:
 *   LogisticRegression(C=1, max_iter=100000, tol=1e-10), unscaled features:
 *     iris   acc=0.9474 proba[test row 0]=[9.86666655e-01 1.33332943e-02
 *            5.10083029e-08]
 *     wine   acc=0.9556 proba[0]=[0.97816506 0.0182268 0.00360813]
 *     breast_cancer acc=0.9580 proba[0]=[0.01850835 0.98149165]
 *   LinearRegression() diabetes: r2=0.484906 pred[0]=137.949089
 *   Ridge(alpha=1.0) diabetes:   r2=0.438400 pred[0]=156.569024
 * Both optimize the same strictly convex objective, so at convergence the
 * probabilities agree to a few 1e-4 (features are float32 here, float64 in
 * sklearn); asserted within 2e-3, linear predictions within 1e-3 relative.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <jansson.h>

#include "ml_test_util.h"

static void check_logit(const char *ds, const double *ref_p, int k,
                        double ref_acc, const char *max_iter, double ptol)
{
    sl_matrix *tr, *te;
    assert_int_equal(ml_load_pair(ds, SL_TASK_CLASSIFICATION, &tr, &te), 0);
    sl_model_param p[] = {{"max_iter", max_iter}, {"tol", "1e-9"}};
    sl_model *m = ml_fit("logistic_regression", SL_TASK_CLASSIFICATION, p, 2,
                         tr);
    assert_non_null(m);
    sl_prediction pr;
    assert_int_equal(sl_model_predict(m, te, &pr, NULL), SL_OK);
    json_t *d = sl_model_describe(m);
    fprintf(stderr, "%s: proba0", ds);
    for (int c = 0; c < k; c++)
        fprintf(stderr, " %.6f (%.6f)", pr.proba[c], ref_p[c]);
    double acc = ml_score(m, te, "accuracy");
    fprintf(stderr, " acc %.4f (%.4f) iters %lld\n", acc, ref_acc,
            (long long)json_integer_value(json_object_get(d, "n_iter")));
    for (int c = 0; c < k; c++)
        assert_true(fabs(pr.proba[c] - ref_p[c]) < ptol);
    assert_true(acc >= ref_acc - 0.03);
    json_decref(d);
    sl_prediction_free(&pr);
    sl_model_free(m);
    sl_matrix_free(tr);
    sl_matrix_free(te);
}

static void test_logit_iris(void **state)
{
    (void)state;
    const double p[] = {9.86666655e-01, 1.33332943e-02, 5.10083029e-08};
    check_logit("iris", p, 3, 0.9474, "10000", 2e-3);
}

static void test_logit_wine(void **state)
{
    (void)state;
    const double p[] = {0.97816506, 0.0182268, 0.00360813};
    check_logit("wine", p, 3, 0.9556, "20000", 2e-3);
}

static void test_logit_binary(void **state)
{
    (void)state;
    const double p[] = {0.01850835, 0.98149165};
    check_logit("breast_cancer", p, 2, 0.9580, "20000", 1e-2);
}

static void check_linreg(const char *alpha, double ref_r2, double ref_p0)
{
    sl_matrix *tr, *te;
    assert_int_equal(ml_load_pair("diabetes", SL_TASK_REGRESSION, &tr, &te),
                     0);
    sl_model_param p[] = {{"alpha", alpha}};
    sl_model *m = ml_fit("linear_regression", SL_TASK_REGRESSION, p, 1, tr);
    assert_non_null(m);
    sl_prediction pr;
    assert_int_equal(sl_model_predict(m, te, &pr, NULL), SL_OK);
    double r2 = ml_score(m, te, "r2");
    fprintf(stderr, "alpha %s: r2 %.6f (%.6f) pred0 %.6f (%.6f)\n", alpha, r2,
            ref_r2, pr.value[0], ref_p0);
    assert_true(fabs(r2 - ref_r2) < 1e-4);
    assert_true(fabs(pr.value[0] - ref_p0) < 1e-3 * fabs(ref_p0));
    sl_prediction_free(&pr);
    sl_model_free(m);
    sl_matrix_free(tr);
    sl_matrix_free(te);
}

static void test_linreg(void **state)
{
    (void)state;
    check_linreg("0", 0.484906, 137.949089);
    check_linreg("1.0", 0.438400, 156.569024);
}

/* A duplicated column (collinear with an earlier one) gets a zero pivot:
 * the fit is still the least-squares fit. */
static void test_linreg_collinear(void **state)
{
    (void)state;
    sl_schema *s = sl_schema_new();
    sl_schema_add(s, "a", SL_FLOAT64, 0, NULL);
    sl_schema_add(s, "b", SL_FLOAT64, 0, NULL);
    sl_schema_add(s, "a2", SL_FLOAT64, 0, NULL);
    sl_schema_add(s, "y", SL_FLOAT64, 0, NULL);
    sl_batch *b = sl_batch_new(s, 8);
    for (int i = 0; i < 8; i++) {
        double a = i, bb = (i * 7) % 5;
        sl_column_append_float64(b->cols[0], a);
        sl_column_append_float64(b->cols[1], bb);
        sl_column_append_float64(b->cols[2], 2 * a);
        sl_column_append_float64(b->cols[3], 3 * a - bb + 1);
    }
    sl_batch_seal(b, NULL);
    sl_matrix_spec spec = {.target = "y"};
    sl_matrix *m;
    assert_int_equal(sl_matrix_from_batches((const sl_batch *const *)&b, 1,
                                            &spec, &m, NULL),
                     SL_OK);
    assert_int_equal(m->task, SL_TASK_REGRESSION);
    sl_model *md = ml_fit("linear_regression", SL_TASK_REGRESSION, NULL, 0, m);
    assert_true(ml_score(md, m, "r2") > 0.999999);
    json_t *d = sl_model_describe(md);
    json_t *coef = json_array_get(json_object_get(d, "coef"), 0);
    assert_true(fabs(json_real_value(json_array_get(coef, 2))) == 0.0);
    assert_true(fabs(json_real_value(json_array_get(coef, 0)) - 3) < 1e-6);
    json_decref(d);
    sl_model_free(md);
    sl_matrix_free(m);
    sl_batch_unref(b);
    sl_schema_free(s);
}

static void test_roundtrip_and_errors(void **state)
{
    (void)state;
    sl_matrix *tr, *te;
    assert_int_equal(ml_load_pair("iris", SL_TASK_CLASSIFICATION, &tr, &te), 0);
    sl_model *a = ml_fit("logistic_regression", SL_TASK_CLASSIFICATION, NULL,
                         0, tr);
    sl_model *b = ml_fit("logistic_regression", SL_TASK_CLASSIFICATION, NULL,
                         0, tr);
    size_t la, lb;
    uint8_t *ba = ml_bytes(a, &la), *bb = ml_bytes(b, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(ba, bb, la);
    sl_model *r;
    sl_err e;
    assert_int_equal(sl_model_load_mem(ba, la, "m", &r, &e), SL_OK);
    assert_true(fabs(ml_score(r, te, "accuracy") -
                     ml_score(a, te, "accuracy")) < 1e-12);
    sl_model_free(r);
    sl_free(ba);
    sl_free(bb);
    sl_model_free(a);
    sl_model_free(b);
    /* wrong task for the type */
    sl_model *m;
    assert_int_equal(sl_model_new("linear_regression", SL_TASK_CLASSIFICATION,
                                  NULL, 0, &m, &e),
                     SL_ECONFIG);
    assert_non_null(strstr(e.msg, "does not do classification"));
    assert_int_equal(sl_model_new("logistic_regression", SL_TASK_REGRESSION,
                                  NULL, 0, &m, &e),
                     SL_ECONFIG);
    sl_model_param c[] = {{"C", "0"}};
    assert_int_equal(sl_model_new("logistic_regression",
                                  SL_TASK_CLASSIFICATION, c, 1, &m, &e),
                     SL_ECONFIG);
    assert_non_null(strstr(e.msg, "parameter 'C' must be a number > 0"));
    /* fitting a regression matrix with a classifier */
    sl_matrix *dt, *dte;
    assert_int_equal(ml_load_pair("diabetes", SL_TASK_REGRESSION, &dt, &dte),
                     0);
    assert_int_equal(sl_model_new("logistic_regression",
                                  SL_TASK_CLASSIFICATION, NULL, 0, &m, &e),
                     SL_OK);
    assert_int_equal(sl_model_fit(m, dt, &e), SL_EINVAL);
    assert_non_null(strstr(e.msg, "training matrix is for regression"));
    sl_model_free(m);
    sl_matrix_free(dt);
    sl_matrix_free(dte);
    sl_matrix_free(tr);
    sl_matrix_free(te);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_logit_iris),
        cmocka_unit_test(test_logit_wine),
        cmocka_unit_test(test_logit_binary),
        cmocka_unit_test(test_linreg),
        cmocka_unit_test(test_linreg_collinear),
        cmocka_unit_test(test_roundtrip_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
