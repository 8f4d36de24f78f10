/*
 * eventfd helpers.
 */
#ifndef QEMU_EVENTFD_H
#define QEMU_EVENTFD_H

#include <stdbool.h>

/* A non-blocking, close-on-exec eventfd; aborts if none can be made. */
int eventfd_new(void);
/* Add one; a saturated counter is left as it is (it is signalled anyway). */
void eventfd_signal(int fd);
/* Consume the count; true if it was signalled. */
bool eventfd_consume(int fd);

#endif
