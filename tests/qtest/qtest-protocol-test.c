/*
 * The qtest protocol: every command against guest RAM and I/O ports, the
 * exact replies, FAIL for malformed commands, the virtual clock, interrupt
 * interception (COM1's IRQ 4), the log, the stdio chardev, and the exit
 * status when the client goes away or the guest asks to exit.
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "libqtest.h"

#define RAM_ADDR            0x100000    /* free guest RAM */
#define UNASSIGNED_ADDR     0xe8000000  /* between the PCI window and IOAPIC */
#define UNASSIGNED_PORT     0x1230

/* COM1: a 16550 at 0x3f8, IRQ 4 */
#define COM1_IER            0x3f9
#define COM1_IIR            0x3fa
#define COM1_MCR            0x3fc
#define COM1_SCR            0x3ff
#define COM1_IRQ            4
#define UART_IER_THRI       0x02
#define UART_MCR_OUT2       0x08

#define PM1A_CNT            0x604
#define ISA_DEBUG_EXIT      0xf4

/* The reply to a raw command, which must be exactly expected. */
static void assert_reply(QTestState *qts, const char *cmd,
                         const char *expected)
{
    g_autofree char *reply = qtest_raw_command(qts, "%s", cmd);

    g_assert_cmpstr(reply, ==, expected);
}

static void test_memory_sized_accesses(void)
{
    QTestState *qts = qtest_init(NULL);

    qtest_writeb(qts, RAM_ADDR, 0x5a);
    g_assert_cmphex(qtest_readb(qts, RAM_ADDR), ==, 0x5a);
    qtest_writew(qts, RAM_ADDR + 2, 0xbeef);
    g_assert_cmphex(qtest_readw(qts, RAM_ADDR + 2), ==, 0xbeef);
    qtest_writel(qts, RAM_ADDR + 4, 0x12345678);
    g_assert_cmphex(qtest_readl(qts, RAM_ADDR + 4), ==, 0x12345678);
    qtest_writeq(qts, RAM_ADDR + 8, 0x0123456789abcdefULL);
    g_assert_cmphex(qtest_readq(qts, RAM_ADDR + 8), ==,
                    0x0123456789abcdefULL);

    /* Little-endian, like the guest. */
    g_assert_cmphex(qtest_readb(qts, RAM_ADDR + 4), ==, 0x78);
    g_assert_cmphex(qtest_readw(qts, RAM_ADDR + 6), ==, 0x1234);
    g_assert_cmphex(qtest_readl(qts, RAM_ADDR + 12), ==, 0x01234567);
    g_assert_cmphex(qtest_readq(qts, RAM_ADDR), ==, 0x12345678beef005aULL);

    /* Unaligned accesses work on RAM. */
    qtest_writel(qts, RAM_ADDR + 0x21, 0xa1b2c3d4);
    g_assert_cmphex(qtest_readl(qts, RAM_ADDR + 0x21), ==, 0xa1b2c3d4);
    qtest_quit(qts);
}

static void test_memory_reply_formats(void)
{
    QTestState *qts = qtest_init(NULL);

    assert_reply(qts, "writel 0x100000 0x44332211", "OK");
    assert_reply(qts, "readb 0x100000", "OK 0x0000000000000011");
    assert_reply(qts, "readw 0x100000", "OK 0x0000000000002211");
    assert_reply(qts, "readl 0x100000", "OK 0x0000000044332211");
    assert_reply(qts, "readq 0x100000", "OK 0x0000000044332211");
    assert_reply(qts, "read 0x100000 4", "OK 0x11223344");
    assert_reply(qts, "b64read 0x100000 4", "OK ESIzRA==");
    /* Numbers are C literals: decimal and octal too. */
    assert_reply(qts, "readb 1048577", "OK 0x0000000000000022");
    assert_reply(qts, "readb 04000002", "OK 0x0000000000000033");
    /* Short data is zero-filled; long data is cut at SIZE. */
    assert_reply(qts, "write 0x100000 4 0xaabb", "OK");
    assert_reply(qts, "read 0x100000 5", "OK 0xaabb000000");
    assert_reply(qts, "b64write 0x100000 2 ESIzRA==", "OK");
    assert_reply(qts, "read 0x100000 5", "OK 0x1122000000");
    assert_reply(qts, "b64write 0x100000 3 /w==", "OK");
    assert_reply(qts, "read 0x100000 4", "OK 0xff000000");
    assert_reply(qts, "endianness", "OK little");
    qtest_quit(qts);
}

static void test_memory_bulk(void)
{
    QTestState *qts = qtest_init(NULL);
    uint8_t pattern[1000], b64[1000], hex[1000];

    for (unsigned i = 0; i < sizeof(pattern); i++) {
        pattern[i] = i * 7 + (i >> 8);
    }
    qtest_memwrite(qts, RAM_ADDR, pattern, sizeof(pattern));
    qtest_memread(qts, RAM_ADDR, b64, sizeof(b64));
    qtest_memread_hex(qts, RAM_ADDR, hex, sizeof(hex));
    g_assert_cmpmem(b64, sizeof(b64), pattern, sizeof(pattern));
    g_assert_cmpmem(hex, sizeof(hex), pattern, sizeof(pattern));

    for (unsigned i = 0; i < sizeof(pattern); i++) {
        pattern[i] = ~pattern[i];
    }
    qtest_memwrite_hex(qts, RAM_ADDR + 3, pattern, sizeof(pattern));
    qtest_memread(qts, RAM_ADDR + 3, b64, sizeof(b64));
    g_assert_cmpmem(b64, sizeof(b64), pattern, sizeof(pattern));
    g_assert_cmphex(qtest_readb(qts, RAM_ADDR + 3), ==, pattern[0]);
    g_assert_cmphex(qtest_readb(qts, RAM_ADDR + 1002), ==, pattern[999]);
    qtest_quit(qts);
}

static void test_memory_memset(void)
{
    QTestState *qts = qtest_init(NULL);
    uint8_t buf[10000], expected[10000];

    memset(expected, 0xa5, sizeof(expected));
    qtest_memset(qts, RAM_ADDR, 0xa5, sizeof(buf));
    qtest_memread(qts, RAM_ADDR, buf, sizeof(buf));
    g_assert_cmpmem(buf, sizeof(buf), expected, sizeof(expected));

    /* Exactly SIZE bytes; a zero size does nothing. */
    qtest_memset(qts, RAM_ADDR + 1, 0, 2);
    qtest_memset(qts, RAM_ADDR + 5, 0x11, 0);
    g_assert_cmphex(qtest_readq(qts, RAM_ADDR), ==, 0xa5a5a5a5a50000a5ULL);
    qtest_quit(qts);
}

static void test_memory_unassigned(void)
{
    QTestState *qts = qtest_init(NULL);

    qtest_writel(qts, UNASSIGNED_ADDR, 0);
    g_assert_cmphex(qtest_readl(qts, UNASSIGNED_ADDR), ==, 0xffffffff);
    g_assert_cmphex(qtest_readq(qts, UNASSIGNED_ADDR), ==, UINT64_MAX);
    qtest_quit(qts);
}

static void test_pio_uart_scratch(void)
{
    QTestState *qts = qtest_init_with_defaults("-serial null");

    qtest_outb(qts, COM1_SCR, 0x5a);
    g_assert_cmphex(qtest_inb(qts, COM1_SCR), ==, 0x5a);
    assert_reply(qts, "inb 0x3ff", "OK 0x005a");
    qtest_outb(qts, COM1_SCR, 0xa5);
    g_assert_cmphex(qtest_inb(qts, COM1_SCR), ==, 0xa5);
    qtest_quit(qts);
}

static void test_pio_wide(void)
{
    QTestState *qts = qtest_init_with_defaults("-serial null");

    /* ACPI PM1a control is 16 bits wide; SCI_EN (bit 0) just sticks. */
    qtest_outw(qts, PM1A_CNT, 0x0001);
    g_assert_cmphex(qtest_inw(qts, PM1A_CNT), ==, 0x0001);
    assert_reply(qts, "inw 0x604", "OK 0x0001");
    /* Unassigned ports read as all ones and ignore writes. */
    qtest_outl(qts, UNASSIGNED_PORT, 0);
    g_assert_cmphex(qtest_inl(qts, UNASSIGNED_PORT), ==, 0xffffffff);
    assert_reply(qts, "inl 0x1230", "OK 0xffffffff");
    qtest_quit(qts);
}

/* The UART raises IRQ 4 when THRE interrupts are on and OUT2 gates it. */
static void test_irq_uart(void)
{
    QTestState *qts = qtest_init_with_defaults("-serial null");

    qtest_irq_intercept_in(qts, "ioapic");
    g_assert_false(qtest_get_irq(qts, COM1_IRQ));
    qtest_outb(qts, COM1_MCR, UART_MCR_OUT2);
    g_assert_false(qtest_get_irq(qts, COM1_IRQ));
    qtest_outb(qts, COM1_IER, UART_IER_THRI);
    g_assert_true(qtest_get_irq(qts, COM1_IRQ));
    /* Reading IIR acknowledges the THRE interrupt. */
    g_assert_cmphex(qtest_inb(qts, COM1_IIR) & 0x0f, ==, 0x02);
    g_assert_false(qtest_get_irq(qts, COM1_IRQ));
    /* Another byte sent raises it again; clearing OUT2 lowers it. */
    qtest_outb(qts, 0x3f8, 'x');
    g_assert_true(qtest_get_irq(qts, COM1_IRQ));
    qtest_outb(qts, COM1_MCR, 0);
    g_assert_false(qtest_get_irq(qts, COM1_IRQ));
    qtest_quit(qts);
}

/* The messages come before the reply of the command that caused them. */
static void test_irq_messages(void)
{
    QTestState *qts = qtest_init_with_defaults("-serial null");

    /* Not intercepted yet: no message. */
    assert_reply(qts, "outb 0x3fc 0x08", "OK");
    assert_reply(qts, "outb 0x3f9 0x02", "OK");
    /* A line already high is reported when interception starts. */
    qtest_irq_intercept_in(qts, "ioapic");
    g_assert_true(qtest_get_irq(qts, COM1_IRQ));
    assert_reply(qts, "inb 0x3fa", "OK 0x0002");
    g_assert_false(qtest_get_irq(qts, COM1_IRQ));
    /* Any QOM path names the one interrupt controller; again is fine. */
    assert_reply(qts, "irq_intercept_out /machine/ioapic", "OK");
    assert_reply(qts, "irq_intercept_in ioapic", "OK");
    qtest_quit(qts);
}

static void test_malformed_commands(void)
{
    static const struct {
        const char *cmd, *reply;
    } cases[] = {
        { "foo", "FAIL Unknown command 'foo'" },
        { "", "FAIL Unknown command ''" },
        { "OUTB 0x3ff 1", "FAIL Unknown command 'OUTB'" },
        { "outb", "FAIL missing argument (usage: outb ADDR VALUE)" },
        { "outb 0x3ff", "FAIL missing argument (usage: outb ADDR VALUE)" },
        { "outb 0x3ff 1 2", "FAIL too many arguments (usage: outb ADDR VALUE)" },
        { "inl", "FAIL missing argument (usage: inl ADDR)" },
        { "readq", "FAIL missing argument (usage: readq ADDR)" },
        { "read 0x100000", "FAIL missing argument (usage: read ADDR SIZE)" },
        { "write 0x100000 1",
          "FAIL missing argument (usage: write ADDR SIZE DATA)" },
        { "b64write 0x100000 1",
          "FAIL missing argument (usage: b64write ADDR SIZE B64_DATA)" },
        { "memset 0x100000 1",
          "FAIL missing argument (usage: memset ADDR SIZE VALUE)" },
        { "clock_set", "FAIL missing argument (usage: clock_set NS)" },
        { "clock_step 1 2", "FAIL too many arguments (usage: clock_step [NS])" },
        { "irq_intercept_in",
          "FAIL missing argument (usage: irq_intercept_in QOM-PATH)" },
        { "readl xyz", "FAIL invalid number 'xyz'" },
        { "readl 0x10z", "FAIL invalid number '0x10z'" },
        { "writeq 0x100000 -1", "FAIL invalid number '-1'" },
        { "outb 0x3ff 08", "FAIL invalid number '08'" },
        { "clock_step 1ms", "FAIL invalid number '1ms'" },
        { "inb 0x10000", "FAIL 0x10000 is out of range (at most 0xffff)" },
        { "outb 0x3ff 0x100", "FAIL 0x100 is out of range (at most 0xff)" },
        { "outw 0x604 65536", "FAIL 65536 is out of range (at most 0xffff)" },
        { "writel 0x100000 0x100000000",
          "FAIL 0x100000000 is out of range (at most 0xffffffff)" },
        { "readq 0xfffffffffffffffc",
          "FAIL 0xfffffffffffffffc is out of range "
          "(at most 0xfffffffffffffff8)" },
        { "memset 0x100000 16 256",
          "FAIL 256 is out of range (at most 0xff)" },
        { "read 0xffffffffffffffff 2",
          "FAIL 0xffffffffffffffff + 2 is beyond the address space" },
        { "read 0x100000 0x4000001",
          "FAIL 0x4000001 is out of range (at most 0x4000000)" },
        { "read 0x100000 0", "FAIL size must not be 0" },
        { "write 0x100000 2 1234", "FAIL invalid hex data '1234'" },
        { "write 0x100000 2 0x123", "FAIL invalid hex data '0x123'" },
        { "write 0x100000 2 0x12zz", "FAIL invalid hex data '0x12zz'" },
        { "b64write 0x100000 2 ab*d", "FAIL invalid base64 data 'ab*d'" },
    };
    QTestState *qts = qtest_init(NULL);

    qtest_writel(qts, RAM_ADDR, 0xcafef00d);
    for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
        assert_reply(qts, cases[i].cmd, cases[i].reply);
    }
    /* None of them did anything, and the server is still there. */
    g_assert_cmphex(qtest_readl(qts, RAM_ADDR), ==, 0xcafef00d);
    /* Extra spaces between words are harmless. */
    assert_reply(qts, "writeb  0x100000   0x0d ", "OK");
    qtest_quit(qts);
}

static void test_clock(void)
{
    QTestState *qts = qtest_init(NULL);

    g_assert_cmpint(qtest_clock_step(qts, 1000), ==, 1000);
    g_assert_cmpint(qtest_clock_step(qts, 500), ==, 1500);
    g_assert_cmpint(qtest_clock_set(qts, 1000000), ==, 1000000);
    assert_reply(qts, "clock_step 0x10", "OK 1000016");
    /* The clock never goes back, nor stands still on a step. */
    assert_reply(qts, "clock_set 10", "FAIL 1000016");
    assert_reply(qts, "clock_set 1000016", "OK 1000016");
    assert_reply(qts, "clock_step 0", "FAIL could not advance time");
    assert_reply(qts, "clock_step -5", "FAIL could not advance time");
    assert_reply(qts, "clock_step 9223372036854775807",
                 "FAIL could not advance time");
    /* No timer is pending on the virtual clock. */
    assert_reply(qts, "clock_step",
                 "FAIL cannot advance clock to the next deadline because "
                 "there is no pending deadline");
    g_assert_cmpint(qtest_clock_step(qts, 1), ==, 1000017);
    qtest_quit(qts);
}

static void test_log(void)
{
    g_autofree char *path = NULL;
    g_autofree char *log = NULL;
    g_auto(GStrv) lines = NULL;
    QTestState *qts;
    int fd = g_file_open_tmp("qtest-log-XXXXXX", &path, NULL);

    g_assert_cmpint(fd, >=, 0);
    close(fd);
    qts = qtest_initf("-qtest-log %s", path);
    qtest_writeb(qts, RAM_ADDR, 0x42);
    assert_reply(qts, "bogus", "FAIL Unknown command 'bogus'");
    qtest_quit(qts);

    g_assert_true(g_file_get_contents(path, &log, NULL, NULL));
    g_unlink(path);
    lines = g_strsplit(log, "\n", -1);
    g_assert_cmpuint(g_strv_length(lines), ==, 7);
    g_assert_cmpstr(lines[0], ==, "[I 0.000000] OPENED");
    g_assert_true(g_str_has_prefix(lines[1], "[R +"));
    g_assert_true(g_str_has_suffix(lines[1], "] writeb 0x100000 0x42"));
    g_assert_true(g_str_has_prefix(lines[2], "[S +"));
    g_assert_true(g_str_has_suffix(lines[2], "] OK"));
    g_assert_true(g_str_has_suffix(lines[3], "] bogus"));
    g_assert_true(g_str_has_suffix(lines[4],
                                   "] FAIL Unknown command 'bogus'"));
    g_assert_true(g_str_has_prefix(lines[5], "[I +"));
    g_assert_true(g_str_has_suffix(lines[5], "] CLOSED"));
    g_assert_cmpstr(lines[6], ==, "");
}

/*
 * -qtest stdio: commands on stdin, replies on stdout, EOF ends the VMM.
 * With -nographic, COM1 then stays off stdio.
 */
static void test_stdio(void)
{
    const char *argv[] = {
        qtest_qemu_binary(), "-accel", "qtest", "-qtest", "stdio",
        "-qtest-log", "none", "-nographic", NULL,
    };
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    g_autoptr(GError) gerr = NULL;
    int status;
    /* g_spawn_sync() feeds no stdin: let a shell pipe it in. */
    g_autofree char *cmd = g_strjoinv(" ", (char **)argv);
    g_autofree char *script = g_strdup_printf(
        "printf 'writel 0x100000 0x12345678\\nreadw 0x100002\\nnope\\n' | %s",
        cmd);
    const char *sh_argv[] = { "/bin/sh", "-c", script, NULL };

    g_assert_true(g_spawn_sync(NULL, (char **)sh_argv, NULL, 0, NULL, NULL,
                               &out, &err, &status, &gerr));
    g_assert_no_error(gerr);
    g_assert_cmpstr(out, ==, "OK\nOK 0x0000000000001234\n"
                             "FAIL Unknown command 'nope'\n");
    g_assert_cmpstr(err, ==, "");
    g_assert_true(g_spawn_check_wait_status(status, NULL));
}

/* The guest's exit status, through the default isa-debug-exit. */
static void test_debug_exit(void)
{
    QTestState *qts = qtest_init_with_defaults("-serial null");

    qtest_set_expected_status(qts, (0x10 << 1) | 1);
    qtest_outl(qts, ISA_DEBUG_EXIT, 0x10);
    qtest_quit(qts);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qtest/memory/sized-accesses", test_memory_sized_accesses);
    g_test_add_func("/qtest/memory/reply-formats", test_memory_reply_formats);
    g_test_add_func("/qtest/memory/bulk", test_memory_bulk);
    g_test_add_func("/qtest/memory/memset", test_memory_memset);
    g_test_add_func("/qtest/memory/unassigned", test_memory_unassigned);
    g_test_add_func("/qtest/pio/uart-scratch", test_pio_uart_scratch);
    g_test_add_func("/qtest/pio/wide", test_pio_wide);
    g_test_add_func("/qtest/irq/uart", test_irq_uart);
    g_test_add_func("/qtest/irq/messages", test_irq_messages);
    g_test_add_func("/qtest/malformed-commands", test_malformed_commands);
    g_test_add_func("/qtest/clock", test_clock);
    g_test_add_func("/qtest/log", test_log);
    g_test_add_func("/qtest/stdio", test_stdio);
    g_test_add_func("/qtest/debug-exit", test_debug_exit);
    return g_test_run();
}
