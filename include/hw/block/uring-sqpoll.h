/*
 * -object uring-sqpoll,id=ID[,cpu=N][,idle=MS]: one SQPOLL thread that the
 * passthrough rings of several virtio-blk devices share
 * (-device virtio-blk-pci,...,uring-sqpoll=ID).
 *
 * The kernel attaches a ring to another's SQPOLL thread only if both were
 * made by the same process, so the object has one ring owner process
 * (virtio-blk-uring-owner.h) for all its devices: started when a device
 * first needs rings, ended when the last device's rings are gone.  That
 * process's limits are the rings' limits, so the devices must agree on the
 * file size limit (see uring_sqpoll_join()), and block_resize is refused
 * for them while the object serves more than one; its memory cgroup bounds
 * them all together.
 */
#ifndef HW_BLOCK_URING_SQPOLL_H
#define HW_BLOCK_URING_SQPOLL_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "hw/block/virtio-blk-uring-owner.h"
#include "qemu/option.h"

typedef struct UringSqpoll UringSqpoll;

/* An owner process of the object, held by the devices whose rings it has. */
typedef struct UringSqpollOwner {
    UringOwner owner;
    UringSqpoll *sq;
    unsigned refs;
    uint64_t fsize_limit;       /* its RLIMIT_FSIZE */
} UringSqpollOwner;

/* Parse the options of -object uring-sqpoll.  Called with the BQL held. */
UringSqpoll *uring_sqpoll_create(QemuOpts *opts, GError **errp);
UringSqpoll *uring_sqpoll_by_id(const char *id);
const char *uring_sqpoll_id(const UringSqpoll *sq);
/* Its thread's host CPU (-1: any) and idle time. */
int uring_sqpoll_cpu(const UringSqpoll *sq);
unsigned uring_sqpoll_idle_ms(const UringSqpoll *sq);
/*
 * A device of drive drive joins at realize, with its file size limit
 * (UINT64_MAX: none) and owner memory limit (0: none), which the object's
 * memory cgroup adds up.  False with errp set if the limit is not the
 * other devices': one process cannot limit two sizes.  Called with the
 * BQL held.
 */
bool uring_sqpoll_join(UringSqpoll *sq, const char *drive,
                       uint64_t fsize_limit, uint64_t owner_memory,
                       GError **errp);
/* More than one device joined: they share one file size limit. */
bool uring_sqpoll_is_shared(const UringSqpoll *sq);
/*
 * block_resize of the only device: its new file size limit is the
 * object's, for the running owner (whose limit the device has moved) and
 * the owners to come.  Called with the BQL held.
 */
void uring_sqpoll_resized(UringSqpoll *sq, uint64_t fsize_limit);
/*
 * The running owner, started if there is none (or the last one has
 * exited), with a reference for the caller; NULL with errp set if it
 * cannot be started, or runs with another file size limit than
 * fsize_limit.  Called with the BQL held.
 */
UringSqpollOwner *uring_sqpoll_get_owner(UringSqpoll *sq,
                                         uint64_t fsize_limit,
                                         GError **errp);
/*
 * Drop a reference; the last one ends the owner (uring_owner_stop()).
 * Called with the BQL held.
 */
void uring_sqpoll_put_owner(UringSqpollOwner *so);
/* After the devices: free every object.  Called with the BQL held. */
void uring_sqpoll_destroy_all(void);

#endif
