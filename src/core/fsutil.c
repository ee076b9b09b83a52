/*
 * fsutil.c: output directories and atomic file replacement (fsutil.h),
 * shared by the runner (outputs, transform.json), training (registry
 * files), streaming (metrics file) and the registry pointers.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
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

sl_rc sl_write_file_atomic(const char *path, const char *data, size_t n,
                           sl_err *err)
{
    char tmp[FS_PATH_MAX + 32];
    snprintf(tmp, sizeof tmp, "%s.tmp-%d", path, (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0666);
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
    if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return sl_err_setloc(err, SL_EIO, path, 0, 0, "cannot commit: %s",
                             strerror(e));
    }
    return SL_OK;
}

