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
    GError *start_error;        /* kvm_vm_error() before the vCPUs started */
    bool failed;                /* kvm_vm_error() after: stopped for good */
} KVMState;

extern KVMState kvm_state;

/*
 * KVM failed to do something the VM cannot run correctly without.  Before
 * the vCPUs start, the first such error is kept and kvm_vcpus_start()
 * returns it (the VMM exits with status 1 and that one line); from then on
 * the first one is reported, every vCPU is stopped and kept stopped, and
 * the main loop ends the VMM with status 1.  Called with the BQL held.
 */
void kvm_vm_error(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

bool kvm_vcpus_create(MachineState *ms, GError **errp);
bool kvm_vcpus_start(MachineState *ms, GError **errp);
bool kvm_vcpus_started(void);
int kvm_vcpu_thread_id(unsigned index);
/* Ask every vCPU to park, without waiting.  BQL held, any thread. */
void kvm_vcpus_stop(void);
/* kvm_vcpus_stop() and wait until they are parked. */
void kvm_vcpus_pause(void);
void kvm_vcpus_resume(void);
/* Called with the vCPUs paused and the BQL held. */
void kvm_vcpus_reset(MachineState *ms);
void kvm_vcpus_destroy(void);

#endif
