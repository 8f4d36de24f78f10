/*
 * Address spaces and the regions mapped into them.
 */
#include <string.h>

#include "exec/memory.h"
#include "qemu/eventfd.h"

AddressSpace address_space_memory = { .name = "memory" };
AddressSpace address_space_io = { .name = "I/O" };

static void address_space_init_once(AddressSpace *as)
{
    if (!as->regions) {
        as->regions = g_ptr_array_new();
        as->listeners = g_ptr_array_new();
    }
}

static void memory_region_init(MemoryRegion *mr, const char *name,
                               uint64_t size)
{
    memset(mr, 0, sizeof(*mr));
    mr->name = g_strdup(name);
    mr->size = size;
    mr->eventfds = g_array_new(FALSE, FALSE, sizeof(MemoryRegionEventfd));
}

void memory_region_init_io(MemoryRegion *mr, const char *name, uint64_t size,
                           const MemoryRegionOps *ops, void *opaque)
{
    memory_region_init(mr, name, size);
    mr->ops = ops;
    mr->opaque = opaque;
}

void memory_region_init_ram_ptr(MemoryRegion *mr, const char *name,
                                uint64_t size, void *ptr)
{
    memory_region_init(mr, name, size);
    mr->ram = ptr;
}

static uint64_t container_read(void *opaque, uint64_t addr, unsigned size)
{
    return 0;
}

static const MemoryRegionOps container_ops = {
    .read = container_read,
};

void memory_region_init_container(MemoryRegion *mr, const char *name,
                                  uint64_t size)
{
    memory_region_init_io(mr, name, size, &container_ops, NULL);
    mr->subregions = g_ptr_array_new();
}

void memory_region_add_subregion(MemoryRegion *container, uint64_t offset,
                                 MemoryRegion *sub)
{
    g_assert(!sub->container && offset + sub->size <= container->size);
    sub->container = container;
    sub->offset = offset;
    g_ptr_array_add(container->subregions, sub);
    if (container->as) {
        memory_region_map(sub, container->as, container->addr + offset,
                          container->priority + 1);
    }
}

void memory_region_del_subregion(MemoryRegion *container, MemoryRegion *sub)
{
    g_assert(sub->container == container);
    memory_region_unmap(sub);
    g_ptr_array_remove(container->subregions, sub);
    sub->container = NULL;
}

void memory_region_destroy(MemoryRegion *mr)
{
    if (!mr->name) {
        return;
    }
    memory_region_unmap(mr);
    if (mr->subregions) {
        g_assert(mr->subregions->len == 0);
        g_ptr_array_unref(mr->subregions);
    }
    g_array_unref(mr->eventfds);
    g_free(mr->name);
    memset(mr, 0, sizeof(*mr));
}

#define FOR_EACH_LISTENER(as, l) \
    for (guint _i = 0; _i < (as)->listeners->len && \
         ((l) = g_ptr_array_index((as)->listeners, _i)); _i++)

static gint region_cmp(gconstpointer a, gconstpointer b)
{
    const MemoryRegion *ra = *(MemoryRegion *const *)a;
    const MemoryRegion *rb = *(MemoryRegion *const *)b;

    return ra->addr < rb->addr ? -1 : ra->addr > rb->addr;
}

void memory_region_map(MemoryRegion *mr, AddressSpace *as, uint64_t addr,
                       int priority)
{
    MemoryListener *l;

    address_space_init_once(as);
    memory_region_unmap(mr);
    mr->as = as;
    mr->addr = addr;
    mr->priority = priority;
    g_ptr_array_add(as->regions, mr);
    g_ptr_array_sort(as->regions, region_cmp);
    FOR_EACH_LISTENER(as, l) {
        if (l->region_add) {
            l->region_add(l, mr);
        }
        for (guint i = 0; l->eventfd_add && i < mr->eventfds->len; i++) {
            l->eventfd_add(l, mr, &g_array_index(mr->eventfds,
                                                 MemoryRegionEventfd, i));
        }
    }
    for (guint i = 0; mr->subregions && i < mr->subregions->len; i++) {
        MemoryRegion *sub = g_ptr_array_index(mr->subregions, i);
        memory_region_map(sub, as, addr + sub->offset, priority + 1);
    }
}

void memory_region_unmap(MemoryRegion *mr)
{
    AddressSpace *as = mr->as;
    MemoryListener *l;

    if (!as) {
        return;
    }
    for (guint i = 0; mr->subregions && i < mr->subregions->len; i++) {
        memory_region_unmap(g_ptr_array_index(mr->subregions, i));
    }
    FOR_EACH_LISTENER(as, l) {
        for (guint i = 0; l->eventfd_del && i < mr->eventfds->len; i++) {
            l->eventfd_del(l, mr, &g_array_index(mr->eventfds,
                                                 MemoryRegionEventfd, i));
        }
        if (l->region_del) {
            l->region_del(l, mr);
        }
    }
    g_ptr_array_remove(as->regions, mr);
    mr->as = NULL;
}

void memory_region_add_eventfd(MemoryRegion *mr, uint64_t offset,
                               unsigned size, bool match_data, uint64_t data,
                               int fd)
{
    MemoryRegionEventfd e = {
        .offset = offset, .size = size, .match_data = match_data,
        .data = data, .fd = fd,
    };
    MemoryListener *l;

    g_array_append_val(mr->eventfds, e);
    if (mr->as) {
        FOR_EACH_LISTENER(mr->as, l) {
            if (l->eventfd_add) {
                l->eventfd_add(l, mr, &e);
            }
        }
    }
}

void memory_region_del_eventfd(MemoryRegion *mr, uint64_t offset,
                               unsigned size, bool match_data, uint64_t data,
                               int fd)
{
    MemoryListener *l;

    for (guint i = 0; i < mr->eventfds->len; i++) {
        MemoryRegionEventfd *e = &g_array_index(mr->eventfds,
                                                MemoryRegionEventfd, i);
        if (e->offset != offset || e->size != size || e->fd != fd ||
            e->match_data != match_data || (match_data && e->data != data)) {
            continue;
        }
        if (mr->as) {
            FOR_EACH_LISTENER(mr->as, l) {
                if (l->eventfd_del) {
                    l->eventfd_del(l, mr, e);
                }
            }
        }
        g_array_remove_index(mr->eventfds, i);
        return;
    }
    g_assert_not_reached();
}

void memory_listener_register(MemoryListener *l, AddressSpace *as)
{
    address_space_init_once(as);
    g_ptr_array_add(as->listeners, l);
    for (guint r = 0; r < as->regions->len; r++) {
        MemoryRegion *mr = g_ptr_array_index(as->regions, r);
        if (l->region_add) {
            l->region_add(l, mr);
        }
        for (guint i = 0; l->eventfd_add && i < mr->eventfds->len; i++) {
            l->eventfd_add(l, mr, &g_array_index(mr->eventfds,
                                                 MemoryRegionEventfd, i));
        }
    }
}

void memory_listener_unregister(MemoryListener *l, AddressSpace *as)
{
    g_ptr_array_remove(as->listeners, l);
}

/*
 * The region covering addr with the highest priority; *len is clipped to
 * where that region ends.  An access to RAM or to nothing is also clipped
 * where a higher-priority region starts; an access to an I/O region is not:
 * as on a bus, the device decoding the first byte takes the whole access
 * (the byte-wide reset register at 0xcf9 lives inside the PCI
 * configuration address register at 0xcf8, for example).
 */
static MemoryRegion *address_space_lookup(AddressSpace *as, uint64_t addr,
                                          uint64_t *len)
{
    MemoryRegion *best = NULL;
    uint64_t end = addr + *len, next = end;

    if (!as->regions) {
        return NULL;
    }
    for (guint i = 0; i < as->regions->len; i++) {
        MemoryRegion *mr = g_ptr_array_index(as->regions, i);
        if (mr->addr > addr) {
            next = MIN(next, mr->addr);
        } else if (addr - mr->addr < mr->size &&
                   (!best || mr->priority >= best->priority)) {
            best = mr;
        }
    }
    if (!best || best->ram) {
        end = next;
    }
    if (best && end - best->addr > best->size) {
        end = best->addr + best->size;
    }
    *len = end - addr;
    return best;
}

/* A write that matches an eventfd signals it instead of reaching the ops. */
static bool region_eventfd_write(MemoryRegion *mr, uint64_t offset,
                                 uint64_t data, unsigned size)
{
    for (guint i = 0; i < mr->eventfds->len; i++) {
        MemoryRegionEventfd *e = &g_array_index(mr->eventfds,
                                                MemoryRegionEventfd, i);
        if (e->offset == offset && e->size == size &&
            (!e->match_data || e->data == data)) {
            eventfd_signal(e->fd);
            return true;
        }
    }
    return false;
}

static uint64_t ldn_le(const uint8_t *p, unsigned size)
{
    uint64_t v = 0;

    for (unsigned i = 0; i < size; i++) {
        v |= (uint64_t)p[i] << (8 * i);
    }
    return v;
}

static void stn_le(uint8_t *p, unsigned size, uint64_t v)
{
    for (unsigned i = 0; i < size; i++) {
        p[i] = v >> (8 * i);
    }
}

static bool address_space_rw(AddressSpace *as, uint64_t addr, uint8_t *buf,
                             uint64_t len, bool is_write)
{
    bool ok = true;

    while (len) {
        uint64_t chunk = len;
        MemoryRegion *mr = address_space_lookup(as, addr, &chunk);
        uint64_t off;

        if (!mr) {
            if (!is_write) {
                memset(buf, 0xff, chunk);
            }
            ok = false;
        } else if (mr->ram) {
            off = addr - mr->addr;
            if (is_write) {
                memcpy((uint8_t *)mr->ram + off, buf, chunk);
            } else {
                memcpy(buf, (uint8_t *)mr->ram + off, chunk);
            }
        } else {
            /* Natural sizes, as a CPU would issue them. */
            off = addr - mr->addr;
            for (uint64_t done = 0; done < chunk;) {
                unsigned size = 8;
                while (size > chunk - done || ((off + done) & (size - 1))) {
                    size >>= 1;
                }
                if (is_write) {
                    uint64_t v = ldn_le(buf + done, size);
                    if (!region_eventfd_write(mr, off + done, v, size) &&
                        mr->ops->write) {
                        mr->ops->write(mr->opaque, off + done, v, size);
                    }
                } else {
                    uint64_t v = mr->ops->read ?
                        mr->ops->read(mr->opaque, off + done, size) : ~0ULL;
                    stn_le(buf + done, size, v);
                }
                done += size;
            }
        }
        addr += chunk;
        buf += chunk;
        len -= chunk;
    }
    return ok;
}

bool address_space_read(AddressSpace *as, uint64_t addr, void *buf,
                        uint64_t len)
{
    return address_space_rw(as, addr, buf, len, false);
}

bool address_space_write(AddressSpace *as, uint64_t addr, const void *buf,
                         uint64_t len)
{
    return address_space_rw(as, addr, (uint8_t *)buf, len, true);
}

uint64_t address_space_ldn(AddressSpace *as, uint64_t addr, unsigned size)
{
    uint8_t buf[8];

    address_space_rw(as, addr, buf, size, false);
    return ldn_le(buf, size);
}

void address_space_stn(AddressSpace *as, uint64_t addr, unsigned size,
                       uint64_t val)
{
    uint8_t buf[8];

    stn_le(buf, size, val);
    address_space_rw(as, addr, buf, size, true);
}
