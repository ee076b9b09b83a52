/*
 * mlp.c: multi-layer perceptron ("mlp") on OpenBLAS sgemm.
 *
 * The network is Dense(h1, act) -> Dropout -> ... -> Dense(out): out is a
 * softmax over the classes (categorical cross-entropy) for classification
 * and one linear unit (mean squared error) for regression. The default is
 * the seed documents' Keras model: Dense 64 relu, Dropout 0.5, Dense 32
 * relu, Dropout 0.5, Dense softmax; Adam (lr 0.001, beta 0.9 / 0.999,
 * epsilon 1e-7, Keras' bias-corrected step), 10 epochs of shuffled
 * mini-batches of 32, Glorot-uniform weights and zero biases.
 *
 * Layout: activations are row-major (batch x units) so each layer is one
 * sgemm forward and two backward; weights are (in x out) row-major. The
 * training matrix is copied to row-major once, so a mini-batch is a
 * gather of contiguous rows.
 *
 * Determinism: the initial weights, every epoch's shuffle and every dropout
 * mask come from streams of random_state; the loop itself is sequential,
 * so a model is reproducible for a given OpenBLAS build and thread count
 * (OpenBLAS picks its blocking by size, not by timing).
 */
#include <math.h>
#include <string.h>

#include <cblas.h>
#include <jansson.h>

#include "ml_internal.h"
#include "sluice/mem.h"

#define MAX_LAYERS 16
#define MAX_UNITS 65536

enum { ACT_RELU, ACT_TANH, ACT_SIGMOID };
enum { OPT_ADAM, OPT_SGD };

typedef struct mlp_params {
    char hidden_layers[SL_MP_STR_MAX];
    int activation;
    double dropout;
    int optimizer;
    double learning_rate;
    double momentum;
    int64_t epochs;
    int64_t batch_size;
    int64_t random_state;
    /* resolved by check() */
    int nhidden;
    int hidden[MAX_LAYERS];
} mlp_params;

#define P(f) offsetof(mlp_params, f)
static const sl_model_param_def mlp_defs[] = {
    {"hidden_layers", NULL, SL_MP_STR, "64,32", 0, 0, NULL, 0,
     P(hidden_layers), "Units of each hidden layer, comma-separated (\"\" or "
     "none for no hidden layer)."},
    {"activation", NULL, SL_MP_ENUM, "relu", 0, 0, "relu|tanh|sigmoid", 0,
     P(activation), "Activation of the hidden layers."},
    {"dropout", NULL, SL_MP_FLOAT, "0.5", 0, 0.95, NULL, 0, P(dropout),
     "Dropout rate after each hidden layer (training only)."},
    {"optimizer", NULL, SL_MP_ENUM, "adam", 0, 0, "adam|sgd", 0, P(optimizer),
     "adam, or sgd with momentum."},
    {"learning_rate", "lr", SL_MP_FLOAT, "0.001", 0, 10, NULL, SL_MP_MIN_OPEN,
     P(learning_rate), "Step size."},
    {"momentum", NULL, SL_MP_FLOAT, "0.9", 0, 0.999, NULL, 0, P(momentum),
     "Momentum of sgd."},
    {"epochs", NULL, SL_MP_INT, "10", 1, 100000, NULL, 0, P(epochs),
     "Passes over the training data."},
    {"batch_size", NULL, SL_MP_INT, "32", 1, 1000000, NULL, 0, P(batch_size),
     "Rows per mini-batch."},
    {"random_state", "seed", SL_MP_INT, "42", 0, 9.2e18, NULL, 0,
     P(random_state), "Seed of the initial weights, shuffles and dropout."},
    {0}};
#undef P

static sl_rc mlp_check(void *params, sl_task task, sl_err *err)
{
    mlp_params *p = params;
    (void)task;
    sl_rc rc = sl_parse_int_list("hidden_layers", p->hidden_layers, p->hidden,
                                 MAX_LAYERS, MAX_UNITS, &p->nhidden, err);
    if (rc != SL_OK)
        sl_err_prefix(err, "model 'mlp'");
    return rc;
}

typedef struct layer {
    int in, out;
    float *w; /* in * out */
    float *b; /* out */
} layer;

typedef struct mlp_state {
    int nl; /* dense layers, the output one included */
    layer L[MAX_LAYERS + 1];
    double loss; /* mean training loss of the last epoch */
} mlp_state;

static void mlp_free(void *state)
{
    mlp_state *s = state;
    if (!s)
        return;
    for (int l = 0; l < s->nl; l++) {
        sl_free(s->L[l].w);
        sl_free(s->L[l].b);
    }
    sl_free(s);
}

/* Layer sizes from the parameters: sizes[0] = features ... last = outputs. */
static int layer_sizes(const mlp_params *p, const sl_model_info *info,
                       int *sizes)
{
    int n = 0;
    sizes[n++] = info->nfeatures;
    for (int h = 0; h < p->nhidden; h++)
        sizes[n++] = p->hidden[h];
    sizes[n++] = info->task == SL_TASK_CLASSIFICATION ? info->nclasses : 1;
    return n - 1; /* dense layers */
}

static mlp_state *mlp_alloc(const mlp_params *p, const sl_model_info *info)
{
    int sizes[MAX_LAYERS + 2];
    mlp_state *s = sl_calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->nl = layer_sizes(p, info, sizes);
    for (int l = 0; l < s->nl; l++) {
        layer *L = &s->L[l];
        L->in = sizes[l];
        L->out = sizes[l + 1];
        L->w = sl_calloc((size_t)L->in * (size_t)L->out, sizeof *L->w);
        L->b = sl_calloc((size_t)L->out, sizeof *L->b);
        if (!L->w || !L->b) {
            mlp_free(s);
            return NULL;
        }
    }
    return s;
}

static void activate(int act, float *z, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float v = z[i];
        z[i] = act == ACT_RELU   ? (v > 0 ? v : 0)
               : act == ACT_TANH ? tanhf(v)
                                 : 1 / (1 + expf(-v));
    }
}

static void softmax_rows(float *z, int rows, int k)
{
    for (int r = 0; r < rows; r++) {
        float *v = z + (size_t)r * (size_t)k, mx = v[0], s = 0;
        for (int c = 1; c < k; c++)
            mx = fmaxf(mx, v[c]);
        for (int c = 0; c < k; c++)
            s += v[c] = expf(v[c] - mx);
        for (int c = 0; c < k; c++)
            v[c] /= s;
    }
}

/* Forward pass of `rows` rows x (row-major) through every layer; acts[l]
 * holds the output of layer l (rows x out). masks: dropout masks per
 * hidden layer (scaled keep factors) or NULL for inference. */
static void forward(const mlp_state *s, const mlp_params *p, int task_cls,
                    const float *x, int rows, float **acts, float **masks)
{
    const float *in = x;
    for (int l = 0; l < s->nl; l++) {
        const layer *L = &s->L[l];
        float *z = acts[l];
        for (int r = 0; r < rows; r++)
            memcpy(z + (size_t)r * (size_t)L->out, L->b,
                   (size_t)L->out * sizeof *z);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, L->out,
                    L->in, 1.0f, in, L->in, L->w, L->out, 1.0f, z, L->out);
        size_t n = (size_t)rows * (size_t)L->out;
        if (l < s->nl - 1) {
            activate(p->activation, z, n);
            if (masks)
                for (size_t i = 0; i < n; i++)
                    z[i] *= masks[l][i];
        } else if (task_cls) {
            softmax_rows(z, rows, L->out);
        }
        in = z;
    }
}

typedef struct opt_state {
    float *m, *v; /* per parameter, same layout as the weights then bias */
} opt_state;

/* One optimizer step on a parameter block. */
static void opt_step(const mlp_params *p, int64_t t, float *w, const float *g,
                     float *m, float *v, size_t n)
{
    if (p->optimizer == OPT_SGD) {
        float mu = (float)p->momentum, lr = (float)p->learning_rate;
        for (size_t i = 0; i < n; i++) {
            m[i] = mu * m[i] - lr * g[i];
            w[i] += m[i];
        }
        return;
    }
    const double b1 = 0.9, b2 = 0.999;
    float alpha = (float)(p->learning_rate * sqrt(1 - pow(b2, (double)t)) /
                          (1 - pow(b1, (double)t)));
    for (size_t i = 0; i < n; i++) {
        m[i] = (float)b1 * m[i] + (float)(1 - b1) * g[i];
        v[i] = (float)b2 * v[i] + (float)(1 - b2) * g[i] * g[i];
        w[i] -= alpha * m[i] / (sqrtf(v[i]) + 1e-7f);
    }
}

typedef struct trainer {
    int max_units;
    float *xb;           /* batch x features */
    float *acts[MAX_LAYERS + 1];
    float *masks[MAX_LAYERS + 1];
    float *delta, *delta2; /* batch x max_units */
    float *gw[MAX_LAYERS + 1], *gb[MAX_LAYERS + 1];
    float *mw[MAX_LAYERS + 1], *vw[MAX_LAYERS + 1];
    float *mb[MAX_LAYERS + 1], *vb[MAX_LAYERS + 1];
    float *rows;         /* the training matrix, row-major */
    int64_t *order;
} trainer;

static void trainer_free(trainer *T, int nl)
{
    sl_free(T->xb);
    sl_free(T->delta);
    sl_free(T->delta2);
    sl_free(T->rows);
    sl_free(T->order);
    for (int l = 0; l < nl; l++) {
        sl_free(T->acts[l]);
        sl_free(T->masks[l]);
        sl_free(T->gw[l]);
        sl_free(T->gb[l]);
        sl_free(T->mw[l]);
        sl_free(T->vw[l]);
        sl_free(T->mb[l]);
        sl_free(T->vb[l]);
    }
}

static sl_rc trainer_init(trainer *T, const mlp_state *s, const sl_matrix *m,
                          int B)
{
    memset(T, 0, sizeof *T);
    size_t b = (size_t)B, F = (size_t)m->ncols, n = (size_t)m->nrows;
    int mu = m->ncols;
    for (int l = 0; l < s->nl; l++)
        mu = s->L[l].out > mu ? s->L[l].out : mu;
    T->max_units = mu;
    T->xb = sl_malloc(b * F * sizeof *T->xb);
    T->delta = sl_malloc(b * (size_t)mu * sizeof *T->delta);
    T->delta2 = sl_malloc(b * (size_t)mu * sizeof *T->delta2);
    T->rows = sl_malloc(n * F * sizeof *T->rows);
    T->order = sl_malloc(n * sizeof *T->order);
    if (!T->xb || !T->delta || !T->delta2 || !T->rows || !T->order)
        return SL_ENOMEM;
    for (int l = 0; l < s->nl; l++) {
        size_t nw = (size_t)s->L[l].in * (size_t)s->L[l].out;
        size_t no = (size_t)s->L[l].out;
        T->acts[l] = sl_malloc(b * no * sizeof(float));
        T->masks[l] = sl_malloc(b * no * sizeof(float));
        T->gw[l] = sl_malloc(nw * sizeof(float));
        T->gb[l] = sl_malloc(no * sizeof(float));
        T->mw[l] = sl_calloc(nw, sizeof(float));
        T->vw[l] = sl_calloc(nw, sizeof(float));
        T->mb[l] = sl_calloc(no, sizeof(float));
        T->vb[l] = sl_calloc(no, sizeof(float));
        if (!T->acts[l] || !T->masks[l] || !T->gw[l] || !T->gb[l] ||
            !T->mw[l] || !T->vw[l] || !T->mb[l] || !T->vb[l])
            return SL_ENOMEM;
    }
    for (size_t j = 0; j < F; j++)
        for (size_t i = 0; i < n; i++)
            T->rows[i * F + j] = m->x[j * n + i];
    return SL_OK;
}

/* One mini-batch: forward, loss, backward, update. Returns the batch's
 * summed loss. */
static double train_batch(mlp_state *s, const mlp_params *p, trainer *T,
                          const sl_matrix *m, const int64_t *rows, int B,
                          int64_t step, sl_rng *rng)
{
    const int F = m->ncols, cls = m->task == SL_TASK_CLASSIFICATION;
    const int nl = s->nl;
    float keep = (float)(1 - p->dropout);
    for (int r = 0; r < B; r++)
        memcpy(T->xb + (size_t)r * (size_t)F, T->rows + (size_t)rows[r] * (size_t)F,
               (size_t)F * sizeof(float));
    for (int l = 0; l < nl - 1; l++) {
        size_t n = (size_t)B * (size_t)s->L[l].out;
        for (size_t i = 0; i < n; i++)
            T->masks[l][i] = p->dropout > 0 ? (sl_rng_double(rng) < keep
                                                   ? 1.0f / keep
                                                   : 0.0f)
                                            : 1.0f;
    }
    forward(s, p, cls, T->xb, B, T->acts, T->masks);
    /* output delta (per-row loss gradient / B) and loss */
    const layer *O = &s->L[nl - 1];
    float *out = T->acts[nl - 1], *d = T->delta;
    double loss = 0;
    for (int r = 0; r < B; r++) {
        if (cls) {
            int y = m->y[rows[r]];
            for (int c = 0; c < O->out; c++) {
                float pr = out[(size_t)r * (size_t)O->out + (size_t)c];
                d[(size_t)r * (size_t)O->out + (size_t)c] =
                    (pr - (c == y)) / (float)B;
            }
            loss -= log(fmax(out[(size_t)r * (size_t)O->out + (size_t)y], 1e-7));
        } else {
            double e = out[r] - m->yv[rows[r]];
            d[r] = (float)(2 * e / B);
            loss += e * e;
        }
    }
    /* backward: d holds dL/dz of layer l */
    for (int l = nl - 1; l >= 0; l--) {
        const layer *L = &s->L[l];
        const float *in = l > 0 ? T->acts[l - 1] : T->xb;
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, L->in, L->out, B,
                    1.0f, in, L->in, d, L->out, 0.0f, T->gw[l], L->out);
        for (int c = 0; c < L->out; c++) {
            float t = 0;
            for (int r = 0; r < B; r++)
                t += d[(size_t)r * (size_t)L->out + (size_t)c];
            T->gb[l][c] = t;
        }
        if (l > 0) {
            float *d2 = d == T->delta ? T->delta2 : T->delta;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, L->in,
                        L->out, 1.0f, d, L->out, L->w, L->out, 0.0f, d2, L->in);
            size_t n = (size_t)B * (size_t)L->in;
            for (size_t i = 0; i < n; i++)
                d2[i] *= T->masks[l - 1][i];
            /* the mask was applied after the activation: undo its scale
             * before taking act'(z) from the stored (masked) output */
            const float *a = T->acts[l - 1];
            for (size_t i = 0; i < n; i++) {
                float mk = T->masks[l - 1][i];
                float v = mk > 0 ? a[i] / mk : 0;
                d2[i] *= p->activation == ACT_RELU   ? (v > 0 ? 1.0f : 0.0f)
                         : p->activation == ACT_TANH ? 1 - v * v
                                                     : v * (1 - v);
            }
            d = d2;
        }
    }
    for (int l = 0; l < nl; l++) {
        layer *L = &s->L[l];
        opt_step(p, step, L->w, T->gw[l], T->mw[l], T->vw[l],
                 (size_t)L->in * (size_t)L->out);
        opt_step(p, step, L->b, T->gb[l], T->mb[l], T->vb[l], (size_t)L->out);
    }
    return loss;
}

static sl_rc mlp_fit(const void *params, const sl_model_info *info,
                     const sl_matrix *m, void **state, sl_err *err)
{
    const mlp_params *p = params;
    int64_t n = m->nrows;
    int B = (int)(p->batch_size < n ? p->batch_size : n);
    trainer T;
    sl_rc rc = SL_ENOMEM;
    mlp_state *s = mlp_alloc(p, info);
    memset(&T, 0, sizeof T);
    if (!s || trainer_init(&T, s, m, B) != SL_OK)
        goto out;
    sl_rng rng;
    sl_rng_seed(&rng, (uint64_t)p->random_state, 0);
    for (int l = 0; l < s->nl; l++) { /* Glorot uniform */
        layer *L = &s->L[l];
        double lim = sqrt(6.0 / (L->in + L->out));
        for (size_t i = 0; i < (size_t)L->in * (size_t)L->out; i++)
            L->w[i] = (float)((2 * sl_rng_double(&rng) - 1) * lim);
    }
    for (int64_t i = 0; i < n; i++)
        T.order[i] = i;
    int64_t step = 0;
    for (int64_t ep = 0; ep < p->epochs; ep++) {
        sl_rng er;
        sl_rng_seed(&er, (uint64_t)p->random_state, (uint64_t)ep + 1);
        for (int64_t i = n - 1; i > 0; i--) {
            int64_t j = (int64_t)sl_rng_below(&er, (uint64_t)i + 1);
            int64_t t = T.order[i];
            T.order[i] = T.order[j];
            T.order[j] = t;
        }
        double loss = 0;
        for (int64_t a = 0; a < n; a += B) {
            int rows = (int)(n - a < B ? n - a : B);
            loss += train_batch(s, p, &T, m, T.order + a, rows, ++step, &er);
        }
        s->loss = loss / (double)n;
    }
    if (!isfinite(s->loss)) {
        rc = sl_err_set(err, SL_EINVAL,
                        "training diverged (loss is not finite); lower "
                        "learning_rate or scale the features");
        goto out;
    }
    rc = SL_OK;
out:
    trainer_free(&T, s ? s->nl : 0);
    if (rc == SL_ENOMEM)
        sl_err_set(err, rc, "out of memory");
    if (rc != SL_OK)
        mlp_free(s);
    else
        *state = s;
    return rc;
}

#define PRED_ROWS 1024

static sl_rc mlp_predict(const void *params, const sl_model_info *info,
                         const void *state, const sl_matrix *x,
                         sl_prediction *out, sl_err *err)
{
    const mlp_params *p = params;
    const mlp_state *s = state;
    int64_t n = x->nrows;
    int F = x->ncols, cls = info->task == SL_TASK_CLASSIFICATION;
    int mu = 1;
    for (int l = 0; l < s->nl; l++)
        mu = s->L[l].out > mu ? s->L[l].out : mu;
    float *xb = sl_malloc((size_t)PRED_ROWS * (size_t)F * sizeof *xb);
    float *acts[MAX_LAYERS + 1] = {0};
    sl_rc rc = xb ? SL_OK : SL_ENOMEM;
    for (int l = 0; rc == SL_OK && l < s->nl; l++)
        if (!(acts[l] = sl_malloc((size_t)PRED_ROWS * (size_t)s->L[l].out *
                                  sizeof(float))))
            rc = SL_ENOMEM;
    for (int64_t a = 0; rc == SL_OK && a < n; a += PRED_ROWS) {
        int rows = (int)(n - a < PRED_ROWS ? n - a : PRED_ROWS);
        for (int j = 0; j < F; j++)
            for (int r = 0; r < rows; r++)
                xb[(size_t)r * (size_t)F + (size_t)j] =
                    x->x[(size_t)j * (size_t)n + (size_t)(a + r)];
        forward(s, p, cls, xb, rows, acts, NULL);
        const float *o = acts[s->nl - 1];
        int k = s->L[s->nl - 1].out;
        for (int r = 0; r < rows; r++) {
            if (cls)
                for (int c = 0; c < k; c++)
                    out->proba[(size_t)(a + r) * (size_t)k + (size_t)c] =
                        o[(size_t)r * (size_t)k + (size_t)c];
            else
                out->value[a + r] = o[r];
        }
    }
    sl_free(xb);
    for (int l = 0; l < s->nl; l++)
        sl_free(acts[l]);
    if (rc != SL_OK)
        sl_err_set(err, rc, "out of memory");
    return rc;
}

/* ---- payload: u32 layers, per layer u32 in, u32 out, f32 w[in*out],
 * f32 b[out]; f64 loss ---- */
static sl_rc mlp_save(const void *params, const sl_model_info *info,
                      const void *state, sl_wbuf *w)
{
    const mlp_state *s = state;
    (void)params;
    (void)info;
    sl_wbuf_u32(w, (uint32_t)s->nl);
    for (int l = 0; l < s->nl; l++) {
        const layer *L = &s->L[l];
        sl_wbuf_u32(w, (uint32_t)L->in);
        sl_wbuf_u32(w, (uint32_t)L->out);
        sl_wbuf_f32s(w, L->w, (size_t)L->in * (size_t)L->out);
        sl_wbuf_f32s(w, L->b, (size_t)L->out);
    }
    sl_wbuf_f64(w, s->loss);
    return SL_OK;
}

static sl_rc mlp_load(const void *params, const sl_model_info *info,
                      uint32_t version, sl_rbuf *r, void **state, sl_err *err)
{
    const mlp_params *p = params;
    int sizes[MAX_LAYERS + 2];
    uint32_t nl, in, out;
    sl_rc rc;
    (void)version;
    int want = layer_sizes(p, info, sizes);
    if ((rc = sl_rbuf_u32(r, &nl)) != SL_OK)
        return rc;
    if ((int64_t)nl != want)
        return sl_rbuf_fail(r, "%u layers, the parameters say %d", nl, want);
    /* check every shape against the parameters and the bytes left before
     * allocating anything */
    size_t need = 8;
    for (int l = 0; l < want; l++)
        need += 8 + 4 * ((size_t)sizes[l] * (size_t)sizes[l + 1] +
                         (size_t)sizes[l + 1]);
    if (need > r->n - r->pos)
        return sl_rbuf_fail(r, "layers truncated");
    mlp_state *s = mlp_alloc(p, info);
    if (!s)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    for (int l = 0; l < want; l++) {
        layer *L = &s->L[l];
        sl_rbuf_u32(r, &in);
        sl_rbuf_u32(r, &out);
        if ((int)in != L->in || (int)out != L->out) {
            rc = sl_rbuf_fail(r, "layer %d is %ux%u, expected %dx%d", l, in,
                              out, L->in, L->out);
            mlp_free(s);
            return rc;
        }
        sl_rbuf_f32s(r, L->w, (size_t)in * out);
        sl_rbuf_f32s(r, L->b, out);
        for (size_t i = 0; i < (size_t)in * out; i++)
            if (!isfinite(L->w[i])) {
                mlp_free(s);
                return sl_rbuf_fail(r, "weight is not finite");
            }
        for (size_t i = 0; i < out; i++)
            if (!isfinite(L->b[i])) {
                mlp_free(s);
                return sl_rbuf_fail(r, "bias is not finite");
            }
    }
    sl_rbuf_f64(r, &s->loss);
    *state = s;
    return SL_OK;
}

static sl_rc mlp_describe(const void *params, const sl_model_info *info,
                          const void *state, json_t *o)
{
    const mlp_state *s = state;
    (void)params;
    (void)info;
    json_t *units = json_array();
    int ok = units != NULL;
    int64_t np = 0;
    for (int l = 0; ok && l < s->nl; l++) {
        ok = json_array_append_new(units, json_integer(s->L[l].out)) == 0;
        np += (int64_t)s->L[l].in * s->L[l].out + s->L[l].out;
    }
    ok = ok && json_object_set(o, "layer_units", units) == 0 &&
         json_object_set_new(o, "n_parameters", json_integer(np)) == 0 &&
         json_object_set_new(o, "final_loss", json_real(s->loss)) == 0;
    json_decref(units);
    return ok ? SL_OK : SL_ENOMEM;
}

const sl_model_type sl_model_mlp = {
    .abi_version = SL_MODEL_ABI_VERSION,
    .name = "mlp",
    .doc = "Multi-layer perceptron (dense layers, dropout, Adam or SGD with "
           "momentum) on OpenBLAS.",
    .tasks = (1u << SL_TASK_CLASSIFICATION) | (1u << SL_TASK_REGRESSION),
    .payload_version = 1,
    .params = mlp_defs,
    .params_size = sizeof(mlp_params),
    .check = mlp_check,
    .fit = mlp_fit,
    .predict_batch = mlp_predict,
    .save = mlp_save,
    .load = mlp_load,
    .describe = mlp_describe,
    .free_state = mlp_free,
};
