/*
 * What the VMM and the io_uring owner (hw/block/uring-owner/) say to each
 * other, over a SOCK_SEQPACKET pair; the owner's end is its descriptor
 * URING_OWNER_CHANNEL_FD, its only one.
 *
 *   VMM -> owner   UringOwnerStart     limits, and the SQPOLL thread's
 *                                      parameters
 *   owner -> VMM   UringOwnerReply     ok, or which step failed
 * then, any number of times:
 *   VMM -> owner   UringOwnerRequest   make nr_rings rings with these
 *   owner -> VMM   UringOwnerReply     the rings' descriptor numbers in the
 *                                      owner, or why there are none
 *   VMM -> owner   UringOwnerTaken     the VMM has its own copies now
 *                                      (pidfd_getfd(2)); the owner closes
 *                                      its own
 *
 * At start the owner makes the anchor, a disabled ring with an SQPOLL
 * thread that it keeps and never hands over; every ring made later is
 * attached to that thread (IORING_SETUP_ATTACH_WQ, which works only within
 * one process), so one owner is one SQPOLL thread, however many rings of
 * however many devices it serves.  End of file on the channel, or SIGKILL,
 * ends it and with it that thread and the io-wq workers.
 *
 * Shared by the VMM and the owner, which is freestanding: UAPI headers only.
 */
#ifndef HW_BLOCK_URING_OWNER_PROTOCOL_H
#define HW_BLOCK_URING_OWNER_PROTOCOL_H

#include <linux/io_uring.h>
#include <linux/types.h>

#define URING_OWNER_CHANNEL_FD  3
/* As in QEMU: the process name tools see (comm). */
#define URING_OWNER_NAME        "uring-owner"

/* Exit statuses of the owner */
#define URING_OWNER_EXIT_DONE       0   /* the channel closed */
#define URING_OWNER_EXIT_PROTOCOL   2   /* a message was not as above */
#define URING_OWNER_EXIT_SETUP      3   /* it replied with an error */

/* As many rings as a virtio-blk device has virtqueues, at most. */
#define URING_OWNER_MAX_RINGS   64

typedef struct UringOwnerStart {
    __u32 keep_ipc_lock;        /* keep CAP_IPC_LOCK if it has it */
    __u32 pad;
    __u64 fsize_limit;          /* RLIMIT_FSIZE; ~0: none */
    /* The anchor's flags (SQ_AFF), sq_thread_cpu and sq_thread_idle */
    struct io_uring_params anchor;
} UringOwnerStart;

typedef struct UringOwnerRequest {
    __u32 entries;              /* io_uring_setup(entries, &params) */
    __u32 nr_rings;             /* 1 to URING_OWNER_MAX_RINGS */
    struct io_uring_params params;
} UringOwnerRequest;

/*
 * The steps of the set-up, in order; the reply names the one that failed.
 * The first is the VMM's: its child replies for it if it cannot execute
 * the owner.
 */
enum {
    URING_OWNER_STEP_NONE,
    URING_OWNER_STEP_EXEC,      /* executing the owner */
    URING_OWNER_STEP_FSIZE,     /* setting RLIMIT_FSIZE */
    URING_OWNER_STEP_SIGXFSZ,   /* ignoring SIGXFSZ */
    URING_OWNER_STEP_CAPS,      /* dropping capabilities */
    URING_OWNER_STEP_NO_NEW_PRIVS,
    URING_OWNER_STEP_SETUP,     /* io_uring_setup(): the anchor, or rings */
    URING_OWNER_STEP_LAYOUT,    /* a ring's layout differs from the first's */
};

typedef struct UringOwnerReply {
    __s32 fd[URING_OWNER_MAX_RINGS];    /* the rings, in the owner */
    __s32 ok;                   /* 1: done (all nr_rings made); 0: none */
    __u32 step;                 /* URING_OWNER_STEP_* that failed */
    __s32 err;                  /* its errno */
    __u32 pad;
    struct io_uring_params params;  /* as io_uring_setup() filled them */
} UringOwnerReply;

typedef struct UringOwnerTaken {
    __u32 magic;
} UringOwnerTaken;

#define URING_OWNER_TAKEN_MAGIC 0x7a6b656e

#endif
