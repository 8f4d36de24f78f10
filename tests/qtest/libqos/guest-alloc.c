/*
 * A guest physical memory allocator for tests.
 */
#include <glib.h>
#include <inttypes.h>

#include "guest-alloc.h"

#define GUEST_ALLOC_DEFAULT_ALIGN   4096
#define GUEST_RAM_LOW_START         0x100000ULL
#define GUEST_RAM_LOW_END           0x80000000ULL

typedef struct GuestRange {
    uint64_t start, size;
} GuestRange;

struct GuestAlloc {
    GList *free;                /* of GuestRange, by address, never adjacent */
    GHashTable *used;           /* start -> size, both as guint64 keys */
    uint64_t start, end;
};

GuestAlloc *guest_alloc_new(uint64_t start, uint64_t end)
{
    GuestAlloc *a = g_new0(GuestAlloc, 1);
    GuestRange *all = g_new(GuestRange, 1);

    g_assert_cmphex(start, <, end);
    *all = (GuestRange){ start, end - start };
    a->free = g_list_append(NULL, all);
    a->used = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free,
                                    g_free);
    a->start = start;
    a->end = end;
    return a;
}

GuestAlloc *guest_alloc_new_for_ram(uint64_t ram_size)
{
    return guest_alloc_new(GUEST_RAM_LOW_START,
                           MIN(ram_size, GUEST_RAM_LOW_END));
}

void guest_alloc_destroy(GuestAlloc *a)
{
    if (g_hash_table_size(a->used)) {
        g_error("guest_alloc: %u block(s) were not freed",
                g_hash_table_size(a->used));
    }
    g_list_free_full(a->free, g_free);
    g_hash_table_unref(a->used);
    g_free(a);
}

uint64_t guest_alloc_aligned(GuestAlloc *a, uint64_t size, uint64_t align)
{
    g_assert(size && align && !(align & (align - 1)));
    for (GList *l = a->free; l; l = l->next) {
        GuestRange *r = l->data;
        uint64_t addr = (r->start + align - 1) & ~(align - 1);
        uint64_t end = r->start + r->size;
        guint64 *key, *value;

        if (addr < r->start || addr >= end || end - addr < size) {
            continue;
        }
        /* Keep what lies before and after the block free. */
        if (addr + size < end) {
            GuestRange *after = g_new(GuestRange, 1);
            *after = (GuestRange){ addr + size, end - addr - size };
            a->free = g_list_insert_before(a->free, l->next, after);
        }
        if (addr > r->start) {
            r->size = addr - r->start;
        } else {
            a->free = g_list_delete_link(a->free, l);
            g_free(r);
        }
        key = g_new(guint64, 1);
        value = g_new(guint64, 1);
        *key = addr;
        *value = size;
        g_hash_table_insert(a->used, key, value);
        return addr;
    }
    g_error("guest_alloc: no free block of 0x%" PRIx64 " bytes in "
            "[0x%" PRIx64 ", 0x%" PRIx64 ")", size, a->start, a->end);
}

uint64_t guest_alloc(GuestAlloc *a, uint64_t size)
{
    return guest_alloc_aligned(a, size, GUEST_ALLOC_DEFAULT_ALIGN);
}

void guest_free(GuestAlloc *a, uint64_t addr)
{
    guint64 key = addr;
    guint64 *size = g_hash_table_lookup(a->used, &key);
    GuestRange *r = g_new(GuestRange, 1);
    GList *l, *prev = NULL;

    if (!size) {
        g_error("guest_free: 0x%" PRIx64 " was not allocated", addr);
    }
    *r = (GuestRange){ addr, *size };
    g_hash_table_remove(a->used, &key);

    for (l = a->free; l && ((GuestRange *)l->data)->start < addr;
         l = l->next) {
        prev = l;
    }
    a->free = g_list_insert_before(a->free, l, r);
    l = prev ? prev->next : a->free;
    /* Merge with the following range, then with the preceding one. */
    if (l->next) {
        GuestRange *next = l->next->data;
        if (r->start + r->size == next->start) {
            r->size += next->size;
            g_free(next);
            a->free = g_list_delete_link(a->free, l->next);
        }
    }
    if (prev) {
        GuestRange *before = prev->data;
        if (before->start + before->size == r->start) {
            before->size += r->size;
            g_free(r);
            a->free = g_list_delete_link(a->free, l);
        }
    }
}
