/*
 * File descriptor sets (-add-fd).  The fds stay open, and in their set,
 * until the VMM exits; each open of /dev/fdset/N hands out a duplicate.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qemu/error-report.h"
#include "qemu/fdset.h"

#define FDSET_PREFIX "/dev/fdset/"

typedef struct FdSetEntry {
    uint64_t set;
    int fd;
} FdSetEntry;

static GArray *fdset_entries;   /* of FdSetEntry */

bool fdset_add(QemuOpts *opts, GError **errp)
{
    FdSetEntry e;
    uint64_t set, fd;

    qemu_opt_get(opts, "opaque");   /* a note for the tool; nothing here */
    if (!qemu_opt_get(opts, "fd")) {
        error_setg(errp, "Parameter 'fd' is missing");
        return false;
    }
    if (!qemu_opt_get(opts, "set")) {
        error_setg(errp, "Parameter 'set' is missing");
        return false;
    }
    if (!qemu_opt_get_number(opts, "fd", 0, &fd, errp) ||
        !qemu_opt_get_number(opts, "set", 0, &set, errp) ||
        !qemu_opts_check_unused(opts, errp)) {
        return false;
    }
    if (fd <= STDERR_FILENO) {
        error_setg(errp, "fd cannot be a standard I/O stream");
        return false;
    }
    if (fd > INT_MAX || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
        error_setg(errp, "fd is not valid or already in use");
        return false;
    }
    if (!fdset_entries) {
        fdset_entries = g_array_new(false, false, sizeof(FdSetEntry));
    }
    for (guint i = 0; i < fdset_entries->len; i++) {
        if (g_array_index(fdset_entries, FdSetEntry, i).fd == (int)fd) {
            error_setg(errp, "fd is not valid or already in use");
            return false;
        }
    }
    e.set = set;
    e.fd = fd;
    g_array_append_val(fdset_entries, e);
    return true;
}

static int fdset_dup(const char *name, int flags)
{
    char *end;
    uint64_t set;
    bool found = false;

    errno = 0;
    set = strtoull(name, &end, 10);
    if (!*name || *end || errno || !g_ascii_isdigit(*name)) {
        errno = ENOENT;
        return -1;
    }
    for (guint i = 0; fdset_entries && i < fdset_entries->len; i++) {
        FdSetEntry *e = &g_array_index(fdset_entries, FdSetEntry, i);
        int fl;

        if (e->set != set) {
            continue;
        }
        found = true;
        fl = fcntl(e->fd, F_GETFL);
        if (fl >= 0 && (fl & O_ACCMODE) == (flags & O_ACCMODE)) {
            return fcntl(e->fd, F_DUPFD_CLOEXEC, 0);
        }
    }
    errno = found ? EACCES : ENOENT;
    return -1;
}

int qemu_open(const char *path, int flags, mode_t mode)
{
    if (g_str_has_prefix(path, FDSET_PREFIX)) {
        return fdset_dup(path + strlen(FDSET_PREFIX), flags);
    }
    return open(path, flags | O_CLOEXEC, mode);
}
