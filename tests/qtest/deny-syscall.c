/*
 * deny-syscall: run a command with one system call failing, to play a host
 * kernel that lacks something.
 *
 *   deny-syscall io_uring_setup ERRNO COMMAND [ARGS...]
 *   deny-syscall io_uring_register:OPCODE ERRNO COMMAND [ARGS...]
 *
 * A seccomp filter makes the call (for io_uring_register, only with that
 * opcode) return -ERRNO; children inherit it.
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

static int usage(void)
{
    fprintf(stderr, "usage: deny-syscall io_uring_setup|"
            "io_uring_register:OPCODE ERRNO COMMAND [ARGS...]\n");
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
    if (!strcmp(argv[1], "io_uring_setup")) {
        nr = __NR_io_uring_setup;
    } else if (sscanf(argv[1], "io_uring_register:%u", &opcode) == 1) {
        nr = __NR_io_uring_register;
        by_opcode = true;
    } else {
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
