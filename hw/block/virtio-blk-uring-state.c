/*
 * The live state of a passthrough ring (include/hw/block/virtio-blk-uring-state.h).
 */
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "hw/block/virtio-blk-uring-state.h"

static uint32_t ring_word(const void *rings, uint32_t off)
{
    return __atomic_load_n((const uint32_t *)((const uint8_t *)rings + off),
                           __ATOMIC_ACQUIRE);
}

/*
 * The owner's thread named iou-sqp-*: its state and CPU (fields 3 and 39
 * of /proc/TID/stat, after the name in parentheses) and its wchan.
 */
static void read_sqpoll_thread(UringRingState *st)
{
    g_autofree char *task = g_strdup_printf("/proc/%d/task", st->owner_pid);
    GDir *dir = g_dir_open(task, 0, NULL);
    const char *tid;

    st->sqpoll_tid = 0;
    st->sqpoll_state = '?';
    st->sqpoll_cpu = -1;
    st->sqpoll_wchan[0] = 0;
    while (dir && (tid = g_dir_read_name(dir))) {
        g_autofree char *comm_path = g_strdup_printf("%s/%s/comm", task, tid);
        g_autofree char *stat_path = g_strdup_printf("%s/%s/stat", task, tid);
        g_autofree char *wchan_path = g_strdup_printf("%s/%s/wchan", task,
                                                      tid);
        g_autofree char *comm = NULL;
        g_autofree char *stat = NULL;
        g_autofree char *wchan = NULL;
        g_auto(GStrv) fields = NULL;
        const char *after_name;

        if (!g_file_get_contents(comm_path, &comm, NULL, NULL) ||
            !g_str_has_prefix(comm, "iou-sqp-")) {
            continue;
        }
        st->sqpoll_tid = atoi(tid);
        if (g_file_get_contents(stat_path, &stat, NULL, NULL) &&
            (after_name = strrchr(stat, ')'))) {
            /* after ") ": state is field 3, processor field 39 */
            fields = g_strsplit(after_name + 2, " ", -1);
            if (g_strv_length(fields) > 36) {
                st->sqpoll_state = fields[0][0];
                st->sqpoll_cpu = atoi(fields[36]);
            }
        }
        if (g_file_get_contents(wchan_path, &wchan, NULL, NULL)) {
            g_strlcpy(st->sqpoll_wchan, wchan, sizeof(st->sqpoll_wchan));
        }
        break;
    }
    if (dir) {
        g_dir_close(dir);
    }
}

void uring_ring_state_read(const void *rings,
                           const struct io_uring_params *p,
                           UringRingState *st)
{
    st->sq_head = ring_word(rings, p->sq_off.head);
    st->sq_tail = ring_word(rings, p->sq_off.tail);
    st->sq_flags = ring_word(rings, p->sq_off.flags);
    st->sq_dropped = ring_word(rings, p->sq_off.dropped);
    st->cq_head = ring_word(rings, p->cq_off.head);
    st->cq_tail = ring_word(rings, p->cq_off.tail);
    st->cq_overflow = ring_word(rings, p->cq_off.overflow);
    st->cq_flags = ring_word(rings, p->cq_off.flags);
}

void uring_ring_state_read_owner(pid_t owner_pid, UringRingState *st)
{
    st->owner_pid = owner_pid;
    read_sqpoll_thread(st);
}

char *uring_ring_state_format(const UringRingState *st)
{
    GString *s = g_string_new(NULL);

    g_string_append_printf(s, "SQ head %u tail %u flags 0x%x dropped %u, "
                           "CQ head %u tail %u overflow %u flags 0x%x; "
                           "owner %d", st->sq_head, st->sq_tail,
                           st->sq_flags, st->sq_dropped, st->cq_head,
                           st->cq_tail, st->cq_overflow, st->cq_flags,
                           st->owner_pid);
    if (st->sqpoll_tid) {
        g_string_append_printf(s, ", SQPOLL thread %d state %c on CPU %d",
                               st->sqpoll_tid, st->sqpoll_state,
                               st->sqpoll_cpu);
        if (st->sqpoll_wchan[0] && strcmp(st->sqpoll_wchan, "0")) {
            g_string_append_printf(s, " in %s", st->sqpoll_wchan);
        }
    } else {
        g_string_append(s, ", no SQPOLL thread");
    }
    return g_string_free(s, FALSE);
}
