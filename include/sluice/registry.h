/*
 * registry.h: the versioned model registry on disk.
 *
 *   <root>/<name>/                       e.g. models/ml_models/quickstart/
 *       latest                           text: the newest version ("3\n")
 *       blessed                          text: the version to serve
 *       <version>/                       1, 2, 3, ...
 *           model_artifacts/model.slm    the fitted model (model.h)
 *           transform.json               the fitted transform chain
 *           model_config.yaml            the spec section that trained it
 *           model_metrics/metrics.json   evaluation metrics
 *           evaluation_results/<name>_<version>.csv
 *
 * Versions are created by reserving the next free number with mkdir
 * (atomic, so two trainers never get the same one) and filled before a
 * pointer names them. Pointers are replaced atomically (write a temporary
 * file, fsync, rename), so a reader sees the old or the new version, never
 * a torn one; the server watches `blessed`.
 */
#ifndef SLUICE_REGISTRY_H
#define SLUICE_REGISTRY_H

#include <stddef.h>

#include "error.h"

#define SL_REGISTRY_MODEL_FILE "model_artifacts/model.slm"
#define SL_REGISTRY_TRANSFORM_FILE "transform.json"
#define SL_REGISTRY_METRICS_FILE "model_metrics/metrics.json"
#define SL_REGISTRY_CONFIG_FILE "model_config.yaml"

/* Create <root>/<name>/<v>/ with its subdirectories, v = 1 + the highest
 * existing version. *version gets v; dir (size n) the directory path. */
sl_rc sl_registry_new_version(const char *root, const char *name,
                              int *version, char *dir, size_t n, sl_err *err);

/* Point `pointer` ("latest" or "blessed") at version, atomically. */
sl_rc sl_registry_set_pointer(const char *root, const char *name,
                              const char *pointer, int version, sl_err *err);

/* Version a pointer names; SL_ENOTFOUND when the pointer does not exist. */
sl_rc sl_registry_get_pointer(const char *root, const char *name,
                              const char *pointer, int *version, sl_err *err);

/* The directory of a version: <root>/<name>/<v>. */
int sl_registry_version_dir(const char *root, const char *name, int version,
                            char *dir, size_t n);

/* Versions present, ascending (caller sl_frees *versions). */
sl_rc sl_registry_list(const char *root, const char *name, int **versions,
                       int *count, sl_err *err);

/* Model names under root, sorted (caller frees each and the array with
 * sl_free). */
sl_rc sl_registry_models(const char *root, char ***names, int *count,
                         sl_err *err);

#endif
