/*
 * ioctl-fault: a library to LD_PRELOAD into the VMM that makes one kind of
 * KVM ioctl fail, to play a host that refuses a step the VMM takes (out of
 * memory, a limit reached).
 *
 *   IOCTL_FAULT=NAME:ERRNO[:SKIP]
 *
 * NAME is one of the table below.  The first SKIP matching calls (default
 * 0) reach the kernel; every later one fails with ERRNO without reaching
 * it.  A malformed IOCTL_FAULT ends the process with status 2.
 */
#include <dlfcn.h>
#include <errno.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

typedef bool Match(const void *arg);

static bool memslot_add(const void *arg)
{
    return ((const struct kvm_userspace_memory_region *)arg)->memory_size;
}

static bool irqfd_assign(const void *arg)
{
    return !(((const struct kvm_irqfd *)arg)->flags &
             KVM_IRQFD_FLAG_DEASSIGN);
}

static const struct {
    const char *name;
    unsigned long request;
    Match *match;               /* NULL: every call of the request */
} faults[] = {
    { "memslot-add", KVM_SET_USER_MEMORY_REGION, memslot_add },
    { "irqfd-assign", KVM_IRQFD, irqfd_assign },
    { "KVM_SET_GSI_ROUTING", KVM_SET_GSI_ROUTING, NULL },
    { "KVM_GET_VCPU_MMAP_SIZE", KVM_GET_VCPU_MMAP_SIZE, NULL },
    { "KVM_SET_FPU", KVM_SET_FPU, NULL },
    { "KVM_SET_SREGS", KVM_SET_SREGS, NULL },
};

static int (*real_ioctl)(int fd, unsigned long request, ...);
static int fault = -1;
static int fault_errno;
static unsigned long skip;
static unsigned long seen;      /* matching calls so far (atomic) */

static void bad_spec(const char *spec)
{
    fprintf(stderr, "ioctl-fault: IOCTL_FAULT=%s: expected NAME:ERRNO[:SKIP]"
            "\n", spec);
    exit(2);
}

__attribute__((constructor))
static void ioctl_fault_init(void)
{
    const char *spec = getenv("IOCTL_FAULT");
    const char *colon;
    char *end;

    real_ioctl = dlsym(RTLD_NEXT, "ioctl");
    if (!spec) {
        return;
    }
    colon = strchr(spec, ':');
    if (!colon) {
        bad_spec(spec);
    }
    for (unsigned i = 0; i < sizeof(faults) / sizeof(faults[0]); i++) {
        if (strlen(faults[i].name) == (size_t)(colon - spec) &&
            !strncmp(faults[i].name, spec, colon - spec)) {
            fault = i;
        }
    }
    fault_errno = strtol(colon + 1, &end, 0);
    if (fault < 0 || end == colon + 1 || fault_errno <= 0) {
        bad_spec(spec);
    }
    if (*end == ':') {
        skip = strtoul(end + 1, &end, 0);
    }
    if (*end) {
        bad_spec(spec);
    }
}

int ioctl(int fd, unsigned long request, ...)
{
    va_list ap;
    void *arg;

    /* Every KVM ioctl takes at most one argument after the request. */
    va_start(ap, request);
    arg = va_arg(ap, void *);
    va_end(ap);
    if (fault >= 0 && request == faults[fault].request &&
        (!faults[fault].match || faults[fault].match(arg)) &&
        __atomic_fetch_add(&seen, 1, __ATOMIC_RELAXED) >= skip) {
        errno = fault_errno;
        return -1;
    }
    return real_ioctl(fd, request, arg);
}
