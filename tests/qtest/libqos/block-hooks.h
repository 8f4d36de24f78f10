/*
 * The VMM's test-only qtest commands for the block layer and the
 * passthrough (accel/qtest/qtest-block.h): statistics, block_resize, the
 * passthrough query and its withdrawals, until QMP serves them.
 */
#ifndef LIBQOS_BLOCK_HOOKS_H
#define LIBQOS_BLOCK_HOOKS_H

#include <glib.h>
#include <stdint.h>

#include "libqtest.h"

/*
 * Send a command whose reply is "OK KEY=VALUE ..."; the values by key
 * (g_hash_table_unref).  Any other reply aborts the test.
 */
GHashTable *qblock_query(QTestState *qts, const char *fmt, ...)
    G_GNUC_PRINTF(2, 3);
/* The number under key, which must be there. */
int64_t qblock_get(GHashTable *h, const char *key);
/* x-blockstats DRIVE: the statistic's value. */
int64_t qblock_stat(QTestState *qts, const char *drive, const char *key);
/* x-block-resize: NULL if it succeeded, else its error message (g_free). */
char *qblock_resize(QTestState *qts, const char *drive, uint64_t size);

#endif
