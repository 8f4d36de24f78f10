/*
 * CRC-32C.  The SSE4.2 crc32 instruction works on general registers, so it
 * is usable in this -mgeneral-regs-only code through inline assembly.
 *
 * CPUID runs here in ring 3.  On the nested hypervisor of our test machines
 * ring-3 CPUID is not intercepted and reports the host CPU, which is also the
 * CPU that executes this ring-3 code natively; under a hypervisor that does
 * intercept it, the VMM's answer is the one to follow.  Either way the answer
 * describes the CPU this code runs on.
 */
#include "crc32c.h"

#include <stdbool.h>

#include "x86.h"

#define CRC32C_POLY_REFLECTED   0x82f63b78u
#define CPUID_1_ECX_SSE4_2      (1u << 20)

enum implementation { UNKNOWN, HARDWARE, TABLE };

static enum implementation implementation;
static uint32_t table[256];

static void build_table(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;

        for (int bit = 0; bit < 8; bit++) {
            c = c & 1 ? c >> 1 ^ CRC32C_POLY_REFLECTED : c >> 1;
        }
        table[i] = c;
    }
}

static void choose(void)
{
    uint32_t a, b, c, d;

    cpuid(1, 0, &a, &b, &c, &d);
    if (c & CPUID_1_ECX_SSE4_2) {
        implementation = HARDWARE;
    } else {
        build_table();
        implementation = TABLE;
    }
}

static uint32_t update_table(uint32_t crc, const uint8_t *p, size_t len)
{
    while (len--) {
        crc = crc >> 8 ^ table[(crc ^ *p++) & 0xff];
    }
    return crc;
}

static uint32_t update_hardware(uint32_t crc, const uint8_t *p, size_t len)
{
    uint64_t c = crc;

    for (; len >= 8; p += 8, len -= 8) {
        uint64_t v;

        __builtin_memcpy(&v, p, 8);
        __asm__("crc32q %1, %0" : "+r"(c) : "rm"(v));
    }
    for (; len; p++, len--) {
        __asm__("crc32b %1, %k0" : "+r"(c) : "rm"(*p));
    }
    return c;
}

uint32_t crc32c_extend(uint32_t crc, const void *buf, size_t len)
{
    if (implementation == UNKNOWN) {
        choose();
    }
    crc = ~crc;
    crc = implementation == HARDWARE ? update_hardware(crc, buf, len)
                                     : update_table(crc, buf, len);
    return ~crc;
}

uint32_t crc32c(const void *buf, size_t len)
{
    return crc32c_extend(0, buf, len);
}

const char *crc32c_implementation(void)
{
    if (implementation == UNKNOWN) {
        choose();
    }
    return implementation == HARDWARE ? "sse4.2" : "table";
}
