/*
 * The live state of a passthrough ring as the host sees it: the SQ and CQ
 * indexes and flags in the ring's shared memory, and the ring's owner
 * process with its SQPOLL thread (/proc).  For the device's stall warning
 * and for management queries.  Everything in the rings is the guest's to
 * write too: these are the figures as they are, not as they should be.
 */
#ifndef HW_BLOCK_VIRTIO_BLK_URING_STATE_H
#define HW_BLOCK_VIRTIO_BLK_URING_STATE_H

#include <linux/io_uring.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct UringRingState {
    uint32_t sq_head, sq_tail, sq_flags, sq_dropped;
    uint32_t cq_head, cq_tail, cq_overflow, cq_flags;
    pid_t owner_pid;
    /* The owner's SQPOLL thread (sqpoll_tid 0: not found) */
    pid_t sqpoll_tid;
    char sqpoll_state;          /* as in /proc/TID/stat: R, S, D, T... */
    int sqpoll_cpu;             /* the CPU it last ran on */
    char sqpoll_wchan[64];      /* where it sleeps, if it does */
} UringRingState;

/*
 * Read the indexes and flags of the rings (mapped by the VMM) with the
 * layout of params: cheap.  Any thread.
 */
void uring_ring_state_read(const void *rings,
                           const struct io_uring_params *params,
                           UringRingState *st);
/* And what /proc says of the owner_pid and its SQPOLL thread.  Any thread. */
void uring_ring_state_read_owner(pid_t owner_pid, UringRingState *st);

/* Requests the kernel has taken and not completed (sq_head - cq_tail). */
static inline uint32_t uring_ring_state_held(const UringRingState *st)
{
    return st->sq_head - st->cq_tail;
}

/* One line: "SQ head 1 tail 2 flags 0x0 dropped 0, CQ head ...". */
char *uring_ring_state_format(const UringRingState *st);

#endif
