/*
 * Constants shared by the assembly and C parts of the guest library:
 * segment selectors, per-CPU limits and fixed low-memory addresses.
 * Only #defines here: this header is included from .S files.
 */
#ifndef GUEST_LAYOUT_H
#define GUEST_LAYOUT_H

/* GDT layout (see gdt.c) */
#define KERNEL_CS64     0x08
#define KERNEL_DS       0x10
#define KERNEL_CS32     0x18    /* used by APs on their way out of real mode */
#define USER_DS         0x20
#define USER_CS64       0x28
#define TSS_SEL_BASE    0x30    /* one 16-byte TSS descriptor per CPU */
#define USER_RPL        3

#define GUEST_MAX_CPUS  64
#define GDT_ENTRIES     (TSS_SEL_BASE / 8 + 2 * GUEST_MAX_CPUS)

/* Ring-0 stack per CPU: only exception reports run on it. */
#define KERNEL_STACK_SIZE   8192
/* Ring-3 stack per CPU: main() on the BSP, the per-AP function on APs. */
#define USER_STACK_SIZE     65536

/* Real-mode AP trampoline page; the SIPI vector is its page number. */
#define AP_TRAMPOLINE_ADDR  0x8000

/*
 * RFLAGS for ring 3: IOPL 3, IF clear, reserved bit 1 set.  The nested
 * hypervisor here ignores IOPL; the TSS I/O bitmap grants the ports (gdt.c).
 */
#define USER_RFLAGS     0x3002

#define CR0_PE          (1 << 0)
#define CR0_NW          (1 << 29)
#define CR0_CD          (1 << 30)
#define CR0_PG          (1 << 31)
#define CR4_PAE         (1 << 5)
#define MSR_EFER        0xc0000080
#define EFER_LME        (1 << 8)

#endif
