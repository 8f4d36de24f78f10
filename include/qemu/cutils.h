/*
 * Parsing of numbers, sizes and booleans as QEMU's command line spells them,
 * and sizes as messages spell them.
 */
#ifndef QEMU_CUTILS_H
#define QEMU_CUTILS_H

#include <stdbool.h>
#include <stdint.h>

/*
 * "4k", "256M", "1G", "512": binary suffixes B, K, M, G, T, P, E (either
 * case).  A number without suffix is multiplied by default_unit.  Fractions
 * ("1.5G") are accepted if the result is a whole number of bytes.
 */
bool parse_size(const char *str, uint64_t default_unit, uint64_t *out);
/* Decimal, 0x hexadecimal or 0 octal, the whole string, no sign. */
bool parse_uint64(const char *str, uint64_t *out);
/* on/off, yes/no, true/false. */
bool parse_bool(const char *str, bool *out);
/*
 * An identifier as QEMU wants ids and node names: a letter, then letters,
 * digits, '-', '.' and '_'.
 */
bool id_wellformed(const char *id);
/* "64 MiB", "1.5 GiB", "512 bytes": for messages (g_free the result). */
char *size_to_str(uint64_t bytes);

#endif
