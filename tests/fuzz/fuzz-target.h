/*
 * What every fuzz target defines: libFuzzer's two entry points, which the
 * replay driver (replay.c) calls too.
 */
#ifndef FUZZ_TARGET_H
#define FUZZ_TARGET_H

#include <stddef.h>
#include <stdint.h>

/* Build the machine once per process. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
/* Run one input on the machine, reset it and check the invariants. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The most operations one input runs (the rest of it is ignored). */
#define FUZZ_MAX_OPS 4096

#endif
