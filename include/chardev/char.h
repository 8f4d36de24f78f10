/*
 * Character device back-ends: where a serial port, debugcon or the qtest
 * protocol read and write bytes.
 *
 *   stdio         standard input and output
 *   file:PATH     output to a file (created or truncated), no input
 *   null          discard output, no input
 *   unix:PATH     connect to a Unix socket
 *
 * Output is written synchronously.  Input is read in the main loop and
 * handed to the front end with the BQL held.
 */
#ifndef CHARDEV_CHAR_H
#define CHARDEV_CHAR_H

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

typedef struct Chardev Chardev;

typedef void (*ChardevReceive)(void *opaque, const uint8_t *buf, size_t len);
/* Input reached its end (the peer closed the socket, stdin hit EOF). */
typedef void (*ChardevClosed)(void *opaque);

Chardev *qemu_chr_new(const char *spec, GError **errp);
void qemu_chr_free(Chardev *chr);
void qemu_chr_write(Chardev *chr, const void *buf, size_t len);
void qemu_chr_set_handlers(Chardev *chr, ChardevReceive receive,
                           ChardevClosed closed, void *opaque);

#endif
