/*
 * Test-only qtest commands for the block back-ends and the passthrough
 * (accel/qtest/qtest-block.h): what QMP's query-blockstats, block_resize,
 * x-query-virtio-blk-uring and the withdrawal event will give management.
 */
#include <inttypes.h>

#include "block/accounting.h"
#include "block/block-backend.h"
#include "hw/block/virtio-blk-uring-query.h"
#include "qtest-block.h"

static char *no_drive(const char *name)
{
    return g_strdup_printf("FAIL Drive '%s' not found", name);
}

char *qtest_block_stats(char **args)
{
    BlockBackend *blk = blk_by_name(args[0]);
    BlockAcctStats st;

    if (!blk) {
        return no_drive(args[0]);
    }
    blk_get_stats(blk, &st);
    return g_strdup_printf(
        "OK rd_bytes=%" PRIu64 " wr_bytes=%" PRIu64 " unmap_bytes=%" PRIu64
        " rd_operations=%" PRIu64 " wr_operations=%" PRIu64
        " flush_operations=%" PRIu64 " unmap_operations=%" PRIu64
        " failed_rd_operations=%" PRIu64 " failed_wr_operations=%" PRIu64
        " failed_flush_operations=%" PRIu64
        " failed_unmap_operations=%" PRIu64
        " invalid_rd_operations=%" PRIu64 " invalid_wr_operations=%" PRIu64
        " invalid_flush_operations=%" PRIu64
        " invalid_unmap_operations=%" PRIu64
        " rd_total_time_ns=%" PRId64 " wr_total_time_ns=%" PRId64
        " flush_total_time_ns=%" PRId64 " unmap_total_time_ns=%" PRId64
        " idle_time_ns=%" PRId64,
        st.rd_bytes, st.wr_bytes, st.unmap_bytes, st.rd_operations,
        st.wr_operations, st.flush_operations, st.unmap_operations,
        st.failed_rd_operations, st.failed_wr_operations,
        st.failed_flush_operations, st.failed_unmap_operations,
        st.invalid_rd_operations, st.invalid_wr_operations,
        st.invalid_flush_operations, st.invalid_unmap_operations,
        st.rd_total_time_ns, st.wr_total_time_ns, st.flush_total_time_ns,
        st.unmap_total_time_ns, st.idle_time_ns);
}

char *qtest_block_resize(char **args)
{
    BlockBackend *blk = blk_by_name(args[0]);
    g_autoptr(GError) err = NULL;
    guint64 size;

    if (!blk) {
        return no_drive(args[0]);
    }
    if (!g_ascii_string_to_unsigned(args[1], 10, 0, G_MAXUINT64, &size,
                                    &err)) {
        return g_strdup_printf("FAIL %s", err->message);
    }
    if (!blk_resize(blk, size, &err)) {
        return g_strdup_printf("FAIL %s", err->message);
    }
    return g_strdup("OK");
}

char *qtest_uring_query(char **args)
{
    BlockBackend *blk = blk_by_name(args[0]);
    DeviceState *dev = blk ? blk_get_attached_dev(blk) : NULL;
    VirtioBlkUringQuery q;
    const UringRingState *st = &q.state;

    if (!blk) {
        return no_drive(args[0]);
    }
    if (!dev || !virtio_blk_uring_query(dev, 0, &q)) {
        return g_strdup_printf("FAIL Drive '%s' has no passthrough device",
                               args[0]);
    }
    return g_strdup_printf(
        "OK negotiated=%d active=%d withdrawn=%d reason=%s sq_entries=%u "
        "cq_entries=%u iopoll=%d overflow_check=%d overflow_cgroup=%d "
        "overflowed=%d sq_head=%u sq_tail=%u sq_flags=%u cq_head=%u "
        "cq_tail=%u cq_flags=%u cq_overflow=%u owner_pid=%d sqpoll_tid=%d "
        "sqpoll_cpu=%d submitted=%" PRIu64 " completed=%" PRIu64,
        q.negotiated, q.active, q.withdrawn, q.reason[0] ? q.reason : "-",
        q.sq_entries, q.cq_entries, q.iopoll, q.overflow_check,
        q.overflow_cgroup, q.overflowed, st->sq_head, st->sq_tail,
        st->sq_flags, st->cq_head, st->cq_tail, st->cq_flags,
        st->cq_overflow, st->owner_pid, st->sqpoll_tid, st->sqpoll_cpu,
        q.submitted, q.completed);
}

static GString *withdrawals;

/* The withdraw notifier, with the BQL held. */
static void record_withdrawal(const char *dev_id, const char *reason)
{
    g_string_append_printf(withdrawals, " %s:%s", dev_id ? dev_id : "-",
                           reason);
}

char *qtest_uring_withdrawals(char **args)
{
    if (!withdrawals) {
        withdrawals = g_string_new(NULL);
        virtio_blk_uring_set_withdraw_notifier(record_withdrawal);
    }
    return g_strdup_printf("OK%s", withdrawals->str);
}
