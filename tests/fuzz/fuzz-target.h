/*
 * What a fuzz target is: a machine, a driver's set-up, and its own
 * operations after the common ones of fuzz-input.h.  fuzz-target.c turns
 * the one FuzzTarget each target file defines into libFuzzer's two entry
 * points, which the replay driver (replay.c) calls too.
 *
 * Everything runs in the fuzzer's thread, the VMM's main thread, with the
 * BQL held (fuzz-machine.h).
 */
#ifndef FUZZ_TARGET_H
#define FUZZ_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fuzz-input.h"
#include "fuzz-machine.h"

/* The most operations one input runs (the rest of it is ignored). */
#define FUZZ_MAX_OPS 4096

typedef struct FuzzTarget {
    FuzzMachineConfig machine;
    /* Run once before the first input (may be NULL): see fuzz_machine_init. */
    void (*warm_up)(void);
    /* FUZZ_OP_TARGET plus the number of the target's own operations. */
    unsigned nr_ops;
    /* Set up the driver on the freshly reset machine; may read the input. */
    void (*begin_input)(FuzzInput *in);
    /* One of the target's own operations, FUZZ_OP_TARGET <= op < nr_ops. */
    void (*run_op)(unsigned op, FuzzInput *in);
    /* After the machine's reset and checks: forget the driver's state. */
    void (*end_input)(void);
    /*
     * The target's operations trust the driver's view of the device: once
     * a raw write, a reset or fuzz_target_taint() may have made it untrue,
     * they are skipped for the rest of the input.
     */
    bool needs_driver_view;
} FuzzTarget;

/* Defined by each target file. */
extern const FuzzTarget fuzz_target;

/* The driver's view of the device is no longer the truth (see above). */
void fuzz_target_taint(void);

/* Build the machine once per process. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
/* Run one input on the machine, reset it and check the invariants. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
