/*
 * The machine a fuzz target drives: a "pvh" machine under the qtest
 * accelerator, built in the fuzzer's own process from the VMM's public
 * init functions (what system/vl.c does for -accel qtest), with raw images
 * and a canary file in a private directory, and pattern-filled guard areas
 * around guest RAM.
 *
 * After every input the machine is reset and the invariants of
 * docs/devel/fuzzing.rst are checked; a violation aborts the process with a
 * one-line reason, which libFuzzer records as a crash.
 *
 * Everything here runs in the fuzzer's thread, the VMM's main thread, with
 * the BQL held from fuzz_machine_init() on.
 */
#ifndef FUZZ_MACHINE_H
#define FUZZ_MACHINE_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#define FUZZ_RAM_SIZE       (16ULL << 20)
#define FUZZ_IMAGE_SIZE     (1ULL << 20)
#define FUZZ_MAX_IMAGES     4

typedef struct FuzzMachineConfig {
    /* -object arguments, NULL-terminated (may be NULL). */
    const char *const *objects;
    /*
     * -drive arguments without file= and format=, one per image, for
     * image i (its path is added); NULL-terminated.
     */
    const char *const *drives;
    /* -device arguments, NULL-terminated. */
    const char *const *devices;
} FuzzMachineConfig;

/*
 * Build the machine and reset it, after one run of warm_up (may be NULL),
 * which should bring up what an input can bring up for good (threads that
 * stay once started).
 */
void fuzz_machine_init(const FuzzMachineConfig *config,
                       void (*warm_up)(void));

/*
 * Before an input.  The first call records the baseline that
 * fuzz_machine_end_input() compares with: threads, file descriptors and
 * child processes.
 */
void fuzz_machine_begin_input(void);

/* Reset the machine (as a guest-requested reset would) and settle. */
void fuzz_machine_reset(void);

/*
 * After an input: reset, then check every invariant; aborts with the
 * reason on a violation.  Also clears the low guest RAM that libqos uses,
 * so that one input does not see the last one's rings.
 */
void fuzz_machine_end_input(void);

/* Abort the process with a one-line reason: an invariant is violated. */
G_NORETURN void fuzz_violation(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

#endif
