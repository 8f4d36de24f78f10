/*
 * Descriptor tables (GDT, TSS, IDT).  These functions run in ring 0 during
 * boot and AP start-up; ring-3 code never calls them.
 */
#ifndef GUEST_CPU_TABLES_H
#define GUEST_CPU_TABLES_H

#include <stdint.h>

/* Operand of lgdt/lidt.  In 32-bit mode only the low 4 bytes of base count. */
struct descriptor_pointer {
    uint16_t limit;
    uint64_t base;
} __attribute__((packed));

extern const struct descriptor_pointer gdt_pointer;
extern const struct descriptor_pointer idt_pointer;

/* Fill the IDT's exception gates and load it (boot CPU). */
void idt_init(void);

/* Point CPU @cpu's TSS at ring-0 stack @rsp0 and load it into TR. */
void tss_load(unsigned int cpu, uint64_t rsp0);

/* What the exception stubs push, lowest address first. */
struct exception_frame {
    uint64_t vector;
    uint64_t error_code;        /* 0 for exceptions without one */
    uint64_t rip;
    uint64_t cs;
    uint64_t rflags;
    uint64_t rsp;
    uint64_t ss;
};

/* Called by the exception stubs in ring 0: report and exit. */
void guest_exception(const struct exception_frame *frame, uint64_t cr2)
    __attribute__((noreturn));

#endif
