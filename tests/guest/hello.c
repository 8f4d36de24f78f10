/*
 * Smallest guest program: proves boot, console, SMP start-up, command line
 * and exit status.  Arguments: exit=N returns N; fault=1 executes ud2, which
 * the exception handler reports before exiting with GUEST_EXIT_EXCEPTION;
 * triple=1 clears the IDT first (it is user-accessible), so that the same
 * ud2 ends in a triple fault, which resets the machine.
 */
#include "cpu_tables.h"
#include "guest.h"

int main(int argc, char **argv)
{
    const char *fault = guest_getarg(argc, argv, "fault");
    const char *triple = guest_getarg(argc, argv, "triple");
    const char *status = guest_getarg(argc, argv, "exit");

    printf("Hello from the guest!\n");
    printf("cpus: %u\n", smp_start_aps(NULL, NULL));
    printf("args: %s\n", guest_cmdline());
    if (triple && strtoull(triple, NULL, 0)) {
        memset((void *)(uintptr_t)idt_pointer.base, 0,
               idt_pointer.limit + 1);
        __asm__ volatile("ud2");
    }
    if (fault && strtoull(fault, NULL, 0)) {
        __asm__ volatile("ud2");
    }
    return status ? strtoull(status, NULL, 0) : 0;
}
