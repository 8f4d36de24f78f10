/*
 * First ring-3 code of the boot CPU (entered from boot.S): gather what the
 * loader left in low memory, set up console and timing, run main().
 */
#include "acpi.h"
#include "args.h"
#include "console.h"
#include "exit.h"
#include "memory.h"
#include "start_info.h"
#include "timing.h"

int main(int argc, char **argv);
void guest_start(uint64_t start_info_paddr) __attribute__((noreturn));

void guest_start(uint64_t start_info_paddr)
{
    const struct hvm_start_info *si = (const void *)(uintptr_t)start_info_paddr;
    char **argv;
    int argc;

    console_init();
    if (si->magic != HVM_START_MAGIC) {
        guest_panic("no PVH start_info at 0x%lx", start_info_paddr);
    }
    argc = args_init(si->cmdline_paddr, &argv);
    memory_init(si);
    acpi_init(si->rsdp_paddr);
    timing_init();
    guest_exit(main(argc, argv));
}
