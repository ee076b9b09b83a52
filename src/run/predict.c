/*
 * predict.c: `sluice predict` (train.h): score a file with a registered
 * model version, and model references named on the command line.
 *
 * The version's scorer (scorer.h: transforms minus `filter`, then the
 * model, exactly as the server and the streaming runner score) runs as one
 * extra stage (a private transform plugin, "predict") behind the file
 * source of sl_run_file_job, so reading, rejects, progress and the atomic
 * output are exactly those of `sluice apply`. The input is read with the
 * training input schema minus the target (sl_scorer_source_hint); the
 * output is the transformed columns, then `prediction` and
 * `proba_<class>`.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run/internal.h"
#include "sluice/registry.h"
#include "sluice/scorer.h"
#include "sluice/train.h"

static sl_rc stage_init(void **inst, void *config, const sl_ctx *ctx, sl_err *err)
{
    (void)ctx;
    (void)err;
    *inst = config; /* the scorer, owned by sl_predict_file */
    return SL_OK;
}

static sl_rc stage_open(void *h, const sl_schema *in, sl_schema **out, sl_err *err)
{
    return sl_scorer_output_schema(h, in, out, err);
}

static sl_rc stage_process(void *h, sl_batch *in, sl_batch **out, sl_err *err)
{
    return sl_scorer_apply(h, in, out, err);
}

static const sl_plugin predict_stage = {
    .abi_version = SL_PLUGIN_ABI_VERSION,
    .name = "predict",
    .kind = SL_PLUGIN_TRANSFORM,
    .summary = "Transforms of a registered version, then its model.",
    .init = stage_init,
    .open = stage_open,
    .process = stage_process,
};

/* ---- model references --------------------------------------------------- */

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int parse_positive(const char *s)
{
    int v = 0;
    if (!*s || strlen(s) > 9)
        return 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return 0;
        v = v * 10 + (*s - '0');
    }
    return v;
}

sl_rc sl_model_ref_resolve(const char *path, int version, sl_model_ref *out, sl_err *err)
{
    char clean[SL_PATH_MAX], probe[SL_PATH_MAX + 64];
    memset(out, 0, sizeof *out);
    size_t len = strlen(path);
    while (len > 1 && path[len - 1] == '/')
        len--;
    if (len >= sizeof clean)
        return sl_err_set(err, SL_ELIMIT, "path too long: %s", path);
    snprintf(clean, sizeof clean, "%.*s", (int)len, path);
    const char *slash = strrchr(clean, '/');
    const char *base = slash ? slash + 1 : clean;
    snprintf(probe, sizeof probe, "%s/%s", clean, SL_REGISTRY_MODEL_FILE);
    if (access(probe, F_OK) == 0) {
        /* a version directory itself */
        if (version > 0)
            return sl_err_setloc(err, SL_EINVAL, clean, 0, 0,
                                 "--version needs a model directory (e.g. "
                                 "models/ml_models/NAME), not a version directory");
        snprintf(out->dir, sizeof out->dir, "%s", clean);
        out->version = parse_positive(base);
        return SL_OK;
    }
    if (!is_dir(clean))
        return sl_err_setloc(err, SL_ENOTFOUND, clean, 0, 0,
                             "no model here (expected a registry model directory such as "
                             "models/ml_models/NAME, or one of its version directories)");
    if (slash)
        snprintf(out->root, sizeof out->root, "%.*s", (int)(slash - clean), clean);
    else
        snprintf(out->root, sizeof out->root, ".");
    snprintf(out->name, sizeof out->name, "%s", base);
    int v = version;
    if (v <= 0 &&
        sl_registry_get_pointer(out->root, out->name, "blessed", &v, NULL) != SL_OK &&
        sl_registry_get_pointer(out->root, out->name, "latest", &v, NULL) != SL_OK)
        return sl_err_setloc(err, SL_ENOTFOUND, clean, 0, 0,
                             "model '%s' has no blessed or latest version (train it with "
                             "sluice train)",
                             out->name);
    out->version = v;
    sl_registry_version_dir(out->root, out->name, v, out->dir, sizeof out->dir);
    if (!is_dir(out->dir))
        return sl_err_setloc(err, SL_ENOTFOUND, out->dir, 0, 0, "model '%s' has no version %d",
                             out->name, v);
    return SL_OK;
}

/* ---- sl_predict_file ---------------------------------------------------- */

sl_rc sl_predict_file(const char *dir, const char *in_path, const char *out_path,
                      const char *on_error, const char *rejects_path,
                      const sl_run_options *opt, sl_run_summary *sum, sl_err *err)
{
    sl_scorer *s = NULL;
    sl_inst stage;
    sl_schema *hint = NULL;
    sl_scorer_options so = {.keep = SL_SCORER_KEEP_TRANSFORMED};
    sl_rc rc;
    memset(&stage, 0, sizeof stage);
    memset(sum, 0, sizeof *sum);
    if ((rc = sl_scorer_open(dir, &so, &s, err)) != SL_OK)
        goto out;
    if (sl_scorer_transform_path(s))
        snprintf(sum->transform_path, sizeof sum->transform_path, "%s",
                 sl_scorer_transform_path(s));
    if ((rc = sl_scorer_source_hint(s, &hint, err)) != SL_OK)
        goto out;
    sl_ctx ctx = {.quiet = opt->quiet};
    if ((rc = sl_inst_init(&stage, &predict_stage, s, NULL, &ctx, err)) != SL_OK)
        goto out;
    rc = sl_run_file_job(in_path, out_path, hint, &stage, 1, on_error, rejects_path, opt,
                         "predict", sum, err);
out:
    {
        sl_err ignored;
        sl_err_clear(&ignored);
        sl_inst_close(&stage, &ignored);
        sl_inst_destroy(&stage);
    }
    sl_schema_free(hint);
    sl_scorer_close(s);
    return rc;
}
