/*
 * The command-line options of qemu-system-x86_64.
 */
#ifndef SYSTEM_VL_OPTIONS_H
#define SYSTEM_VL_OPTIONS_H

#include <stdbool.h>

enum {
    QEMU_OPTION_h,
    QEMU_OPTION_version,
    QEMU_OPTION_accel,
    QEMU_OPTION_machine,
    QEMU_OPTION_m,
    QEMU_OPTION_smp,
    QEMU_OPTION_kernel,
    QEMU_OPTION_append,
    QEMU_OPTION_nographic,
    QEMU_OPTION_display,
    QEMU_OPTION_chardev,
    QEMU_OPTION_add_fd,
    QEMU_OPTION_serial,
    QEMU_OPTION_debugcon,
    QEMU_OPTION_no_reboot,
    QEMU_OPTION_nodefaults,
    QEMU_OPTION_name,
    QEMU_OPTION_device,
    QEMU_OPTION_drive,
    QEMU_OPTION_blockdev,
    QEMU_OPTION_object,
    QEMU_OPTION_qtest,
    QEMU_OPTION_qtest_log,
    QEMU_OPTION_qmp,
    QEMU_OPTION_mon,
    QEMU_OPTION_S,
    QEMU_OPTION_pidfile,
    QEMU_OPTION_daemonize,
    QEMU_OPTION_no_shutdown,
    QEMU_OPTION_cpu,
    QEMU_OPTION_overcommit,
    QEMU_OPTION_rtc,
    QEMU_OPTION_boot,
    QEMU_OPTION_no_acpi,
    QEMU_OPTION_uuid,
    QEMU_OPTION_msg,
    QEMU_OPTION_no_user_config,
    QEMU_OPTION_audiodev,
    QEMU_OPTION_audio,
    QEMU_OPTION_sandbox,
    QEMU_OPTION_run_with,
};

typedef struct QemuOptionDef {
    const char *name;
    int index;
    bool has_arg;
    const char *synopsis;       /* NULL: an alias, in another's synopsis */
    const char *help;
} QemuOptionDef;

extern const QemuOptionDef qemu_option_defs[];

const QemuOptionDef *qemu_option_find(const char *name);

#endif
