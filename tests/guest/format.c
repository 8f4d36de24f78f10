/*
 * printf-style formatting.  One formatter writes through an output callback;
 * vsnprintf() points it at a buffer, vprintf() at the console.
 */
#include <stdbool.h>

#include "console.h"
#include "libc.h"
#include "x86.h"

struct output {
    void (*put)(struct output *out, char c);
    char *buf;
    size_t size;
    size_t len;                 /* characters produced, stored or not */
};

struct spec {
    bool left;                  /* '-' */
    bool zero;                  /* '0' */
    int width;
    int precision;              /* -1 if none */
};

static void emit(struct output *out, char c)
{
    out->put(out, c);
    out->len++;
}

static void pad(struct output *out, char c, int n)
{
    while (n-- > 0) {
        emit(out, c);
    }
}

static void format_string(struct output *out, const struct spec *sp, const char *s)
{
    int len = 0;

    if (!s) {
        s = "(null)";
    }
    while (s[len] && (sp->precision < 0 || len < sp->precision)) {
        len++;
    }
    if (!sp->left) {
        pad(out, ' ', sp->width - len);
    }
    for (int i = 0; i < len; i++) {
        emit(out, s[i]);
    }
    if (sp->left) {
        pad(out, ' ', sp->width - len);
    }
}

static void format_number(struct output *out, const struct spec *sp,
                          uint64_t v, bool negative, unsigned int base,
                          bool upper, const char *prefix)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char tmp[24];
    int n = 0, prefix_len = 0, zeros, total;

    do {
        tmp[n++] = digits[v % base];
        v /= base;
    } while (v);
    if (sp->precision == 0 && n == 1 && tmp[0] == '0') {
        n = 0;                  /* "%.0d" of 0 prints nothing */
    }
    if (negative) {
        prefix = "-";
    }
    if (prefix) {
        prefix_len = strlen(prefix);
    }
    zeros = sp->precision > n ? sp->precision - n : 0;
    total = prefix_len + zeros + n;
    if (sp->zero && !sp->left && sp->precision < 0 && sp->width > total) {
        zeros += sp->width - total;
        total = sp->width;
    }
    if (!sp->left) {
        pad(out, ' ', sp->width - total);
    }
    for (int i = 0; i < prefix_len; i++) {
        emit(out, prefix[i]);
    }
    pad(out, '0', zeros);
    while (n) {
        emit(out, tmp[--n]);
    }
    if (sp->left) {
        pad(out, ' ', sp->width - total);
    }
}

static int parse_int(const char **p)
{
    int v = 0;

    while (**p >= '0' && **p <= '9') {
        v = v * 10 + (*(*p)++ - '0');
    }
    return v;
}

/* Length modifiers, counted as in C: 'l' once is long, twice long long. */
enum length { LEN_HH, LEN_H, LEN_INT, LEN_L, LEN_LL, LEN_Z };

static uint64_t arg_unsigned(va_list *ap, enum length len)
{
    switch (len) {
    case LEN_HH: return (unsigned char)va_arg(*ap, unsigned int);
    case LEN_H:  return (unsigned short)va_arg(*ap, unsigned int);
    case LEN_INT: return va_arg(*ap, unsigned int);
    case LEN_L:  return va_arg(*ap, unsigned long);
    case LEN_LL: return va_arg(*ap, unsigned long long);
    case LEN_Z:  return va_arg(*ap, size_t);
    }
    return 0;
}

static int64_t arg_signed(va_list *ap, enum length len)
{
    switch (len) {
    case LEN_HH: return (signed char)va_arg(*ap, int);
    case LEN_H:  return (short)va_arg(*ap, int);
    case LEN_INT: return va_arg(*ap, int);
    case LEN_L:  return va_arg(*ap, long);
    case LEN_LL: return va_arg(*ap, long long);
    case LEN_Z:  return va_arg(*ap, long);  /* ssize_t */
    }
    return 0;
}

static void format(struct output *out, const char *fmt, va_list ap_in)
{
    va_list ap;

    va_copy(ap, ap_in);
    for (const char *p = fmt; *p; p++) {
        struct spec sp = { .precision = -1 };
        enum length len = LEN_INT;

        if (*p != '%') {
            emit(out, *p);
            continue;
        }
        for (p++; *p == '-' || *p == '0'; p++) {
            if (*p == '-') {
                sp.left = true;
            } else {
                sp.zero = true;
            }
        }
        if (*p == '*') {
            sp.width = va_arg(ap, int);
            if (sp.width < 0) {
                sp.left = true;
                sp.width = -sp.width;
            }
            p++;
        } else {
            sp.width = parse_int(&p);
        }
        if (*p == '.') {
            p++;
            if (*p == '*') {
                sp.precision = va_arg(ap, int);
                p++;
            } else {
                sp.precision = parse_int(&p);
            }
        }
        for (; *p == 'h' || *p == 'l' || *p == 'z'; p++) {
            if (*p == 'z') {
                len = LEN_Z;
            } else if (*p == 'h') {
                len = len == LEN_H ? LEN_HH : LEN_H;
            } else {
                len = len == LEN_L ? LEN_LL : LEN_L;
            }
        }

        switch (*p) {
        case 'd':
        case 'i': {
            int64_t v = arg_signed(&ap, len);

            format_number(out, &sp, v < 0 ? -(uint64_t)v : (uint64_t)v,
                          v < 0, 10, false, NULL);
            break;
        }
        case 'u':
            format_number(out, &sp, arg_unsigned(&ap, len), false, 10, false, NULL);
            break;
        case 'x':
        case 'X':
            format_number(out, &sp, arg_unsigned(&ap, len), false, 16,
                          *p == 'X', NULL);
            break;
        case 'o':
            format_number(out, &sp, arg_unsigned(&ap, len), false, 8, false, NULL);
            break;
        case 'p':
            format_number(out, &sp, (uintptr_t)va_arg(ap, void *), false, 16,
                          false, "0x");
            break;
        case 'c':
            pad(out, ' ', sp.left ? 0 : sp.width - 1);
            emit(out, (char)va_arg(ap, int));
            pad(out, ' ', sp.left ? sp.width - 1 : 0);
            break;
        case 's':
            format_string(out, &sp, va_arg(ap, const char *));
            break;
        case '%':
            emit(out, '%');
            break;
        default:                /* unknown conversion: print it as is */
            emit(out, '%');
            if (!*p) {
                p--;
            } else {
                emit(out, *p);
            }
            break;
        }
    }
    va_end(ap);
}

static void put_buffer(struct output *out, char c)
{
    if (out->len + 1 < out->size) {
        out->buf[out->len] = c;
    }
}

int vsnprintf(char *restrict buf, size_t size, const char *restrict fmt, va_list ap)
{
    struct output out = { .put = put_buffer, .buf = buf, .size = size };

    format(&out, fmt, ap);
    if (size) {
        out.buf[out.len < size ? out.len : size - 1] = '\0';
    }
    return out.len;
}

int snprintf(char *restrict buf, size_t size, const char *restrict fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

static void put_console(struct output *out, char c)
{
    console_write(&c, 1);
}

/* Serialises printf() calls from different CPUs (ring 3, interrupts off). */
static int console_lock;

int vprintf(const char *restrict fmt, va_list ap)
{
    struct output out = { .put = put_console };

    while (__atomic_exchange_n(&console_lock, 1, __ATOMIC_ACQUIRE)) {
        cpu_relax();
    }
    format(&out, fmt, ap);
    __atomic_store_n(&console_lock, 0, __ATOMIC_RELEASE);
    return out.len;
}

int printf(const char *restrict fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vprintf(fmt, ap);
    va_end(ap);
    return n;
}
