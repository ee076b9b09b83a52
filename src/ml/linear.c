/*
 * linear.c: logistic regression ("logistic_regression") and least-squares
 * / ridge regression ("linear_regression").
 *
 * Logistic regression minimizes scikit-learn's objective
 *     (1/n) sum_i loss_i + 1 / (2 C n) ||W||^2        (intercept unpenalized)
 * with the binary logistic loss for two classes (one weight vector) and the
 * multinomial loss otherwise (one vector per class), by L-BFGS (10
 * corrections, Armijo backtracking; the objective is strictly convex, so
 * every step keeps s'y > 0). It stops like sklearn's lbfgs: max |gradient|
 * <= tol, or a relative decrease below 64 eps, or max_iter iterations.
 * Features are not standardized implicitly (sklearn does not either); put
 * a scale transform before it, or it may need many iterations.
 *
 * Linear regression solves the normal equations of the centered data,
 * (Xc'Xc + alpha I) w = Xc'yc, intercept = mean(y) - mean(x)'w, by a
 * Cholesky factorization of our own (no LAPACK). A column that is (nearly)
 * a combination of earlier ones, e.g. the last of a full one-hot group,
 * gets a zero pivot: its coefficient is fixed at 0 and the others still
 * give the least-squares fit, so predictions equal sklearn's lstsq ones.
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include <jansson.h>

#include "ml_internal.h"
#include "sluice/mem.h"

/* ---- shared state: K rows of (d weights + intercept) ---- */
typedef struct lin_state {
    int rows;      /* 1 (binary / regression) or K (multinomial) */
    int d;
    double *w;     /* rows * (d + 1), intercept last */
    int64_t n_iter;
    int converged;
} lin_state;

static void lin_free(void *state)
{
    lin_state *s = state;
    if (s) {
        sl_free(s->w);
        sl_free(s);
    }
}

static lin_state *lin_new(int rows, int d)
{
    lin_state *s = sl_calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->rows = rows;
    s->d = d;
    s->w = sl_calloc((size_t)rows * ((size_t)d + 1), sizeof *s->w);
    if (!s->w) {
        sl_free(s);
        return NULL;
    }
    return s;
}

/* z[r * n + i] = x_i . w_r + b_r for every row r of s. */
static void lin_scores(const lin_state *s, const sl_matrix *x, double *z)
{
    int64_t n = x->nrows;
    for (int r = 0; r < s->rows; r++) {
        const double *w = s->w + (size_t)r * ((size_t)s->d + 1);
        double *zr = z + (size_t)r * (size_t)n;
        for (int64_t i = 0; i < n; i++)
            zr[i] = w[s->d];
        for (int j = 0; j < s->d; j++) {
            const float *col = x->x + (size_t)j * (size_t)n;
            double wj = w[j];
            if (wj == 0)
                continue;
            for (int64_t i = 0; i < n; i++)
                zr[i] += wj * col[i];
        }
    }
}

static sl_rc lin_save(const void *params, const sl_model_info *info,
                      const void *state, sl_wbuf *w)
{
    const lin_state *s = state;
    (void)params;
    (void)info;
    sl_wbuf_u32(w, (uint32_t)s->rows);
    sl_wbuf_f64s(w, s->w, (size_t)s->rows * ((size_t)s->d + 1));
    sl_wbuf_u64(w, (uint64_t)s->n_iter);
    sl_wbuf_u8(w, (uint8_t)s->converged);
    return SL_OK;
}

static sl_rc lin_load(const void *params, const sl_model_info *info,
                      uint32_t version, sl_rbuf *r, void **state, sl_err *err)
{
    uint32_t rows;
    uint64_t it;
    uint8_t conv;
    sl_rc rc;
    (void)params;
    (void)version;
    if ((rc = sl_rbuf_u32(r, &rows)) != SL_OK)
        return rc;
    int want = info->task == SL_TASK_CLASSIFICATION && info->nclasses > 2
                   ? info->nclasses
                   : 1;
    if ((int64_t)rows != want)
        return sl_rbuf_fail(r, "%u weight rows, expected %d", rows, want);
    if ((size_t)info->nfeatures + 1 > (r->n - r->pos) / 8 / rows)
        return sl_rbuf_fail(r, "weights truncated");
    lin_state *s = lin_new((int)rows, info->nfeatures);
    if (!s)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    size_t nw = (size_t)rows * ((size_t)s->d + 1);
    if ((rc = sl_rbuf_f64s(r, s->w, nw)) || (rc = sl_rbuf_u64(r, &it)) ||
        (rc = sl_rbuf_u8(r, &conv))) {
        lin_free(s);
        return rc;
    }
    for (size_t i = 0; i < nw; i++) {
        if (!isfinite(s->w[i])) {
            lin_free(s);
            return sl_rbuf_fail(r, "weight %zu is not finite", i);
        }
    }
    s->n_iter = (int64_t)it;
    s->converged = conv != 0;
    *state = s;
    return SL_OK;
}

static sl_rc lin_describe(const void *params, const sl_model_info *info,
                          const void *state, json_t *o)
{
    const lin_state *s = state;
    json_t *coef = json_array(), *icpt = json_array();
    int ok = coef && icpt;
    (void)params;
    (void)info;
    for (int r = 0; ok && r < s->rows; r++) {
        const double *w = s->w + (size_t)r * ((size_t)s->d + 1);
        json_t *row = sl_json_doubles(w, s->d);
        ok = row && json_array_append_new(coef, row) == 0 &&
             json_array_append_new(icpt, json_real(w[s->d])) == 0;
    }
    ok = ok && json_object_set(o, "coef", coef) == 0 &&
         json_object_set(o, "intercept", icpt) == 0 &&
         json_object_set_new(o, "n_iter", json_integer(s->n_iter)) == 0 &&
         json_object_set_new(o, "converged", json_boolean(s->converged)) == 0;
    json_decref(coef);
    json_decref(icpt);
    return ok ? SL_OK : SL_ENOMEM;
}

/* ---- logistic regression ---- */
typedef struct logit_params {
    double C;
    int penalty; /* 0 l2, 1 none */
    int64_t max_iter;
    double tol;
    int fit_intercept;
} logit_params;

#define P(f) offsetof(logit_params, f)
static const sl_model_param_def logit_defs[] = {
    {"C", NULL, SL_MP_FLOAT, "1.0", 0, 0, NULL, SL_MP_MIN_OPEN, P(C),
     "Inverse L2 strength (sklearn's C): smaller is stronger."},
    {"penalty", NULL, SL_MP_ENUM, "l2", 0, 0, "l2|none", 0, P(penalty),
     "l2, or none for an unpenalized fit."},
    {"max_iter", NULL, SL_MP_INT, "100", 1, 1e7, NULL, 0, P(max_iter),
     "L-BFGS iterations at most."},
    {"tol", NULL, SL_MP_FLOAT, "1e-4", 0, 1, NULL, SL_MP_MIN_OPEN, P(tol),
     "Stop when the largest gradient component is below this."},
    {"fit_intercept", NULL, SL_MP_BOOL, "true", 0, 0, NULL, 0,
     P(fit_intercept), "Fit an (unpenalized) intercept."},
    {0}};
#undef P

typedef struct logit_fit {
    const logit_params *p;
    const sl_matrix *m;
    int K;       /* classes */
    int rows;    /* weight vectors */
    int d;
    double *z;   /* rows * n scores, then residuals */
    lin_state tmp;
} logit_fit;

/* Objective and gradient at w (rows * (d+1)). */
static double logit_fg(logit_fit *f, const double *w, double *g)
{
    const sl_matrix *m = f->m;
    int64_t n = m->nrows;
    int d = f->d, R = f->rows;
    double loss = 0;
    f->tmp.w = (double *)w;
    lin_scores(&f->tmp, m, f->z);
    if (R == 1) {
        for (int64_t i = 0; i < n; i++) {
            double z = f->z[i], y = m->y[i] == 1;
            /* log(1 + e^z) - y z, stably */
            loss += (z > 0 ? z + log1p(exp(-z)) : log1p(exp(z))) - y * z;
            double p = z >= 0 ? 1 / (1 + exp(-z)) : exp(z) / (1 + exp(z));
            f->z[i] = p - y;
        }
    } else {
        for (int64_t i = 0; i < n; i++) {
            double mx = -INFINITY, s = 0;
            for (int r = 0; r < R; r++)
                mx = fmax(mx, f->z[(size_t)r * (size_t)n + (size_t)i]);
            for (int r = 0; r < R; r++)
                s += exp(f->z[(size_t)r * (size_t)n + (size_t)i] - mx);
            double lse = mx + log(s);
            loss += lse - f->z[(size_t)m->y[i] * (size_t)n + (size_t)i];
            for (int r = 0; r < R; r++) {
                double *zr = &f->z[(size_t)r * (size_t)n + (size_t)i];
                *zr = exp(*zr - lse) - (m->y[i] == r);
            }
        }
    }
    double inv_n = 1.0 / (double)n;
    double l2 = f->p->penalty == 0 ? 1.0 / (f->p->C * (double)n) : 0;
    double reg = 0;
    for (int r = 0; r < R; r++) {
        const double *wr = w + (size_t)r * ((size_t)d + 1);
        double *gr = g + (size_t)r * ((size_t)d + 1);
        const double *res = f->z + (size_t)r * (size_t)n;
        for (int j = 0; j < d; j++) {
            const float *col = m->x + (size_t)j * (size_t)n;
            double s = 0;
            for (int64_t i = 0; i < n; i++)
                s += res[i] * col[i];
            gr[j] = s * inv_n + l2 * wr[j];
            reg += wr[j] * wr[j];
        }
        double s = 0;
        for (int64_t i = 0; i < n; i++)
            s += res[i];
        gr[d] = f->p->fit_intercept ? s * inv_n : 0;
    }
    return loss * inv_n + 0.5 * l2 * reg;
}

#define LBFGS_M 10

/* Minimizes logit_fg from w (in place). */
static sl_rc lbfgs(logit_fit *f, double *w, int64_t max_iter, double tol,
                   int64_t *iters, int *converged)
{
    size_t N = (size_t)f->rows * ((size_t)f->d + 1);
    double *mem = sl_calloc(N * (2 * LBFGS_M + 4), sizeof *mem);
    if (!mem)
        return SL_ENOMEM;
    double *S = mem, *Y = S + N * LBFGS_M, *g = Y + N * LBFGS_M, *d = g + N,
           *wn = d + N, *gn = wn + N;
    double rho[LBFGS_M], alpha[LBFGS_M];
    int hist = 0, head = 0;
    double fx = logit_fg(f, w, g);
    *converged = 0;
    int64_t it = 0;
    for (; it < max_iter; it++) {
        double gmax = 0;
        for (size_t k = 0; k < N; k++)
            gmax = fmax(gmax, fabs(g[k]));
        if (gmax <= tol) {
            *converged = 1;
            break;
        }
        /* two-loop recursion: d = -H g */
        for (size_t k = 0; k < N; k++)
            d[k] = -g[k];
        for (int h = 0; h < hist; h++) {
            int q = (head - 1 - h + LBFGS_M) % LBFGS_M;
            double a = 0;
            for (size_t k = 0; k < N; k++)
                a += S[q * N + k] * d[k];
            alpha[q] = rho[q] * a;
            for (size_t k = 0; k < N; k++)
                d[k] -= alpha[q] * Y[q * N + k];
        }
        if (hist > 0) {
            int q = (head - 1 + LBFGS_M) % LBFGS_M;
            double yy = 0, sy = 1 / rho[q];
            for (size_t k = 0; k < N; k++)
                yy += Y[q * N + k] * Y[q * N + k];
            for (size_t k = 0; k < N; k++)
                d[k] *= sy / yy;
        } else {
            double gn2 = 0;
            for (size_t k = 0; k < N; k++)
                gn2 += g[k] * g[k];
            for (size_t k = 0; k < N; k++)
                d[k] /= fmax(1, sqrt(gn2));
        }
        for (int h = hist - 1; h >= 0; h--) {
            int q = (head - 1 - h + LBFGS_M) % LBFGS_M;
            double b = 0;
            for (size_t k = 0; k < N; k++)
                b += Y[q * N + k] * d[k];
            b *= rho[q];
            for (size_t k = 0; k < N; k++)
                d[k] += S[q * N + k] * (alpha[q] - b);
        }
        double dg = 0;
        for (size_t k = 0; k < N; k++)
            dg += d[k] * g[k];
        if (!(dg < 0)) { /* not a descent direction: restart */
            for (size_t k = 0; k < N; k++)
                d[k] = -g[k];
            dg = 0;
            for (size_t k = 0; k < N; k++)
                dg -= g[k] * g[k];
            hist = 0;
        }
        /* Armijo backtracking */
        double step = 1, fn = fx;
        int ok = 0;
        for (int ls = 0; ls < 50; ls++) {
            for (size_t k = 0; k < N; k++)
                wn[k] = w[k] + step * d[k];
            fn = logit_fg(f, wn, gn);
            if (isfinite(fn) && fn <= fx + 1e-4 * step * dg) {
                ok = 1;
                break;
            }
            step *= 0.5;
        }
        if (!ok)
            break; /* no progress possible at double precision */
        double sy = 0;
        for (size_t k = 0; k < N; k++) {
            S[(size_t)head * N + k] = wn[k] - w[k];
            Y[(size_t)head * N + k] = gn[k] - g[k];
            sy += S[(size_t)head * N + k] * Y[(size_t)head * N + k];
        }
        if (sy > 1e-300) {
            rho[head] = 1 / sy;
            head = (head + 1) % LBFGS_M;
            if (hist < LBFGS_M)
                hist++;
        }
        double rel = (fx - fn) / fmax(fmax(fabs(fx), fabs(fn)), 1);
        memcpy(w, wn, N * sizeof *w);
        memcpy(g, gn, N * sizeof *g);
        fx = fn;
        if (rel <= 64 * DBL_EPSILON) {
            *converged = 1;
            it++;
            break;
        }
    }
    *iters = it;
    sl_free(mem);
    return SL_OK;
}

static sl_rc logit_fit_model(const void *params, const sl_model_info *info,
                             const sl_matrix *m, void **state, sl_err *err)
{
    const logit_params *p = params;
    int K = info->nclasses;
    logit_fit f = {.p = p, .m = m, .K = K, .rows = K > 2 ? K : 1,
                   .d = m->ncols};
    f.tmp.rows = f.rows;
    f.tmp.d = f.d;
    lin_state *s = lin_new(f.rows, f.d);
    f.z = sl_malloc((size_t)f.rows * (size_t)m->nrows * sizeof *f.z);
    sl_rc rc = SL_ENOMEM;
    if (!s || !f.z)
        goto out;
    rc = lbfgs(&f, s->w, p->max_iter, p->tol, &s->n_iter, &s->converged);
out:
    sl_free(f.z);
    if (rc != SL_OK) {
        lin_free(s);
        return sl_err_set(err, rc, "out of memory");
    }
    *state = s;
    return SL_OK;
}

static sl_rc logit_predict(const void *params, const sl_model_info *info,
                           const void *state, const sl_matrix *x,
                           sl_prediction *out, sl_err *err)
{
    const lin_state *s = state;
    int64_t n = x->nrows;
    int K = info->nclasses;
    double *z = sl_malloc((size_t)s->rows * (size_t)n * sizeof *z);
    (void)params;
    if (!z)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    lin_scores(s, x, z);
    for (int64_t i = 0; i < n; i++) {
        double *pr = out->proba + (size_t)i * (size_t)K;
        if (s->rows == 1) {
            double t = z[i];
            double p1 = t >= 0 ? 1 / (1 + exp(-t)) : exp(t) / (1 + exp(t));
            pr[0] = 1 - p1;
            pr[1] = p1;
            continue;
        }
        double mx = -INFINITY, sum = 0;
        for (int k = 0; k < K; k++)
            mx = fmax(mx, z[(size_t)k * (size_t)n + (size_t)i]);
        for (int k = 0; k < K; k++)
            sum += pr[k] = exp(z[(size_t)k * (size_t)n + (size_t)i] - mx);
        for (int k = 0; k < K; k++)
            pr[k] /= sum;
    }
    sl_free(z);
    return SL_OK;
}

const sl_model_type sl_model_logistic_regression = {
    .abi_version = SL_MODEL_ABI_VERSION,
    .name = "logistic_regression",
    .doc = "L2-regularized logistic regression (binary, or multinomial for "
           "more classes) with scikit-learn's objective and C, by L-BFGS.",
    .tasks = 1u << SL_TASK_CLASSIFICATION,
    .payload_version = 1,
    .params = logit_defs,
    .params_size = sizeof(logit_params),
    .fit = logit_fit_model,
    .predict_batch = logit_predict,
    .save = lin_save,
    .load = lin_load,
    .describe = lin_describe,
    .free_state = lin_free,
};

/* ---- linear regression ---- */
typedef struct linreg_params {
    double alpha;
    int fit_intercept;
} linreg_params;

static const sl_model_param_def linreg_defs[] = {
    {"alpha", NULL, SL_MP_FLOAT, "0", 0, 0, NULL, 0,
     offsetof(linreg_params, alpha),
     "Ridge (L2) strength; 0 is ordinary least squares."},
    {"fit_intercept", NULL, SL_MP_BOOL, "true", 0, 0, NULL, 0,
     offsetof(linreg_params, fit_intercept),
     "Fit an (unpenalized) intercept by centering the data."},
    {0}};

/* In-place Cholesky of the d x d matrix A (lower part used), pivots at or
 * below tol * the column's original diagonal are dropped (dropped[j] = 1).
 * Then solves A w = b for the kept columns; dropped ones get 0. */
static void cholesky_solve(double *A, int d, const double *b, double *w,
                           uint8_t *dropped)
{
    for (int j = 0; j < d; j++) {
        double diag0 = A[(size_t)j * d + j];
        double s = diag0;
        for (int k = 0; k < j; k++)
            s -= A[(size_t)j * d + k] * A[(size_t)j * d + k];
        if (!(s > 1e-10 * fmax(diag0, DBL_MIN))) {
            dropped[j] = 1;
            for (int i = j; i < d; i++)
                A[(size_t)i * d + j] = 0;
            continue;
        }
        double l = sqrt(s);
        A[(size_t)j * d + j] = l;
        for (int i = j + 1; i < d; i++) {
            double t = A[(size_t)i * d + j];
            for (int k = 0; k < j; k++)
                t -= A[(size_t)i * d + k] * A[(size_t)j * d + k];
            A[(size_t)i * d + j] = t / l;
        }
    }
    for (int i = 0; i < d; i++) { /* L u = b */
        if (dropped[i]) {
            w[i] = 0;
            continue;
        }
        double t = b[i];
        for (int k = 0; k < i; k++)
            t -= A[(size_t)i * d + k] * w[k];
        w[i] = t / A[(size_t)i * d + i];
    }
    for (int i = d - 1; i >= 0; i--) { /* L' w = u */
        if (dropped[i]) {
            w[i] = 0;
            continue;
        }
        double t = w[i];
        for (int k = i + 1; k < d; k++)
            t -= A[(size_t)k * d + i] * w[k];
        w[i] = t / A[(size_t)i * d + i];
    }
}

static sl_rc linreg_fit_model(const void *params, const sl_model_info *info,
                              const sl_matrix *m, void **state, sl_err *err)
{
    const linreg_params *p = params;
    int d = m->ncols;
    int64_t n = m->nrows;
    lin_state *s = lin_new(1, d);
    double *A = sl_calloc((size_t)d * (size_t)d, sizeof *A);
    double *b = sl_calloc((size_t)d, sizeof *b);
    double *mean = sl_calloc((size_t)d + 1, sizeof *mean);
    uint8_t *dropped = sl_calloc((size_t)d, 1);
    (void)info;
    if (!s || !A || !b || !mean || !dropped) {
        lin_free(s);
        s = NULL;
        goto out;
    }
    double ym = 0;
    if (p->fit_intercept) {
        for (int j = 0; j < d; j++) {
            const float *c = m->x + (size_t)j * (size_t)n;
            double t = 0;
            for (int64_t i = 0; i < n; i++)
                t += c[i];
            mean[j] = t / (double)n;
        }
        for (int64_t i = 0; i < n; i++)
            ym += m->yv[i];
        ym /= (double)n;
    }
    for (int j = 0; j < d; j++) {
        const float *cj = m->x + (size_t)j * (size_t)n;
        double t = 0;
        for (int64_t i = 0; i < n; i++)
            t += (cj[i] - mean[j]) * (m->yv[i] - ym);
        b[j] = t;
        for (int k = 0; k <= j; k++) {
            const float *ck = m->x + (size_t)k * (size_t)n;
            double u = 0;
            for (int64_t i = 0; i < n; i++)
                u += (cj[i] - mean[j]) * (ck[i] - mean[k]);
            A[(size_t)j * d + k] = u;
        }
        A[(size_t)j * d + j] += p->alpha;
    }
    cholesky_solve(A, d, b, s->w, dropped);
    double icpt = ym;
    for (int j = 0; j < d; j++)
        icpt -= mean[j] * s->w[j];
    s->w[d] = icpt;
    s->converged = 1;
out:
    sl_free(A);
    sl_free(b);
    sl_free(mean);
    sl_free(dropped);
    if (!s)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    *state = s;
    return SL_OK;
}

static sl_rc linreg_predict(const void *params, const sl_model_info *info,
                            const void *state, const sl_matrix *x,
                            sl_prediction *out, sl_err *err)
{
    (void)params;
    (void)info;
    (void)err;
    lin_scores(state, x, out->value);
    return SL_OK;
}

const sl_model_type sl_model_linear_regression = {
    .abi_version = SL_MODEL_ABI_VERSION,
    .name = "linear_regression",
    .doc = "Least squares (alpha = 0) or ridge regression by the normal "
           "equations and a Cholesky factorization.",
    .tasks = 1u << SL_TASK_REGRESSION,
    .payload_version = 1,
    .params = linreg_defs,
    .params_size = sizeof(linreg_params),
    .fit = linreg_fit_model,
    .predict_batch = linreg_predict,
    .save = lin_save,
    .load = lin_load,
    .describe = lin_describe,
    .free_state = lin_free,
};
