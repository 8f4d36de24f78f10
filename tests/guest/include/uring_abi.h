/*
 * The parts of Linux's io_uring ABI a guest driver of a shared ring needs:
 * the submission and completion entries, the opcodes and flags it uses and
 * the ring flags, with the values of io_uring_setup(2), io_uring_enter(2)
 * and io_uring_register(2).
 * Written for freestanding guest code, which cannot include host headers.
 */
#ifndef GUEST_URING_ABI_H
#define GUEST_URING_ABI_H

#include <stdint.h>

/* Submission queue entry: 64 bytes, the fields a read or write uses. */
struct io_uring_sqe {
    uint8_t opcode;             /* IORING_OP_* */
    uint8_t flags;              /* IOSQE_* */
    uint16_t ioprio;
    int32_t fd;                 /* with IOSQE_FIXED_FILE: index of a fixed file */
    uint64_t off;               /* file offset */
    uint64_t addr;              /* buffer address (host virtual) */
    uint32_t len;               /* bytes */
    uint32_t rw_flags;          /* RWF_* */
    uint64_t user_data;         /* returned in the CQE */
    uint16_t buf_index;         /* fixed buffer of *_FIXED requests */
    uint16_t personality;
    int32_t splice_fd_in;
    uint64_t addr3;
    uint64_t reserved;
};

/* Completion queue entry: 16 bytes (no IORING_SETUP_CQE32). */
struct io_uring_cqe {
    uint64_t user_data;
    int32_t res;                /* bytes transferred or -errno */
    uint32_t flags;
};

_Static_assert(sizeof(struct io_uring_sqe) == 64, "io_uring SQE layout");
_Static_assert(__builtin_offsetof(struct io_uring_sqe, user_data) == 32,
               "io_uring SQE layout");
_Static_assert(__builtin_offsetof(struct io_uring_sqe, buf_index) == 40,
               "io_uring SQE layout");
_Static_assert(sizeof(struct io_uring_cqe) == 16, "io_uring CQE layout");

/* Opcodes (enum io_uring_op) */
#define IORING_OP_READ_FIXED    4
#define IORING_OP_WRITE_FIXED   5

/* io_uring_sqe.flags */
#define IOSQE_FIXED_FILE        (1u << 0)

/* io_uring_params.flags */
#define IORING_SETUP_IOPOLL     (1u << 0)
#define IORING_SETUP_SQPOLL     (1u << 1)

/* The SQ ring's flags word, written by the kernel */
#define IORING_SQ_NEED_WAKEUP   (1u << 0)       /* the SQPOLL thread sleeps */

/* The CQ ring's flags word, written by the application */
#define IORING_CQ_EVENTFD_DISABLED (1u << 0)

#endif
