/*
 * deny-syscall: run a command with one system call failing, to play a host
 * kernel that lacks something, or one that refuses a step of a set-up.
 *
 *   deny-syscall SYSCALL ERRNO COMMAND [ARGS...]
 *   deny-syscall io_uring_register:OPCODE ERRNO COMMAND [ARGS...]
 *
 * SYSCALL is one of those in the table below.  A seccomp filter makes the
 * call (for io_uring_register, only with that opcode) return -ERRNO;
 * children inherit it, across execve too.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define ARG1_LOW (offsetof(struct seccomp_data, args) + sizeof(__u64))

static const struct {
    const char *name;
    unsigned nr;
} syscalls[] = {
    { "io_uring_setup", __NR_io_uring_setup },
    { "execveat", __NR_execveat },
    { "capset", __NR_capset },
    { "readv", __NR_readv },
    { "pidfd_getfd", __NR_pidfd_getfd },
};

static int usage(void)
{
    fprintf(stderr, "usage: deny-syscall SYSCALL|io_uring_register:OPCODE "
            "ERRNO COMMAND [ARGS...]\n");
    return 2;
}

int main(int argc, char **argv)
{
    struct sock_filter f[8];
    unsigned n = 0, nr, opcode = 0, err;
    bool by_opcode = false;
    struct sock_fprog prog;

    if (argc < 4) {
        return usage();
    }
    nr = ~0U;
    for (unsigned i = 0; i < sizeof(syscalls) / sizeof(syscalls[0]); i++) {
        if (!strcmp(argv[1], syscalls[i].name)) {
            nr = syscalls[i].nr;
        }
    }
    if (sscanf(argv[1], "io_uring_register:%u", &opcode) == 1) {
        nr = __NR_io_uring_register;
        by_opcode = true;
    } else if (nr == ~0U) {
        return usage();
    }
    err = strtoul(argv[2], NULL, 0);

    /* Each failed test jumps to the last instruction: allow. */
    unsigned allow = by_opcode ? 7 : 5;
    f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                                          offsetof(struct seccomp_data, arch));
    f[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
                                        AUDIT_ARCH_X86_64, 0, allow - n - 1);
    n++;
    f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                                          offsetof(struct seccomp_data, nr));
    f[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0,
                                        allow - n - 1);
    n++;
    if (by_opcode) {
        f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                                              ARG1_LOW);
        f[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, opcode,
                                            0, allow - n - 1);
        n++;
    }
    f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
                                          SECCOMP_RET_ERRNO |
                                          (err & SECCOMP_RET_DATA));
    f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    prog.len = n;
    prog.filter = f;

    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
        syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog)) {
        perror("deny-syscall: seccomp");
        return 2;
    }
    execvp(argv[3], argv + 3);
    perror("deny-syscall: exec");
    return 2;
}
