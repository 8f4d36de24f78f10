/*
 * What the character back-ends (chardev/char-*.c) share with the core
 * (chardev/char.c).  Front ends see only include/chardev/char.h.
 */
#ifndef CHARDEV_CHAR_INTERNAL_H
#define CHARDEV_CHAR_INTERNAL_H

#include "chardev/char.h"
#include "qemu/option.h"

struct Chardev {
    char *label;                /* -chardev id=, "serial0", or NULL */
    char *filename;             /* what query-chardev calls it ("pty:...") */
    int in_fd;                  /* -1: no input (now) */
    int out_fd;                 /* -1: output discarded (now) */
    bool owns_fds;
    bool is_stdio;
    bool in_use;                /* a front end holds it */
    guint watch;
    bool escape;                /* stdio saw Ctrl-A */
    ChardevReceive receive;
    ChardevClosed closed;
    void *opaque;

    /* pty: the slave, held open so that the master never reads EOF */
    int pty_slave_fd;

    /* socket, server=on: one client at a time, the next accepted after */
    int listen_fd;
    guint listen_watch;
    char *unlink_path;          /* a socket file this chardev created */
};

/* A new chardev with no fds (label may be NULL); register it or free it. */
Chardev *qemu_chr_alloc(const char *label);
void qemu_chr_register(Chardev *chr);

/*
 * Back-ends: fill chr from opts (the keys after the back-end's name), with
 * chr->label already set.  Called with the BQL held, at start-up.
 */
bool qemu_chr_open_stdio(Chardev *chr, QemuOpts *opts, GError **errp);
bool qemu_chr_open_file(Chardev *chr, QemuOpts *opts, GError **errp);
bool qemu_chr_open_pty(Chardev *chr, QemuOpts *opts, GError **errp);
bool qemu_chr_open_socket(Chardev *chr, QemuOpts *opts, GError **errp);

/* Undo what the back-end's open did beyond the fds (BQL held). */
void qemu_chr_close_stdio(Chardev *chr);
void qemu_chr_close_socket(Chardev *chr);

/* Read from fd (the new connection; -1: none) instead of the old one. */
void qemu_chr_connected(Chardev *chr, int fd);
/* A socket server's client hung up: accept the next one. */
void qemu_chr_socket_client_gone(Chardev *chr);
/* Is stdin in raw mode (so that Ctrl-A is the escape key)? */
bool qemu_chr_stdio_is_raw(void);

#endif
