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
 * accounted), creates the ring, hands it over
 * (include/hw/block/uring-owner-protocol.h), closes its own copy and
 * waits under a seccomp filter that allows it nothing but to read its
 * channel and exit.
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

static void set_up(const UringOwnerRequest *req, UringOwnerReply *reply)
{
    /*
     * No hard limit, so that the VMM can move the soft one with the image
     * (block_resize) without privileges; nothing here can move it once
     * the seccomp filter is on.
     */
    struct rlimit64 fsize = { req->fsize_limit, RLIM64_INFINITY };
    /* The kernel's struct sigaction: handler, flags, restorer, mask */
    unsigned long ignore[4] = { (unsigned long)SIG_IGN, 0, 0, 0 };
    long ret;

    reply->fd = -1;
    reply->params = req->params;
    /* A limit of 0 is a limit too: an empty image must stay empty. */
    if (req->fsize_limit != ~0ULL &&
        failed(reply, URING_OWNER_STEP_FSIZE,
               SYS(__NR_prlimit64, 0, RLIMIT_FSIZE, &fsize, 0, 0))) {
        return;
    }
    /* Writes at or past the limit fail with EFBIG instead of a signal. */
    if (failed(reply, URING_OWNER_STEP_SIGXFSZ,
               SYS(__NR_rt_sigaction, SIGXFSZ, ignore, 0, 8, 0)) ||
        failed(reply, URING_OWNER_STEP_CAPS,
               drop_capabilities(req->keep_ipc_lock)) ||
        failed(reply, URING_OWNER_STEP_NO_NEW_PRIVS,
               SYS(__NR_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))) {
        return;
    }
    ret = SYS(__NR_io_uring_setup, req->entries, &reply->params, 0, 0, 0);
    if (!failed(reply, URING_OWNER_STEP_SETUP, ret)) {
        reply->fd = ret;
    }
}

/* From now on: read the channel, exit; anything else kills the process. */
static void lock_down(void)
{
    struct sock_filter insns[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                 offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                 offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_read, 3, 0),
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

/* One message of exactly len bytes into buf; false otherwise. */
static int receive(void *buf, size_t len)
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
    return n == (long)len;
}

__attribute__((noreturn, used)) void owner_main(void);
void owner_main(void)
{
    UringOwnerRequest req;
    UringOwnerReply reply;
    UringOwnerTaken taken;
    char byte;

    unmap_all_but_image();
    SYS(__NR_prctl, PR_SET_NAME, URING_OWNER_NAME, 0, 0, 0);
    if (!receive(&req, sizeof(req))) {
        exit_group(URING_OWNER_EXIT_PROTOCOL);
    }
    memset(&reply, 0, sizeof(reply));
    set_up(&req, &reply);
    SYS(__NR_write, URING_OWNER_CHANNEL_FD, &reply, sizeof(reply), 0, 0);
    if (reply.fd < 0) {
        exit_group(URING_OWNER_EXIT_SETUP);
    }
    if (!receive(&taken, sizeof(taken)) ||
        taken.magic != URING_OWNER_TAKEN_MAGIC) {
        exit_group(URING_OWNER_EXIT_PROTOCOL);
    }
    SYS(__NR_close, reply.fd, 0, 0, 0, 0);
    lock_down();
    /* Own the ring's threads until the VMM closes the channel. */
    while (SYS(__NR_read, URING_OWNER_CHANNEL_FD, &byte, 1, 0, 0) ==
           -EINTR) {
    }
    exit_group(URING_OWNER_EXIT_DONE);
}
