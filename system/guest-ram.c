/*
 * Guest RAM at a fixed host virtual address.
 */
#include <errno.h>
#include <sys/mman.h>

#include "exec/guest-ram.h"
#include "qemu/error-report.h"

static GuestRAMRange ranges[2];
static unsigned nr_ranges;
static uint64_t reserved_size;

/* Touch every page now, so that a shortage shows at start, not at run. */
static bool prealloc(void *addr, uint64_t size, GError **errp)
{
    if (madvise(addr, size, MADV_POPULATE_WRITE) < 0) {
        error_setg_errno(errp, errno, "cannot preallocate guest memory "
                         "'pc.ram'");
        return false;
    }
    return true;
}

bool guest_ram_init(uint64_t ram_size, const GuestRAMBacking *backing,
                    GError **errp)
{
    static const GuestRAMBacking anonymous = { .fd = -1, .dump = true };
    uint64_t low = MIN(ram_size, GUEST_RAM_LOW_MAX);
    uint64_t high = ram_size - low;
    uint64_t offset = 0;
    void *p;

    if (!backing) {
        backing = &anonymous;
    }
    ranges[0] = (GuestRAMRange){ 0, low };
    nr_ranges = 1;
    reserved_size = low;
    if (high) {
        ranges[1] = (GuestRAMRange){ GUEST_RAM_HIGH_START, high };
        nr_ranges = 2;
        reserved_size = GUEST_RAM_HIGH_START + high;
    }
    if (reserved_size > 0x7f0000000000ULL - GUEST_RAM_HOST_BASE) {
        error_setg(errp, "ram size too large");
        return false;
    }
    /* Reserve the whole span (holes stay inaccessible), then open the RAM. */
    p = mmap((void *)(uintptr_t)GUEST_RAM_HOST_BASE, reserved_size, PROT_NONE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE |
             MAP_FIXED_NOREPLACE, -1, 0);
    if (p == MAP_FAILED || p != guest_ram_host_addr(0)) {
        error_setg_errno(errp, p == MAP_FAILED ? errno : EEXIST,
                         "cannot map guest RAM at host address 0x%llx",
                         GUEST_RAM_HOST_BASE);
        if (p != MAP_FAILED) {
            munmap(p, reserved_size);
        }
        return false;
    }
    for (unsigned i = 0; i < nr_ranges; i++) {
        void *r = guest_ram_host_addr(ranges[i].gpa);
        int flags = (backing->shared ? MAP_SHARED : MAP_PRIVATE) |
                    (backing->fd < 0 ? MAP_ANONYMOUS : 0) | MAP_FIXED;

        /*
         * Without MAP_NORESERVE, so that the kernel's overcommit policy
         * says at once whether it can back the RAM, as for QEMU's.  A
         * file's ranges follow each other in it, low RAM first.
         */
        if (mmap(r, ranges[i].size, PROT_READ | PROT_WRITE, flags,
                 backing->fd, backing->fd < 0 ? 0 : offset) == MAP_FAILED) {
            error_setg_errno(errp, errno, "cannot set up guest memory "
                             "'pc.ram'");
            guest_ram_cleanup();
            return false;
        }
        offset += ranges[i].size;
        /* Huge pages cut TLB misses; DONTFORK keeps helper forks cheap. */
        madvise(r, ranges[i].size, MADV_HUGEPAGE);
        madvise(r, ranges[i].size, MADV_DONTFORK);
        if (!backing->dump) {
            madvise(r, ranges[i].size, MADV_DONTDUMP);
        }
        if (backing->prealloc && !prealloc(r, ranges[i].size, errp)) {
            guest_ram_cleanup();
            return false;
        }
    }
    return true;
}

void guest_ram_cleanup(void)
{
    if (reserved_size) {
        munmap(guest_ram_host_addr(0), reserved_size);
        reserved_size = 0;
        nr_ranges = 0;
    }
}

unsigned guest_ram_nr_ranges(void)
{
    return nr_ranges;
}

const GuestRAMRange *guest_ram_range(unsigned i)
{
    return i < nr_ranges ? &ranges[i] : NULL;
}

uint64_t guest_ram_top(void)
{
    return nr_ranges ? ranges[nr_ranges - 1].gpa + ranges[nr_ranges - 1].size
                     : 0;
}

/* Any thread, no lock: the layout is fixed before vCPUs run. */
void *guest_ram_ptr(uint64_t gpa, uint64_t len)
{
    for (unsigned i = 0; i < nr_ranges; i++) {
        if (gpa >= ranges[i].gpa && len <= ranges[i].size &&
            gpa - ranges[i].gpa <= ranges[i].size - len) {
            return guest_ram_host_addr(gpa);
        }
    }
    return NULL;
}
