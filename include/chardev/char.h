/*
 * Character device back-ends: where a serial port, debugcon or the qtest
 * protocol read and write bytes.
 *
 * -chardev BACKEND,id=ID,... makes a named chardev in the registry
 * (qemu_chr_find()); front ends (-device isa-serial,chardev=ID,
 * -serial chardev:ID, the monitor) take it with qemu_chr_claim() and give
 * it back with qemu_chr_release().  The back-ends:
 *
 *   null                      discard output, no input
 *   file,path=PATH            output to a file (created or truncated)
 *   stdio                     standard input and output
 *   pty                       a new pseudo-terminal ("char device
 *                             redirected to /dev/pts/N (label ID)")
 *   socket,path=PATH          connect to a Unix socket
 *   socket,path=PATH,server=on[,wait=on|off]
 *                             listen there, one client at a time
 *   socket,fd=N[,server=on]   the same on an inherited socket
 *
 * -serial and -debugcon also take the legacy spellings "null", "stdio",
 * "pty", "file:PATH", "unix:PATH[,server=on,...]" and "chardev:ID"
 * (qemu_chr_new_legacy()).
 *
 * Output is written synchronously; to a pty or a socket, output that the
 * reader leaves no room for is dropped, so a slow or absent reader never
 * stalls a vCPU.  Input is read in the main loop and handed to the front end
 * with the BQL held.  Every function here is called with the BQL held.
 */
#ifndef CHARDEV_CHAR_H
#define CHARDEV_CHAR_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct Chardev Chardev;

typedef void (*ChardevReceive)(void *opaque, const uint8_t *buf, size_t len);
/* Input reached its end (the peer closed the socket, stdin hit EOF). */
typedef void (*ChardevClosed)(void *opaque);

/* -chardev BACKEND,id=ID,...: a new chardev in the registry. */
Chardev *qemu_chr_new_from_opts(const char *optarg, GError **errp);
/*
 * A legacy spec (-serial, -debugcon): "chardev:ID" finds a registered
 * chardev; anything else makes one, registered under label ("serial0").
 */
Chardev *qemu_chr_new_legacy(const char *label, const char *spec,
                             GError **errp);
/* The chardev -chardev made with id=ID, or NULL. */
Chardev *qemu_chr_find(const char *id);
/* Free every registered chardev (at exit, after the front ends are gone). */
void qemu_chr_cleanup_all(void);

/* A private chardev, not in the registry (qtest's); free it yourself. */
Chardev *qemu_chr_new(const char *spec, GError **errp);
void qemu_chr_free(Chardev *chr);

const char *qemu_chr_label(Chardev *chr);
/* What QMP's query-chardev calls "filename": "pty:/dev/pts/3", "null"... */
const char *qemu_chr_filename(Chardev *chr);
bool qemu_chr_is_stdio(Chardev *chr);
/* Does a front end hold it (query-chardev's "frontend-open")? */
bool qemu_chr_in_use(Chardev *chr);
/* Call fn for each registered chardev, in creation order. */
void qemu_chr_foreach(void (*fn)(Chardev *chr, void *opaque), void *opaque);

/* A front end takes chr; an error if another one holds it. */
bool qemu_chr_claim(Chardev *chr, GError **errp);
/* The front end is done with chr: no more callbacks, free to be claimed. */
void qemu_chr_release(Chardev *chr);

void qemu_chr_write(Chardev *chr, const void *buf, size_t len);
void qemu_chr_set_handlers(Chardev *chr, ChardevReceive receive,
                           ChardevClosed closed, void *opaque);

/*
 * The listening fd of a server=on,wait=off socket chardev, for a front end
 * that serves its clients itself (the QMP monitor, from its own thread):
 * the chardev stops accepting on it, is claimed, and the caller owns the fd
 * (and closes it).  The socket file, if the chardev made one, is still
 * removed when the chardev is freed.
 */
int qemu_chr_steal_listener(Chardev *chr, GError **errp);

#endif
