/*
 * The process that owns a passthrough io_uring, seen from the VMM
 * (include/hw/block/virtio-blk-uring-owner.h); the owner's own side is
 * hw/block/uring-owner/uring-owner.c, the messages between the two
 * include/hw/block/uring-owner-protocol.h.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hw/block/uring-owner-protocol.h"
#include "hw/block/virtio-blk-uring-owner.h"
#include "qemu/error-report.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* The owner program, embedded at build time (uring-owner-image.c). */
extern const unsigned char uring_owner_image[];
extern const size_t uring_owner_image_size;

/*
 * An error of the owner's machinery, as error_setg_errno() words it but with
 * code 0: only io_uring_setup()'s errno is the error's code.
 */
static void G_GNUC_PRINTF(3, 4) owner_error(GError **errp, int err,
                                            const char *fmt, ...)
{
    g_autofree char *msg = NULL;
    va_list ap;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    error_setg(errp, "%s: %s", msg, g_strerror(err));
}

/* The owner program in a sealed memory file, to execute. */
static int owner_image_fd(GError **errp)
{
    int fd = memfd_create(URING_OWNER_NAME, MFD_CLOEXEC | MFD_ALLOW_SEALING);

    if (fd < 0) {
        owner_error(errp, errno, "cannot create a memory file for the "
                    "io_uring owner");
        return -1;
    }
    if (write(fd, uring_owner_image, uring_owner_image_size) !=
        (ssize_t)uring_owner_image_size ||
        fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE |
                               F_SEAL_SEAL) < 0) {
        owner_error(errp, errno, "cannot write the io_uring owner to a "
                    "memory file");
        close(fd);
        return -1;
    }
    return fd;
}

/*
 * In the child of a multi-threaded process: async-signal-safe calls only.
 * The owner gets the channel as its descriptor URING_OWNER_CHANNEL_FD and
 * nothing else; if it cannot be executed, the child replies for it.
 */
static G_NORETURN void exec_owner(pid_t vmm, int channel, int image)
{
    static char *const argv[] = { (char *)URING_OWNER_NAME, NULL };
    static char *const envp[] = { NULL };
    UringOwnerReply reply = { .ok = 0, .step = URING_OWNER_STEP_EXEC };

    /*
     * Killed with the VMM, even if stopped (it ends by itself when its
     * channel closes, but a stopped process reads nothing).  The parent is
     * the thread that started it, which outlives the device (devices go
     * before vCPU threads); one already gone leaves nothing to serve.
     */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != vmm) {
        _exit(127);
    }

    if (image == URING_OWNER_CHANNEL_FD) {
        image = fcntl(image, F_DUPFD_CLOEXEC, URING_OWNER_CHANNEL_FD + 1);
    }
    if (channel == URING_OWNER_CHANNEL_FD) {
        fcntl(channel, F_SETFD, 0);
    } else {
        dup2(channel, URING_OWNER_CHANNEL_FD);
    }
    syscall(SYS_close_range, 0, URING_OWNER_CHANNEL_FD - 1,
            CLOSE_RANGE_CLOEXEC);
    syscall(SYS_close_range, URING_OWNER_CHANNEL_FD + 1, ~0U,
            CLOSE_RANGE_CLOEXEC);
    syscall(SYS_execveat, image, "", argv, envp, AT_EMPTY_PATH);
    reply.err = errno;
    send(URING_OWNER_CHANNEL_FD, &reply, sizeof(reply), MSG_NOSIGNAL);
    _exit(127);
}

static char *describe_exit(const siginfo_t *si)
{
    if (si->si_code == CLD_EXITED) {
        return g_strdup_printf("exited with status %d", si->si_status);
    }
    return g_strdup_printf("was killed by signal %d (%s)", si->si_status,
                           strsignal(si->si_status));
}

char *uring_owner_exit_reason(UringOwner *o)
{
    siginfo_t si = { 0 };

    if (o->pid <= 0 ||
        waitid(P_PIDFD, o->pidfd, &si, WEXITED | WNOHANG | WNOWAIT) < 0 ||
        si.si_pid == 0) {
        return NULL;
    }
    return describe_exit(&si);
}

/* The owner is gone (or going): say how, once it has exited. */
static void owner_failed(UringOwner *o, GError **errp)
{
    siginfo_t si = { 0 };

    while (waitid(P_PIDFD, o->pidfd, &si, WEXITED | WNOWAIT) < 0 &&
           errno == EINTR) {
    }
    g_autofree char *how = describe_exit(&si);
    error_setg(errp, "the io_uring owner process %s", how);
}

/*
 * The owner's reply, within URING_OWNER_TIMEOUT_MS; false with errp set if
 * it has none (it exited, or it is stuck and will be killed).
 */
static bool receive_reply(UringOwner *o, UringOwnerReply *reply,
                          GError **errp)
{
    gint64 deadline = g_get_monotonic_time() +
                      URING_OWNER_TIMEOUT_MS * G_TIME_SPAN_MILLISECOND;

    for (;;) {
        struct pollfd fds[2] = {
            { .fd = o->channel, .events = POLLIN },
            { .fd = o->pidfd, .events = POLLIN },
        };
        gint64 left = deadline - g_get_monotonic_time();
        ssize_t n;

        if (left <= 0) {
            error_setg(errp, "the io_uring owner process did not answer "
                       "within %d s", URING_OWNER_TIMEOUT_MS / 1000);
            return false;
        }
        if (poll(fds, 2, left / G_TIME_SPAN_MILLISECOND + 1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            owner_error(errp, errno, "cannot wait for the io_uring "
                        "owner process");
            return false;
        }
        /* A reply comes first, even from an owner that exited since. */
        if (fds[0].revents) {
            n = recv(o->channel, reply, sizeof(*reply), MSG_DONTWAIT);
            if (n == sizeof(*reply)) {
                return true;
            }
            /*
             * An owner that exited without reading the request resets the
             * connection: the error comes first, the reply after it.
             */
            if (n < 0 && (errno == EINTR || errno == EAGAIN ||
                          errno == ECONNRESET)) {
                continue;
            }
            if (n > 0) {
                error_setg(errp, "the io_uring owner process sent a "
                           "malformed reply");
                return false;
            }
            owner_failed(o, errp);
            return false;
        }
        if (fds[1].revents) {
            owner_failed(o, errp);
            return false;
        }
    }
}

static const char *step_name(unsigned step)
{
    switch (step) {
    case URING_OWNER_STEP_EXEC:
        return "cannot execute the io_uring owner";
    case URING_OWNER_STEP_FSIZE:
        return "cannot limit the file size";
    case URING_OWNER_STEP_SIGXFSZ:
        return "cannot ignore SIGXFSZ";
    case URING_OWNER_STEP_CAPS:
        return "cannot drop capabilities";
    case URING_OWNER_STEP_NO_NEW_PRIVS:
        return "cannot set no_new_privs";
    case URING_OWNER_STEP_LAYOUT:
        return "the io_uring rings differ in layout";
    default:
        return "cannot set up the io_uring owner";
    }
}

/* A failed reply as an error: io_uring_setup's errno is the caller's. */
static void reply_error(const UringOwnerReply *reply, GError **errp)
{
    if (reply->step == URING_OWNER_STEP_SETUP) {
        g_set_error_literal(errp, QEMU_ERROR, reply->err,
                            g_strerror(reply->err));
    } else {
        owner_error(errp, reply->err, "%s", step_name(reply->step));
    }
}

bool uring_owner_start(UringOwner *o, uint64_t fsize_limit, int sq_cpu,
                       unsigned sq_idle_ms, MemoryCgroup *cg, GError **errp)
{
    UringOwnerStart start = {
        /* Pinning guest RAM is then not charged to RLIMIT_MEMLOCK. */
        .keep_ipc_lock = 1,
        .fsize_limit = fsize_limit,
        .anchor = {
            .flags = sq_cpu >= 0 ? IORING_SETUP_SQ_AFF : 0,
            .sq_thread_cpu = sq_cpu >= 0 ? sq_cpu : 0,
            .sq_thread_idle = sq_idle_ms,
        },
    };
    UringOwnerReply reply;
    int sv[2], image, pidfd = -1;
    pid_t vmm = getpid(), pid;

    image = owner_image_fd(errp);
    if (image < 0) {
        return false;
    }
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        owner_error(errp, errno, "cannot create a socket pair");
        close(image);
        return false;
    }
    /* A fork, with a pidfd to wait for it by. */
    pid = syscall(SYS_clone, CLONE_PIDFD | SIGCHLD, NULL, &pidfd, NULL, 0);
    if (pid == 0) {
        exec_owner(vmm, sv[1], image);
    }
    close(image);
    close(sv[1]);
    if (pid < 0) {
        owner_error(errp, errno, "cannot start the io_uring owner "
                    "process");
        close(sv[0]);
        return false;
    }
    o->pid = pid;
    o->pidfd = pidfd;
    o->channel = sv[0];

    /* Before any ring exists, so that all they allocate is charged there. */
    if (cg && !memory_cgroup_add(cg, pid, errp)) {
        goto fail;
    }
    /* If the owner is gone, the reply (or its absence) says why. */
    send(o->channel, &start, sizeof(start), MSG_NOSIGNAL);
    if (!receive_reply(o, &reply, errp)) {
        goto fail;
    }
    if (!reply.ok) {
        reply_error(&reply, errp);
        goto fail;
    }
    return true;

fail:
    uring_owner_stop(o);
    return false;
}

/* Close the first n of fds. */
static void close_rings(int *fds, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        close(fds[i]);
        fds[i] = -1;
    }
}

bool uring_owner_make_rings(UringOwner *o, unsigned nr_rings,
                            unsigned entries, struct io_uring_params *params,
                            int *fds, GError **errp)
{
    UringOwnerRequest req = {
        .entries = entries,
        .nr_rings = nr_rings,
        .params = *params,
    };
    UringOwnerTaken taken = { URING_OWNER_TAKEN_MAGIC };
    UringOwnerReply reply;
    unsigned n = 0;

    assert(nr_rings >= 1 && nr_rings <= URING_OWNER_MAX_RINGS);
    send(o->channel, &req, sizeof(req), MSG_NOSIGNAL);
    if (!receive_reply(o, &reply, errp)) {
        goto broken;
    }
    if (!reply.ok) {
        reply_error(&reply, errp);
        return false;           /* the owner goes on */
    }
    for (; n < nr_rings; n++) {
        fds[n] = syscall(SYS_pidfd_getfd, o->pidfd, reply.fd[n], 0);
        if (fds[n] < 0) {
            owner_error(errp, errno, "cannot take the io_uring from its "
                        "owner process");
            goto broken;
        }
    }
    if (send(o->channel, &taken, sizeof(taken), MSG_NOSIGNAL) !=
        sizeof(taken)) {
        owner_error(errp, errno, "cannot talk to the io_uring owner "
                    "process");
        goto broken;
    }
    *params = reply.params;
    return true;

broken:
    /* Its other rings end with it, and their devices see it exit. */
    close_rings(fds, n);
    syscall(SYS_pidfd_send_signal, o->pidfd, SIGKILL, NULL, 0);
    return false;
}

void uring_owner_stop(UringOwner *o)
{
    gint64 start = g_get_monotonic_time();
    struct pollfd pfd = { .fd = o->pidfd, .events = POLLIN };
    siginfo_t si;

    if (o->pid <= 0) {
        return;
    }
    syscall(SYS_pidfd_send_signal, o->pidfd, SIGKILL, NULL, 0);
    /*
     * The owner ends once every thread, the ring's too, has exited, and the
     * ring's threads first wait for the requests they submitted: as long
     * as the host kernel holds those.  Say so when that is long.
     */
    for (;;) {
        int ret = poll(&pfd, 1, URING_OWNER_TIMEOUT_MS);

        if (ret > 0 || (ret < 0 && errno != EINTR)) {
            break;
        }
        if (ret == 0) {
            warn_report("uring-passthrough: the io_uring owner process %d "
                        "has not ended after %d s: the host kernel still "
                        "holds requests of its ring", o->pid,
                        (int)((g_get_monotonic_time() - start) /
                              G_TIME_SPAN_SECOND));
        }
    }
    while (waitid(P_PIDFD, o->pidfd, &si, WEXITED) < 0 && errno == EINTR) {
    }
    close(o->pidfd);
    close(o->channel);
    o->pid = 0;
}
