/*
 * libFuzzer's entry points for the FuzzTarget of fuzz-target.h: an input
 * is the target's set-up bytes, then operations, each a byte that picks it
 * (modulo nr_ops) and the bytes it reads.
 */
#include "fuzz-target.h"

static bool tainted;

void fuzz_target_taint(void)
{
    tainted = true;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_machine_init(&fuzz_target.machine, fuzz_target.warm_up);
    fuzz_pci_scan();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FuzzInput in = { data, size };

    fuzz_machine_begin_input();
    tainted = false;
    fuzz_target.begin_input(&in);
    fuzz_take_raw_write();
    for (unsigned n = 0; in.left && n < FUZZ_MAX_OPS; n++) {
        unsigned op = fuzz_u8(&in) % fuzz_target.nr_ops;

        if (op < FUZZ_OP_TARGET) {
            fuzz_run_common_op(op, &in);
            if (op == FUZZ_OP_RESET || fuzz_take_raw_write()) {
                tainted = true;
            }
        } else if (!tainted || !fuzz_target.needs_driver_view) {
            fuzz_target.run_op(op, &in);
        }
    }
    fuzz_machine_end_input();
    if (fuzz_target.end_input) {
        fuzz_target.end_input();
    }
    return 0;
}
