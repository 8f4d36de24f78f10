/*
 * QMP commands a management tool probes a VMM with before it runs a VM
 * (libvirt sends each of them once per binary): the command line, and the
 * features this VMM does not have (TPM, SEV, SGX), answered as
 * absent rather than left for the tool to guess.  Main thread, BQL held.
 */
#include <string.h>
#include <unistd.h>

#include "monitor/qmp.h"
#include "qemu/error-report.h"
#include "system/vl-options.h"

/*
 * Every option of the real option table.  Their parameters are parsed by
 * each option's own code and not described in the table, so none is listed
 * (as QEMU does for options it does not describe either).
 */
static JsonNode *query_command_line_options(JsonObject *args, GError **errp)
{
    const char *only = qmp_arg_str(args, "option");
    JsonArray *list = json_array_new();

    for (const QemuOptionDef *o = qemu_option_defs; o->name; o++) {
        JsonObject *info;

        if (only && strcmp(only, o->name)) {
            continue;
        }
        info = json_object_new();
        json_object_set_string_member(info, "option", o->name);
        json_object_set_array_member(info, "parameters", json_array_new());
        json_array_add_object_element(list, info);
    }
    if (only && !json_array_get_length(list)) {
        json_array_unref(list);
        error_setg(errp, "Invalid parameter 'option': there is no option "
                   "'-%s'", only);
        return NULL;
    }
    return qmp_return_array(list);
}

/* No TPM device and no TPM back-end. */
static JsonNode *query_tpm_models(JsonObject *args, GError **errp)
{
    return qmp_return_array(json_array_new());
}

static JsonNode *query_tpm_types(JsonObject *args, GError **errp)
{
    return qmp_return_array(json_array_new());
}

/*
 * Encrypted guests need the VMM's help (SEV's launch commands, SGX's EPC
 * sections), which this VMM does not give: the error says whether the host
 * could have run them, in QEMU's words when it could not.
 */
static bool host_file_says_yes(const char *path)
{
    g_autofree char *s = NULL;

    return g_file_get_contents(path, &s, NULL, NULL) &&
           (s[0] == 'Y' || s[0] == 'y' || s[0] == '1');
}

static JsonNode *query_sev_capabilities(JsonObject *args, GError **errp)
{
    if (host_file_says_yes("/sys/module/kvm_amd/parameters/sev")) {
        error_setg(errp, "SEV is enabled in KVM, but this VMM cannot run "
                   "SEV guests");
    } else {
        error_setg(errp, "SEV is not enabled in KVM");
    }
    return NULL;
}

static JsonNode *query_sgx_capabilities(JsonObject *args, GError **errp)
{
    if (access("/dev/sgx_vepc", F_OK) == 0) {
        error_setg(errp, "SGX is enabled in KVM, but this VMM cannot give "
                   "guests SGX");
    } else {
        error_setg(errp, "SGX is not enabled in KVM");
    }
    return NULL;
}

static const QmpCommand probe_commands[] = {
    { "query-command-line-options", query_command_line_options },
    { "query-tpm-models", query_tpm_models },
    { "query-tpm-types", query_tpm_types },
    { "query-sev-capabilities", query_sev_capabilities },
    { "query-sgx-capabilities", query_sgx_capabilities },
};
QMP_COMMANDS_REGISTER(probe_commands)
