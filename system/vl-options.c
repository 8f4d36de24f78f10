/*
 * The command-line options of qemu-system-x86_64, with their help text.
 */
#include <string.h>

#include "system/vl-options.h"

const QemuOptionDef qemu_option_defs[] = {
    { "h", QEMU_OPTION_h, false, "h or -help", "display this help and exit" },
    { "help", QEMU_OPTION_h, false, NULL, NULL },
    { "version", QEMU_OPTION_version, false, "version",
      "display version information and exit" },
    { "accel", QEMU_OPTION_accel, true, "accel kvm|qtest",
      "select the accelerator (default: kvm)" },
    { "machine", QEMU_OPTION_machine, true,
      "machine [type=]pvh|none[,accel=..][,usb=off][,dump-guest-core=on|off]"
      "[,memory-backend=ID]",
      "select the machine ('none': no RAM, vCPU or device); 'help' lists "
      "machines" },
    { "M", QEMU_OPTION_machine, true, "M ...", "same as -machine" },
    { "m", QEMU_OPTION_m, true, "m [size=]SIZE",
      "guest RAM (default 128M; a bare number is in MiB)" },
    { "cpu", QEMU_OPTION_cpu, true, "cpu host|max",
      "the guest's CPU: the host's, as KVM supports it" },
    { "overcommit", QEMU_OPTION_overcommit, true, "overcommit mem-lock=on|off",
      "lock all of the VMM's memory, guest RAM included, in RAM" },
    { "smp", QEMU_OPTION_smp, true,
      "smp [cpus=]N[,sockets=,cores=,threads=]", "number of vCPUs" },
    { "kernel", QEMU_OPTION_kernel, true, "kernel FILE",
      "ELF kernel with a PVH entry note" },
    { "append", QEMU_OPTION_append, true, "append CMDLINE",
      "the kernel's command line" },
    { "nographic", QEMU_OPTION_nographic, false, "nographic",
      "no display; COM1 on stdio" },
    { "display", QEMU_OPTION_display, true, "display none", "no display" },
    { "chardev", QEMU_OPTION_chardev, true,
      "chardev null|file|stdio|pty|socket,id=ID[,...]",
      "a character device: file,path=PATH[,append=on|off]; "
      "socket,path=PATH|fd=N[,server=on|off][,wait=on|off]" },
    { "add-fd", QEMU_OPTION_add_fd, true, "add-fd fd=FD,set=SET[,opaque=..]",
      "put the inherited fd FD in set SET, opened as /dev/fdset/SET" },
    { "serial", QEMU_OPTION_serial, true,
      "serial stdio|pty|file:PATH|unix:PATH|chardev:ID|null|none",
      "back-end of the next serial port (COM1 first)" },
    { "debugcon", QEMU_OPTION_debugcon, true,
      "debugcon stdio|file:PATH|null|none", "debug console on port 0xe9" },
    { "no-reboot", QEMU_OPTION_no_reboot, false, "no-reboot",
      "exit instead of rebooting" },
    { "nodefaults", QEMU_OPTION_nodefaults, false, "nodefaults",
      "no default devices (COM1, isa-debug-exit at 0xf4)" },
    { "name", QEMU_OPTION_name, true,
      "name [guest=]NAME[,process=NAME][,debug-threads=on|off]",
      "the VM's name (threads are always named, as with debug-threads=on)" },
    { "uuid", QEMU_OPTION_uuid, true, "uuid UUID", "the VM's UUID" },
    { "rtc", QEMU_OPTION_rtc, true, "rtc base=utc[,clock=..][,driftfix=..]",
      "accepted: the machine has no RTC" },
    { "boot", QEMU_OPTION_boot, true, "boot strict=on|off",
      "accepted: only -kernel is booted" },
    { "no-acpi", QEMU_OPTION_no_acpi, false, "no-acpi",
      "accepted: the machine has no ACPI" },
    { "msg", QEMU_OPTION_msg, true, "msg timestamp=on|off",
      "prefix error messages with the time" },
    { "no-user-config", QEMU_OPTION_no_user_config, false, "no-user-config",
      "accepted: no configuration file is read" },
    { "audiodev", QEMU_OPTION_audiodev, true, "audiodev none,id=ID",
      "an audio back-end (only 'none')" },
    { "audio", QEMU_OPTION_audio, true, "audio none", "no audio" },
    { "sandbox", QEMU_OPTION_sandbox, true, "sandbox off",
      "seccomp sandboxing: not supported, 'on' is refused" },
    { "run-with", QEMU_OPTION_run_with, true, "run-with exit-with-parent=on|off",
      "exit (as on SIGTERM) when the parent process exits" },
    { "device", QEMU_OPTION_device, true, "device DRIVER[,PROP=VALUE...]",
      "add a device; 'help' lists them, 'DRIVER,help' their properties" },
    { "drive", QEMU_OPTION_drive, true,
      "drive file=PATH,if=none|virtio,id=ID[,format=raw][,cache=..][,aio=..]",
      "a disk image: cache=none|writeback|directsync|writethrough, "
      "aio=io_uring|threads, readonly=on|off, auto-read-only=on|off, "
      "discard=ignore|unmap, file.locking=on|off|auto; "
      "file=null-co:// (file.read-zeroes=on, size=) has no image" },
    { "blockdev", QEMU_OPTION_blockdev, true,
      "blockdev driver=file|raw|null-co,node-name=NAME[,...]",
      "a block node: file (filename=, cache.direct=, cache.no-flush=, "
      "aio=, discard=, read-only=, auto-read-only=, locking=), "
      "raw (file=NODE) or null-co (size=, read-zeroes=); JSON too" },
    { "object", QEMU_OPTION_object, true,
      "object iothread,id=ID[,poll-max-ns=NS][,poll-grow=N][,poll-shrink=N]"
      "|uring-sqpoll,id=ID[,cpu=N][,idle=MS]|secret,id=ID,data=|file=",
      "an I/O thread, an SQPOLL thread that passthrough rings share, or a "
      "secret (checked, unused); also "
      "memory-backend-ram|memory-backend-file,id=ID,size=SIZE[,mem-path=PATH]"
      "[,share=on|off][,prealloc=on|off]: guest RAM for -machine "
      "memory-backend=ID; 'help' lists the objects, 'iothread,help' the "
      "properties" },
    { "qtest", QEMU_OPTION_qtest, true, "qtest unix:PATH|stdio",
      "serve the qtest protocol there (with -accel qtest)" },
    { "qtest-log", QEMU_OPTION_qtest_log, true, "qtest-log FILE|none",
      "log the qtest protocol" },
    { "qmp", QEMU_OPTION_qmp, true, "qmp unix:PATH,server=on[,wait=off]|stdio",
      "a QMP monitor there" },
    { "mon", QEMU_OPTION_mon, true, "mon chardev=ID,mode=control",
      "a QMP monitor on a socket (server=on,wait=off) or stdio chardev" },
    { "S", QEMU_OPTION_S, false, "S", "do not start the vCPUs (QMP 'cont' does)" },
    { "pidfile", QEMU_OPTION_pidfile, true, "pidfile FILE",
      "write the process id to FILE (locked; removed at exit)" },
    { "daemonize", QEMU_OPTION_daemonize, false, "daemonize",
      "run in the background once the VM is ready" },
    { "no-shutdown", QEMU_OPTION_no_shutdown, false, "no-shutdown",
      "stop the VM, rather than exit, when the guest shuts down" },
    { NULL },
};

const QemuOptionDef *qemu_option_find(const char *name)
{
    for (const QemuOptionDef *o = qemu_option_defs; o->name; o++) {
        if (!strcmp(o->name, name)) {
            return o;
        }
    }
    return NULL;
}
