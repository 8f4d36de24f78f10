/*
 * Address spaces and the regions mapped into them.
 *
 * The machine has two address spaces: "memory" (guest physical addresses)
 * and "I/O" (x86 ports).  A region is either RAM-like, backed by host memory
 * that the guest may access directly (guest RAM, or the io_uring rings of a
 * passthrough device), or I/O, whose accesses call the region's ops.
 * Listeners (the KVM accelerator) follow mappings and eventfds, so that
 * RAM-like regions become memory slots and eventfds become ioeventfds.
 *
 * Mapping, unmapping and dispatch happen under the big QEMU lock.
 */
#ifndef EXEC_MEMORY_H
#define EXEC_MEMORY_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct AddressSpace AddressSpace;
typedef struct MemoryRegion MemoryRegion;
typedef struct MemoryListener MemoryListener;

typedef struct MemoryRegionOps {
    uint64_t (*read)(void *opaque, uint64_t addr, unsigned size);
    void (*write)(void *opaque, uint64_t addr, uint64_t data, unsigned size);
} MemoryRegionOps;

/* A write of size bytes at offset (with data, if match_data) signals fd. */
typedef struct MemoryRegionEventfd {
    uint64_t offset;
    unsigned size;
    bool match_data;
    uint64_t data;
    int fd;
} MemoryRegionEventfd;

struct MemoryRegion {
    char *name;
    uint64_t size;
    const MemoryRegionOps *ops;
    void *opaque;
    void *ram;                  /* host memory of a RAM-like region */
    GArray *eventfds;           /* of MemoryRegionEventfd */
    AddressSpace *as;           /* where it is mapped, or NULL */
    uint64_t addr;
    int priority;               /* the higher wins where regions overlap */
    /* A container's subregions, mapped with it at their offsets. */
    GPtrArray *subregions;
    MemoryRegion *container;
    uint64_t offset;            /* in the container */
};

struct MemoryListener {
    void (*region_add)(MemoryListener *l, MemoryRegion *mr);
    void (*region_del)(MemoryListener *l, MemoryRegion *mr);
    void (*eventfd_add)(MemoryListener *l, MemoryRegion *mr,
                        const MemoryRegionEventfd *e);
    void (*eventfd_del)(MemoryListener *l, MemoryRegion *mr,
                        const MemoryRegionEventfd *e);
};

struct AddressSpace {
    const char *name;
    GPtrArray *regions;         /* mapped regions, by address */
    GPtrArray *listeners;
};

extern AddressSpace address_space_memory;
extern AddressSpace address_space_io;

void memory_region_init_io(MemoryRegion *mr, const char *name, uint64_t size,
                           const MemoryRegionOps *ops, void *opaque);
void memory_region_init_ram_ptr(MemoryRegion *mr, const char *name,
                                uint64_t size, void *ptr);
/*
 * A container reads as zeroes where it has no subregion; its subregions
 * follow it when it is mapped, at a higher priority.  Subregions may come
 * and go while the container is mapped.
 */
void memory_region_init_container(MemoryRegion *mr, const char *name,
                                  uint64_t size);
void memory_region_add_subregion(MemoryRegion *container, uint64_t offset,
                                 MemoryRegion *sub);
void memory_region_del_subregion(MemoryRegion *container, MemoryRegion *sub);
/* Unmaps the region if mapped and frees what init allocated. */
void memory_region_destroy(MemoryRegion *mr);

void memory_region_map(MemoryRegion *mr, AddressSpace *as, uint64_t addr,
                       int priority);
void memory_region_unmap(MemoryRegion *mr);
static inline bool memory_region_is_mapped(const MemoryRegion *mr)
{
    return mr->as != NULL;
}

void memory_region_add_eventfd(MemoryRegion *mr, uint64_t offset,
                               unsigned size, bool match_data, uint64_t data,
                               int fd);
void memory_region_del_eventfd(MemoryRegion *mr, uint64_t offset,
                               unsigned size, bool match_data, uint64_t data,
                               int fd);

/* Listeners see every region and eventfd already mapped when registered. */
void memory_listener_register(MemoryListener *l, AddressSpace *as);
void memory_listener_unregister(MemoryListener *l, AddressSpace *as);

/*
 * Guest accesses.  Unassigned addresses read as all ones and ignore writes;
 * the return value says whether every byte hit a region.
 */
bool address_space_read(AddressSpace *as, uint64_t addr, void *buf,
                        uint64_t len);
bool address_space_write(AddressSpace *as, uint64_t addr, const void *buf,
                         uint64_t len);
uint64_t address_space_ldn(AddressSpace *as, uint64_t addr, unsigned size);
void address_space_stn(AddressSpace *as, uint64_t addr, unsigned size,
                       uint64_t val);

#endif
