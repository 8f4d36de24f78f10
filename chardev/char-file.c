/*
 * The file back-end: output to a file, created or truncated; no input.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "chardev/char-internal.h"
#include "qemu/error-report.h"

bool qemu_chr_open_file(Chardev *chr, QemuOpts *opts, GError **errp)
{
    const char *path = qemu_opt_get(opts, "path");

    if (!path) {
        error_setg(errp, "chardev: file: no filename given");
        return false;
    }
    chr->out_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (chr->out_fd < 0) {
        error_setg_errno(errp, errno, "Could not open '%s'", path);
        return false;
    }
    chr->owns_fds = true;
    chr->filename = g_strdup_printf("file:%s", path);
    return true;
}
