/*
 * models_cmd.c: `sluice models list|show|diff`, read-only views of the
 * registry (registry.h) built from each version's metrics.json and model
 * file.
 *
 *   sluice models list [--registry DIR]
 *   sluice models show NAME [--version N] [--registry DIR]
 *   sluice models diff NAME V1 V2 [--registry DIR]
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/train_cmd.h"
#include "sluice/mem.h"
#include "sluice/model.h"
#include "sluice/registry.h"

static const char *registry_of(const sl_cli_args *a)
{
    return a->registry ? a->registry : SL_CLI_REGISTRY_DEFAULT;
}

static int pointer(const char *root, const char *name, const char *which)
{
    int v = 0;
    if (sl_registry_get_pointer(root, name, which, &v, NULL) != SL_OK)
        return 0;
    return v;
}

/* metrics.json of a version, or NULL (err says why). */
static json_t *load_metrics(const char *root, const char *name, int version, sl_err *err)
{
    char dir[4096], path[4200];
    json_error_t je;
    sl_registry_version_dir(root, name, version, dir, sizeof dir);
    snprintf(path, sizeof path, "%s/%s", dir, SL_REGISTRY_METRICS_FILE);
    json_t *j = json_load_file(path, 0, &je);
    if (!j)
        sl_err_setloc(err, je.line > 0 ? SL_EPARSE : SL_ENOTFOUND, path,
                      je.line > 0 ? je.line : 0, 0, "cannot read metrics: %s", je.text);
    return j;
}

static void version_text(int v, char *buf, size_t n)
{
    if (v > 0)
        snprintf(buf, n, "%d", v);
    else
        snprintf(buf, n, "-");
}

/* "auc=0.9312 (v2)" from the blessed (else latest) version. */
static void key_metric_text(const char *root, const char *name, int blessed, int latest,
                            char *buf, size_t n)
{
    int v = blessed ? blessed : latest;
    snprintf(buf, n, "-");
    if (!v)
        return;
    json_t *m = load_metrics(root, name, v, NULL);
    const char *key = json_string_value(json_object_get(m, "key_metric"));
    json_t *val = key ? json_object_get(json_object_get(m, "metrics"), key) : NULL;
    if (key && json_is_number(val))
        snprintf(buf, n, "%s=%.4f (v%d)", key, json_number_value(val), v);
    else if (key)
        snprintf(buf, n, "%s=n/a (v%d)", key, v);
    json_decref(m);
}

static int cmd_list(const sl_cli_args *a)
{
    const char *root = registry_of(a);
    char **names = NULL;
    int count = 0, code = 0;
    sl_err err;
    sl_err_clear(&err);
    sl_rc rc = sl_registry_models(root, &names, &count, &err);
    if (rc != SL_OK)
        return sl_cli_fail(rc, &err);
    if (count == 0)
        printf("no models in %s\n", root);
    else
        printf("%-24s %8s %7s %8s  %s\n", "name", "versions", "latest", "blessed",
               "key metric");
    for (int i = 0; i < count; i++) {
        int *vs = NULL, nv = 0;
        char lt[16], bt[16], key[160];
        if ((rc = sl_registry_list(root, names[i], &vs, &nv, &err)) != SL_OK) {
            code = sl_cli_fail(rc, &err);
            break;
        }
        sl_free(vs);
        int latest = pointer(root, names[i], "latest");
        int blessed = pointer(root, names[i], "blessed");
        version_text(latest, lt, sizeof lt);
        version_text(blessed, bt, sizeof bt);
        key_metric_text(root, names[i], blessed, latest, key, sizeof key);
        printf("%-24s %8d %7s %8s  %s\n", names[i], nv, lt, bt, key);
    }
    for (int i = 0; i < count; i++)
        sl_free(names[i]);
    sl_free(names);
    return code;
}

/* The version asked for: --version, else blessed, else latest. */
static int pick_version(const sl_cli_args *a, const char *root, const char *name,
                        sl_err *err)
{
    if (a->version > 0)
        return a->version;
    int v = pointer(root, name, "blessed");
    if (!v)
        v = pointer(root, name, "latest");
    if (!v)
        sl_err_set(err, SL_ENOTFOUND, "model '%s' has no versions in %s", name, root);
    return v;
}

static int cmd_show(const sl_cli_args *a)
{
    if (a->npos != 3)
        return sl_cli_usage("models show: expected %s", "NAME [--version N]");
    const char *root = registry_of(a), *name = a->pos[2];
    char dir[4096], path[4200];
    sl_err err;
    sl_err_clear(&err);
    int v = pick_version(a, root, name, &err);
    if (!v)
        return sl_cli_fail(SL_ENOTFOUND, &err);
    sl_registry_version_dir(root, name, v, dir, sizeof dir);
    if (access(dir, F_OK) != 0) {
        sl_err_set(&err, SL_ENOTFOUND, "model '%s' has no version %d in %s", name, v, root);
        return sl_cli_fail(SL_ENOTFOUND, &err);
    }
    snprintf(path, sizeof path, "%s/%s", dir, SL_REGISTRY_MODEL_FILE);
    sl_model *m = NULL;
    sl_rc rc = sl_model_load(path, &m, &err);
    if (rc != SL_OK)
        return sl_cli_fail(rc, &err);
    json_t *out = json_object(), *desc = sl_model_describe(m);
    json_t *metrics = load_metrics(root, name, v, NULL);
    sl_model_free(m);
    if (!out || !desc) {
        json_decref(out);
        json_decref(desc);
        json_decref(metrics);
        sl_err_set(&err, SL_ENOMEM, "out of memory");
        return sl_cli_fail(SL_ENOMEM, &err);
    }
    int latest = pointer(root, name, "latest"), blessed = pointer(root, name, "blessed");
    json_object_set_new(out, "name", json_string(name));
    json_object_set_new(out, "version", json_integer(v));
    json_object_set_new(out, "path", json_string(dir));
    json_object_set_new(out, "latest", latest ? json_integer(latest) : json_null());
    json_object_set_new(out, "blessed", blessed ? json_integer(blessed) : json_null());
    json_object_set_new(out, "model", desc);
    json_object_set_new(out, "metrics", metrics ? metrics : json_null());
    json_dumpf(out, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    fputc('\n', stdout);
    json_decref(out);
    return 0;
}

static int parse_version_arg(const char *s)
{
    char *end;
    long v = strtol(s, &end, 10);
    return *s && !*end && v > 0 && v < 1000000000 ? (int)v : 0;
}

static void print_metric_row(const char *name, json_t *a, json_t *b)
{
    char ta[32] = "n/a", tb[32] = "n/a", td[32] = "";
    if (json_is_number(a))
        snprintf(ta, sizeof ta, "%.6f", json_number_value(a));
    if (json_is_number(b))
        snprintf(tb, sizeof tb, "%.6f", json_number_value(b));
    if (json_is_number(a) && json_is_number(b))
        snprintf(td, sizeof td, "%+.6f", json_number_value(b) - json_number_value(a));
    printf("  %-16s %12s %12s %12s\n", name, ta, tb, td);
}

static void diff_metrics(json_t *ma, json_t *mb, int va, int vb)
{
    const char *key;
    json_t *val;
    printf("metrics (test split):\n  %-16s %12d %12d %12s\n", "metric", va, vb, "delta");
    json_object_foreach(ma, key, val)
        print_metric_row(key, val, json_object_get(mb, key));
    json_object_foreach(mb, key, val)
        if (!json_object_get(ma, key))
            print_metric_row(key, NULL, val);
}

static const char *text_of(json_t *v, char *buf, size_t n)
{
    if (!v)
        return "(unset)";
    if (json_is_string(v))
        return json_string_value(v);
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    snprintf(buf, n, "%s", s ? s : "?");
    free(s);
    return buf;
}

static void diff_params(json_t *da, json_t *db)
{
    char b1[256], b2[256];
    json_t *pa = json_object_get(da, "params"), *pb = json_object_get(db, "params");
    const char *key;
    json_t *val;
    int n = 0;
    const char *ta = json_string_value(json_object_get(da, "type"));
    const char *tb = json_string_value(json_object_get(db, "type"));
    printf("parameters:\n");
    if (ta && tb && strcmp(ta, tb) != 0) {
        printf("  %-24s %s -> %s\n", "type", ta, tb);
        n++;
    }
    json_object_foreach(pa, key, val) {
        json_t *other = json_object_get(pb, key);
        if (other && json_equal(val, other))
            continue;
        printf("  %-24s %s -> %s\n", key, text_of(val, b1, sizeof b1),
               text_of(other, b2, sizeof b2));
        n++;
    }
    json_object_foreach(pb, key, val) {
        if (json_object_get(pa, key))
            continue;
        printf("  %-24s %s -> %s\n", key, "(unset)", text_of(val, b2, sizeof b2));
        n++;
    }
    if (!n)
        printf("  (no differences)\n");
}

static int in_array(json_t *arr, json_t *v)
{
    size_t i;
    json_t *x;
    json_array_foreach(arr, i, x)
        if (json_equal(x, v))
            return 1;
    return 0;
}

static void diff_features(json_t *da, json_t *db)
{
    json_t *fa = json_object_get(da, "features"), *fb = json_object_get(db, "features");
    size_t i;
    json_t *x;
    int n = 0;
    printf("features:");
    json_array_foreach(fb, i, x) {
        if (in_array(fa, x))
            continue;
        printf(" +%s", json_string_value(x) ? json_string_value(x) : "?");
        n++;
    }
    json_array_foreach(fa, i, x) {
        if (in_array(fb, x))
            continue;
        printf(" -%s", json_string_value(x) ? json_string_value(x) : "?");
        n++;
    }
    if (!n)
        printf(" same (%zu)", json_array_size(fa));
    printf("\n");
}

static int cmd_diff(const sl_cli_args *a)
{
    if (a->npos != 5)
        return sl_cli_usage("models diff: expected %s", "NAME V1 V2");
    const char *root = registry_of(a), *name = a->pos[2];
    int va = parse_version_arg(a->pos[3]), vb = parse_version_arg(a->pos[4]);
    if (!va || !vb)
        return sl_cli_usage("models diff: versions are positive integers, e.g. "
                            "'sluice models diff %s 1 2'",
                            name);
    sl_err err;
    sl_err_clear(&err);
    json_t *ja = load_metrics(root, name, va, &err);
    json_t *jb = ja ? load_metrics(root, name, vb, &err) : NULL;
    if (!ja || !jb) {
        json_decref(ja);
        return sl_cli_fail(err.code, &err);
    }
    json_t *da = json_object_get(ja, "model_describe"), *db = json_object_get(jb, "model_describe");
    json_t *ra = json_object_get(ja, "rows"), *rb = json_object_get(jb, "rows");
    printf("%s: version %d -> %d\n", name, va, vb);
    diff_metrics(json_object_get(ja, "metrics"), json_object_get(jb, "metrics"), va, vb);
    diff_params(da, db);
    diff_features(da, db);
    printf("rows: train %lld -> %lld, test %lld -> %lld\n",
           (long long)json_integer_value(json_object_get(ra, "train")),
           (long long)json_integer_value(json_object_get(rb, "train")),
           (long long)json_integer_value(json_object_get(ra, "test")),
           (long long)json_integer_value(json_object_get(rb, "test")));
    printf("blessed when trained: %s -> %s\n",
           json_is_true(json_object_get(ja, "blessed")) ? "yes" : "no",
           json_is_true(json_object_get(jb, "blessed")) ? "yes" : "no");
    json_decref(ja);
    json_decref(jb);
    return 0;
}

int sl_cli_models(const sl_cli_args *a)
{
    const char *sub = a->npos >= 2 ? a->pos[1] : "";
    if (!strcmp(sub, "list") && a->npos == 2)
        return cmd_list(a);
    if (!strcmp(sub, "show"))
        return cmd_show(a);
    if (!strcmp(sub, "diff"))
        return cmd_diff(a);
    return sl_cli_usage("models: expected %s",
                        "'list', 'show NAME [--version N]' or 'diff NAME V1 V2'");
}
