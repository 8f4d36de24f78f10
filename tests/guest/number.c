/* Number parsing: strtoull() and fio-style sizes ("4k", "1M"). */
#include "libc.h"

static int digit_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return 99;
}

/* Saturates at ULLONG_MAX on overflow, as the standard function does. */
unsigned long long strtoull(const char *restrict s, char **restrict end, int base)
{
    const char *p = s;
    unsigned long long v = 0;
    bool any = false, overflow = false;

    while (*p == ' ' || *p == '\t') {
        p++;
    }
    if ((base == 0 || base == 16) && p[0] == '0' && (p[1] == 'x' || p[1] == 'X') &&
        digit_value(p[2]) < 16) {
        p += 2;
        base = 16;
    } else if (base == 0) {
        base = p[0] == '0' ? 8 : 10;
    }
    for (; digit_value(*p) < base; p++) {
        unsigned int d = digit_value(*p);

        if (v > (~0ull - d) / base) {
            overflow = true;
        }
        v = v * base + d;
        any = true;
    }
    if (end) {
        *end = (char *)(any ? p : s);
    }
    return overflow ? ~0ull : v;
}

bool parse_size(const char *s, uint64_t *value)
{
    char *end;
    unsigned int shift = 0;
    /* Decimal or 0x-prefixed hex; a leading 0 does not mean octal here. */
    uint64_t v = strtoull(s, &end, s[0] == '0' && (s[1] == 'x' || s[1] == 'X') ? 16 : 10);

    if (end == s || v == ~0ull) {
        return false;
    }
    switch (*end) {
    case 'k': case 'K': shift = 10; end++; break;
    case 'm': case 'M': shift = 20; end++; break;
    case 'g': case 'G': shift = 30; end++; break;
    }
    if (*end || v > (~0ull >> shift)) {
        return false;
    }
    *value = v << shift;
    return true;
}
