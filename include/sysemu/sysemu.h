/*
 * What the command line says of the VM as a whole, for QMP's queries.
 */
#ifndef SYSEMU_SYSEMU_H
#define SYSEMU_SYSEMU_H

/* -name guest=NAME, or NULL. */
extern const char *qemu_name;
/* -uuid, or NULL (QMP reports the nil UUID then, as QEMU does). */
extern const char *qemu_uuid;

#endif
