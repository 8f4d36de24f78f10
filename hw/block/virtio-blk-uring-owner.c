/*
 * The process that owns a passthrough io_uring.
 *
 * The owner is cloned with CLONE_FILES: it shares the VMM's file table, so
 * the ring's descriptor that its io_uring_setup() installs is the VMM's too
 * (io_uring descriptors cannot travel over SCM_RIGHTS).  Without CLONE_VM
 * its memory is a copy (guest RAM is MADV_DONTFORK, so not copied), and its
 * resource limits are its own.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hw/block/virtio-blk-uring-owner.h"
#include "qemu/error-report.h"

typedef struct OwnerReply {
    int fd;                     /* the ring, in the shared file table */
    int err;                    /* errno of io_uring_setup, or 0 */
    struct io_uring_params params;
} OwnerReply;

/*
 * The child of a multi-threaded process: async-signal-safe calls only (raw
 * system calls), no allocation, no stdio.  It must not close descriptors:
 * the table is the VMM's.
 */
static G_NORETURN void owner_main(pid_t parent, int sock, unsigned entries,
                                  struct io_uring_params *params,
                                  uint64_t fsize_limit)
{
    OwnerReply reply = { .params = *params };
    struct rlimit rl = { fsize_limit, fsize_limit };

    /* Die with the VMM; be told apart from the thread that forked. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    prctl(PR_SET_NAME, "uring-owner");
    if (getppid() != parent) {
        _exit(1);
    }
    /* Writes at or past the limit fail with EFBIG instead of a signal. */
    signal(SIGXFSZ, SIG_IGN);
    /* A limit of 0 is a limit too: an empty image must stay empty. */
    if (fsize_limit != RLIM_INFINITY) {
        setrlimit(RLIMIT_FSIZE, &rl);
    }
    reply.fd = syscall(__NR_io_uring_setup, entries, &reply.params);
    reply.err = reply.fd < 0 ? errno : 0;
    if (send(sock, &reply, sizeof(reply), MSG_NOSIGNAL) != sizeof(reply)) {
        _exit(1);
    }
    /* Own the ring's threads until the VMM ends this process. */
    for (;;) {
        pause();
    }
}

int uring_owner_start(UringOwner *o, unsigned entries,
                      struct io_uring_params *params, uint64_t fsize_limit,
                      GError **errp)
{
    OwnerReply reply;
    pid_t parent = getpid();
    int sv[2];
    ssize_t n;

    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        error_setg_errno(errp, errno, "cannot create a socket pair");
        return -1;
    }
    /* A fork that shares the file table (the child runs on a copy of this
     * stack, as after fork()). */
    o->pid = syscall(SYS_clone, CLONE_FILES | SIGCHLD, NULL, NULL, NULL, 0);
    if (o->pid == 0) {
        owner_main(parent, sv[1], entries, params, fsize_limit);
    }
    if (o->pid < 0) {
        error_setg_errno(errp, errno, "cannot start the io_uring owner");
        o->pid = 0;
        close(sv[0]);
        close(sv[1]);
        return -1;
    }
    do {
        n = recv(sv[0], &reply, sizeof(reply), 0);
    } while (n < 0 && errno == EINTR);
    close(sv[0]);
    close(sv[1]);
    if (n != sizeof(reply) || reply.fd < 0) {
        if (n != sizeof(reply)) {
            error_setg(errp, "the io_uring owner process failed");
        } else {
            error_setg_errno(errp, reply.err, "io_uring_setup");
        }
        uring_owner_stop(o);
        return -1;
    }
    *params = reply.params;
    return reply.fd;
}

void uring_owner_stop(UringOwner *o)
{
    if (o->pid <= 0) {
        return;
    }
    kill(o->pid, SIGKILL);
    while (waitpid(o->pid, NULL, 0) < 0 && errno == EINTR) {
    }
    o->pid = 0;
}
