/* Console output to COM1 (16550 UART) and debugcon. */
#include <stdint.h>

#include "console.h"
#include "x86.h"

#define COM1            0x3f8
#define UART_THR        0       /* transmit holding register */
#define UART_IER        1
#define UART_DLL        0       /* divisor latch, with LCR_DLAB */
#define UART_DLM        1
#define UART_FCR        2
#define UART_LCR        3
#define UART_MCR        4
#define UART_LSR        5
#define LCR_8N1         0x03
#define LCR_DLAB        0x80
#define FCR_ENABLE_CLEAR 0x07
#define MCR_DTR_RTS     0x03
#define LSR_THR_EMPTY   0x20

#define DEBUGCON        0xe9

/* Each LSR read exits to the VMM; give up waiting after this many. */
#define LSR_POLL_LIMIT  10000

void console_init(void)
{
    outb(COM1 + UART_IER, 0);
    outb(COM1 + UART_LCR, LCR_DLAB);
    outb(COM1 + UART_DLL, 1);           /* 115200 baud */
    outb(COM1 + UART_DLM, 0);
    outb(COM1 + UART_LCR, LCR_8N1);
    outb(COM1 + UART_FCR, FCR_ENABLE_CLEAR);
    outb(COM1 + UART_MCR, MCR_DTR_RTS);
}

static void serial_putc(char c)
{
    for (int i = 0; i < LSR_POLL_LIMIT; i++) {
        if (inb(COM1 + UART_LSR) & LSR_THR_EMPTY) {
            break;
        }
        cpu_relax();
    }
    outb(COM1 + UART_THR, c);
}

void console_write(const char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (buf[i] == '\n') {
            serial_putc('\r');
        }
        serial_putc(buf[i]);
        outb(DEBUGCON, buf[i]);
    }
}
