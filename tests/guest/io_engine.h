/*
 * gfio's I/O engines: how requests reach a disk.  An engine queues requests
 * (submit), makes a batch visible to the disk (kick) and reports completions
 * without waiting (poll).  gfio's job loop, statistics and verification use
 * only this interface.
 *
 * Engine "virtio-blk" drives a virtio-blk PCI device through its virtqueues
 * (io_engine_virtio_blk.c); engine "uring" drives the same device's io_uring
 * passthrough (io_engine_uring.c, docs/specs/virtio-blk-uring.rst).
 */
#ifndef GFIO_IO_ENGINE_H
#define GFIO_IO_ENGINE_H

#include <stddef.h>
#include <stdint.h>

enum io_op {
    IO_OP_READ,
    IO_OP_WRITE,
};

/*
 * The lines that detail a stall (requests that stopped completing) start
 * with this; they follow gfio's line saying that requests stalled.
 */
#define IO_ENGINE_STALL "gfio: stall: "

/* @result is 0 on success or a negative guest_errno.h value. */
typedef void (*io_done_fn)(void *opaque, uint32_t tag, int result);

/*
 * Opened on one CPU (io_engine_open()); then submit, kick, poll and
 * report_stall are called on one CPU at a time, the job's.
 */
struct io_engine {
    const char *name;
    const char *queue_kind;     /* what its queues are: "queue", "ring" */
    uint64_t capacity;          /* bytes */
    uint32_t sector_size;       /* offsets and lengths are multiples of it */
    uint32_t max_request;       /* bytes per request at most */
    uint32_t max_in_flight;     /* requests submitted and not yet reaped */

    /*
     * Queue a request for @len bytes at disk offset @offset from/to @buf;
     * its completion reports @tag.  Returns 0 or a negative error (nothing
     * queued).
     */
    int (*submit)(struct io_engine *e, enum io_op op, uint64_t offset, void *buf,
                  uint32_t len, uint32_t tag);
    /* Hand the requests queued since the last kick to the disk. */
    void (*kick)(struct io_engine *e);
    /* Report every finished request to @done; returns how many. */
    unsigned int (*poll)(struct io_engine *e, io_done_fn done, void *opaque);
    /* Engine counters for the summary line, e.g. "notifies=12 kicks=40". */
    void (*describe)(struct io_engine *e, char *buf, size_t size);
    /*
     * Optional.  Requests stopped completing, request @tag the longest
     * waiting of them: print IO_ENGINE_STALL lines saying where the engine
     * and the device have it and what state the queue is in.  Reaps
     * nothing.
     */
    void (*report_stall)(struct io_engine *e, uint32_t tag);
    void *state;
};

struct io_engine_params {
    unsigned int dev;           /* which disk of the engine's kind, from 0 */
    unsigned int queue;         /* which of its queues (virtqueue or ring) */
    unsigned int queues;        /* how many of them the program uses */
};

/*
 * Open engine @name ("virtio-blk" or "uring") on queue @params->queue of
 * disk @params->dev.  The first open of a disk sets it up with
 * @params->queues queues, the later ones take another of them: each open
 * engine has a queue of its own, and engines on different queues share
 * nothing they write, so that each can run on a CPU of its own.  Open
 * every engine from one CPU, before any runs.  Returns 0, -EINVAL for an
 * unknown engine, or the engine's error (after a message).
 */
int io_engine_open(const char *name, const struct io_engine_params *params,
                   struct io_engine *e);

/* The engines io_engine_open() knows, comma-separated, for messages. */
const char *io_engine_names(void);

#endif
