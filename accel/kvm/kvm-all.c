/*
 * The KVM accelerator: the VM, its memory slots, ioeventfds and interrupts.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "accel/kvm/kvm-internal.h"
#include "exec/memory.h"
#include "hw/boards.h"
#include "qemu/error-report.h"
#include "qemu/main-loop.h"
#include "sysemu/accel.h"
#include "sysemu/kvm.h"
#include "sysemu/runstate.h"

/* Where Intel's VMX wants its private pages; reserved in the e820 map. */
#define KVM_TSS_ADDR            0xfeffd000
#define KVM_IDENTITY_MAP_ADDR   0xfeffc000

#define KVM_IRQCHIP_PINS        24  /* IOAPIC pins; the PIC has 16 */
#define KVM_MAX_MSI_ROUTES      1024

KVMState kvm_state = { .fd = -1, .vm_fd = -1 };

/* Memory slots, one per mapped RAM-like region. */
typedef struct KVMSlot {
    MemoryRegion *mr;
    uint64_t gpa;
    bool used;
} KVMSlot;

static KVMSlot *slots;
static int nr_slots;

static int kvm_vm_ioctl(unsigned long req, void *arg)
{
    int ret = ioctl(kvm_state.vm_fd, req, arg);
    return ret < 0 ? -errno : ret;
}

void kvm_vm_error(const char *fmt, ...)
{
    g_autofree char *msg = NULL;
    va_list ap;

    g_assert(bql_locked());
    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (!kvm_vcpus_started()) {
        if (!kvm_state.start_error) {
            kvm_state.start_error = g_error_new_literal(QEMU_ERROR, 0, msg);
        }
        return;
    }
    /* What fails after the first failure follows from it. */
    if (!kvm_state.failed) {
        kvm_state.failed = true;
        error_report("%s", msg);
    }
    kvm_vcpus_stop();
    qemu_system_shutdown_request(SHUTDOWN_CAUSE_HOST_ERROR, 1);
}

static int kvm_set_slot(int id, uint64_t gpa, uint64_t size, void *host)
{
    struct kvm_userspace_memory_region r = {
        .slot = id, .guest_phys_addr = gpa, .memory_size = size,
        .userspace_addr = (uintptr_t)host,
    };
    return kvm_vm_ioctl(KVM_SET_USER_MEMORY_REGION, &r);
}

/*
 * Mappings come from the machine (RAM) before the vCPUs start, and from
 * the guest's BAR programming after: a guest that places a RAM-like BAR
 * (the io_uring passthrough's rings) over RAM or another BAR, or beyond
 * the physical addresses KVM can map, is refused by KVM (EEXIST, EINVAL).
 * That is the guest's doing, and costs it nothing but speed: the part of
 * the BAR that KVM maps no other way still exits to the VMM, which serves
 * it from the region.  Anything else means the host cannot give the VM
 * its memory: a VM error.
 */
/* The memory listener: called with the BQL held. */
static void kvm_region_add(MemoryListener *l, MemoryRegion *mr)
{
    int ret;

    if (!mr->ram) {
        return;
    }
    for (int i = 0; i < nr_slots; i++) {
        if (!slots[i].used) {
            ret = kvm_set_slot(i, mr->addr, mr->size, mr->ram);
            if (ret == -EEXIST || (ret == -EINVAL && kvm_vcpus_started())) {
                return;
            }
            if (ret < 0) {
                kvm_vm_error("kvm: cannot map %s at 0x%" G_GINT64_MODIFIER
                             "x, 0x%" G_GINT64_MODIFIER "x bytes: %s",
                             mr->name, mr->addr, mr->size, g_strerror(-ret));
                return;
            }
            slots[i] = (KVMSlot){ .mr = mr, .gpa = mr->addr, .used = true };
            return;
        }
    }
    kvm_vm_error("kvm: out of memory slots for %s", mr->name);
}

/*
 * A slot KVM keeps after its region went would give the guest memory the
 * VMM may reuse for something else: the VM stops at once.
 */
static void kvm_region_del(MemoryListener *l, MemoryRegion *mr)
{
    int ret;

    for (int i = 0; i < nr_slots; i++) {
        if (slots[i].used && slots[i].mr == mr) {
            ret = kvm_set_slot(i, slots[i].gpa, 0, NULL);
            if (ret < 0) {
                /* Still KVM's: never reused, matched by no region. */
                slots[i].mr = NULL;
                kvm_vm_error("kvm: cannot unmap %s at 0x%" G_GINT64_MODIFIER
                             "x: %s", mr->name, slots[i].gpa,
                             g_strerror(-ret));
                return;
            }
            slots[i].used = false;
            return;
        }
    }
}

static void kvm_ioeventfd(MemoryRegion *mr, const MemoryRegionEventfd *e,
                          bool pio, bool assign)
{
    struct kvm_ioeventfd io = {
        .datamatch = e->data, .addr = mr->addr + e->offset, .len = e->size,
        .fd = e->fd,
        .flags = (e->match_data ? KVM_IOEVENTFD_FLAG_DATAMATCH : 0) |
                 (pio ? KVM_IOEVENTFD_FLAG_PIO : 0) |
                 (assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN),
    };
    int ret = kvm_vm_ioctl(KVM_IOEVENTFD, &io);

    /* Without it the write still exits and memory.c signals the eventfd. */
    if (ret < 0 && assign) {
        warn_report("ioeventfd at 0x%llx: %s", io.addr, g_strerror(-ret));
    }
}

static void kvm_mem_eventfd_add(MemoryListener *l, MemoryRegion *mr,
                                const MemoryRegionEventfd *e)
{
    kvm_ioeventfd(mr, e, false, true);
}

static void kvm_mem_eventfd_del(MemoryListener *l, MemoryRegion *mr,
                                const MemoryRegionEventfd *e)
{
    kvm_ioeventfd(mr, e, false, false);
}

static void kvm_io_eventfd_add(MemoryListener *l, MemoryRegion *mr,
                               const MemoryRegionEventfd *e)
{
    kvm_ioeventfd(mr, e, true, true);
}

static void kvm_io_eventfd_del(MemoryListener *l, MemoryRegion *mr,
                               const MemoryRegionEventfd *e)
{
    kvm_ioeventfd(mr, e, true, false);
}

static MemoryListener kvm_memory_listener = {
    .region_add = kvm_region_add,
    .region_del = kvm_region_del,
    .eventfd_add = kvm_mem_eventfd_add,
    .eventfd_del = kvm_mem_eventfd_del,
};

static MemoryListener kvm_io_listener = {
    .eventfd_add = kvm_io_eventfd_add,
    .eventfd_del = kvm_io_eventfd_del,
};

/*
 * GSI routing: the irqchip pins as KVM sets them up by default, then one
 * MSI entry per route.  KVM replaces the whole table on every change.
 */
struct MSIRoute {
    int gsi;
    int fd;
    bool enabled;
    struct kvm_irq_routing_msi msi;
};

static GPtrArray *msi_routes;
static guint64 gsi_used[KVM_MAX_MSI_ROUTES / 64];

/* The routing table KVM delivers by; false after a VM error. */
static bool kvm_commit_routes(void)
{
    unsigned n = 16 + KVM_IRQCHIP_PINS + msi_routes->len, i = 0;
    g_autofree struct kvm_irq_routing *table =
        g_malloc0(sizeof(*table) + n * sizeof(table->entries[0]));
    int ret;

    for (unsigned pin = 0; pin < 16; pin++) {
        if (pin == 2) {
            continue;   /* the cascade */
        }
        table->entries[i++] = (struct kvm_irq_routing_entry){
            .gsi = pin, .type = KVM_IRQ_ROUTING_IRQCHIP,
            .u.irqchip = { .irqchip = pin < 8 ? KVM_IRQCHIP_PIC_MASTER
                                              : KVM_IRQCHIP_PIC_SLAVE,
                           .pin = pin % 8 },
        };
    }
    for (unsigned pin = 0; pin < KVM_IRQCHIP_PINS; pin++) {
        table->entries[i++] = (struct kvm_irq_routing_entry){
            .gsi = pin, .type = KVM_IRQ_ROUTING_IRQCHIP,
            .u.irqchip = { .irqchip = KVM_IRQCHIP_IOAPIC,
                           .pin = pin },
        };
    }
    for (guint r = 0; r < msi_routes->len; r++) {
        MSIRoute *route = g_ptr_array_index(msi_routes, r);
        table->entries[i++] = (struct kvm_irq_routing_entry){
            .gsi = route->gsi, .type = KVM_IRQ_ROUTING_MSI,
            .u.msi = route->msi,
        };
    }
    table->nr = i;
    ret = kvm_vm_ioctl(KVM_SET_GSI_ROUTING, table);
    if (ret < 0) {
        /* Interrupts would go where they went before, or nowhere. */
        kvm_vm_error("kvm: cannot set the interrupt routes: %s",
                     g_strerror(-ret));
        return false;
    }
    return true;
}

static void kvm_irqfd_deassign(MSIRoute *r)
{
    struct kvm_irqfd irqfd = {
        .fd = r->fd, .gsi = r->gsi, .flags = KVM_IRQFD_FLAG_DEASSIGN,
    };
    int ret = kvm_vm_ioctl(KVM_IRQFD, &irqfd);

    /*
     * KVM only fails to deassign an fd that is not an eventfd; the route's
     * owner keeps it open until the route is freed.
     */
    g_assert(ret == 0);
}

/* MSI routes: called with the BQL held. */
static MSIRoute *kvm_msi_route_new(int eventfd)
{
    MSIRoute *r = g_new0(MSIRoute, 1);
    /* GSIs above the irqchip pins are free for MSI routes. */
    for (int gsi = KVM_IRQCHIP_PINS; gsi < KVM_MAX_MSI_ROUTES; gsi++) {
        if (!(gsi_used[gsi / 64] & (1ULL << (gsi % 64)))) {
            gsi_used[gsi / 64] |= 1ULL << (gsi % 64);
            r->gsi = gsi;
            break;
        }
    }
    g_assert(r->gsi);
    r->fd = eventfd;
    return r;
}

/* Route r's eventfd to its message: a failure loses its interrupts. */
static void kvm_msi_route_enable(MSIRoute *r)
{
    struct kvm_irqfd irqfd = { .fd = r->fd, .gsi = r->gsi };
    int ret;

    g_ptr_array_add(msi_routes, r);
    if (!kvm_commit_routes()) {
        g_ptr_array_remove(msi_routes, r);
        return;
    }
    ret = kvm_vm_ioctl(KVM_IRQFD, &irqfd);
    if (ret < 0) {
        g_ptr_array_remove(msi_routes, r);
        kvm_vm_error("kvm: cannot route an MSI-X vector (KVM_IRQFD): %s",
                     g_strerror(-ret));
        return;
    }
    r->enabled = true;
}

static void kvm_msi_route_disable(MSIRoute *r)
{
    kvm_irqfd_deassign(r);
    g_ptr_array_remove(msi_routes, r);
    r->enabled = false;
}

static void kvm_msi_route_update(MSIRoute *r, uint64_t addr, uint32_t data,
                                 bool enabled)
{
    bool changed = r->msi.address_lo != (uint32_t)addr ||
                   r->msi.address_hi != addr >> 32 || r->msi.data != data;

    if (r->enabled && (!enabled || changed)) {
        kvm_msi_route_disable(r);
    }
    r->msi = (struct kvm_irq_routing_msi){
        .address_lo = addr, .address_hi = addr >> 32, .data = data,
    };
    if (enabled && !r->enabled) {
        kvm_msi_route_enable(r);
    } else if (changed) {
        kvm_commit_routes();
    }
}

static void kvm_msi_route_free(MSIRoute *r)
{
    if (r->enabled) {
        kvm_msi_route_disable(r);
        kvm_commit_routes();
    }
    gsi_used[r->gsi / 64] &= ~(1ULL << (r->gsi % 64));
    g_free(r);
}

/*
 * Any thread (INTx from a device's AioContext), until the devices are torn
 * down, which is before the VM is (vl.c).  KVM_IRQ_LINE fails only without
 * an in-kernel irqchip, which kvm_init() creates, or for a bad pointer.
 */
static void kvm_set_irq(unsigned gsi, bool level)
{
    struct kvm_irq_level irq = { .irq = gsi, .level = level };
    int ret = kvm_vm_ioctl(KVM_IRQ_LINE, &irq);

    g_assert(ret == 0);
}

/*
 * Called with the BQL held.  KVM_SIGNAL_MSI returns how many CPUs took the
 * message, and -1 (EPERM to us) when none exists to take it: the guest
 * addressed it to no APIC, and it is lost, as on hardware.  Otherwise it
 * fails only without an in-kernel irqchip or for bad flags or a bad
 * pointer.
 */
static void kvm_send_msi(uint64_t addr, uint32_t data)
{
    struct kvm_msi msi = {
        .address_lo = addr, .address_hi = addr >> 32, .data = data,
    };
    int ret = kvm_vm_ioctl(KVM_SIGNAL_MSI, &msi);

    g_assert(ret >= 0 || ret == -EPERM);
}

static bool kvm_check_extensions(GError **errp)
{
    static const struct { int cap; const char *name; } required[] = {
        { KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP" },
        { KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD" },
        { KVM_CAP_IRQFD, "KVM_CAP_IRQFD" },
        { KVM_CAP_SIGNAL_MSI, "KVM_CAP_SIGNAL_MSI" },
        { KVM_CAP_IRQ_ROUTING, "KVM_CAP_IRQ_ROUTING" },
        { KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
        { KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
    };

    for (unsigned i = 0; i < G_N_ELEMENTS(required); i++) {
        if (ioctl(kvm_state.fd, KVM_CHECK_EXTENSION, required[i].cap) <= 0) {
            error_setg(errp, "kvm: the host kernel lacks %s",
                       required[i].name);
            return false;
        }
    }
    return true;
}

static bool kvm_get_supported_cpuid(GError **errp)
{
    for (int n = 64; n <= 4096; n *= 2) {
        struct kvm_cpuid2 *c = g_malloc0(sizeof(*c) + n * sizeof(c->entries[0]));
        c->nent = n;
        if (ioctl(kvm_state.fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
            kvm_state.cpuid = c;
            return true;
        }
        g_free(c);
        if (errno != E2BIG) {
            break;
        }
    }
    error_setg_errno(errp, errno, "kvm: KVM_GET_SUPPORTED_CPUID failed");
    return false;
}

const struct kvm_cpuid2 *kvm_supported_cpuid(void)
{
    return kvm_state.cpuid;
}

static bool kvm_init(MachineState *ms, GError **errp)
{
    int ret;

    kvm_state.fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm_state.fd < 0) {
        error_setg_errno(errp, errno, "Could not access KVM kernel module");
        return false;
    }
    ret = ioctl(kvm_state.fd, KVM_GET_API_VERSION, 0);
    if (ret != KVM_API_VERSION) {
        error_setg(errp, "kvm: /dev/kvm is not a KVM device of API version %d",
                   KVM_API_VERSION);
        goto fail;
    }
    if (!kvm_check_extensions(errp) || !kvm_get_supported_cpuid(errp)) {
        goto fail;
    }
    do {
        kvm_state.vm_fd = ioctl(kvm_state.fd, KVM_CREATE_VM, 0);
    } while (kvm_state.vm_fd < 0 && errno == EINTR);
    if (kvm_state.vm_fd < 0) {
        error_setg_errno(errp, errno, "kvm: cannot create the VM");
        goto fail;
    }
    kvm_state.vcpu_mmap_size = ioctl(kvm_state.fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (kvm_state.vcpu_mmap_size < (int)sizeof(struct kvm_run)) {
        if (kvm_state.vcpu_mmap_size < 0) {
            error_setg_errno(errp, errno, "KVM_GET_VCPU_MMAP_SIZE failed");
        } else {
            error_setg(errp, "KVM_GET_VCPU_MMAP_SIZE returned %d bytes, "
                       "fewer than struct kvm_run's %zu",
                       kvm_state.vcpu_mmap_size, sizeof(struct kvm_run));
        }
        goto fail;
    }
    nr_slots = ioctl(kvm_state.fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_MEMSLOTS);
    nr_slots = MAX(MIN(nr_slots, 512), 32);
    slots = g_new0(KVMSlot, nr_slots);
    /* Intel needs these; AMD and nested set-ups may refuse them harmlessly. */
    kvm_vm_ioctl(KVM_SET_TSS_ADDR, (void *)(uintptr_t)KVM_TSS_ADDR);
    {
        uint64_t addr = KVM_IDENTITY_MAP_ADDR;
        kvm_vm_ioctl(KVM_SET_IDENTITY_MAP_ADDR, &addr);
    }
    ret = kvm_vm_ioctl(KVM_CREATE_IRQCHIP, NULL);
    if (ret < 0) {
        error_setg(errp, "kvm: cannot create the in-kernel irqchip: %s",
                   g_strerror(-ret));
        goto fail;
    }
    msi_routes = g_ptr_array_new();
    memory_listener_register(&kvm_memory_listener, &address_space_memory);
    memory_listener_register(&kvm_io_listener, &address_space_io);
    return kvm_vcpus_create(ms, errp);

fail:
    if (kvm_state.vm_fd >= 0) {
        close(kvm_state.vm_fd);
        kvm_state.vm_fd = -1;
    }
    close(kvm_state.fd);
    kvm_state.fd = -1;
    return false;
}

/* After the devices, which free their routes (vl.c). */
static void kvm_cleanup(void)
{
    g_assert(msi_routes->len == 0);
    kvm_vcpus_destroy();
    memory_listener_unregister(&kvm_memory_listener, &address_space_memory);
    memory_listener_unregister(&kvm_io_listener, &address_space_io);
    if (kvm_state.vm_fd >= 0) {
        close(kvm_state.vm_fd);
    }
    if (kvm_state.fd >= 0) {
        close(kvm_state.fd);
    }
    kvm_state.vm_fd = kvm_state.fd = -1;
    g_clear_pointer(&kvm_state.cpuid, g_free);
    g_clear_error(&kvm_state.start_error);
    g_clear_pointer(&slots, g_free);
    g_clear_pointer(&msi_routes, g_ptr_array_unref);
}

static const AccelOps kvm_accel_ops = {
    .name = "kvm",
    .init = kvm_init,
    .start = kvm_vcpus_start,
    .pause = kvm_vcpus_pause,
    .resume = kvm_vcpus_resume,
    .vcpu_thread_id = kvm_vcpu_thread_id,
    .reset = kvm_vcpus_reset,
    .cleanup = kvm_cleanup,
    .set_irq = kvm_set_irq,
    .send_msi = kvm_send_msi,
    .msi_route_new = kvm_msi_route_new,
    .msi_route_update = kvm_msi_route_update,
    .msi_route_free = kvm_msi_route_free,
};
ACCEL_REGISTER(kvm_accel_ops)
