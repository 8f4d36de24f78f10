/*
 * Parsing of numbers, sizes and booleans; sizes for messages.
 */
#include <errno.h>
#include <glib.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "qemu/cutils.h"

bool parse_uint64(const char *str, uint64_t *out)
{
    char *end;
    unsigned long long v;

    if (!str || !*str || *str == '-' || *str == '+' || *str == ' ') {
        return false;
    }
    errno = 0;
    v = strtoull(str, &end, 0);
    if (errno || *end) {
        return false;
    }
    *out = v;
    return true;
}

static int suffix_shift(char c)
{
    switch (c) {
    case 'b': case 'B': return 0;
    case 'k': case 'K': return 10;
    case 'm': case 'M': return 20;
    case 'g': case 'G': return 30;
    case 't': case 'T': return 40;
    case 'p': case 'P': return 50;
    case 'e': case 'E': return 60;
    default: return -1;
    }
}

bool parse_size(const char *str, uint64_t default_unit, uint64_t *out)
{
    const char *p = str;
    uint64_t whole = 0, frac_num = 0, frac_den = 1, mult;
    bool digits = false;
    int shift;

    if (!str) {
        return false;
    }
    for (; *p >= '0' && *p <= '9'; p++, digits = true) {
        if (whole > (UINT64_MAX - 9) / 10) {
            return false;
        }
        whole = whole * 10 + (*p - '0');
    }
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++, digits = true) {
            if (frac_den >= 1000000000000ULL) {
                return false;
            }
            frac_num = frac_num * 10 + (*p - '0');
            frac_den *= 10;
        }
    }
    if (!digits) {
        return false;
    }
    if (*p == '\0') {
        mult = default_unit;
    } else {
        shift = suffix_shift(*p);
        if (shift < 0 || p[1] != '\0') {
            return false;
        }
        mult = 1ULL << shift;
    }
    if (whole && mult > UINT64_MAX / whole) {
        return false;
    }
    /* The fractional part must come out as whole bytes. */
    if (frac_num) {
        unsigned __int128 f = (unsigned __int128)frac_num * mult;
        if (f % frac_den || whole * mult > UINT64_MAX - f / frac_den) {
            return false;
        }
        *out = whole * mult + (uint64_t)(f / frac_den);
        return true;
    }
    *out = whole * mult;
    return true;
}

bool parse_bool(const char *str, bool *out)
{
    static const char *const yes[] = { "on", "yes", "true" };
    static const char *const no[] = { "off", "no", "false" };

    for (unsigned i = 0; i < 3; i++) {
        if (!strcmp(str, yes[i])) {
            *out = true;
            return true;
        }
        if (!strcmp(str, no[i])) {
            *out = false;
            return true;
        }
    }
    return false;
}

char *size_to_str(uint64_t bytes)
{
    static const char *const units[] = {
        "KiB", "MiB", "GiB", "TiB", "PiB", "EiB",
    };
    int i = -1;

    while (i + 1 < (int)G_N_ELEMENTS(units) && bytes >> (10 * (i + 2))) {
        i++;
    }
    if (i < 0) {
        return g_strdup_printf("%" PRIu64 " bytes", bytes);
    }
    if (!(bytes & ((1ULL << (10 * (i + 1))) - 1))) {
        return g_strdup_printf("%" PRIu64 " %s", bytes >> (10 * (i + 1)),
                               units[i]);
    }
    return g_strdup_printf("%.1f %s", (double)bytes / (1ULL << (10 * (i + 1))),
                           units[i]);
}

bool id_wellformed(const char *id)
{
    if (!g_ascii_isalpha(id[0])) {
        return false;
    }
    for (const char *p = id + 1; *p; p++) {
        if (!g_ascii_isalnum(*p) && !strchr("-._", *p)) {
            return false;
        }
    }
    return true;
}
