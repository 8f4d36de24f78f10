/*
 * The test side of qtest (tests/qtest/libqtest.h) served in-process: the
 * fuzz targets play the guest by calling the qtest accelerator's memory and
 * I/O paths directly, with no socket, so that libqos (the test-side PCI and
 * virtio driver) sets devices up for them as it does for the qtests.
 *
 * Everything here runs in the fuzzer's thread, which is the VMM's main
 * thread and holds the BQL throughout, as the qtest server does.
 */
#ifndef FUZZ_INPROC_QTEST_H
#define FUZZ_INPROC_QTEST_H

#include "libqtest.h"

/* The one QTestState of the process, for libqos calls. */
QTestState *inproc_qtest(void);

/*
 * Let the main loop dispatch what is ready (ioeventfds, completions,
 * deferred interrupts), without blocking and at most a bounded number of
 * rounds.  Returns whether anything was dispatched.
 */
bool inproc_qtest_poll(void);

#endif
