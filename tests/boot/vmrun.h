/*
 * Running a VMM (ours or stock QEMU) with a guest program to completion,
 * for tests that boot real guests under KVM.
 */
#ifndef TESTS_BOOT_VMRUN_H
#define TESTS_BOOT_VMRUN_H

#include <glib.h>
#include <stdbool.h>

typedef struct VMRun {
    int status;                 /* exit status, or -1 if killed */
    char *out;                  /* stdout, with "\r" removed */
    char *err;                  /* stderr */
} VMRun;

/* Our VMM, from QTEST_QEMU_BINARY; the stock one, from the PATH. */
const char *vmrun_our_vmm(void);
const char *vmrun_stock_qemu(void);
/* A guest program built in tests/guest, by name ("hello"). */
char *vmrun_guest(const char *name);

/*
 * Run argv (NULL-terminated) with no stdin; kill it after timeout_s
 * seconds (status -1).  Free with vmrun_free().
 */
VMRun *vmrun(const char *const *argv, unsigned timeout_s);
/* The same with the command line given as one string, in shell syntax. */
VMRun *vmrunf(unsigned timeout_s, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
void vmrun_free(VMRun *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VMRun, vmrun_free)

/*
 * A guest program with one virtio-blk disk, under our VMM (-nographic:
 * the console is COM1) or stock QEMU (debugcon on stdio, isa-debug-exit,
 * a modern-only device).  The disk is
 *   -drive file=IMAGE,if=none,id=d0,format=raw<drive>
 *   -device virtio-blk-pci,drive=d0<device>
 * with "-object iothread,id=io1" and ",iothread=io1" if @iothread, and
 * "-smp CPUS" if cpus is not 0.
 */
typedef struct VMRunDisk {
    const char *image;
    const char *drive;          /* options appended to -drive, or NULL */
    const char *device;         /* options appended to -device, or NULL */
    bool iothread;
    unsigned cpus;              /* -smp, if not 0 */
} VMRunDisk;

/* Boot guest program @guest (by name) with -append @append. */
VMRun *vmrun_disk(bool stock, const VMRunDisk *disk, const char *guest,
                  const char *append);

#endif
