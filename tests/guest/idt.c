/*
 * Interrupt descriptor table: the 32 exception vectors, all routed to
 * guest_exception().  Guest programs run with interrupts disabled, so
 * nothing else is ever delivered.
 */
#include <stdint.h>

#include "cpu_tables.h"
#include "exception_stubs.h"
#include "layout.h"

struct idt_gate {
    uint16_t offset_low;
    uint16_t selector;
    uint8_t ist;
    uint8_t type;
    uint16_t offset_mid;
    uint32_t offset_high;
    uint32_t reserved;
};

#define GATE_INTERRUPT_PRESENT  0x8e    /* present, DPL 0, 64-bit interrupt gate */

static struct idt_gate idt[EXCEPTION_VECTORS] __attribute__((aligned(16)));

const struct descriptor_pointer idt_pointer = {
    .limit = sizeof(idt) - 1,
    .base = (uint64_t)(uintptr_t)idt,
};

void idt_init(void)
{
    for (unsigned int v = 0; v < EXCEPTION_VECTORS; v++) {
        uint64_t handler = (uintptr_t)exception_stubs + v * EXCEPTION_STUB_SIZE;

        idt[v] = (struct idt_gate) {
            .offset_low = handler,
            .selector = KERNEL_CS64,
            .type = GATE_INTERRUPT_PRESENT,
            .offset_mid = handler >> 16,
            .offset_high = handler >> 32,
        };
    }
    __asm__ volatile("lidt %0" : : "m"(idt_pointer));
}
