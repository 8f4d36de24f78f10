/*
 * The virtio device model, independent of the transport: device status and
 * feature negotiation, configuration space, and split and packed
 * virtqueues (virtio 1.2, sections 2, 2.7 and 2.8).
 *
 * Threads: the transport calls in with the BQL held (register accesses).
 * While the driver has the device running, a device processes its queues
 * in its own AioContext; virtqueue_pop/push and virtio_notify are called
 * from there only.  Everything the guest can write to its rings is read
 * once and checked: a malformed ring marks the device broken (NEEDS_RESET)
 * instead of reaching outside guest RAM.
 */
#ifndef HW_VIRTIO_VIRTIO_H
#define HW_VIRTIO_VIRTIO_H

#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include <glib.h>

struct MemoryRegion;

#define VIRTQUEUE_MAX_SIZE      1024
#define VIRTIO_NO_VECTOR        0xffff

typedef struct VirtIODevice VirtIODevice;
typedef struct VirtQueue VirtQueue;

/* A descriptor chain, mapped: out_sg is device-readable, in_sg writable. */
typedef struct VirtQueueElement {
    unsigned index;             /* head descriptor (packed: buffer ID) */
    unsigned ndescs;            /* packed: ring descriptors it took */
    unsigned out_num;
    unsigned in_num;
    struct iovec *out_sg;
    struct iovec *in_sg;
    struct iovec *sg;           /* storage for both, reused */
    unsigned sg_cap;
} VirtQueueElement;

typedef void VirtIOHandleOutput(VirtIODevice *vdev, VirtQueue *vq);

/* What a device type implements. */
typedef struct VirtioDeviceOps {
    /* Device feature bits offered (the core adds the ring features). */
    uint64_t (*get_features)(VirtIODevice *vdev);
    /* Fill vdev->config before the driver reads it. */
    void (*get_config)(VirtIODevice *vdev, uint8_t *config);
    /* After the driver wrote into vdev->config. */
    void (*set_config)(VirtIODevice *vdev, const uint8_t *config);
    /* At FEATURES_OK: accept (true) or refuse the negotiated features. */
    bool (*validate_features)(VirtIODevice *vdev);
    /* DRIVER_OK was set (start) or the device is being reset (stop). */
    void (*start)(VirtIODevice *vdev);
    void (*stop)(VirtIODevice *vdev);
    void (*reset)(VirtIODevice *vdev);
} VirtioDeviceOps;

/* What the transport provides. */
typedef struct VirtioTransportOps {
    /* Interrupt for a queue or for a configuration change (any thread). */
    void (*notify_queue)(VirtIODevice *vdev, VirtQueue *vq);
    void (*notify_config)(VirtIODevice *vdev);
    /*
     * An interrupt source outside the queues: each write to fd raises the
     * chosen vector, without the VMM when the accelerator can (irqfd).
     */
    void *(*irqfd_new)(VirtIODevice *vdev, int fd);
    /* vector if the transport has it, else VIRTIO_NO_VECTOR */
    uint16_t (*check_vector)(VirtIODevice *vdev, uint16_t vector);
    void (*irqfd_set_vector)(void *irqfd, uint16_t vector);
    void (*irqfd_free)(void *irqfd);
} VirtioTransportOps;

/* A virtio shared memory region (2.10) the device exposes to the driver. */
typedef struct VirtioSharedMemory {
    uint8_t id;
    struct MemoryRegion *mr;    /* RAM-like, a power of two in size */
} VirtioSharedMemory;

struct VirtQueue {
    VirtIODevice *vdev;
    unsigned index;
    uint16_t num;               /* queue_size */
    uint16_t num_max;
    bool enabled;
    uint16_t vector;
    /* descriptor area, driver area, device area */
    uint64_t desc_gpa, avail_gpa, used_gpa;
    bool packed;                /* VIRTIO_F_RING_PACKED: the fields below */
    /* host views of the rings, valid while enabled */
    struct vring_desc *desc;
    struct vring_avail *avail;
    struct vring_used *used;
    struct vring_packed_desc *ring;
    struct vring_packed_desc_event *driver_event;
    struct vring_packed_desc_event *device_event;
    uint16_t last_avail_idx;
    uint16_t used_idx;
    uint16_t signalled_used;
    bool signalled_used_valid;
    /* packed: ring wrap counters, and descriptors used in all (mod 2^16) */
    bool avail_wrap;
    bool used_wrap;
    uint16_t used_total;
    bool notification;          /* guest notifications wanted */
    unsigned inuse;
    VirtIOHandleOutput *handle_output;
};

struct VirtIODevice {
    const char *name;
    uint16_t device_id;
    const VirtioDeviceOps *ops;
    const VirtioTransportOps *transport;
    void *transport_opaque;

    uint8_t status;
    gint isr;
    bool broken;                /* atomic: see virtio_broken() */
    uint16_t config_vector;
    /*
     * Which of VIRTIO_F_RING_PACKED, VIRTIO_RING_F_EVENT_IDX and
     * VIRTIO_RING_F_INDIRECT_DESC are offered: the transport sets them from
     * its properties when it is realized.
     */
    uint64_t ring_features;
    uint64_t guest_features;
    uint8_t *config;
    size_t config_len;
    uint8_t generation;

    unsigned num_queues;
    VirtQueue *vqs;

    /* Set before the transport is realized, for devices that need them. */
    VirtioSharedMemory shm;     /* mr NULL: none */
    int doorbell_fd;            /* extra notification slot, or -1 */
    unsigned extra_vectors;     /* vectors beyond config and queues */
};

void virtio_init(VirtIODevice *vdev, const char *name, uint16_t device_id,
                 size_t config_len, unsigned num_queues, uint16_t queue_size,
                 const VirtioDeviceOps *ops);
void virtio_cleanup(VirtIODevice *vdev);
void virtio_set_handler(VirtIODevice *vdev, unsigned queue,
                        VirtIOHandleOutput *handler);

static inline bool virtio_has_feature(uint64_t features, unsigned bit)
{
    return features & (1ULL << bit);
}

static inline bool virtio_vdev_has_feature(VirtIODevice *vdev, unsigned bit)
{
    return virtio_has_feature(vdev->guest_features, bit);
}

/* Register-level operations, for the transport (BQL held). */
void virtio_reset(VirtIODevice *vdev);
void virtio_set_status(VirtIODevice *vdev, uint8_t status);
uint64_t virtio_get_host_features(VirtIODevice *vdev);
void virtio_config_read(VirtIODevice *vdev, uint64_t addr, void *buf,
                        unsigned size);
void virtio_config_write(VirtIODevice *vdev, uint64_t addr, const void *buf,
                         unsigned size);
/* Check the queue's addresses and size and start using it. */
void virtio_queue_enable(VirtQueue *vq);
bool virtio_queue_valid_size(VirtQueue *vq, uint16_t num);

/* The driver kicked vq: run its handler (in the device's context). */
void virtio_queue_notify(VirtQueue *vq);

/* The queue model. */
bool virtqueue_pop(VirtQueue *vq, VirtQueueElement *elem);
void virtqueue_push(VirtQueue *vq, const VirtQueueElement *elem,
                    uint32_t len);
bool virtqueue_empty(VirtQueue *vq);
/* Ask the driver for notifications, or tell it we poll. */
void virtio_queue_set_notification(VirtQueue *vq, bool enable);
/* Interrupt the driver if it wants to hear about the pushed buffers. */
void virtio_notify(VirtIODevice *vdev, VirtQueue *vq);
void virtqueue_element_free(VirtQueueElement *elem);

/*
 * Whether the device has been marked broken (virtio_error()) since its
 * last reset.  Any thread: the device's AioContext marks it, vCPUs and
 * other contexts look.
 */
static inline bool virtio_broken(VirtIODevice *vdev)
{
    return __atomic_load_n(&vdev->broken, __ATOMIC_ACQUIRE);
}

/*
 * The device's configuration changed (the disk's capacity, say): a new
 * configuration generation, and the configuration change interrupt (the
 * config vector with MSI-X, ISR bit 1 without) once the driver is running.
 * Called with the BQL held.
 */
void virtio_notify_config(VirtIODevice *vdev);

/* The driver broke the rules: stop and ask for a reset (NEEDS_RESET). */
void virtio_error(VirtIODevice *vdev, const char *fmt, ...)
    G_GNUC_PRINTF(2, 3);

#endif
