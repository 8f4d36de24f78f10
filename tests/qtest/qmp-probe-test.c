/*
 * The commands a management tool probes the VMM with (libvirt's
 * domcapabilities sends them all): CPU models, the command line, and the
 * features this VMM does not have.  What they report must be what the VMM
 * really accepts: -cpu's models, the option table, no TPM, no migration,
 * no SEV or SGX.
 */
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libqtest.h"

static JsonNode *cmd_return(QTestState *qts, const char *cmd)
{
    g_autoptr(JsonObject) r = qtest_qmp(qts, cmd);

    return json_node_copy(qmp_reply_return(r));
}

static void assert_error(QTestState *qts, const char *cmd, const char *desc)
{
    g_autoptr(JsonObject) r = qtest_qmp(qts, cmd);

    g_assert_cmpstr(qmp_reply_error_class(r), ==, "GenericError");
    g_assert_cmpstr(qmp_reply_error_desc(r), ==, desc);
}

/* -cpu's models, each with its type in qom-list-types (libvirt looks). */
static void test_cpu_definitions(void)
{
    g_autoptr(QTestState) qts = qtest_init("");
    g_autoptr(JsonNode) ret = cmd_return(qts,
        "{'execute':'query-cpu-definitions'}");
    g_autoptr(JsonNode) types = cmd_return(qts,
        "{'execute':'qom-list-types'}");
    JsonArray *defs = json_node_get_array(ret);
    static const char *const names[] = { "host", "max" };

    g_assert_cmpuint(json_array_get_length(defs), ==, G_N_ELEMENTS(names));
    for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
        JsonObject *d = json_array_get_object_element(defs, i);
        g_autofree char *type = g_strdup_printf("%s-x86_64-cpu", names[i]);

        g_assert_cmpstr(json_object_get_string_member(d, "name"), ==,
                        names[i]);
        g_assert_cmpstr(json_object_get_string_member(d, "typename"), ==,
                        type);
        g_assert_nonnull(qmp_find_by(json_node_get_array(types), "name",
                                     type));
        g_assert(!json_object_get_boolean_member(d, "static"));
        g_assert(!json_object_get_boolean_member(d, "migration-safe"));
        g_assert(!json_object_get_boolean_member(d, "deprecated"));
    }
}

static bool props_have(JsonArray *props, const char *name, const char *type)
{
    for (guint i = 0; i < json_array_get_length(props); i++) {
        JsonObject *p = json_array_get_object_element(props, i);

        if (!strcmp(json_object_get_string_member(p, "name"), name)) {
            g_assert_cmpstr(json_object_get_string_member(p, "type"), ==,
                            type);
            return true;
        }
    }
    return false;
}

static JsonArray *qom_props(QTestState *qts, const char *type,
                            JsonNode **keep)
{
    g_autofree char *cmd = g_strdup_printf(
        "{'execute':'qom-list-properties','arguments':{'typename':'%s'}}",
        type);

    *keep = cmd_return(qts, cmd);
    return json_node_get_array(*keep);
}

/*
 * The machine types and memory back-ends -machine and -object accept, as
 * libvirt asks for them while probing (it crashes if none-machine or
 * memory-backend-file is unknown), with the properties they take and no
 * others.
 */
static void test_machine_and_backend_types(void)
{
    g_autoptr(QTestState) qts = qtest_init("");
    g_autoptr(JsonNode) types = cmd_return(qts,
        "{'execute':'qom-list-types'}");
    g_autoptr(JsonNode) machines = cmd_return(qts,
        "{'execute':'query-machines'}");
    g_autoptr(JsonNode) none = NULL;
    g_autoptr(JsonNode) file = NULL;
    g_autoptr(JsonNode) ram = NULL;
    g_autoptr(JsonObject) memfd = qtest_qmp(qts,
        "{'execute':'qom-list-properties','arguments':"
        "{'typename':'memory-backend-memfd'}}");
    JsonArray *m = json_node_get_array(machines);
    JsonArray *p;

    g_assert_nonnull(qmp_find_by(json_node_get_array(types), "name",
                                 "pvh-machine"));
    g_assert_nonnull(qmp_find_by(json_node_get_array(types), "name",
                                 "none-machine"));
    g_assert_nonnull(qmp_find_by(json_node_get_array(types), "name",
                                 "memory-backend-ram"));
    g_assert_nonnull(qmp_find_by(json_node_get_array(types), "name",
                                 "memory-backend-file"));
    g_assert_null(qmp_find_by(json_node_get_array(types), "name",
                              "memory-backend-memfd"));
    /* No TCG: libvirt sees no tcg-accel and probes no accel=tcg start. */
    g_assert_null(qmp_find_by(json_node_get_array(types), "name",
                              "tcg-accel"));

    p = qom_props(qts, "none-machine", &none);
    g_assert(props_have(p, "memory-backend", "string"));
    g_assert(props_have(p, "usb", "bool"));
    g_assert(props_have(p, "dump-guest-core", "bool"));
    g_assert(!props_have(p, "nvdimm", "bool"));

    p = qom_props(qts, "memory-backend-file", &file);
    g_assert(props_have(p, "size", "int"));
    g_assert(props_have(p, "mem-path", "string"));
    g_assert(props_have(p, "share", "bool"));
    g_assert(props_have(p, "prealloc", "bool"));
    g_assert(!props_have(p, "pmem", "bool"));
    g_assert(!props_have(p, "discard-data", "bool"));

    p = qom_props(qts, "memory-backend-ram", &ram);
    g_assert(props_have(p, "size", "int"));
    g_assert(!props_have(p, "mem-path", "string"));

    g_assert_cmpstr(qmp_reply_error_class(memfd), ==, "DeviceNotFound");
    g_assert_cmpstr(qmp_reply_error_desc(memfd), ==,
                    "Class 'memory-backend-memfd' not found");

    g_assert_cmpuint(json_array_get_length(m), ==, 2);
    g_assert_cmpstr(json_object_get_string_member(
        json_array_get_object_element(m, 0), "name"), ==, "pvh");
    g_assert(json_object_get_boolean_member(
        json_array_get_object_element(m, 0), "is-default"));
    g_assert_cmpstr(json_object_get_string_member(
        json_array_get_object_element(m, 1), "name"), ==, "none");
    g_assert(!json_object_get_boolean_member(
        json_array_get_object_element(m, 1), "is-default"));
}

/* Without KVM there is no host CPU to expand; bad requests get errors. */
static void test_cpu_model_expansion_errors(void)
{
    g_autoptr(QTestState) qts = qtest_init("");

    assert_error(qts, "{'execute':'query-cpu-model-expansion','arguments':"
                 "{'type':'full','model':{'name':'host'}}}",
                 "CPU model 'host' requires KVM");
    assert_error(qts, "{'execute':'query-cpu-model-expansion','arguments':"
                 "{'type':'static','model':{'name':'host'}}}",
                 "CPU model expansion of type 'static' is not supported: "
                 "no CPU model is static");
    assert_error(qts, "{'execute':'query-cpu-model-expansion','arguments':"
                 "{'type':'full','model':{'name':'qemu64'}}}",
                 "The CPU type 'qemu64' is not a recognized CPU model");
    assert_error(qts, "{'execute':'query-cpu-model-expansion','arguments':"
                 "{'type':'full','model':{'name':'host','props':"
                 "{'hv-passthrough':true}}}}",
                 "Property 'host-x86_64-cpu.hv-passthrough' cannot be set: "
                 "the model is the host's CPU as KVM reports it");
}

/* A CPUID bit of what KVM supports, read by the test itself. */
static bool kvm_cpuid_bit(struct kvm_cpuid2 *c, uint32_t leaf, int reg,
                          int bit)
{
    for (uint32_t i = 0; i < c->nent; i++) {
        struct kvm_cpuid_entry2 *e = &c->entries[i];
        uint32_t regs[4] = { e->eax, e->ebx, e->ecx, e->edx };

        if (e->function == leaf && e->index == 0) {
            return regs[reg] & (1u << bit);
        }
    }
    return false;
}

/*
 * Under KVM, "host" expands to the CPUID bits KVM supports, which is what
 * every vCPU gets, plus the hypervisor bit the VMM adds.
 */
static void test_cpu_model_expansion_kvm(void)
{
    g_autofree char *dir = g_dir_make_tmp("qmp-probe-XXXXXX", NULL);
    g_autofree char *sock = g_build_filename(dir, "qmp", NULL);
    g_autofree char *qmp = g_strdup_printf("unix:%s,server=on,wait=off",
                                           sock);
    const char *argv[] = {
        qtest_qemu_binary(), "-accel", "kvm", "-S", "-display", "none",
        "-nodefaults", "-m", "16M", "-qmp", qmp, "-kernel",
        g_getenv("QTEST_GUEST_KERNEL"), NULL,
    };
    g_autoptr(GError) err = NULL;
    g_autoptr(QmpTestClient) c = NULL;
    g_autoptr(JsonObject) r = NULL;
    g_autofree struct kvm_cpuid2 *cpuid = g_malloc0(sizeof(*cpuid) +
        1024 * sizeof(cpuid->entries[0]));
    JsonObject *model, *props;
    int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    GPid pid;

    g_assert_cmpint(kvm, >=, 0);
    cpuid->nent = 1024;
    g_assert_cmpint(ioctl(kvm, KVM_GET_SUPPORTED_CPUID, cpuid), ==, 0);
    close(kvm);
    g_assert(g_spawn_async(NULL, (char **)argv, NULL,
                           G_SPAWN_DO_NOT_REAP_CHILD |
                           G_SPAWN_STDIN_FROM_DEV_NULL, NULL, NULL, &pid,
                           &err));
    for (int i = 0; i < 3000 && !g_file_test(sock, G_FILE_TEST_EXISTS); i++) {
        g_usleep(10000);
    }
    c = qmp_client_connect(sock, false);
    r = qmp_client_cmd(c, "{'execute':'query-cpu-model-expansion',"
                       "'arguments':{'type':'full','model':{'name':'host',"
                       "'props':{'migratable':false}}}}");
    model = json_object_get_object_member(
        json_node_get_object(qmp_reply_return(r)), "model");
    g_assert_cmpstr(json_object_get_string_member(model, "name"), ==, "host");
    props = json_object_get_object_member(model, "props");
    g_assert(json_object_get_boolean_member(props, "hypervisor"));
    g_assert_cmpint(json_object_get_boolean_member(props, "lm"), ==,
                    kvm_cpuid_bit(cpuid, 0x80000001, 3, 29));
    g_assert_cmpint(json_object_get_boolean_member(props, "avx"), ==,
                    kvm_cpuid_bit(cpuid, 1, 2, 28));
    g_assert_cmpint(json_object_get_boolean_member(props, "avx2"), ==,
                    kvm_cpuid_bit(cpuid, 7, 1, 5));
    g_assert_cmpint(json_object_get_boolean_member(props, "x2apic"), ==,
                    kvm_cpuid_bit(cpuid, 1, 2, 21));
    g_assert(json_object_get_boolean_member(props, "lm"));

    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    g_spawn_close_pid(pid);
    unlink(sock);
    rmdir(dir);
}

/* The real option table: what the VMM accepts is listed, nothing else. */
static void test_command_line_options(void)
{
    g_autoptr(QTestState) qts = qtest_init("");
    g_autoptr(JsonNode) all = cmd_return(qts,
        "{'execute':'query-command-line-options'}");
    g_autoptr(JsonNode) one = cmd_return(qts,
        "{'execute':'query-command-line-options','arguments':"
        "{'option':'qmp'}}");
    JsonArray *opts = json_node_get_array(all);

    g_assert_nonnull(qmp_find_by(opts, "option", "qmp"));
    g_assert_nonnull(qmp_find_by(opts, "option", "S"));
    g_assert_nonnull(qmp_find_by(opts, "option", "daemonize"));
    g_assert_nonnull(qmp_find_by(opts, "option", "pidfile"));
    g_assert_null(qmp_find_by(opts, "option", "vnc"));
    g_assert_null(qmp_find_by(opts, "option", "spice"));
    g_assert_cmpuint(json_array_get_length(json_node_get_array(one)), ==, 1);
    assert_error(qts, "{'execute':'query-command-line-options','arguments':"
                 "{'option':'vnc'}}",
                 "Invalid parameter 'option': there is no option '-vnc'");
}

static bool host_has_sev(void)
{
    g_autofree char *s = NULL;

    return g_file_get_contents("/sys/module/kvm_amd/parameters/sev", &s,
                               NULL, NULL) && (s[0] == 'Y' || s[0] == '1');
}

static void test_absent_features(void)
{
    g_autoptr(QTestState) qts = qtest_init("");
    static const char *const empty[] = {
        "query-tpm-models", "query-tpm-types",
    };

    for (guint i = 0; i < G_N_ELEMENTS(empty); i++) {
        g_autofree char *cmd = g_strdup_printf("{'execute':'%s'}", empty[i]);
        g_autoptr(JsonNode) ret = cmd_return(qts, cmd);

        g_assert_cmpuint(json_array_get_length(json_node_get_array(ret)), ==,
                         0);
    }
    /* Either way the VMM cannot run such guests: an error, never data. */
    assert_error(qts, "{'execute':'query-sev-capabilities'}",
                 host_has_sev() ? "SEV is enabled in KVM, but this VMM "
                                  "cannot run SEV guests"
                                : "SEV is not enabled in KVM");
    assert_error(qts, "{'execute':'query-sgx-capabilities'}",
                 access("/dev/sgx_vepc", F_OK) == 0
                     ? "SGX is enabled in KVM, but this VMM cannot give "
                       "guests SGX"
                     : "SGX is not enabled in KVM");
}

static bool migration_events(QTestState *qts)
{
    g_autoptr(JsonNode) ret = cmd_return(qts,
        "{'execute':'query-migrate-capabilities'}");
    JsonArray *caps = json_node_get_array(ret);
    JsonObject *c;

    g_assert_cmpuint(json_array_get_length(caps), ==, 1);
    c = json_array_get_object_element(caps, 0);
    g_assert_cmpstr(json_object_get_string_member(c, "capability"), ==,
                    "events");
    return json_object_get_boolean_member(c, "state");
}

/*
 * No migration; the one capability is "events", which libvirt switches on
 * for every VM it starts.
 */
static void test_migrate_capabilities(void)
{
    g_autoptr(QTestState) qts = qtest_init("");
    g_autoptr(JsonObject) r = NULL, bad = NULL;

    g_assert(!migration_events(qts));
    r = qtest_qmp(qts, "{'execute':'migrate-set-capabilities','arguments':"
                  "{'capabilities':[{'capability':'events','state':true}]}}");
    qmp_reply_return(r);
    g_assert(migration_events(qts));
    bad = qtest_qmp(qts, "{'execute':'migrate-set-capabilities','arguments':"
                    "{'capabilities':[{'capability':'postcopy-ram',"
                    "'state':true}]}}");
    g_assert_cmpstr(qmp_reply_error_desc(bad), ==,
                    "Parameter 'capabilities[0].capability' does not accept "
                    "value 'postcopy-ram'");
    g_assert(migration_events(qts));
}

/* Each command is in query-commands and in the introspected schema. */
static void test_in_schema(void)
{
    g_autoptr(QTestState) qts = qtest_init("");
    g_autoptr(JsonNode) schema = cmd_return(qts,
        "{'execute':'query-qmp-schema'}");
    static const char *const cmds[] = {
        "query-cpu-definitions", "query-cpu-model-expansion",
        "query-command-line-options", "query-migrate-capabilities",
        "migrate-set-capabilities",
        "query-tpm-models", "query-tpm-types", "query-sev-capabilities",
        "query-sgx-capabilities",
    };
    JsonArray *entries = json_node_get_array(schema);

    for (guint i = 0; i < G_N_ELEMENTS(cmds); i++) {
        bool found = false;

        for (guint j = 0; j < json_array_get_length(entries); j++) {
            JsonObject *e = json_array_get_object_element(entries, j);

            found |= !strcmp(json_object_get_string_member(e, "name"),
                             cmds[i]) &&
                     !strcmp(json_object_get_string_member(e, "meta-type"),
                             "command");
        }
        g_assert(found);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qmp-probe/cpu-definitions", test_cpu_definitions);
    g_test_add_func("/qmp-probe/machine-and-backend-types",
                    test_machine_and_backend_types);
    g_test_add_func("/qmp-probe/cpu-model-expansion/errors",
                    test_cpu_model_expansion_errors);
    g_test_add_func("/qmp-probe/cpu-model-expansion/kvm",
                    test_cpu_model_expansion_kvm);
    g_test_add_func("/qmp-probe/command-line-options",
                    test_command_line_options);
    g_test_add_func("/qmp-probe/absent-features", test_absent_features);
    g_test_add_func("/qmp-probe/migrate-capabilities",
                    test_migrate_capabilities);
    g_test_add_func("/qmp-probe/in-schema", test_in_schema);
    return g_test_run();
}
