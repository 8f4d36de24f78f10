/*
 * I/O accounting of a block back-end (include/block/accounting.h).
 *
 * A back-end's requests complete in its AioContext's thread, the only one
 * that counts (but for the move between contexts, which happens with no
 * request in flight); readers are any thread.  A mutex no one else takes
 * costs the counting thread two uncontended atomic operations a request,
 * and gives readers all the counters of one moment.
 */
#include <time.h>

#include "block-internal.h"

void block_acct_init(BlockAcct *a)
{
    *a = (BlockAcct){ .last_ns = -1 };
    g_mutex_init(&a->lock);
}

void block_acct_destroy(BlockAcct *a)
{
    g_mutex_clear(&a->lock);
}

int64_t block_acct_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void block_acct_done(BlockAcct *a, BlockAcctType type, uint64_t bytes,
                     uint64_t end, int64_t start_ns, bool failed)
{
    int64_t now = block_acct_now();

    g_mutex_lock(&a->lock);
    if (failed) {
        a->failed[type]++;
    } else {
        a->ops[type]++;
        a->bytes[type] += bytes;
        if (type == BLOCK_ACCT_WRITE) {
            a->wr_highest_offset = MAX(a->wr_highest_offset, end);
        }
    }
    /* account_failed is always on: failed requests took their time too. */
    a->total_time_ns[type] += now - start_ns;
    a->last_ns = now;
    g_mutex_unlock(&a->lock);
}

void block_acct_invalid(BlockAcct *a, BlockAcctType type)
{
    g_mutex_lock(&a->lock);
    a->invalid[type]++;
    /* account_invalid is always on: the device was not idle. */
    a->last_ns = block_acct_now();
    g_mutex_unlock(&a->lock);
}

void block_acct_get(BlockAcct *a, BlockAcctStats *out)
{
    g_mutex_lock(&a->lock);
    *out = (BlockAcctStats){
        .rd_bytes = a->bytes[BLOCK_ACCT_READ],
        .wr_bytes = a->bytes[BLOCK_ACCT_WRITE],
        .unmap_bytes = a->bytes[BLOCK_ACCT_UNMAP],
        .rd_operations = a->ops[BLOCK_ACCT_READ],
        .wr_operations = a->ops[BLOCK_ACCT_WRITE],
        .flush_operations = a->ops[BLOCK_ACCT_FLUSH],
        .unmap_operations = a->ops[BLOCK_ACCT_UNMAP],
        .failed_rd_operations = a->failed[BLOCK_ACCT_READ],
        .failed_wr_operations = a->failed[BLOCK_ACCT_WRITE],
        .failed_flush_operations = a->failed[BLOCK_ACCT_FLUSH],
        .failed_unmap_operations = a->failed[BLOCK_ACCT_UNMAP],
        .invalid_rd_operations = a->invalid[BLOCK_ACCT_READ],
        .invalid_wr_operations = a->invalid[BLOCK_ACCT_WRITE],
        .invalid_flush_operations = a->invalid[BLOCK_ACCT_FLUSH],
        .invalid_unmap_operations = a->invalid[BLOCK_ACCT_UNMAP],
        .rd_total_time_ns = a->total_time_ns[BLOCK_ACCT_READ],
        .wr_total_time_ns = a->total_time_ns[BLOCK_ACCT_WRITE],
        .flush_total_time_ns = a->total_time_ns[BLOCK_ACCT_FLUSH],
        .unmap_total_time_ns = a->total_time_ns[BLOCK_ACCT_UNMAP],
        .idle_time_ns = a->last_ns < 0 ? -1 : block_acct_now() - a->last_ns,
        .wr_highest_offset = a->wr_highest_offset,
        .account_invalid = true,
        .account_failed = true,
    };
    g_mutex_unlock(&a->lock);
}
