/* guest_exit(), guest_poweroff(), the power button and guest_panic(). */
#include <stdarg.h>

#include "exit.h"
#include "libc.h"
#include "x86.h"

#define ISA_DEBUG_EXIT_PORT     0xf4
#define ACPI_PM1A_STS_PORT      0x600
#define ACPI_PWRBTN_STS         0x0100
#define ACPI_PM1A_CNT_PORT      0x604
#define ACPI_SLP_EN_S5          0x2000  /* SLP_EN with SLP_TYP 0 (S5) */

bool guest_power_button_pressed(void)
{
    if (!(inw(ACPI_PM1A_STS_PORT) & ACPI_PWRBTN_STS)) {
        return false;
    }
    outw(ACPI_PM1A_STS_PORT, ACPI_PWRBTN_STS);      /* write 1 to clear */
    return true;
}

void guest_poweroff(void)
{
    outw(ACPI_PM1A_CNT_PORT, ACPI_SLP_EN_S5);
    for (;;) {
        cpu_relax();
    }
}

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
