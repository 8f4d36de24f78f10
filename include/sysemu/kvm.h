/*
 * What the KVM accelerator tells the rest of the VMM.
 */
#ifndef SYSEMU_KVM_H
#define SYSEMU_KVM_H

struct kvm_cpuid2;

/*
 * The CPUID leaves KVM supports, which every vCPU is given (the "host" CPU
 * model), or NULL when KVM is not the accelerator.  Valid until the
 * accelerator is cleaned up; main thread, BQL held.
 */
const struct kvm_cpuid2 *kvm_supported_cpuid(void);

#endif
