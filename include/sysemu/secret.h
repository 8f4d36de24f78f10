/*
 * -object secret: a named secret, as libvirt passes its master key to
 * every VM it starts.
 */
#ifndef SYSEMU_SECRET_H
#define SYSEMU_SECRET_H

#include <glib.h>
#include <stdbool.h>

#include "qemu/option.h"

/*
 * Check the object's options (id, exactly one of data= and file=, format=
 * raw or base64) and that its value can be read and decoded.  Main thread,
 * while the command line is processed.
 */
bool secret_create(QemuOpts *opts, GError **errp);

#endif
