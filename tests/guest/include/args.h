/*
 * The -append command line.  main() gets it split at spaces and tabs, after
 * a fixed argv[0] of "guest" as in hosted C; there is no quoting.
 */
#ifndef GUEST_ARGS_H
#define GUEST_ARGS_H

#include <stdint.h>

/*
 * Copy the command line at @cmdline_paddr (0: none) out of low memory and
 * split it; returns argc and sets *argv (start-up only).
 */
int args_init(uint64_t cmdline_paddr, char ***argv);

/* The whole command line as given ("" if none). */
const char *guest_cmdline(void);

/*
 * The value of "key=value" in argv[1..argc-1] ("" for a bare "key"), or NULL
 * if @key is absent.  The last occurrence wins.
 */
const char *guest_getarg(int argc, char **argv, const char *key);

#endif
