/*
 * I/O accounting of a block back-end, with the meaning of QEMU's
 * BlockDeviceStats (query-blockstats): every request a device or any
 * other user makes through block-backend.h, counted when it completes.
 *
 * - operations and bytes: requests that succeeded;
 * - failed: requests that completed with an error (the block layer's own
 *   refusals included: out of range, read-only);
 * - invalid: requests the device refused before submitting them
 *   (blk_account_invalid());
 * - *_total_time_ns: from submission to completion, of the successful
 *   requests and, with account_failed, of the failed ones;
 * - idle_time_ns: since the last request completed (failed ones count with
 *   account_failed, invalid ones with account_invalid);
 * - wr_highest_offset: the end of the highest range a successful write or
 *   write-zeroes covered (0 before any).
 *
 * Write-zeroes requests count as writes, discards as unmaps.  The requests
 * of one back-end complete in one thread (its AioContext's); the counters
 * are under a lock of their own, so that any thread may read them.
 */
#ifndef BLOCK_ACCOUNTING_H
#define BLOCK_ACCOUNTING_H

#include <stdbool.h>
#include <stdint.h>

typedef struct BlockBackend BlockBackend;

typedef enum BlockAcctType {
    BLOCK_ACCT_READ,
    BLOCK_ACCT_WRITE,
    BLOCK_ACCT_FLUSH,
    BLOCK_ACCT_UNMAP,
    BLOCK_ACCT__MAX,
} BlockAcctType;

typedef struct BlockAcctStats {
    uint64_t rd_bytes, wr_bytes, unmap_bytes;
    uint64_t rd_operations, wr_operations, flush_operations, unmap_operations;
    uint64_t failed_rd_operations, failed_wr_operations;
    uint64_t failed_flush_operations, failed_unmap_operations;
    uint64_t invalid_rd_operations, invalid_wr_operations;
    uint64_t invalid_flush_operations, invalid_unmap_operations;
    int64_t rd_total_time_ns, wr_total_time_ns;
    int64_t flush_total_time_ns, unmap_total_time_ns;
    int64_t idle_time_ns;       /* since the last completed request; -1: none yet */
    uint64_t wr_highest_offset;
    /* QEMU's stats-account-invalid and -failed; both always on here */
    bool account_invalid, account_failed;
} BlockAcctStats;

/* A consistent snapshot of blk's counters.  Any thread. */
void blk_get_stats(BlockBackend *blk, BlockAcctStats *out);

/*
 * The device refused a request of this type before submitting it.  In
 * blk's AioContext, like the requests.
 */
void blk_account_invalid(BlockBackend *blk, BlockAcctType type);

#endif
