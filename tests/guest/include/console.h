/*
 * Console output: every byte goes to COM1 and to the debugcon port 0xe9, so
 * that both `-serial stdio`/`-nographic` and `-debugcon stdio` show it.
 */
#ifndef GUEST_CONSOLE_H
#define GUEST_CONSOLE_H

#include <stddef.h>

/* Program COM1 for 8N1 with interrupts off (called once at start-up). */
void console_init(void);

/* Write @len bytes; "\n" becomes "\r\n" on the serial port only. */
void console_write(const char *buf, size_t len);

#endif
