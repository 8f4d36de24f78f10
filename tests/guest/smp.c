/*
 * AP start-up with the MP specification's INIT-SIPI-SIPI sequence, sent as
 * broadcasts (all excluding self) through the xAPIC interrupt command
 * register, from ring 3.  The APs' path to ring 3 is in ap_trampoline.S.
 */
#include "smp.h"

#include <stdbool.h>

#include "acpi.h"
#include "layout.h"
#include "libc.h"
#include "memory.h"
#include "timing.h"

#define LAPIC_BASE              0xfee00000ull
#define LAPIC_ID                0x020
#define LAPIC_SVR               0x0f0
#define LAPIC_ICR_LOW           0x300
#define LAPIC_ICR_HIGH          0x310
#define SVR_APIC_ENABLE         0x100
#define ICR_INIT                0x00500
#define ICR_STARTUP             0x00600
#define ICR_PENDING             0x01000
#define ICR_LEVEL_ASSERT        0x04000
#define ICR_ALL_EXCLUDING_SELF  0xc0000

#define INIT_DELAY_US           10000   /* MP spec: 10 ms after INIT */
#define SIPI_DELAY_US           200     /* and 200 us after each SIPI */
#define ICR_IDLE_TIMEOUT_US     1000
#define AP_WAIT_US              200000

/* Read by ap_trampoline.S */
uint64_t ap_kernel_stack_top[GUEST_MAX_CPUS];
uint64_t ap_user_stack_top[GUEST_MAX_CPUS];
unsigned int ap_cpu_limit;              /* APs numbered from here on park */
extern const char ap_trampoline[], ap_trampoline_end[];

void smp_ap_main(unsigned int cpu) __attribute__((noreturn));

static uint32_t apic_ids[GUEST_MAX_CPUS];
static unsigned int cpus_online = 1;
static ap_function ap_fn;
static void *ap_arg;

static void lapic_write(uint32_t reg, uint32_t v)
{
    mmio_write32(LAPIC_BASE + reg, v);
}

static uint32_t lapic_read(uint32_t reg)
{
    return mmio_read32(LAPIC_BASE + reg);
}

/*
 * From the local APIC, not CPUID: on the nested hypervisor here CPUID in
 * ring 3 is not intercepted and reports the host CPU.
 */
static uint32_t this_apic_id(void)
{
    return lapic_read(LAPIC_ID) >> 24;
}

/* Ring-3 entry of each AP (from ap_trampoline.S). */
void smp_ap_main(unsigned int cpu)
{
    apic_ids[cpu] = this_apic_id();
    __atomic_fetch_add(&cpus_online, 1, __ATOMIC_RELEASE);
    if (ap_fn) {
        ap_fn(cpu, ap_arg);
    }
    for (;;) {
        cpu_relax();
    }
}

static void send_ipi_all_but_self(uint32_t icr)
{
    uint64_t start = rdtsc();

    while ((lapic_read(LAPIC_ICR_LOW) & ICR_PENDING) &&
           tsc_to_ns(rdtsc() - start) < ICR_IDLE_TIMEOUT_US * 1000) {
        cpu_relax();
    }
    lapic_write(LAPIC_ICR_HIGH, 0);
    lapic_write(LAPIC_ICR_LOW, icr | ICR_ALL_EXCLUDING_SELF);
}

unsigned int smp_start_aps(ap_function fn, void *arg)
{
    unsigned int expected = acpi_count_cpus();
    uint32_t sipi = ICR_STARTUP | AP_TRAMPOLINE_ADDR >> 12;
    uint64_t start;

    apic_ids[0] = this_apic_id();
    if (expected == 1) {
        return 1;
    }
    ap_fn = fn;
    ap_arg = arg;
    ap_cpu_limit = expected && expected < GUEST_MAX_CPUS ? expected : GUEST_MAX_CPUS;
    for (unsigned int i = 1; i < ap_cpu_limit; i++) {
        ap_kernel_stack_top[i] = (uintptr_t)guest_alloc(KERNEL_STACK_SIZE, 16) +
                                 KERNEL_STACK_SIZE;
        ap_user_stack_top[i] = (uintptr_t)guest_alloc(USER_STACK_SIZE, 16) +
                               USER_STACK_SIZE;
    }
    memcpy((void *)AP_TRAMPOLINE_ADDR, ap_trampoline, ap_trampoline_end - ap_trampoline);

    /* IPIs need the local APIC software-enabled; IF=0 keeps it quiet. */
    lapic_write(LAPIC_SVR, lapic_read(LAPIC_SVR) | SVR_APIC_ENABLE);
    send_ipi_all_but_self(ICR_INIT | ICR_LEVEL_ASSERT);
    udelay(INIT_DELAY_US);
    send_ipi_all_but_self(sipi);
    udelay(SIPI_DELAY_US);
    send_ipi_all_but_self(sipi);
    udelay(SIPI_DELAY_US);

    start = rdtsc();
    while (smp_cpus_online() < ap_cpu_limit &&
           tsc_to_ns(rdtsc() - start) < AP_WAIT_US * 1000) {
        cpu_relax();
    }
    return smp_cpus_online();
}

unsigned int smp_cpus_online(void)
{
    return __atomic_load_n(&cpus_online, __ATOMIC_ACQUIRE);
}

uint32_t smp_apic_id(unsigned int cpu)
{
    return apic_ids[cpu];
}
