/*
 * What the io_uring passthrough's qtests share: a VMM with a raw image on
 * a virtio-blk-pci device (the test plays the guest through
 * libqos/virtio-blk-uring), the image's expected contents, guest memory
 * canaries, and the VMM's processes and resources as /proc shows them.
 */
#ifndef VIRTIO_BLK_URING_FIXTURE_H
#define VIRTIO_BLK_URING_FIXTURE_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "libqtest.h"
#include "libqos/guest-alloc.h"
#include "libqos/virtio-blk-uring.h"

#define PROG            "qemu-system-x86_64: "
#define URING           ",uring-passthrough=on"
/* Device option for the doorbell in an iothread, which then is created. */
#define IOTHREAD        ",iothread=io1"
#define IOTHREAD_OBJECT "-object iothread,id=io1 "

/* Small RAM: registering it as fixed buffers pins it. */
#define RAM_MB          64
#define IMAGE_SIZE      (4ULL << 20)

/* How long "nothing happens" is watched for. */
#define QUIET_US        (200 * 1000)
/* How often the device's watch thread looks at a running ring
 * (URING_OVERFLOW_CHECK_MS). */
#define URING_OVERFLOW_CHECK_US (100 * 1000)
/*
 * Bounded waits for the kernel or the VMM to do something; they end as
 * soon as it is done.  A test suite beside another on two CPUs once took
 * over 5 s for an SQPOLL thread to take an SQE.
 */
#define WAIT_US         (30 * 1000 * 1000)

typedef struct Fixture {
    char *image;
    uint64_t image_size;
    uint8_t *expected;          /* what the image file must hold */
    uint64_t ram_size;
    QTestState *qts;
    GuestAlloc *alloc;
    QVirtioBlkUring *u;
    char *stderr_path;          /* the VMM's stderr, if captured */
} Fixture;

/* Images */

/* The image's initial contents: no two nearby 4 KiB blocks alike. */
uint8_t image_byte(uint64_t pos);
/* A pattern of len bytes that differs with seed. */
void fill_pattern(uint8_t *buf, size_t len, uint32_t seed);
/* An image of image_byte()s, and its contents. */
char *make_image(uint64_t size, uint8_t **contents);
/* An image of zeroes with no block allocated: reads of it find holes. */
char *make_sparse_image(uint64_t size, uint8_t **contents);
uint64_t file_size(const char *path);
/* The image file must hold f->expected, and be no larger. */
void check_image(Fixture *f);
/* Write to the image from the host, and expect it. */
void host_pwrite(Fixture *f, uint64_t off, const void *buf, size_t len);

/* The VMM */

/*
 * Start the VMM with ram_mb of RAM, an image of image_size bytes (sparse:
 * zeroes, no block allocated) as drive d0 (plus drive_opts) and
 * virtio-blk-pci on it (plus dev_opts).  With capture_stderr, the VMM's
 * stderr goes to a file (see vmm_stderr()).
 */
void fixture_init_image(Fixture *f, uint64_t image_size, bool sparse,
                        unsigned ram_mb, const char *drive_opts,
                        const char *dev_opts, bool capture_stderr);
/* The same with a dense image of IMAGE_SIZE bytes. */
void fixture_init_full(Fixture *f, unsigned ram_mb, const char *drive_opts,
                       const char *dev_opts, bool capture_stderr);
void fixture_init(Fixture *f, unsigned ram_mb, const char *drive_opts,
                  const char *dev_opts);
/* The VMM has exited: what it wrote to stderr. */
char *vmm_stderr(Fixture *f);
/* text is one line, newline included. */
void assert_one_line(const char *text);
/* Quit the VMM, which must exit with status 0, without a device reset. */
void fixture_quit(Fixture *f);
/* Kill the VMM (SIGKILL), without a device reset. */
void fixture_kill(Fixture *f);
/* Reset the device, quit the VMM, remove the image. */
void fixture_cleanup(Fixture *f);
/* The device must be alive and answering. */
void check_vmm_alive(Fixture *f);

/* Guest memory */

void guest_fill(Fixture *f, uint64_t gpa, size_t len, uint32_t seed);
void guest_expect(Fixture *f, uint64_t gpa, const void *data, size_t len);

/* A snapshot of guest RAM, to show that a request left it alone. */
typedef struct Canary {
    uint64_t gpa;
    size_t len;
    uint8_t *data;
} Canary;

Canary canary_set(Fixture *f, uint64_t gpa, size_t len, uint32_t seed);
void canary_check(Fixture *f, Canary *c);

/* Canaries around a target buffer, and the image, are unchanged. */
typedef struct Target {
    uint64_t gpa;               /* the buffer the requests name */
    Canary canary;              /* 64 KiB around it */
} Target;

#define TARGET_LEN      4096
#define CANARY_LEN      (64 << 10)

Target target_new(Fixture *f, uint32_t seed);
void target_check(Fixture *f, Target *t);

/* Requests through the rings */

int32_t uring_rw(Fixture *f, uint8_t opcode, uint64_t gpa, uint32_t len,
                 uint64_t off);
/* Write a pattern at off through the ring, read it back, compare. */
void round_trip(Fixture *f, uint64_t off, size_t len, uint32_t seed);
/* No completion comes for QUIET_US. */
void expect_no_cqe(Fixture *f, const char *why);
/*
 * Submit sqe, which must complete with res, leaving the canaries (and the
 * image) alone.
 */
void expect_refused(Fixture *f, const QUringSqe *sqe, int32_t res,
                    const char *what);
/* Wait (up to WAIT_US) until the SQPOLL thread sleeps. */
void wait_need_wakeup(Fixture *f);
/*
 * Publish sqe, which completes with res, while the SQPOLL thread sleeps,
 * without ringing the doorbell.  True if it stays queued for QUIET_US (the
 * thread needs the doorbell); false if the thread took it after all.
 */
bool publish_while_asleep(Fixture *f, const QUringSqe *sqe, int32_t res);
/* How often to try for an SQE that waits for the doorbell. */
#define ASLEEP_ATTEMPTS 5

/* Queue n NOPs, kick, and wait until the kernel has taken them. */
void submit_nops(Fixture *f, unsigned n);
/* The region reads as zeroes: no rings in it. */
void check_shm_empty(Fixture *f);
/*
 * Without a ring the extension's read-only fields read as zero but
 * num_rings; msix_vector reads 0xffff.
 */
void check_config_zero(Fixture *f);
/* Read sectors through a virtqueue and compare with the image. */
void virtqueue_read_check(Fixture *f, QVirtQueue *vq, uint64_t sector,
                          size_t len);

/* Processes and resources of the VMM, from /proc */

unsigned count_dir(const char *path);
/* The children of process pid, from every thread's children list. */
GArray *children_of(GPid pid);

typedef struct ProcCounts {
    unsigned threads, fds;
    unsigned maps;              /* of files and shared memory */
    unsigned children;
} ProcCounts;

/* fds: at rest, not counting what the watch thread opens for a moment. */
ProcCounts proc_counts(GPid pid);
/*
 * After resets, with the rings up again: the VMM pid has the threads,
 * descriptors and mappings it had with them up the first time, and one
 * owner process.
 */
void check_same_as_first(GPid pid, const ProcCounts *first);
/* The one child of the VMM: the ring's owner process. */
int ring_owner(Fixture *f);
bool process_gone(int pid, uint64_t timeout_us);

#endif
