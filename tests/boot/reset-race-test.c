/*
 * A device reset with requests in flight, racing a system reset, under KVM
 * with two vCPUs and no I/O thread (the guest program resetrace): once the
 * first of 256 writes of 1 MiB (cache=none) has completed, the boot CPU
 * writes virtio status 0 with the others in flight, and the other CPU
 * writes the reset control register (0xcf9) 1 ms later.  The VMM must
 * drain the writes, reset the machine, boot the guest again (with a
 * working disk: each boot reads the disk before it races) and, after
 * RACES boots, exit on SIGTERM with status 0.
 *
 * Before the fix the vCPU resetting the device waited for the main loop to
 * run the requests' completions, while the main thread, resetting the
 * machine, waited for that vCPU to stop: the VMM hung and ignored SIGTERM.
 * The VMM of commit 45c0aed, before the fix, hung in 20 runs of this test
 * out of 20, each time at the first race, and ignored SIGTERM for the 30 s
 * the test then waits (2026-12-03, 2 host CPUs shared with other builds).
 * The fixed VMM takes one to two seconds for the three races.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "image.h"
#include "vmrun.h"

#define IMAGE_SIZE          (512 * 1024 * 1024)
#define RACES               3
#define RACING_LINE         "resetrace: racing"
/* Deadlines against a hung VMM; the guest needs far less. */
#define RACES_TIMEOUT_S     60
#define EXIT_TIMEOUT_S      30

/* A VMM whose output is read while it runs. */
typedef struct Watched {
    GPid pid;
    int out_fd, err_fd;
    GString *out, *err;
    int status;                 /* of waitpid(), once it exited */
} Watched;

static void watched_start(Watched *w, const char *const *argv)
{
    g_autoptr(GError) err = NULL;

    *w = (Watched){ .out = g_string_new(NULL), .err = g_string_new(NULL) };
    g_spawn_async_with_pipes(NULL, (char **)argv, NULL,
                             G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &w->pid,
                             NULL, &w->out_fd, &w->err_fd, &err);
    g_assert_no_error(err);
}

/* Append what fd has to s; false at EOF. */
static bool drain(int fd, GString *s)
{
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof(buf));

    if (n < 0 && errno == EINTR) {
        return true;
    }
    g_assert_cmpint(n, >=, 0);
    for (ssize_t i = 0; i < n; i++) {
        if (buf[i] != '\r') {
            g_string_append_c(s, buf[i]);
        }
    }
    return n > 0;
}

/*
 * Read output until done(w), or with done NULL until both pipes end (the
 * VMM exited), for at most timeout_s seconds; false if time ran out.
 */
static bool watched_read_until(Watched *w, bool (*done)(Watched *),
                               unsigned timeout_s)
{
    gint64 deadline = g_get_monotonic_time() + timeout_s * G_USEC_PER_SEC;
    struct pollfd fds[2] = {
        { .fd = w->out_fd, .events = POLLIN },
        { .fd = w->err_fd, .events = POLLIN },
    };

    while (!(done && done(w)) && (fds[0].fd >= 0 || fds[1].fd >= 0)) {
        gint64 left = deadline - g_get_monotonic_time();

        if (left <= 0) {
            return false;
        }
        if (poll(fds, 2, left / 1000 + 1) < 0) {
            g_assert_cmpint(errno, ==, EINTR);
            continue;
        }
        for (unsigned i = 0; i < 2; i++) {
            if (fds[i].revents && !drain(fds[i].fd, i ? w->err : w->out)) {
                fds[i].fd = -1;
            }
        }
    }
    return true;
}

/* Reap the VMM, killing it first if it still runs (a failed case). */
static void watched_end(Watched *w)
{
    if (waitpid(w->pid, &w->status, WNOHANG) == 0) {
        kill(w->pid, SIGKILL);
        g_assert_cmpint(waitpid(w->pid, &w->status, 0), ==, w->pid);
    }
    if (g_test_verbose()) {
        g_test_message("stdout:\n%s\nstderr:\n%s", w->out->str,
                       w->err->str);
    }
    g_spawn_close_pid(w->pid);
    close(w->out_fd);
    close(w->err_fd);
}

static void watched_free(Watched *w)
{
    g_string_free(w->out, TRUE);
    g_string_free(w->err, TRUE);
}

static unsigned races(Watched *w)
{
    unsigned n = 0;

    for (const char *p = w->out->str; (p = strstr(p, RACING_LINE)); p++) {
        n++;
    }
    return n;
}

static bool raced_enough(Watched *w)
{
    return races(w) >= RACES;
}

static void test_reset_race(void)
{
    g_autoptr(Image) img = image_new(IMAGE_SIZE);
    g_autofree char *kernel = vmrun_guest("resetrace");
    g_autofree char *drive = g_strdup_printf("file=%s,if=none,id=d0,"
                                             "format=raw,cache=none",
                                             img->path);
    const char *argv[] = {
        vmrun_our_vmm(), "-accel", "kvm", "-m", "256M", "-smp", "2",
        "-nographic", "-drive", drive, "-device", "virtio-blk-pci,drive=d0",
        "-kernel", kernel, NULL,
    };
    bool hung, exited;
    Watched w;

    watched_start(&w, argv);
    hung = !watched_read_until(&w, raced_enough, RACES_TIMEOUT_S);
    kill(w.pid, SIGTERM);
    exited = watched_read_until(&w, NULL, EXIT_TIMEOUT_S);
    watched_end(&w);
    if (hung) {
        g_test_fail_printf("the VMM hung after %u of %u races (%u s), then "
                           "%s SIGTERM", races(&w), RACES, RACES_TIMEOUT_S,
                           exited ? "exited on" : "ignored");
    } else if (races(&w) < RACES) {
        g_test_fail_printf("the VMM exited after %u of %u races: %s%s",
                           races(&w), RACES, w.out->str, w.err->str);
    } else if (!exited) {
        g_test_fail_printf("the VMM ignored SIGTERM for %u s",
                           EXIT_TIMEOUT_S);
    } else {
        g_assert_true(WIFEXITED(w.status));
        g_assert_cmpint(WEXITSTATUS(w.status), ==, 0);
        g_assert_cmpstr(w.err->str, ==,
                        "qemu-system-x86_64: terminating on signal 15\n");
        g_assert_null(strstr(w.out->str, "resetrace: no"));
    }
    watched_free(&w);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/reset-race/device-reset-vs-system-reset",
                    test_reset_race);
    return g_test_run();
}
