/*
 * Global descriptor table and per-CPU task state segments.
 *
 * In long mode the TSS supplies the ring-0 stack (RSP0) that the CPU switches
 * to when an exception interrupts ring-3 code, and the I/O permission bitmap.
 * Ring 3 runs with IOPL 3, but the nested hypervisor on our test machines
 * does not honour IOPL in ring 3 (port I/O raised #GP); an all-zero bitmap
 * grants every port instead.  All TSSes share the one bitmap placed after
 * them: each TSS's iomap_base is the bitmap's offset from that TSS.
 */
#include <stdint.h>

#include "cpu_tables.h"
#include "layout.h"

struct tss {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
} __attribute__((packed));

#define IO_PORTS        65536

/* Flat segments; bit 53 (L) marks 64-bit code, DPL is bits 45-46. */
uint64_t gdt[GDT_ENTRIES] __attribute__((aligned(16))) = {
    [KERNEL_CS64 / 8] = 0x00af9a000000ffffull,
    [KERNEL_DS / 8]   = 0x00cf92000000ffffull,
    [KERNEL_CS32 / 8] = 0x00cf9a000000ffffull,
    [USER_DS / 8]     = 0x00cff2000000ffffull,
    [USER_CS64 / 8]   = 0x00affa000000ffffull,
};

const struct descriptor_pointer gdt_pointer = {
    .limit = sizeof(gdt) - 1,
    .base = (uint64_t)(uintptr_t)gdt,
};

static struct {
    struct tss tss[GUEST_MAX_CPUS];
    uint8_t io_bitmap[IO_PORTS / 8];    /* bit set = port denied */
    uint8_t io_bitmap_end;              /* the CPU may read one byte past */
} tss_area __attribute__((aligned(16))) = { .io_bitmap_end = 0xff };

void tss_load(unsigned int cpu, uint64_t rsp0)
{
    struct tss *tss = &tss_area.tss[cpu];
    uint64_t base = (uintptr_t)tss;
    uint64_t limit = (uintptr_t)&tss_area.io_bitmap_end - base;
    uint64_t *desc = &gdt[TSS_SEL_BASE / 8 + 2 * cpu];

    tss->rsp[0] = rsp0;
    tss->iomap_base = (uintptr_t)tss_area.io_bitmap - base;
    desc[0] = (limit & 0xffff) | (base & 0xffffff) << 16 | 0x89ull << 40 |
              (limit >> 16 & 0xf) << 48 | (base >> 24 & 0xff) << 56;
    desc[1] = base >> 32;               /* 0x89: present, 64-bit TSS */
    __asm__ volatile("ltr %w0" : : "r"(TSS_SEL_BASE + 16 * cpu));
}
