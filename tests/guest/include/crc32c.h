/*
 * CRC-32C (Castagnoli): reflected polynomial 0x82f63b78, initial value and
 * final XOR 0xffffffff; crc32c("123456789") = 0xe3069283.  Uses the SSE4.2
 * crc32 instruction when the CPU has it, a table otherwise.
 */
#ifndef GUEST_CRC32C_H
#define GUEST_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* CRC-32C of @len bytes at @buf. */
uint32_t crc32c(const void *buf, size_t len);

/*
 * Continue a CRC over more data: crc32c_extend(crc32c(a), b) is the
 * CRC-32C of a followed by b; start from crc32c_extend(0, ...) == crc32c().
 */
uint32_t crc32c_extend(uint32_t crc, const void *buf, size_t len);

/* "sse4.2" or "table": which implementation runs. */
const char *crc32c_implementation(void);

#endif
