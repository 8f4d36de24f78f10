/*
 * The file back-end: output to a file, created, and truncated unless
 * append=on; no input.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "chardev/char-internal.h"
#include "qemu/error-report.h"
#include "qemu/fdset.h"

bool qemu_chr_open_file(Chardev *chr, QemuOpts *opts, GError **errp)
{
    const char *path = qemu_opt_get(opts, "path");
    bool append;

    if (!path) {
        error_setg(errp, "chardev: file: no filename given");
        return false;
    }
    if (!qemu_opt_get_bool(opts, "append", false, &append, errp)) {
        return false;
    }
    /* path may be /dev/fdset/N: a file libvirt opened (-add-fd). */
    chr->out_fd = qemu_open(path, O_WRONLY | O_CREAT |
                                  (append ? O_APPEND : O_TRUNC), 0666);
    if (chr->out_fd < 0) {
        error_setg_errno(errp, errno, "Could not open '%s'", path);
        return false;
    }
    chr->owns_fds = true;
    chr->filename = g_strdup_printf("file:%s", path);
    return true;
}
