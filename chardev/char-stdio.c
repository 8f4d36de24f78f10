/*
 * The stdio back-end: the VMM's standard input and output.  Only one
 * chardev may use them, as in QEMU.
 */
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

#include "chardev/char-internal.h"
#include "qemu/error-report.h"

static bool stdio_in_use;
static struct termios saved_tty;
static bool tty_modified;

static void stdio_restore_tty(void)
{
    if (tty_modified) {
        tcsetattr(STDIN_FILENO, TCSANOW, &saved_tty);
        tty_modified = false;
    }
}

/* Raw input for the guest, but Ctrl-C still ends the VMM, as in QEMU. */
static void stdio_init_tty(void)
{
    static bool atexit_done;
    struct termios tty;

    if (tty_modified || !isatty(STDIN_FILENO) ||
        tcgetattr(STDIN_FILENO, &saved_tty) < 0) {
        return;
    }
    tty = saved_tty;
    tty.c_iflag &= ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR |
                     ICRNL | IXON);
    tty.c_oflag |= OPOST;
    tty.c_lflag &= ~(ECHO | ECHONL | ICANON | IEXTEN);
    tty.c_cc[VMIN] = 1;
    tty.c_cc[VTIME] = 0;
    tcsetattr(STDIN_FILENO, TCSANOW, &tty);
    tty_modified = true;
    if (!atexit_done) {
        atexit(stdio_restore_tty);
        atexit_done = true;
    }
}

bool qemu_chr_stdio_is_raw(void)
{
    return tty_modified;
}

bool qemu_chr_open_stdio(Chardev *chr, QemuOpts *opts, GError **errp)
{
    if (stdio_in_use) {
        error_setg(errp, "cannot use stdio by multiple character devices");
        return false;
    }
    stdio_in_use = true;
    chr->in_fd = STDIN_FILENO;
    chr->out_fd = STDOUT_FILENO;
    chr->is_stdio = true;
    chr->filename = g_strdup("stdio");
    stdio_init_tty();
    return true;
}

void qemu_chr_close_stdio(Chardev *chr)
{
    stdio_restore_tty();
    stdio_in_use = false;
}
