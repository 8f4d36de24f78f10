/* Command-line copy, splitting and key=value lookup. */
#include "args.h"

#include "libc.h"

#define CMDLINE_MAX     4096
#define ARGS_MAX        128

static char cmdline[CMDLINE_MAX];
static char words[CMDLINE_MAX];
static char *argv_table[ARGS_MAX + 1];

int args_init(uint64_t cmdline_paddr, char ***argv)
{
    const char *src = (const char *)(uintptr_t)cmdline_paddr;
    int argc = 0;

    /* Longer command lines are cut short. */
    for (size_t i = 0; src && src[i] && i < CMDLINE_MAX - 1; i++) {
        cmdline[i] = src[i];
    }
    memcpy(words, cmdline, sizeof(words));

    argv_table[argc++] = "guest";
    for (char *p = words; *p && argc < ARGS_MAX;) {
        while (*p == ' ' || *p == '\t') {
            *p++ = '\0';
        }
        if (*p) {
            argv_table[argc++] = p;
        }
        while (*p && *p != ' ' && *p != '\t') {
            p++;
        }
    }
    argv_table[argc] = NULL;
    *argv = argv_table;
    return argc;
}

const char *guest_cmdline(void)
{
    return cmdline;
}

const char *guest_getarg(int argc, char **argv, const char *key)
{
    size_t len = strlen(key);
    const char *value = NULL;

    for (int i = 1; i < argc; i++) {
        if (!strncmp(argv[i], key, len)) {
            if (argv[i][len] == '=') {
                value = argv[i] + len + 1;
            } else if (!argv[i][len]) {
                value = "";
            }
        }
    }
    return value;
}
