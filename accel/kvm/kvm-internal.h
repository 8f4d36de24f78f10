/*
 * State shared by the KVM accelerator's files.
 */
#ifndef ACCEL_KVM_INTERNAL_H
#define ACCEL_KVM_INTERNAL_H

#include <glib.h>
#include <linux/kvm.h>
#include <stdbool.h>

typedef struct MachineState MachineState;

typedef struct KVMState {
    int fd;                     /* /dev/kvm */
    int vm_fd;
    int vcpu_mmap_size;
    struct kvm_cpuid2 *cpuid;   /* what KVM supports, given to every vCPU */
} KVMState;

extern KVMState kvm_state;

bool kvm_vcpus_create(MachineState *ms, GError **errp);
bool kvm_vcpus_start(MachineState *ms, GError **errp);
void kvm_vcpus_pause(void);
void kvm_vcpus_resume(void);
void kvm_vcpus_reset(MachineState *ms);
void kvm_vcpus_destroy(void);

#endif
