/*
 * What management sees of a passthrough device's rings without a VM exit
 * (QMP's x-query-virtio-blk-uring and query-blockstats are built on it),
 * and the hook for an event when the passthrough is withdrawn from the
 * guest.  docs/system/uring-passthrough.rst describes the fields.
 */
#ifndef HW_BLOCK_VIRTIO_BLK_URING_QUERY_H
#define HW_BLOCK_VIRTIO_BLK_URING_QUERY_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/block/virtio-blk-uring-state.h"
#include "hw/qdev.h"

typedef struct VirtioBlkUringQuery {
    bool negotiated;            /* the driver took the feature: a ring exists */
    bool active;                /* and it runs (DRIVER_OK) */
    /*
     * The device took the passthrough away from the driver, which must
     * reset the device; reason says why: "overflow", "owner-exited",
     * "doorbell-failed", "setup-failed" ("" when not withdrawn).
     */
    bool withdrawn;
    char reason[32];
    uint32_t sq_entries, cq_entries;    /* 0 without a ring */
    bool iopoll;                /* completions are polled (uring-iopoll) */
    /* The overflow guard: the watch thread checks (x-uring-overflow-check),
     * a memory cgroup bounds the owner (uring-owner-memory), and the CQ
     * holds overflowed completions now (the kernel's flag or counter). */
    bool overflow_check;
    bool overflow_cgroup;
    bool overflowed;
    /* With an active ring: the rings' indexes and flags, the owner and its
     * SQPOLL thread; zeroes otherwise. */
    UringRingState state;
    /* Requests the kernel took (sq_head) and completed (cq_tail) since
     * negotiation, as 64-bit totals (virtio-blk-uring-watch.h). */
    uint64_t submitted, completed;
} VirtioBlkUringQuery;

/*
 * Fill *out for ring number ring of dev (0: there is one ring today);
 * false if dev is not a virtio-blk-pci device with uring-passthrough=on or
 * has no such ring.  Called with the BQL held.
 */
bool virtio_blk_uring_query(DeviceState *dev, unsigned ring,
                            VirtioBlkUringQuery *out);

/*
 * fn(dev_id, reason) is called whenever a device withdraws the passthrough
 * from its guest (reason as in VirtioBlkUringQuery; dev_id is the device's
 * id=, or NULL without one): with the BQL held, in the main loop (the
 * watch thread saw an overflow or the owner's end, the doorbell failed) or
 * in the thread writing the device's status (set-up failed at
 * FEATURES_OK).  NULL removes it.  Called with the BQL held.
 */
void virtio_blk_uring_set_withdraw_notifier(void (*fn)(const char *dev_id,
                                                       const char *reason));

#endif
