/*
 * Help on the command line, as a new user asks for it: -h, "help" (or "?")
 * for -device, -object, -machine and -accel, and DRIVER,help for the
 * properties of a device or object.  Each works with nothing else on the
 * command line (no -kernel, no accelerator set up), prints on stdout in
 * QEMU's layout and exits with status 0.
 */
#include <glib.h>
#include <string.h>

#include "libqtest.h"

typedef struct HelpCase {
    const char *path;
    const char *args;
    const char *const *lines;   /* each must be a whole line of stdout */
} HelpCase;

static const char *const device_list[] = {
    "name \"virtio-blk-pci\", desc \"Virtio block device\"", NULL,
};
static const char *const virtio_blk_pci_props[] = {
    "  num-queues=<uint16>    - number of request queues (default: 1)",
    "  queue-size=<uint16>    -  (default: 256)",
    "  packed=<bool>          - on/off (default: false)",
    "  event_idx=<bool>       - on/off (default: true)",
    "  indirect_desc=<bool>   - on/off (default: true)",
    "  uring-passthrough=<bool> - share the host's io_uring with the guest "
    "(default: false)",
    "  uring-iopoll=<OnOffAuto> - polled I/O (auto: if the drive supports "
    "it) (default: \"auto\")",
    "  uring-sq-cpu=<int32>   - host CPU of the SQPOLL thread (-1: any) "
    "(default: -1)",
    NULL,
};
static const char *const object_list[] = {
    "List of user creatable objects:", "  iothread", "  secret", NULL,
};
static const char *const iothread_props[] = {
    "iothread options:",
    "  poll-grow=<int>        - factor the polling time grows by "
    "(0: double it) (default: 0)",
    "  poll-max-ns=<int>      - longest time to poll before sleeping, in ns "
    "(default: 65536)",
    "  poll-shrink=<int>      - divisor the polling time shrinks by "
    "(0: drop it) (default: 2)",
    NULL,
};
static const char *const machine_list[] = {
    "Supported machines are:", NULL,
};
static const char *const accel_list[] = {
    "Accelerators supported in QEMU binary:", "kvm", "qtest", NULL,
};

static const HelpCase cases[] = {
    { "/cmdline-help/device/list", "-device help", device_list },
    { "/cmdline-help/device/list-question-mark", "-device ?", device_list },
    { "/cmdline-help/device/props", "-device virtio-blk-pci,help",
      virtio_blk_pci_props },
    { "/cmdline-help/device/props-question-mark", "-device virtio-blk-pci,?",
      virtio_blk_pci_props },
    /* help wins over the other properties, even one that would fail */
    { "/cmdline-help/device/props-with-others",
      "-device virtio-blk-pci,drive=nonexistent,help", virtio_blk_pci_props },
    { "/cmdline-help/object/list", "-object help", object_list },
    { "/cmdline-help/object/list-question-mark", "-object ?", object_list },
    { "/cmdline-help/object/props", "-object iothread,help", iothread_props },
    { "/cmdline-help/machine/list", "-machine help", machine_list },
    { "/cmdline-help/machine/list-question-mark", "-machine ?",
      machine_list },
    { "/cmdline-help/accel/list", "-accel help", accel_list },
    { "/cmdline-help/accel/list-question-mark", "-accel ?", accel_list },
};

/* Run the VMM; it must succeed, print nothing on stderr; returns stdout. */
static char *run_help(const char *args)
{
    g_autofree char *err = NULL;
    char *out = NULL;
    int status = qtest_run_vmm_output(NULL, args, &out, &err);

    g_assert_cmpstr(err, ==, "");
    g_assert_cmpint(status, ==, 0);
    return out;
}

static bool has_line(char **lines, const char *line)
{
    for (char **l = lines; *l; l++) {
        if (!strcmp(*l, line)) {
            return true;
        }
    }
    return false;
}

static void test_case(gconstpointer data)
{
    const HelpCase *c = data;
    g_autofree char *out = run_help(c->args);
    g_auto(GStrv) lines = g_strsplit(out, "\n", -1);

    for (const char *const *l = c->lines; *l; l++) {
        if (!has_line(lines, *l)) {
            g_error("'%s' printed no line '%s'; it printed:\n%s", c->args,
                    *l, out);
        }
    }
}

/*
 * DRIVER,help lists every property once, sorted, each as
 * "  NAME=<TYPE>" then, if it has a description or a default,
 * " - DESCRIPTION (default: VALUE)" from column 25 on.
 */
static void test_props_layout(gconstpointer data)
{
    const char *args = data;
    g_autofree char *out = run_help(args);
    g_auto(GStrv) lines = g_strsplit(out, "\n", -1);
    g_autoptr(GRegex) re = g_regex_new("^  ([a-z_-]+)=<\\S+>( *) - (.*)$",
                                       0, 0, NULL);
    guint n = g_strv_length(lines);

    g_assert_cmpuint(n, >, 2);
    g_assert_true(g_str_has_suffix(lines[0], " options:"));
    g_assert_cmpstr(lines[n - 1], ==, "");
    for (guint i = 1; i < n - 1; i++) {
        g_autoptr(GMatchInfo) m = NULL;
        g_autofree char *name = NULL;
        g_autofree char *pad = NULL;

        if (!g_regex_match(re, lines[i], 0, &m)) {
            g_assert_true(g_regex_match_simple("^  [a-z_-]+=<\\S+>$",
                                               lines[i], 0, 0));
            continue;
        }
        name = g_match_info_fetch(m, 1);
        pad = g_match_info_fetch(m, 2);
        /* "  NAME=<TYPE>" padded to 24 columns, or one space after it */
        g_assert_true(strstr(lines[i], " - ") - lines[i] == 24 ||
                      !strcmp(pad, ""));
        if (i > 1) {
            g_auto(GStrv) prev = g_strsplit_set(lines[i - 1] + 2, "=", 2);

            if (strcmp(prev[0], name) >= 0) {
                g_error("'%s' is not sorted: '%s' comes after '%s'", args,
                        name, prev[0]);
            }
        }
    }
}

/* Option names on -h's lines ("-name ARGS   help"), in order. */
static GPtrArray *help_option_names(const char *out)
{
    g_auto(GStrv) lines = g_strsplit(out, "\n", -1);
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);

    for (char **l = lines; *l; l++) {
        if ((*l)[0] == '-') {
            g_ptr_array_add(names, g_strndup(*l + 1, strcspn(*l + 1, " ")));
        }
    }
    return names;
}

/* How many times word appears in text as a whole word. */
static unsigned count_word(const char *text, const char *word)
{
    g_auto(GStrv) words = g_strsplit_set(text, " \n", -1);
    unsigned n = 0;

    for (char **w = words; *w; w++) {
        n += !strcmp(*w, word);
    }
    return n;
}

/*
 * -h lists each option once (-help, which is -h, under -h only), and each
 * one it lists is accepted (not an "invalid option"); the iothread's
 * polling properties are there.
 */
static void test_h(void)
{
    g_autofree char *out = run_help("-h");
    g_autofree char *help = run_help("-help");
    g_autoptr(GPtrArray) names = help_option_names(out);
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);

    g_assert_cmpstr(out, ==, help);
    g_assert_cmpuint(count_word(out, "-help"), ==, 1);
    g_assert_cmpuint(names->len, >, 10);
    for (guint i = 0; i < names->len; i++) {
        const char *name = names->pdata[i];
        g_autofree char *args = g_strdup_printf("-%s", name);
        g_autofree char *err = NULL;
        g_autofree char *invalid = g_strdup_printf("-%s: invalid option",
                                                   name);

        if (!g_hash_table_add(seen, (gpointer)name)) {
            g_error("-h lists -%s twice:\n%s", name, out);
        }
        qtest_run_vmm_output(NULL, args, NULL, &err);
        g_assert_null(strstr(err, invalid));
    }
    g_assert_nonnull(strstr(out, "poll-grow="));
    g_assert_nonnull(strstr(out, "poll-shrink="));
    g_assert_nonnull(strstr(out, "poll-max-ns="));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_test_add_data_func(cases[i].path, &cases[i], test_case);
    }
    g_test_add_data_func("/cmdline-help/device/props-layout",
                         "-device virtio-blk-pci,help", test_props_layout);
    g_test_add_data_func("/cmdline-help/device/props-layout-debug-exit",
                         "-device isa-debug-exit,help", test_props_layout);
    g_test_add_data_func("/cmdline-help/object/props-layout",
                         "-object iothread,help", test_props_layout);
    g_test_add_func("/cmdline-help/h", test_h);
    return g_test_run();
}
