/*
 * -object iothread,id=ID[,poll-max-ns=NS,poll-grow=N,poll-shrink=N]: a
 * thread running its own AioContext, where devices can move their I/O.
 */
#ifndef SYSEMU_IOTHREAD_H
#define SYSEMU_IOTHREAD_H

#include "block/aio.h"
#include <sys/types.h>

#include "qemu/option.h"

typedef struct IOThread IOThread;

/*
 * The properties of -object iothread with their defaults, on stdout
 * ("-object iothread,help").
 */
void iothread_print_help(void);
/* Parse the options of -object iothread and start the thread. */
IOThread *iothread_create(QemuOpts *opts, GError **errp);
IOThread *iothread_by_id(const char *id);
AioContext *iothread_get_aio_context(IOThread *iothread);
typedef struct IOThreadInfo {
    const char *id;
    pid_t thread_id;
    uint64_t poll_max_ns, poll_grow, poll_shrink;
} IOThreadInfo;

/* Call fn for every iothread, in creation order.  Main thread, BQL held. */
void iothread_foreach(void (*fn)(const IOThreadInfo *info, void *opaque),
                      void *opaque);
/* Stop and join every iothread. */
void iothread_destroy_all(void);

#endif
