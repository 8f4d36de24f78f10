/*
 * File descriptor sets (-add-fd): files a management tool opened for the
 * VMM, named /dev/fdset/N where a path is expected.  libvirt passes the
 * files it opens itself (a serial console's log) this way.
 */
#ifndef QEMU_FDSET_H
#define QEMU_FDSET_H

#include <glib.h>
#include <stdbool.h>
#include <sys/types.h>

#include "qemu/option.h"

/*
 * -add-fd set=N,fd=M[,opaque=TEXT]: put the inherited fd M into set N.
 * Main thread, while the command line is processed.
 */
bool fdset_add(QemuOpts *opts, GError **errp);

/*
 * open(2), except that /dev/fdset/N gives a duplicate of an fd of set N
 * opened with the same access mode (errno ENOENT if there is no such set,
 * EACCES if no fd in it has that mode; the other flags are those the fd
 * was opened with).  Returns the fd, close-on-exec, or -1 with errno set.
 * Main thread.
 */
int qemu_open(const char *path, int flags, mode_t mode);

#endif
