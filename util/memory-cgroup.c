/*
 * A memory cgroup of our own for helper processes (include/qemu/memory-cgroup.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qemu/error-report.h"
#include "qemu/memory-cgroup.h"

struct MemoryCgroup {
    char *path;
};

/* How long removal waits for the kernel to let go of exited processes. */
#define RMDIR_TRIES     100
#define RMDIR_WAIT_US   1000

static bool write_file(const char *dir, const char *file, const char *text,
                       GError **errp)
{
    g_autofree char *path = g_build_filename(dir, file, NULL);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    ssize_t len = strlen(text);

    if (fd < 0 || write(fd, text, len) != len) {
        error_setg_errno(errp, errno, "cannot write '%s' to %s", text, path);
        if (fd >= 0) {
            close(fd);
        }
        return false;
    }
    close(fd);
    return true;
}

static bool in_list(const char *list, const char *word, const char *seps)
{
    g_auto(GStrv) words = g_strsplit_set(list, seps, -1);

    return g_strv_contains((const char *const *)words, word);
}

/*
 * Where the hierarchy holding the memory controller is mounted, and the
 * root of that mount within the hierarchy (from /proc/self/mountinfo).
 */
static bool find_mount(bool v2, char **mountpoint, char **root,
                       GError **errp)
{
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;

    if (!g_file_get_contents("/proc/self/mountinfo", &text, NULL, errp)) {
        return false;
    }
    lines = g_strsplit(text, "\n", -1);
    for (unsigned i = 0; lines[i]; i++) {
        const char *dash = strstr(lines[i], " - ");
        g_auto(GStrv) fields = NULL;
        g_auto(GStrv) fs = NULL;

        if (!dash) {
            continue;
        }
        fields = g_strsplit(lines[i], " ", 6);
        fs = g_strsplit(dash + 3, " ", 3);
        if (g_strv_length(fields) < 6 || g_strv_length(fs) < 3) {
            continue;
        }
        if (v2 ? !strcmp(fs[0], "cgroup2")
               : !strcmp(fs[0], "cgroup") && in_list(fs[2], "memory", ",")) {
            /* mountinfo escapes spaces and the like as \ooo */
            *root = g_strcompress(fields[3]);
            *mountpoint = g_strcompress(fields[4]);
            return true;
        }
    }
    error_setg(errp, "no cgroup%s hierarchy with the memory controller is "
               "mounted", v2 ? "2" : "");
    return false;
}

char *memory_cgroup_dir_of(pid_t pid, bool *v2, GError **errp)
{
    g_autofree char *file = g_strdup_printf("/proc/%d/cgroup", (int)pid);
    g_autofree char *text = NULL;
    g_autofree char *mountpoint = NULL;
    g_autofree char *root = NULL;
    g_auto(GStrv) lines = NULL;
    const char *path = NULL;

    if (!g_file_get_contents(file, &text, NULL, errp)) {
        return NULL;
    }
    lines = g_strsplit(text, "\n", -1);
    /* "ID:controllers:path"; v1's memory line wins over v2's "0::path". */
    for (unsigned i = 0; lines[i]; i++) {
        g_auto(GStrv) f = g_strsplit(lines[i], ":", 3);

        if (g_strv_length(f) != 3) {
            continue;
        }
        if (strcmp(f[0], "0") && in_list(f[1], "memory", ",")) {
            *v2 = false;
            path = lines[i] + strlen(f[0]) + strlen(f[1]) + 2;
            break;
        }
        if (!strcmp(f[0], "0") && !*f[1]) {
            *v2 = true;
            path = lines[i] + 3;
        }
    }
    if (!path) {
        error_setg(errp, "process %d is in no memory cgroup", (int)pid);
        return NULL;
    }
    if (!find_mount(*v2, &mountpoint, &root, errp)) {
        return NULL;
    }
    if (strcmp(root, "/")) {
        if (!g_str_has_prefix(path, root)) {
            error_setg(errp, "the cgroup %s of process %d is outside the "
                       "mounted part %s of its hierarchy", path, (int)pid,
                       root);
            return NULL;
        }
        path += strlen(root);
    }
    return g_build_filename(mountpoint, path, NULL);
}

/* v2 lets a cgroup's children use a controller only if it enables it. */
static bool enable_memory_for_children(const char *dir, GError **errp)
{
    g_autofree char *path = g_build_filename(dir, "cgroup.subtree_control",
                                             NULL);
    g_autofree char *enabled = NULL;

    if (!g_file_get_contents(path, &enabled, NULL, errp)) {
        return false;
    }
    if (in_list(enabled, "memory", " \n")) {
        return true;
    }
    return write_file(dir, "cgroup.subtree_control", "+memory", errp);
}

/*
 * A VMM that was killed could not remove its cgroups: remove the empty ones
 * of VMMs that are gone ("qemu-PID-..." where no process PID exists).
 */
static void remove_orphans(const char *parent)
{
    GDir *dir = g_dir_open(parent, 0, NULL);
    const char *name;

    while (dir && (name = g_dir_read_name(dir))) {
        int pid = 0, end = 0;

        if (sscanf(name, "qemu-%d-%n", &pid, &end) == 1 && end > 0 &&
            pid > 0 && kill(pid, 0) < 0 && errno == ESRCH) {
            g_autofree char *path = g_build_filename(parent, name, NULL);

            rmdir(path);    /* fails, and stays, if processes are left */
        }
    }
    if (dir) {
        g_dir_close(dir);
    }
}

MemoryCgroup *memory_cgroup_new(const char *purpose, uint64_t limit,
                                GError **errp)
{
    g_autofree char *parent = NULL;
    g_autofree char *name = g_strdup_printf("qemu-%d-%s", (int)getpid(),
                                            purpose);
    g_autofree char *value = g_strdup_printf("%" G_GUINT64_FORMAT, limit);
    MemoryCgroup *cg;
    bool v2;

    parent = memory_cgroup_dir_of(getpid(), &v2, errp);
    if (!parent || (v2 && !enable_memory_for_children(parent, errp))) {
        return NULL;
    }
    remove_orphans(parent);
    cg = g_new0(MemoryCgroup, 1);
    cg->path = g_build_filename(parent, name, NULL);
    /* A VMM of the same pid that died may have left it, not empty. */
    if (mkdir(cg->path, 0755) < 0 &&
        (errno != EEXIST || rmdir(cg->path) < 0 ||
         mkdir(cg->path, 0755) < 0)) {
        error_setg_errno(errp, errno, "cannot create the memory cgroup %s",
                         cg->path);
        g_free(cg->path);
        g_free(cg);
        return NULL;
    }
    if (!write_file(cg->path, v2 ? "memory.max" : "memory.limit_in_bytes",
                    value, errp)) {
        memory_cgroup_free(cg);
        return NULL;
    }
    return cg;
}

bool memory_cgroup_add(MemoryCgroup *cg, pid_t pid, GError **errp)
{
    g_autofree char *value = g_strdup_printf("%d", (int)pid);

    return write_file(cg->path, "cgroup.procs", value, errp);
}

void memory_cgroup_free(MemoryCgroup *cg)
{
    int tries = 0, ret;

    /* Exited (reaped) processes can take a moment to leave it. */
    while ((ret = rmdir(cg->path)) < 0 && errno == EBUSY &&
           ++tries < RMDIR_TRIES) {
        g_usleep(RMDIR_WAIT_US);
    }
    if (ret < 0) {
        warn_report("cannot remove the memory cgroup %s: %s", cg->path,
                    g_strerror(errno));
    }
    g_free(cg->path);
    g_free(cg);
}
