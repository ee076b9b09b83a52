/*
 * forest.h: what forest.c (parameters, fitting, OOB, prediction, files)
 * and forest_build.c (growing one tree) share.
 */
#ifndef SLUICE_ML_FOREST_H
#define SLUICE_ML_FOREST_H

#include "ml_internal.h"

enum { CRIT_AUTO, CRIT_GINI, CRIT_ENTROPY, CRIT_LOG_LOSS, CRIT_SQUARED };
enum { CW_NONE, CW_BALANCED };

typedef struct rf_params {
    int64_t n_estimators;
    int criterion;
    int64_t max_depth; /* 0 = none */
    int64_t min_samples_split;
    int64_t min_samples_leaf;
    char max_features[SL_MP_STR_MAX];
    int bootstrap;
    int oob_score;
    int class_weight;
    int64_t random_state;
    int64_t n_jobs;
    int64_t max_bins;
    double min_impurity_decrease;
} rf_params;

/* One fit: inputs shared read-only by the tree tasks, outputs indexed by
 * tree. */
typedef struct rf_fit {
    const rf_params *p;
    const sl_matrix *m;
    const sl_bins *bins;
    int K;            /* classes, 0 for regression */
    int F;
    int64_t mtry;     /* features tried per node */
    const double *cw; /* class weights (K) */
    sl_tree *trees;   /* ntrees, filled by sl_rf_build_tree */
    double *imp;      /* ntrees * F, per-tree normalized importances */
} rf_fit;

/* Grows tree ti of f (its random stream is (random_state, ti + 1)).
 * Returns SL_OK or SL_ENOMEM. */
sl_rc sl_rf_build_tree(rf_fit *f, int64_t ti);

/* The bootstrap counts: the first draws of a tree's stream, so the OOB
 * pass can replay them. */
void sl_rf_bootstrap(sl_rng *rng, int64_t n, uint32_t *counts);

#endif
