/*
 * Test-only qtest commands for the block statistics, block_resize and the
 * passthrough query, until QMP serves them (qtest-block.c).  Each returns
 * its reply line: "OK ..." or "FAIL reason".  In the main thread, with the
 * BQL held, as every qtest command.
 */
#ifndef ACCEL_QTEST_BLOCK_H
#define ACCEL_QTEST_BLOCK_H

/* x-blockstats DRIVE: "OK rd_bytes=N wr_bytes=N ..." (BlockAcctStats) */
char *qtest_block_stats(char **args);
/* x-block-resize DRIVE SIZE: "OK", or "FAIL " and blk_resize()'s error */
char *qtest_block_resize(char **args);
/*
 * x-query-virtio-blk-uring DRIVE: the passthrough query of the device on
 * DRIVE, "OK negotiated=0|1 ... reason=R|- ... submitted=N completed=N"
 */
char *qtest_uring_query(char **args);
/*
 * x-uring-withdrawals: the withdrawals the withdraw notifier heard of since
 * the first such command, "OK [ID:REASON ...]" (ID "-" without id=).
 */
char *qtest_uring_withdrawals(char **args);

#endif
