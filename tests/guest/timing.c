/*
 * TSC frequency and conversions.
 *
 * The preferred source is kvmclock: KVM publishes the TSC-to-nanoseconds
 * scale (tsc_to_system_mul, tsc_shift) of the pvclock structure, and the
 * same pair converts ticks to nanoseconds here.  Without kvmclock the
 * frequency comes from CPUID (leaf 0x15, 0x16 or the hypervisor leaf
 * 0x40000010) and a mul/shift pair is derived from it.  Integer arithmetic
 * only: the library is built without floating point.
 *
 * The probing runs in ring 0: on the nested hypervisor here CPUID executed
 * in ring 3 is not intercepted and reports the host's leaves, not the VMM's.
 */
#include "timing.h"

#include <stdbool.h>

#include "libc.h"
#include "pvclock.h"

#define NSEC_PER_SEC        1000000000ull
#define ASSUMED_TSC_HZ      1000000000ull

#define CPUID_HYPERVISOR_BIT    (1u << 31)      /* leaf 1, ECX */
#define CPUID_TSC_CRYSTAL       0x15
#define CPUID_PROCESSOR_FREQ    0x16
#define CPUID_HV_TIMING         0x40000010

static struct pvclock_vcpu_time_info kvmclock __attribute__((aligned(32)));
static uint64_t cpuid_hz;                /* used when kvmclock is absent */

/* ns = (ticks << shift) * mul >> 32, with a right shift for shift < 0 */
static uint32_t ns_mul;
static int ns_shift;
static uint64_t hz;

static uint64_t cpuid_tsc_hz(void)
{
    uint32_t max, a, b, c, d;

    cpuid(0, 0, &max, &b, &c, &d);
    if (max >= CPUID_TSC_CRYSTAL) {
        cpuid(CPUID_TSC_CRYSTAL, 0, &a, &b, &c, &d);
        if (a && b && c) {
            return (uint64_t)c * b / a;
        }
    }
    if (max >= CPUID_PROCESSOR_FREQ) {
        cpuid(CPUID_PROCESSOR_FREQ, 0, &a, &b, &c, &d);
        if (a & 0xffff) {
            return (uint64_t)(a & 0xffff) * 1000000;
        }
    }
    cpuid(1, 0, &a, &b, &c, &d);
    if (c & CPUID_HYPERVISOR_BIT) {
        cpuid(0x40000000, 0, &max, &b, &c, &d);
        if (max >= CPUID_HV_TIMING) {
            cpuid(CPUID_HV_TIMING, 0, &a, &b, &c, &d);
            return (uint64_t)a * 1000;
        }
    }
    return 0;
}

static bool kvmclock_available(void)
{
    uint32_t max, sig1, sig2, sig3, features, unused;

    cpuid(KVM_CPUID_SIGNATURE, 0, &max, &sig1, &sig2, &sig3);
    /* "KVMKVMKVM\0\0\0" */
    if (sig1 != 0x4b4d564b || sig2 != 0x564b4d56 || sig3 != 0x4d ||
        max < KVM_CPUID_FEATURES) {
        return false;
    }
    cpuid(KVM_CPUID_FEATURES, 0, &features, &unused, &unused, &unused);
    return features & KVM_FEATURE_CLOCKSOURCE2;
}

void timing_probe(void)
{
    if (kvmclock_available()) {
        wrmsr(MSR_KVM_SYSTEM_TIME_NEW, (uintptr_t)&kvmclock | 1);
    } else {
        cpuid_hz = cpuid_tsc_hz();
    }
}

/* Read mul/shift consistently: KVM may update the structure at any time. */
static void read_kvmclock(uint32_t *mul, int *shift)
{
    volatile struct pvclock_vcpu_time_info *c = &kvmclock;
    uint32_t version;

    do {
        version = c->version;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        *mul = c->tsc_to_system_mul;
        *shift = c->tsc_shift;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
    } while ((version & 1) || version != c->version);
}

void timing_init(void)
{
    read_kvmclock(&ns_mul, &ns_shift);
    if (ns_mul) {
        hz = (NSEC_PER_SEC << 32) / ns_mul;
        hz = ns_shift >= 0 ? hz >> ns_shift : hz << -ns_shift;
        return;
    }

    hz = cpuid_hz;
    if (!hz) {
        hz = ASSUMED_TSC_HZ;
        printf("guest: TSC frequency unknown, assuming %lu Hz\n", hz);
    }
    uint64_t mul = (NSEC_PER_SEC << 32) / hz;

    for (ns_shift = 0; mul >> 32; ns_shift++) {
        mul >>= 1;
    }
    ns_mul = mul;
}

uint64_t tsc_hz(void)
{
    return hz;
}

uint64_t tsc_to_ns(uint64_t ticks)
{
    ticks = ns_shift >= 0 ? ticks << ns_shift : ticks >> -ns_shift;
    return (unsigned __int128)ticks * ns_mul >> 32;
}

void udelay(uint64_t us)
{
    uint64_t start = rdtsc();

    while (tsc_to_ns(rdtsc() - start) < us * 1000) {
        cpu_relax();
    }
}
