/*
 * What the io_uring passthrough's qtests share
 * (tests/qtest/virtio-blk-uring-fixture.h).
 */
#include <fcntl.h>
#include <glib/gstdio.h>
#include <inttypes.h>
#include <linux/io_uring.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "virtio-blk-uring-fixture.h"

uint8_t image_byte(uint64_t pos)
{
    return (pos * 131 + (pos >> 12) * 17 + 3) & 0xff;
}

void fill_pattern(uint8_t *buf, size_t len, uint32_t seed)
{
    for (size_t i = 0; i < len; i++) {
        buf[i] = (i * 7 + seed * 13 + (i >> 8) * seed + 1) & 0xff;
    }
}

char *make_image(uint64_t size, uint8_t **contents)
{
    uint8_t *data = g_malloc(size + 1);
    char *path = NULL;
    int fd = g_file_open_tmp("qtest-blk-uring-XXXXXX", &path, NULL);

    g_assert_cmpint(fd, >=, 0);
    for (uint64_t i = 0; i < size; i++) {
        data[i] = image_byte(i);
    }
    g_assert_cmpint(write(fd, data, size), ==, (ssize_t)size);
    close(fd);
    *contents = data;
    return path;
}

char *make_sparse_image(uint64_t size, uint8_t **contents)
{
    char *path = NULL;
    int fd = g_file_open_tmp("qtest-blk-uring-XXXXXX", &path, NULL);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, size), ==, 0);
    close(fd);
    *contents = g_malloc0(size + 1);
    return path;
}

uint64_t file_size(const char *path)
{
    struct stat st;

    g_assert_cmpint(stat(path, &st), ==, 0);
    return st.st_size;
}

void check_image(Fixture *f)
{
    g_autofree char *data = NULL;
    gsize len;

    g_assert_true(g_file_get_contents(f->image, &data, &len, NULL));
    g_assert_cmpuint(len, ==, f->image_size);
    for (gsize i = 0; i < len; i++) {
        if ((uint8_t)data[i] != f->expected[i]) {
            g_error("image byte 0x%" G_GSIZE_MODIFIER "x is 0x%02x, "
                    "expected 0x%02x", i, (uint8_t)data[i], f->expected[i]);
        }
    }
}

void host_pwrite(Fixture *f, uint64_t off, const void *buf, size_t len)
{
    int fd = open(f->image, O_WRONLY);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(pwrite(fd, buf, len, off), ==, (ssize_t)len);
    g_assert_cmpint(fdatasync(fd), ==, 0);
    close(fd);
    memcpy(f->expected + off, buf, len);
}

void fixture_init_image(Fixture *f, uint64_t image_size, bool sparse,
                        unsigned ram_mb, const char *drive_opts,
                        const char *dev_opts, bool capture_stderr)
{
    g_autofree char *args = NULL;
    int saved = -1, fd = -1;

    memset(f, 0, sizeof(*f));
    f->ram_size = (uint64_t)ram_mb << 20;
    f->image_size = image_size;
    f->image = sparse ? make_sparse_image(image_size, &f->expected)
                      : make_image(image_size, &f->expected);
    args = g_strdup_printf("-m %uM %s-drive if=none,id=d0,format=raw,file=%s%s "
                           "-device virtio-blk-pci,drive=d0%s", ram_mb,
                           strstr(dev_opts, IOTHREAD) ? IOTHREAD_OBJECT : "",
                           f->image, drive_opts, dev_opts);
    if (capture_stderr) {
        fd = g_file_open_tmp("qtest-blk-uring-err-XXXXXX", &f->stderr_path,
                             NULL);
        g_assert_cmpint(fd, >=, 0);
        fflush(stderr);
        saved = dup(STDERR_FILENO);
        dup2(fd, STDERR_FILENO);
    }
    f->qts = qtest_init(args);
    if (capture_stderr) {
        dup2(saved, STDERR_FILENO);
        close(saved);
        close(fd);
    }
    f->alloc = guest_alloc_new_for_ram(f->ram_size);
    f->u = qvirtio_blk_uring_new(f->qts);
}

void fixture_init_full(Fixture *f, unsigned ram_mb, const char *drive_opts,
                       const char *dev_opts, bool capture_stderr)
{
    fixture_init_image(f, IMAGE_SIZE, false, ram_mb, drive_opts, dev_opts,
                       capture_stderr);
}

void fixture_init(Fixture *f, unsigned ram_mb, const char *drive_opts,
                  const char *dev_opts)
{
    fixture_init_full(f, ram_mb, drive_opts, dev_opts, false);
}

char *vmm_stderr(Fixture *f)
{
    char *text = NULL;

    g_assert_nonnull(f->stderr_path);
    g_assert_true(g_file_get_contents(f->stderr_path, &text, NULL, NULL));
    return text;
}

void assert_one_line(const char *text)
{
    unsigned n = 0;

    for (const char *p = text; *p; p++) {
        n += *p == '\n';
    }
    if (n != 1 || !g_str_has_suffix(text, "\n")) {
        g_error("expected one line, got '%s'", text);
    }
}

/* The test's driver and allocator go; the device is left as it is. */
static void fixture_drop_driver(Fixture *f)
{
    if (f->u) {
        g_free(f->u->pdev);
        g_clear_pointer(&f->u, g_free);
    }
    guest_alloc_destroy(f->alloc);
}

void fixture_quit(Fixture *f)
{
    fixture_drop_driver(f);
    qtest_quit(f->qts);
    f->qts = NULL;
}

void fixture_kill(Fixture *f)
{
    fixture_drop_driver(f);
    qtest_kill(f->qts);
    f->qts = NULL;
}

void fixture_cleanup(Fixture *f)
{
    if (f->qts) {
        if (f->u) {
            qvirtio_blk_uring_free(f->u);
            f->u = NULL;
        }
        fixture_quit(f);
    }
    g_unlink(f->image);
    g_free(f->image);
    g_free(f->expected);
    if (f->stderr_path) {
        g_unlink(f->stderr_path);
        g_free(f->stderr_path);
    }
}

void guest_fill(Fixture *f, uint64_t gpa, size_t len, uint32_t seed)
{
    g_autofree uint8_t *buf = g_malloc(len);

    fill_pattern(buf, len, seed);
    qtest_memwrite(f->qts, gpa, buf, len);
}

void guest_expect(Fixture *f, uint64_t gpa, const void *data, size_t len)
{
    g_autofree uint8_t *buf = g_malloc(len);

    qtest_memread(f->qts, gpa, buf, len);
    g_assert_cmpmem(buf, len, data, len);
}

Canary canary_set(Fixture *f, uint64_t gpa, size_t len, uint32_t seed)
{
    Canary c = { gpa, len, g_malloc(len) };

    fill_pattern(c.data, len, seed);
    qtest_memwrite(f->qts, gpa, c.data, len);
    return c;
}

void canary_check(Fixture *f, Canary *c)
{
    guest_expect(f, c->gpa, c->data, c->len);
    g_free(c->data);
    c->data = NULL;
}

void check_vmm_alive(Fixture *f)
{
    g_assert_cmphex(qpci_config_readw(f->u->pdev, PCI_VENDOR_ID), ==,
                    PCI_VENDOR_ID_VIRTIO);
}

int32_t uring_rw(Fixture *f, uint8_t opcode, uint64_t gpa, uint32_t len,
                 uint64_t off)
{
    return qvirtio_blk_uring_rw(f->u, opcode, gpa, len, off);
}

void round_trip(Fixture *f, uint64_t off, size_t len, uint32_t seed)
{
    g_autofree uint8_t *pattern = g_malloc(len);
    uint64_t wbuf = guest_alloc(f->alloc, len);
    uint64_t rbuf = guest_alloc(f->alloc, len);

    fill_pattern(pattern, len, seed);
    qtest_memwrite(f->qts, wbuf, pattern, len);
    qtest_memset(f->qts, rbuf, 0xa5, len);
    g_assert_cmpint(uring_rw(f, IORING_OP_WRITE_FIXED, wbuf, len, off), ==,
                    (int32_t)len);
    memcpy(f->expected + off, pattern, len);
    g_assert_cmpint(uring_rw(f, IORING_OP_READ_FIXED, rbuf, len, off), ==,
                    (int32_t)len);
    guest_expect(f, rbuf, pattern, len);
    guest_free(f->alloc, wbuf);
    guest_free(f->alloc, rbuf);
}

void expect_no_cqe(Fixture *f, const char *why)
{
    QUringCqe cqe;

    if (qvirtio_blk_uring_poll_cqe(f->u, &cqe, QUIET_US)) {
        g_error("unexpected completion (user_data 0x%" PRIx64 ", res %d) %s",
                cqe.user_data, cqe.res, why);
    }
}


unsigned count_dir(const char *path)
{
    GDir *dir = g_dir_open(path, 0, NULL);
    unsigned n = 0;

    g_assert_nonnull(dir);
    while (g_dir_read_name(dir)) {
        n++;
    }
    g_dir_close(dir);
    return n;
}


GArray *children_of(GPid pid)
{
    g_autofree char *taskdir = g_strdup_printf("/proc/%d/task", pid);
    GArray *kids = g_array_new(FALSE, FALSE, sizeof(int));
    GDir *dir = g_dir_open(taskdir, 0, NULL);
    const char *tid;

    g_assert_nonnull(dir);
    while ((tid = g_dir_read_name(dir))) {
        g_autofree char *path = g_strdup_printf("%s/%s/children", taskdir,
                                                tid);
        g_autofree char *text = NULL;
        g_auto(GStrv) words = NULL;

        if (!g_file_get_contents(path, &text, NULL, NULL)) {
            continue;           /* the thread ended meanwhile */
        }
        words = g_strsplit(g_strstrip(text), " ", -1);
        for (unsigned i = 0; words[i]; i++) {
            int child = atoi(words[i]);
            if (child > 0) {
                g_array_append_val(kids, child);
            }
        }
    }
    g_dir_close(dir);
    return kids;
}

/*
 * Mappings of files or shared memory (the rings are some): anonymous
 * private memory comes and goes with the allocator (glibc's arenas,
 * AddressSanitizer's quarantine), and says nothing of a leak.
 */
static unsigned count_shared_maps(GPid pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/maps", pid);
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    unsigned n = 0;

    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    lines = g_strsplit(text, "\n", -1);
    for (unsigned i = 0; lines[i] && *lines[i]; i++) {
        char perms[5] = "";
        int name_at = 0;

        g_assert_cmpint(sscanf(lines[i], "%*s %4s %*s %*s %*s%n", perms,
                               &name_at), ==, 1);
        n += perms[3] == 's' || *g_strchug(lines[i] + name_at);
    }
    return n;
}

/*
 * The watch thread opens each running ring's fdinfo for a moment every
 * URING_OVERFLOW_CHECK_US: the least of a few counts, over more than that,
 * is the VMM's descriptors at rest.
 */
static unsigned count_fds_at_rest(GPid pid)
{
    g_autofree char *fd = g_strdup_printf("/proc/%d/fd", pid);
    unsigned least = count_dir(fd);

    for (unsigned i = 0; i < 5; i++) {
        g_usleep(URING_OVERFLOW_CHECK_US / 4);
        least = MIN(least, count_dir(fd));
    }
    return least;
}

ProcCounts proc_counts(GPid pid)
{
    g_autofree char *task = g_strdup_printf("/proc/%d/task", pid);
    g_autoptr(GArray) kids = children_of(pid);

    return (ProcCounts) {
        .threads = count_dir(task),
        .fds = count_fds_at_rest(pid),
        .maps = count_shared_maps(pid),
        .children = kids->len,
    };
}

void check_same_as_first(GPid pid, const ProcCounts *first)
{
    ProcCounts now = proc_counts(pid);

    g_test_message("threads %u -> %u, fds %u -> %u, maps %u -> %u",
                   first->threads, now.threads, first->fds, now.fds,
                   first->maps, now.maps);
    g_assert_cmpuint(now.threads, ==, first->threads);
    g_assert_cmpuint(now.fds, ==, first->fds);
    g_assert_cmpuint(now.maps, ==, first->maps);
    g_assert_cmpuint(now.children, ==, 1);
}

int ring_owner(Fixture *f)
{
    g_autoptr(GArray) kids = children_of(qtest_pid(f->qts));

    g_assert_cmpuint(kids->len, ==, 1);
    return g_array_index(kids, int, 0);
}

bool process_gone(int pid, uint64_t timeout_us)
{
    gint64 deadline = g_get_monotonic_time() + timeout_us;
    g_autofree char *path = g_strdup_printf("/proc/%d", pid);

    while (g_file_test(path, G_FILE_TEST_EXISTS)) {
        if (g_get_monotonic_time() >= deadline) {
            return false;
        }
        g_usleep(1000);
    }
    return true;
}

void check_shm_empty(Fixture *f)
{
    size_t len = MIN(f->u->shm.length, 1 << 20);
    g_autofree uint8_t *buf = g_malloc(len);
    g_autofree uint8_t *zero = g_malloc0(len);

    g_assert_true(f->u->has_shm);
    qtest_memread(f->qts, f->u->shm.bar->addr + f->u->shm.offset, buf, len);
    g_assert_cmpmem(buf, len, zero, len);
}

void expect_refused(Fixture *f, const QUringSqe *sqe, int32_t res,
                    const char *what)
{
    int32_t got = qvirtio_blk_uring_submit_wait(f->u, sqe);

    if (got != res) {
        g_error("%s: completed with %d (%s), expected %d (%s)", what, got,
                g_strerror(-got), res, g_strerror(-res));
    }
}

#define TARGET_LEN      4096
#define CANARY_LEN      (64 << 10)

Target target_new(Fixture *f, uint32_t seed)
{
    Target t;
    uint64_t c = guest_alloc(f->alloc, CANARY_LEN);

    t.canary = canary_set(f, c, CANARY_LEN, seed);
    t.gpa = c + CANARY_LEN / 2;
    return t;
}

void target_check(Fixture *f, Target *t)
{
    uint64_t c = t->canary.gpa;

    canary_check(f, &t->canary);
    guest_free(f->alloc, c);
    check_image(f);
    check_vmm_alive(f);
}

void submit_nops(Fixture *f, unsigned n)
{
    QVirtioBlkUring *u = f->u;
    gint64 deadline = g_get_monotonic_time() + WAIT_US;
    QUringSqe sqe;

    for (unsigned i = 0; i < n; i++) {
        qvirtio_blk_uring_prep(u, &sqe, IORING_OP_NOP, 0, 0, 0, i);
        qvirtio_blk_uring_queue(u, &sqe);
    }
    qvirtio_blk_uring_kick(u);
    while (qvirtio_blk_uring_ring_readl(u, u->cfg.sq_off.head) != u->sq_tail) {
        if (g_get_monotonic_time() >= deadline) {
            g_error("the kernel did not take %u NOPs within %d s", n,
                    WAIT_US / 1000000);
        }
        g_usleep(1000);
    }
}

/*
 * Without a ring the read-only fields read as zero but num_rings (one, a
 * ring per virtqueue); msix_vector, of the read-write fields, reads as its
 * initial "none" (0xffff), ring_select as 0.
 */
void check_config_zero(Fixture *f)
{
    for (uint32_t off = VIRTIO_BLK_URING_CONFIG_OFFSET;
         off < VIRTIO_BLK_URING_CONFIG_END; off += 4) {
        uint32_t expected = off == VBU_CFG(msix_vector) ? VIRTIO_MSI_NO_VECTOR
                          : off == VBU_CFG(num_rings) - 2 ? 1 << 16 : 0;

        g_assert_cmphex(qvirtio_pci_config_readl(&f->u->vdev, off), ==,
                        expected);
    }
}

/* Read sectors through virtqueue 0 and compare with the image. */
void virtqueue_read_check(Fixture *f, QVirtQueue *vq, uint64_t sector,
                                 size_t len)
{
    g_autofree uint8_t *buf = g_malloc(len);

    g_assert_cmpuint(qvirtio_blk_read(vq, sector, buf, len), ==,
                     VIRTIO_BLK_S_OK);
    g_assert_cmpmem(buf, len, f->expected + sector * VIRTIO_BLK_SECTOR_SIZE,
                    len);
}

void wait_need_wakeup(Fixture *f)
{
    gint64 deadline = g_get_monotonic_time() + WAIT_US;

    while (!(qvirtio_blk_uring_sq_flags(f->u) & IORING_SQ_NEED_WAKEUP)) {
        if (g_get_monotonic_time() >= deadline) {
            g_error("the SQPOLL thread did not go to sleep (no "
                    "IORING_SQ_NEED_WAKEUP) within %d s of idling",
                    WAIT_US / 1000000);
        }
        g_usleep(1000);
    }
}

/*
 * Publish sqe while the SQPOLL thread sleeps, without ringing the
 * doorbell.  True if nothing completes within QUIET_US (the thread is
 * asleep and needs the doorbell).  Once the thread has set NEED_WAKEUP it
 * looks at the ring once more before it sleeps, so the SQE is published
 * well after the flag appears; should a thread that was preempted in
 * between still take it, its CQE is consumed and false returned.
 */
bool publish_while_asleep(Fixture *f, const QUringSqe *sqe,
                                 int32_t res)
{
    QUringCqe cqe;

    wait_need_wakeup(f);
    g_usleep(50 * 1000);
    qvirtio_blk_uring_queue(f->u, sqe);
    qvirtio_blk_uring_publish(f->u);
    if (qvirtio_blk_uring_poll_cqe(f->u, &cqe, QUIET_US)) {
        g_test_message("the SQPOLL thread took an SQE without the doorbell "
                       "(it was not asleep yet); trying again");
        g_assert_cmphex(cqe.user_data, ==, sqe->user_data);
        g_assert_cmpint(cqe.res, ==, res);
        return false;
    }
    /* Still asleep, and the SQE still queued. */
    g_assert_cmphex(qvirtio_blk_uring_sq_flags(f->u) & IORING_SQ_NEED_WAKEUP,
                    !=, 0);
    g_assert_cmpuint(qvirtio_blk_uring_ring_readl(f->u, f->u->cfg.sq_off.head),
                     ==, f->u->sq_tail - 1);
    return true;
}
