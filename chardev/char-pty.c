/*
 * The pty back-end: a new pseudo-terminal whose slave (/dev/pts/N) a user
 * or libvirt opens to reach the guest's console.
 *
 * The VMM keeps a slave fd of its own open, so that the master does not
 * see a hang-up whenever no one else has the slave open (reading it would
 * then spin).  Until someone reads, output fills the pty's buffer and then
 * is dropped: the master is non-blocking.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

#include "chardev/char-internal.h"
#include "qemu/error-report.h"

bool qemu_chr_open_pty(Chardev *chr, QemuOpts *opts, GError **errp)
{
    int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
    struct termios tty;
    const char *name;

    if (master < 0) {
        error_setg_errno(errp, errno, "Failed to create PTY");
        return false;
    }
    name = (grantpt(master) || unlockpt(master)) ? NULL : ptsname(master);
    if (!name) {
        error_setg_errno(errp, errno, "Failed to create PTY");
        close(master);
        return false;
    }
    chr->pty_slave_fd = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (chr->pty_slave_fd < 0) {
        error_setg_errno(errp, errno, "Failed to open PTY '%s'", name);
        close(master);
        return false;
    }
    /* A byte channel, as for a serial line: no echo, no line editing. */
    if (tcgetattr(chr->pty_slave_fd, &tty) == 0) {
        cfmakeraw(&tty);
        tcsetattr(chr->pty_slave_fd, TCSANOW, &tty);
    }
    chr->in_fd = chr->out_fd = master;
    chr->owns_fds = true;
    chr->filename = g_strdup_printf("pty:%s", name);
    /* On stdout, as QEMU prints it: libvirt reads the path from there. */
    printf("char device redirected to %s (label %s)\n", name,
           chr->label ? chr->label : "");
    fflush(stdout);
    return true;
}
