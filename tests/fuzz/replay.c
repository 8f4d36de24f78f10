/*
 * Replays saved inputs through a fuzz target without libFuzzer: the
 * driver of the replay test (built by gcc in the normal build, with
 * AddressSanitizer and UBSan) and of crash reproduction.
 *
 *   fuzz-NAME-replay [--fresh] FILE|DIR...
 *
 * Each file, and each file of each directory (sorted by name), is one
 * input.  Inputs run one after the other on one machine, each after the
 * last one's reset, as under libFuzzer; after --fresh, each of the
 * following inputs runs in a process of its own instead (a crash
 * regression must reproduce from a freshly built machine, not depend on
 * what ran before it).  A crash or an invariant violation aborts with its
 * report; otherwise the exit status is 0.
 */
#include <glib.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "fuzz-target.h"

static const char *self;
static bool initialized;

static void replay_in_process(const char *path)
{
    g_autofree char *data = NULL;
    g_autoptr(GError) err = NULL;
    gsize len;

    if (!g_file_get_contents(path, &data, &len, &err)) {
        fprintf(stderr, "replay: %s\n", err->message);
        exit(1);
    }
    if (!initialized) {
        int argc = 1;
        char *args[] = { (char *)self, NULL };
        char **argv = args;

        LLVMFuzzerInitialize(&argc, &argv);
        initialized = true;
    }
    fprintf(stderr, "replay: %s (%zu bytes)\n", path, (size_t)len);
    LLVMFuzzerTestOneInput((const uint8_t *)data, len);
}

/* The same in a child process, whose failure ends this one. */
static void replay_fresh(const char *path)
{
    const char *argv[] = { self, path, NULL };
    g_autoptr(GError) err = NULL;
    int status;

    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_CHILD_INHERITS_STDIN,
                      NULL, NULL, NULL, NULL, &status, &err)) {
        fprintf(stderr, "replay: %s\n", err->message);
        exit(1);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status)) {
        fprintf(stderr, "replay: %s failed (wait status 0x%x)\n", path,
                status);
        exit(1);
    }
}

static gint compare_names(gconstpointer a, gconstpointer b)
{
    return g_strcmp0(*(char *const *)a, *(char *const *)b);
}

/* The inputs a path names: itself, or its directory's files by name. */
static GPtrArray *inputs(const char *path)
{
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GError) err = NULL;
    const char *name;
    GDir *dir;

    if (!g_file_test(path, G_FILE_TEST_IS_DIR)) {
        g_ptr_array_add(names, g_strdup(path));
        return names;
    }
    dir = g_dir_open(path, 0, &err);
    if (!dir) {
        fprintf(stderr, "replay: %s\n", err->message);
        exit(1);
    }
    while ((name = g_dir_read_name(dir))) {
        if (name[0] != '.') {
            g_ptr_array_add(names, g_build_filename(path, name, NULL));
        }
    }
    /* Closed before any input runs: the targets count descriptors. */
    g_dir_close(dir);
    g_ptr_array_sort(names, compare_names);
    return names;
}

int main(int argc, char **argv)
{
    bool fresh = false;
    unsigned n = 0;

    self = argv[0];
    if (argc < 2) {
        fprintf(stderr, "usage: %s [--fresh] FILE|DIR...\n", argv[0]);
        return 1;
    }
    for (int i = 1; i < argc; i++) {
        g_autoptr(GPtrArray) names = NULL;

        if (!strcmp(argv[i], "--fresh")) {
            fresh = true;
            continue;
        }
        names = inputs(argv[i]);
        for (guint k = 0; k < names->len; k++) {
            if (fresh) {
                replay_fresh(names->pdata[k]);
            } else {
                replay_in_process(names->pdata[k]);
            }
        }
        n += names->len;
    }
    fprintf(stderr, "replay: %u input(s), no finding\n", n);
    return 0;
}
