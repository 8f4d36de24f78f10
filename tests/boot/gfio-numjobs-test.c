/*
 * gfio numjobs=N with -smp N: one job per vCPU, each on a queue of its own
 * (virtqueues: a device with num-queues=N; the passthrough: ring j of the
 * device's rings), with fio's group reporting; and dev=A:B, one job per
 * disk.  Each job writes its own region (offset_increment=) with
 * verify=crc32c and reads it back; the host then checks the images.  The
 * virtqueue variant also runs under stock QEMU.
 */
#include <inttypes.h>
#include <string.h>

#include "gfio-result.h"
#include "image.h"
#include "vmrun.h"

#define IMAGE_SIZE      (16 * 1024 * 1024)
#define REGION_SIZE     (4 * 1024 * 1024)   /* each job's size= */
#define BS              4096
#define SEED            1313                /* gfio's random_seed= */
#define BLOCKS          (REGION_SIZE / BS)

/* gfio's exit statuses for a bad option and an engine that failed */
#define GFIO_EXIT_USAGE     1
#define GFIO_EXIT_ENGINE    2

#define URING_DEVICE    ",uring-passthrough=on,uring-iopoll=off"
#define TWO_JOBS        "rw=randwrite bs=4096 iodepth=8 size=4M " \
                        "offset_increment=4M random_seed=1313 verify=crc32c " \
                        "numjobs=2"

static VMRun *run_two_jobs(bool stock, const Image *img, const char *device,
                           bool iothread, unsigned cpus, const char *extra)
{
    VMRunDisk disk = { .image = img->path, .drive = ",cache=none",
                       .device = device, .iothread = iothread, .cpus = cpus };
    g_autofree char *append = g_strconcat(TWO_JOBS, extra, NULL);

    return vmrun_disk(stock, &disk, "gfio", append);
}

/*
 * The group's report (group_reporting=1): one entry with both jobs'
 * requests, the runtime of the longer job and the sum of both as
 * job_runtime; each job's engine counters in the summary, in job order.
 */
static void assert_group(const VMRun *r, const char *engine)
{
    g_autoptr(GfioResult) res = gfio_assert_pass(r, "randwrite", BS,
                                                 2 * REGION_SIZE, true);
    JsonObject *write = json_object_get_object_member(res->job, "write");
    g_autofree char *both = g_strdup_printf(
        " %s=[requests=%d ", engine, 2 * BLOCKS);
    const char *first = strstr(res->summary, both);

    g_assert_cmpstr(r->err, ==, "");
    g_assert_nonnull(first);
    g_assert_nonnull(strstr(first + 1, both));
    g_assert_true(g_str_has_prefix(res->summary, "gfio: rw=randwrite bs=4096 "
                                   "iodepth=8 numjobs=2 "));
    g_assert_cmpint(json_object_get_int_member(res->job, "job_runtime"), >=,
                    json_object_get_int_member(write, "runtime"));
    g_assert_cmpint(json_object_get_int_member(
                        json_object_get_object_member(write, "clat_ns"), "N"),
                    ==, 2 * BLOCKS);
}

static void test_ours_virtqueues(void)
{
    g_autoptr(Image) img = image_new(IMAGE_SIZE);
    g_autoptr(VMRun) r = run_two_jobs(false, img, ",num-queues=2", true, 2,
                                      " group_reporting=1");

    assert_group(r, "virtio-blk");
    g_assert_nonnull(strstr(r->out, "\ngfio: job 0: virtio-blk device 0 "
                            "queue 0\ngfio: job 1: virtio-blk device 0 "
                            "queue 1\n"));
    gfio_assert_image(img, BS, 2 * REGION_SIZE, SEED);
}

static void test_ours_passthrough(void)
{
    g_autoptr(Image) img = image_new(IMAGE_SIZE);
    g_autoptr(VMRun) r = run_two_jobs(false, img, URING_DEVICE ",num-queues=2",
                                      false, 2, " group_reporting=1 uring=on");

    assert_group(r, "uring");
    g_assert_nonnull(strstr(r->out, "\ngfio: job 0: uring device 0 ring 0\n"
                            "gfio: job 1: uring device 0 ring 1\n"));
    gfio_assert_image(img, BS, 2 * REGION_SIZE, SEED);
}

static void test_stock_virtqueues(void)
{
    g_autoptr(Image) img = image_new(IMAGE_SIZE);
    g_autoptr(VMRun) r = run_two_jobs(true, img, ",num-queues=2", true, 2,
                                      " group_reporting=1");
    g_autoptr(GfioResult) res = gfio_assert_pass(r, "randwrite", BS,
                                                 2 * REGION_SIZE, true);

    g_assert_nonnull(strstr(r->out, "\ngfio: job 1: virtio-blk device 0 "
                            "queue 1\n"));
    gfio_assert_requests(res, "virtio-blk", 2 * BLOCKS);
    gfio_assert_image(img, BS, 2 * REGION_SIZE, SEED);
}

/*
 * Without group_reporting, as fio: one entry per job, each with its own
 * requests, and the job options given.
 */
static void test_per_job_report(void)
{
    g_autoptr(Image) img = image_new(IMAGE_SIZE);
    g_autoptr(VMRun) r = run_two_jobs(false, img, ",num-queues=2", false, 2,
                                      "");
    const char *begin = strstr(r->out, "--- gfio json begin ---\n");
    const char *end = begin ? strstr(begin, "--- gfio json end ---\n") : NULL;
    g_autoptr(JsonParser) p = json_parser_new();
    JsonArray *jobs;

    g_assert_cmpint(r->status, ==, 1);
    g_assert_nonnull(end);
    begin += strlen("--- gfio json begin ---\n");
    g_assert_true(json_parser_load_from_data(p, begin, end - begin, NULL));
    jobs = json_object_get_array_member(
        json_node_get_object(json_parser_get_root(p)), "jobs");
    g_assert_cmpuint(json_array_get_length(jobs), ==, 2);
    for (guint j = 0; j < 2; j++) {
        JsonObject *job = json_array_get_object_element(jobs, j);

        g_assert_cmpstr(json_object_get_string_member(job, "jobname"), ==,
                        "gfio");
        g_assert_cmpint(json_object_get_int_member(job, "error"), ==, 0);
        g_assert_cmpstr(json_object_get_string_member(
                            json_object_get_object_member(job, "job options"),
                            "numjobs"), ==, "2");
        g_assert_cmpint(json_object_get_int_member(
                            json_object_get_object_member(job, "write"),
                            "total_ios"), ==, BLOCKS);
    }
    gfio_assert_image(img, BS, 2 * REGION_SIZE, SEED);
}

/* Two disks, one job each (dev=0:1), on our VMM with the passthrough. */
static void test_two_disks(void)
{
    g_autoptr(Image) a = image_new(IMAGE_SIZE);
    g_autoptr(Image) b = image_new(IMAGE_SIZE);
    g_autoptr(VMRun) r = vmrunf(
        60, "%s -accel kvm -m 256M -nographic -smp 2 "
        "-drive file=%s,if=none,id=d0,format=raw,cache=none "
        "-device virtio-blk-pci,drive=d0" URING_DEVICE " "
        "-drive file=%s,if=none,id=d1,format=raw,cache=none "
        "-device virtio-blk-pci,drive=d1" URING_DEVICE " "
        "-kernel %s/gfio.elf -append 'rw=randwrite bs=4096 iodepth=8 "
        "size=4M random_seed=1313 verify=crc32c numjobs=2 dev=0:1 "
        "group_reporting=1 uring=on'", vmrun_our_vmm(), a->path, b->path,
        g_getenv("GUEST_PROGRAM_DIR"));
    g_autoptr(GfioResult) res = gfio_assert_pass(r, "randwrite", BS,
                                                 2 * REGION_SIZE, true);

    g_assert_cmpstr(r->err, ==, "");
    g_assert_nonnull(strstr(r->out, "\ngfio: job 0: uring device 0 ring 0\n"));
    g_assert_nonnull(strstr(r->out, "\ngfio: job 1: uring device 1 ring 0\n"));
    gfio_assert_requests(res, "uring", 2 * BLOCKS);
    gfio_assert_image(a, BS, REGION_SIZE, SEED);
    gfio_assert_image(b, BS, REGION_SIZE, SEED);
}

/* One vCPU for two jobs: refused, nothing written. */
static void test_too_few_cpus(void)
{
    g_autoptr(Image) img = image_new(IMAGE_SIZE);
    g_autofree uint8_t *before = image_contents(img);
    g_autoptr(VMRun) r = run_two_jobs(false, img, ",num-queues=2", false, 0,
                                      "");

    g_assert_nonnull(strstr(r->out, "\ngfio: numjobs=2 needs 2 CPUs, "
                            "1 online\n"));
    g_assert_cmpint(r->status, ==, (GFIO_EXIT_USAGE << 1) | 1);
    image_assert_contents(img, before);
}

/* A device with one queue for two jobs: the engine fails, nothing written. */
static void test_too_few_queues(void)
{
    g_autoptr(Image) img = image_new(IMAGE_SIZE);
    g_autofree uint8_t *before = image_contents(img);
    g_autoptr(VMRun) r = run_two_jobs(false, img, NULL, false, 2, "");

    g_assert_nonnull(strstr(r->out, "\nvirtio-blk: device 0 has 1 queue, "
                            "no queue 1 (give the device num-queues=2)\n"));
    g_assert_cmpint(r->status, ==, (GFIO_EXIT_ENGINE << 1) | 1);
    image_assert_contents(img, before);
}

/* The passthrough of one ring for two jobs: the second has none. */
static void test_too_few_rings(void)
{
    g_autoptr(Image) img = image_new(IMAGE_SIZE);
    g_autofree uint8_t *before = image_contents(img);
    g_autoptr(VMRun) r = run_two_jobs(false, img, URING_DEVICE, false, 2,
                                      " uring=on");

    g_assert_nonnull(strstr(r->out, "uring passthrough: no ring 1 (the device "
                            "has 1)\ngfio: engine uring: EPROTO\n"));
    g_assert_cmpint(r->status, ==, (GFIO_EXIT_ENGINE << 1) | 1);
    image_assert_contents(img, before);
}

/* Two jobs writing the same blocks with verify: refused. */
static void test_overlapping_regions(void)
{
    g_autoptr(Image) img = image_new(IMAGE_SIZE);
    VMRunDisk disk = { .image = img->path, .device = ",num-queues=2",
                       .cpus = 2 };
    g_autoptr(VMRun) r = vmrun_disk(false, &disk, "gfio",
                                    "rw=write size=4M offset_increment=2M "
                                    "verify=crc32c numjobs=2");

    g_assert_nonnull(strstr(r->out, "\ngfio: jobs 0 and 1 write overlapping "
                            "regions of device 0 with verify=crc32c "
                            "(give offset_increment=)\n"));
    g_assert_cmpint(r->status, ==, (GFIO_EXIT_USAGE << 1) | 1);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/gfio-numjobs/ours/virtqueues", test_ours_virtqueues);
    g_test_add_func("/gfio-numjobs/ours/passthrough", test_ours_passthrough);
    g_test_add_func("/gfio-numjobs/ours/per-job-report", test_per_job_report);
    g_test_add_func("/gfio-numjobs/ours/two-disks", test_two_disks);
    g_test_add_func("/gfio-numjobs/ours/too-few-cpus", test_too_few_cpus);
    g_test_add_func("/gfio-numjobs/ours/too-few-queues", test_too_few_queues);
    g_test_add_func("/gfio-numjobs/ours/too-few-rings", test_too_few_rings);
    g_test_add_func("/gfio-numjobs/ours/overlapping-regions",
                    test_overlapping_regions);
    g_test_add_func("/gfio-numjobs/stock-qemu/virtqueues",
                    test_stock_virtqueues);
    return g_test_run();
}
