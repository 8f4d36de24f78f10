/* guest_exit() and guest_panic(). */
#include <stdarg.h>

#include "exit.h"
#include "libc.h"
#include "x86.h"

#define ISA_DEBUG_EXIT_PORT     0xf4
#define ACPI_PM1A_CNT_PORT      0x604
#define ACPI_SLP_EN_S5          0x2000  /* SLP_EN with SLP_TYP 0 (S5) */

void guest_exit(uint32_t status)
{
    outl(ISA_DEBUG_EXIT_PORT, status);
    outw(ACPI_PM1A_CNT_PORT, ACPI_SLP_EN_S5);
    for (;;) {
        cpu_relax();
    }
}

void guest_panic(const char *fmt, ...)
{
    va_list ap;

    printf("guest panic: ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    guest_exit(GUEST_EXIT_PANIC);
}
