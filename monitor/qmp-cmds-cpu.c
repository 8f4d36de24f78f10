/*
 * QMP commands about CPU models: which ones -cpu accepts, and what a model
 * gives the guest.  Main thread, BQL held.
 *
 * Under KVM every vCPU gets the CPUID leaves KVM supports, unfiltered (plus
 * the "running under a hypervisor" bit): that is the "host" model, and
 * "max" is the same CPU under its other name.  There is no named model
 * (qemu64, EPYC, ...) and no static one, because nothing filters CPUID down
 * to such a model.
 */
#include <linux/kvm.h>
#include <stdint.h>
#include <string.h>

#include "monitor/qmp.h"
#include "qemu/error-report.h"
#include "sysemu/kvm.h"

static const char *const cpu_models[] = { "host", "max" };

enum { EAX, EBX, ECX, EDX };

/*
 * CPUID feature bits under the names QEMU and libvirt give them (Intel SDM
 * vol. 2A "CPUID", AMD APM vol. 3 appendix E).
 */
typedef struct CpuFeature {
    const char *name;
    uint32_t leaf, subleaf;
    uint8_t reg, bit;
} CpuFeature;

static const CpuFeature cpu_features[] = {
    { "fpu", 1, 0, EDX, 0 },        { "vme", 1, 0, EDX, 1 },
    { "de", 1, 0, EDX, 2 },         { "pse", 1, 0, EDX, 3 },
    { "tsc", 1, 0, EDX, 4 },        { "msr", 1, 0, EDX, 5 },
    { "pae", 1, 0, EDX, 6 },        { "mce", 1, 0, EDX, 7 },
    { "cx8", 1, 0, EDX, 8 },        { "apic", 1, 0, EDX, 9 },
    { "sep", 1, 0, EDX, 11 },       { "mtrr", 1, 0, EDX, 12 },
    { "pge", 1, 0, EDX, 13 },       { "mca", 1, 0, EDX, 14 },
    { "cmov", 1, 0, EDX, 15 },      { "pat", 1, 0, EDX, 16 },
    { "pse36", 1, 0, EDX, 17 },     { "clflush", 1, 0, EDX, 19 },
    { "mmx", 1, 0, EDX, 23 },       { "fxsr", 1, 0, EDX, 24 },
    { "sse", 1, 0, EDX, 25 },       { "sse2", 1, 0, EDX, 26 },
    { "ss", 1, 0, EDX, 27 },        { "ht", 1, 0, EDX, 28 },
    { "pni", 1, 0, ECX, 0 },        { "pclmulqdq", 1, 0, ECX, 1 },
    { "monitor", 1, 0, ECX, 3 },    { "vmx", 1, 0, ECX, 5 },
    { "ssse3", 1, 0, ECX, 9 },      { "fma", 1, 0, ECX, 12 },
    { "cx16", 1, 0, ECX, 13 },      { "pdcm", 1, 0, ECX, 15 },
    { "pcid", 1, 0, ECX, 17 },      { "sse4.1", 1, 0, ECX, 19 },
    { "sse4.2", 1, 0, ECX, 20 },    { "x2apic", 1, 0, ECX, 21 },
    { "movbe", 1, 0, ECX, 22 },     { "popcnt", 1, 0, ECX, 23 },
    { "tsc-deadline", 1, 0, ECX, 24 }, { "aes", 1, 0, ECX, 25 },
    { "xsave", 1, 0, ECX, 26 },     { "avx", 1, 0, ECX, 28 },
    { "f16c", 1, 0, ECX, 29 },      { "rdrand", 1, 0, ECX, 30 },
    { "hypervisor", 1, 0, ECX, 31 },
    { "fsgsbase", 7, 0, EBX, 0 },   { "tsc-adjust", 7, 0, EBX, 1 },
    { "bmi1", 7, 0, EBX, 3 },       { "hle", 7, 0, EBX, 4 },
    { "avx2", 7, 0, EBX, 5 },       { "smep", 7, 0, EBX, 7 },
    { "bmi2", 7, 0, EBX, 8 },       { "erms", 7, 0, EBX, 9 },
    { "invpcid", 7, 0, EBX, 10 },   { "rtm", 7, 0, EBX, 11 },
    { "avx512f", 7, 0, EBX, 16 },   { "avx512dq", 7, 0, EBX, 17 },
    { "rdseed", 7, 0, EBX, 18 },    { "adx", 7, 0, EBX, 19 },
    { "smap", 7, 0, EBX, 20 },      { "clflushopt", 7, 0, EBX, 23 },
    { "clwb", 7, 0, EBX, 24 },      { "sha-ni", 7, 0, EBX, 29 },
    { "avx512bw", 7, 0, EBX, 30 },  { "avx512vl", 7, 0, EBX, 31 },
    { "avx512vbmi", 7, 0, ECX, 1 }, { "umip", 7, 0, ECX, 2 },
    { "pku", 7, 0, ECX, 3 },        { "gfni", 7, 0, ECX, 8 },
    { "vaes", 7, 0, ECX, 9 },       { "vpclmulqdq", 7, 0, ECX, 10 },
    { "rdpid", 7, 0, ECX, 22 },     { "fsrm", 7, 0, EDX, 4 },
    { "md-clear", 7, 0, EDX, 10 },  { "spec-ctrl", 7, 0, EDX, 26 },
    { "stibp", 7, 0, EDX, 27 },     { "arch-capabilities", 7, 0, EDX, 29 },
    { "ssbd", 7, 0, EDX, 31 },
    { "xsaveopt", 0xd, 1, EAX, 0 }, { "xsavec", 0xd, 1, EAX, 1 },
    { "xgetbv1", 0xd, 1, EAX, 2 },  { "xsaves", 0xd, 1, EAX, 3 },
    { "lahf-lm", 0x80000001, 0, ECX, 0 }, { "svm", 0x80000001, 0, ECX, 2 },
    { "abm", 0x80000001, 0, ECX, 5 },     { "sse4a", 0x80000001, 0, ECX, 6 },
    { "misalignsse", 0x80000001, 0, ECX, 7 },
    { "3dnowprefetch", 0x80000001, 0, ECX, 8 },
    { "xop", 0x80000001, 0, ECX, 11 },    { "fma4", 0x80000001, 0, ECX, 16 },
    { "tbm", 0x80000001, 0, ECX, 21 },    { "topoext", 0x80000001, 0, ECX, 22 },
    { "syscall", 0x80000001, 0, EDX, 11 }, { "nx", 0x80000001, 0, EDX, 20 },
    { "pdpe1gb", 0x80000001, 0, EDX, 26 }, { "rdtscp", 0x80000001, 0, EDX, 27 },
    { "lm", 0x80000001, 0, EDX, 29 },
    { "invtsc", 0x80000007, 0, EDX, 8 },
};

static bool is_cpu_model(const char *name)
{
    for (size_t i = 0; i < G_N_ELEMENTS(cpu_models); i++) {
        if (!strcmp(cpu_models[i], name)) {
            return true;
        }
    }
    return false;
}

static JsonNode *query_cpu_definitions(JsonObject *args, GError **errp)
{
    JsonArray *list = json_array_new();

    for (size_t i = 0; i < G_N_ELEMENTS(cpu_models); i++) {
        JsonObject *d = json_object_new();
        g_autofree char *type = g_strdup_printf("%s-x86_64-cpu",
                                                cpu_models[i]);

        json_object_set_string_member(d, "name", cpu_models[i]);
        json_object_set_string_member(d, "typename", type);
        /* The host's CPUID: neither fixed nor the same on another host. */
        json_object_set_boolean_member(d, "static", false);
        json_object_set_boolean_member(d, "migration-safe", false);
        json_object_set_array_member(d, "unavailable-features",
                                     json_array_new());
        json_object_set_boolean_member(d, "deprecated", false);
        json_array_add_object_element(list, d);
    }
    return qmp_return_array(list);
}

static const struct kvm_cpuid_entry2 *cpuid_entry(const struct kvm_cpuid2 *c,
                                                  uint32_t leaf,
                                                  uint32_t subleaf)
{
    for (uint32_t i = 0; i < c->nent; i++) {
        const struct kvm_cpuid_entry2 *e = &c->entries[i];
        bool indexed = e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX;

        if (e->function == leaf && (!indexed || e->index == subleaf)) {
            return e;
        }
    }
    return NULL;
}

static bool has_feature(const struct kvm_cpuid2 *c, const CpuFeature *f)
{
    const struct kvm_cpuid_entry2 *e = cpuid_entry(c, f->leaf, f->subleaf);
    uint32_t regs[4];

    /* The vCPUs get this bit on top of what KVM reports. */
    if (f->leaf == 1 && f->reg == ECX && f->bit == 31) {
        return true;
    }
    if (!e) {
        return false;
    }
    regs[EAX] = e->eax;
    regs[EBX] = e->ebx;
    regs[ECX] = e->ecx;
    regs[EDX] = e->edx;
    return regs[f->reg] & (1u << f->bit);
}

/*
 * The model's own properties, as given by a client: none can be changed,
 * so the only one accepted is "migratable" set to what the model is.
 */
static bool check_model_props(JsonObject *model, const char *name,
                              GError **errp)
{
    JsonObject *props = json_object_has_member(model, "props")
                        ? json_object_get_object_member(model, "props")
                        : NULL;
    g_autoptr(GList) names = props ? json_object_get_members(props) : NULL;

    if (json_object_has_member(model, "props") && !props) {
        error_setg(errp, "Invalid parameter type for 'model.props', "
                   "expected: object");
        return false;
    }
    for (GList *l = names; l; l = l->next) {
        JsonNode *v = json_object_get_member(props, l->data);

        if (!strcmp(l->data, "migratable") && JSON_NODE_HOLDS_VALUE(v) &&
            json_node_get_value_type(v) == G_TYPE_BOOLEAN &&
            !json_node_get_boolean(v)) {
            continue;
        }
        error_setg(errp, "Property '%s-x86_64-cpu.%s' cannot be set: the "
                   "model is the host's CPU as KVM reports it", name,
                   (const char *)l->data);
        return false;
    }
    return true;
}

static JsonNode *query_cpu_model_expansion(JsonObject *args, GError **errp)
{
    JsonObject *model = json_object_get_object_member(args, "model");
    const char *type = qmp_arg_str(args, "type");
    const char *name = json_object_get_string_member(model, "name");
    const struct kvm_cpuid2 *cpuid = kvm_supported_cpuid();
    JsonObject *ret, *expanded, *props;

    if (!is_cpu_model(name)) {
        error_setg(errp, "The CPU type '%s' is not a recognized CPU model",
                   name);
        return NULL;
    }
    if (strcmp(type, "full")) {
        error_setg(errp, "CPU model expansion of type '%s' is not supported: "
                   "no CPU model is static", type);
        return NULL;
    }
    if (!check_model_props(model, name, errp)) {
        return NULL;
    }
    if (!cpuid) {
        error_setg(errp, "CPU model '%s' requires KVM", name);
        return NULL;
    }
    props = json_object_new();
    for (size_t i = 0; i < G_N_ELEMENTS(cpu_features); i++) {
        json_object_set_boolean_member(props, cpu_features[i].name,
                                       has_feature(cpuid, &cpu_features[i]));
    }
    expanded = json_object_new();
    json_object_set_string_member(expanded, "name", name);
    json_object_set_object_member(expanded, "props", props);
    ret = json_object_new();
    json_object_set_object_member(ret, "model", expanded);
    return qmp_return_object(ret);
}

static const QmpCommand cpu_commands[] = {
    { "query-cpu-definitions", query_cpu_definitions },
    { "query-cpu-model-expansion", query_cpu_model_expansion },
};
QMP_COMMANDS_REGISTER(cpu_commands)
