/*
 * registry.c: the model registry's directory layout and pointers (see
 * registry.h). Only directory names that are plain positive integers are
 * versions; anything else in a model directory is ignored.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sluice/fsutil.h"
#include "sluice/mem.h"
#include "sluice/registry.h"

#define REG_PATH_MAX 4096

static int parse_version(const char *s)
{
    if (!*s || strlen(s) > 9)
        return -1;
    for (const char *p = s; *p; p++)
        if (*p < '0' || *p > '9')
            return -1;
    int v = atoi(s);
    return v > 0 ? v : -1;
}

int sl_registry_version_dir(const char *root, const char *name, int version,
                            char *dir, size_t n)
{
    return snprintf(dir, n, "%s/%s/%d", root, name, version);
}

sl_rc sl_registry_list(const char *root, const char *name, int **versions,
                       int *count, sl_err *err)
{
    char path[REG_PATH_MAX];
    *versions = NULL;
    *count = 0;
    snprintf(path, sizeof path, "%s/%s", root, name);
    DIR *d = opendir(path);
    if (!d) {
        if (errno == ENOENT)
            return SL_OK;
        return sl_err_setloc(err, SL_EIO, path, 0, 0, "cannot list: %s",
                             strerror(errno));
    }
    size_t cap = 0;
    int *v = NULL;
    struct dirent *de;
    sl_rc rc = SL_OK;
    while ((de = readdir(d)) != NULL) {
        int ver = parse_version(de->d_name);
        if (ver < 0)
            continue;
        if (sl_grow((void **)&v, &cap, (size_t)*count + 1, sizeof *v) != 0) {
            rc = sl_err_set(err, SL_ENOMEM, "out of memory");
            break;
        }
        v[(*count)++] = ver;
    }
    closedir(d);
    if (rc != SL_OK) {
        sl_free(v);
        *count = 0;
        return rc;
    }
    /* insertion sort: registries hold tens of versions */
    for (int i = 1; i < *count; i++)
        for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
            int t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    *versions = v;
    return SL_OK;
}

sl_rc sl_registry_new_version(const char *root, const char *name,
                              int *version, char *dir, size_t n, sl_err *err)
{
    char base[REG_PATH_MAX];
    if (!*name || strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return sl_err_set(err, SL_ECONFIG,
                          "invalid model name '%s' (no '/', not '.' or '..')", name);
    snprintf(base, sizeof base, "%s/%s", root, name);
    sl_rc rc = sl_mkdirs(base, err);
    if (rc != SL_OK)
        return rc;
    int *vs, count;
    if ((rc = sl_registry_list(root, name, &vs, &count, err)) != SL_OK)
        return rc;
    int v = count ? vs[count - 1] + 1 : 1;
    sl_free(vs);
    /* mkdir is the reservation: if another trainer took v, try the next */
    for (int tries = 0; tries < 1000; tries++, v++) {
        sl_registry_version_dir(root, name, v, dir, n);
        if (mkdir(dir, 0777) == 0)
            break;
        if (errno != EEXIST)
            return sl_err_setloc(err, SL_EIO, dir, 0, 0, "cannot create: %s",
                                 strerror(errno));
    }
    const char *subs[] = {"model_artifacts", "model_metrics", "evaluation_results"};
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
        char sub[REG_PATH_MAX];
        snprintf(sub, sizeof sub, "%s/%s", dir, subs[i]);
        if (mkdir(sub, 0777) != 0 && errno != EEXIST)
            return sl_err_setloc(err, SL_EIO, sub, 0, 0, "cannot create: %s",
                                 strerror(errno));
    }
    *version = v;
    return SL_OK;
}

sl_rc sl_registry_set_pointer(const char *root, const char *name,
                              const char *pointer, int version, sl_err *err)
{
    char path[REG_PATH_MAX], text[32];
    snprintf(path, sizeof path, "%s/%s/%s", root, name, pointer);
    int len = snprintf(text, sizeof text, "%d\n", version);
    return sl_write_file_atomic(path, text, (size_t)len, err);
}

sl_rc sl_registry_get_pointer(const char *root, const char *name,
                              const char *pointer, int *version, sl_err *err)
{
    char path[REG_PATH_MAX], text[32] = {0};
    snprintf(path, sizeof path, "%s/%s/%s", root, name, pointer);
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT)
            return sl_err_setloc(err, SL_ENOTFOUND, path, 0, 0,
                                 "model '%s' has no '%s' version", name, pointer);
        return sl_err_setloc(err, SL_EIO, path, 0, 0, "cannot read: %s",
                             strerror(errno));
    }
    size_t got = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    while (got > 0 && (text[got - 1] == '\n' || text[got - 1] == '\r' || text[got - 1] == ' '))
        text[--got] = '\0';
    int v = parse_version(text);
    if (v < 0)
        return sl_err_setloc(err, SL_EPARSE, path, 1, 0,
                             "expected a version number, got '%s'", text);
    *version = v;
    return SL_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

sl_rc sl_registry_models(const char *root, char ***names, int *count,
                         sl_err *err)
{
    *names = NULL;
    *count = 0;
    DIR *d = opendir(root);
    if (!d) {
        if (errno == ENOENT)
            return SL_OK;
        return sl_err_setloc(err, SL_EIO, root, 0, 0, "cannot list: %s",
                             strerror(errno));
    }
    size_t cap = 0;
    char **v = NULL;
    struct dirent *de;
    sl_rc rc = SL_OK;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char p[REG_PATH_MAX];
        struct stat st;
        snprintf(p, sizeof p, "%s/%s", root, de->d_name);
        if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode))
            continue;
        char *dup = sl_strdup(de->d_name);
        if (!dup || sl_grow((void **)&v, &cap, (size_t)*count + 1, sizeof *v) != 0) {
            sl_free(dup);
            rc = sl_err_set(err, SL_ENOMEM, "out of memory");
            break;
        }
        v[(*count)++] = dup;
    }
    closedir(d);
    if (rc != SL_OK) {
        for (int i = 0; i < *count; i++)
            sl_free(v[i]);
        sl_free(v);
        *count = 0;
        return rc;
    }
    if (*count > 1)
        qsort(v, (size_t)*count, sizeof *v, cmp_str);
    *names = v;
    return SL_OK;
}
