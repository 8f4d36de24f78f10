/*
 * Exception report.  Runs in ring 0 on the CPU's TSS stack; prints without
 * taking the printf() lock, since the faulting code may hold it.
 */
#include "console.h"
#include "cpu_tables.h"
#include "exit.h"
#include "libc.h"

static const char *const exception_names[] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM",
    "#DF", "", "#TS", "#NP", "#SS", "#GP", "#PF", "",
    "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
};

void guest_exception(const struct exception_frame *f, uint64_t cr2)
{
    char buf[200];
    const char *name = f->vector < sizeof(exception_names) / sizeof(exception_names[0])
                       ? exception_names[f->vector] : "";
    int n = snprintf(buf, sizeof(buf),
                     "guest: exception %lu %s error 0x%lx rip 0x%lx cs 0x%lx "
                     "rflags 0x%lx rsp 0x%lx cr2 0x%lx\n",
                     f->vector, name, f->error_code, f->rip, f->cs, f->rflags,
                     f->rsp, cr2);

    console_write(buf, n < (int)sizeof(buf) ? n : (int)sizeof(buf) - 1);
    guest_exit(GUEST_EXIT_EXCEPTION);
}
