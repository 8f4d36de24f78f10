/*
 * KVM's paravirtual clock: the guest gives KVM the physical address of this
 * structure through MSR_KVM_SYSTEM_TIME_NEW (bit 0 = enable) and KVM keeps it
 * up to date.  Nanoseconds since tsc_timestamp are
 * ((tsc - tsc_timestamp) << tsc_shift) * tsc_to_system_mul >> 32,
 * shifting right instead when tsc_shift is negative.
 */
#ifndef GUEST_PVCLOCK_H
#define GUEST_PVCLOCK_H

#include <stdint.h>

#define MSR_KVM_SYSTEM_TIME_NEW     0x4b564d01
#define KVM_CPUID_SIGNATURE         0x40000000
#define KVM_CPUID_FEATURES          0x40000001
#define KVM_FEATURE_CLOCKSOURCE2    (1 << 3)

struct pvclock_vcpu_time_info {
    uint32_t version;           /* odd while KVM is updating */
    uint32_t pad0;
    uint64_t tsc_timestamp;
    uint64_t system_time;
    uint32_t tsc_to_system_mul;
    int8_t tsc_shift;
    uint8_t flags;
    uint8_t pad[2];
};

#endif
