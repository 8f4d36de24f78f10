/*
 * Replays saved inputs through a fuzz target without libFuzzer: the
 * driver of the replay test (built by gcc in the normal build, with
 * AddressSanitizer and UBSan) and of crash reproduction.
 *
 *   fuzz-NAME-replay FILE|DIR...
 *
 * Each file, and each file of each directory (sorted by name), is one
 * input.  A crash or an invariant violation aborts with its report;
 * otherwise the exit status is 0.
 */
#include <glib.h>
#include <stdio.h>

#include "fuzz-target.h"

static void replay_file(const char *path)
{
    g_autofree char *data = NULL;
    g_autoptr(GError) err = NULL;
    gsize len;

    if (!g_file_get_contents(path, &data, &len, &err)) {
        fprintf(stderr, "replay: %s\n", err->message);
        exit(1);
    }
    fprintf(stderr, "replay: %s (%zu bytes)\n", path, (size_t)len);
    LLVMFuzzerTestOneInput((const uint8_t *)data, len);
}

static gint compare_names(gconstpointer a, gconstpointer b)
{
    return g_strcmp0(*(char *const *)a, *(char *const *)b);
}

static unsigned replay_dir(const char *path)
{
    g_autoptr(GError) err = NULL;
    GDir *dir = g_dir_open(path, 0, &err);
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    const char *name;

    if (!dir) {
        fprintf(stderr, "replay: %s\n", err->message);
        exit(1);
    }
    while ((name = g_dir_read_name(dir))) {
        if (name[0] != '.') {
            g_ptr_array_add(names, g_build_filename(path, name, NULL));
        }
    }
    /* Closed first: the targets count the process's descriptors. */
    g_dir_close(dir);
    g_ptr_array_sort(names, compare_names);
    for (guint i = 0; i < names->len; i++) {
        replay_file(names->pdata[i]);
    }
    return names->len;
}

int main(int argc, char **argv)
{
    unsigned n = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
        return 1;
    }
    LLVMFuzzerInitialize(&argc, &argv);
    for (int i = 1; i < argc; i++) {
        if (g_file_test(argv[i], G_FILE_TEST_IS_DIR)) {
            n += replay_dir(argv[i]);
        } else {
            replay_file(argv[i]);
            n++;
        }
    }
    fprintf(stderr, "replay: %u input(s), no finding\n", n);
    return 0;
}
