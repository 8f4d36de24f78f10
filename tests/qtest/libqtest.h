/*
 * libqtest: a test's side of the qtest protocol.
 *
 * qtest_init() starts qemu-system-x86_64 (found through the environment
 * variable QTEST_QEMU_BINARY) with -accel qtest, connected to the test over
 * a Unix socket; the test then plays the guest: it reads and writes guest
 * memory and I/O ports, moves the virtual clock and watches interrupt lines.
 *
 * Every command's reply is checked: a reply other than OK aborts the test,
 * naming the command.  qtest_raw_command() is the exception, for tests of
 * the protocol itself.  Set QTEST_LOG in the environment to see the
 * protocol traffic on stderr.
 */
#ifndef LIBQTEST_H
#define LIBQTEST_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "libqmp.h"

typedef struct QTestState QTestState;

/* Start the VMM with "-nodefaults" and extra_args (split as by a shell). */
QTestState *qtest_init(const char *extra_args);
QTestState *qtest_initf(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
/* The same without -nodefaults: COM1 and isa-debug-exit are there. */
QTestState *qtest_init_with_defaults(const char *extra_args);

/* The process id of the VMM, for tests that watch its resources in /proc. */
GPid qtest_pid(QTestState *s);

/* The exit status qtest_quit() expects (0 unless the guest sets one). */
void qtest_set_expected_status(QTestState *s, int status);
/*
 * Close the connection, wait for the VMM to exit (killing it after a
 * timeout) and check that it exited with the expected status.
 */
void qtest_quit(QTestState *s);
/* Kill the VMM (SIGKILL), as a crash or the OOM killer would. */
void qtest_kill(QTestState *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QTestState, qtest_quit)

/*
 * Run the VMM without a qtest connection, for command-line tests: argv is
 * wrapper (a command prefix, or NULL), the binary, then args, each split as
 * by a shell.  Returns the exit status and sets *err to what the VMM wrote
 * to stderr.  Aborts the test if the VMM runs on for seconds or dies of a
 * signal.
 */
int qtest_run_vmm(const char *wrapper, const char *args, char **err);
/* The same, setting *out to what the VMM wrote to stdout. */
int qtest_run_vmm_output(const char *wrapper, const char *args, char **out,
                         char **err);

/*
 * Every VMM started here also has a QMP monitor on a Unix socket; the
 * first qtest_qmp() connects and negotiates.  The reply is a new reference.
 */
JsonObject *qtest_qmp(QTestState *s, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
QmpTestClient *qtest_qmp_client(QTestState *s);
const char *qtest_qmp_socket(QTestState *s);

/* The path of the VMM binary under test. */
const char *qtest_qemu_binary(void);

void qtest_outb(QTestState *s, uint16_t addr, uint8_t value);
void qtest_outw(QTestState *s, uint16_t addr, uint16_t value);
void qtest_outl(QTestState *s, uint16_t addr, uint32_t value);
uint8_t qtest_inb(QTestState *s, uint16_t addr);
uint16_t qtest_inw(QTestState *s, uint16_t addr);
uint32_t qtest_inl(QTestState *s, uint16_t addr);

void qtest_writeb(QTestState *s, uint64_t addr, uint8_t value);
void qtest_writew(QTestState *s, uint64_t addr, uint16_t value);
void qtest_writel(QTestState *s, uint64_t addr, uint32_t value);
void qtest_writeq(QTestState *s, uint64_t addr, uint64_t value);
uint8_t qtest_readb(QTestState *s, uint64_t addr);
uint16_t qtest_readw(QTestState *s, uint64_t addr);
uint32_t qtest_readl(QTestState *s, uint64_t addr);
uint64_t qtest_readq(QTestState *s, uint64_t addr);

/* Bulk guest memory access, base64-encoded on the wire. */
void qtest_memread(QTestState *s, uint64_t addr, void *data, size_t size);
void qtest_memwrite(QTestState *s, uint64_t addr, const void *data,
                    size_t size);
/* The same with hexadecimal on the wire (the read and write commands). */
void qtest_memread_hex(QTestState *s, uint64_t addr, void *data,
                       size_t size);
void qtest_memwrite_hex(QTestState *s, uint64_t addr, const void *data,
                        size_t size);
void qtest_memset(QTestState *s, uint64_t addr, uint8_t value, size_t size);

/* Advance the virtual clock by ns, or to ns; both return the new time. */
int64_t qtest_clock_step(QTestState *s, int64_t ns);
int64_t qtest_clock_set(QTestState *s, int64_t ns);

/* Report GSI level changes; then qtest_get_irq() follows the lines. */
void qtest_irq_intercept_in(QTestState *s, const char *qom_path);
/* The level of a GSI as last reported (reading pending messages first). */
bool qtest_get_irq(QTestState *s, unsigned gsi);

/*
 * Send one line and return the reply line (without newline), unchecked;
 * asynchronous IRQ messages on the way are consumed as usual.
 */
char *qtest_raw_command(QTestState *s, const char *fmt, ...)
    G_GNUC_PRINTF(2, 3);

#endif
