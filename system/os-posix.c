/*
 * -daemonize and -pidfile.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qemu/error-report.h"
#include "sysemu/os-posix.h"

static int ready_fd = -1;       /* the child's end of the parent's pipe */
static int pidfile_fd = -1;
static char *pidfile_path;

void os_daemonize(void)
{
    int fds[2], status;
    pid_t pid;
    char c;
    ssize_t n;

    if (pipe2(fds, O_CLOEXEC) < 0) {
        error_report("cannot daemonize: %s", g_strerror(errno));
        exit(1);
    }
    pid = fork();
    if (pid < 0) {
        error_report("cannot daemonize: %s", g_strerror(errno));
        exit(1);
    }
    if (pid == 0) {
        close(fds[0]);
        ready_fd = fds[1];
        setsid();
        return;
    }
    /* The parent: wait for "ready" or for the child's end. */
    close(fds[1]);
    do {
        n = read(fds[0], &c, 1);
    } while (n < 0 && errno == EINTR);
    if (n == 1) {
        exit(0);
    }
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    exit(WIFEXITED(status) && WEXITSTATUS(status) ? WEXITSTATUS(status) : 1);
}

void os_daemonize_ready(void)
{
    int null;

    if (ready_fd < 0) {
        return;
    }
    null = open("/dev/null", O_RDWR);
    if (null >= 0) {
        dup2(null, STDIN_FILENO);
        dup2(null, STDOUT_FILENO);
        dup2(null, STDERR_FILENO);
        if (null > STDERR_FILENO) {
            close(null);
        }
    }
    if (chdir("/") < 0) {
        /* Relative paths were all opened already; nothing to do. */
    }
    while (write(ready_fd, "", 1) < 0 && errno == EINTR) {
    }
    close(ready_fd);
    ready_fd = -1;
}

bool os_write_pidfile(const char *path, GError **errp)
{
    g_autofree char *pid = g_strdup_printf("%d\n", (int)getpid());
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, S_IRUSR | S_IWUSR);

    if (fd < 0) {
        error_setg_errno(errp, errno, "Cannot open pid file");
        return false;
    }
    if (lockf(fd, F_TLOCK, 0) < 0) {
        error_setg_errno(errp, errno, "Cannot lock pid file");
        close(fd);
        return false;
    }
    if (ftruncate(fd, 0) < 0 ||
        write(fd, pid, strlen(pid)) != (ssize_t)strlen(pid)) {
        error_setg_errno(errp, errno, "Failed to write pid file");
        close(fd);
        return false;
    }
    /* Kept open: the lock lasts as long as we do. */
    pidfile_fd = fd;
    pidfile_path = g_canonicalize_filename(path, NULL);
    return true;
}

void os_remove_pidfile(void)
{
    if (pidfile_fd < 0) {
        return;
    }
    unlink(pidfile_path);
    close(pidfile_fd);
    pidfile_fd = -1;
    g_clear_pointer(&pidfile_path, g_free);
}
