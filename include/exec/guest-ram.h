/*
 * Guest RAM, mapped in the VMM at a fixed host virtual address.
 *
 * Guest physical address gpa is at host address GUEST_RAM_HOST_BASE + gpa,
 * for the VM's whole life.  The io_uring passthrough depends on this: the
 * guest names its buffers to the host kernel by host virtual address, and
 * can compute them only if the mapping is fixed and known (see
 * docs/devel/memory.rst).  The base is above the shadow memory of
 * AddressSanitizer, so ASan builds keep the same layout.
 *
 * RAM layout is fixed before the first vCPU runs, so lookups need no lock.
 */
#ifndef EXEC_GUEST_RAM_H
#define EXEC_GUEST_RAM_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#define GUEST_RAM_HOST_BASE     0x200000000000ULL
/* Guest RAM below 4 GiB ends here at most; the rest goes above 4 GiB. */
#define GUEST_RAM_LOW_MAX       0x80000000ULL
#define GUEST_RAM_HIGH_START    0x100000000ULL

typedef struct GuestRAMRange {
    uint64_t gpa;
    uint64_t size;
} GuestRAMRange;

/* Where guest RAM comes from (-object memory-backend-*, -machine). */
typedef struct GuestRAMBacking {
    int fd;                     /* a file to map from offset 0; -1: anonymous */
    bool shared;                /* MAP_SHARED: writes reach the file */
    bool prealloc;              /* populate every page at start */
    bool dump;                  /* in core dumps (dump-guest-core) */
} GuestRAMBacking;

/*
 * Map ram_size bytes of guest RAM (one or two ranges) from backing, or
 * anonymous private memory if it is NULL.  Called with the BQL held.
 */
bool guest_ram_init(uint64_t ram_size, const GuestRAMBacking *backing,
                    GError **errp);
void guest_ram_cleanup(void);

unsigned guest_ram_nr_ranges(void);
const GuestRAMRange *guest_ram_range(unsigned i);
/* The end of the highest range: guest physical addresses are below it. */
uint64_t guest_ram_top(void);

/* The host pointer for [gpa, gpa + len) if all of it is RAM, else NULL. */
void *guest_ram_ptr(uint64_t gpa, uint64_t len);

static inline void *guest_ram_host_addr(uint64_t gpa)
{
    return (void *)(uintptr_t)(GUEST_RAM_HOST_BASE + gpa);
}

#endif
