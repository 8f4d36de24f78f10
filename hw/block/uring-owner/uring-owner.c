/*
 * uring-owner: the process that owns a passthrough io_uring.
 *
 * io_uring_setup() makes the ring's SQPOLL thread, and later its io-wq
 * workers, threads of the calling process: they use its address space to
 * resolve any pointer an SQE carries, its credentials, and its resource
 * limits.  The guest writes the SQEs, and the ring's restrictions check
 * only their opcodes and flags, so this process is built to give those
 * threads nothing: it is a freestanding static program, linked at a fixed
 * address (uring-owner.ld), that the VMM executes from memory.  Before it
 * reads anything it unmaps all but its own image (the kernel's stack,
 * vDSO and vvar included), so a pointer resolves to its few public pages
 * or to nothing; it then limits file size to the image's (writes cannot
 * grow it; the VMM moves the limit when the image is resized), drops every
 * capability but CAP_IPC_LOCK (which only decides how pinned guest RAM is
 * accounted), creates the anchor ring whose SQPOLL thread all later rings
 * share, and goes under a seccomp filter that allows it nothing but its
 * channel, making rings and exiting.  Then, for each request of the VMM,
 * it makes the rings, hands them over
 * (include/hw/block/uring-owner-protocol.h) and closes its own copies.
 *
 * Raw system calls only: there is no C library here.
 */
#include <asm/unistd.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/prctl.h>
#include <linux/resource.h>
#include <linux/seccomp.h>
#include <linux/signal.h>
#include <stddef.h>

#include "hw/block/uring-owner-protocol.h"

#define PAGE_SIZE       4096UL
/* The top of user space with 5-level and with 4-level page tables */
#define USER_TOP_57     (1UL << 56)
#define USER_TOP_48     (1UL << 47)
#define EINTR           4
#define EINVAL          22

extern char __owner_start[], __owner_end[];

static char stack[16384] __attribute__((aligned(16), used));

__asm__(".globl _start\n"
        "_start:\n"
        "    lea stack+16384(%rip), %rsp\n"
        "    call owner_main\n"
        "    ud2\n");

static long syscall6(long nr, long a, long b, long c, long d, long e, long f)
{
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    long ret;

    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8),
                       "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}

#define SYS(nr, a, b, c, d, e) \
    syscall6(nr, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)

static __attribute__((noreturn)) void exit_group(int status)
{
    for (;;) {
        SYS(__NR_exit_group, status, 0, 0, 0, 0);
    }
}

/* The compiler may call these for structure copies. */
void *memset(void *s, int c, size_t n);
void *memset(void *s, int c, size_t n)
{
    unsigned char *p = s;

    while (n--) {
        *p++ = c;
    }
    return s;
}

void *memcpy(void *d, const void *s, size_t n);
void *memcpy(void *d, const void *s, size_t n)
{
    unsigned char *dp = d;
    const unsigned char *sp = s;

    while (n--) {
        *dp++ = *sp++;
    }
    return d;
}

/*
 * Everything outside this program's image: below it, and above it up to
 * the top of user space, whichever of the two sizes this kernel has.
 */
static void unmap_all_but_image(void)
{
    unsigned long start = (unsigned long)__owner_start;
    unsigned long end = (unsigned long)__owner_end;

    SYS(__NR_munmap, 0, start, 0, 0, 0);
    if (SYS(__NR_munmap, end, USER_TOP_57 - PAGE_SIZE - end, 0, 0, 0) ==
        -EINVAL) {
        SYS(__NR_munmap, end, USER_TOP_48 - PAGE_SIZE - end, 0, 0, 0);
    }
}

/* Keep CAP_IPC_LOCK (if keep_ipc_lock and it is there), drop the rest. */
static long drop_capabilities(int keep_ipc_lock)
{
    struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
    unsigned keep = keep_ipc_lock ? 1U << CAP_IPC_LOCK : 0;
    long ret = SYS(__NR_capget, &hdr, data, 0, 0, 0);

    if (ret < 0) {
        return ret;
    }
    keep &= data[0].permitted;
    memset(data, 0, sizeof(data));
    data[0].effective = data[0].permitted = keep;
    return SYS(__NR_capset, &hdr, data, 0, 0, 0);
}

/* One step of the set-up: reply with its failure. */
static int failed(UringOwnerReply *reply, unsigned step, long ret)
{
    if (ret >= 0) {
        return 0;
    }
    reply->step = step;
    reply->err = -ret;
    return -1;
}

/* The VMM maps every ring with the first one's layout. */
static int same_layout(const struct io_uring_params *a,
                       const struct io_uring_params *b)
{
    const unsigned char *x = (const void *)&a->sq_off;
    const unsigned char *y = (const void *)&b->sq_off;

    if (a->sq_entries != b->sq_entries || a->cq_entries != b->cq_entries ||
        a->features != b->features) {
        return 0;
    }
    for (size_t i = 0; i < sizeof(a->sq_off); i++) {
        if (x[i] != y[i]) {
            return 0;
        }
    }
    x = (const void *)&a->cq_off;
    y = (const void *)&b->cq_off;
    for (size_t i = 0; i < sizeof(a->cq_off); i++) {
        if (x[i] != y[i]) {
            return 0;
        }
    }
    return 1;
}

/*
 * Limits, capabilities and the anchor: a disabled ring that is never
 * handed over, whose SQPOLL thread every ring made later attaches to.
 * The anchor's descriptor, or -1 with reply telling why.
 */
static int set_up(const UringOwnerStart *start, UringOwnerReply *reply)
{
    /*
     * No hard limit, so that the VMM can move the soft one with the image
     * (block_resize) without privileges; nothing here can move it once
     * the seccomp filter is on.
     */
    struct rlimit64 fsize = { start->fsize_limit, RLIM64_INFINITY };
    /* The kernel's struct sigaction: handler, flags, restorer, mask */
    unsigned long ignore[4] = { (unsigned long)SIG_IGN, 0, 0, 0 };
    struct io_uring_params p = start->anchor;
    long ret;

    /* A limit of 0 is a limit too: an empty image must stay empty. */
    if (start->fsize_limit != ~0ULL &&
        failed(reply, URING_OWNER_STEP_FSIZE,
               SYS(__NR_prlimit64, 0, RLIMIT_FSIZE, &fsize, 0, 0))) {
        return -1;
    }
    /* Writes at or past the limit fail with EFBIG instead of a signal. */
    if (failed(reply, URING_OWNER_STEP_SIGXFSZ,
               SYS(__NR_rt_sigaction, SIGXFSZ, ignore, 0, 8, 0)) ||
        failed(reply, URING_OWNER_STEP_CAPS,
               drop_capabilities(start->keep_ipc_lock)) ||
        failed(reply, URING_OWNER_STEP_NO_NEW_PRIVS,
               SYS(__NR_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))) {
        return -1;
    }
    p.flags |= IORING_SETUP_SQPOLL | IORING_SETUP_R_DISABLED;
    ret = SYS(__NR_io_uring_setup, 1, &p, 0, 0, 0);
    if (failed(reply, URING_OWNER_STEP_SETUP, ret)) {
        return -1;
    }
    reply->ok = 1;
    return ret;
}

/* The first n of fd, closed. */
static void close_all(const __s32 *fd, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        SYS(__NR_close, fd[i], 0, 0, 0, 0);
    }
}

/* req's rings, attached to the anchor's SQPOLL thread. */
static void make_rings(const UringOwnerRequest *req, int anchor,
                       UringOwnerReply *reply)
{
    unsigned n;
    long ret;

    if (req->nr_rings < 1 || req->nr_rings > URING_OWNER_MAX_RINGS) {
        failed(reply, URING_OWNER_STEP_SETUP, -EINVAL);
        return;
    }
    for (n = 0; n < req->nr_rings; n++) {
        struct io_uring_params p = req->params;

        p.flags |= IORING_SETUP_ATTACH_WQ;
        p.wq_fd = anchor;
        ret = SYS(__NR_io_uring_setup, req->entries, &p, 0, 0, 0);
        if (failed(reply, URING_OWNER_STEP_SETUP, ret)) {
            break;
        }
        reply->fd[n] = ret;
        if (n == 0) {
            reply->params = p;
        } else if (!same_layout(&p, &reply->params)) {
            failed(reply, URING_OWNER_STEP_LAYOUT, -EINVAL);
            n++;
            break;
        }
    }
    if (reply->step) {
        close_all(reply->fd, n);
        return;
    }
    reply->ok = 1;
}

/*
 * From now on: messages on the channel, rings, exit; anything else kills
 * the process.
 */
static void lock_down(void)
{
    struct sock_filter insns[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                 offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                 offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_readv, 6, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_write, 5, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_close, 4, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 3, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_exit_group, 2, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_restart_syscall, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = { sizeof(insns) / sizeof(insns[0]), insns };

    if (SYS(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog, 0, 0) < 0) {
        exit_group(URING_OWNER_EXIT_SETUP);
    }
}

/*
 * One message of at most len bytes into buf: its length (0 at the end of
 * the channel), or len + 1 if it was longer.
 */
static long receive(void *buf, size_t len)
{
    char extra;
    /* A longer message would be cut to len: read one byte more. */
    struct iovec { void *base; size_t len; } iov[2] = {
        { buf, len }, { &extra, 1 },
    };
    long n;

    do {
        n = SYS(__NR_readv, URING_OWNER_CHANNEL_FD, iov, 2, 0, 0);
    } while (n == -EINTR);
    return n;
}

static void reply_to_vmm(const UringOwnerReply *reply)
{
    SYS(__NR_write, URING_OWNER_CHANNEL_FD, reply, sizeof(*reply), 0, 0);
}

__attribute__((noreturn, used)) void owner_main(void);
void owner_main(void)
{
    UringOwnerStart start;
    UringOwnerRequest req;
    UringOwnerReply reply;
    UringOwnerTaken taken;
    int anchor;
    long n;

    unmap_all_but_image();
    SYS(__NR_prctl, PR_SET_NAME, URING_OWNER_NAME, 0, 0, 0);
    if (receive(&start, sizeof(start)) != sizeof(start)) {
        exit_group(URING_OWNER_EXIT_PROTOCOL);
    }
    memset(&reply, 0, sizeof(reply));
    anchor = set_up(&start, &reply);
    reply_to_vmm(&reply);
    if (anchor < 0) {
        exit_group(URING_OWNER_EXIT_SETUP);
    }
    lock_down();
    /* Make rings until the VMM closes the channel; own their threads. */
    while ((n = receive(&req, sizeof(req))) != 0) {
        if (n != sizeof(req)) {
            exit_group(URING_OWNER_EXIT_PROTOCOL);
        }
        memset(&reply, 0, sizeof(reply));
        make_rings(&req, anchor, &reply);
        reply_to_vmm(&reply);
        if (!reply.ok) {
            continue;
        }
        if (receive(&taken, sizeof(taken)) != sizeof(taken) ||
            taken.magic != URING_OWNER_TAKEN_MAGIC) {
            exit_group(URING_OWNER_EXIT_PROTOCOL);
        }
        close_all(reply.fd, req.nr_rings);
    }
    exit_group(URING_OWNER_EXIT_DONE);
}
