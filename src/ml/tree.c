/*
 * tree.c: the decision tree representation shared by the random forest and
 * the boosted trees: a node array (root at 0) and a float array of leaf
 * values, `width` per leaf (class probabilities for a forest classifier,
 * one value otherwise).
 *
 * Invariant (built by the learners, checked by sl_tree_load): a child's
 * index is greater than its parent's, so every walk from the root ends at
 * a leaf within nnodes steps, even for a tree read from a corrupt file.
 */
#include <math.h>
#include <string.h>

#include "ml_internal.h"
#include "sluice/mem.h"

#define MAX_TREE_NODES (1 << 30)

void sl_tree_clear(sl_tree *t)
{
    sl_free(t->nodes);
    sl_free(t->values);
    sl_free(t->tbin);
    memset(t, 0, sizeof *t);
}

int32_t sl_tree_add_node(sl_tree *t)
{
    if (t->nnodes >= MAX_TREE_NODES)
        return -1;
    if (t->nnodes == t->nodes_cap) {
        size_t cap = (size_t)t->nodes_cap, cap2 = (size_t)t->nodes_cap;
        void *p = t->nodes, *q = t->tbin;
        if (sl_grow(&p, &cap, (size_t)t->nnodes + 1, sizeof *t->nodes) != 0)
            return -1;
        t->nodes = p;
        if (sl_grow(&q, &cap2, (size_t)t->nnodes + 1, 1) != 0)
            return -1;
        t->tbin = q;
        t->nodes_cap = (int32_t)(cap < cap2 ? cap : cap2);
    }
    int32_t k = t->nnodes++;
    t->nodes[k] = (sl_tree_node){.feature = -1};
    t->tbin[k] = 0;
    return k;
}

sl_rc sl_tree_set_leaf(sl_tree *t, int32_t node, const float *v, int width)
{
    if (t->nvalues > MAX_TREE_NODES - width)
        return SL_ENOMEM;
    if (t->nvalues + width > t->values_cap) {
        size_t cap = (size_t)t->values_cap;
        void *p = t->values;
        if (sl_grow(&p, &cap, (size_t)t->nvalues + (size_t)width,
                    sizeof *t->values) != 0)
            return SL_ENOMEM;
        t->values = p;
        t->values_cap = (int32_t)cap;
    }
    t->nodes[node].feature = -1;
    t->nodes[node].threshold = 0;
    t->nodes[node].left = t->nvalues;
    t->nodes[node].right = 0;
    memcpy(t->values + t->nvalues, v, (size_t)width * sizeof *v);
    t->nvalues += width;
    return SL_OK;
}

void sl_tree_finish(sl_tree *t)
{
    sl_free(t->tbin);
    t->tbin = NULL;
    if (t->nnodes > 0 && t->nnodes < t->nodes_cap) {
        void *p = sl_realloc(t->nodes, (size_t)t->nnodes * sizeof *t->nodes);
        if (p) {
            t->nodes = p;
            t->nodes_cap = t->nnodes;
        }
    }
    if (t->nvalues > 0 && t->nvalues < t->values_cap) {
        void *p = sl_realloc(t->values, (size_t)t->nvalues * sizeof *t->values);
        if (p) {
            t->values = p;
            t->values_cap = t->nvalues;
        }
    }
}

void sl_tree_save(const sl_tree *t, sl_wbuf *w)
{
    sl_wbuf_u64(w, (uint64_t)t->nnodes);
    for (int32_t k = 0; k < t->nnodes; k++) {
        const sl_tree_node *n = &t->nodes[k];
        sl_wbuf_i32(w, n->feature);
        sl_wbuf_f32(w, n->threshold);
        sl_wbuf_i32(w, n->left);
        sl_wbuf_i32(w, n->right);
    }
    sl_wbuf_u64(w, (uint64_t)t->nvalues);
    sl_wbuf_f32s(w, t->values, (size_t)t->nvalues);
}

sl_rc sl_tree_load(sl_rbuf *r, int nfeatures, int width, sl_tree *t)
{
    uint64_t nn, nv;
    sl_rc rc;
    memset(t, 0, sizeof *t);
    if ((rc = sl_rbuf_count(r, "tree node count", MAX_TREE_NODES, 16, &nn)))
        return rc;
    if (nn == 0)
        return sl_rbuf_fail(r, "empty tree");
    t->nodes = sl_malloc((size_t)nn * sizeof *t->nodes);
    if (!t->nodes)
        return sl_err_set(r->err, SL_ENOMEM, "out of memory");
    t->nnodes = t->nodes_cap = (int32_t)nn;
    for (uint64_t k = 0; k < nn; k++) {
        sl_tree_node *n = &t->nodes[k];
        sl_rbuf_i32(r, &n->feature);
        sl_rbuf_f32(r, &n->threshold);
        sl_rbuf_i32(r, &n->left);
        sl_rbuf_i32(r, &n->right); /* sized by the count check above */
    }
    if ((rc = sl_rbuf_count(r, "tree value count", MAX_TREE_NODES, 4, &nv)))
        goto fail;
    t->values = sl_malloc(((size_t)nv + 1) * sizeof *t->values);
    if (!t->values) {
        rc = sl_err_set(r->err, SL_ENOMEM, "out of memory");
        goto fail;
    }
    t->nvalues = t->values_cap = (int32_t)nv;
    if ((rc = sl_rbuf_f32s(r, t->values, (size_t)nv)))
        goto fail;
    for (uint64_t k = 0; k < nn; k++) {
        const sl_tree_node *n = &t->nodes[k];
        if (n->feature < 0) {
            if (n->feature != -1 || n->left < 0 ||
                (int64_t)n->left + width > (int64_t)nv) {
                rc = sl_rbuf_fail(r, "tree leaf %llu out of range",
                                  (unsigned long long)k);
                goto fail;
            }
        } else if (n->feature >= nfeatures || isnan(n->threshold) ||
                   n->left <= (int32_t)k || n->right <= (int32_t)k ||
                   (uint64_t)n->left >= nn || (uint64_t)n->right >= nn) {
            rc = sl_rbuf_fail(r, "tree node %llu is inconsistent",
                              (unsigned long long)k);
            goto fail;
        }
    }
    for (uint64_t i = 0; i < nv; i++) {
        if (!isfinite(t->values[i])) {
            rc = sl_rbuf_fail(r, "tree value %llu is not finite",
                              (unsigned long long)i);
            goto fail;
        }
    }
    return SL_OK;
fail:
    sl_tree_clear(t);
    return rc;
}
