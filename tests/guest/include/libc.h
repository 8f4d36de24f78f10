/*
 * The subset of the C library that guest programs get.  Standard names and
 * prototypes, so the compiler's format checking works.  printf() writes to
 * the console (see console.h) and keeps each call's output together when
 * several CPUs print.
 */
#ifndef GUEST_LIBC_H
#define GUEST_LIBC_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);

/* Bases 0 (auto: 0x.. hex, 0.. octal, else decimal), 8, 10 and 16. */
unsigned long long strtoull(const char *restrict s, char **restrict end, int base);

/*
 * Parse a whole string as a decimal or 0x-prefixed hexadecimal number with an
 * optional k/K, m/M or g/G suffix (powers of 1024), as fio does for "bs=4k".
 * Returns false, leaving *value untouched, if anything else follows the
 * number or it overflows.
 */
bool parse_size(const char *s, uint64_t *value);

/*
 * Conversions: %d %i %u %x %X %o %c %s %p %%, length modifiers hh h l ll z,
 * flags '-' and '0', width and precision (also as '*').
 */
int vsnprintf(char *restrict buf, size_t size, const char *restrict fmt, va_list ap);
int snprintf(char *restrict buf, size_t size, const char *restrict fmt, ...)
    __attribute__((format(printf, 3, 4)));
int vprintf(const char *restrict fmt, va_list ap);
int printf(const char *restrict fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
