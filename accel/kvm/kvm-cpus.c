/*
 * KVM vCPUs: one thread each, running the guest and dispatching its port
 * and MMIO accesses to the device models under the BQL.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "accel/kvm/kvm-internal.h"
#include "exec/memory.h"
#include "hw/boards.h"
#include "qemu/error-report.h"
#include "qemu/main-loop.h"
#include "sysemu/runstate.h"

/* Kicks a vCPU thread out of KVM_RUN. */
#define SIG_IPI SIGUSR1

#define MSR_KVM_WALL_CLOCK_NEW  0x4b564d00
#define MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01
#define MSR_KVM_WALL_CLOCK      0x11
#define MSR_KVM_SYSTEM_TIME     0x12

typedef struct KVMCPU {
    int index;
    int fd;
    struct kvm_run *run;
    pthread_t thread;
    bool thread_started;
    bool stop;                  /* asked to park */
    bool stopped;               /* parked */
    bool quit;
    gint tid;                   /* the thread's, once it runs */
    /* the power-on state KVM gave the vCPU, restored on system reset */
    struct kvm_sregs reset_sregs;
    struct kvm_lapic_state reset_lapic;
} KVMCPU;

static KVMCPU *cpus;
static unsigned nr_cpus;
static GCond cpu_stopped_cond;
static GCond cpu_resume_cond;
static __thread KVMCPU *current_cpu;
static bool vcpus_started;      /* from kvm_vcpus_start() on */

/* In a vCPU thread, as a signal handler: no lock. */
static void sig_ipi_handler(int sig)
{
    /* KVM_RUN returns at once if entered after the kick arrived. */
    if (current_cpu) {
        current_cpu->run->immediate_exit = 1;
    }
}

static int vcpu_ioctl(KVMCPU *cpu, unsigned long req, void *arg)
{
    int ret = ioctl(cpu->fd, req, arg);
    return ret < 0 ? -errno : ret;
}

static int vcpu_set_cpuid(KVMCPU *cpu)
{
    struct kvm_cpuid2 *c = kvm_state.cpuid;
    size_t size = sizeof(*c) + c->nent * sizeof(c->entries[0]);
    g_autofree struct kvm_cpuid2 *mine = g_memdup2(c, size);

    for (unsigned i = 0; i < mine->nent; i++) {
        struct kvm_cpuid_entry2 *e = &mine->entries[i];
        switch (e->function) {
        case 1:
            /* Initial APIC ID; ECX bit 31: running under a hypervisor. */
            e->ebx = (e->ebx & 0x00ffffff) | (cpu->index << 24);
            e->ecx |= 1u << 31;
            break;
        case 0xb:
        case 0x1f:
            e->edx = cpu->index;    /* x2APIC ID */
            break;
        }
    }
    return vcpu_ioctl(cpu, KVM_SET_CPUID2, mine);
}

static bool vcpu_create(KVMCPU *cpu, GError **errp)
{
    int ret;

    cpu->fd = ioctl(kvm_state.vm_fd, KVM_CREATE_VCPU, cpu->index);
    if (cpu->fd < 0) {
        error_setg_errno(errp, errno, "kvm: cannot create vCPU %d",
                         cpu->index);
        return false;
    }
    cpu->run = mmap(NULL, kvm_state.vcpu_mmap_size, PROT_READ | PROT_WRITE,
                    MAP_SHARED, cpu->fd, 0);
    if (cpu->run == MAP_FAILED) {
        cpu->run = NULL;
        error_setg_errno(errp, errno, "kvm: cannot map vCPU %d", cpu->index);
        return false;
    }
    ret = vcpu_set_cpuid(cpu);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "kvm: cannot set the CPUID of vCPU %d",
                         cpu->index);
        return false;
    }
    ret = vcpu_ioctl(cpu, KVM_GET_SREGS, &cpu->reset_sregs);
    if (ret == 0) {
        ret = vcpu_ioctl(cpu, KVM_GET_LAPIC, &cpu->reset_lapic);
    }
    if (ret < 0) {
        error_setg(errp, "kvm: cannot read vCPU %d state: %s", cpu->index,
                   g_strerror(-ret));
        return false;
    }
    return true;
}

bool kvm_vcpus_create(MachineState *ms, GError **errp)
{
    struct sigaction sa = { .sa_handler = sig_ipi_handler };

    sigaction(SIG_IPI, &sa, NULL);
    nr_cpus = ms->smp_cpus;
    cpus = g_new0(KVMCPU, nr_cpus);
    for (unsigned i = 0; i < nr_cpus; i++) {
        cpus[i].index = i;
        cpus[i].fd = -1;
        if (!vcpu_create(&cpus[i], errp)) {
            return false;
        }
    }
    return true;
}

static void set_seg(struct kvm_segment *s, uint16_t sel, uint8_t type)
{
    *s = (struct kvm_segment){
        .base = 0, .limit = 0xffffffff, .selector = sel, .type = type,
        .present = 1, .dpl = 0, .db = 1, .s = 1, .l = 0, .g = 1,
    };
}

/* One ioctl of a vCPU's reset, named in the error: VCPU_SET(cpu, KVM_..). */
#define VCPU_SET(cpu, req, arg, errp) vcpu_set_named(cpu, req, #req, arg, errp)

static bool vcpu_set_named(KVMCPU *cpu, unsigned long req, const char *name,
                           void *arg, GError **errp)
{
    int ret = vcpu_ioctl(cpu, req, arg);

    if (ret < 0) {
        error_setg_errno(errp, -ret, "kvm: cannot reset vCPU %d: %s",
                         cpu->index, name);
        return false;
    }
    return true;
}

/*
 * The PVH boot ABI: 32-bit protected mode, paging off, flat segments,
 * %ebx = hvm_start_info.  The guest loads its own GDT before it reloads a
 * segment, so none is given.
 */
static bool vcpu_set_pvh_entry(KVMCPU *cpu, MachineState *ms, GError **errp)
{
    struct kvm_sregs sregs = cpu->reset_sregs;
    struct kvm_regs regs = {
        .rflags = 0x2, .rip = ms->entry, .rbx = ms->start_info,
    };

    set_seg(&sregs.cs, 0x10, 0xb);
    set_seg(&sregs.ds, 0x18, 0x3);
    sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
    sregs.tr = (struct kvm_segment){
        .base = 0, .limit = 0x67, .selector = 0x20, .type = 0xb,
        .present = 1,
    };
    sregs.cr0 = 0x11;   /* PE, ET */
    sregs.cr4 = 0;
    sregs.efer = 0;
    return VCPU_SET(cpu, KVM_SET_SREGS, &sregs, errp) &&
           VCPU_SET(cpu, KVM_SET_REGS, &regs, errp);
}

/*
 * A vCPU that kept part of its old state could run the new boot with the
 * old one's (kvmclock writing into memory the guest has reused, say): any
 * failure fails the reset.
 */
static bool vcpu_reset(KVMCPU *cpu, MachineState *ms, GError **errp)
{
    struct kvm_regs regs = { .rflags = 0x2, .rip = 0xfff0 };
    struct kvm_fpu fpu = { .fcw = 0x37f, .mxcsr = 0x1f80 };
    struct kvm_mp_state mp = {
        .mp_state = cpu->index ? KVM_MP_STATE_UNINITIALIZED
                               : KVM_MP_STATE_RUNNABLE,
    };
    struct {
        struct kvm_msrs hdr;
        struct kvm_msr_entry e[4];
    } msrs = {
        .hdr.nmsrs = 4,
        .e = { { .index = MSR_KVM_SYSTEM_TIME_NEW },
               { .index = MSR_KVM_WALL_CLOCK_NEW },
               { .index = MSR_KVM_SYSTEM_TIME },
               { .index = MSR_KVM_WALL_CLOCK } },
    };
    int ret;

    if (!VCPU_SET(cpu, KVM_SET_FPU, &fpu, errp)) {
        return false;
    }
    /* It returns how many it set, stopping at the first it cannot. */
    ret = vcpu_ioctl(cpu, KVM_SET_MSRS, &msrs);
    if (ret >= 0 && ret < (int)msrs.hdr.nmsrs) {
        error_setg(errp, "kvm: cannot reset vCPU %d: KVM_SET_MSRS refused "
                   "MSR 0x%x", cpu->index, msrs.e[ret].index);
        return false;
    }
    if (ret < 0) {
        error_setg_errno(errp, -ret, "kvm: cannot reset vCPU %d: "
                         "KVM_SET_MSRS", cpu->index);
        return false;
    }
    if (!VCPU_SET(cpu, KVM_SET_LAPIC, &cpu->reset_lapic, errp) ||
        !VCPU_SET(cpu, KVM_SET_MP_STATE, &mp, errp)) {
        return false;
    }
    if (cpu->index == 0) {
        return vcpu_set_pvh_entry(cpu, ms, errp);
    }
    return VCPU_SET(cpu, KVM_SET_SREGS, &cpu->reset_sregs, errp) &&
           VCPU_SET(cpu, KVM_SET_REGS, &regs, errp);
}

static bool vcpus_reset(MachineState *ms, GError **errp)
{
    for (unsigned i = 0; i < nr_cpus; i++) {
        if (!vcpu_reset(&cpus[i], ms, errp)) {
            return false;
        }
    }
    return true;
}

void kvm_vcpus_reset(MachineState *ms)
{
    g_autoptr(GError) err = NULL;

    if (!vcpus_reset(ms, &err)) {
        kvm_vm_error("%s", err->message);
    }
}

static void vcpu_handle_io(KVMCPU *cpu)
{
    struct kvm_run *run = cpu->run;
    uint8_t *data = (uint8_t *)run + run->io.data_offset;

    for (uint32_t i = 0; i < run->io.count; i++, data += run->io.size) {
        if (run->io.direction == KVM_EXIT_IO_OUT) {
            address_space_write(&address_space_io, run->io.port, data,
                                run->io.size);
        } else {
            address_space_read(&address_space_io, run->io.port, data,
                               run->io.size);
        }
    }
}

/* The VM cannot go on: say why and where, and stop it. */
static void vcpu_report_failure(KVMCPU *cpu, const char *what, uint64_t code)
{
    struct kvm_regs regs;

    if (vcpu_ioctl(cpu, KVM_GET_REGS, &regs) < 0) {
        kvm_vm_error("KVM %s on vCPU %d: 0x%" G_GINT64_MODIFIER "x", what,
                     cpu->index, code);
        return;
    }
    kvm_vm_error("KVM %s on vCPU %d: 0x%" G_GINT64_MODIFIER "x "
                 "(rip=0x%llx)", what, cpu->index, code, regs.rip);
}

/* Handle one exit with the BQL held. */
static void vcpu_handle_exit(KVMCPU *cpu)
{
    struct kvm_run *run = cpu->run;

    switch (run->exit_reason) {
    case KVM_EXIT_IO:
        vcpu_handle_io(cpu);
        break;
    case KVM_EXIT_MMIO:
        if (run->mmio.is_write) {
            address_space_write(&address_space_memory, run->mmio.phys_addr,
                                run->mmio.data, run->mmio.len);
        } else {
            address_space_read(&address_space_memory, run->mmio.phys_addr,
                               run->mmio.data, run->mmio.len);
        }
        break;
    case KVM_EXIT_SHUTDOWN:
        /* A triple fault resets the machine, as on real hardware. */
        qemu_system_reset_request(SHUTDOWN_CAUSE_GUEST_RESET);
        cpu->stop = true;
        break;
    case KVM_EXIT_SYSTEM_EVENT:
        if (run->system_event.type == KVM_SYSTEM_EVENT_RESET) {
            qemu_system_reset_request(SHUTDOWN_CAUSE_GUEST_RESET);
        } else {
            qemu_system_shutdown_request(SHUTDOWN_CAUSE_GUEST_SHUTDOWN, 0);
        }
        cpu->stop = true;
        break;
    case KVM_EXIT_INTR:
    case KVM_EXIT_HLT:
        break;
    case KVM_EXIT_FAIL_ENTRY:
        vcpu_report_failure(cpu, "entry failure",
                            run->fail_entry.hardware_entry_failure_reason);
        break;
    case KVM_EXIT_INTERNAL_ERROR:
        vcpu_report_failure(cpu, "internal error", run->internal.suberror);
        break;
    default:
        vcpu_report_failure(cpu, "unhandled exit", run->exit_reason);
        break;
    }
}

/* The vCPU thread: KVM_RUN without the BQL, each exit with it. */
static void *vcpu_thread(void *opaque)
{
    KVMCPU *cpu = opaque;
    sigset_t set;

    char name[16];

    current_cpu = cpu;
    g_atomic_int_set(&cpu->tid, gettid());
    /* As QEMU names them, so that tools can tell vCPU threads apart. */
    snprintf(name, sizeof(name), "CPU %d/KVM", cpu->index);
    pthread_setname_np(pthread_self(), name);
    sigemptyset(&set);
    sigaddset(&set, SIG_IPI);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);

    bql_lock();
    while (!cpu->quit) {
        if (cpu->stop) {
            cpu->stopped = true;
            g_cond_broadcast(&cpu_stopped_cond);
            while (cpu->stop && !cpu->quit) {
                bql_cond_wait(&cpu_resume_cond);
            }
            cpu->stopped = false;
            continue;
        }
        bql_unlock();
        int ret = ioctl(cpu->fd, KVM_RUN, 0);
        int err = errno;
        bql_lock();
        cpu->run->immediate_exit = 0;
        if (ret < 0) {
            if (err == EINTR || err == EAGAIN) {
                continue;
            }
            kvm_vm_error("KVM_RUN failed on vCPU %d: %s", cpu->index,
                         g_strerror(err));
            continue;
        }
        vcpu_handle_exit(cpu);
    }
    cpu->stopped = true;
    g_cond_broadcast(&cpu_stopped_cond);
    bql_unlock();
    return NULL;
}

bool kvm_vcpus_start(MachineState *ms, GError **errp)
{
    sigset_t set, old;
    int err;

    /* What failed while the machine was set up (kvm_vm_error()). */
    if (kvm_state.start_error) {
        g_propagate_error(errp, g_steal_pointer(&kvm_state.start_error));
        return false;
    }
    if (!vcpus_reset(ms, errp)) {
        return false;
    }
    vcpus_started = true;
    /* Threads start with SIG_IPI blocked and unblock it themselves. */
    sigemptyset(&set);
    sigaddset(&set, SIG_IPI);
    pthread_sigmask(SIG_BLOCK, &set, &old);
    for (unsigned i = 0; i < nr_cpus; i++) {
        err = pthread_create(&cpus[i].thread, NULL, vcpu_thread, &cpus[i]);
        if (err) {
            pthread_sigmask(SIG_SETMASK, &old, NULL);
            error_setg_errno(errp, err, "cannot start vCPU thread");
            return false;
        }
        cpus[i].thread_started = true;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return true;
}

int kvm_vcpu_thread_id(unsigned index)
{
    return index < nr_cpus ? g_atomic_int_get(&cpus[index].tid) : 0;
}

bool kvm_vcpus_started(void)
{
    return vcpus_started;
}

static void vcpu_kick(KVMCPU *cpu)
{
    if (cpu->thread_started) {
        pthread_kill(cpu->thread, SIG_IPI);
    }
}

static bool all_stopped(void)
{
    for (unsigned i = 0; i < nr_cpus; i++) {
        if (cpus[i].thread_started && !cpus[i].stopped) {
            return false;
        }
    }
    return true;
}

void kvm_vcpus_stop(void)
{
    for (unsigned i = 0; i < nr_cpus; i++) {
        cpus[i].stop = true;
        vcpu_kick(&cpus[i]);
    }
}

/*
 * Called in the main thread with the BQL held, which the wait releases: a
 * vCPU that is handling an exit finishes it first, and one that waits
 * there for I/O runs the AioContext it waits on itself (aio_wait_while()),
 * so it needs nothing from this thread to get back here.
 */
void kvm_vcpus_pause(void)
{
    kvm_vcpus_stop();
    while (!all_stopped()) {
        bql_cond_wait(&cpu_stopped_cond);
    }
}

void kvm_vcpus_resume(void)
{
    /* A VM that failed stays stopped until the VMM exits. */
    if (kvm_state.failed) {
        return;
    }
    for (unsigned i = 0; i < nr_cpus; i++) {
        cpus[i].stop = false;
    }
    g_cond_broadcast(&cpu_resume_cond);
}

void kvm_vcpus_destroy(void)
{
    for (unsigned i = 0; i < nr_cpus; i++) {
        cpus[i].quit = true;
        vcpu_kick(&cpus[i]);
    }
    g_cond_broadcast(&cpu_resume_cond);
    for (unsigned i = 0; i < nr_cpus; i++) {
        if (cpus[i].thread_started) {
            /* The thread needs the BQL to leave its loop. */
            bql_unlock();
            pthread_join(cpus[i].thread, NULL);
            bql_lock();
        }
        if (cpus[i].run) {
            munmap(cpus[i].run, kvm_state.vcpu_mmap_size);
        }
        if (cpus[i].fd >= 0) {
            close(cpus[i].fd);
        }
    }
    g_clear_pointer(&cpus, g_free);
    nr_cpus = 0;
}
