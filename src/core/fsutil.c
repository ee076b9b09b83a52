/*
 * fsutil.c: output directories and atomic file replacement (fsutil.h),
 * shared by the runner (outputs, transform.json), training (registry
 * files), streaming (metrics file) and the registry pointers.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sluice/fsutil.h"

#define FS_PATH_MAX 4096

/* mkdir -p */
sl_rc sl_mkdirs(const char *dir, sl_err *err)
{
    char buf[FS_PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", dir) >= (int)sizeof buf)
        return sl_err_set(err, SL_ELIMIT, "path too long: %s", dir);
    for (char *p = buf + 1; ; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST)
                return sl_err_setloc(err, SL_EIO, buf, 0, 0,
                                     "cannot create directory: %s", strerror(errno));
            *p = c;
            if (c == '\0')
                break;
        }
    }
    return SL_OK;
}

/* fsync the directory holding path, so the rename itself survives a
 * crash. Best effort: the file's data is already synced. */
static void sync_parent(const char *path)
{
    char dir[FS_PATH_MAX];
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash == path ? 1 : slash - path), path);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
}

sl_rc sl_write_file_atomic(const char *path, const char *data, size_t n,
                           sl_err *err)
{
    char tmp[FS_PATH_MAX + 16];
    /* mkstemp: a unique temporary, so concurrent writers of the same
     * target (two trainers, two threads) never share one */
    if (snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path) >= (int)sizeof tmp)
        return sl_err_setloc(err, SL_ELIMIT, path, 0, 0, "path too long");
    int fd = mkstemp(tmp);
    if (fd < 0)
        return sl_err_setloc(err, SL_EIO, path, 0, 0, "cannot create: %s",
                             strerror(errno));
    size_t off = 0;
    while (off < n) {
        ssize_t w = write(fd, data + off, n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = errno;
            close(fd);
            unlink(tmp);
            return sl_err_setloc(err, SL_EIO, path, 0, 0, "cannot write: %s",
                                 strerror(e));
        }
        off += (size_t)w;
    }
    /* mkstemp creates 0600; results are meant to be shared like any file */
    mode_t um = umask(0);
    umask(um);
    fchmod(fd, 0666 & ~um);
    if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return sl_err_setloc(err, SL_EIO, path, 0, 0, "cannot commit: %s",
                             strerror(e));
    }
    sync_parent(path);
    return SL_OK;
}
