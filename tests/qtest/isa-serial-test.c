/*
 * -device isa-serial,chardev=ID,index=N and -serial chardev:ID: the UART
 * appears at COM(N+1)'s ports and IRQ, and its bytes reach the chardev
 * (a file, or a pty that the test opens as a user would).
 */
#include <dirent.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libqtest.h"

#define UART_THR 0
#define UART_IER 1
#define UART_IIR 2
#define UART_MCR 4
#define UART_LSR 5

static char *tmp_file(void)
{
    char *path = NULL;
    int fd = g_file_open_tmp("isa-serial-test-XXXXXX", &path, NULL);

    g_assert_cmpint(fd, >=, 0);
    close(fd);
    return path;
}

static void uart_puts(QTestState *qts, uint16_t base, const char *s)
{
    for (; *s; s++) {
        qtest_outb(qts, base + UART_THR, *s);
    }
}

static void assert_file(const char *path, const char *expected)
{
    g_autofree char *contents = NULL;

    g_assert_true(g_file_get_contents(path, &contents, NULL, NULL));
    g_assert_cmpstr(contents, ==, expected);
}

/* A UART answers at base: its line status reads "transmitter empty". */
static bool uart_present(QTestState *qts, uint16_t base)
{
    return qtest_inb(qts, base + UART_LSR) == 0x60;
}

/* Its THR-empty interrupt, with OUT2 on, raises irq. */
static void assert_uart_irq(QTestState *qts, uint16_t base, unsigned irq)
{
    qtest_irq_intercept_in(qts, "ioapic");
    g_assert_false(qtest_get_irq(qts, irq));
    qtest_outb(qts, base + UART_MCR, 0x08);
    qtest_outb(qts, base + UART_IER, 0x02);
    g_assert_true(qtest_get_irq(qts, irq));
    g_assert_cmpint(qtest_inb(qts, base + UART_IIR) & 0x0f, ==, 0x02);
    g_assert_false(qtest_get_irq(qts, irq));
}

static const struct {
    uint16_t iobase;
    unsigned irq;
} com[] = { { 0x3f8, 4 }, { 0x2f8, 3 }, { 0x3e8, 4 }, { 0x2e8, 3 } };

/* index=N: COM(N+1), its ports and its IRQ. */
static void test_index(void)
{
    for (unsigned i = 0; i < G_N_ELEMENTS(com); i++) {
        g_autofree char *path = tmp_file();
        g_autoptr(QTestState) qts = qtest_initf(
            "-chardev file,id=c,path=%s -device isa-serial,chardev=c,"
            "id=serial0,index=%u", path, i);

        for (unsigned j = 0; j < G_N_ELEMENTS(com); j++) {
            g_assert_cmpint(uart_present(qts, com[j].iobase), ==, i == j);
        }
        uart_puts(qts, com[i].iobase, "COM port");
        assert_file(path, "COM port");
        assert_uart_irq(qts, com[i].iobase, com[i].irq);
        g_unlink(path);
    }
}

/* Without index=, the first free port: here COM2, as -serial has COM1. */
static void test_first_free(void)
{
    g_autofree char *com1 = tmp_file();
    g_autofree char *com2 = tmp_file();
    g_autoptr(QTestState) qts = qtest_initf(
        "-serial file:%s -chardev file,id=c,path=%s "
        "-device isa-serial,chardev=c", com1, com2);

    uart_puts(qts, 0x3f8, "one");
    uart_puts(qts, 0x2f8, "two");
    assert_file(com1, "one");
    assert_file(com2, "two");
    g_unlink(com1);
    g_unlink(com2);
}

/* -serial chardev:ID puts a -chardev on the next COM port. */
static void test_serial_chardev(void)
{
    g_autofree char *path = tmp_file();
    g_autoptr(QTestState) qts = qtest_initf(
        "-chardev file,id=con,path=%s -serial null -serial chardev:con",
        path);

    uart_puts(qts, 0x2f8, "via -serial");
    assert_file(path, "via -serial");
    g_unlink(path);
}

/* -device isa-serial replaces the default COM1, as in QEMU. */
static void test_replaces_default(void)
{
    g_autoptr(QTestState) qts = qtest_init_with_defaults(
        "-chardev null,id=c -device isa-serial,chardev=c,index=1");

    g_assert_false(uart_present(qts, 0x3f8));
    g_assert_true(uart_present(qts, 0x2f8));
}

/* The pty's slave, from the VMM's open fds (it keeps one open). */
static char *vmm_pty(QTestState *qts)
{
    g_autofree char *dir = g_strdup_printf("/proc/%d/fd", (int)qtest_pid(qts));
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;

    g_assert_nonnull(d);
    while ((name = g_dir_read_name(d))) {
        g_autofree char *link = g_build_filename(dir, name, NULL);
        g_autofree char *target = g_file_read_link(link, NULL);

        /* Not stdin, stdout or stderr: they may be the test's terminal. */
        if (atoi(name) > 2 && target &&
            g_str_has_prefix(target, "/dev/pts/")) {
            return g_steal_pointer(&target);
        }
    }
    g_assert_not_reached();
}

static void test_pty(void)
{
    g_autoptr(QTestState) qts = qtest_init(
        "-chardev pty,id=p -device isa-serial,chardev=p,index=0");
    g_autofree char *pts = vmm_pty(qts);
    int fd = open(pts, O_RDWR | O_NOCTTY);
    char buf[16] = "";
    size_t got = 0;

    g_assert_cmpint(fd, >=, 0);
    uart_puts(qts, 0x3f8, "login: ");
    while (got < 7) {
        ssize_t n = read(fd, buf + got, 7 - got);
        g_assert_cmpint(n, >, 0);
        got += n;
    }
    g_assert_cmpstr(buf, ==, "login: ");

    /* Typed at the pty, read by the guest from the receive buffer. */
    g_assert_cmpint(write(fd, "r", 1), ==, 1);
    while (!(qtest_inb(qts, 0x3f8 + UART_LSR) & 0x01)) {
        /* each command lets the VMM's main loop read the pty */
    }
    g_assert_cmpint(qtest_inb(qts, 0x3f8 + UART_THR), ==, 'r');
    close(fd);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/isa-serial/index", test_index);
    g_test_add_func("/isa-serial/first-free", test_first_free);
    g_test_add_func("/isa-serial/serial-chardev", test_serial_chardev);
    g_test_add_func("/isa-serial/replaces-default", test_replaces_default);
    g_test_add_func("/isa-serial/pty", test_pty);
    return g_test_run();
}
