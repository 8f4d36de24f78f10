/*
 * resetrace: one CPU resets the virtio-blk device while requests are in
 * flight, and another requests a system reset (port 0xcf9) meanwhile.
 *
 * On every boot: set up disk 0, read its first block (the device works,
 * also after a reset), fill the queue with large writes and kick; once the
 * first write has completed, the boot CPU writes device status 0 while the
 * first AP, a moment later, writes the reset control register.  The VMM
 * drains the writes before the status write returns, resets the machine,
 * and the program runs again, for as long as the VMM lets it.  Each boot
 * prints "resetrace: racing, N writes of B bytes" before the race.
 *
 * Exit status (only on failure; success is being reset): 2 no device or
 * set-up failed, 3 a request failed, 4 fewer than two CPUs, 8 the first
 * read, the first write or the reset did not come in time.
 */
#include "guest.h"

#include "guest_errno.h"
#include "virtio_blk.h"

#define RESETRACE_DEVICE    2
#define RESETRACE_IO_ERROR  3
#define RESETRACE_NO_AP     4
#define RESETRACE_TIMEOUT   8

#define WRITE_BYTES         (1u << 20)
#define RST_CNT_PORT        0xcf9
#define RST_CNT_SYS_RST     0x02
#define RST_CNT_RST_CPU     0x04
/* Long enough for the boot CPU's status write to reach the VMM. */
#define AP_DELAY_US         1000
#define NSEC_PER_SEC        UINT64_C(1000000000)
#define TIMEOUT_NS          (60 * NSEC_PER_SEC)

static struct virtio_blk blk;
static volatile bool go;

static void on_done(void *opaque, uint64_t tag, uint8_t status)
{
    *(uint8_t *)(uintptr_t)tag = status;
}

/* A write that completes before the reset must have succeeded. */
static void on_write_done(void *opaque, uint64_t tag, uint8_t status)
{
    if (status != VIRTIO_BLK_S_OK) {
        printf("resetrace: a write failed: %s\n",
               virtio_blk_status_name(status));
        guest_exit(RESETRACE_IO_ERROR);
    }
}

/* Read the first block and wait for it: the device works. */
static int read_first_block(struct virtio_blk_queue *q, void *buf)
{
    uint8_t status = VIRTIO_BLK_S_NOT_WRITTEN;
    uint64_t start = rdtsc();
    int ret;

    ret = virtio_blk_submit(q, VIRTIO_BLK_T_IN, 0, buf, blk.info.blk_size,
                            false, (uintptr_t)&status);
    if (ret) {
        printf("resetrace: read not submitted: %s\n", guest_strerror(ret));
        return RESETRACE_IO_ERROR;
    }
    virtio_blk_kick(q);
    while (!virtio_blk_poll(q, on_done, NULL)) {
        if (tsc_to_ns(rdtsc() - start) > TIMEOUT_NS) {
            printf("resetrace: the first read did not complete\n");
            return RESETRACE_TIMEOUT;
        }
        cpu_relax();
    }
    if (status != VIRTIO_BLK_S_OK) {
        printf("resetrace: the first read failed: %s\n",
               virtio_blk_status_name(status));
        return RESETRACE_IO_ERROR;
    }
    return 0;
}

/* The AP: once the boot CPU goes, request a system reset. */
static void ap_main(unsigned int cpu, void *arg)
{
    if (cpu != 1) {
        return;
    }
    while (!go) {
        cpu_relax();
    }
    udelay(AP_DELAY_US);
    outb(RST_CNT_PORT, RST_CNT_SYS_RST | RST_CNT_RST_CPU);
}

int main(int argc, char **argv)
{
    struct virtio_blk_queue *q;
    uint32_t len = WRITE_BYTES;
    uint64_t sectors, blocks, start;
    unsigned writes = 0;
    void *buf;
    int ret;

    ret = virtio_blk_open(0, NULL, &blk);
    if (ret) {
        printf("resetrace: no virtio-blk device: %s\n", guest_strerror(ret));
        return RESETRACE_DEVICE;
    }
    q = &blk.queue[0];
    if (len > blk.max_transfer) {
        len = blk.max_transfer;
    }
    sectors = len / VIRTIO_BLK_SECTOR_SIZE;
    blocks = blk.info.capacity / sectors;
    if (!blocks) {
        printf("resetrace: the disk is smaller than one write\n");
        return RESETRACE_DEVICE;
    }
    buf = guest_alloc(len, 4096);
    memset(buf, 0x5a, len);
    ret = read_first_block(q, buf);
    if (ret) {
        return ret;
    }
    if (smp_start_aps(ap_main, NULL) < 2) {
        printf("resetrace: needs two CPUs\n");
        return RESETRACE_NO_AP;
    }
    /* Every slot a write of len bytes, from one buffer, over the disk. */
    while (virtio_blk_submit(q, VIRTIO_BLK_T_OUT, writes % blocks * sectors,
                             buf, len, false, 0) == 0) {
        writes++;
    }
    /* Printed first: console output takes exits, which would widen the gap. */
    printf("resetrace: racing, %u writes of %u bytes\n", writes, len);
    virtio_blk_kick(q);
    /*
     * Reset once the device has started on them: after the first write
     * completes, the others are still being written by the host.
     */
    start = rdtsc();
    while (!virtio_blk_poll(q, on_write_done, NULL)) {
        if (tsc_to_ns(rdtsc() - start) > TIMEOUT_NS) {
            printf("resetrace: no write completed\n");
            return RESETRACE_TIMEOUT;
        }
        cpu_relax();
    }
    go = true;
    blk.dev.common->device_status = 0;
    /* The reset the AP asked for ends this boot. */
    start = rdtsc();
    while (tsc_to_ns(rdtsc() - start) < TIMEOUT_NS) {
        cpu_relax();
    }
    printf("resetrace: no system reset came\n");
    return RESETRACE_TIMEOUT;
}
